"""The matcher on a small hand-made library: names, numbers, aliases, typos, levels, bands."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geocode.index import AddressIndex, build_index
from geocode.match import ACCEPT, REVIEW, match

D, S, C1, C2 = "440306", "440306017", "440306017001", "440306017002"
ROAD, ROAD2 = "440306R00001", "440306R00002"
DOOR, DOOR2 = "440306017001D00001", "440306017002D00001"
K1, K2 = "440306017001C0001", "440306017002C0001"
B1 = "4403060170010100001"  # 1栋 of 宝民老村
B2 = "4403060170010100002"  # 2栋 of 宝民老村
B9 = "4403060170020100001"  # 1栋 of 上合村


def row(code: str, level: str, community: str | None, **kw: Any) -> dict[str, Any]:
    base = {"code": code, "level": level, "text": kw.pop("text", None), "parent_code": None,
            "district_code": D, "street_code": S if community else None,
            "community_code": community, "road_id": None, "door_no": None,
            "compound_id": None, "building_code": None, "unit_no": None, "floor_no": None,
            "road": None, "poi": None, "building": None, "unit": None, "room": None}  # fmt: skip
    return base | kw


@pytest.fixture(scope="module")
def index() -> AddressIndex:
    admin = [(D, "district", "宝安区"), (S, "street", "新安街道"), (C1, "community", "宝民社区"),
             (C2, "community", "上合社区"), ("440309001008", "community", "老村")]  # fmt: skip
    rows = [
        row(ROAD, "road", None, road_id=1, road="上川四路"),
        row(ROAD2, "road", None, road_id=2, road="海富三巷"),
        row(DOOR, "door", C1, road_id=1, door_no="48号", parent_code=ROAD),
        row(DOOR2, "door", C2, road_id=2, door_no="16号", parent_code=ROAD2),
        row(K1, "compound", C1, road_id=1, door_no="48号", compound_id=1, poi="宝民老村",
            parent_code=DOOR, text="广东省深圳市宝安区新安街道宝民社区上川四路48号宝民老村"),
        row(K2, "compound", C2, road_id=2, door_no="16号", compound_id=2, poi="上合村",
            parent_code=DOOR2),
        row(B1, "building", C1, building_code=B1, building="1栋", parent_code=K1),
        row(B2, "building", C1, building_code=B2, building="2座", parent_code=K1),
        row(B9, "building", C2, building_code=B9, building="1栋", parent_code=K2),
        row(B2 + "U01", "unit", C1, building_code=B2, unit="1单元", parent_code=B2),
        row(B2 + "U02", "unit", C1, building_code=B2, unit="2单元", parent_code=B2),
        row(B1 + "F012", "floor", C1, building_code=B1, floor_no=12, parent_code=B1),
        row(B1 + "000001", "room", C1, building_code=B1, floor_no=12, room="1203室"),
        row(B2 + "000001", "room", C1, building_code=B2, unit="1单元", room="301室"),
        row(B2 + "000002", "room", C1, building_code=B2, unit="2单元", room="301室"),
    ]  # fmt: skip
    aliases = [(K1, "宝安区宝民旧村"), (B9 + "", "上合老围1号楼"), (ROAD, "宝安区尚德路")]
    return build_index(admin, rows, aliases)


@pytest.mark.parametrize(
    ("text", "code", "level"),
    [
        ("广东省深圳市宝安区新安街道宝民社区上川四路48号宝民老村1栋1203室", B1 + "000001", "room"),
        ("宝安区上川四路四十八号宝民老村一栋一二〇三房", B1 + "000001", "room"),  # numerals
        ("宝民老村１栋１２０３室（近地铁站）电话13800138000", B1 + "000001", "room"),
        ("宝民老村上川四路48号1#1203", B1 + "000001", "room"),  # reorder, #, bare room
        ("宝民老村1-1203", B1 + "000001", "room"),  # dashed
        ("宝民老村2座2单元301室", B2 + "000002", "room"),  # the unit decides
        ("宝民老村2栋", B2, "building"),  # 2座 in the library, 2栋 here
        ("宝民老村1栋12楼", B1 + "F012", "floor"),
        ("宝安区宝民旧村1栋", B1, "building"),  # the compound's alias name
        ("宝安区尚德路48号宝民老村1栋", B1, "building"),  # the road's old name
        ("上合老围1栋", B9, "building"),  # alias name from a building's alias
        ("宝安区宝民社区保民老村1栋", B1, "building"),  # typo
        ("海富3巷16号1栋", B9, "building"),  # door → the only compound behind it
        ("宝安区海富三巷十六号上合村一栋", B9, "building"),
    ],
)
def test_texts_match_their_code(index: AddressIndex, text: str, code: str, level: str) -> None:
    result = match(index, text)
    assert (result.code, result.level) == (code, level), result.as_dict()
    assert result.band in ("accept", "review")


def test_exact_text_and_explanation(index: AddressIndex) -> None:
    exact = match(index, "广东省深圳市宝安区新安街道宝民社区上川四路48号宝民老村")
    assert exact.code == K1 and exact.confidence == 1.0 and exact.band == "accept"
    fuzzy = match(index, "宝安区宝民社区保民老村1栋")
    hows = {s.element: (s.input, s.matched, s.how) for s in fuzzy.explain}
    assert hows["compound"] == ("保民老村", "宝民老村", "fuzzy")
    assert hows["community"][2] == "exact" and hows["building"][2] == "exact"
    assert fuzzy.confidence < exact.confidence


def test_unknown_finer_level_falls_back_to_the_coarser_one(index: AddressIndex) -> None:
    room = match(index, "宝民老村1栋9999室")
    assert (room.code, room.level) == (B1, "building") and room.band != "accept"
    assert "room 9999室 not found" in (room.reason or "")
    building = match(index, "宝民老村7栋")
    assert (building.code, building.level) == (K1, "compound") and building.band != "accept"


def test_conflicting_community_lowers_the_confidence(index: AddressIndex) -> None:
    right = match(index, "宝民社区宝民老村1栋")
    wrong = match(index, "上合社区宝民老村1栋")
    assert wrong.code == right.code == B1
    assert wrong.confidence < right.confidence and wrong.band != "accept"
    assert any(s.element == "community" and s.how == "conflict" for s in wrong.explain)


def test_ambiguous_room_is_not_accepted(index: AddressIndex) -> None:
    result = match(index, "宝民老村2栋301室")  # two units have a 301
    assert result.code == B2 and result.band != "accept"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty address"),
        ("   ", "empty address"),
        ("13800138000", "no address text (only phone)"),
        ("😀😀", "no address text (only emoji)"),
        ("北京市朝阳区建国路88号", "no known road, compound or administrative unit"),
        ("宝" * 10_000, "too long for an address"),
        ("\x00\x01\x02", "no address text (only control)"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(index: AddressIndex, text: str, reason: str) -> None:
    result = match(index, text)
    assert result.band == "reject" and result.code is None
    assert (result.reason or "").startswith(reason)


def test_bands_follow_the_thresholds(index: AddressIndex) -> None:
    for text in ("宝民老村1栋", "宝民老村7栋", "上合社区宝民老村1栋", "宝安区"):
        r = match(index, text)
        expected = (
            "accept" if r.confidence >= ACCEPT else "review" if r.confidence >= REVIEW else "reject"
        )
        assert r.band == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gets_an_answer(index: AddressIndex, text: str) -> None:
    result = match(index, text)
    assert result.band in ("accept", "review", "reject")
    assert 0.0 <= result.confidence <= 1.0
    assert result.code is None or index.level(result.code) is not None
