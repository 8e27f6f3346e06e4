"""Bulk-load plumbing of the generator: session settings, secondary indexes, deleting a run.

A bulk session sets ``twin.bulk = on`` (no row audit: one summary row per run instead) and,
where the role may (a superuser, as on the local cluster), ``session_replication_role =
replica``, which skips foreign-key and other triggers for the generated rows: the generator
builds every reference itself and its tests check the invariants; CHECK constraints on codes
and geometries still apply. Commits need not wait for the disk (a lost community is simply
generated again by the resumed run).

At ``medium`` and ``city`` scale the secondary indexes of the tables being filled are dropped
first and built once at the end, several times cheaper than maintaining them row by row. Their
definitions are :data:`SECONDARY_INDEXES` (the migrations' own; a test checks they agree), so
a run interrupted meanwhile rebuilds them when it resumes, and any later run makes sure they
exist.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: (name, definition) of the secondary indexes dropped during bulk loads, as the migrations
#: create them. Primary keys and unique constraints stay.
SECONDARY_INDEXES: tuple[tuple[str, str], ...] = (
    ("address_parent_idx", "ON twin.address USING btree (parent_code)"),
    ("address_community_level_idx", "ON twin.address USING btree (community_code, level)"),
    ("address_building_idx", "ON twin.address USING btree (building_code)"),
    ("address_geom_idx", "ON twin.address USING gist (geom)"),
    ("address_text_trgm_idx", "ON twin.address USING gin (text gin_trgm_ops)"),
    ("address_room_idx", "ON twin.address USING btree (room_code) WHERE (room_code IS NOT NULL)"),
    ("address_compound_idx",
     "ON twin.address USING btree (compound_id) WHERE (compound_id IS NOT NULL)"),
    ("address_road_idx", "ON twin.address USING btree (road_id) WHERE (road_id IS NOT NULL)"),
    ("address_grid_idx", "ON twin.address USING btree (grid_code) WHERE (grid_code IS NOT NULL)"),
    ("address_alias_text_idx", "ON twin.address_alias USING btree (text)"),
    ("address_alias_trgm_idx", "ON twin.address_alias USING gin (text gin_trgm_ops)"),
    ("room_building_idx", "ON twin.room USING btree (building_code, floor_no)"),
    ("building_grid_idx", "ON twin.building USING btree (grid_code)"),
    ("building_compound_idx", "ON twin.building USING btree (compound_id)"),
    ("building_footprint_idx", "ON twin.building USING gist (footprint)"),
    ("building_footprint_3857_idx", "ON twin.building USING gist (footprint_3857)"),
    ("person_source_id_idx", "ON twin.person USING btree (source_id text_pattern_ops)"),
    ("legal_entity_uscc_idx", "ON twin.legal_entity USING btree (uscc)"),
    ("legal_entity_source_id_idx",
     "ON twin.legal_entity USING btree (source_id text_pattern_ops)"),
    ("event_geom_idx", "ON twin.event USING gist (geom)"),
    ("event_time_idx", "ON twin.event USING btree (occurred_at)"),
    ("event_source_id_idx", "ON twin.event USING btree (source_id text_pattern_ops)"),
    ("synth_truth_run_idx", "ON twin.synth_truth USING btree (run_key)"),
)  # fmt: skip


def bulk_session(conn: psycopg.Connection[Any]) -> None:
    """Prepare a session for bulk writes of generated rows, then commit."""
    import psycopg

    conn.execute("SELECT set_config('twin.bulk', 'on', false)")
    conn.execute("SET synchronous_commit = off")
    conn.commit()
    try:
        conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
    conn.commit()


def drop_secondary_indexes(conn: psycopg.Connection[Any]) -> None:
    """Drop :data:`SECONDARY_INDEXES` (the caller commits)."""
    for name, _ in SECONDARY_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS twin.{name}")


def missing_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Return the names of :data:`SECONDARY_INDEXES` that do not exist."""
    have = {
        r[0]
        for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'twin' AND indexname = ANY(%s)",
            ([n for n, _ in SECONDARY_INDEXES],),
        )
    }
    return [n for n, _ in SECONDARY_INDEXES if n not in have]


def create_secondary_indexes(
    conn: psycopg.Connection[Any], conninfo: str | None = None, sessions: int = 1
) -> dict[str, float]:
    """Build the missing :data:`SECONDARY_INDEXES`; return the seconds each took.

    With a ``conninfo`` and ``sessions`` > 1, that many sessions build indexes at once (one
    core each: no parallel workers per build), the biggest first.
    """
    missing = set(missing_indexes(conn))
    conn.commit()
    todo = [(name, d) for name, d in SECONDARY_INDEXES if name in missing]
    if conninfo is None or sessions <= 1 or len(todo) < 2:
        return {name: _build(conn, name, d) for name, d in todo}
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    # The address indexes first (the trigram one the biggest), so that the rest fill in.
    queue = sorted(todo, key=lambda t: ("twin.address " not in t[1], "gin" not in t[1]))
    out: dict[str, float] = {}

    def worker() -> None:
        with psycopg.connect(conninfo) as own:
            own.execute("SET max_parallel_maintenance_workers = 0")
            own.execute("SET maintenance_work_mem = '512MB'")
            while queue:
                try:
                    name, definition = queue.pop(0)
                except IndexError:
                    return
                out[name] = _build(own, name, definition)

    with ThreadPoolExecutor(sessions) as pool:
        for future in [pool.submit(worker) for _ in range(sessions)]:
            future.result()
    return {name: out[name] for name, _ in todo}


def _build(conn: psycopg.Connection[Any], name: str, definition: str) -> float:
    clock = time.perf_counter()
    conn.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")
    conn.commit()
    return round(time.perf_counter() - clock, 1)


def _deletes(district: str) -> list[tuple[str, tuple[str, ...]]]:
    like = [f"{p}{district}%" for p in ("P", "C", "E")]
    return [
        ("DELETE FROM twin.synth_run WHERE district = %s", (district,)),
        ("DELETE FROM twin.placement WHERE district_code = %s", (district,)),
        ("DELETE FROM twin.person WHERE is_generated AND source_id LIKE %s", (like[0],)),
        ("DELETE FROM twin.legal_entity WHERE is_generated AND source_id LIKE %s", (like[1],)),
        ("DELETE FROM twin.event WHERE is_generated AND source_id LIKE %s", (like[2],)),
        ("DELETE FROM twin.address_alias a USING twin.address d WHERE d.code = a.address_code "
         "AND d.is_generated AND d.district_code = %s", (district,)),
        ("DELETE FROM twin.address WHERE is_generated AND district_code = %s", (district,)),
        ("DELETE FROM twin.room WHERE left(code, 6) = %s AND building_code IN (SELECT code "
         "FROM twin.building WHERE is_generated AND left(code, 6) = %s)", (district, district)),
        ("DELETE FROM twin.floor WHERE left(building_code, 6) = %s AND building_code IN (SELECT "
         "code FROM twin.building WHERE is_generated AND left(code, 6) = %s)",
         (district, district)),
        ("DELETE FROM twin.building WHERE is_generated AND left(code, 6) = %s", (district,)),
        ("DELETE FROM twin.compound WHERE is_generated AND left(community_code, 6) = %s",
         (district,)),
        ("DELETE FROM twin.admin_unit WHERE is_generated AND level = 'grid' "
         "AND left(code, 6) = %s", (district,)),
        ("DELETE FROM twin.road WHERE is_generated AND district_code = %s", (district,)),
        ("UPDATE twin.admin_unit SET geom = NULL, attrs = attrs - 'geometry_generated' "
         "WHERE left(code, 6) = %s AND attrs ? 'geometry_generated'", (district,)),
    ]  # fmt: skip


def delete_district(conn: psycopg.Connection[Any], district: str) -> None:
    """Remove every generated row of ``district`` (and placements in it); real rows stay.

    The caller commits. Deletes check references even in a bulk (replica) session.
    """
    if conn.execute("SHOW session_replication_role").fetchone() == ("replica",):
        conn.execute("SET LOCAL session_replication_role = origin")
    for sql, params in _deletes(district):
        conn.execute(sql, params)


def max_real_serial(conn: psycopg.Connection[Any], prefix: str, width: int) -> int:
    """Return the highest serial under ``prefix`` among real (not generated) address codes.

    A range scan of the primary key, then an exact shape test, so it stays cheap on tables of
    tens of millions of addresses.

    Examples
    --------
    The generator's door serials of a community follow ``max_real_serial(conn,
    "440306017001D", 5)``.
    """
    row = conn.execute(
        "SELECT max(right(code, %s)::int) FROM twin.address WHERE code BETWEEN %s AND %s "
        "AND code ~ %s AND NOT is_generated",
        (width, prefix + "0" * width, prefix + "9" * width, f"^{prefix}[0-9]{{{width}}}$"),
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
