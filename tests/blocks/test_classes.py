"""The entity classification: 9 major, 32 medium and 128 minor classes, GB/T 13923 style."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from blocks.coding.classes import DEFAULT_CLASSES_CSV, read_classes
from blocks.coding.service import list_classes, load_classes
from blocks.errors import EntityClassError

#: GB/T 13923's eight major classes keep their numbers; the ninth is city parts.
MAJORS = {
    "1000": "定位基础",
    "2000": "水系",
    "3000": "居民地及设施",
    "4000": "交通",
    "5000": "管线",
    "6000": "境界与政区",
    "7000": "地貌",
    "8000": "植被与土质",
    "9000": "城市部件",
}


def test_nine_major_32_medium_128_minor_classes() -> None:
    classes = read_classes()
    assert Counter(c.level for c in classes) == {"major": 9, "medium": 32, "minor": 128}
    assert {c.code: c.name_zh for c in classes if c.level == "major"} == MAJORS
    codes = {c.code for c in classes}
    assert all(c.parent_code in codes for c in classes if c.parent_code)
    assert all(c.code.startswith(c.parent_code.rstrip("0")) for c in classes if c.parent_code)
    parts = {c.name_en for c in classes if c.code.startswith("9") and c.level == "minor"}
    assert {"Fire hydrant", "Street lamp", "Surveillance camera", "Lift (elevator)"} <= parts
    assert {"Bench", "Litter bin", "Bus stop shelter", "Power manhole cover"} <= parts


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_CLASSES_CSV.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "classes.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("9404,minor,9400,电动自行车充电桩,E-bike charging post,point\n", "", "not {"),
        ("3101,minor,3100", "3101,minor,3200", "parent '3200' should be '3100'"),
        ("3100,medium,3000", "3110,medium,3000", "does not spell a medium class"),
        ("9101,minor,9100,消防栓,Fire hydrant,point", "9101,minor,9100,消防栓,,point", "both"),
        ("9101,minor,9100,消防栓,Fire hydrant,point", "9101,minor,9100,消防栓,x,line", "parent"),
    ],
)
def test_malformed_classifications_are_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(EntityClassError, match=message.replace("(", r"\(")):
        read_classes(_variant(tmp_path, old, new))


@pytest.mark.db
def test_load_and_list(db: psycopg.Connection[Any]) -> None:
    assert load_classes(db) == 169
    assert load_classes(db) == 169  # reloading updates in place
    minors = list_classes(db, "minor")
    assert len(minors) == 128 and minors[0].code == "1101"
    (n,) = db.execute("SELECT count(*) FROM twin.entity_class").fetchone()  # type: ignore[misc]
    assert n == 169
