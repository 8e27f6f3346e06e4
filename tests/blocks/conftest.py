"""Fixtures of the block store tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import pytest

from blocks.coding.service import load_classes
from geocode.service import Geocoder
from tests.blocks.placement_data import DISTRICT, STREET
from tests.blocks.seed import clean_committed, seed_communities
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.synth.run import generate

from ..conftest import TEST_DB, drop_database, fresh_database


@pytest.fixture
def committed(db_conninfo: str) -> Iterator[str]:
    """The two communities and the classes, committed; everything coded is removed after."""
    clean_committed(db_conninfo)
    with psycopg.connect(db_conninfo) as conn:
        seed_communities(conn)
        load_classes(conn)
    yield db_conninfo
    clean_committed(db_conninfo)


@pytest.fixture(scope="module")
def street(pg_cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A database of its own per test module holding one generated street (seed 3).

    Its libpq connection string and its URL.
    """
    name = f"{TEST_DB}_{request.module.__name__.rsplit('.', 1)[-1]}"
    conninfo = fresh_database(pg_cluster, name)
    with contextlib.closing(connect(conninfo)) as conn:
        generate(conn, DISTRICT, "small", 3, street=STREET)
    yield conninfo, pg_cluster.url(name)
    drop_database(pg_cluster, name)


@pytest.fixture(scope="module")
def geocoder(street: tuple[str, str]) -> Geocoder:
    """The street's geocoder."""
    with psycopg.connect(street[0]) as conn:
        return Geocoder.from_db(conn)
