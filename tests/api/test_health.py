"""``/healthz`` reports the database, PostGIS and schema versions, and degrades to 503."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from twin.db.migrate import head
from twin.settings import PostgresSettings, TwinSettings


def _settings(url: str) -> TwinSettings:
    return TwinSettings(db=PostgresSettings(database_url=SecretStr(url), connect_timeout_s=2))


@pytest.mark.db
def test_healthz_reports_versions(db_url: str) -> None:
    with TestClient(create_app(_settings(db_url))) as client:
        res = client.get("/healthz")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["status"] == "ok"
    db = body["database"]
    assert db["reachable"] is True
    assert db["postgres"].startswith("15") or int(db["postgres"].split(".")[0]) >= 15
    assert db["postgis"].startswith("3.")
    assert db["schema_version"] == head()


def test_healthz_is_503_when_the_database_is_down() -> None:
    app = create_app(_settings("postgresql://twin:x@127.0.0.1:1/twin"))
    with TestClient(app) as client:
        res = client.get("/healthz")
    assert res.status_code == 503
    body = res.json()
    assert body["status"] == "degraded" and body["database"]["reachable"] is False
    assert "x@" not in res.text  # no secret leaks into the answer


def test_openapi_document_is_served() -> None:
    app = create_app(_settings("postgresql://twin:x@127.0.0.1:1/twin"))
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    assert "/healthz" in spec["paths"]


@pytest.mark.db
def test_pooled_connections_cut_by_the_server_are_replaced(db_url: str, db_conninfo: str) -> None:
    """After the server ends every connection (as a restart does), requests still succeed."""
    import psycopg

    from tests.utils.auth import key_headers

    headers = key_headers(db_conninfo, "planner", name="pool")
    with TestClient(create_app(_settings(db_url))) as client:
        for _ in range(3):  # the pools now hold open connections
            assert client.get("/api/v1/entity-classes", headers=headers).status_code == 200
        with psycopg.connect(db_conninfo, autocommit=True) as admin:
            pids = [r[0] for r in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchall()]  # fmt: skip
            assert pids
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))  # waits 10 s
            # pg_terminate_backend's wait ends when the backend is gone, so its last message
            # has been sent: the pools find the sockets readable, as after a restart.
            left = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchone()
            assert left == (0,)
        for _ in range(3):
            res = client.get("/api/v1/entity-classes", headers=headers)
            assert res.status_code == 200, res.text
        assert client.get("/healthz").status_code == 200
