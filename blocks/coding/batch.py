"""The coding of one batch in PostGIS: set-based steps over a temporary table.

1. stage: COPY the checked rows into ``entity_batch`` (with a GiST index);
2. locate: the community of each row by the border rule (``locate.sql``); refuse rows outside
   every community, and id-less rows that repeat an earlier row;
3. lock and match: take transaction advisory locks on every community the batch touches (in
   code order), then find which coded entity each row is (same source id, or geometry within
   the tolerance); when a match lies in a community not locked yet, lock it too and match
   again, so that matching always reads what no other batch is changing;
4. plan: keep, update, re-code (moved to another community or class) or create;
5. allocate: counters per (location, class) are created if missing, locked in key order and
   bumped once each with ``UPDATE ... RETURNING``; serials follow in row order;
6. write: retire moved codes (pointing to their successors), insert, update geometries, carry
   links over, one audit summary row.

Every step runs in the caller's transaction; a conflict with a concurrent batch surfaces as a
database error (deadlock, unique violation) or :class:`~blocks.errors.CodingConflictError`,
and the caller retries the whole batch.
"""

from __future__ import annotations

import contextlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from psycopg.pq import TransactionStatus

from blocks.coding.model import RowProblem, StoredOutcome
from blocks.errors import CodingConflictError, SerialExhaustedError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import psycopg

    from blocks.coding.model import BatchOptions, StagedRow

#: Advisory lock namespace (first key) of entity coding; the second key hashes a community code.
LOCK_NAMESPACE = 70_006
#: The batch's temporary tables (stage.sql).
_TABLES = "pg_temp.entity_batch, pg_temp.entity_plan, pg_temp.entity_bump"
#: Rounds of "lock what the matches touch, match again" before giving up on a moving target.
_MATCH_ROUNDS = 4
_STATUS = {
    "new": "new",
    "existing": "existing",
    "update": "updated",
    "recode": "recoded",
    "reject": "rejected",
}


@cache
def sql_text(name: str) -> str:
    """Return the text of ``blocks/coding/sql/<name>``."""
    return resources.files("blocks.coding").joinpath("sql", name).read_text(encoding="utf-8")


def _run(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> int:
    return conn.execute(sql_text(name), params).rowcount


@contextlib.contextmanager
def session_settings(conn: psycopg.Connection[Any], values: dict[str, str]) -> Iterator[None]:
    """Set transaction-local settings (``twin.actor``, ``twin.bulk``) and restore them after."""
    names = list(values)
    before = conn.execute(
        "SELECT coalesce(current_setting(n, true), '') FROM unnest(%s::text[]) AS n", (names,)
    ).fetchall()
    for name, value in values.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    try:
        yield
    finally:
        if conn.info.transaction_status != TransactionStatus.INERROR:  # else: rolled back anyway
            for name, (old,) in zip(names, before, strict=True):
                conn.execute("SELECT set_config(%s, %s, true)", (name, old))


def stage(conn: psycopg.Connection[Any], rows: Sequence[StagedRow]) -> None:
    """Create ``entity_batch`` and COPY the rows into it."""
    conn.execute(f"DROP TABLE IF EXISTS {_TABLES}")
    conn.execute(sql_text("stage.sql"))
    columns = "row_no, source_id, class_code, name, geom, beidou_code, beidou_cell, rep_lat"
    with conn.cursor().copy(f"COPY entity_batch ({columns}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(
                (
                    r.row,
                    r.source_id,
                    r.class_code,
                    r.name,
                    r.ewkb_hex,
                    r.beidou_code,
                    r.beidou_cell,
                    r.rep_lat,
                )
            )
    conn.execute("CREATE INDEX ON entity_batch USING gist (geom)")
    conn.execute("ANALYZE entity_batch")


def _lock_communities(conn: psycopg.Connection[Any], codes: list[str]) -> None:
    conn.execute(
        "SELECT count(pg_advisory_xact_lock(%s, hashtext(c))) "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS u(c, i)",
        (LOCK_NAMESPACE, codes),
    )


def lock_and_match(conn: psycopg.Connection[Any], params: dict[str, Any]) -> None:
    """Lock every community the batch and its matches touch, and match under those locks.

    Raises
    ------
    CodingConflictError
        When the matches keep moving into communities not locked yet.
    """
    locked: set[str] = set()
    matched = False
    for _ in range(_MATCH_ROUNDS):
        wanted = {
            code
            for (code,) in conn.execute(
                "SELECT community_code FROM entity_plan WHERE action IS NULL "
                "UNION SELECT match_community FROM entity_plan "
                "WHERE action IS NULL AND match_community IS NOT NULL"
            )
        }
        extra = sorted(wanted - locked)
        if not extra and matched:
            return
        _lock_communities(conn, extra)
        locked |= set(extra)
        for name in ("match_reset.sql", "match_ids.sql", "match_geoms.sql"):
            _run(conn, name, params)
        matched = True
    raise CodingConflictError("the entities of the batch kept moving under concurrent batches")


def allocate(conn: psycopg.Connection[Any], params: dict[str, Any]) -> None:
    """Give every new or re-coded row the next serial of its (location, class).

    Raises
    ------
    SerialExhaustedError
        When a counter passes the serial width.
    """
    for name in ("counters_seed.sql", "counters_lock.sql", "assign_bump.sql"):
        _run(conn, name, params)
    conn.execute("ANALYZE entity_bump")
    _run(conn, "assign.sql", params)
    full = conn.execute(
        "SELECT location, class_code FROM entity_plan "
        "WHERE action IN ('new', 'recode') AND code IS NULL LIMIT 1"
    ).fetchone()
    if full is not None:
        raise SerialExhaustedError(
            f"class {full[1]} at {full[0]} has used all {params['width']}-digit serials"
        )


def write(conn: psycopg.Connection[Any], params: dict[str, Any]) -> None:
    """Retire moved codes, insert new entities, update edited ones, carry links over.

    Raises
    ------
    CodingConflictError
        When an entity to retire was retired meanwhile by another batch.
    """
    (planned,) = conn.execute(
        "SELECT count(*) FROM entity_plan WHERE action = 'recode'"
    ).fetchone() or (0,)
    if _run(conn, "retire.sql", params) != planned:
        raise CodingConflictError("an entity of the batch was re-coded by a concurrent batch")
    for name in ("insert.sql", "update.sql", "carry_links.sql", "audit.sql"):
        _run(conn, name, params)


def results(conn: psycopg.Connection[Any]) -> list[StoredOutcome]:
    """Read what happened to every staged row."""
    out = []
    for row, action, code, previous, community, pfield, problem in conn.execute(
        sql_text("results.sql")
    ):
        out.append(
            StoredOutcome(
                row,
                _STATUS[action],  # type: ignore[arg-type]
                code,
                previous,
                community,
                RowProblem(pfield, problem) if problem else None,
            )
        )
    return out


def _bulk_settings(conn: psycopg.Connection[Any], options: BatchOptions, n: int) -> dict[str, str]:
    """Session settings of a batch: the actor, and for big batches the bulk switches.

    A batch of ``bulk_audit_rows`` rows or more writes one audit summary row instead of one per
    entity (``twin.bulk``) and, where the role may, skips the row triggers
    (``session_replication_role = replica``): foreign keys need no check because the classes
    were checked and the communities found in the database by this very batch, and the tile
    notification is sent once by ``notify.sql``.
    """
    values = {"twin.actor": options.actor, "twin.bulk": "off"}
    if n >= options.bulk_audit_rows:
        values["twin.bulk"] = "on"
        row = conn.execute(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')"
        ).fetchone()
        if row and row[0]:
            values["session_replication_role"] = "replica"
    return values


def run_batch(
    conn: psycopg.Connection[Any], rows: Sequence[StagedRow], options: BatchOptions
) -> list[StoredOutcome]:
    """Run every step in the current transaction and return one outcome per staged row."""
    params = {
        "source": options.source,
        "form": options.form,
        "actor": options.actor,
        "width": options.serial_width,
        "point_m": options.point_tolerance_m,
        "shape_m": max(options.shape_tolerance_m, options.point_tolerance_m),
    }
    settings = _bulk_settings(conn, options, len(rows))
    with session_settings(conn, settings):
        stage(conn, rows)
        _run(conn, "locate.sql", params)
        conn.execute("ANALYZE entity_plan")
        for name in ("outside.sql", "same_in_batch.sql"):
            _run(conn, name, params)
        lock_and_match(conn, params)
        for name in ("same_match.sql", "plan.sql"):
            _run(conn, name, params)
        allocate(conn, params)
        write(conn, params)
        if "session_replication_role" in settings:
            _run(conn, "notify.sql", params)
        outcomes = results(conn)
        conn.execute(f"DROP TABLE {_TABLES}")
    return outcomes
