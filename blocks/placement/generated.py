"""Place the generator's records where its truth says they are (for the demo district).

The generator writes people, companies and events with the address each one really has (its
truth). This places every such record by that code (method ``code``, confidence 1), with the
same facets as a placement from a file, so that block counts, tiles and the viewer show the
demo's population at once. Records already placed are left alone, so it can run twice.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from blocks.placement.prepare import RESIDENCE_KINDS

if TYPE_CHECKING:
    import psycopg

_SQL = """
INSERT INTO twin.placement (record_kind, record_id, district_code, street_code, community_code,
    grid_code, building_code, floor_no, room_code, address_code, method, confidence, band,
    placed_by, input, facets)
SELECT t.record_kind, coalesce(p.id, l.id, e.id), t.district_code, t.street_code,
       t.community_code, t.grid_code, t.building_code, r.floor_no, t.room_code, t.address_code,
       'code', 1, 'accept', %(actor)s, jsonb_build_object('code', t.address_code),
       CASE t.record_kind
         WHEN 'person' THEN CASE WHEN %(kinds)s::jsonb ? lower(p.residence_kind)
             THEN ARRAY['residence:' || (%(kinds)s::jsonb ->> lower(p.residence_kind))]
             ELSE '{}'::text[] END
         WHEN 'legal_entity' THEN CASE WHEN l.industry IS NULL THEN '{}'::text[]
                                       ELSE ARRAY['industry:' || l.industry] END
         ELSE ARRAY['type:' || e.event_type, 'status:' || e.status]
       END
FROM twin.synth_truth AS t
LEFT JOIN twin.person AS p ON t.record_kind = 'person' AND p.source_id = t.source_id
LEFT JOIN twin.legal_entity AS l ON t.record_kind = 'legal_entity' AND l.source_id = t.source_id
LEFT JOIN twin.event AS e ON t.record_kind = 'event' AND e.source_id = t.source_id
LEFT JOIN twin.room AS r ON r.code = t.room_code
WHERE t.record_kind IN ('person', 'legal_entity', 'event')
  AND coalesce(p.id, l.id, e.id) IS NOT NULL
ON CONFLICT DO NOTHING
"""


def place_generated(conn: psycopg.Connection[Any], actor: str) -> int:
    """Place every generated record by its true address; return how many were placed.

    The caller commits.
    """
    cur = conn.execute(_SQL, {"actor": actor, "kinds": json.dumps(RESIDENCE_KINDS)})
    return cur.rowcount
