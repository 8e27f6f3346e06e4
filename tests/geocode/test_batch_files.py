"""Uploads that are not what they claim: wrong content, binary "text", zip bombs; and logs
that never carry what users typed."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest

from api.logs import QueryRedactingFilter
from geocode.batch import BatchInputError, read_table


def test_a_file_must_be_what_its_name_says(tmp_path: Path) -> None:
    fake = tmp_path / "records.xlsx"
    fake.write_text("地址\n宝安区\n", encoding="utf-8")
    with pytest.raises(BatchInputError, match="is not a xlsx file"):
        read_table(fake)
    parquet = tmp_path / "records.parquet"
    parquet.write_bytes(b"PK\x03\x04 a zip, not parquet")
    with pytest.raises(BatchInputError, match="is not a parquet file"):
        read_table(parquet)
    binary = tmp_path / "records.csv"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
    with pytest.raises(BatchInputError, match="is not a text file"):
        read_table(binary)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(BatchInputError, match="the file is empty"):
        read_table(empty)


def test_a_zip_bomb_inside_an_xlsx_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(20):
                fh.write(chunk)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(BatchInputError, match="possible zip bomb"):
        read_table(bomb)


def test_the_access_log_keeps_no_query_string() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET",
                               "/api/v1/geocode?q=%E5%AE%9D13800138000&api_key=twin_x",
                               "1.1", 200), None)  # fmt: skip
    assert QueryRedactingFilter().filter(record)
    line = record.getMessage()
    assert "/api/v1/geocode?…" in line and "13800138000" not in line and "twin_x" not in line
