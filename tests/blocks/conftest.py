"""Fixtures of the block store tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from blocks.coding.service import load_classes
from tests.blocks.seed import clean_committed, seed_communities


@pytest.fixture
def committed(db_conninfo: str) -> Iterator[str]:
    """The two communities and the classes, committed; everything coded is removed after."""
    clean_committed(db_conninfo)
    with psycopg.connect(db_conninfo) as conn:
        seed_communities(conn)
        load_classes(conn)
    yield db_conninfo
    clean_committed(db_conninfo)
