"""The command line: help everywhere, one clear sentence on errors, DATABASE_URL honoured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from twin.cli.main import app

TWIN = [sys.executable, "-m", "twin.cli.main"]


def _all_commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            found += _all_commands(sub, (*prefix, name))
    return found


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    commands = _all_commands(root)
    assert ("db", "up") in commands and ("db", "reset") in commands
    runner = CliRunner()
    for path in commands:
        out = runner.invoke(app, [*path, "--help"])
        assert out.exit_code == 0, (path, out.output)
        assert "Usage:" in out.output


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run([*TWIN, *args], capture_output=True, text=True, env=full, check=False)


def test_wrong_database_url_is_one_clear_sentence() -> None:
    out = _run(["db", "migrate"], {"DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none"})
    assert out.returncode == 1
    assert out.stderr.startswith("error: cannot connect to the database at ")
    assert "nobody:***@" in out.stderr  # the password is hidden
    assert "Traceback" not in out.stderr + out.stdout


def test_malformed_database_url_is_one_clear_sentence() -> None:
    out = _run(["db", "migrate"], {"DATABASE_URL": "postgresql://[bad"})
    assert out.returncode == 1
    assert "error:" in out.stderr and "Traceback" not in out.stderr


def test_stopped_local_database_says_what_to_run(tmp_path: Path) -> None:
    out = _run(["db", "migrate"], {"TWIN_HOME": str(tmp_path), "DATABASE_URL": ""})
    assert out.returncode == 1
    assert "twin db up" in out.stderr and "Traceback" not in out.stderr


def test_status_of_an_uncreated_home(tmp_path: Path) -> None:
    out = _run(["db", "status", "--json"], {"TWIN_HOME": str(tmp_path), "DATABASE_URL": ""})
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["mode"] == "local" and facts["initialised"] is False


@pytest.mark.db
def test_database_url_is_used_by_every_command(db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_url, "TWIN_HOME": str(tmp_path)}
    status = _run(["db", "status", "--json"], env)
    assert status.returncode == 0, status.stderr
    facts = json.loads(status.stdout)
    assert facts["mode"] == "external" and facts["reachable"] is True
    assert facts["schema_version"] == facts["schema_head"]
    assert ":***@" in facts["url"]
    up = _run(["db", "up"], env)
    assert up.returncode == 0 and "nothing to start" in up.stdout
    assert not (tmp_path / "pg").exists()  # no local cluster was made
    down = _run(["db", "down"], env)
    assert "does not stop outside servers" in down.stdout
    assert _run(["db", "url"], env).stdout.strip() == db_url


@pytest.mark.db
def test_a_newer_schema_is_one_clear_sentence(db_url: str, db_conninfo: str) -> None:
    import psycopg

    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO twin.schema_migrations VALUES (998, 'future', 'x')")
    try:
        out = _run(["db", "migrate"], {"DATABASE_URL": db_url})
        assert out.returncode == 1
        assert "schema version 998, newer than this citytwin" in out.stderr
        assert "Traceback" not in out.stderr
    finally:
        with psycopg.connect(db_conninfo, autocommit=True) as conn:
            conn.execute("DELETE FROM twin.schema_migrations WHERE version = 998")
