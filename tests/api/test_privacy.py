"""No answer and no log line of the API carries a phone or ID number that a user typed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.logs import QueryRedactingFilter
from api.main import create_app
from tests.utils.auth import key_headers
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db
PHONE = "13812345678"
ID_NUMBER = "440306199001011236"
TEXT = f"宝安区新安街道宝民一路 张三 {PHONE} 身份证{ID_NUMBER} 收"


@pytest.fixture(scope="module")
def client(db_url: str) -> Iterator[TestClient]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(db_url)))
    with TestClient(create_app(settings, tiles=TileSettings(invalidate_on_change=False))) as c:
        yield c


def _leaks(payload: Any) -> list[str]:
    text = json.dumps(payload, ensure_ascii=False)
    return [s for s in (PHONE, ID_NUMBER, "19900101") if s in text]


def test_geocoder_answers_never_echo_phone_or_id_numbers(
    client: TestClient, db_conninfo: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = key_headers(db_conninfo, "system", name="privacy")
    with caplog.at_level(logging.DEBUG):
        one = client.get("/api/v1/geocode", params={"q": TEXT}, headers=headers)
        batch = client.post("/api/v1/geocode:batch", json={"addresses": [TEXT, PHONE]},
                            headers=headers)  # fmt: skip
    assert one.status_code == 200 and batch.status_code == 200, (one.text, batch.text)
    assert one.json()["input"].startswith("宝安区新安街道")
    assert "138****5678" in one.json()["input"]
    assert _leaks(one.json()) == [] and _leaks(batch.json()) == []
    server = [r for r in caplog.records if r.name != "httpx"]  # httpx: the test's own client
    assert [r.getMessage() for r in server if _leaks(r.getMessage())] == []


def test_access_log_lines_lose_their_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/v1/geocode?q={PHONE}&api_key=twin_x", "1.1", 200),
        None,
    )  # fmt: skip
    assert QueryRedactingFilter().filter(record)
    line = record.getMessage()
    assert "/api/v1/geocode?…" in line and PHONE not in line and "twin_x" not in line
