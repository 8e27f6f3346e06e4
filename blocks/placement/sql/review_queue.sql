-- One placement by id (any review status), or the pending placements inside a scope (a code
-- prefix; '' for all), a community, a grid and a record kind (each filter NULL for any),
-- oldest first. The record's display name and the placed address's standard text come along.
SELECT p.id, p.record_kind, r.source, r.source_id, r.name, p.district_code, p.street_code,
       p.community_code, p.grid_code, p.building_code, p.floor_no, p.room_code,
       p.address_code, a.text, p.method, p.confidence, p.band, p.input, p.warnings,
       p.placed_at, p.placed_by, p.review_status
FROM twin.placement AS p
JOIN LATERAL (
    SELECT source, source_id, name FROM twin.person WHERE p.record_kind = 'person' AND id = p.record_id
    UNION ALL
    SELECT source, source_id, name FROM twin.legal_entity
    WHERE p.record_kind = 'legal_entity' AND id = p.record_id
    UNION ALL
    SELECT source, source_id, event_type FROM twin.event WHERE p.record_kind = 'event' AND id = p.record_id
) AS r ON true
LEFT JOIN twin.address AS a ON a.code = p.address_code
WHERE (%(id)s::bigint IS NOT NULL AND p.id = %(id)s)
   OR (%(id)s::bigint IS NULL AND p.review_status = 'pending'
  AND (%(scope)s = '' OR coalesce(p.room_code, p.building_code, p.grid_code, p.community_code, '')
                         LIKE %(scope)s || '%%')
  AND (%(community)s::text IS NULL OR p.community_code = %(community)s)
  AND (%(grid)s::text IS NULL OR p.grid_code = %(grid)s)
  AND (%(kind)s::text IS NULL OR p.record_kind = %(kind)s))
ORDER BY p.placed_at, p.id
LIMIT %(limit)s OFFSET %(offset)s
