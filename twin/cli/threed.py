"""``twin 3d``: the city model, building interiors, BIM (IFC), point clouds (LAS) and CityJSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="3D Tiles 1.1: city model, floors and rooms, IFC, LAS/LAZ/COPC, CityJSON.",
    no_args_is_help=True,
)


def _default(*parts: str) -> Path:
    """Return a folder under the tilesets folder (the default of ``--out``; the API serves it)."""
    from twin.cli.common import settings

    return settings().tilesets_abs.joinpath(*parts)


@app.command("build")
def build(
    out: Annotated[
        Path | None, typer.Option(help="Folder of the city tileset (default HOME/3dtiles/city).")
    ] = None,
    cityjson: Annotated[
        list[Path] | None,
        typer.Option(help="Also add the buildings of this CityJSON file (repeatable)."),
    ] = None,
    cityjson_crs: Annotated[
        str | None, typer.Option(help="The CRS of CityJSON files that declare none.")
    ] = None,
    max_features: Annotated[int, typer.Option(min=10, help="Most buildings in one tile.")] = 1000,
) -> None:
    """Build (or update: only changed tiles are rewritten) the city tileset from the database."""
    from models3d.source import buildings_from_db
    from models3d.tiles3d.citymodel import build_city_tileset
    from twin.cli.common import database

    with database() as conn:
        table = buildings_from_db(conn)
    if cityjson:
        from models3d.buildings import concat_tables
        from models3d.cityjson import read_cityjson

        for path in cityjson:
            table = concat_tables(table, read_cityjson(path, cityjson_crs).table)
    report = build_city_tileset(table, out or _default("city"), max_features=max_features)
    typer.echo(
        f"{report.buildings:,} buildings in {report.tiles} tiles ({report.written} written, "
        f"{report.reused} unchanged) in {report.seconds:.1f} s, "
        f"{report.bytes_on_disk:,} bytes → {report.out / 'tileset.json'}"
    )


@app.command("rooms")
def rooms(
    code: Annotated[str, typer.Argument(help="The 19-digit building code.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder (default HOME/3dtiles/rooms/CODE).")
    ] = None,
) -> None:
    """Write a building's floors and rooms as a small tileset of stacked volumes."""
    from models3d.interior import build_interior_tileset
    from models3d.source import interior_from_db
    from twin.cli.common import database

    with database() as conn:
        interior = interior_from_db(conn, code)
    path = build_interior_tileset(interior, out or _default("rooms", code))
    typer.echo(f"{len(interior.rooms)} rooms on {interior.floors} floors → {path}")


@app.command("validate")
def validate(
    tileset: Annotated[Path, typer.Argument(help="A tileset.json.")],
) -> None:
    """Check a tileset (3D Tiles rules) and every glb in it (Khronos glTF validator)."""
    from models3d.validate import validate_tileset

    problems = validate_tileset(tileset)
    for line in problems:
        typer.echo(line)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{tileset}: valid")


@app.command("import-ifc")
def import_ifc(
    file: Annotated[Path, typer.Argument(help="An IFC 2x3 or IFC 4 file.")],
    anchor: Annotated[
        str | None,
        typer.Option(help="LON,LAT,HEIGHT,ROTATION: used when the file has no georeference."),
    ] = None,
    building: Annotated[
        str | None,
        typer.Option(help="Link storeys and spaces to this building's floors and rooms."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder (default HOME/3dtiles/bim/NAME).")
    ] = None,
) -> None:
    """Convert an IFC model to 3D Tiles; with --building, give its spaces their room codes."""
    from models3d.ifc.georef import Anchor
    from models3d.ifc.importer import import_ifc as run_import

    where = out or _default("bim", file.stem)
    anchor_at = Anchor.parse(anchor) if anchor else None
    if building is None:
        report = run_import(file, where, anchor_at)
    else:
        from models3d.ifc.link import link_building
        from twin.cli.common import database

        with database() as conn:
            report = run_import(
                file,
                where,
                anchor_at,
                lambda storeys, spaces: link_building(conn, file.name, building, storeys, spaces),
            )
            conn.commit()
    typer.echo(f"{file.name}: {report.schema}, placed by {report.georeference} ({report.detail})")
    typer.echo(
        f"{report.elements} elements, {len(report.storeys)} storeys, {len(report.spaces)} spaces"
        + (f", {len(report.room_codes)} spaces linked to rooms of {building}" if building else "")
        + f" → {report.tileset}"
    )


@app.command("import-las")
def import_las(
    file: Annotated[Path, typer.Argument(help="A LAS 1.2-1.4, LAZ or COPC file.")],
    crs: Annotated[
        str | None, typer.Option(help="Its CRS (e.g. EPSG:4547) when the file declares none.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder (default HOME/3dtiles/pointcloud/NAME).")
    ] = None,
    memory_mb: Annotated[int, typer.Option(min=16, help="Points held in memory (MB).")] = 256,
) -> None:
    """Convert a point cloud into a 3D Tiles point-cloud tileset, streaming in bounded memory."""
    from models3d.tiles3d.pointcloud import convert_point_cloud

    where = out or _default("pointcloud", file.name.split(".")[0])
    report = convert_point_cloud(file, where, crs, memory_mb=memory_mb)
    typer.echo(
        f"{report.points:,} points ({report.crs}) in {report.tiles} tiles in "
        f"{report.seconds:.1f} s, {report.bytes_on_disk:,} bytes → {report.tileset}"
    )


@app.command("import-cityjson")
def import_cityjson(
    file: Annotated[Path, typer.Argument(help="A CityJSON 1.1 or 2.0 file.")],
    crs: Annotated[
        str | None, typer.Option(help="Its CRS (e.g. EPSG:7415) when it declares none.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder (default HOME/3dtiles/cityjson/NAME).")
    ] = None,
) -> None:
    """Convert a CityJSON file's LoD1/LoD2 buildings into a city-model tileset.

    ``twin 3d build --cityjson FILE`` adds them to the database's city model instead.
    """
    from models3d.cityjson import read_cityjson
    from models3d.tiles3d.citymodel import build_city_tileset

    model = read_cityjson(file, crs)
    report = build_city_tileset(model.table, out or _default("cityjson", file.name.split(".")[0]))
    typer.echo(
        f"{file.name}: CityJSON {model.version} ({model.crs}), {report.buildings} buildings "
        f"({model.skipped} without LoD1/2 geometry skipped) in {report.tiles} tiles "
        f"→ {report.out / 'tileset.json'}"
    )
