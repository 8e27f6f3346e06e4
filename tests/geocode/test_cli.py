"""``twin parse --input FILE --output FILE --labels ccks|naacl`` on a small file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app

LINES = [
    "广东省深圳市宝安区新安街道海滨社区宝城76区翻身路45号富源大厦A座1203室",
    "",
    "深圳市南山区粤海街道科苑路15号（近地铁站）",
    "😀",
]


@pytest.mark.parametrize("labels", ["ccks", "naacl"])
def test_twin_parse_writes_one_line_per_input_line(tmp_path: Path, labels: str) -> None:
    src = tmp_path / "in.txt"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["parse", "--input", str(src), "--output", str(out), "--labels", labels]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == LINES
    for row in rows:
        for span in row["spans"]:
            assert row["text"][span["start"] : span["end"]] == span["text"]
    first = {(s["label"], s["text"]) for s in rows[0]["spans"]}
    assert ("prov", "广东省") in first
    assert ("district", "宝安区") in first
    assert ("road", "翻身路") in first


def test_gbk_input_and_unknown_labels(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes("深圳市宝安区翻身路45号\n".encode("gbk"))
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "twin.cli.main", "parse", "-i", str(src), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["text"] == "深圳市宝安区翻身路45号"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin.cli.main",
            "parse",
            "-i",
            str(src),
            "-o",
            str(out),
            "--labels",
            "xyz",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "unknown label set" in proc.stderr
