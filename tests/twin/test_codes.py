"""Codes of the block hierarchy and check characters of Chinese identifiers."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import twin.codes
from twin.codes import (
    USCC_ALPHABET,
    BlockPath,
    Level,
    building_code,
    grid_code,
    id_check_char,
    is_valid_id_number,
    is_valid_uscc,
    level_of,
    parent,
    room_code,
    uscc_check_char,
    validate,
)
from twin.errors import CodeError


@given(st.integers(1, 99), st.integers(1, 99999), st.integers(1, 999999))
def test_compose_then_parse_round_trips(g: int, b: int, r: int) -> None:
    room = room_code(building_code(grid_code("440306017001", g), b), r)
    assert level_of(room) is Level.ROOM
    path = BlockPath.from_code(room)
    assert path.deepest == room and path.building == room[:19] and path.grid == room[:14]
    assert parent(room) == room[:19] and parent(room[:19]) == room[:14]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "44030",
        "4403060170",
        "44030601700100",
        "44O306",
        "0903060170010100001",
        "4403060170010100000",
        "4403060170010100001000000",
    ],
)
def test_malformed_codes_are_refused_with_the_code_named(bad: str) -> None:
    with pytest.raises(CodeError) as info:
        validate(bad)
    assert repr(bad) in str(info.value) or bad in str(info.value)


def test_level_mismatch_and_overflow() -> None:
    with pytest.raises(CodeError, match="is a grid code, not a building code"):
        validate("44030601700101", Level.BUILDING)
    with pytest.raises(CodeError, match="does not fit"):
        grid_code("440306017001", 100)


def test_resident_id_check_digit() -> None:
    first17 = "44030619900101123"
    full = first17 + id_check_char(first17)
    assert is_valid_id_number(full)
    flipped = first17[:-1] + str((int(first17[-1]) + 1) % 10) + full[-1]
    assert not is_valid_id_number(flipped)
    assert not is_valid_id_number("440306199002301234")  # 30 February
    assert is_valid_id_number("11010519491231002X")  # the standard's own example


def test_credit_code_check_character() -> None:
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100I43")  # I is not in the alphabet


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_credit_code_with_its_check_character_is_valid(first17: str) -> None:
    assert is_valid_uscc(first17 + uscc_check_char(first17))


def test_doctests() -> None:
    result = doctest.testmod(twin.codes)
    assert result.attempted >= 8 and result.failed == 0
