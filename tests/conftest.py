"""Shared fixtures: the project's own PostGIS cluster for the test session, and skip policing.

The session starts a local cluster under ``.twin-test/`` (or ``TWIN_TEST_HOME``), the same
code path ``twin db up`` uses, creates a fresh ``twin_test`` database, migrates it, and stops
the cluster at the end (``TWIN_TEST_KEEP_CLUSTER=1`` leaves it running for quicker reruns).

With ``CI`` or ``TWIN_STRICT_SKIPS`` set, a skipped ``db`` or ``browser`` test fails the run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect

ROOT = Path(__file__).resolve().parents[1]
# One database per test process, so that two sessions on one cluster never clash.
TEST_DB = f"twin_test_{os.getpid()}"
_STRICT_MARKERS = ("db", "browser")
_skipped_strict: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and any(m in report.keywords for m in _STRICT_MARKERS):
        _skipped_strict.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    strict = os.environ.get("CI") or os.environ.get("TWIN_STRICT_SKIPS")
    if strict and _skipped_strict and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped_strict:
        strict = os.environ.get("CI") or os.environ.get("TWIN_STRICT_SKIPS")
        verdict = "FAILING the run" if strict else "allowed outside CI"
        terminalreporter.write_line(
            f"{len(_skipped_strict)} db/browser tests were SKIPPED ({verdict}):", red=True
        )
        for nodeid in _skipped_strict:
            terminalreporter.write_line(f"  {nodeid}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    """The test session's local PostGIS cluster."""
    home = Path(os.environ.get("TWIN_TEST_HOME", ROOT / ".twin-test"))
    cluster = LocalCluster(home)
    was_running = cluster.status().running
    cluster.up()
    yield cluster
    if not was_running and not os.environ.get("TWIN_TEST_KEEP_CLUSTER"):
        cluster.down()


def recreate_database(cluster: LocalCluster, name: str) -> str:
    """Drop and create database ``name`` in the cluster; return its connection string."""
    drop_database(cluster, name)
    return cluster.create_database(name)


def fresh_database(cluster: LocalCluster, name: str) -> str:
    """Recreate a database, migrate it and load the real administrative units."""
    from twin.load.admin import load_admin

    conninfo = recreate_database(cluster, name)
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        migrations.migrate(conn)
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
    return conninfo


def drop_database(cluster: LocalCluster, name: str) -> None:
    """Drop database ``name`` from the cluster (closing its connections)."""
    with contextlib.closing(connect(cluster.conninfo("postgres"), autocommit=True)) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def db_conninfo(pg_cluster: LocalCluster) -> Iterator[str]:
    """A fresh, migrated test database; its libpq connection string."""
    conninfo = recreate_database(pg_cluster, TEST_DB)
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        migrations.migrate(conn)
        assert migrations.current_version(conn) == migrations.head()
    yield conninfo
    drop_database(pg_cluster, TEST_DB)


@pytest.fixture(scope="session")
def db_url(pg_cluster: LocalCluster, db_conninfo: str) -> str:
    """The test database as a ``postgresql://`` URL over TCP (as DATABASE_URL would be)."""
    return pg_cluster.url(TEST_DB)


@pytest.fixture
def db(db_conninfo: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose work is rolled back after the test."""
    conn = connect(db_conninfo)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture(scope="session")
def placed_street_url(pg_cluster: LocalCluster) -> Iterator[str]:
    """A database of its own with the ``small`` street of Bao'an, every record placed; its URL."""
    from tests.utils.street import placed_street

    name = f"{TEST_DB}_street"
    yield placed_street(pg_cluster, name)
    drop_database(pg_cluster, name)
