"""The Beidou grid location code (GB/T 39409-2020) against the standard's worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blocks.coding import beidou
from twin.errors import CodeError


def _dms(d: int, m: int, s: float) -> float:
    return d + m / 60 + s / 3600


#: GB/T 39409-2020, annex B.2 (informative), "经纬度坐标转化成北斗二维网格位置码的示例": the
#: office building of a university at 39°59′35.38″N, 116°18′45.37″E, levels 1 to 8
#: (figures B.1-B.8). Level 9 and 10 are not in the annex; they come from the reference
#: implementation Gvitech-gis/beidou-grid-location-codec (test/test.ts decodes
#: "N50J47539b8255346152" for this point).
WORKED = [
    (1, "N50J"),
    (2, "N50J47"),
    (3, "N50J475"),
    (4, "N50J47539"),
    (5, "N50J47539B8"),
    (6, "N50J47539B82"),
    (7, "N50J47539B8255"),
    (8, "N50J47539B825534"),
    (9, "N50J47539B82553461"),
    (10, "N50J47539B8255346152"),
]
LON, LAT = _dms(116, 18, 45.37), _dms(39, 59, 35.38)


@pytest.mark.parametrize(("level", "code"), WORKED)
def test_annex_b_worked_example(level: int, code: str) -> None:
    assert beidou.encode(LON, LAT, level).tolist() == [code]


def test_short_code_examples_of_section_8() -> None:
    # GB/T 39409-2020, 8.1: three places of the same university and their level 5 codes.
    places = [
        (_dms(116, 19, 14.3184), _dms(39, 59, 56.1444), "N50J475493E"),  # east gate no. 1
        (_dms(116, 19, 5.9808), _dms(39, 59, 59.7012), "N50J475491E"),  # 求是塔
        (_dms(116, 19, 9.3540), _dms(39, 59, 56.5260), "N50J475492E"),  # office building
    ]
    lon, lat, codes = zip(*places, strict=True)
    assert beidou.encode(lon, lat, 5).tolist() == list(codes)


def test_decode_gives_the_cell_of_the_worked_example() -> None:
    west, south, east, north = beidou.decode(["N50J47539B825534"])[0]
    assert west <= LON < east and south <= LAT < north
    assert (east - west) * 3600 == pytest.approx(1 / 32)
    assert (north - south) * 3600 == pytest.approx(1 / 32)
    # Annex B.2 h): the level 7 corner is 116°18′45.25″E, 39°59′35.25″N.
    corner = beidou.decode(["N50J47539B8255"])[0]
    assert corner[:2] == pytest.approx([_dms(116, 18, 45.25), _dms(39, 59, 35.25)], abs=1e-12)


def test_lower_case_codes_decode_too() -> None:
    np.testing.assert_array_equal(beidou.decode(["n50j47539b82"]), beidou.decode(["N50J47539B82"]))


def test_hemispheres_mirror() -> None:
    codes = beidou.encode([LON, -LON, LON, -LON], [LAT, LAT, -LAT, -LAT], 10).tolist()
    assert [c[:4] for c in codes] == ["N50J", "N11J", "S50J", "S11J"]
    assert len({c[4:] for c in codes}) == 1  # the same digits, mirrored from level 2 on


def test_levels_table() -> None:
    sizes = [(lv.level, lv.code_length, lv.size_deg) for lv in beidou.LEVELS]
    assert [s[1] for s in sizes] == [4, 6, 7, 9, 11, 12, 14, 16, 18, 20]
    assert sizes[6][2][0] * 3600 == pytest.approx(0.25)  # level 7: 1/4″
    east_west, north_south = beidou.LEVELS[6].size_m(22.5)
    assert 7.0 < east_west < 7.3 and 7.6 < north_south < 7.8


@pytest.mark.parametrize("bad", ["N50", "X50J", "N61J", "N50W", "N50J4", "N50JC7", "N50J476"])
def test_malformed_codes_are_refused(bad: str) -> None:
    with pytest.raises(CodeError):
        beidou.decode([bad])


def test_polar_points_are_refused() -> None:
    with pytest.raises(CodeError, match="polar"):
        beidou.encode(10.0, 89.0)


@given(
    st.floats(-180, 180, allow_nan=False),
    st.floats(-87.99, 87.99, allow_nan=False),
    st.integers(1, 10),
)
def test_a_point_lies_in_its_cell_and_codes_nest(lon: float, lat: float, level: int) -> None:
    code = str(beidou.encode(lon, lat, level)[0])
    west, south, east, north = beidou.decode([code])[0]
    assert west <= lon <= east and south <= lat <= north
    assert str(beidou.encode(lon, lat, 10)[0]).startswith(code)
    assert beidou.level_of(code) == level
