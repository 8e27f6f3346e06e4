"""BIM import: project-made IFC 4 and IFC 2x3 models, georeferences, bad files, links to rooms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models3d.errors import GeoreferenceError, IfcError
from models3d.geodesy import ecef_to_geodetic
from models3d.ifc.georef import Anchor
from models3d.ifc.importer import import_ifc
from tests.models3d.conftest import assert_valid, decode_table, glb_parts
from tests.models3d.ifc_builder import build_ifc


def placed_vertices(tileset: Path, name: str) -> np.ndarray:
    """WGS84 lon, lat, h of a content glb's vertices (root transform, glTF y-up rule)."""
    doc = json.loads(tileset.read_text())
    world = np.array(doc["root"]["transform"]).reshape(4, 4).T
    yup = glb_parts(tileset.parent / name)[2]["POSITION"].astype(float)
    zup = np.stack([yup[:, 0], -yup[:, 2], yup[:, 1]], axis=1)
    return ecef_to_geodetic(zup @ world[:3, :3].T + world[:3, 3])


def test_ifc4_placed_by_site_latitude(tmp_path: Path) -> None:
    src = build_ifc(tmp_path / "house.ifc")
    report = import_ifc(src, tmp_path / "out")
    assert (report.schema, report.georeference, report.elements) == ("IFC4", "IfcSite", 10)
    assert [s.elevation_m for s in report.storeys] == [0.0, 3.0] and len(report.spaces) == 6
    assert_valid(report.tileset)
    geo = placed_vertices(report.tileset, "elements.glb")
    # 12 m east × 8 m north from the site's origin, walls 0.2 m thick; 5 m site elevation.
    east = (geo[:, 0] - 113.8805) * 111_320 * np.cos(np.radians(22.5605))
    north = (geo[:, 1] - 22.5605) * 110_700
    assert east.min() == pytest.approx(-0.1, abs=0.3) and east.max() == pytest.approx(12.1, abs=0.3)
    assert north.min() == pytest.approx(-0.1, abs=0.3) and north.max() == pytest.approx(
        8.1, abs=0.3
    )
    assert geo[:, 2].min() == pytest.approx(5.0, abs=0.05) and geo[:, 2].max() == pytest.approx(
        11.0, abs=0.3
    )
    cols = decode_table(*glb_parts(report.tileset.parent / "elements.glb")[:2])
    assert sorted(set(cols["ifc_type"])) == ["IfcSlab", "IfcWall"] and set(cols["floor_no"]) == {
        1,
        2,
    }
    assert all(len(g) == 22 for g in cols["global_id"])


def test_ifc2x3_placed_by_map_conversion_property_set(tmp_path: Path) -> None:
    src = build_ifc(
        tmp_path / "old.ifc",
        schema="IFC2X3",
        site_latlon=None,
        map_conversion=("EPSG:4547", 500000.0, 2496000.0),
    )
    report = import_ifc(src, tmp_path / "out")
    assert (report.schema, report.georeference) == ("IFC2X3", "ePSet_MapConversion")
    assert_valid(report.tileset)
    geo = placed_vertices(report.tileset, "elements.glb")
    # CGCS2000 / 3-degree GK CM 114E: easting 500 000 m is the 114°E meridian.
    assert geo[:, 0].min() == pytest.approx(114.0, abs=1e-5)
    assert geo[:, 1].min() == pytest.approx(22.5617017, abs=2e-6)  # pyproj: N 2 496 000


def test_no_georeference_needs_an_anchor(tmp_path: Path) -> None:
    src = build_ifc(tmp_path / "nowhere.ifc", site_latlon=None)
    with pytest.raises(GeoreferenceError, match="pass --anchor LON,LAT,HEIGHT,ROTATION"):
        import_ifc(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    report = import_ifc(src, tmp_path / "out", Anchor.parse("114.05,22.54,2,90"))
    assert report.georeference == "anchor"
    geo = placed_vertices(report.tileset, "elements.glb")
    # Rotated 90°: the 12 m long x axis now points north.
    north = (geo[:, 1].max() - geo[:, 1].min()) * 110_700
    assert north == pytest.approx(12.2, abs=0.3)


@pytest.mark.parametrize("text", ["114", "a,b", "200,22,0,0", "1,2,3,4,5"])
def test_bad_anchor(text: str) -> None:
    with pytest.raises(GeoreferenceError, match="--anchor"):
        Anchor.parse(text)


def test_broken_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ifc"
    broken.write_text("ISO-10303-21;\nHEADER;\nthis is not STEP\n")
    with pytest.raises(IfcError, match="not a readable IFC file"):
        import_ifc(broken, tmp_path / "out")
    with pytest.raises(IfcError, match="does not exist"):
        import_ifc(tmp_path / "nope.ifc", tmp_path / "out")


BIM = Path(__file__).resolve().parents[3] / "shared" / "data" / "bim-ifc"


@pytest.mark.skipif(
    not (BIM / "AC20-FZK-Haus.ifc").is_file(), reason="../shared/data/bim-ifc is absent"
)
def test_real_samples(tmp_path: Path) -> None:
    # The BIM samples are for tests only (no licence to copy them): read them where they are.
    from models3d.ifc.georef import georeference
    from models3d.ifc.reader import open_ifc

    house = import_ifc(BIM / "AC20-FZK-Haus.ifc", tmp_path / "fzk")
    assert (house.schema, house.georeference) == ("IFC4", "IfcSite")
    assert len(house.storeys) == 2 and len(house.spaces) == 7 and house.elements > 50
    assert_valid(house.tileset)
    geo = placed_vertices(house.tileset, "elements.glb")
    assert geo[:, 0].mean() == pytest.approx(8.4365, abs=5e-4)
    assert geo[:, 1].mean() == pytest.approx(49.1004, abs=5e-4)
    ref = georeference(open_ifc(BIM / "geographic-referencing_IFC4.ifc"))
    assert ref.method == "IfcMapConversion" and "EPSG:25832" in ref.detail
    lon, lat, h = ref.to_geodetic(np.zeros((1, 3)))[0]
    assert (lon, lat, h) == pytest.approx((8.4337, 49.09556, 113.7), abs=1e-4)
