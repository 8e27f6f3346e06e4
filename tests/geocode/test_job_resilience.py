"""A geocoding job survives the server being killed and PostgreSQL restarting in its middle.

The test runs its own PostGIS cluster (the restart must not touch the session's) and the real
server (``twin serve``) in a child process, killed with SIGKILL halfway through the job. The
job must resume after its last finished chunk each time, and its result must hold every row
exactly once, in order.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from geocode.batch import CHUNK_ROWS
from tests.conftest import fresh_database
from tests.utils.server import Server, free_port, until
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.keys import create_key

pytestmark = pytest.mark.db
ROWS = 40 * CHUNK_ROWS
DB = "twin_resilience"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    own = LocalCluster(tmp_path / "pg-home")
    own.up()
    try:
        yield own
    finally:
        own.destroy()


def test_a_job_survives_a_killed_server_and_a_postgresql_restart(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    conninfo = fresh_database(cluster, DB)
    with contextlib.closing(connect(conninfo)) as conn:
        communities = [r[0] for r in conn.execute(
            "SELECT name FROM twin.admin_unit WHERE level = 'community' "
            "AND code LIKE '440306017%' ORDER BY code"
        ).fetchall()]  # fmt: skip
        key, _ = create_key(conn, name="clerk", role="admin", created_by="tests")
        conn.commit()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "地址"])
    for i in range(ROWS):
        writer.writerow([i, f"深圳市宝安区新安街道{communities[i % len(communities)]}{i % 97}号"])
    home = tmp_path / "home"
    env = os.environ | {"DATABASE_URL": cluster.url(DB), "TWIN_HOME": str(home)}
    server = Server(env, free_port(), tmp_path / "server.log")
    headers = {"Authorization": f"Bearer {key}"}
    try:
        server.start()
        res = httpx.post(f"{server.url}/api/v1/jobs/geocode", headers=headers,
                         files={"file": ("records.csv", buf.getvalue().encode())},
                         data={"column": "地址", "output": "csv"})  # fmt: skip
        assert res.status_code == 202, res.text
        job_id = res.json()["id"]
        parts = home / "jobs" / job_id / "parts"

        def finished_chunks() -> int:
            return len(list(parts.glob("*.json"))) if parts.is_dir() else 0

        until(lambda: finished_chunks() >= 2, "two finished chunks")
        server.kill()  # SIGKILL in the middle of the job
        killed_at = finished_chunks()
        assert 0 < killed_at < ROWS // CHUNK_ROWS
        server.start()
        until(lambda: finished_chunks() > killed_at + 1, "the job to go on")
        cluster.down()  # PostgreSQL restarts in the middle of the job
        time.sleep(1)
        cluster.up()

        def state() -> dict[str, Any] | None:
            res = httpx.get(f"{server.url}/api/v1/jobs/{job_id}", headers=headers)
            body: dict[str, Any] = res.json() if res.status_code == 200 else {}
            return body if body.get("status") in ("done", "failed") else None

        done = until(state, "the job to finish", timeout=300)
        assert done["status"] == "done", done
        resumed = done["resumed_from"]
        assert resumed[0] == 0 and resumed[1] == killed_at * CHUNK_ROWS, resumed
        assert len(resumed) >= 3 and resumed[2] > resumed[1], resumed
        result = httpx.get(f"{server.url}{done['result_url']}", headers=headers, timeout=60)
        assert result.status_code == 200
        rows = list(csv.DictReader(io.StringIO(result.content.decode("utf-8-sig"))))
        assert [int(r["id"]) for r in rows] == list(range(ROWS))  # every row once, in order
        assert sum(done["bands"].values()) == ROWS
        assert all(r["code"] for r in rows[:50]), rows[:3]
    finally:
        server.kill()
