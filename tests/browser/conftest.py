"""What the browser tests share: the tools they need, the API in a thread, the node driver.

The API runs with uvicorn on a free port of 127.0.0.1 in a thread; node scripts drive Debian's
``/usr/bin/chromium`` with playwright-core (no browser is ever downloaded). A missing Chromium,
node, playwright-core or viewer build skips, which fails the run under ``CI`` or
``TWIN_STRICT_SKIPS``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.main import create_app
from twin.settings import TwinSettings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
NODE_MODULES = ROOT / "web" / "node_modules"
VIEWER = ROOT / "web" / "dist"
HOST = "127.0.0.1"


def require_tools(page: str) -> str:
    """Return node's path; skip when a tool or the built page (``web/dist/<page>``) is missing."""
    node = shutil.which("node")
    missing = [
        what
        for what, ok in [
            ("Chromium (/usr/bin/chromium: make system-deps)", CHROMIUM.is_file()),
            ("node (make system-deps)", node is not None),
            ("playwright-core (make web-deps)", (NODE_MODULES / "playwright-core").is_dir()),
            (f"the viewer build {page} (make web-deps)", (VIEWER / page).is_file()),
        ]
        if not ok
    ]
    if missing or node is None:
        pytest.skip("missing: " + ", ".join(missing))
    return node


@contextmanager
def serve(settings: TwinSettings) -> Iterator[str]:
    """Run the API on a free port of 127.0.0.1 in a thread; yield its base URL."""
    sock = socket.socket()
    sock.bind((HOST, 0))
    uv = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://{HOST}:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        sock.close()


def drive(node: str, script: Path, opts: dict[str, Any], timeout_s: int = 300) -> dict[str, Any]:
    """Run a node driver script with its options (one JSON argument); return its JSON answer."""
    run = subprocess.run(
        [node, str(script), json.dumps(opts)],
        env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin", "HOME": opts["home"]},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result
