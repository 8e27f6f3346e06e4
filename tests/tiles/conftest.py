"""Fixtures of the tile tests: an empty migrated database of the module's own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect

from ..conftest import TEST_DB, drop_database, recreate_database


@pytest.fixture(scope="module")
def blank_db(pg_cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """A migrated database with no data, for this module alone: its conninfo and URL."""
    name = f"{TEST_DB}_{request.module.__name__.rsplit('.', 1)[-1]}"
    conninfo = recreate_database(pg_cluster, name)
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        migrations.migrate(conn)
    yield {"conninfo": conninfo, "url": pg_cluster.url(name)}
    drop_database(pg_cluster, name)
