"""The truth of generated records, kept apart from the data: what each messy address really is.

Every person, legal entity and event gets one line in ``twin.synth_truth``: its messy address,
the noise kinds applied, and the codes it truly belongs to. The matcher never reads it;
evaluations do, through :func:`export_truth` (``twin generate --truth FILE``).
"""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

    from twin.synth.writer import Row

#: Columns of the truth file, in order.
TRUTH_COLUMNS = (
    "record_kind", "record_id", "messy_address", "noise", "address_code", "level",
    "room_code", "building_code", "grid_code", "community_code", "street_code", "district_code",
)  # fmt: skip
_SELECT = (
    "SELECT record_kind, source_id, messy_address, noise, address_code, level, room_code, "
    "building_code, grid_code, community_code, street_code, district_code "
    "FROM twin.synth_truth WHERE run_key = ANY(%s) ORDER BY record_kind, source_id"
)


def truth_row(
    run_key: str,
    kind: str,
    source_id: str,
    messy: tuple[str, str],
    address: tuple[str, str],
    room: str | None,
    building: str,
) -> Row:
    """Return a ``twin.synth_truth`` row.

    Parameters
    ----------
    run_key
        The generation run.
    kind
        ``person``, ``legal_entity`` or ``event``.
    source_id
        The record's id in its table.
    messy
        (messy address, noise kinds).
    address
        (true address code, its level).
    room, building
        The room (if any) and building the record truly is in; the grid, community, street
        and district follow from the building code.
    """
    return (
        run_key, kind, source_id, messy[0], messy[1], address[0], address[1], room, building,
        building[:14], building[:12], building[:9], building[:6],
    )  # fmt: skip


def export_truth(conn: psycopg.Connection[Any], keys: list[str], path: Path) -> int:
    """Write the truth of runs to CSV or JSON Lines (by extension), sorted; return the rows.

    Rows are streamed from the database (a server-side cursor), so a city's truth never sits
    in memory.
    """
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    n = 0
    with (
        conn.cursor(name="twin_synth_truth") as cur,
        path.open("w", encoding="utf-8", newline="") as fh,
    ):
        cur.itersize = 20_000
        cur.execute(_SELECT, (keys,))
        writer = None if jsonl else csv.writer(fh)
        if writer is not None:
            writer.writerow(TRUTH_COLUMNS)
        for row in cur:
            if writer is not None:
                writer.writerow(row)
            else:
                fh.write(json.dumps(dict(zip(TRUTH_COLUMNS, row, strict=True)), ensure_ascii=False))
                fh.write("\n")
            n += 1
    return n
