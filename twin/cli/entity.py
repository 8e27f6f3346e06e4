"""``twin entity``: geographic entity auto-coding (classes, code, show, link, beidou)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import typer

app = typer.Typer(
    help="Geographic entities: the classification, automatic codes, links, Beidou grid codes.",
    no_args_is_help=True,
)

ActorOpt = Annotated[str, typer.Option(help="Who does it (for the audit log).")]


@app.command()
def classes(
    load: Annotated[
        bool, typer.Option("--load", help="(Re)load data/entity_classes.csv first.")
    ] = False,
    file: Annotated[
        Path | None, typer.Option(help="Another classification CSV to load with --load.")
    ] = None,
    level: Annotated[str | None, typer.Option(help="Only major, medium or minor.")] = None,
) -> None:
    """List the entity classes (9 major, 32 medium, 128 minor)."""
    from blocks.coding.service import list_classes, load_classes
    from twin.cli.common import database

    with database(actor="twin entity classes") as conn:
        if load:
            n = load_classes(conn, file)
            conn.commit()
            typer.echo(f"{n} classes loaded")
        found = list_classes(conn, level)
    if not found:
        typer.echo("no classes loaded: run `twin entity classes --load`")
    for c in found:
        indent = {"major": "", "medium": "  ", "minor": "    "}[c.level]
        typer.echo(f"{indent}{c.code}  {c.name_zh}  {c.name_en}  [{c.geometry_type}]")


def _summary(statuses: Counter[str]) -> str:
    order = ("new", "existing", "updated", "recoded", "rejected")
    return ", ".join(f"{statuses.get(s, 0)} {s}" for s in order)


@app.command()
def code(
    path: Annotated[
        Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile, GeoParquet or CSV (WKT).")
    ],
    class_: Annotated[
        str | None, typer.Option("--class", help="Minor class code of the rows, e.g. 3101.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Column of the source ids.")] = None,
    class_column: Annotated[str | None, typer.Option(help="Column of per-row classes.")] = None,
    name_column: Annotated[str | None, typer.Option(help="Column of entity names.")] = None,
    crs: Annotated[str, typer.Option(help="The file's CRS: EPSG code, gcj02 or bd09.")] = "4326",
    form: Annotated[str, typer.Option(help="admin (community) or beidou (grid).")] = "admin",
    source: Annotated[str, typer.Option(help="The system the ids come from.")] = "import",
    layer: Annotated[str | None, typer.Option(help="Layer of a GeoPackage.")] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the per-row report (.csv/.geojson).")
    ] = None,
    actor: ActorOpt = "cli",
) -> None:
    """Code every entity of a file: one transaction, one report line per row."""
    from blocks.coding.files import read_items, write_report
    from blocks.coding.service import code_entities, list_classes, load_classes
    from blocks.errors import CodingInputError
    from twin.cli.common import database

    if form not in ("admin", "beidou"):
        raise CodingInputError(f"--form {form!r}: use admin or beidou")
    chosen: Literal["admin", "beidou"] = "beidou" if form == "beidou" else "admin"
    items = read_items(
        path,
        crs=crs,
        id_column=id_column,
        class_column=class_column,
        name_column=name_column,
        layer=layer,
    )
    with database(actor=actor) as conn:
        if not list_classes(conn):
            load_classes(conn)
            conn.commit()
        results = code_entities(conn, items, class_, chosen, actor, source=source)
        conn.commit()
    if out is not None:
        write_report(out, items, results)
    for r in results:
        if r.status == "rejected":
            why = "; ".join(f"{p.field}: {p.message}" for p in r.problems)
            typer.echo(f"row {r.row}: rejected: {why}")
    typer.echo(_summary(Counter(r.status for r in results)))


@app.command()
def show(code: str) -> None:
    """Print one entity (with successors if retired, and its links) as JSON."""
    from blocks.coding.service import get_entity
    from twin.cli.common import database

    with database() as conn:
        entity = get_entity(conn, code)
    typer.echo(json.dumps(entity.as_dict(), ensure_ascii=False, indent=2))


@app.command()
def link(
    code: str,
    person: Annotated[int | None, typer.Option(help="Person id.")] = None,
    legal_entity: Annotated[int | None, typer.Option(help="Legal entity id.")] = None,
    event: Annotated[int | None, typer.Option(help="Event id.")] = None,
    address: Annotated[str | None, typer.Option(help="Standard address code.")] = None,
    relation: Annotated[str, typer.Option(help="owner, operator, occupant, address...")] = (
        "related"
    ),
    actor: ActorOpt = "cli",
) -> None:
    """Link an entity to one person, legal entity, event or address."""
    from blocks.coding.service import link_entity
    from blocks.errors import LinkError
    from twin.cli.common import database

    given = {"person": person, "legal_entity": legal_entity, "event": event, "address": address}
    chosen = [(k, v) for k, v in given.items() if v is not None]
    if len(chosen) != 1:
        raise LinkError("give exactly one of --person, --legal-entity, --event, --address")
    kind, target = chosen[0]
    with database(actor=actor) as conn:
        made = link_entity(conn, code, kind, target, relation=relation, actor=actor)
        conn.commit()
    typer.echo(f"link {made.id}: {code} —{made.relation}→ {kind} {target}")


@app.command()
def beidou(
    lon: Annotated[float, typer.Argument(help="Longitude (WGS84 / CGCS2000).")],
    lat: Annotated[float, typer.Argument(help="Latitude.")],
    level: Annotated[int, typer.Option(help="Grid level 1-10.")] = 10,
) -> None:
    """Print the Beidou grid location code (GB/T 39409) of a point and its cell bounds."""
    from blocks.coding.beidou import decode, encode

    found = str(encode(lon, lat, level)[0])
    west, south, east, north = decode([found])[0]
    typer.echo(f"{found}  cell lon {west:.9f}..{east:.9f}, lat {south:.9f}..{north:.9f}")
