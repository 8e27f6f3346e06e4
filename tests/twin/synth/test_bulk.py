"""Bulk-load plumbing: the indexes dropped during big runs are exactly the migrations' own."""

from __future__ import annotations

import psycopg
import pytest

from twin.synth.bulk import SECONDARY_INDEXES

pytestmark = pytest.mark.db


def test_secondary_index_definitions_match_the_migrations(db_conninfo: str) -> None:
    names = [n for n, _ in SECONDARY_INDEXES]
    with psycopg.connect(db_conninfo) as conn:
        have = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'twin' "
                "AND indexname = ANY(%s)",
                (names,),
            ).fetchall()
        )
    assert {n: f"CREATE INDEX {n} {d}" for n, d in SECONDARY_INDEXES} == have
