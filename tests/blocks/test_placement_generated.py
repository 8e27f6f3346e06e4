"""The demo's records placed by the generator's truth: counts and facets as from a file."""

from __future__ import annotations

import contextlib

import pytest

from blocks.placement.generated import place_generated
from twin.db.connect import connect

pytestmark = pytest.mark.db


def test_every_generated_record_is_placed_once_with_its_facets(placed_street_url: str) -> None:
    with contextlib.closing(connect(placed_street_url)) as conn:
        truth = conn.execute(
            "SELECT record_kind, count(*) FROM twin.synth_truth WHERE record_kind IN "
            "('person', 'legal_entity', 'event') GROUP BY 1 ORDER BY 1"
        ).fetchall()
        placed = conn.execute(
            "SELECT record_kind, count(*) FROM twin.placement WHERE method = 'code' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert placed == truth
        assert place_generated(conn, "again") == 0  # a second run places nothing twice
        street = conn.execute(
            "SELECT people, companies, events FROM twin.block_counts WHERE code = '440306017'"
        ).fetchone()
        assert street == tuple(n for _, n in sorted(truth, key=lambda r: ["person",
                               "legal_entity", "event"].index(r[0])))  # fmt: skip
        facets = dict(conn.execute(
            "SELECT facet, n FROM twin.block_facet_counts WHERE code = '440306017' "
            "AND record_kind = 'person' AND facet LIKE 'residence:%'"
        ).fetchall())  # fmt: skip
        kinds = dict(conn.execute(
            "SELECT 'residence:' || residence_kind, count(*) FROM twin.person p "
            "JOIN twin.placement pl ON pl.record_kind = 'person' AND pl.record_id = p.id "
            "WHERE residence_kind IS NOT NULL GROUP BY 1"
        ).fetchall())  # fmt: skip
        assert facets == kinds and set(facets) >= {"residence:household", "residence:rental"}
        conn.rollback()
