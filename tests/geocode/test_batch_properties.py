"""Property tests of the table reader: any CSV a spreadsheet could write comes back whole."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geocode.batch import BatchInputError, read_table

#: Cells: any text a clerk could type (no NUL, no lone surrogates), including commas, quotes,
#: semicolons, tabs and line breaks.
CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=30)  # fmt: skip
#: Headers start with 编号 ("number"), as the clerks' files do: in GBK its first byte cannot
#: start UTF-8, so the encoding is never ambiguous (two bytes of GBK alone may be UTF-8 too).
HEADER = st.lists(st.text("abcdefgh地址", min_size=1, max_size=6), max_size=3, unique=True).map(
    lambda names: ["编号", *[n for n in names if n != "编号"]]
)


@settings(max_examples=150, deadline=None)
@given(header=HEADER, data=st.data(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_every_row_a_csv_writer_writes_comes_back(
    header: list[str], data: st.DataObject, encoding: str
) -> None:
    rows = data.draw(st.lists(st.lists(CELL, min_size=len(header), max_size=len(header)),
                              max_size=20))  # fmt: skip
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        path.write_bytes(buf.getvalue().encode(encoding))
        table = read_table(path)
    assert table.columns == header
    assert table.problems == {}
    assert table.rows == rows


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_table_or_a_clear_error(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        path.write_bytes(b"id,address\n" + blob)
        try:
            table = read_table(path)
        except BatchInputError as exc:
            assert "records.csv" in str(exc)
            return
    assert all(len(r) == len(table.columns) for r in table.rows)
    assert set(table.problems) <= set(range(len(table.rows)))


@pytest.mark.parametrize("line", ['1,"unclosed', "1,2,3,4", "only-one-field"])
def test_malformed_lines_are_kept_with_their_problem(line: str, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(f"id,address\n0,宝安区\n{line}\n2,新安街道\n", encoding="utf-8")
    table = read_table(path)
    assert len(table.rows) == 3 and table.rows[2] == ["2", "新安街道"]
    assert list(table.problems) == [1] and table.problems[1].startswith("malformed CSV line")
