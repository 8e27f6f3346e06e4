"""The data of a placement: what a record offers, where it was placed, and the answer per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from blocks.coding.model import RowProblem

#: Record kinds as the command line and the API name them → ``twin.placement.record_kind``.
RECORD_KINDS: dict[str, str] = {"person": "person", "company": "legal_entity", "event": "event"}
Status = Literal["placed", "review", "rejected", "invalid"]
Method = Literal["code", "geocode", "point", "manual"]
Band = Literal["accept", "review", "reject"]
#: The levels of a block path, coarse to fine (floor is an attribute of the room level).
PATH_LEVELS = ("district", "street", "community", "grid", "building", "room")


@dataclass(slots=True)
class PlaceInput:
    """One input row, checked: how it can be placed and the record's own fields.

    Personal data in ``fields`` is already masked (names, ID numbers, phones); ``address``
    has phone and ID numbers inside it masked too. ``lon``/``lat`` are WGS84.
    """

    row: int
    source_id: str | None
    code: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    facets: list[str] = field(default_factory=list)
    #: Problems that keep the row out of the store (an invalid ID number, no id).
    errors: list[RowProblem] = field(default_factory=list)
    #: Problems that do not (a malformed code: the address is used instead).
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """Whether the row can be stored."""
        return not self.errors

    def input_json(self) -> dict[str, Any]:
        """Return what re-placement needs: the code, the (masked) address, the WGS84 point."""
        out: dict[str, Any] = {}
        for key in ("code", "address", "lon", "lat"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class BlockPath:
    """Where a record sits: block codes as deep as known, the floor and the address code."""

    district: str | None = None
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    building: str | None = None
    floor_no: int | None = None
    room: str | None = None
    address_code: str | None = None

    @classmethod
    def of_code(cls, code: str, floor_no: int | None = None) -> BlockPath:
        """Return the path of a block code (6, 9, 12, 14, 19 or 25 digits): its prefixes.

        Examples
        --------
        >>> p = BlockPath.of_code("4403060170010100001")
        >>> p.community, p.grid, p.room
        ('440306017001', '44030601700101', None)
        """
        cuts = {"district": 6, "street": 9, "community": 12, "grid": 14, "building": 19, "room": 25}
        parts = {k: code[:n] for k, n in cuts.items() if len(code) >= n}
        return cls(**parts, floor_no=floor_no)

    @property
    def deepest(self) -> str | None:
        """The finest block code known."""
        for level in reversed(PATH_LEVELS):
            code: str | None = getattr(self, level)
            if code is not None:
                return code
        return None

    def codes(self) -> dict[str, str | None]:
        """``{level: code}`` for every level, ``None`` where unknown."""
        return {level: getattr(self, level) for level in PATH_LEVELS}


@dataclass(frozen=True, slots=True)
class Located:
    """How one record is placed: its path, the method, the confidence and band, and why."""

    path: BlockPath
    method: Method
    confidence: float
    band: Band
    reason: str | None = None


#: Located of a record nothing could place.
NOWHERE = Located(BlockPath(), "geocode", 0.0, "reject", "nothing to place it by")


@dataclass
class PlaceResult:
    """The answer for one input row."""

    row: int
    source_id: str | None
    status: Status
    method: str | None = None
    confidence: float | None = None
    band: str | None = None
    path: BlockPath = field(default_factory=BlockPath)
    reason: str | None = None
    record_id: int | None = None
    placement_id: int | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields; the path flattened to ``<level>_code``, problems as text."""
        out: dict[str, Any] = {
            "row": self.row,
            "id": self.source_id,
            "status": self.status,
            "method": self.method,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "band": self.band,
        }
        out |= {f"{level}_code": code for level, code in self.path.codes().items()}
        out |= {"floor_no": self.path.floor_no, "address_code": self.path.address_code}
        out |= {"reason": self.reason, "placement_id": self.placement_id}
        out["problems"] = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        return out


#: The columns of a placement report, in order (:meth:`PlaceResult.as_dict`).
REPORT_COLUMNS = (
    "row", "id", "status", "method", "confidence", "band",
    *(f"{level}_code" for level in PATH_LEVELS),
    "floor_no", "address_code", "reason", "placement_id", "problems",
)  # fmt: skip
