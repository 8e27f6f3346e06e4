"""Known names per level: the in-memory lexicon, Shenzhen's admin names, suffix rules."""

from __future__ import annotations

from pathlib import Path

from geocode.lexicon import (
    DEFAULT_ADMIN_DIR,
    Lexicon,
    MemoryLexicon,
    admin_lexicon,
    element_by_suffix,
    read_admin_names,
    strip_suffix,
)


def test_reads_the_projects_reference_data() -> None:
    assert DEFAULT_ADMIN_DIR.parts[-2:] == ("data", "admin")
    names = read_admin_names()
    levels = {level for level, _ in names}
    assert levels == {"province", "city", "district", "street", "community"}
    assert ("district", "宝安区") in names
    assert ("street", "新安街道") in names
    assert ("community", "海滨社区") in names
    assert ("district", "大鹏新区") in names
    assert all(not name.endswith("委员会") for _, name in names)


def test_admin_lexicon_finds_full_and_short_forms() -> None:
    lex: Lexicon = admin_lexicon()
    matches = lex.find_all("深圳宝安新安街道海滨社区")
    full = {(m.level, m.name) for m in matches if m.is_full}
    short = {(m.level, m.name) for m in matches if not m.is_full}
    assert ("street", "新安街道") in full
    assert ("community", "海滨社区") in full
    assert ("city", "深圳市") in short
    assert ("district", "宝安区") in short


def test_missing_data_folder_gives_the_province_and_city_only(tmp_path: Path) -> None:
    assert read_admin_names(tmp_path) == [("province", "广东省"), ("city", "深圳市")]


def test_short_forms_never_shadow_full_names() -> None:
    lex = MemoryLexicon([("district", "东区"), ("street", "东区街道")])
    assert lex.levels("东区") == [("district", "东区", True)]


def test_suffix_rules() -> None:
    assert strip_suffix("新安街道", "street") == "新安"
    assert strip_suffix("西乡街道", "street") == "西乡"
    assert strip_suffix("广西壮族自治区", "province") == "广西"
    assert strip_suffix("南区", "district") is None
    assert element_by_suffix("深南大道") == "road"
    assert element_by_suffix("3单元") == "unit"
    assert element_by_suffix("5号楼") == "building"
    assert element_by_suffix("宝安") is None


def test_overlapping_names_are_all_reported() -> None:
    lex = MemoryLexicon([("community", "海滨社区"), ("district", "滨海区")])
    starts = [(m.start, m.end) for m in lex.find_all("海滨社区")]
    assert (0, 4) in starts
