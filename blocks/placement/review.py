"""The review queue: placements of band review or reject, per community and grid.

A reviewer confirms a placement (it becomes ``accept``) or corrects it with the code of the
right address, room or building (method ``manual``, confidence 1). A correction of a record
placed by its address also teaches the geocoder: the record's address text becomes an alias
(kind ``correction``) of the chosen address, so the same text matches it next time. A key
with a scope sees and changes only placements inside it, and corrects only to codes inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from blocks.errors import PlacementInputError, PlacementNotFoundError, ReviewError
from blocks.placement.model import BlockPath
from blocks.placement.repository import PgPlacementRepository, sql_text
from geocode.library.writes import add_alias
from twin.privacy import mask_name

if TYPE_CHECKING:
    import psycopg

    from twin.keys import Principal

#: Placements one page of the queue holds at most.
MAX_PAGE = 500


def _scope_filter(principal: Principal) -> str:
    return principal.scope_code or ""


@dataclass(frozen=True)
class ReviewPage:
    """One page of the review queue: its placements and the queue's length under the filters."""

    items: list[dict[str, Any]]
    total: int


def review_queue(
    conn: psycopg.Connection[Any],
    principal: Principal,
    *,
    community: str | None = None,
    grid: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ReviewPage:
    """Return a page of pending placements, oldest first, inside the key's scope and filters.

    ``total`` counts every pending placement under the same scope and filters, so a client can
    page with ``offset`` (``offset + len(items) < total``: there is a next page).

    Raises
    ------
    twin.keys.ForbiddenError
        When the community or grid asked for lies outside the key's scope.
    """
    for code in (community, grid):
        if code is not None and not principal.covers(code) and not _covers_scope(principal, code):
            principal.check_scope(code)
    page = min(limit, MAX_PAGE)
    params = {"id": None, "scope": _scope_filter(principal), "community": community,
              "grid": grid, "kind": kind, "limit": page, "offset": offset}  # fmt: skip
    rows = conn.execute(sql_text("review_queue.sql"), params).fetchall()
    if offset == 0 and len(rows) < page:
        total = len(rows)  # the whole queue is on this page: no need to count it
    else:
        found = conn.execute(sql_text("review_count.sql"), params).fetchone()
        total = int(found[0]) if found else 0
    return ReviewPage([_item(r) for r in rows], total)


def _covers_scope(principal: Principal, code: str) -> bool:
    """Return whether the key's scope lies inside ``code`` (the queue is cut to the scope)."""
    return principal.scope_code is not None and principal.scope_code.startswith(code)


_ITEM_COLUMNS = (
    "id", "record_kind", "source", "source_id", "name", "district_code", "street_code",
    "community_code", "grid_code", "building_code", "floor_no", "room_code", "address_code",
    "standard_address", "method", "confidence", "band", "input", "warnings", "placed_at",
    "placed_by", "review_status",
)  # fmt: skip


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(_ITEM_COLUMNS, row, strict=True))
    if item["record_kind"] == "person":
        item["name"] = mask_name(item["name"])  # stored masked already; masking is idempotent
    item["confidence"] = round(float(item["confidence"]), 3)
    item["placed_at"] = item["placed_at"].isoformat()
    return item


def get_placement(conn: psycopg.Connection[Any], placement_id: int) -> dict[str, Any]:
    """Return one placement as the queue shows it (any review status)."""
    params = {"id": placement_id, "scope": "", "community": None, "grid": None, "kind": None,
              "limit": 1, "offset": 0}  # fmt: skip
    row = conn.execute(sql_text("review_queue.sql"), params).fetchone()
    if row is None:
        raise PlacementNotFoundError(f"no placement has id {placement_id}")
    return _item(row)


@dataclass(frozen=True)
class ReviewOutcome:
    """What a review did: the placement after it, and whether an alias was learnt."""

    placement: dict[str, Any]
    alias: tuple[str, str] | None = None


def _in_scope(principal: Principal, item: dict[str, Any]) -> None:
    codes = [item[f"{level}_code"] for level in ("grid", "community", "building", "room")]
    if principal.scope_code is not None:
        principal.check_scope(*codes)


def review(
    conn: psycopg.Connection[Any],
    principal: Principal,
    placement_id: int,
    action: Literal["confirm", "correct"],
    code: str | None = None,
) -> ReviewOutcome:
    """Confirm or correct a placement in the caller's transaction.

    Raises
    ------
    PlacementNotFoundError
        For an unknown placement id.
    ReviewError
        When the placement was reviewed already, or a confirmation has nothing to confirm.
    PlacementInputError
        When a correction's code names no current address, room, building or unit.
    twin.keys.ForbiddenError
        When the placement or the corrected code lies outside the key's scope.
    """
    item = get_placement(conn, placement_id)
    _in_scope(principal, item)
    if item["review_status"] != "pending":
        raise ReviewError(f"placement {placement_id} is {item['review_status'] or 'accepted'}, "
                          "not waiting for review")  # fmt: skip
    if action == "confirm":
        if item["community_code"] is None:
            raise ReviewError(f"placement {placement_id} has no block to confirm: correct it")
        _apply(conn, placement_id, "confirmed", principal.actor, None)
        return ReviewOutcome(get_placement(conn, placement_id))
    if not code:
        raise PlacementInputError(
            "a correction needs the code of the right address, room or building"
        )
    found = PgPlacementRepository(conn).paths([code.strip().upper()]).get(code.strip().upper())
    if found is None or found.status == "retired":
        raise PlacementInputError(f"code {code} names no current address, room, building or unit")
    if principal.scope_code is not None:
        principal.check_scope(found.path.grid, found.path.community, found.path.building)
    _apply(conn, placement_id, "corrected", principal.actor, found.path)
    alias = None
    text = (item["input"] or {}).get("address")
    if text and found.path.address_code is not None:
        add_alias(conn, found.path.address_code, text, actor=principal.actor, kind="correction",
                  source="placement review")  # fmt: skip
        alias = (found.path.address_code, "".join(text.split()))
    return ReviewOutcome(get_placement(conn, placement_id), alias)


def _apply(
    conn: psycopg.Connection[Any],
    placement_id: int,
    status: str,
    actor: str,
    path: BlockPath | None,
) -> None:
    p = path or BlockPath()
    conn.execute(
        sql_text("review_apply.sql"),
        {"id": placement_id, "status": status, "actor": actor, "moved": path is not None,
         "district": p.district, "street": p.street, "community": p.community, "grid": p.grid,
         "building": p.building, "floor_no": p.floor_no, "room": p.room,
         "address_code": p.address_code},
    )  # fmt: skip
