"""The plain data of entity coding: input items, options, per-row results, entities, links.

Code forms (see docs/entity-coding.md):

- ``admin``: community code (12 digits) + class code (4) + serial (6), 22 digits, e.g.
  ``4403110010013101000001``;
- ``beidou``: Beidou grid location code at level 7 (14 characters, a 1/4″ cell, about 7 m)
  + class code (4) + serial (4), 22 characters, e.g. ``N49FB53B51C20431010001``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import datetime as dt

    from shapely.geometry.base import BaseGeometry

CodeForm = Literal["admin", "beidou"]
FORMS: tuple[CodeForm, ...] = ("admin", "beidou")
#: Digits of the serial per form: up to 999,999 entities of one class in one community, and
#: 9,999 of one class in one 7 m Beidou cell.
SERIAL_WIDTH: dict[CodeForm, int] = {"admin": 6, "beidou": 4}
#: The Beidou level in entity codes: 1/4″ cells, the level GB/T 39409 annex A pairs with the
#: 1:5,000 and 1:10,000 sheets on which buildings are surveyed.
BEIDOU_ENTITY_LEVEL = 7
#: Re-coding without source ids: a point within this distance of a coded one of the same class
#: is that entity...
POINT_TOLERANCE_M = 1.0
#: ...and a line or polygon within this Hausdorff distance of one.
SHAPE_TOLERANCE_M = 2.0
#: Batches of this many rows or more write one summary row to the audit log, not one per row.
BULK_AUDIT_ROWS = 1000
#: What can happen to a row.
Status = Literal["new", "existing", "updated", "recoded", "rejected"]
#: Record kinds an entity can be linked to.
LINK_KINDS = ("person", "legal_entity", "event", "address")


@dataclass(frozen=True)
class EntityItem:
    """One entity to code: a geometry in WGS84 (lon, lat) and what is known about it.

    ``row`` is the row number to report back (as the user counts rows of the input);
    ``class_code`` overrides the batch's class; ``problem`` carries a reader's complaint
    (an unreadable geometry) to report for the row.
    """

    row: int
    geometry: BaseGeometry | None
    source_id: str | None = None
    class_code: str | None = None
    name: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class BatchOptions:
    """How to code one batch."""

    form: CodeForm = "admin"
    source: str = "import"
    actor: str = "system"
    point_tolerance_m: float = POINT_TOLERANCE_M
    shape_tolerance_m: float = SHAPE_TOLERANCE_M
    bulk_audit_rows: int = BULK_AUDIT_ROWS

    @property
    def serial_width(self) -> int:
        """Digits of the serial in this form."""
        return SERIAL_WIDTH[self.form]


@dataclass(frozen=True)
class RowProblem:
    """Why a row was not coded: the field at fault and one sentence."""

    field: str
    message: str


@dataclass(slots=True)
class StagedRow:
    """A checked row, ready for the database: geometry as hex EWKB, its Beidou codes."""

    row: int
    source_id: str | None
    class_code: str
    name: str | None
    ewkb_hex: str
    beidou_code: str
    beidou_cell: str
    rep_lat: float


@dataclass(frozen=True)
class StoredOutcome:
    """What the database did with a staged row."""

    row: int
    status: Status
    code: str | None
    previous_code: str | None
    community_code: str | None
    problem: RowProblem | None = None


@dataclass
class CodingResult:
    """The answer for one input row."""

    row: int
    status: Status
    code: str | None = None
    previous_code: str | None = None
    community_code: str | None = None
    class_code: str | None = None
    source_id: str | None = None
    beidou_code: str | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields; problems as ``field: message`` strings joined by ``; ``."""
        out = asdict(self)
        out["problems"] = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        return out


@dataclass(frozen=True)
class EntityLink:
    """A link from an entity to a person, legal entity, event (by id) or address (by code)."""

    id: int
    entity_code: str
    record_kind: str
    record_id: int | None
    address_code: str | None
    relation: str
    created_by: str
    created_at: dt.datetime


@dataclass
class Entity:
    """A coded geographic entity as stored."""

    code: str
    class_code: str
    community_code: str | None
    name: str | None
    source: str | None
    source_id: str | None
    status: str
    successor_codes: list[str]
    beidou_code: str | None
    wkt: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
    links: list[EntityLink] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (times in ISO 8601)."""
        out = asdict(self)
        for key in ("created_at", "retired_at"):
            out[key] = out[key].isoformat() if out[key] else None
        for link in out["links"]:
            link["created_at"] = link["created_at"].isoformat()
        return out
