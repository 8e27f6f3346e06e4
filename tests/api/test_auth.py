"""Access control: every route declares what it needs; 401 without a key, 403 for a weak role;
revoked and expired keys, rate limits, the `twin keys` command, and no secret at rest."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.auth import CACHE_S
from api.main import create_app
from tests.utils.auth import key_headers
from tests.utils.cli import twin
from tests.utils.server import until
from twin.keys import PERMISSIONS, create_key, revoke_key
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db
#: The documented public routes.
PUBLIC = {"/", "/healthz", "/viewer/{path:path}", "/openapi.json", "/docs", "/docs/oauth2-redirect",
          "/redoc"}  # fmt: skip
SAMPLE = {"code": "440306017001", "z": "14", "x": "13300", "y": "7100", "layer": "buildings",
          "layers": "buildings", "path": "city/tileset.json", "job_id": "0123456789abcdef",
          "tileset": "city"}  # fmt: skip


def _app(db_url: str) -> Any:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(db_url)))
    return create_app(settings, tiles=TileSettings(invalidate_on_change=False))


@pytest.fixture(scope="module")
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(_app(db_url)) as c:
        yield c


def _names(dependant: Any) -> list[str]:
    out = []
    for dep in dependant.dependencies:
        out.append(getattr(dep.call, "__name__", ""))
        out += _names(dep)
    return out


def _walk(routes: list[Any], inherited: list[Any]) -> Iterator[tuple[APIRoute, list[Any]]]:
    """Every APIRoute, with the dependencies of the routers that include it."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route, inherited
        elif hasattr(route, "original_router"):  # FastAPI's included routers
            more = list(route.include_context.dependencies) + list(
                route.original_router.dependencies
            )
            yield from _walk(route.original_router.routes, inherited + more)


def _routes(app: Any) -> list[tuple[str, str, str | None]]:
    out = []
    for route, inherited in _walk(app.routes, []):
        if route.path in PUBLIC:
            continue
        names = _names(route.dependant) + [d.dependency.__name__ for d in inherited]
        perms = [n.removeprefix("require_") for n in names if n.startswith("require_")]
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, route.path, perms[0] if perms else None))
    return out


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE.get(m.group(1), "x"), path)


def test_every_route_declares_a_known_permission(client: TestClient) -> None:
    routes = _routes(client.app)
    assert len(routes) >= 15
    undeclared = [(m, p) for m, p, perm in routes if perm is None]
    assert undeclared == []
    assert {perm for _, _, perm in routes} <= set(PERMISSIONS)
    documented = set(client.get("/openapi.json").json()["paths"])
    assert {p.replace(":path}", "}") for _, p, _ in routes} <= documented


def test_without_a_key_every_route_answers_401(client: TestClient) -> None:
    for method, path, _ in _routes(client.app):
        res = client.request(method, _url(path), json={} if method != "GET" else None)
        assert res.status_code == 401, (method, path, res.status_code, res.text)
        assert "API key" in res.json()["detail"]
    assert client.get("/healthz").status_code in (200, 503)
    bad = client.get("/api/v1/geocode", params={"q": "x"},
                     headers={"Authorization": "Bearer twin_0123456789ab_" + "A" * 43})  # fmt: skip
    assert bad.status_code == 401 and bad.json()["detail"] == "invalid, revoked or expired API key"


def test_a_planner_gets_403_where_it_needs_more_than_read(
    client: TestClient, db_conninfo: str
) -> None:
    headers = key_headers(db_conninfo, "planner")
    checked = 0
    for method, path, perm in _routes(client.app):
        res = client.request(method, _url(path), json={} if method != "GET" else None,
                             headers=headers)  # fmt: skip
        if perm == "read":
            assert res.status_code not in (401, 403), (method, path, res.text)
        else:
            assert res.status_code == 403, (method, path, res.status_code, res.text)
            assert "planner role may not" in res.json()["detail"]
            checked += 1
    assert checked >= 8


def test_revoked_and_expired_keys_are_refused(db_url: str, db_conninfo: str) -> None:
    with psycopg.connect(db_conninfo) as conn:
        key, p = create_key(conn, name="old", role="admin", created_by="tests")
        hour = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        soon, _ = create_key(conn, name="soon", role="admin", created_by="tests", expires_at=hour)
        conn.execute("UPDATE twin.api_key SET expires_at = now() - interval '1 s' "
                     "WHERE key_id = %s", (soon.split("_")[1],))  # fmt: skip
        conn.execute("UPDATE twin.api_key SET revoked_at = now() WHERE key_id = %s", (p.key_id,))
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM twin.api_key WHERE key_id = %s", (p.key_id,))
    with TestClient(_app(db_url)) as fresh:
        for k in (key, soon):
            res = fresh.get("/api/v1/entity-classes", headers={"X-API-Key": k})
            assert res.status_code == 401


def test_a_revoked_key_is_refused_at_once_though_it_was_cached(
    db_url: str, db_conninfo: str
) -> None:
    with psycopg.connect(db_conninfo) as conn:
        key, p = create_key(conn, name="leaver", role="admin", created_by="tests")
        conn.commit()
    with TestClient(_app(db_url), headers={"X-API-Key": key}) as client:
        assert client.get("/api/v1/entity-classes").status_code == 200  # verified and cached
        with psycopg.connect(db_conninfo) as conn:
            revoke_key(conn, p.key_id)
        # The cache would trust it for CACHE_S seconds; the change notification drops it.
        started = time.monotonic()
        until(lambda: client.get("/api/v1/entity-classes").status_code == 401, "a 401", 5.0)
        assert time.monotonic() - started < CACHE_S / 5


def test_a_system_key_is_rate_limited(db_url: str, db_conninfo: str) -> None:
    with psycopg.connect(db_conninfo) as conn:
        key, _ = create_key(conn, name="crm", role="system", created_by="tests",
                            rate_per_minute=3)  # fmt: skip
        conn.commit()
    with TestClient(_app(db_url)) as fresh:
        codes = [fresh.get("/api/v1/entity-classes", params={"api_key": key}).status_code
                 for _ in range(4)]  # fmt: skip
    assert codes == [200, 200, 200, 429]


def test_keys_on_the_command_line_and_no_secret_at_rest(db_url: str, db_conninfo: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url}
    made = twin(env, "keys", "create", "--role", "planner", "--name", "atlas team", "--days", "30")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert re.fullmatch(r"twin_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key)
    assert "cannot be shown again" in made.stderr
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    listed = twin(env, "keys", "list")
    assert key_id in listed.stdout and "atlas team" in listed.stdout
    assert secret not in listed.stdout
    with psycopg.connect(db_conninfo) as conn:
        dump = conn.execute("SELECT string_agg(t::text, ' ') FROM twin.api_key t").fetchone()[0]
        audit = conn.execute("SELECT string_agg(a::text, ' ') FROM twin.audit_log a").fetchone()[0]
    assert secret not in dump and secret not in (audit or "")
    assert twin(env, "keys", "revoke", key_id).stdout.strip() == f"key {key_id} revoked"
    assert "revoked" in twin(env, "keys", "list").stdout
    weak = twin(env, "keys", "create", "--role", "grid_worker", "--name", "w")
    assert weak.returncode != 0 and "--scope" in weak.stderr


def test_admins_query_the_audit_log(client: TestClient, db_conninfo: str) -> None:
    admin = key_headers(db_conninfo, "admin", name="auditor")
    made = key_headers(db_conninfo, "planner", name="map office")
    key_id = made["Authorization"].split("_")[1]
    res = client.get("/api/v1/audit", params={"table": "api_key", "record": key_id},
                     headers=admin)  # fmt: skip
    assert res.status_code == 200
    (entry,) = res.json()["entries"]
    assert entry["action"] == "insert" and entry["after"]["name"] == "map office"
    assert entry["after"]["role"] == "planner"
    assert client.get("/api/v1/audit", headers=made).status_code == 403


def test_personal_fields_are_masked_in_audit_images() -> None:
    from api.routes.audit import _masked

    image = {"name": "张三丰", "id_number": "440306199001011234", "phone": "13800138000"}
    masked = _masked("person", image)
    assert masked is not None
    assert "张三丰" not in masked.values() and "13800138000" not in masked.values()
    assert masked["id_number"] != image["id_number"]
    assert _masked("address", {"text": "宝安区"}) == {"text": "宝安区"}
