"""The normaliser: examples of each rule, and properties over any unicode string."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geocode.normalize import normalize
from geocode.numerals import find_numbers, to_digits

_DIGIT = re.compile(r"[0-9０-９]")

# Address-like text: the characters the rules care about, so that the properties reach them.
_ADDRESS_CHARS = (
    "0123456789０１２３４５６７８９一二三四五六七八九十百千零〇两"
    "号栋座幢楼层室房户单元巷弄期区组#F路街道近旁对面附电话手机"
    "()（）【】,，;；/、_-—  \t\n深圳宝安廣東區號樓AaＢ😀\x00\u200b"
)
address_text = st.text(alphabet=_ADDRESS_CHARS, max_size=60)
any_text = st.text(max_size=80)


def _digits(text: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if c > "9" else c for c in _DIGIT.findall(text))


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("廣東省深圳市寶安區", "广东省深圳市宝安区"),
        ("翻身路４５號", "翻身路45号"),
        ("富源大厦Ａ座1203房", "富源大厦A栋1203室"),
        ("十二栋", "12栋"),
        ("一〇二室", "102室"),
        ("二十三栋三楼", "23栋3层"),
        ("三元里", "三元里"),
        ("十里铺", "十里铺"),
        ("八一新村", "八一新村"),
        ("5号楼3单元", "5栋3单元"),
        ("3#楼", "3栋"),
        ("7幢", "7栋"),
        ("12F", "12层"),
        ("5楼3单元", "5栋3单元"),
        ("第五期", "第5期"),
        ("深南大道一〇二", "深南大道102"),
        ("301户", "301室"),
        ("宝安区  新安街道", "宝安区新安街道"),
        ("ROOM 1203", "ROOM 1203"),
        ("宝安区,,,新安--街道", "宝安区,新安-街道"),
        (",宝安区;", "宝安区"),
    ],
)
def test_examples(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_noise_is_removed_and_reported() -> None:
    n = normalize("南山区科技园(靠近地铁站)8栋 电话:13812345678😀")
    assert n.text == "南山区科技园8栋"
    kinds = {r.kind for r in n.removed}
    assert {"note", "phone", "emoji"} <= kinds
    assert any("phone" in w for w in n.warnings)
    for r in n.removed:
        assert n.original[r.start : r.end] == r.text


def test_relative_phrases() -> None:
    assert normalize("翻身路45号,近宝安中心").text == "翻身路45号"
    assert normalize("金湖小学旁").text == "金湖小学"
    assert normalize("华润万家对面").text == "华润万家"
    # kept for the parser when asked
    assert normalize("金湖小学旁", strip_relative=False).text == "金湖小学旁"
    # a name that starts with 近 is not a phrase
    assert normalize("近江家园").text == "近江家园"


def test_brackets_with_address_text_keep_it() -> None:
    n = normalize("富源大厦(A座)1203")
    assert n.text == "富源大厦A栋1203"
    assert [r.kind for r in n.removed] == ["bracket", "bracket"]


def test_landline_and_masked_digits() -> None:
    assert normalize("宝安区0755-83281234").text == "宝安区"
    # the corpora mask digits to 0: long zero runs are not phone numbers
    assert normalize("原单号000000000000").text == "原单号000000000000"


def test_offsets_map_back() -> None:
    n = normalize("（备注）宝安区翻身路四十五号富源大廈Ａ座")
    i = n.text.index("45号")
    s, e = n.to_original(i, i + 3)
    assert n.original[s:e] == "四十五号"
    j = n.text.index("富源大厦")
    s, e = n.to_original(j, j + 4)
    assert n.original[s:e] == "富源大廈"


def test_numerals() -> None:
    assert to_digits("二十三") == "23"
    assert to_digits("十") == "10"
    assert to_digits("一百零五") == "105"
    assert to_digits("两千") == "2000"
    assert to_digits("十十") is None
    assert find_numbers("十里铺三号") == [(3, 4, "3")]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(address_text, any_text))
def test_idempotent(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == once


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(address_text, any_text))
def test_never_loses_a_digit(text: str) -> None:
    n = normalize(text)
    kept = list(text)
    for r in n.removed:
        if r.kind == "phone":
            kept[r.start : r.end] = [""] * (r.end - r.start)
    assert _is_subsequence(_digits("".join(kept)), _digits(n.text))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(address_text, any_text))
def test_offset_map_is_consistent(text: str) -> None:
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for a, b in zip(n.starts, n.ends, strict=True):
        assert 0 <= a < b <= len(text)
    assert n.starts == sorted(n.starts)
    s, e = n.to_original(0, len(n.text))
    assert 0 <= s <= e <= len(text)


def _ten_thousand(piece: str) -> str:
    return (piece * (10_000 // len(piece) + 1))[:10_000]


@settings(max_examples=25, deadline=None)
@given(st.one_of(address_text, any_text).filter(bool).map(_ten_thousand))
def test_long_strings(text: str) -> None:
    n = normalize(text)
    assert len(n.text) <= 4 * len(text)  # 千 → 1000 is the longest rewrite
    assert normalize(n.text).text == n.text


def test_any_unicode_does_not_crash() -> None:
    every = "".join(chr(c) for c in range(0, 0x30000, 7))
    assert isinstance(normalize(every).text, str)
    assert normalize("").text == ""
    assert normalize("😀😀😀").text == ""
