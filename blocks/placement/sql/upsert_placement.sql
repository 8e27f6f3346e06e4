-- Placements: one per (record kind, record, role), inserted or updated in one statement, so
-- the count triggers run once per batch. A reviewed placement (confirmed, or corrected by
-- hand) is kept while the record offers the same input; review and reject bands wait for
-- review.
INSERT INTO twin.placement AS p (record_kind, record_id, role, district_code, street_code,
    community_code, grid_code, building_code, floor_no, room_code, address_code, method,
    confidence, band, placed_at, placed_by, input, facets, warnings, review_status,
    reviewed_by, reviewed_at)
SELECT %(record_kind)s, s.record_id, 'primary', s.district_code, s.street_code,
       s.community_code, s.grid_code, s.building_code, s.floor_no, s.room_code, s.address_code,
       s.method, s.confidence, s.band, now(), %(actor)s, s.input, s.facets, s.warnings,
       CASE WHEN s.band = 'accept' THEN NULL ELSE 'pending' END, NULL, NULL
FROM place_stage AS s
WHERE s.record_id IS NOT NULL
ON CONFLICT (record_kind, record_id, role) DO UPDATE
    SET district_code = excluded.district_code, street_code = excluded.street_code,
        community_code = excluded.community_code, grid_code = excluded.grid_code,
        building_code = excluded.building_code, floor_no = excluded.floor_no,
        room_code = excluded.room_code, address_code = excluded.address_code,
        method = excluded.method, confidence = excluded.confidence, band = excluded.band,
        placed_at = excluded.placed_at, placed_by = excluded.placed_by,
        input = excluded.input, facets = excluded.facets, warnings = excluded.warnings,
        review_status = excluded.review_status, reviewed_by = NULL, reviewed_at = NULL
    WHERE coalesce(p.review_status, 'pending') = 'pending' OR p.input IS DISTINCT FROM excluded.input
