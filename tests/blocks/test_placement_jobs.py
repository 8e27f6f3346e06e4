"""Placement jobs: a file placed in the background over HTTP with its report, and a job whose
database goes away in the middle, resumed after its last stored chunk with nothing placed
twice and nothing lost."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from blocks.placement.jobs import JOB_CHUNK_ROWS, PLACE_JOB, check_table, place_params
from geocode.batch import read_table
from geocode.jobs import JobContext, JobHandler, JobInterruptedError, JobStore, run_job
from geocode.service import Geocoder
from tests.blocks.placement_data import truth
from tests.utils.auth import key_headers
from tests.utils.server import Server, free_port, until
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.keys import create_key
from twin.settings import PostgresSettings, TileSettings, TwinSettings

from ..conftest import TEST_DB, drop_database, fresh_database

pytestmark = pytest.mark.db


def _csv(conninfo: str, n: int) -> bytes:
    rows = truth(conninfo, "legal_entity", n)
    lines = ["编号,企业名称,经营地址"] + [f"{r['source_id']},公司{i},{r['messy_address']}"
                                          for i, r in enumerate(rows)]  # fmt: skip
    return ("\n".join(lines) + "\n").encode("gbk")


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _ in range(600):
        state = client.get(f"/api/v1/jobs/{job_id}").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {state}")


def test_a_placement_job_over_http(street: tuple[str, str], tmp_path: Path) -> None:
    settings = TwinSettings(home=tmp_path, db=PostgresSettings(database_url=SecretStr(street[1])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    data = _csv(street[0], 60)
    with TestClient(app, headers=key_headers(street[0], "system", None, "crm")) as client:
        res = client.post("/api/v1/jobs/place", files={"file": ("firms.csv", data)},
                          data={"kind": "company", "source": "amr-file"})  # fmt: skip
        assert res.status_code == 202, res.text
        state = _wait(client, res.json()["id"])
        assert state["status"] == "done" and state["done_rows"] == 60, state
        assert state["kind"] == "place" and sum(state["bands"].values()) == 60
        assert state["bands"].get("placed", 0) >= 50
        report = client.get(state["result_url"])
        assert report.status_code == 200
        (tmp_path / "r.csv").write_bytes(report.content)
        table = read_table(tmp_path / "r.csv")
        assert len(table.rows) == 60 and table.columns[:3] == ["row", "id", "status"]
        with psycopg.connect(street[0]) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM twin.legal_entity WHERE source = 'amr-file'"
            ).fetchone()
        assert stored == (60,)
        bad = client.post("/api/v1/jobs/place", files={"file": ("firms.csv", data)},
                          data={"kind": "company", "code_column": "nope"})  # fmt: skip
        assert bad.status_code == 422 and "'nope' is not a column" in bad.json()["detail"]
        assert not [p for p in (tmp_path / "jobs").iterdir() if p.name != res.json()["id"]]


def test_a_job_resumes_after_the_database_went_away(
    street: tuple[str, str], tmp_path: Path
) -> None:
    store = JobStore(tmp_path / "jobs")
    params = place_params("company", "resume-test", {}, chunk_rows=10)
    job = store.create("f.csv", _csv(street[0], 40), "", "csv", "clerk", kind="place",
                       params=params, check=check_table(params))  # fmt: skip
    with psycopg.connect(street[0]) as conn:
        index = Geocoder.from_db(conn).index

    def cut_after_two_chunks(ctx: JobContext) -> dict[str, int]:
        progress = ctx.progress

        def counted(n: int) -> None:
            progress(n)
            if ctx.job.done_rows == 20:  # the database restarts
                with psycopg.connect(street[0], autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (ctx.conn.info.backend_pid,))

        ctx.progress = counted  # type: ignore[method-assign]
        return PLACE_JOB.run(ctx)

    with contextlib.closing(connect(street[0])) as conn, pytest.raises(JobInterruptedError):
        run_job(
            store,
            job.id,
            conn,
            index,
            {"place": JobHandler(cut_after_two_chunks, PLACE_JOB.resume_from)},
        )
    stopped = store.get(job.id)
    assert stopped.status == "queued" and stopped.done_rows == 20
    with contextlib.closing(connect(street[0])) as conn:
        done = run_job(store, job.id, conn, index, {"place": PLACE_JOB})
    assert done.status == "done" and done.done_rows == 40 and done.attempts == 2
    with psycopg.connect(street[0]) as conn:
        counts = conn.execute(
            "SELECT count(*), count(DISTINCT r.source_id) FROM twin.placement p "
            "JOIN twin.legal_entity r ON r.id = p.record_id AND p.record_kind = 'legal_entity' "
            "WHERE r.source = 'resume-test'"
        ).fetchone()
    assert counts == (40, 40)
    report = read_table(store.result_path(job.id))
    assert [int(r[0]) for r in report.rows] == list(range(1, 41))


def test_a_placement_job_survives_a_killed_server(pg_cluster: LocalCluster, tmp_path: Path) -> None:
    name = f"{TEST_DB}_place_kill"
    conninfo = fresh_database(pg_cluster, name)
    with contextlib.closing(connect(conninfo)) as conn:
        grids = [r[0] for r in conn.execute(  # communities of Bao'an: placed by code
            "SELECT code FROM twin.admin_unit WHERE level = 'community' AND code LIKE '440306%' "
            "ORDER BY code").fetchall()]  # fmt: skip
        key, _ = create_key(conn, name="clerk", role="admin", created_by="tests")
        conn.commit()
    rows = 6 * JOB_CHUNK_ROWS
    body = "id,事件类型,发生时间,code\n" + "".join(
        f"k{i},噪音扰民,2025-05-01,{grids[i % len(grids)]}\n" for i in range(rows)
    )
    env = os.environ | {"DATABASE_URL": pg_cluster.url(name), "TWIN_HOME": str(tmp_path)}
    server = Server(env, free_port(), tmp_path / "server.log")
    headers = {"Authorization": f"Bearer {key}"}
    try:
        server.start()
        res = httpx.post(f"{server.url}/api/v1/jobs/place", headers=headers,
                         files={"file": ("events.csv", body.encode())},
                         data={"kind": "event", "source": "hotline"})  # fmt: skip
        assert res.status_code == 202, res.text
        job_id = res.json()["id"]
        store = JobStore(tmp_path / "jobs")
        until(lambda: store.get(job_id).done_rows >= JOB_CHUNK_ROWS, "a stored chunk")
        server.kill()  # SIGKILL in the middle of the job
        killed_at = store.get(job_id).done_rows
        assert 0 < killed_at < rows and killed_at % JOB_CHUNK_ROWS == 0
        server.start()

        def state() -> dict[str, Any] | None:
            got = httpx.get(f"{server.url}/api/v1/jobs/{job_id}", headers=headers).json()
            return got if got.get("status") in ("done", "failed") else None

        done = until(state, "the job to finish", timeout=300)
        assert done["status"] == "done" and done["resumed_from"][:2] == [0, killed_at], done
        report = httpx.get(f"{server.url}{done['result_url']}", headers=headers, timeout=60)
        lines = list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
        assert [int(r["row"]) for r in lines] == list(range(1, rows + 1))
        assert {r["status"] for r in lines} == {"placed"}
    finally:
        server.kill()
    with psycopg.connect(conninfo) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT e.source_id) FROM twin.event e "
            "JOIN twin.placement p ON p.record_kind = 'event' AND p.record_id = e.id "
            "WHERE e.source = 'hotline'"
        ).fetchone()
    assert stored == (rows, rows)  # nothing lost, nothing twice
    drop_database(pg_cluster, name)
