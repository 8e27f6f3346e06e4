"""Masking of personal data: names, ID numbers, phone numbers and free text."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import twin.privacy
from twin.codes import id_check_char
from twin.privacy import mask_id_number, mask_name, mask_phone, mask_text

MASKERS = [mask_name, mask_id_number, mask_phone, mask_text]


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["440306", "440307", "110105", "445281", "650102"]))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2024, 12, 31)))
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_char(first17)


old_id_numbers = st.builds(
    lambda region, born, serial: f"{region}{born:%y%m%d}{serial:03d}",
    st.sampled_from(["440306", "430422"]),
    st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
    st.integers(0, 999),
)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
no_digits = st.text(st.characters(exclude_categories=["Nd"]), max_size=20)
#: Text made of the pieces the masks look for, glued with what sits around them.
pieces = st.one_of(
    id_numbers(),
    old_id_numbers,
    mobiles,
    st.sampled_from(["+86", "0086", "86", " ", "-", "*", "******", "X", "x", "１３８", "电话"]),
    st.text("0123456789", max_size=6),
    st.text(max_size=4),
)
texts = st.lists(pieces, max_size=8).map("".join)


# -- names -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("王", "王"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳锋", "欧阳*"),
        ("欧阳", "欧*"),  # two characters: surname 欧 and given name 阳
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛*"),
        ("上官婉儿", "上官**"),
        ("东方不败", "东方**"),
        ("皇甫嵩", "皇甫*"),
        ("尉迟恭", "尉迟*"),
        ("公孙胜", "公孙*"),
        ("慕容复", "慕容*"),
        ("长孙无忌", "长孙**"),
        ("宇文泰", "宇文*"),
        ("司徒雷登", "司徒**"),
        ("令狐冲", "令狐*"),
        ("夏侯惇", "夏侯*"),
        ("买买提·吐尔逊", "买**·***"),
        (" 李四 ", "李*"),
        ("John Smith", "J*** S****"),
        ("mary-jane watson", "m***-j*** w*****"),
        ("José Ñúñez", "J*** Ñ****"),
        ("", ""),
        (None, ""),
        ("😀", "😀"),
    ],
)
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


@given(st.text(max_size=12))
@example("欧阳娜娜")
@example("欧阳*")
@example("e\u0301mile")
def test_mask_name_is_idempotent(name: str) -> None:
    once = mask_name(name)
    assert mask_name(once) == once


@given(st.sampled_from(sorted(twin.privacy.COMPOUND_SURNAMES)), st.text("娜明华伟芳", max_size=3))
def test_compound_surnames_are_kept_whole(surname: str, given_name: str) -> None:
    masked = mask_name(surname + given_name)
    if given_name:
        assert masked == surname + "*" * len(given_name)


# -- ID numbers --------------------------------------------------------------------------------
def test_mask_id_number_examples() -> None:
    assert mask_id_number("44030619900101123X") == "*" * 16 + "3X"  # wrong check character
    assert mask_id_number("440306199001011236") == "440306********1236"
    assert mask_id_number(" 440306 19900101 1236 ") == "440306********1236"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("４４０３０６１９９００１０１１２３６") == "440306********1236"
    assert mask_id_number("440306900101123") == "440306******123"
    assert mask_id_number("440306901301123") == "*************23"  # 13th month: no ID
    assert mask_id_number("") == mask_id_number(None) == ""
    assert mask_id_number("7") == "7"
    assert mask_id_number("😀😀😀") == "*😀😀"


@given(id_numbers())
def test_mask_id_number_hides_the_birth_date(number: str) -> None:
    masked = mask_id_number(number)
    assert masked == number[:6] + "*" * 8 + number[14:]
    assert mask_id_number(masked) == masked


@given(old_id_numbers)
def test_mask_id_number_hides_the_birth_date_of_old_numbers(number: str) -> None:
    masked = mask_id_number(number)
    assert masked == number[:6] + "******" + number[12:]
    assert mask_id_number(masked) == masked


@given(st.text(max_size=25))
@example("440306********1236")
@example("440306******123")
def test_mask_id_number_is_idempotent_and_hides_all_but_a_few(text: str) -> None:
    once = mask_id_number(text)
    assert mask_id_number(once) == once
    assert sum(c != "*" for c in once) <= 10  # an ID number's place code and last four


# -- phone numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("008613812345678", "+86 138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("0755-87654321", "0755-******21"),
        ("(0755) 8765 4321", "0755-******21"),
        ("010-6234567", "010-*****67"),
        ("+86 755 87654321", "+86 755-******21"),
        ("87654321", "******21"),  # no area code
        ("12345678901", "*********01"),  # not a mobile number
        ("0755-87654321-123", "***************23"),  # extension
        ("12", "12"),
        ("", ""),
        (None, ""),
        ("☎️", "☎️"),
    ],
)
def test_mask_phone(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked


@given(mobiles)
def test_mask_phone_hides_the_middle_of_mobiles(number: str) -> None:
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[7:]
    assert mask_phone(masked) == masked


@given(
    st.sampled_from(["010", "020", "0755", "0769"]),
    st.from_regex(r"[2-9][0-9]{6,7}", fullmatch=True),
)
def test_mask_phone_hides_landlines_but_the_area_code(area: str, local: str) -> None:
    masked = mask_phone(f"{area}-{local}")
    assert masked == f"{area}-" + "*" * (len(local) - 2) + local[-2:]
    assert mask_phone(masked) == masked


@given(st.one_of(st.text(max_size=20), texts))
@example("+86 138****5678")
@example("0755-******21")
def test_mask_phone_is_idempotent(text: str) -> None:
    once = mask_phone(text)
    assert mask_phone(once) == once


# -- free text ---------------------------------------------------------------------------------
def test_mask_text_examples() -> None:
    assert mask_text("张三13812345678") == "张三138****5678"
    assert mask_text("tel:138-1234-5678.") == "tel:138-****-5678."
    assert (
        mask_text("宝安区新安街道１３８１２３４５６７８号") == "宝安区新安街道１３８****５６７８号"
    )
    assert mask_text("id 11010519491231002X ok") == "id 110105********002X ok"
    assert mask_text("old 440306900101123") == "old 440306******123"
    assert mask_text("0086 138 1234 5678") == "0086 138 **** 5678"
    # A kept tail that reads as the start of a phone number is masked too.
    assert mask_text("440306900101139 1234 5678") == "440306******139 **** 5678"
    # Not inside longer runs of digits, not with a wrong check character.
    assert mask_text("order 138123456789") == "order 138123456789"
    assert mask_text("no 11010519491231002Y") == "no 11010519491231002Y"
    assert mask_text("no 110105194912310023") == "no 110105194912310023"
    assert mask_text("12345") == "12345"
    assert mask_text("") == mask_text(None) == ""


@given(no_digits)
def test_mask_text_leaves_text_without_digits_alone(text: str) -> None:
    assert mask_text(text) == text


@given(no_digits, id_numbers(), no_digits)
def test_mask_text_hides_id_numbers_in_place(before: str, number: str, after: str) -> None:
    masked = mask_text(before + number + after)
    assert masked == before + number[:6] + "*" * 8 + number[14:] + after
    assert number[6:14] not in masked.replace(before, "").replace(after, "")


@given(no_digits, mobiles, no_digits)
def test_mask_text_hides_mobiles_in_place(before: str, number: str, after: str) -> None:
    masked = mask_text(before + number + after)
    assert masked == before + number[:3] + "****" + number[7:] + after


@given(no_digits, old_id_numbers, no_digits)
def test_mask_text_hides_old_id_numbers_in_place(before: str, number: str, after: str) -> None:
    assert (
        mask_text(before + number + after) == before + number[:6] + "******" + number[12:] + after
    )


@given(st.one_of(st.text(max_size=40), texts))
@example("440306900101139 1234 5678")
@example("008613812345678")
def test_mask_text_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once
    assert len(once) == len(text)


# -- all of them -------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", MASKERS)
@pytest.mark.parametrize(
    "odd", ["", " ", "\x00", "😀👨‍👩‍👧", "\u200b", "*", "**", "\ud800", "ｘ", "None"]
)
def test_masks_never_raise_on_odd_input(mask: object, odd: str) -> None:
    assert callable(mask)
    once = mask(odd)
    assert isinstance(once, str) and mask(once) == once


def test_doctests() -> None:
    result = doctest.testmod(twin.privacy)
    assert result.attempted >= 10 and result.failed == 0
