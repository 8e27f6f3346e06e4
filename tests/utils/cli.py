"""Run the ``twin`` command line in a child process, as a user would."""

from __future__ import annotations

import subprocess
import sys


def twin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``twin ARGS`` with ``env``; return the finished process (output captured as text)."""
    return subprocess.run(
        [sys.executable, "-m", "twin.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
