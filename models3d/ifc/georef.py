"""Where an IFC model sits on the globe.

Tried in this order, and the one used is reported: ``IfcMapConversion`` with its
``IfcProjectedCRS`` (IFC 4), the ``ePSet_MapConversion`` / ``ePSet_ProjectedCRS`` property sets
(the IFC 2x3 way), ``IfcSite.RefLatitude``/``RefLongitude``/``RefElevation`` (with the context's
true north), and last the ``--anchor`` the user gives. Each becomes a function from the model's
world coordinates (metres) to WGS84 longitude, latitude and height.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.errors import GeoreferenceError
from models3d.geodesy import ecef_to_geodetic, enu_frame

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

NO_GEOREFERENCE = (
    "the IFC file has no georeference (no IfcMapConversion, no ePSet_MapConversion, no IfcSite "
    "latitude/longitude): pass --anchor LON,LAT,HEIGHT,ROTATION (degrees, metres, and the "
    "model's x axis in degrees counter-clockwise from east)"
)


@dataclass(frozen=True)
class Anchor:
    """A user-given placement: the model origin's WGS84 position and the x axis' bearing."""

    lon: float
    lat: float
    height_m: float = 0.0
    rotation_deg: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read ``LON,LAT[,HEIGHT[,ROTATION]]``.

        Raises
        ------
        GeoreferenceError
            When the text is not 2 to 4 numbers or the position is off the globe.
        """
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if not 2 <= len(values) <= 4 or abs(values[0]) > 180 or abs(values[1]) > 90:
            raise GeoreferenceError(
                f"--anchor {text!r} must be LON,LAT,HEIGHT,ROTATION in degrees and metres"
            )
        return cls(*values)


@dataclass(frozen=True)
class Georeference:
    """How model coordinates map to WGS84, and which source said so."""

    method: str
    detail: str
    to_geodetic: Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _local_rotation(east_axis: tuple[float, float]) -> NDArray[np.float64]:
    """2×2 matrix taking model (x, y) to (east, north) given the model x axis in (east, north)."""
    a, b = east_axis
    norm = math.hypot(a, b) or 1.0
    c, s = a / norm, b / norm
    return np.array([[c, -s], [s, c]])


def _enu_placement(
    lon: float, lat: float, h: float, rot: NDArray[np.float64], origin: NDArray[np.float64]
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    frame = enu_frame(lon, lat, h)

    def convert(xyz: NDArray[np.float64]) -> NDArray[np.float64]:
        local = np.asarray(xyz, dtype=np.float64) - origin
        en = local[:, :2] @ rot.T
        enu = np.column_stack([en, local[:, 2]])
        return ecef_to_geodetic(enu @ frame[:3, :3].T + frame[:3, 3])

    return convert


def _projected(
    crs_name: str, east: float, north: float, height: float, axis: tuple[float, float], scale: float
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(crs_name)
    except CRSError as exc:
        raise GeoreferenceError(
            f"the IFC map conversion's CRS {crs_name!r} is unknown: pass --anchor instead"
        ) from exc
    to_wgs84 = Transformer.from_crs(
        crs, "EPSG:4979" if crs.is_geographic else "EPSG:4326", always_xy=True
    )
    rot = _local_rotation(axis)

    def convert(xyz: NDArray[np.float64]) -> NDArray[np.float64]:
        pts = np.asarray(xyz, dtype=np.float64)
        en = (pts[:, :2] @ rot.T) * scale + [east, north]
        lon, lat = to_wgs84.transform(en[:, 0], en[:, 1])
        return np.column_stack([lon, lat, pts[:, 2] * scale + height])

    return convert


def _from_map_conversion(model: Any) -> Georeference | None:
    if model.schema == "IFC2X3":
        return None
    for conv in model.by_type("IfcMapConversion"):
        crs = conv.TargetCRS
        name = crs.Name if crs is not None else ""
        axis = (conv.XAxisAbscissa or 1.0, conv.XAxisOrdinate or 0.0)
        fn = _projected(
            name,
            conv.Eastings,
            conv.Northings,
            conv.OrthogonalHeight or 0.0,
            axis,
            conv.Scale or 1.0,
        )
        return Georeference("IfcMapConversion", f"{name} E {conv.Eastings} N {conv.Northings}", fn)
    return None


def _from_psets(model: Any) -> Georeference | None:
    import ifcopenshell.util.element as element

    for owner in model.by_type("IfcProject") + model.by_type("IfcSite"):
        psets = element.get_psets(owner)
        conv, crs = psets.get("ePSet_MapConversion"), psets.get("ePSet_ProjectedCRS", {})
        if not conv or "Eastings" not in conv:
            continue
        name = str(crs.get("Name", ""))
        axis = (float(conv.get("XAxisAbscissa", 1.0)), float(conv.get("XAxisOrdinate", 0.0)))
        fn = _projected(
            name,
            float(conv["Eastings"]),
            float(conv["Northings"]),
            float(conv.get("OrthogonalHeight", 0.0)),
            axis,
            float(conv.get("Scale", 1.0)),
        )
        return Georeference(
            "ePSet_MapConversion", f"{name} E {conv['Eastings']} N {conv['Northings']}", fn
        )
    return None


def compound_angle(parts: Any) -> float:
    """IFC's compound plane angle (degrees, minutes, seconds, millionths) as decimal degrees.

    Examples
    --------
    >>> round(compound_angle((49, 5, 44, 124000)), 6)
    49.09559
    """
    values = list(parts) + [0] * (4 - len(parts))
    sign = -1.0 if any(v < 0 for v in values) else 1.0
    d, m, s, micro = (abs(v) for v in values[:4])
    return float(sign * (d + m / 60 + (s + micro / 1e6) / 3600))


def _true_north(model: Any) -> tuple[float, float]:
    """Return the model's x axis in (east, north), from the context's TrueNorth (default: y)."""
    for ctx in model.by_type("IfcGeometricRepresentationContext"):
        north = getattr(ctx, "TrueNorth", None)
        if north is not None and ctx.ContextType in ("Model", None):
            tx, ty = north.DirectionRatios[:2]
            # North is (tx, ty) in model axes, so east is (ty, -tx); the model x axis is then
            # (ty, tx) in (east, north).
            return (ty, tx)
    return (1.0, 0.0)


def _from_site(model: Any) -> Georeference | None:
    import ifcopenshell.util.placement as placement

    for site in model.by_type("IfcSite"):
        if site.RefLatitude is None or site.RefLongitude is None:
            continue
        lat, lon = compound_angle(site.RefLatitude), compound_angle(site.RefLongitude)
        origin = np.zeros(3)
        if site.ObjectPlacement is not None:
            origin = placement.get_local_placement(site.ObjectPlacement)[:3, 3] * _unit_scale(model)
        fn = _enu_placement(
            lon, lat, float(site.RefElevation or 0.0), _local_rotation(_true_north(model)), origin
        )
        return Georeference("IfcSite", f"lat {lat:.6f} lon {lon:.6f}", fn)
    return None


def _unit_scale(model: Any) -> float:
    import ifcopenshell.util.unit as unit

    return float(unit.calculate_unit_scale(model))


def georeference(model: Any, anchor: Anchor | None = None) -> Georeference:
    """Find the model's georeference (see the module's description for the order).

    Raises
    ------
    GeoreferenceError
        When the model has none and no anchor is given (one sentence saying what to pass).
    """
    for finder in (_from_map_conversion, _from_psets, _from_site):
        found = finder(model)
        if found is not None:
            return found
    if anchor is None:
        raise GeoreferenceError(NO_GEOREFERENCE)
    rot = math.radians(anchor.rotation_deg)
    fn = _enu_placement(
        anchor.lon,
        anchor.lat,
        anchor.height_m,
        _local_rotation((math.cos(rot), math.sin(rot))),
        np.zeros(3),
    )
    return Georeference("anchor", f"lon {anchor.lon} lat {anchor.lat}", fn)
