"""Buildings as columns: the input of the city model (from the database, CityJSON or any rows)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from models3d.errors import GeometryError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from numpy.typing import NDArray

#: Storey height (m) assumed when a building has floors but no height.
STOREY_M = 3.0
#: The tallest building we accept (m): anything taller is a unit or data error.
MAX_HEIGHT_M = 1000.0
_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Building:
    """One building of the city model.

    Parameters
    ----------
    code
        Its identifier: the 19-digit building code, or a source id (CityJSON).
    footprint
        Polygon or multipolygon, WGS84 longitude/latitude.
    height_m
        Height above the base; ``None`` means ``floors × STOREY_M``.
    floors
        Storeys above ground.
    use
        Its use (residential, commercial...).
    attrs
        Extra properties (aggregates such as ``people``): numbers or strings.
    base_m
        Ellipsoidal height of the ground under it.
    """

    code: str
    footprint: Any
    height_m: float | None
    floors: int | None = None
    use: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)
    base_m: float = 0.0


@dataclass
class BuildingTable:
    """Buildings as parallel arrays (what the tiler works on)."""

    codes: NDArray[np.str_]
    footprints: NDArray[np.object_]
    height_m: NDArray[np.float64]
    floors: NDArray[np.int32]
    uses: NDArray[np.str_]
    base_m: NDArray[np.float64]
    extra: dict[str, NDArray[Any]] = field(default_factory=dict)
    #: Per building, ``None`` (extrude the footprint) or its own triangles: a ``(t, 3, 3)``
    #: array of longitude, latitude (degrees) and ellipsoidal height (m) per corner.
    meshes: NDArray[np.object_] | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, rows: NDArray[np.int64]) -> BuildingTable:
        """Return the buildings at ``rows``, in that order."""
        return BuildingTable(
            self.codes[rows],
            self.footprints[rows],
            self.height_m[rows],
            self.floors[rows],
            self.uses[rows],
            self.base_m[rows],
            {k: v[rows] for k, v in self.extra.items()},
            None if self.meshes is None else self.meshes[rows],
        )


def _height(b: Building) -> float:
    if b.height_m is not None and math.isfinite(b.height_m):
        return float(b.height_m)
    if b.floors:
        return b.floors * STOREY_M
    raise GeometryError(f"building {b.code} has neither a height nor floors")


def _extra_columns(rows: list[Building]) -> dict[str, NDArray[Any]]:
    names = sorted({k for b in rows for k in b.attrs})
    out: dict[str, NDArray[Any]] = {}
    for name in names:
        values = [b.attrs.get(name) for b in rows]
        key = _NAME.sub("_", name)
        present = [v for v in values if v is not None]
        if all(isinstance(v, bool | int) for v in present):
            out[key] = np.array([int(v) if v is not None else 0 for v in values], dtype=np.int64)
        elif all(isinstance(v, int | float) for v in present):
            out[key] = np.array([float(v) if v is not None else np.nan for v in values])
        else:
            out[key] = np.array(["" if v is None else str(v) for v in values], dtype=str)
    return out


def table_from_buildings(buildings: Iterable[Building]) -> BuildingTable:
    """Check buildings and put them in columns.

    Raises
    ------
    GeometryError
        On an empty footprint, a height that is not positive or above :data:`MAX_HEIGHT_M`.
    """
    rows = list(buildings)
    heights = np.array([_height(b) for b in rows], dtype=np.float64)
    footprints = np.empty(len(rows), dtype=object)
    footprints[:] = [b.footprint for b in rows]
    table = BuildingTable(
        codes=np.array([b.code for b in rows], dtype=str),
        footprints=footprints,
        height_m=heights,
        floors=np.array([b.floors or 0 for b in rows], dtype=np.int32),
        uses=np.array([b.use or "" for b in rows], dtype=str),
        base_m=np.array([b.base_m for b in rows], dtype=np.float64),
        extra=_extra_columns(rows),
    )
    check_table(table)
    return table


def check_table(table: BuildingTable) -> None:
    """Refuse absurd heights and empty or non-polygonal footprints, naming the building.

    Raises
    ------
    GeometryError
        On the first bad building.
    """
    bad_height = ~((table.height_m > 0) & (table.height_m <= MAX_HEIGHT_M))
    if bad_height.any():
        i = int(np.flatnonzero(bad_height)[0])
        raise GeometryError(
            f"building {table.codes[i]} is {table.height_m[i]} m tall: heights must be above 0 "
            f"and at most {MAX_HEIGHT_M:.0f} m (is it in feet or centimetres?)"
        )
    fp = table.footprints
    bad = shapely.is_missing(fp) | shapely.is_empty(fp) | ~np.isin(shapely.get_type_id(fp), (3, 6))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeometryError(f"building {table.codes[i]} has an empty or non-polygonal footprint")


def concat_tables(first: BuildingTable, second: BuildingTable) -> BuildingTable:
    """Both tables' buildings in one (extra columns missing on one side are 0 or empty)."""
    extra: dict[str, NDArray[Any]] = {}
    for name in sorted(set(first.extra) | set(second.extra)):
        parts = []
        for table in (first, second):
            values = table.extra.get(name)
            if values is None:
                other = (second if table is first else first).extra[name]
                fill: Any = "" if other.dtype.kind in "US" else 0
                values = np.full(len(table), fill, dtype=other.dtype)
            parts.append(values)
        extra[name] = np.concatenate(parts)
    meshes = None
    if first.meshes is not None or second.meshes is not None:
        meshes = np.empty(len(first) + len(second), dtype=object)
        meshes[: len(first)] = first.meshes if first.meshes is not None else None
        meshes[len(first) :] = second.meshes if second.meshes is not None else None
    return BuildingTable(
        np.concatenate([first.codes, second.codes]),
        np.concatenate([first.footprints, second.footprints]),
        np.concatenate([first.height_m, second.height_m]),
        np.concatenate([first.floors, second.floors]),
        np.concatenate([first.uses, second.uses]),
        np.concatenate([first.base_m, second.base_m]),
        extra,
        meshes,
    )
