"""Write a run's content: community after community, in this process or in worker processes.

Each community is generated, streamed with COPY and committed in its own transaction, and
recorded in ``twin.synth_unit_done`` in that same transaction, so a community is either
entirely written and recorded or not at all. Workers are forked processes with their own
connections; the plan (outlines and roads) reaches them by fork, not by pickling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.synth.bulk import bulk_session, max_real_serial
from twin.synth.community import RunSpec, generate_community
from twin.synth.writer import Sink

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

    from twin.synth.plan import Plan, Unit
    from twin.synth.run import Progress, RunReport


def _offsets(conn: psycopg.Connection[Any], community: str) -> tuple[int, int]:
    """Door and compound serials used by real addresses of a community (generated ones follow)."""
    return max_real_serial(conn, f"{community}D", 5), max_real_serial(conn, f"{community}C", 4)


def write_community(
    conn: psycopg.Connection[Any], plan: Plan, street: Unit, community: Unit, run: RunSpec
) -> dict[str, int]:
    """Generate, stream and record one community; return the rows written (caller commits)."""
    offsets = _offsets(conn, community.code)
    sink = Sink(conn)
    generate_community(plan, street, community, run, sink, offsets)
    sink.flush()
    compounds = sink.written.get("twin.compound", 0)
    # The address library hands out later serials under these prefixes: after ours.
    conn.execute(
        "INSERT INTO twin.code_counter AS c (prefix, last) VALUES (%s, %s), (%s, %s) "
        "ON CONFLICT (prefix) DO UPDATE SET last = greatest(c.last, excluded.last)",
        (f"{community.code}D", offsets[0] + compounds, f"{community.code}C",
         offsets[1] + compounds),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO twin.synth_unit_done (run_key, unit_code, rows) VALUES (%s, %s, %s)",
        (run.key, community.code, sum(sink.written.values())),
    )
    return sink.written


def _pending(
    conn: psycopg.Connection[Any], plan: Plan, key: str, street: str | None
) -> tuple[list[tuple[Unit, Unit]], int]:
    """Return the (street, community) pairs still to write, and how many the run has."""
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
    return [(s, c) for s, c in todo if c.code not in done], len(todo)


def write_content(
    conn: psycopg.Connection[Any],
    plan: Plan,
    run: RunSpec,
    street: str | None,
    report: RunReport,
    progress: Progress | None,
    workers: int = 1,
    conninfo: str | None = None,
) -> None:
    """Write every community of the run not written yet (all of them, or one street's)."""
    pending, total = _pending(conn, plan, run.key, street)
    report.communities_skipped = total - len(pending)
    finished = report.communities_skipped

    def tick(name: str, rows: dict[str, int]) -> None:
        nonlocal finished
        finished += 1
        report.communities_done += 1
        report.add(rows)
        if progress is not None:
            progress(name, finished, total)

    if workers <= 1 or conninfo is None or len(pending) < 2:
        for s, c in pending:
            rows = write_community(conn, plan, s, c, run)
            conn.commit()
            tick(c.name, rows)
        return
    _parallel(plan, pending, run, workers, conninfo, tick)


# The plan reaches worker processes by fork, not by pickling (outlines are large).
_WORKER: dict[str, Any] = {}


def _work(index: int) -> tuple[str, dict[str, int]]:
    plan: Plan = _WORKER["plan"]
    street, community = _WORKER["pending"][index]
    conn = _WORKER.get("conn")
    if conn is None:
        import psycopg

        conn = psycopg.connect(_WORKER["conninfo"])
        bulk_session(conn)
        _WORKER["conn"] = conn
    rows = write_community(conn, plan, street, community, _WORKER["run"])
    conn.commit()
    return community.name, rows


def _parallel(
    plan: Plan,
    pending: list[tuple[Unit, Unit]],
    run: RunSpec,
    workers: int,
    conninfo: str,
    tick: Callable[[str, dict[str, int]], None],
) -> None:
    """Write communities in worker processes; each community is still one transaction."""
    import multiprocessing

    _WORKER.update(plan=plan, pending=pending, conninfo=conninfo, run=run)
    try:
        ctx = multiprocessing.get_context("fork")
        # One community per task, so a worker never holds more than one in memory.
        with ctx.Pool(processes=workers, maxtasksperchild=None) as pool:
            for name, rows in pool.imap_unordered(_work, range(len(pending)), chunksize=1):
                tick(name, rows)
    finally:
        _WORKER.clear()
