"""Orchestrate a generation run: the layout once, then community by community, resumable.

A run is keyed by district, street, scale and seed (and the digest of ``--streets``). The
layout (street and community outlines, roads, administrative and road addresses) is written
in one transaction; then each community is generated, streamed with COPY and committed in its
own transaction, and recorded in ``twin.synth_unit_done``. A run started again with the same
arguments skips what is done; everything derives from the seed and the unit codes, so the
result is the same as an uninterrupted run's. A finished run is not run again (``replace``
deletes the district's generated rows and starts afresh).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import shapely

from twin.synth.bulk import (
    bulk_session,
    create_secondary_indexes,
    delete_district,
    drop_secondary_indexes,
)
from twin.synth.community import RunSpec
from twin.synth.content import write_content
from twin.synth.density import SCALES
from twin.synth.layout import write_layout
from twin.synth.plan import GenerateError, Plan, plan_district

if TYPE_CHECKING:
    import psycopg

    from shapely.geometry.base import BaseGeometry

#: Progress callback: (what was just done, units done, units in all).
Progress = Callable[[str, int, int], None]


@dataclass
class RunReport:
    """What a run did."""

    run_key: str
    communities_done: int = 0
    communities_skipped: int = 0
    already_done: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    indexes_built: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    index_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, counts: dict[str, int]) -> None:
        """Count rows written, per table."""
        for table, n in counts.items():
            self.rows[table] = self.rows.get(table, 0) + n


def streets_digest(outlines: dict[str, BaseGeometry]) -> str:
    """Return a short digest of given street outlines, part of the run key."""
    digest = hashlib.sha256()
    for code in sorted(outlines):
        digest.update(code.encode())
        digest.update(shapely.to_wkb(outlines[code]))
    return digest.hexdigest()[:10]


def run_key(
    district: str, street: str | None, scale: str, seed: int, digest: str | None = None
) -> str:
    """Return the key of a run.

    Examples
    --------
    >>> run_key("440306", "440306017", "small", 1)
    '440306:440306017:small:1'
    """
    key = f"{district}:{street or '*'}:{scale}:{seed}"
    return f"{key}:{digest}" if digest else key


def _check_district(conn: psycopg.Connection[Any], district: str, key: str, replace: bool) -> None:
    other = conn.execute(
        "SELECT run_key FROM twin.synth_run WHERE district = %s AND run_key <> %s ORDER BY 1",
        (district, key),
    ).fetchone()
    if other and not replace:
        raise GenerateError(
            f"district {district} already holds generated data of run {other[0]}: "
            "pass --replace to regenerate it"
        )
    real = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM twin.admin_unit WHERE level = 'grid' AND NOT is_generated "
        "AND left(code, 6) = %s) OR EXISTS (SELECT 1 FROM twin.building WHERE NOT is_generated "
        "AND left(code, 6) = %s)",
        (district, district),
    ).fetchone()
    if real and real[0]:
        raise GenerateError(
            f"district {district} holds real (imported) grids or buildings: generated data "
            "would mix with them; generate another district"
        )


def _start(
    conn: psycopg.Connection[Any],
    key: str,
    plan: Plan,
    spec: tuple[str | None, str, int],
    replace: bool,
) -> str | None:
    """Register the run; return its status when it exists already (None for a new run)."""
    street, scale, seed = spec
    district = plan.district.code
    _check_district(conn, district, key, replace)
    if replace:
        delete_district(conn, district)
    else:
        row = conn.execute(
            "SELECT status FROM twin.synth_run WHERE run_key = %s", (key,)
        ).fetchone()
        if row:
            return str(row[0])
    conn.execute(
        "INSERT INTO twin.synth_run (run_key, district, street, scale, seed, status) "
        "VALUES (%s, %s, %s, %s, %s, 'layout')",
        (key, district, street, scale, seed),
    )
    return None


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
    indexes: bool = True,
) -> RunReport:
    """Generate a district (one street of it at ``small``: ``street`` or the first); resumable.

    ``conn`` must not be in autocommit mode: the layout and each community commit separately.
    With ``workers`` > 1 and a ``conninfo`` for them, communities are written by that many
    processes at once; the data are the same as with one. With ``indexes=False`` the
    secondary indexes dropped for a big run are left to a later run (several districts in a
    row build them once, after the last).

    Raises
    ------
    GenerateError
        For an unknown scale or street, a district not loaded, or one holding another run.
    """
    clock = time.perf_counter()
    plan, street = _prepare(conn, district, scale, seed, street, streets_file)
    digest = streets_digest(streets_file) if streets_file else None
    report = RunReport(run_key(district, street, scale, seed, digest))
    report.seconds["plan"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    status = _start(conn, report.run_key, plan, (street, scale, seed), replace)
    if replace:
        report.seconds["replace"] = round(time.perf_counter() - clock, 1)
    report.already_done = status == "done"
    if not report.already_done:
        spec = RunSpec(report.run_key, scale, seed)
        _write(conn, plan, spec, street, status, report, progress, workers, conninfo)
    # The bulk sessions left the encoded low-zoom building layers of the tiles they touched
    # out of date (migration 0010): encode each of those tiles once.
    conn.execute("SELECT twin.encode_stale_building_layers()")
    conn.commit()
    if indexes:
        clock = time.perf_counter()
        built = create_secondary_indexes(conn, conninfo, workers)
        report.indexes_built = list(built)
        report.index_seconds = built
        report.seconds["indexes"] = round(time.perf_counter() - clock, 1)
    return report


def _write(
    conn: psycopg.Connection[Any],
    plan: Plan,
    spec: RunSpec,
    street: str | None,
    status: str | None,
    report: RunReport,
    progress: Progress | None,
    workers: int,
    conninfo: str | None,
) -> None:
    """Write the layout (a new run), then the content not written yet; mark the run done."""
    clock = time.perf_counter()
    if status is None:
        report.add(write_layout(conn, plan, spec.key))
    if spec.scale != "small":
        drop_secondary_indexes(conn)
    conn.commit()
    report.seconds["layout"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    write_content(conn, plan, spec, street, report, progress, workers, conninfo)
    report.seconds["content"] = round(time.perf_counter() - clock, 1)
    _finish(conn, plan, spec.key, report)


def _prepare(
    conn: psycopg.Connection[Any],
    district: str,
    scale: str,
    seed: int,
    street: str | None,
    streets_file: dict[str, BaseGeometry] | None,
) -> tuple[Plan, str | None]:
    """Check the arguments, start a bulk session and plan the district; return the street."""
    if scale not in SCALES:
        raise GenerateError(f"unknown scale {scale!r}: use small, medium or city")
    bulk_session(conn)
    plan = plan_district(conn, district, seed, streets_file)
    if scale == "small" and street is None and plan.streets:
        street = plan.streets[0].code
    if street is not None and street not in {s.code for s in plan.streets}:
        raise GenerateError(f"street {street} is not a street of district {district}")
    return plan, street


def _finish(conn: psycopg.Connection[Any], plan: Plan, key: str, report: RunReport) -> None:
    """Mark the run done, write its audit summary, tell tile caches; commit."""
    conn.execute(
        "UPDATE twin.synth_run SET status = 'done', finished_at = now() WHERE run_key = %s", (key,)
    )
    conn.execute(
        "INSERT INTO twin.audit_log (actor, action, table_name, record_key, after, reason) "
        "VALUES (coalesce(nullif(current_setting('twin.actor', true), ''), session_user), "
        "'generate', 'synth_run', %s, %s::jsonb, 'generated demo data (bulk, no row audit)')",
        (key, json.dumps(dict(sorted(report.rows.items())))),
    )
    # Bulk writes skip the row triggers: one notification per mapped table for the district.
    conn.execute(
        "SELECT pg_notify('twin_tiles', json_build_object('table', t, 'bbox', "
        "json_build_array(ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g)))::text) "
        "FROM (SELECT geom AS g FROM twin.admin_unit WHERE code = %s) AS d, "
        "unnest(ARRAY['admin_unit', 'building', 'road', 'address']) AS t",
        (plan.district.code,),
    )
    conn.commit()
