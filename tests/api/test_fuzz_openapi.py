"""Property-based tests of the whole API from its own OpenAPI document (schemathesis).

Every operation is called with generated inputs, authenticated as each role: no answer is a
5xx, and every answer matches the document (status code, content type, body schema, headers).
Requests the schema allows may still be refused with 422 when they fail a rule the schema
cannot state (a door needs its parent's code, an upload must be the file it claims to be), so
schemathesis's "schema-valid request accepted" check is left out.
The number of examples per operation is bounded (``TWIN_FUZZ_EXAMPLES``, default 10), so the
run stays within a couple of minutes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from tests.conftest import drop_database, fresh_database
from tests.utils.auth import key_headers
from twin.db.cluster import LocalCluster
from twin.keys import ROLES
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db
FUZZ_DB = "twin_test_fuzz"
EXAMPLES = int(os.environ.get("TWIN_FUZZ_EXAMPLES", "10"))
#: A community of Bao'an's Xin'an street: the grid worker's scope.
SCOPE = "440306017001"


@pytest.fixture(scope="module")
def fuzz_app(pg_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    conninfo = fresh_database(pg_cluster, FUZZ_DB)
    settings_ = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(pg_cluster.url(FUZZ_DB))),
        home=tmp_path_factory.mktemp("fuzz-home"),
    )
    app = create_app(settings_, tiles=TileSettings(invalidate_on_change=False))
    app.state.fuzz_headers = {
        role: key_headers(conninfo, role, SCOPE if role == "grid_worker" else None, f"fuzz-{role}")
        for role in ROLES
    }
    with TestClient(app):  # runs the lifespan: pools, geocoder, job runner
        yield app
    drop_database(pg_cluster, FUZZ_DB)


def _fuzz(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    run()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_as(role: str, fuzz_app: Any) -> None:
    """Each operation, generated inputs, one role: no 5xx, every answer as documented."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _fuzz(operation, fuzz_app.state.fuzz_headers[role])
        except (Exception, BaseExceptionGroup) as exc:  # every failure is reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations >= 20
    assert failures == [], "\n\n".join(failures)


def test_nul_characters_are_refused_before_postgresql(fuzz_app: Any) -> None:
    headers = fuzz_app.state.fuzz_headers["admin"]
    with TestClient(fuzz_app) as client:
        res = client.get("/api/v1/addresses/4403%00", headers=headers)
        assert res.status_code == 400 and "NUL" in res.json()["detail"]
        res = client.get("/api/v1/geocode", params={"q": "宝安\x00"}, headers=headers)
        assert res.status_code == 400
        res = client.post(
            "/api/v1/geocode/corrections", json={"text": "a\x00b", "code": "440306"},
            headers=headers,
        )  # fmt: skip
        assert res.status_code == 422 and "NUL" in str(res.json()["detail"])
        res = client.post(
            "/api/v1/entities:code",
            json={"features": [{"type": "Feature", "properties": {"name": "x\x00"}}]},
            headers=headers,
        )
        assert res.status_code == 422 and "NUL" in str(res.json()["detail"])
