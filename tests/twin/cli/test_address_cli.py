"""``twin address``: show, alias add, retire, import with a per-row report, export as of a date."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.utils.blocks import DISTRICT, X0, Y0, seed_chain
from tests.utils.cli import twin

pytestmark = pytest.mark.db


@pytest.fixture
def env(db_url: str, db_conninfo: str) -> Iterator[dict[str, str]]:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
    yield {**os.environ, "DATABASE_URL": db_url}
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute("SET twin.bulk = 'on'")
        for table in ("address", "address_history", "code_counter", "admin_unit"):
            conn.execute(f"DELETE FROM twin.{table}")


def test_import_show_alias_retire_export(env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        ("district", "广东省深圳市宝安区", "", DISTRICT, "", "", ""),
        ("road", "宝安区翻身路", DISTRICT, "", "", "", ""),
        ("door", "宝安区翻身路45号", "440306R00001", "", X0 + 0.005, Y0 + 0.005, "翻身路45号"),
        ("door", "宝安区翻身路47号", "440306R00001", "", X0 + 0.006, Y0 + 0.006, ""),
        ("door", "无位置门牌", "440306R00001", "", "", "", ""),
    ]
    src = tmp_path / "addresses.csv"
    with src.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(("level", "text", "parent_code", "unit_code", "lon", "lat", "aliases"))
        out.writerows(rows)
    imported = twin(env, "address", "import", str(src))
    assert imported.returncode == 0, imported.stderr
    assert "row 5: rejected: a door address needs a location" in imported.stdout
    assert "4 addresses created, 1 rejected" in imported.stdout
    door = "440306017001D00001"
    shown = json.loads(twin(env, "address", "show", door).stdout)
    assert shown["text"] == "宝安区翻身路45号" and shown["aliases"] == ["翻身路45号"]
    assert twin(env, "address", "alias", "add", door, "翻身路四十五号").returncode == 0
    retired = twin(
        env, "address", "retire", door, "--successor", "440306017001D00002", "--reason", "merged"
    )
    assert retired.returncode == 0, retired.stderr
    dump = tmp_path / "doors.csv"
    assert twin(env, "address", "export", str(dump), "--level", "door").returncode == 0
    exported = {r["code"]: r for r in csv.DictReader(dump.open(encoding="utf-8"))}
    assert exported[door]["status"] == "retired"
    assert exported[door]["successors"] == "440306017001D00002"
    assert exported[door]["aliases"] == "翻身路45号|翻身路四十五号"
    early = tmp_path / "early.csv"
    assert twin(env, "address", "export", str(early), "--as-of", "2000-01-01").returncode == 0
    assert early.read_text(encoding="utf-8").count("\n") == 1  # the header only
    missing = twin(env, "address", "show", "440306017001D09999")
    assert missing.returncode == 1 and "no standard address" in missing.stderr
