"""``twin serve`` runs jobs in a job worker process: restarted when it dies, gone with the server.

The server process itself runs no job (it only stores them); that the worker runs them as
durably as the in-process runner did is tested by tests/geocode/test_job_resilience.py and
tests/blocks/test_placement_jobs.py, which kill ``twin serve`` in the middle of a job.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_DB, drop_database, fresh_database
from tests.utils.server import Server, free_port, until
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.keys import create_key

pytestmark = pytest.mark.db


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _worker_of(pid: int) -> int | None:
    for child in _children(pid):
        with contextlib.suppress(OSError):
            if b"api.worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
    return None


def _is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_the_job_worker_is_restarted_and_ends_with_the_server(
    pg_cluster: LocalCluster, tmp_path: Path
) -> None:
    name = f"{TEST_DB}_worker"
    conninfo = fresh_database(pg_cluster, name)
    with contextlib.closing(connect(conninfo)) as conn:
        key, _ = create_key(conn, name="clerk", role="admin", created_by="tests")
        conn.commit()
    env = os.environ | {"DATABASE_URL": pg_cluster.url(name), "TWIN_HOME": str(tmp_path)}
    server = Server(env, free_port(), tmp_path / "server.log")
    headers = {"Authorization": f"Bearer {key}"}
    try:
        server.start()
        assert server.proc is not None
        first = until(lambda: _worker_of(server.proc.pid), "the job worker")  # type: ignore[union-attr]
        os.kill(first, signal.SIGKILL)
        second = until(
            lambda: (w := _worker_of(server.proc.pid)) != first and w,  # type: ignore[union-attr]
            "a new job worker",
        )
        data = "地址\n深圳市宝安区新安街道\n深圳市宝安区西乡街道\n".encode()
        res = httpx.post(f"{server.url}/api/v1/jobs/geocode", headers=headers,
                         files={"file": ("a.csv", data)}, data={"column": "地址"})  # fmt: skip
        assert res.status_code == 202, res.text

        def state() -> dict[str, Any] | None:
            got: dict[str, Any] = httpx.get(f"{server.url}{res.json()['url']}",
                                            headers=headers).json()  # fmt: skip
            return got if got["status"] in ("done", "failed") else None

        done = until(state, "the job to finish", timeout=180)
        assert done["status"] == "done" and done["done_rows"] == 2, done
        assert not (tmp_path / "jobs" / ".queue" / done["id"]).exists()
        server.kill()
        until(lambda: not _is_alive(second), "the job worker to end with the server")
    finally:
        server.kill()
        drop_database(pg_cluster, name)
