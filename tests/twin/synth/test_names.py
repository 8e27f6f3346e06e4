"""Names, messy addresses and identifiers of generated records (no database)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from twin.codes import is_valid_id_number, is_valid_uscc
from twin.synth import names
from twin.synth.companies import choose_premises, company_rows, credit_code
from twin.synth.noise import NOISE_KINDS, AddressParts, chinese_number, messy_addresses
from twin.synth.people import IdNumbers, person_names, person_rows
from twin.synth.vocab import FEMALE_CHARS, MALE_CHARS, SURNAMES

STEMS = ["宝安", "新安", "西乡"]
ROAD = re.compile(r"^[\u4e00-\u9fff]{2,6}(大道|路|街|巷)$")


def test_road_names_are_unique_believable_and_classed() -> None:
    rng = np.random.default_rng(1)
    taken: set[str] = set()
    made = [names.road_name(rng, "上川", STEMS, taken, lane=i % 3 == 0) for i in range(300)]
    made += [names.road_name(rng, "上川", STEMS, taken, main=True) for _ in range(10)]
    assert len({n for n, _ in made}) == len(made) == len(taken)
    for name, road_class in made:
        assert ROAD.match(name), name
        assert name.endswith(road_class)
    # Only short roads may be lanes; main roads are 大道 while names last.
    assert all(c != "巷" for i, (_, c) in enumerate(made[:300]) if i % 3)
    assert made[-10][1] == "大道"
    # Names come from the vocabularies: place names, civic words, directions, numbers.
    vocab = set("".join([*STEMS, "上川", *names.VIRTUES, *names.DIRECTIONS, *names.NUMERALS]))
    assert all(set(n[: -len(c)]) <= vocab | set("0123456789号") for n, c in made)


def test_real_road_names_are_avoided() -> None:
    taken = {"上川路", "上川一路"}
    rng = np.random.default_rng(0)
    out = {names.road_name(rng, "上川", STEMS, taken)[0] for _ in range(50)}
    assert not out & {"上川路", "上川一路"}


@pytest.mark.parametrize(
    ("kind", "ending"),
    [
        ("village", ("村", "坊")),
        ("industrial", ("园", "区")),
        ("school", ("学", "校", "园")),
        ("clinic", ("中心", "部")),
        ("residential", tuple("园庄苑庭馆村居府城场")),
    ],
)
def test_compound_names_fit_their_kind_and_never_repeat(kind: str, ending: tuple[str]) -> None:
    rng = np.random.default_rng(3)
    taken: set[str] = set()
    made = [names.compound_name(rng, kind, "上川", taken) for _ in range(30)]
    assert len(set(made)) == 30
    assert all(n.endswith(ending) for n in made), made
    # A nickname never names another compound.
    nicks = [names.nickname(n, kind) for n in made]
    assert not {k for k, n in zip(nicks, made, strict=True) if k != n} & set(made)


def test_place_stems_and_nicknames() -> None:
    assert names.place_stem("新安湖社区") == "新安湖"
    assert names.place_stem("深圳市宝安国际机场虚拟社区") is None
    assert names.nickname("翠湖山庄", "residential") == "翠湖小区"
    assert names.old_compound_name(np.random.default_rng(0), "上川村", "village") != "上川村"


def test_person_names_follow_surnames_and_gender() -> None:
    male = np.array([True] * 500 + [False] * 500)
    made = person_names(np.random.default_rng(2), male)
    surnames = {s for s, _ in SURNAMES}
    for name, is_male in zip(made, male, strict=True):
        surname = name[:2] if name[:2] in surnames else name[0]
        assert surname in surnames
        assert set(name[len(surname) :]) <= set(MALE_CHARS if is_male else FEMALE_CHARS)
    # Frequent surnames are frequent.
    assert sum(n[0] in "王李张刘陈" for n in made) > 200


def test_id_numbers_are_valid_and_unique_across_communities() -> None:
    numbers = []
    male = np.arange(400) % 2 == 0
    days = 30_000 + np.arange(400) % 50
    # Three communities of Bao'an and one of Futian, with local and migrant birth places (a
    # community gives out its own district's code, Shenzhen's 440301 and counties' codes).
    for district, ordinal, local in (("440306", 0, 0), ("440306", 1, 1), ("440306", 140, 140),
                                     ("440304", 796, 1)):  # fmt: skip
        ids = IdNumbers(district, ordinal, local)
        for region in (district, "440301", "430422"):
            numbers += ids.take([region] * 400, days, male)
    assert all(is_valid_id_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert all((int(n[16]) % 2 == 1) == (i % 2 == 0) for i, n in enumerate(numbers))


def test_a_crowded_community_still_gets_unique_id_numbers() -> None:
    rng = np.random.default_rng(0)
    n = 30_000  # twice a big community's locally born residents, born within twenty years
    days = 31_000 + rng.integers(0, 7_300, size=n)
    numbers = IdNumbers("440306", 300, 77).take(["440306"] * n, days, rng.random(n) < 0.5)
    assert len(set(numbers)) == n
    births = np.array([int(x[6:10]) for x in numbers])
    assert births.min() >= 1983 and births.max() <= 2021


def test_person_rows_carry_consistent_identity() -> None:
    rng = np.random.default_rng(4)
    rows = person_rows(
        rng,
        IdNumbers("440306", 5, 5),
        ["home"] * 200,
        ["messy"] * 200,
        ("440306", "440306017001", 0),
    )
    for row in rows:
        number, gender, birth = row[4], row[6], row[7]
        assert is_valid_id_number(number)
        assert number[6:14] == birth.strftime("%Y%m%d")
        assert (int(number[16]) % 2 == 1) == (gender == "M")
        assert row[5] is None or re.fullmatch(r"1[3-9]\d{9}", row[5])
        assert row[9] == "home" if row[8] == "household" else row[9].endswith(("村", "组"))
    assert {r[2] for r in rows} == {f"P440306017001{i:06d}" for i in range(200)}


def test_credit_codes_are_valid_and_unique() -> None:
    codes = {
        credit_code(ent, "440300" if ent else "440306", ordinal, index, modern)
        for ent in (True, False)
        for ordinal in (0, 1, 796)
        for index in (0, 1, 35_799, 35_800, 99_999, 100_000)
        for modern in (True, False)
    }
    assert all(is_valid_uscc(c) for c in codes)
    assert len(codes) == 2 * 3 * 6 * 2 - 2 * 3 * 1  # index 100,000 is always of the modern form


def test_companies_sit_in_fitting_premises() -> None:
    rng = np.random.default_rng(1)
    uses = np.array(["residential"] * 80 + ["industrial"] * 20, dtype=object)
    floors = np.array([1, 2, 3, 4, 5] * 20)
    enterprise, rooms = choose_premises(rng, uses, floors, 2000)
    assert (uses[rooms[enterprise]] == "industrial").mean() > 0.7
    assert (floors[rooms[~enterprise]] == 1).mean() > 0.7
    rows = company_rows(
        rng, enterprise[:50], ["p"] * 50, ["m"] * 50,
        ("440306", "宝安区上川", "440306017001", 3, 0),
    )  # fmt: skip
    assert all(is_valid_uscc(r[3]) for r in rows)
    assert all(r[4].startswith("深圳市") for r in rows)
    assert all(r[3][:2] == ("91" if r[5] == "enterprise" else "92") for r in rows)


PARTS = AddressParts(
    "广东省深圳市", "宝安区", "新安街道", "海滨社区", "翻身路", "45号", "碧海花园", "3栋",
    "2单元", "1203室", "碧海小区", "碧海新村", "新安路",
)  # fmt: skip


def test_messy_addresses_show_every_kind_of_noise() -> None:
    out = messy_addresses([PARTS] * 2000, np.random.default_rng(7), "海滨")
    kinds = {k for _, noise in out for k in noise.split("+")}
    assert kinds == {*NOISE_KINDS, "exact"}
    assert 0.15 < sum(n == "exact" for _, n in out) / len(out) < 0.25
    by_kind = {noise: text for text, noise in out}
    assert by_kind["exact"] == PARTS.text()
    assert "一二〇三室" in by_kind["chinese_numerals"]
    assert "１２０３" in by_kind["fullwidth"]
    assert "（近海滨" in by_kind["landmark"]
    assert re.search(r"1[3-9]\d{9}", by_kind["phone"])
    assert not by_kind["missing_levels"].startswith("广东省深圳市")
    assert "翻身路" not in by_kind["compound_only"]
    assert by_kind["reorder"].index("碧海花园") < by_kind["reorder"].index("翻身路")
    typo = by_kind["typo"]
    assert (
        len(typo) == len(PARTS.text())
        and sum(a != b for a, b in zip(typo, PARTS.text(), strict=True)) == 1
    )
    # Deterministic per stream.
    assert out == messy_addresses([PARTS] * 2000, np.random.default_rng(7), "海滨")


def test_chinese_numbers() -> None:
    assert [chinese_number(n) for n in (0, 7, 10, 15, 40, 99, 402)] == [
        "零", "七", "十", "十五", "四十", "九十九", "四〇二",
    ]  # fmt: skip
