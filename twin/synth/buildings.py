"""Buildings (楼栋) of a parcel: footprints, floors, heights, units (单元) and rooms.

Footprints sit on a lattice aligned with the roads, inset from their parcel, so a building
never leaves its parcel (and so its grid). Floors and heights follow Shenzhen's stock: urban
villages of 4-8 floors in 10-13 m houses 2 m apart (握手楼), residential towers of 25-50
floors or mid-rise blocks of 7-18, factories of 2-6, office towers of 15-40; height is
floors × 2.9-3.3 m. Rooms are numbered floor × 100 + n (1203), per unit in towers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import shapely

from twin.codes import building_code

if TYPE_CHECKING:
    from shapely import Polygon
    from shapely.geometry.base import BaseGeometry

Range = tuple[int, int]


@dataclass(frozen=True)
class KindSpec:
    """How one kind of parcel is built.

    Attributes
    ----------
    weight
        Relative chance that a parcel is of this kind.
    width_m, depth_m
        Footprint size ranges (along and across the road direction).
    gap_m
        Space between buildings.
    cap
        At most this many buildings per parcel.
    floors, tall_floors, tall_share
        Floors above ground; a ``tall_share`` of buildings take ``tall_floors`` instead.
    units, rooms
        Units (单元) per building and rooms per unit and floor.
    """

    weight: float
    width_m: tuple[float, float]
    depth_m: tuple[float, float]
    gap_m: float
    cap: int
    floors: Range
    tall_floors: Range
    tall_share: float
    units: Range
    rooms: Range
    use: str
    basements: Range
    years: Range
    lettered_share: float = 0.0


#: The kinds of parcel, weighted so that buildings are about 55 % urban-village houses,
#: 20 % factories, 13 % shops, 5 % residential compound blocks (a third of them towers) and
#: the rest offices, schools and clinics.
KINDS: dict[str, KindSpec] = {
    "village": KindSpec(
        0.14, (10, 12), (11, 13), 2, 24, (4, 8), (4, 8), 0, (1, 1), (2, 3),
        "residential", (0, 0), (1985, 2010),
    ),
    "residential": KindSpec(
        0.16, (24, 30), (20, 26), 25, 8, (7, 18), (25, 50), 0.3, (1, 2), (2, 3),
        "residential", (1, 3), (1995, 2023), 0.3,
    ),
    "industrial": KindSpec(
        0.32, (40, 70), (20, 30), 14, 6, (2, 6), (2, 6), 0, (1, 1), (1, 2),
        "industrial", (0, 0), (1988, 2015),
    ),
    "office": KindSpec(
        0.04, (35, 45), (30, 40), 25, 2, (15, 40), (15, 40), 0, (1, 1), (3, 6),
        "commercial", (2, 4), (2000, 2023), 0.7,
    ),
    "shops": KindSpec(
        0.12, (25, 40), (12, 16), 8, 8, (1, 4), (1, 4), 0, (1, 1), (2, 4),
        "commercial", (0, 0), (1990, 2020),
    ),
    "school": KindSpec(
        0.07, (40, 60), (16, 20), 18, 4, (3, 6), (3, 6), 0, (1, 1), (4, 8),
        "public", (0, 1), (1990, 2020),
    ),
    "clinic": KindSpec(
        0.05, (30, 40), (20, 25), 15, 2, (2, 6), (2, 6), 0, (1, 1), (3, 6),
        "public", (0, 1), (1995, 2020),
    ),
}  # fmt: skip
_LETTERS = "ABCDEFGHJK"


@dataclass
class Building:
    """A generated building (metric footprint)."""

    code: str
    grid: str
    label: str
    footprint: Polygon
    floors: int
    basements: int
    height_m: float
    use: str
    units: int
    rooms_per_floor: int
    built_year: int
    compound: int

    @property
    def number(self) -> str:
        """The label without its 栋/座 mark (``3栋`` → ``3``)."""
        return self.label[:-1]

    @property
    def storey_m(self) -> float:
        """Height of one floor."""
        return self.height_m / self.floors

    def rooms(self) -> list[tuple[int, str | None, str]]:
        """Return (floor, unit, room number) of every room, floor by floor, unit by unit.

        Examples
        --------
        >>> from shapely import box
        >>> b = Building("1" * 19, "1" * 14, "1栋", box(0, 0, 1, 1), 12, 0, 36.0,
        ...              "residential", 2, 3, 2000, 0)
        >>> b.rooms()[:2], len(b.rooms())
        ([(1, '1', '101'), (1, '1', '102')], 72)
        """
        out = []
        for floor in range(1, self.floors + 1):
            for unit in range(1, self.units + 1):
                for n in range(1, self.rooms_per_floor + 1):
                    out.append((floor, str(unit) if self.units > 1 else None, f"{floor * 100 + n}"))
        return out


def footprints(
    parcel: BaseGeometry, spec: KindSpec, angle: float, rng: np.random.Generator
) -> list[Polygon]:
    """Return the footprints of a parcel: a lattice of rectangles at least 3 m inside it.

    The lattice runs along the road direction ``angle`` (degrees); its phase is random.
    """
    inner = parcel.buffer(-3.0)
    if inner.is_empty:
        return []
    w = float(rng.uniform(*spec.width_m))
    d = float(rng.uniform(*spec.depth_m))
    phase_u, phase_v = float(rng.uniform(0, 1)), float(rng.uniform(0, 1))
    theta = math.radians(angle)
    ux, uy, vx, vy = math.cos(theta), math.sin(theta), -math.sin(theta), math.cos(theta)
    cx, cy = parcel.centroid.x, parcel.centroid.y
    xmin, ymin, xmax, ymax = parcel.bounds
    reach = math.hypot(xmax - xmin, ymax - ymin) / 2
    step_u, step_v = w + spec.gap_m, d + spec.gap_m
    ks = np.arange(-math.ceil(reach / step_u) - 1, math.ceil(reach / step_u) + 1) + phase_u
    ls = np.arange(-math.ceil(reach / step_v) - 1, math.ceil(reach / step_v) + 1) + phase_v
    kk, ll = np.meshgrid(ks * step_u, ls * step_v, indexing="ij")
    px = (cx + ux * kk + vx * ll).ravel()
    py = (cy + uy * kk + vy * ll).ravel()
    corners = np.array([(-w / 2, -d / 2), (w / 2, -d / 2), (w / 2, d / 2), (-w / 2, d / 2)])
    ring_x = px[:, None] + ux * corners[:, 0] + vx * corners[:, 1]
    ring_y = py[:, None] + uy * corners[:, 0] + vy * corners[:, 1]
    polys = np.asarray(shapely.polygons(np.stack([ring_x, ring_y], axis=-1)), dtype=object)
    shapely.prepare(inner)
    return list(polys[shapely.contains(inner, polys)])


def make_buildings(
    kind: str,
    shapes: list[Polygon],
    grid: str,
    first_serial: int,
    compound: int,
    rng: np.random.Generator,
    start: int = 0,
) -> list[Building]:
    """Return buildings of one parcel on the given footprints, with serials from ``first_serial``.

    Building codes are the grid code and the serial (5 digits); labels count on from
    ``start`` (the buildings the compound has already).
    """
    spec = KINDS[kind]
    lettered = start == 0 and len(shapes) <= len(_LETTERS) and rng.random() < spec.lettered_share
    out = []
    for i, shape in enumerate(shapes):
        tall = rng.random() < spec.tall_share
        floors = int(rng.integers(*(spec.tall_floors if tall else spec.floors), endpoint=True))
        basements = (
            int(rng.integers(*spec.basements, endpoint=True)) if tall or spec.tall_share == 0 else 0
        )
        out.append(
            Building(
                code=building_code(grid, first_serial + i),
                grid=grid,
                label=f"{_LETTERS[i]}座" if lettered else f"{start + i + 1}栋",
                footprint=shape,
                floors=floors,
                basements=basements,
                height_m=round(floors * float(rng.uniform(2.9, 3.3)), 1),
                use=spec.use,
                units=int(rng.integers(*spec.units, endpoint=True)),
                rooms_per_floor=int(rng.integers(*spec.rooms, endpoint=True)),
                built_year=int(rng.integers(*spec.years, endpoint=True)),
                compound=compound,
            )
        )
    return out
