"""Apply a community's grid plan: the grids in force, buildings, addresses and placements follow.

In one transaction (the caller's), for one community:

1. The plan must match the buildings (none added or removed since the delineation) and no
   API key may be scoped to a grid the plan drops (re-scope it first).
2. Planned grids become the grids in force (``twin.admin_unit``): new codes are inserted,
   moved outlines updated.
3. Each building's ``grid_code`` becomes its planned grid. **Building codes do not change**:
   a building code is an identity held by the address library, the placements and other
   departments' records, so it keeps the grid code it was issued under as its first 14 digits
   and ``grid_code`` records where it lies now (migration 0012).
4. Addresses and placements of the community follow their building (or, outside buildings,
   their address, the grid covering their point, else the main successor of a dropped grid);
   the count triggers move the aggregates, as for any placement update.
5. Dropped grids go to ``twin.grid_retired`` with their successors (their codes are never
   issued again) and leave ``twin.admin_unit``; revoked keys scoped to one (kept for the
   audit log) are scoped to the community instead.
6. Audit: the row triggers log every grid and building change; one ``apply_grid_plan`` row
   sums up the rest (address and placement moves are batch updates).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from blocks.errors import PlacementInputError
from blocks.grids.service import sql_text

if TYPE_CHECKING:
    import psycopg


@dataclass
class ApplyReport:
    """What applying a community's plan changed."""

    community: str
    grids: int
    grids_written: int
    retired: list[str] = field(default_factory=list)
    buildings_moved: int = 0
    addresses_moved: int = 0
    placements_moved: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """One line for people."""
        return (f"{self.community}: applied {self.grids} grids ({self.grids_written} written, "
                f"{len(self.retired)} retired); moved {self.buildings_moved:,} buildings, "
                f"{self.addresses_moved:,} addresses, {self.placements_moved:,} placements "
                f"({self.seconds:.2f} s)")  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def _check(conn: psycopg.Connection[Any], community: str, retired: list[str]) -> None:
    """Refuse a stale plan or one that drops a grid an API key is scoped to."""
    stale = conn.execute(sql_text("stale_plan.sql"), {"community": community}).fetchall()
    if stale:
        listed = ", ".join(f"{code} ({why})" for code, why in stale)
        raise PlacementInputError(f"the grid plan of {community} is stale: buildings {listed}; "
                                  f"delineate again")  # fmt: skip
    keys = conn.execute(
        "SELECT key_id, scope_code FROM twin.api_key WHERE scope_code = ANY(%s) "
        "AND revoked_at IS NULL ORDER BY key_id", (retired,)).fetchall()  # fmt: skip
    if keys:
        listed = ", ".join(f"{k} (scope {s})" for k, s in keys)
        raise PlacementInputError(f"the grid plan of {community} retires grids that API keys "
                                  f"are scoped to: {listed}; re-scope them first")  # fmt: skip


def apply_plan(conn: psycopg.Connection[Any], community: str, actor: str) -> ApplyReport:
    """Make the community's stored plan the grids in force, in the caller's transaction.

    Raises
    ------
    PlacementInputError
        When the community has no plan, the plan is stale, or a key is scoped to a grid the
        plan retires.
    """
    started = time.perf_counter()
    locked = conn.execute("SELECT 1 FROM twin.admin_unit WHERE code = %s AND level = "
                          "'community' FOR UPDATE", (community,)).fetchone()  # fmt: skip
    grids = [r[0] for r in conn.execute(
        "SELECT grid_code FROM twin.grid_plan WHERE community_code = %s ORDER BY grid_code",
        (community,)).fetchall()]  # fmt: skip
    if locked is None or not grids:
        raise PlacementInputError(f"community {community} has no grid plan: run twin grids "
                                  f"delineate --community {community} first")  # fmt: skip
    gone = conn.execute(sql_text("retired_grids.sql"), {"community": community}).fetchall()
    _check(conn, community, [r[0] for r in gone])
    successors = {code: succ[0] for code, _, _, succ in gone if succ}
    params = {"community": community, "grids": grids, "successors": json.dumps(successors)}
    report = ApplyReport(community, len(grids), 0, [r[0] for r in gone])
    report.grids_written = len(conn.execute(sql_text("apply_grids.sql"), params).fetchall())
    report.buildings_moved = len(conn.execute(sql_text("apply_buildings.sql"), params).fetchall())
    # Addresses and placements move in batches: one summary audit row instead of one per row.
    conn.execute("SELECT set_config('twin.bulk', 'on', true)")
    report.addresses_moved = len(conn.execute(sql_text("apply_addresses.sql"), params).fetchall())
    report.placements_moved = len(conn.execute(sql_text("apply_placements.sql"), params).fetchall())
    conn.execute("SELECT set_config('twin.bulk', '', true)")
    for code, name, wkb, succ in gone:
        conn.execute(
            "INSERT INTO twin.grid_retired (code, community_code, name, geom, successor_codes, "
            "retired_by) VALUES (%s, %s, %s, ST_GeomFromWKB(%s, 4326), %s, %s)",
            (code, community, name, wkb, succ, actor))  # fmt: skip
        # Revoked keys are kept for the audit log: their scope moves up to the community.
        conn.execute("UPDATE twin.api_key SET scope_code = %s WHERE scope_code = %s "
                     "AND revoked_at IS NOT NULL", (community, code))  # fmt: skip
        conn.execute("DELETE FROM twin.admin_unit WHERE code = %s", (code,))
    conn.execute("UPDATE twin.grid_plan SET applied_at = now(), applied_by = %s "
                 "WHERE community_code = %s", (actor, community))  # fmt: skip
    report.seconds = round(time.perf_counter() - started, 3)
    conn.execute(
        "INSERT INTO twin.audit_log (actor, action, table_name, record_key, after, reason) "
        "VALUES (%s, 'apply_grid_plan', 'grid_plan', %s, %s, "
        "nullif(current_setting('twin.reason', true), ''))",
        (actor, community, Jsonb({**report.as_dict(), "successors": successors})),
    )
    return report
