"""Orchestrate a generation run: layout once, then community by community, resumable.

A run is keyed by district, street, scale and seed. The layout (street and community outlines,
roads, admin and road addresses) is written in one transaction; then each community is
written in its own transaction and recorded in ``twin.synth_unit_done``. An interrupted run
started again with the same arguments skips what is done; everything is derived from the seed
and the unit codes, so the result is the same as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import shapely

from twin.address_codes import road_address_code
from twin.errors import TwinError
from twin.synth import SOURCE
from twin.synth.addresses import PREFIX, AdminNames
from twin.synth.community import layout_community
from twin.synth.content import (
    Context,
    Rows,
    address_row,
    building_rows,
    company_rows,
    compound_rows,
    event_rows,
    ewkb,
    person_rows,
)
from twin.synth.density import SCALES, district_targets
from twin.synth.district import (
    Road,
    Unit,
    community_outlines,
    fit_given_outlines,
    road_network,
    street_outlines,
    to_metric,
)
from twin.synth.rng import rng_for
from twin.synth.writer import COLUMNS, copy_rows

if TYPE_CHECKING:
    import numpy as np
    import psycopg

    from shapely.geometry.base import BaseGeometry


class GenerateError(TwinError):
    """A generation run cannot start or go on."""


@dataclass
class RunReport:
    """What a run did."""

    run_key: str
    communities_done: int = 0
    communities_skipped: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        """Count rows written to a table."""
        self.rows[table] = self.rows.get(table, 0) + n


@dataclass
class Plan:
    """The district's units and their outlines (metric), derived from the seed."""

    district: Unit
    outline: BaseGeometry
    streets: list[Unit]
    street_geoms: dict[str, BaseGeometry]
    communities: dict[str, list[Unit]]
    community_geoms: dict[str, BaseGeometry]
    roads: list[Road]
    angle: float


def run_key(district: str, street: str | None, scale: str, seed: int) -> str:
    """Return the key of a run."""
    return f"{district}:{street or '*'}:{scale}:{seed}"


def _units(
    conn: psycopg.Connection[Any], district: str
) -> tuple[Unit, list[Unit], dict[str, list[Unit]]]:
    rows = conn.execute(
        "SELECT code, name, parent_code, level, functional_area_code FROM twin.admin_unit "
        "WHERE left(code, 6) = %s AND level IN ('district', 'street', 'community') ORDER BY code",
        (district,),
    ).fetchall()
    if not rows or rows[0][3] != "district":
        raise GenerateError(f"district {district} is not loaded: run `twin load admin` first")
    head = Unit(rows[0][0], rows[0][1], None)
    streets = [Unit(c, n, p, fa) for c, n, p, lvl, fa in rows if lvl == "street"]
    communities: dict[str, list[Unit]] = {}
    for c, n, p, lvl, _ in rows:
        if lvl == "community":
            communities.setdefault(p, []).append(Unit(c, n, p))
    return head, streets, communities


def plan_district(
    conn: psycopg.Connection[Any],
    district: str,
    seed: int,
    streets_file: dict[str, BaseGeometry] | None = None,
) -> Plan:
    """Derive the outlines and roads of a district from the database and the seed."""
    head, streets, communities = _units(conn, district)
    wkb = conn.execute(
        "SELECT ST_AsBinary(geom) FROM twin.admin_unit WHERE code = %s", (district,)
    ).fetchone()
    if wkb is None or wkb[0] is None:
        raise GenerateError(f"district {district} has no outline: run `twin load admin` first")
    outline = to_metric(shapely.from_wkb(bytes(wkb[0])))
    areas = {
        code: to_metric(shapely.from_wkb(bytes(g)))
        for code, g in conn.execute(
            "SELECT code, ST_AsBinary(geom) FROM twin.functional_area WHERE district_code = %s "
            "AND geom IS NOT NULL",
            (district,),
        ).fetchall()
    }
    if streets_file:
        try:
            street_geoms = fit_given_outlines(outline, streets_file, streets)
        except ValueError as exc:
            raise GenerateError(str(exc)) from exc
    else:
        street_geoms = street_outlines(outline, streets, areas, seed)
    community_geoms: dict[str, BaseGeometry] = {}
    for s in streets:
        community_geoms.update(
            community_outlines(street_geoms[s.code], communities.get(s.code, []), seed)
        )
    roads, angle = road_network(outline, district, seed)
    return Plan(head, outline, streets, street_geoms, communities, community_geoms, roads, angle)


def _admin_rows(plan: Plan) -> list[tuple[Any, ...]]:
    """Address rows of the district, its streets and communities (code = admin code)."""
    d = plan.district
    rows = [address_row(d.code, "district", f"{PREFIX}{d.name}", None, district=d.code)]
    for s in plan.streets:
        rows.append(
            address_row(
                s.code,
                "street",
                f"{PREFIX}{d.name}{s.name}",
                d.code,
                district=d.code,
                street=s.code,
            )
        )
        rows += [
            address_row(
                c.code,
                "community",
                f"{PREFIX}{d.name}{s.name}{c.name}",
                s.code,
                district=d.code,
                street=s.code,
                community=c.code,
            )
            for c in plan.communities.get(s.code, [])
        ]
    return rows


def write_layout(conn: psycopg.Connection[Any], plan: Plan, key: str, report: RunReport) -> None:
    """Store outlines, roads and the admin and road addresses (one transaction)."""
    update = (
        "UPDATE twin.admin_unit SET geom = ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))), "
        "attrs = attrs || '{\"geometry_generated\": true}'::jsonb WHERE code = %s"
    )
    with conn.cursor() as cur:
        cur.executemany(
            update,
            [(ewkb(g), c) for c, g in [*plan.street_geoms.items(), *plan.community_geoms.items()]],
        )
        for r in plan.roads:
            cur.execute(
                "INSERT INTO twin.road (name, road_class, district_code, geom, "
                "is_generated, source) VALUES (%s, %s, %s, "
                "ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))), true, %s)",
                (r.name, r.road_class, plan.district.code, ewkb(r.geom), SOURCE),
            )
    report.add("twin.road", len(plan.roads))
    report.add("twin.address", copy_rows(conn, "twin.address", _admin_rows(plan)))
    ids = _road_ids(conn, plan.district.code)
    d = plan.district
    road_rows = [
        address_row(
            road_address_code(d.code, i + 1),
            "road",
            f"{PREFIX}{d.name}{r.name}",
            d.code,
            district=d.code,
            road_id=ids[r.name],
        )
        for i, r in enumerate(plan.roads)
    ]
    report.add("twin.address", copy_rows(conn, "twin.address", road_rows))
    conn.execute("UPDATE twin.synth_run SET status = 'content' WHERE run_key = %s", (key,))


def _road_ids(conn: psycopg.Connection[Any], district: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT name, id FROM twin.road WHERE district_code = %s AND is_generated", (district,)
    ).fetchall()
    return {name: int(i) for name, i in rows}


def _targets(plan: Plan, community: str, scale: str, rng: np.random.Generator) -> tuple[int, ...]:
    total = district_targets(plan.district.code, scale)
    share = plan.community_geoms[community].area / plan.outline.area
    t = total.share(share * float(rng.lognormal(0.0, 0.3)))
    return t.buildings, t.rooms, t.people, t.companies, t.events


def _insert_compounds(conn: psycopg.Connection[Any], community: str, layout: Any) -> list[int]:
    ids: list[int] = []
    with conn.cursor() as cur:
        for comp in layout.compounds:
            cur.execute(
                "INSERT INTO twin.compound (name, kind, community_code, geom, "
                "is_generated, source) VALUES (%s, %s, %s, "
                "ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))), true, %s) RETURNING id",
                (comp.name, comp.kind, community, ewkb(comp.parcel), SOURCE),
            )
            row = cur.fetchone()
            assert row is not None
            ids.append(int(row[0]))
    return ids


def write_community(
    conn: psycopg.Connection[Any],
    plan: Plan,
    street: Unit,
    community: Unit,
    scale: str,
    seed: int,
    key: str,
    report: RunReport,
) -> None:
    """Generate and store one community (the caller commits)."""
    rng = rng_for(seed, "community", community.code)
    buildings, rooms, people, companies, events = _targets(plan, community.code, scale, rng)
    layout = layout_community(
        community.code,
        plan.community_geoms[community.code],
        plan.roads,
        plan.angle,
        buildings,
        rooms,
        rng,
    )
    grid_rows = [
        (
            code,
            "grid",
            f"{community.name}第{code[-2:]}网格",
            community.code,
            ewkb(geom),
            True,
            SOURCE,
        )
        for code, geom in layout.grids.items()
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom, "
            "is_generated, source) VALUES (%s, %s, %s, %s, "
            "ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))), %s, %s)",
            grid_rows,
        )
    compound_ids = _insert_compounds(conn, community.code, layout)
    road_names = [r.name for r in plan.roads]
    ids = _road_ids(conn, plan.district.code)
    ctx = Context(
        plan.district.code,
        street.code,
        community.code,
        AdminNames(plan.district.name, street.name, community.name),
        plan.roads,
        ids,
        {n: road_address_code(plan.district.code, i + 1) for i, n in enumerate(road_names)},
    )
    rows = Rows()
    building_table = []
    refs = []
    for serial, (comp, cid) in enumerate(zip(layout.compounds, compound_ids, strict=True), 1):
        _, comp_code = compound_rows(ctx, comp, serial, cid, rows)
        for b in comp.buildings:
            building_table.append(
                (
                    b.code,
                    b.grid,
                    b.name,
                    cid,
                    ewkb(b.footprint),
                    b.floors,
                    b.height_m,
                    b.use,
                    True,
                    SOURCE,
                )
            )
            refs.extend(building_rows(ctx, comp, b, comp_code, cid, rows))
    person_rows(ctx, refs, people, rng, rows)
    company_rows(ctx, refs, companies, rng, rows)
    event_rows(ctx, layout, events, rng, rows)
    _copy_all(conn, key, building_table, rows, report)
    conn.execute(
        "INSERT INTO twin.synth_unit_done (run_key, unit_code, rows) VALUES (%s, %s, %s)",
        (key, community.code, len(rows.address) + len(rows.person)),
    )


def _copy_all(
    conn: psycopg.Connection[Any],
    key: str,
    buildings: list[tuple[Any, ...]],
    rows: Rows,
    report: RunReport,
) -> None:
    for table, data in (
        ("twin.building", buildings),
        ("twin.floor", rows.floor),
        ("twin.room", rows.room),
        ("twin.address", rows.address),
        ("twin.address_alias", rows.alias),
        ("twin.person", rows.person),
        ("twin.legal_entity", rows.company),
        ("twin.event", rows.event),
    ):
        report.add(table, copy_rows(conn, table, data))
    report.add(
        "twin.synth_truth", copy_rows(conn, "twin.synth_truth", ((key, *t) for t in rows.truth))
    )


def _start(
    conn: psycopg.Connection[Any],
    key: str,
    district: str,
    street: str | None,
    scale: str,
    seed: int,
    replace: bool,
) -> str | None:
    """Register the run; return its status when it exists already."""
    other = conn.execute(
        "SELECT run_key FROM twin.synth_run WHERE district = %s AND run_key <> %s", (district, key)
    ).fetchone()
    if other and not replace:
        raise GenerateError(
            f"district {district} already holds generated data of run "
            f"{other[0]}: pass --replace to regenerate it"
        )
    if replace:
        delete_generated(conn, district)
        return None
    row = conn.execute("SELECT status FROM twin.synth_run WHERE run_key = %s", (key,)).fetchone()
    if row:
        return str(row[0])
    conn.execute(
        "INSERT INTO twin.synth_run (run_key, district, street, scale, seed, status) "
        "VALUES (%s, %s, %s, %s, %s, 'layout')",
        (key, district, street, scale, seed),
    )
    return None


def delete_generated(conn: psycopg.Connection[Any], district: str) -> None:
    """Remove every generated row of a district (and placements in it), keeping real data."""
    like = [f"{p}{district}%" for p in ("P", "C", "E")]
    # Deletes must cascade and check references even in a bulk (replica) session.
    if conn.execute("SHOW session_replication_role").fetchone() == ("replica",):
        conn.execute("SET LOCAL session_replication_role = origin")
    statements = [
        ("DELETE FROM twin.synth_run WHERE district = %s", (district,)),
        ("DELETE FROM twin.placement WHERE district_code = %s", (district,)),
        ("DELETE FROM twin.person WHERE is_generated AND source_id LIKE %s", (like[0],)),
        ("DELETE FROM twin.legal_entity WHERE is_generated AND source_id LIKE %s", (like[1],)),
        ("DELETE FROM twin.event WHERE is_generated AND source_id LIKE %s", (like[2],)),
        ("DELETE FROM twin.address WHERE is_generated AND district_code = %s", (district,)),
        ("DELETE FROM twin.building WHERE is_generated AND left(code, 6) = %s", (district,)),
        (
            "DELETE FROM twin.compound WHERE is_generated AND left(community_code, 6) = %s",
            (district,),
        ),
        (
            "DELETE FROM twin.admin_unit WHERE is_generated AND level = 'grid' "
            "AND left(code, 6) = %s",
            (district,),
        ),
        ("DELETE FROM twin.road WHERE is_generated AND district_code = %s", (district,)),
        (
            "UPDATE twin.admin_unit SET geom = NULL, attrs = attrs - 'geometry_generated' "
            "WHERE left(code, 6) = %s AND attrs ? 'geometry_generated'",
            (district,),
        ),
    ]
    for sql, params in statements:
        conn.execute(sql, params)


Progress = Callable[[str, int, int], None]


@contextlib.contextmanager
def deferred_indexes(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Drop the trigram indexes for a bulk load of several runs; build them once after."""
    conn.execute(_DROP_TRGM)
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(_CREATE_TRGM)
        conn.commit()


def _notify_tiles(conn: psycopg.Connection[Any], district: str) -> None:
    """Tell tile caches that the district changed (bulk writes bypass the row triggers)."""
    conn.execute(
        "SELECT pg_notify('twin_tiles', json_build_object('table', t, 'bbox', "
        "json_build_array(ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g)))::text) "
        "FROM (SELECT geom AS g FROM twin.admin_unit WHERE code = %s) AS d, "
        "unnest(ARRAY['admin_unit', 'building', 'road', 'address']) AS t",
        (district,),
    )


def bulk_session(conn: psycopg.Connection[Any]) -> None:
    """Prepare a session for bulk writes of generated rows, then commit.

    Row audit is skipped (one summary row per run instead). Where the role may (a superuser,
    as on the local cluster), ``session_replication_role = replica`` also skips the foreign-key
    and other triggers for these rows: the generator builds every reference itself and its
    tests check the invariants; CHECK constraints on codes and geometries still apply.
    """
    import psycopg

    conn.execute("SELECT set_config('twin.bulk', 'on', false)")
    conn.commit()
    try:
        conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
    conn.commit()


_DROP_TRGM = (
    "DROP INDEX IF EXISTS twin.address_text_trgm_idx; "
    "DROP INDEX IF EXISTS twin.address_alias_trgm_idx"
)
# The same definitions as migration 0001.
_CREATE_TRGM = (
    "CREATE INDEX IF NOT EXISTS address_text_trgm_idx ON twin.address "
    "USING gin (text gin_trgm_ops); "
    "CREATE INDEX IF NOT EXISTS address_alias_trgm_idx ON twin.address_alias "
    "USING gin (text gin_trgm_ops)"
)


def generate(
    conn: psycopg.Connection[Any],
    district: str,
    scale: str,
    seed: int,
    *,
    street: str | None = None,
    streets_file: dict[str, BaseGeometry] | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
    conninfo: str | None = None,
    defer_indexes: bool | None = None,
) -> RunReport:
    """Generate a district (or one street of it, the default at ``small``); resumable.

    ``conn`` must not be in autocommit mode: the layout and each community commit separately.
    With ``workers`` > 1 and a ``conninfo`` for them, communities are written by that many
    processes at once; the data are the same as with one. ``defer_indexes`` (default: for
    ``medium`` and ``city``) drops the trigram indexes during the run and builds them after;
    a caller generating several districts passes False and calls :func:`deferred_indexes`
    once around all of them.
    """
    if scale not in SCALES:
        raise GenerateError(f"unknown scale {scale!r}: use small, medium or city")
    bulk_session(conn)
    plan = plan_district(conn, district, seed, streets_file)
    if scale == "small" and street is None:
        street = plan.streets[0].code
    if street is not None and street not in {s.code for s in plan.streets}:
        raise GenerateError(f"street {street} is not a street of district {district}")
    key = run_key(district, street, scale, seed)
    report = RunReport(key)
    status = _start(conn, key, district, street, scale, seed, replace)
    if status == "done":
        conn.commit()
        return report
    if status is None:
        if replace:
            _start(conn, key, district, street, scale, seed, False)
        write_layout(conn, plan, key, report)
    bulk = scale != "small" if defer_indexes is None else defer_indexes
    if bulk:
        # Trigram indexes cost most per inserted address; building them once at the end is
        # several times cheaper. A run interrupted meanwhile rebuilds them when it resumes.
        conn.execute(_DROP_TRGM)
    conn.commit()
    _write_content(conn, plan, key, scale, seed, street, report, progress, workers, conninfo)
    if bulk:
        conn.execute(_CREATE_TRGM)
    _notify_tiles(conn, district)
    conn.execute(
        "UPDATE twin.synth_run SET status = 'done', finished_at = now() WHERE run_key = %s", (key,)
    )
    conn.execute(
        "INSERT INTO twin.audit_log (actor, action, table_name, reason, after) VALUES "
        "(coalesce(nullif(current_setting('twin.actor', true), ''), session_user), "
        "'generate', 'synth_run', %s, %s::jsonb)",
        (key, json.dumps(report.rows)),
    )
    conn.commit()
    return report


def _write_content(
    conn: psycopg.Connection[Any],
    plan: Plan,
    key: str,
    scale: str,
    seed: int,
    street: str | None,
    report: RunReport,
    progress: Progress | None,
    workers: int = 1,
    conninfo: str | None = None,
) -> None:
    done = {
        r[0]
        for r in conn.execute(
            "SELECT unit_code FROM twin.synth_unit_done WHERE run_key = %s", (key,)
        ).fetchall()
    }
    todo = [
        (s, c)
        for s in plan.streets
        if street in (None, s.code)
        for c in plan.communities.get(s.code, [])
    ]
    report.communities_skipped = sum(1 for _, c in todo if c.code in done)
    pending = [(s, c) for s, c in todo if c.code not in done]
    finished = report.communities_skipped

    def tick(name: str) -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(name, finished, len(todo))

    if workers <= 1 or conninfo is None or len(pending) < 2:
        for s, c in pending:
            write_community(conn, plan, s, c, scale, seed, key, report)
            conn.commit()
            report.communities_done += 1
            tick(c.name)
        return
    _parallel(plan, pending, scale, seed, key, workers, conninfo, report, tick)


# The plan is handed to worker processes by fork, not by pickling (outlines are large).
_WORKER_STATE: dict[str, Any] = {}


def _work(job: tuple[int, str, int, str]) -> tuple[str, dict[str, int]]:
    index, scale, seed, key = job
    plan: Plan = _WORKER_STATE["plan"]
    street, community = _WORKER_STATE["pending"][index]
    conn = _WORKER_STATE.get("conn")
    if conn is None:
        import psycopg

        conn = psycopg.connect(_WORKER_STATE["conninfo"])
        bulk_session(conn)
        _WORKER_STATE["conn"] = conn
    local = RunReport(key)
    write_community(conn, plan, street, community, scale, seed, key, local)
    conn.commit()
    return community.name, local.rows


def _parallel(
    plan: Plan,
    pending: list[tuple[Unit, Unit]],
    scale: str,
    seed: int,
    key: str,
    workers: int,
    conninfo: str,
    report: RunReport,
    tick: Callable[[str], None],
) -> None:
    """Write communities in worker processes; each community is still one transaction."""
    import multiprocessing

    _WORKER_STATE.update(plan=plan, pending=pending, conninfo=conninfo)
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(processes=workers) as pool:
            jobs = [(i, scale, seed, key) for i in range(len(pending))]
            for name, rows in pool.imap_unordered(_work, jobs):
                for table, n in rows.items():
                    report.add(table, n)
                report.communities_done += 1
                tick(name)
    finally:
        _WORKER_STATE.clear()


def export_truth(conn: psycopg.Connection[Any], key: str | list[str], path: str) -> int:
    """Write a run's truth to CSV or JSONL (by extension), sorted; return the rows written."""
    import csv

    cols = COLUMNS["twin.synth_truth"][1:]  # all but the run key
    cur = conn.execute(
        f"SELECT {', '.join(cols)} FROM twin.synth_truth WHERE run_key = ANY(%s) "
        "ORDER BY record_kind, source_id",
        ([key] if isinstance(key, str) else key,),
    )
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh) if not path.endswith(".jsonl") else None
        if writer:
            writer.writerow(cols)
        for row in cur:
            if writer:
                writer.writerow(row)
            else:
                fh.write(json.dumps(dict(zip(cols, row, strict=True)), ensure_ascii=False) + "\n")
            n += 1
    return n
