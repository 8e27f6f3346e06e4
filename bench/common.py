"""Shared helpers of the benchmarks: a scratch database on the project's cluster, results."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from psycopg import sql

from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect

RESULTS = Path(__file__).resolve().parent / "results"
#: Server configurations the benchmarks compare in one run (``twin serve --jobs`` and the
#: environment): ``new`` as shipped (jobs in the job worker process, single geocoding by the
#: fast path with the described-codes cache); ``old`` as before (jobs in a thread of the
#: server, every geocoding request through the whole stack and a database query);
#: ``siblings`` as shipped but a cache miss also reads the building's other addresses.
SERVER_PATHS: dict[str, tuple[str, dict[str, str]]] = {
    "new": ("process", {}),
    "old": ("thread", {"TWIN_API_GEOCODE_FAST_PATH": "false"}),
    "siblings": ("process", {"TWIN_API_DESCRIBE_SIBLINGS": "true"}),
}


def scratch_database(name: str) -> tuple[LocalCluster, str]:
    """Start the project's local cluster (TWIN_HOME) and return a fresh, migrated database."""
    cluster = LocalCluster(Path(os.environ.get("TWIN_HOME", ".twin")))
    cluster.up()
    with contextlib.closing(connect(cluster.conninfo("postgres"), autocommit=True)) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    conninfo = cluster.create_database(name)
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        migrations.migrate(conn)
    return cluster, conninfo


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write a benchmark's figures to bench/results/NAME.json and print them."""
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerURL(str):
    """The base URL of a server that :func:`api_server` started, with its process id."""

    pid: int

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far (Linux)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def api_server(
    url: str, env: dict[str, str] | None = None, workers: int = 1, jobs: str = "process"
) -> Iterator[str]:
    """Run the API (``twin serve``: ``workers`` server processes, jobs in a job worker process
    or, with ``jobs="thread"``, in the server) on a free port against ``url``; yield its base URL.
    """
    import httpx

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "twin.cli.main", "serve", "--port", str(port), "--log-level",
         "warning", "--workers", str(workers), "--jobs", jobs],
        env={**os.environ, "DATABASE_URL": url, **(env or {})},
    )  # fmt: skip
    base = ServerURL(f"http://127.0.0.1:{port}")
    base.pid = server.pid
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("the API did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
