"""``twin serve`` in a child process that a test may kill, and waiting for a condition."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import httpx
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def until(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Return ``check()`` once truthy (an HTTP error counts as not yet); fail after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(httpx.HTTPError):
            found = check()
            if found:
                return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Server:
    """``twin serve`` in a child process, which the test may kill."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers ``/healthz``."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "twin.cli.main", "serve", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        until(lambda: httpx.get(f"{self.url}/healthz").status_code == 200, "the server")

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL the server (if it runs) and wait for it to end."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


class ReadyClient(TestClient):
    """A test client that waits, on entry, until the tile change listener is connected."""

    def __enter__(self) -> ReadyClient:
        super().__enter__()
        ready = self.app.state.tiles_ready  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5
        while not ready.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.is_set(), "the tile change listener did not connect"
        return self
