"""``twin serve``: the API and the viewer over HTTP, and the job worker beside them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from typing import Annotated, Literal

import typer

from twin.settings import JOB_WORKER_PARENT_ENV, ApiSettings

logger = logging.getLogger("citytwin.jobs")
#: Seconds between two looks at the job worker.
WATCH_S = 0.2


class WorkerSupervisor:
    """Start the job worker, restart it when it dies, stop it with the server."""

    def __init__(self, env: dict[str, str] | None = None, restart_s: float = 1.0) -> None:
        self.env = env
        self.restart_s = restart_s
        self.restarts = 0
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker and the thread that watches it."""
        self._thread = threading.Thread(target=self._watch, name="job-worker", daemon=True)
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {
            **(self.env if self.env is not None else os.environ),
            JOB_WORKER_PARENT_ENV: str(os.getpid()),
        }
        return subprocess.Popen([sys.executable, "-m", "api.worker"], env=env)

    def _watch(self) -> None:
        # The worker is started from this thread, which lives as long as the server: Linux
        # sends the parent-death signal when the thread that started a child ends.
        while not self._stop.is_set():
            self._proc = self._spawn()
            while self._proc.poll() is None:
                if self._stop.wait(WATCH_S):
                    return
            logger.warning("the job worker ended (%s); starting another", self._proc.returncode)
            self.restarts += 1
            time.sleep(self.restart_s)

    @property
    def pid(self) -> int | None:
        """The worker's process id, while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker (a running job resumes at the next start)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except Exception:  # it would not end: it must not outlive the server
                self._proc.kill()


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    jobs: Annotated[
        Literal["process", "thread"],
        typer.Option(
            help="Run background jobs in a job worker process (restarted when it dies), "
            "or in a thread of each server process."
        ),
    ] = "process",
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"],
        typer.Option(help="Server log level ('warning' leaves out the access log)."),
    ] = "info",
) -> None:
    """Serve the API and the viewer (default http://127.0.0.1:8000)."""
    import uvicorn

    api = ApiSettings()
    # The server processes read this (ApiSettings) when they build the application.
    os.environ["TWIN_API_JOBS"] = jobs
    supervisor = None
    if jobs == "process":
        supervisor = WorkerSupervisor()
        supervisor.start()
    try:
        uvicorn.run(
            "api.asgi:app",
            host=host or api.host,
            port=port or api.port,
            workers=workers,
            reload=reload,
            log_level=log_level,
        )
    finally:
        if supervisor is not None:
            supervisor.stop()
