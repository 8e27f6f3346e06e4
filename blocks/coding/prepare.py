"""Check a batch of items before it reaches the database, row by row, and stage the good rows.

A row is refused, with the field at fault, when:

- its class is missing, unknown, or not a minor class (``class``);
- it has no geometry, an empty one, an invalid one (self-intersecting rings, too few points…),
  coordinates that are not longitude/latitude (a forgotten ``--crs``), one beyond the Beidou
  grid (|lat| ≥ 88°), or a geometry type its class does not take (``geometry``). Invalid
  geometries are reported, never repaired: a repair can change what the geometry means
  (a bow-tie becomes two triangles), so the fix belongs at the source;
- its source id appears on more than one row of the batch (``source_id``): none of those
  rows is coded, since nothing says which of them is right.

Everything else is vectorised with shapely and numpy, so checking costs little next to the
database work.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from blocks.coding import beidou
from blocks.coding.model import BEIDOU_ENTITY_LEVEL, RowProblem, StagedRow
from blocks.errors import CodingInputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from blocks.coding.classes import EntityClass
    from blocks.coding.model import EntityItem

_CELL_LENGTH = beidou.LEVELS[BEIDOU_ENTITY_LEVEL - 1].code_length


@dataclass
class Prepared:
    """The outcome of the checks: staged rows, and problems per row number."""

    staged: list[StagedRow]
    problems: dict[int, list[RowProblem]] = field(default_factory=dict)
    class_of: dict[int, str | None] = field(default_factory=dict)


def _clean(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    return text or None


def _class_problem(code: str | None, classes: Mapping[str, EntityClass]) -> RowProblem | None:
    if not code:
        return RowProblem("class", "no class given: pass --class or a class column")
    found = classes.get(code)
    if found is None:
        return RowProblem("class", f"unknown class {code!r}: see `twin entity classes`")
    if found.level != "minor":
        return RowProblem(
            "class", f"{code} ({found.name_zh}) is a {found.level} class: use a minor class"
        )
    return None


def _geometry_problems(
    geoms: NDArray[Any], types: list[str | None], classes: Mapping[str, EntityClass]
) -> list[RowProblem | None]:
    """One problem (or None) per geometry; ``types`` are the rows' class codes."""
    out: list[RowProblem | None] = [None] * len(geoms)
    present = np.array([g is not None for g in geoms], dtype=bool)
    idx = np.flatnonzero(present)
    for i in np.flatnonzero(~present):
        out[i] = RowProblem("geometry", "no geometry")
    if not idx.size:
        return out
    g = geoms[idx]
    empty = shapely.is_empty(g)
    reasons = shapely.is_valid_reason(g)
    x0, y0, x1, y1 = shapely.bounds(g).T
    lonlat = (x0 >= -180) & (x1 <= 180) & (y0 >= -90) & (y1 <= 90)
    polar = (y0 <= -beidou.MAX_ABS_LAT) | (y1 >= beidou.MAX_ABS_LAT)
    for k, i in enumerate(idx):
        cls = classes.get(types[i] or "")
        if empty[k]:
            out[i] = RowProblem("geometry", "empty geometry")
        elif reasons[k] != "Valid Geometry":
            out[i] = RowProblem(
                "geometry", f"invalid geometry ({reasons[k]}); not repaired: fix it at the source"
            )
        elif not lonlat[k]:
            out[i] = RowProblem(
                "geometry", "coordinates are not longitude/latitude: declare the file's CRS"
            )
        elif polar[k]:
            out[i] = RowProblem("geometry", "beyond 88° of latitude, outside the Beidou grid")
        elif cls is not None and not cls.accepts(g[k].geom_type):
            out[i] = RowProblem(
                "geometry",
                f"a {g[k].geom_type} does not fit class {cls.code} ({cls.geometry_type} expected)",
            )
    return out


def _duplicate_ids(items: Sequence[EntityItem], ids: list[str | None]) -> dict[int, RowProblem]:
    rows_of: dict[str, list[int]] = defaultdict(list)
    for item, sid in zip(items, ids, strict=True):
        if sid is not None:
            rows_of[sid].append(item.row)
    out: dict[int, RowProblem] = {}
    for sid, rows in rows_of.items():
        if len(rows) > 1:
            where = ", ".join(map(str, rows))
            for row in rows:
                out[row] = RowProblem(
                    "source_id", f"source id {sid!r} is on rows {where}: none of them is coded"
                )
    return out


def _stage(items: list[EntityItem], geoms: NDArray[Any], classes: list[str]) -> list[StagedRow]:
    if not items:
        return []
    reps = shapely.point_on_surface(geoms)
    lon, lat = shapely.get_x(reps), shapely.get_y(reps)
    codes = beidou.encode(lon, lat, len(beidou.LEVELS))
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    return [
        StagedRow(
            item.row,
            _clean(item.source_id),
            cls,
            _clean(item.name),
            str(wkb),
            str(code),
            str(code)[:_CELL_LENGTH],
            float(y),
        )
        for item, cls, wkb, code, y in zip(items, classes, ewkb, codes, lat, strict=True)
    ]


def prepare(
    items: Sequence[EntityItem], batch_class: str | None, classes: Mapping[str, EntityClass]
) -> Prepared:
    """Check every item and stage the good ones.

    Parameters
    ----------
    items
        The batch; row numbers must be unique.
    batch_class
        The class of rows that name none.
    classes
        Every known class by code.

    Raises
    ------
    CodingInputError
        When two items share a row number (a caller's mistake, not a data problem).
    """
    if len({it.row for it in items}) != len(items):
        raise CodingInputError("two items of the batch share a row number")
    default_class = _clean(batch_class)
    types = [_clean(it.class_code) or default_class for it in items]
    raw = np.empty(len(items), dtype=object)
    raw[:] = [it.geometry for it in items]
    present = np.array([g is not None for g in raw], dtype=bool)
    geoms = raw.copy()
    geoms[present] = shapely.force_2d(raw[present])
    problems: dict[int, list[RowProblem]] = defaultdict(list)
    dupes = _duplicate_ids(items, [_clean(it.source_id) for it in items])
    geometry = _geometry_problems(geoms, types, classes)
    for k, item in enumerate(items):
        found = [
            RowProblem("geometry", item.problem) if item.problem else None,
            _class_problem(types[k], classes),
            None if item.problem else geometry[k],
            dupes.get(item.row),
        ]
        problems[item.row].extend(p for p in found if p is not None)
    good = [k for k, it in enumerate(items) if not problems[it.row]]
    staged = _stage([items[k] for k in good], geoms[good], [str(types[k]) for k in good])
    return Prepared(
        staged,
        {row: ps for row, ps in problems.items() if ps},
        {it.row: types[k] for k, it in enumerate(items)},
    )
