"""Changes to the address library: create (code assigned), change, alias, retire.

Every change names its actor (and optionally a reason); the database keeps the old version in
``twin.address_history`` and an entry in ``twin.audit_log``. The caller commits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from geocode.errors import AddressInputError, VersionConflictError
from geocode.library.repository import (
    ALIAS_KINDS,
    STATUSES,
    Address,
    get_address,
)
from twin.address_codes import LEVELS, floor_address_code
from twin.crs import is_in_china

if TYPE_CHECKING:
    import psycopg

#: Levels whose codes are serials under a prefix: (parent level, separator, serial width).
_SERIAL_LEVELS = {
    "road": ("district", "R", 5),
    "door": ("community", "D", 5),
    "compound": ("door", "C", 4),
    "unit": ("building", "U", 2),
}
#: Levels whose code is an existing unit's code (admin unit, building or room).
_UNIT_LEVELS = {
    "district": "admin_unit",
    "street": "admin_unit",
    "community": "admin_unit",
    "building": "building",
    "room": "room",
}


def _conflict(code: str, current: int, expected: int) -> VersionConflictError:
    return VersionConflictError(
        f"address {code} is at version {current}, not {expected}: "
        "reload it and apply the change again"
    )


def expect_version(conn: psycopg.Connection[Any], code: str, version: int) -> Address:
    """Return the address if it is still at ``version``; raise VersionConflictError if not."""
    current = get_address(conn, code)
    if current.version != version:
        raise _conflict(code, current.version, version)
    return current


def _who(conn: psycopg.Connection[Any], actor: str, reason: str | None) -> None:
    conn.execute(
        "SELECT set_config('twin.actor', %s, true), set_config('twin.reason', %s, true)",
        (actor, reason or ""),
    )


def next_serial(conn: psycopg.Connection[Any], prefix: str, width: int) -> int:
    """Hand out the next serial under ``prefix``; serials only grow, so codes are never reused.

    The first call for a prefix starts after the highest serial already used under it (codes
    made by an import or the generator). The counter row is locked until commit, so two
    concurrent batches never get one serial.
    """
    low, high = prefix + "0" * width, prefix + "9" * width
    row = conn.execute(
        "INSERT INTO twin.code_counter AS c (prefix, last) VALUES (%(p)s, coalesce(("
        "SELECT max(right(code, %(w)s)::bigint) FROM twin.address WHERE code BETWEEN %(lo)s "
        "AND %(hi)s AND length(code) = %(n)s), 0) + 1) "
        "ON CONFLICT (prefix) DO UPDATE SET last = c.last + 1 RETURNING last",
        {"p": prefix, "w": width, "lo": low, "hi": high, "n": len(low)},
    ).fetchone()
    assert row is not None
    if row[0] >= 10**width:
        raise AddressInputError(f"no serials left under {prefix}")
    return int(row[0])


def _community_at(conn: psycopg.Connection[Any], lon: float, lat: float) -> str:
    row = conn.execute(
        "SELECT code FROM twin.admin_unit WHERE level = 'community' AND "
        "ST_Intersects(geom, ST_Point(%s, %s, 4326)) ORDER BY code LIMIT 1",
        (lon, lat),
    ).fetchone()
    if row is None:
        raise AddressInputError(f"the point ({lon}, {lat}) lies in no community")
    return str(row[0])


def _new_code(
    conn: psycopg.Connection[Any],
    level: str,
    parent: Address | None,
    unit_code: str | None,
    lon: float | None,
    lat: float | None,
    elements: dict[str, Any],
) -> str:
    if level in _UNIT_LEVELS:
        table = _UNIT_LEVELS[level]
        if (
            not unit_code
            or conn.execute(f"SELECT 1 FROM twin.{table} WHERE code = %s", (unit_code,)).fetchone()
            is None
        ):
            raise AddressInputError(
                f"a {level} address takes the code of an existing "
                f"{level} (unit_code); {unit_code!r} is none"
            )
        return unit_code
    if level == "floor":
        if parent is None or parent.level != "building" or "floor" not in elements:
            raise AddressInputError("a floor address needs a building parent and elements.floor")
        return floor_address_code(parent.code, int(elements["floor"]))
    want, sep, width = _SERIAL_LEVELS[level]
    if level == "door":
        if lon is None or lat is None:
            raise AddressInputError(
                "a door address needs a location (lon, lat) to find its community"
            )
        base = _community_at(conn, lon, lat)
    elif parent is None or parent.level != want:
        raise AddressInputError(f"a {level} address needs a {want} address as parent")
    else:
        base = parent.code if level != "compound" else parent.code[:12]
    prefix = base + sep
    return f"{prefix}{next_serial(conn, prefix, width):0{width}d}"


def _block_path(code: str) -> dict[str, str | None]:
    # The codes' prefixes; the insert takes a building's grid from the building, since a
    # re-delineation may have moved it (building codes keep the grid they were issued under).
    match = re.match(r"\d+", code)
    digits = match.group() if match else ""
    path: dict[str, str | None] = {}
    for name, n in (
        ("district_code", 6),
        ("street_code", 9),
        ("community_code", 12),
        ("grid_code", 14),
        ("building_code", 19),
        ("room_code", 25),
    ):
        path[name] = digits[:n] if len(digits) >= n else None
    return path


def create_address(
    conn: psycopg.Connection[Any],
    *,
    level: str,
    text: str,
    actor: str,
    parent_code: str | None = None,
    unit_code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    elements: dict[str, Any] | None = None,
    status: str = "collected",
    reason: str | None = None,
) -> Address:
    """Create a standard address; the system assigns its code. Return it.

    Raises
    ------
    AddressInputError
        For an unknown level or status, an empty text, a location outside China, a missing or
        wrong parent, or a unit code that names nothing.
    """
    elements = dict(elements or {})
    if level not in LEVELS:
        raise AddressInputError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
    if status not in STATUSES or status == "retired":
        raise AddressInputError(f"a new address cannot have status {status!r}")
    text = "".join(text.split())
    if not text:
        raise AddressInputError("the standard text is empty")
    if (lon is None) != (lat is None) or (
        lon is not None and lat is not None and not is_in_china(lon, lat)
    ):
        raise AddressInputError(f"location ({lon}, {lat}) is incomplete or outside China")
    parent = get_address(conn, parent_code) if parent_code else None
    if parent is not None and parent.status == "retired":
        raise AddressInputError(f"parent {parent_code} is retired")
    _who(conn, actor, reason)
    code = _new_code(conn, level, parent, unit_code, lon, lat, elements)
    conn.execute(
        "INSERT INTO twin.address (code, level, text, parent_code, district_code, street_code, "
        "community_code, grid_code, building_code, room_code, floor_no, elements, geom, status, "
        "created_by) VALUES (%(code)s, %(level)s, %(text)s, %(parent)s, %(district_code)s, "
        "%(street_code)s, %(community_code)s, coalesce((SELECT grid_code FROM twin.building "
        "WHERE code = %(building_code)s), %(grid_code)s), %(building_code)s, %(room_code)s, "
        "%(floor)s, %(elements)s, CASE WHEN %(lon)s::float8 IS NULL THEN NULL ELSE "
        "ST_Point(%(lon)s, %(lat)s, 4326) END, %(status)s, %(actor)s)",
        {
            "code": code,
            "level": level,
            "text": text,
            "parent": parent_code,
            **_block_path(code),
            "floor": elements.get("floor"),
            "elements": Jsonb(elements),
            "lon": lon,
            "lat": lat,
            "status": status,
            "actor": actor,
        },
    )
    return get_address(conn, code)


def change_address(
    conn: psycopg.Connection[Any],
    code: str,
    expected_version: int,
    *,
    actor: str,
    text: str | None = None,
    status: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    reason: str | None = None,
) -> Address:
    """Change an address's text, status or location, if nobody changed it since ``version``.

    Raises
    ------
    VersionConflictError
        When the address is at another version than ``expected_version``.
    """
    current = get_address(conn, code)
    if status is not None and (status not in STATUSES or status == "retired"):
        raise AddressInputError(f"status {status!r} cannot be set by a change; retire instead")
    if current.status == "retired":
        raise AddressInputError(f"address {code} is retired; change its successors instead")
    if lon is not None and lat is not None and not is_in_china(lon, lat):
        raise AddressInputError(f"location ({lon}, {lat}) is outside China")
    _who(conn, actor, reason)
    row = conn.execute(
        "UPDATE twin.address SET text = coalesce(%(text)s, text), "
        "status = coalesce(%(status)s, status), geom = CASE WHEN %(lon)s::float8 IS NULL "
        "THEN geom ELSE ST_Point(%(lon)s, %(lat)s, 4326) END "
        "WHERE code = %(code)s AND version = %(version)s RETURNING version",
        {
            "text": "".join(text.split()) if text else None,
            "status": status,
            "lon": lon,
            "lat": lat,
            "code": code,
            "version": expected_version,
        },
    ).fetchone()
    if row is None:
        raise _conflict(code, current.version, expected_version)
    return get_address(conn, code)


def add_alias(
    conn: psycopg.Connection[Any],
    code: str,
    text: str,
    *,
    actor: str,
    kind: str = "variant",
    source: str | None = None,
) -> bool:
    """Give an address one more name; return False when it had that alias already."""
    if kind not in ALIAS_KINDS:
        raise AddressInputError(f"unknown alias kind {kind!r}; kinds: {', '.join(ALIAS_KINDS)}")
    text = "".join(text.split())
    if not text:
        raise AddressInputError("the alias is empty")
    if get_address(conn, code).status == "retired":
        raise AddressInputError(f"address {code} is retired: add the alias to a successor")
    _who(conn, actor, None)
    row = conn.execute(
        "INSERT INTO twin.address_alias (address_code, text, kind, source, created_by) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (address_code, text) DO NOTHING RETURNING id",
        (code, text, kind, source, actor),
    ).fetchone()
    return row is not None


def retire_address(
    conn: psycopg.Connection[Any],
    code: str,
    successors: list[str],
    *,
    actor: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Address:
    """Retire an address (merged, split or demolished), pointing to its successors."""
    current = get_address(conn, code)
    if current.status == "retired":
        raise AddressInputError(f"address {code} is retired already")
    for succ in successors:
        if succ == code:
            raise AddressInputError("an address cannot succeed itself")
        if get_address(conn, succ).status == "retired":
            raise AddressInputError(f"successor {succ} is retired itself")
    version = current.version if expected_version is None else expected_version
    _who(conn, actor, reason)
    row = conn.execute(
        "UPDATE twin.address SET status = 'retired', successor_codes = %s, "
        "valid_to = clock_timestamp() WHERE code = %s AND version = %s RETURNING code",
        (successors, code, version),
    ).fetchone()
    if row is None:
        raise _conflict(code, current.version, version)
    return get_address(conn, code)
