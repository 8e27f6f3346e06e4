"""Codes of the block hierarchy and check characters of Chinese identifiers."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import twin.codes
from twin.codes import (
    LEVEL_LENGTHS,
    USCC_ALPHABET,
    BlockPath,
    Level,
    ancestors,
    building_code,
    grid_code,
    id_birth_date,
    id_check_char,
    is_ancestor,
    is_valid_id_number,
    is_valid_uscc,
    level_of,
    org_code_check_char,
    parent,
    room_code,
    uscc_check_char,
    validate,
)
from twin.errors import CodeError

ROOM = "4403070030030400042000003"  # the design's example room code

communities = st.builds(
    lambda p, c, d, s, v: f"{p:02d}{c:02d}{d:02d}{s:03d}{v:03d}",
    st.integers(11, 82),
    st.integers(1, 99),
    st.integers(0, 99),
    st.integers(1, 999),
    st.integers(1, 999),
)


# -- levels and validation ---------------------------------------------------------------------
def test_levels_have_their_lengths() -> None:
    assert [level.length for level in Level] == [6, 9, 12, 14, 19, 25]
    assert LEVEL_LENGTHS[Level.BUILDING] == 19
    for level in Level:
        assert level_of(ROOM[: level.length]) is level


def test_the_design_example_room_code_carries_its_path() -> None:
    path = ancestors(ROOM)
    assert path == {
        Level.DISTRICT: "440307",
        Level.STREET: "440307003",
        Level.COMMUNITY: "440307003003",
        Level.GRID: "44030700300304",
        Level.BUILDING: "4403070030030400042",
        Level.ROOM: ROOM,
    }
    assert validate(ROOM, Level.ROOM) == ROOM


@given(communities, st.integers(1, 99), st.integers(1, 99999), st.integers(1, 999999))
def test_compose_then_parse_round_trips(community: str, g: int, b: int, r: int) -> None:
    grid = grid_code(community, g)
    building = building_code(grid, b)
    room = room_code(building, r)
    assert (len(grid), len(building), len(room)) == (14, 19, 25)
    assert level_of(room) is Level.ROOM and validate(room) == room
    assert int(grid[-2:]) == g and int(building[-5:]) == b and int(room[-6:]) == r
    assert parent(room) == building and parent(building) == grid and parent(grid) == community
    assert list(ancestors(room).values()) == [
        room[:6],
        room[:9],
        community,
        grid,
        building,
        room,
    ]
    path = BlockPath.from_code(room)
    assert (path.community, path.grid, path.building, path.deepest) == (
        community,
        grid,
        building,
        room,
    )
    assert path.level is Level.ROOM
    assert is_ancestor(community, room) and is_ancestor(grid, building)
    assert not is_ancestor(room, room) and not is_ancestor(room, grid)


def test_other_cities_pass() -> None:
    assert validate("110105") == "110105"  # 北京朝阳区
    assert validate("441900003") == "441900003"  # 东莞 has no districts: district part 00
    assert level_of("820001001001") is Level.COMMUNITY


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "digits 0-9 only"),
        ("   ", "digits 0-9 only"),
        ("44O306", "digits 0-9 only"),
        ("4403０6", "digits 0-9 only"),
        ("-440306", "digits 0-9 only"),
        ("440306 001", "digits 0-9 only"),
        ("44030", "has 5 digits"),
        ("4403060", "has 7 digits"),
        ("4403060170", "has 10 digits"),
        ("440306017001010", "has 15 digits"),
        ("44030601700101000010", "has 20 digits"),
        ("44030601700101000010000010", "has 26 digits"),
        ("100306", "no province"),
        ("830306", "no province"),
        ("0903060170010100001", "no province"),
        ("440006", "city part of 00"),
        ("440306000", "street serial of 000"),
        ("440306017000", "community serial of 000"),
        ("44030601700100", "grid serial of 00"),
        ("4403060170010100000", "building serial of 00000"),
        ("4403060170010100001000000", "room serial of 000000"),
    ],
)
def test_malformed_codes_are_refused_with_the_code_named(bad: str, why: str) -> None:
    with pytest.raises(CodeError, match=why) as info:
        validate(bad)
    assert repr(bad.strip()) in str(info.value)


@given(st.text(min_size=1, max_size=30).filter(lambda s: not s.strip().isdigit()))
def test_anything_but_digits_is_refused(text: str) -> None:
    with pytest.raises(CodeError):
        validate(text)


@given(st.integers(0, 10**30).map(str).filter(lambda s: len(s) not in LEVEL_LENGTHS.values()))
def test_every_other_length_is_refused(code: str) -> None:
    with pytest.raises(CodeError, match=f"{len(code)} digits"):
        level_of(code)


def test_validate_strips_and_checks_the_level() -> None:
    assert validate(" 44030601700101\n") == "44030601700101"
    with pytest.raises(CodeError, match="'44030601700101' is a grid code, not a building code"):
        validate("44030601700101", Level.BUILDING)


def test_parent_of_a_district_is_none_and_whitespace_is_stripped() -> None:
    assert parent("440307") is None
    assert parent(f" {ROOM} ") == ROOM[:19]


def test_is_ancestor_validates_both_codes() -> None:
    assert is_ancestor("440307", ROOM)
    assert not is_ancestor("440306", ROOM)
    with pytest.raises(CodeError):
        is_ancestor("440307", ROOM[:-1])


@pytest.mark.parametrize(
    ("compose", "parent_code", "n"),
    [
        (grid_code, "440306017001", 100),
        (grid_code, "440306017001", 0),
        (grid_code, "440306017001", -1),
        (building_code, "44030601700101", 100_000),
        (building_code, "44030601700101", 0),
        (room_code, "4403060170010100001", 1_000_000),
        (room_code, "4403060170010100001", 0),
    ],
)
def test_composers_refuse_serials_that_do_not_fit(
    compose: object, parent_code: str, n: int
) -> None:
    assert callable(compose)
    with pytest.raises(CodeError, match=f"serial {n} under code '{parent_code}'"):
        compose(parent_code, n)


def test_composers_refuse_a_parent_of_the_wrong_level() -> None:
    with pytest.raises(CodeError, match="not a community code"):
        grid_code("44030601700101", 1)
    with pytest.raises(CodeError, match="not a grid code"):
        building_code("440306017001", 1)
    with pytest.raises(CodeError, match="not a building code"):
        room_code("44030601700101", 1)


# -- BlockPath ---------------------------------------------------------------------------------
def test_block_path_keeps_consistent_codes_and_allows_gaps() -> None:
    path = BlockPath(district="440307", grid=" 44030700300304 ", room=ROOM)
    assert path.grid == "44030700300304"
    assert path.street is None and path.deepest == ROOM and path.level is Level.ROOM
    assert BlockPath().deepest is None and BlockPath().level is None
    assert BlockPath.from_code("440307") == BlockPath(district="440307")


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"district": "440306", "street": "440307003"}, "does not start with its district"),
        ({"community": "440307003003", "grid": "44030700400304"}, "does not start with"),
        ({"street": "440307003", "room": "4403070040030400042000003"}, "room '4403"),
        ({"grid": "440307003003"}, "is a community code, not a grid code"),
        ({"building": "4403070030030400000"}, "building serial of 00000"),
        ({"grid": "44030700300304", "building": "4403070030040400042"}, "does not start with"),
    ],
)
def test_block_path_refuses_inconsistent_codes(kwargs: dict[str, str], why: str) -> None:
    with pytest.raises(CodeError, match=why):
        BlockPath(**kwargs)


def test_a_building_may_lie_in_another_grid_of_its_community() -> None:
    moved = BlockPath(grid="44030700300305", building="4403070030030400042")
    assert moved.grid == "44030700300305" and moved.building == "4403070030030400042"


def test_block_path_is_frozen() -> None:
    path = BlockPath.from_code(ROOM)
    with pytest.raises(AttributeError):
        path.room = None  # type: ignore[misc]


# -- resident ID numbers -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "first17",
    ["44030619900101123", "44030719851231002", "11010520000229001", "65010219700615551"],
)
def test_resident_id_check_digit(first17: str) -> None:
    full = first17 + id_check_char(first17)
    assert is_valid_id_number(full)
    assert is_valid_id_number(full.lower())
    for i in range(17):
        flipped = full[:i] + str((int(full[i]) + 1) % 10) + full[i + 1 :]
        assert not is_valid_id_number(flipped), flipped  # one changed digit always shows


def test_resident_id_examples_checked_by_hand() -> None:
    # 4·7+4·9+0·10+3·5+0·8+6·4+1·2+9·1+9·6+0·3+0·7+1·9+0·10+1·5+1·8+2·4+3·2 = 204; 204 % 11 = 6
    assert id_check_char("44030619900101123") == "6"
    # The standard's own example: the sum is 167, 167 % 11 = 2, which maps to X.
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "44030619900101123",  # 17 characters
        "4403061990010112366",  # 19 characters
        "44030619900101123X",  # X where 6 belongs
        "4403061990O101123 6",
        "44030619900230123" + id_check_char("44030619900230123"),  # 30 February
        "44030618491231123" + id_check_char("44030618491231123"),  # before 1850
        "44030630000101123" + id_check_char("44030630000101123"),  # born in the future
        "４４0306199001011236",  # full-width digits
    ],
)
def test_invalid_id_numbers(bad: str) -> None:
    assert not is_valid_id_number(bad)


def test_id_birth_date() -> None:
    assert id_birth_date("440306199001011236") == dt.date(1990, 1, 1)
    assert id_birth_date("440306900101123") == dt.date(1990, 1, 1)
    assert id_birth_date("440306901301123") is None
    assert id_birth_date("4403069001011") is None


@pytest.mark.parametrize("bad", ["", "1234567890123456", "123456789012345678", "1234567890123456X"])
def test_id_check_char_refuses_anything_but_17_digits(bad: str) -> None:
    with pytest.raises(CodeError, match="17 digits"):
        id_check_char(bad)


@given(st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)), st.integers(0, 999))
def test_any_id_with_its_check_character_is_valid(born: dt.date, serial: int) -> None:
    first17 = f"440306{born:%Y%m%d}{serial:03d}"
    assert is_valid_id_number(first17 + id_check_char(first17))
    others = [c for c in "0123456789X" if c != id_check_char(first17)]
    assert not any(is_valid_id_number(first17 + c) for c in others)


# -- unified social credit codes ---------------------------------------------------------------
def test_published_credit_code() -> None:
    # By hand: 9·1+1·3+3·9+5·27+1·26+21·20+1·8+30·30+4·28 = 1640, 1640 % 31 = 28, 31-28 = 3.
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_uscc("91350100M000100Y43")
    # Its organisation code M000100Y-4 checks under GB 11714 too.
    assert org_code_check_char("M000100Y") == "4"


@pytest.mark.parametrize(
    "bad",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100I43",  # I is not in the alphabet
        "91350100m000100Y43",  # lower case
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y430",  # 19 characters
        "",
    ],
)
def test_invalid_credit_codes(bad: str) -> None:
    assert not is_valid_uscc(bad)


@pytest.mark.parametrize("first17", ["91440300MA5DXXXX0", "12100000400000012", "Y1440300000000001"])
def test_credit_code_check_character(first17: str) -> None:
    full = first17 + uscc_check_char(first17)
    assert is_valid_uscc(full)
    for i in range(17):
        other = USCC_ALPHABET[(USCC_ALPHABET.index(full[i]) + 1) % 31]
        assert not is_valid_uscc(full[:i] + other + full[i + 1 :])


def test_credit_check_value_31_is_written_0() -> None:
    # When the weighted sum is a multiple of 31, the check value 31 - 0 = 31 is written 0.
    first17 = next(
        code
        for code in (f"9144030000000{n:04d}" for n in range(10_000))
        if sum(USCC_ALPHABET.index(c) * 3**i for i, c in enumerate(code)) % 31 == 0
    )
    assert uscc_check_char(first17) == "0"
    assert is_valid_uscc(first17 + "0")


@pytest.mark.parametrize("bad", ["", "91350100M000100Y", "91350100M000100YI", "91350100M000100Y4Z"])
def test_uscc_check_char_refuses_other_characters(bad: str) -> None:
    with pytest.raises(CodeError, match="17 characters"):
        uscc_check_char(bad)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_credit_code_with_its_check_character_is_valid(first17: str) -> None:
    assert is_valid_uscc(first17 + uscc_check_char(first17))


def test_doctests() -> None:
    result = doctest.testmod(twin.codes)
    assert result.attempted >= 20 and result.failed == 0
