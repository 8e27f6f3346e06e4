"""The address library in PostGIS: read (as of any date), search, create, change, retire, alias.

Functions take an open connection and never commit: the caller owns the transaction. Codes are
assigned here, never typed: the serial under a prefix comes from ``twin.code_counter``, which
only grows, so no code is ever reused. Changes carry the version the caller read; a row that
changed meanwhile raises :class:`~geocode.errors.VersionConflictError` instead of being
silently overwritten.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from geocode.errors import AddressNotFoundError

if TYPE_CHECKING:
    import datetime as dt

    import psycopg

STATUSES = ("collected", "verified", "coded", "placed", "published", "retired")
ALIAS_KINDS = ("old_name", "agency", "nickname", "abbreviation", "variant", "correction")
_COLUMNS = (
    "code, version, level, text, parent_code, status, successor_codes, elements, "
    "ST_X(geom) AS lon, ST_Y(geom) AS lat, valid_from, valid_to"
)


@cache
def _sql(name: str) -> str:
    return resources.files("geocode.library").joinpath("sql", name).read_text(encoding="utf-8")


@dataclass
class Address:
    """One version of a standard address."""

    code: str
    version: int
    level: str
    text: str
    parent_code: str | None
    status: str
    successor_codes: list[str]
    elements: dict[str, Any]
    lon: float | None
    lat: float | None
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    aliases: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (times in ISO 8601)."""
        out = asdict(self)
        out["valid_from"] = self.valid_from.isoformat()
        out["valid_to"] = self.valid_to.isoformat() if self.valid_to else None
        return out


def _row(row: tuple[Any, ...]) -> Address:
    code, version, level, text, parent, status, successors, elements, lon, lat, start, end = row
    return Address(
        code,
        version,
        level,
        text,
        parent,
        status,
        list(successors or []),
        dict(elements or {}),
        lon,
        lat,
        start,
        end,
    )


def _aliases(conn: psycopg.Connection[Any], code: str) -> list[str]:
    rows = conn.execute(
        "SELECT text FROM twin.address_alias WHERE address_code = %s ORDER BY id", (code,)
    ).fetchall()
    return [r[0] for r in rows]


def get_address(
    conn: psycopg.Connection[Any], code: str, as_of: dt.datetime | None = None
) -> Address:
    """Return an address (its version valid ``as_of`` a moment, default now).

    A retired address is returned as such, with its successors: old codes always resolve.

    Raises
    ------
    AddressNotFoundError
        When no address has this code, or it did not exist yet at ``as_of``.
    """
    if as_of is None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM twin.address WHERE code = %s", (code,)
        ).fetchone()
    else:
        row = conn.execute(_sql("as_of.sql"), {"code": code, "at": as_of}).fetchone()
    if row is None:
        when = f" on {as_of.isoformat()}" if as_of else ""
        raise AddressNotFoundError(f"no standard address has code {code}{when}")
    address = _row(row)
    address.aliases = _aliases(conn, code)
    return address


def resolve_current(conn: psycopg.Connection[Any], code: str) -> list[Address]:
    """Follow a retired address to its live successors (several after a split)."""
    seen: set[str] = set()
    out: list[Address] = []
    todo = [code]
    while todo:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        address = get_address(conn, current)
        if address.status == "retired" and address.successor_codes:
            todo.extend(address.successor_codes)
        else:
            out.append(address)
    return out


def find_addresses(
    conn: psycopg.Connection[Any],
    *,
    level: str | None = None,
    parent_code: str | None = None,
    status: str | None = None,
    text: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Address]:
    """Search addresses by level, parent, status and text (substring of text or an alias)."""
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    for name, value in (("level", level), ("parent_code", parent_code), ("status", status)):
        if value is not None:
            where.append(f"{name} = %({name})s")
            params[name] = value
    if text:
        where.append(
            "(text LIKE %(like)s OR code IN (SELECT address_code FROM "
            "twin.address_alias WHERE text LIKE %(like)s))"
        )
        params["like"] = (
            "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM twin.address WHERE {' AND '.join(where)} "
        "ORDER BY code LIMIT %(limit)s OFFSET %(offset)s",
        params,
    ).fetchall()
    return [_row(r) for r in rows]


def resolve_alias(conn: psycopg.Connection[Any], text: str) -> str | None:
    """Return the code whose standard text or alias is exactly ``text`` (ignoring spaces)."""
    key = "".join(text.split())
    row = conn.execute(
        "SELECT code FROM twin.address WHERE text = %(t)s AND status <> 'retired' "
        "UNION ALL SELECT address_code FROM twin.address_alias WHERE text = %(t)s LIMIT 1",
        {"t": key},
    ).fetchone()
    return str(row[0]) if row else None
