"""The imported models under the tilesets folder: BIM models, point clouds and CityJSON files.

``twin 3d import-ifc`` writes ``bim/NAME``, ``import-las`` ``pointcloud/NAME`` and
``import-cityjson`` ``cityjson/NAME`` (each a folder with a ``tileset.json``). The catalogue lists
them with where they stand on the globe (the centre and radius of the root's bounding volume:
a ``region`` in radians, or a ``box`` in the root's frame carried to ECEF by its ``transform``),
so that a viewer can list them, fly to one, and tell which community each lies in.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.geodesy import ecef_to_geodetic, geodetic_to_ecef
from models3d.tiles3d.store import TILESET_JSON

if TYPE_CHECKING:
    import psycopg

#: Folder of each kind of imported model under the tilesets folder.
KINDS = ("bim", "pointcloud", "cityjson")


@dataclass(frozen=True, slots=True)
class ImportedModel:
    """One imported model: its kind, name, tileset path and where it stands."""

    kind: str
    name: str
    #: The tileset's path under the tilesets folder, e.g. ``bim/house`` (served at
    #: ``/3dtiles/bim/house/tileset.json``).
    path: str
    lon: float
    lat: float
    height_m: float
    radius_m: float

    def as_dict(self) -> dict[str, Any]:
        """Return the model as JSON-ready values, rounded (1e-7°, centimetres)."""
        out = asdict(self)
        out |= {"lon": round(self.lon, 7), "lat": round(self.lat, 7)}
        out |= {"height_m": round(self.height_m, 2), "radius_m": round(self.radius_m, 2)}
        return out


def _region_centre(region: list[float]) -> tuple[float, float, float, float]:
    west, south, east, north, low, high = (float(v) for v in region)
    lon, lat = math.degrees((west + east) / 2), math.degrees((south + north) / 2)
    h = (low + high) / 2
    corners = geodetic_to_ecef(
        np.degrees([west, east]), np.degrees([south, north]), np.array([low, high])
    )
    return lon, lat, h, float(np.linalg.norm(corners[1] - corners[0])) / 2


def _box_centre(
    box: list[float], transform: list[float] | None
) -> tuple[float, float, float, float]:
    values = np.asarray(box, dtype=np.float64)
    centre, axes = values[:3], values[3:].reshape(3, 3)
    matrix = np.asarray(transform, dtype=np.float64).reshape(4, 4).T if transform else np.eye(4)
    ecef = matrix[:3, :3] @ centre + matrix[:3, 3]
    lon, lat, h = ecef_to_geodetic(ecef[None, :])[0]
    # A box's half axes are orthogonal: its corner lies at the root of their squared lengths.
    radius = float(np.sqrt(((matrix[:3, :3] @ axes.T) ** 2).sum()))
    return float(lon), float(lat), float(h), radius


def locate(doc: dict[str, Any]) -> tuple[float, float, float, float]:
    """Return a tileset's centre (lon, lat in degrees, height in m) and radius (m).

    Examples
    --------
    >>> lon, lat, h, r = locate({"root": {"boundingVolume": {"region": [
    ...     1.98758, 0.39375, 1.98760, 0.39377, 0.0, 10.0]}}})
    >>> round(lon, 4), round(lat, 4), h, 10 < r < 100
    (113.8805, 22.5608, 5.0, True)
    """
    root = doc["root"]
    volume = root["boundingVolume"]
    if "region" in volume:  # regions ignore transforms
        return _region_centre(volume["region"])
    if "box" in volume:
        return _box_centre(volume["box"], root.get("transform"))
    raise ValueError("the root's bounding volume is neither a region nor a box")


def imported_models(root: Path) -> list[ImportedModel]:
    """List the imported models under a tilesets folder, by kind then name.

    A folder whose ``tileset.json`` is unreadable or has no usable bounding volume is left out
    (a build writes into a hidden staging folder and swaps it into place, so a listed tileset is
    always complete).
    """
    found = []
    for kind in KINDS:
        folder = Path(root) / kind
        if not folder.is_dir():
            continue
        for sub in sorted(folder.iterdir()):
            tileset = sub / TILESET_JSON
            if sub.name.startswith(".") or not tileset.is_file():
                continue
            try:
                lon, lat, height, radius = locate(json.loads(tileset.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            found.append(ImportedModel(kind, sub.name, f"{kind}/{sub.name}", lon, lat, height,
                                       radius))  # fmt: skip
    return found


_PLACES = """
SELECT (SELECT u.code FROM twin.admin_unit AS u
        WHERE u.level = 'community'
          AND ST_Intersects(u.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326))
        ORDER BY u.code LIMIT 1)
FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t(x, y, i)
ORDER BY t.i
"""
_LINKED = "SELECT model, min(building_code) FROM twin.bim_link GROUP BY model"


def with_places(conn: psycopg.Connection[Any], models: list[ImportedModel]) -> list[dict[str, Any]]:
    """Return the models as dicts with their community and linked building.

    ``community``: the community their centre lies in, or None; ``building``: a BIM model's
    building (``twin 3d import-ifc --building``, stored in ``twin.bim_link``), or None.
    """
    if not models:
        return []
    communities = [r[0] for r in conn.execute(
        _PLACES, ([m.lon for m in models], [m.lat for m in models])).fetchall()]  # fmt: skip
    # A link names the model by its IFC file's name; the tileset folder is its stem.
    linked = {Path(model).stem: code for model, code in conn.execute(_LINKED).fetchall()}
    return [
        m.as_dict()
        | {"community": community, "building": linked.get(m.name) if m.kind == "bim" else None}
        for m, community in zip(models, communities, strict=True)
    ]
