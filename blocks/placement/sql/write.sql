-- The rest of a batch's one statement, after the record upsert of its kind (``rec``,
-- upsert_<kind>.sql): the placements, the audit summary and what the store holds, in one
-- round trip; the count triggers run once per batch.
--
-- Placements: one per (record kind, record, role), inserted or updated. A reviewed placement
-- (confirmed, or corrected by hand) is kept while the record offers the same input; review
-- and reject bands wait for review.
staged AS (
    SELECT s.*, rec.id AS record_id
    FROM place_stage AS s JOIN rec ON rec.source_id = s.source_id
),
placed AS (
    INSERT INTO twin.placement AS p (record_kind, record_id, role, district_code, street_code,
        community_code, grid_code, building_code, floor_no, room_code, address_code, method,
        confidence, band, placed_at, placed_by, input, facets, warnings, review_status,
        reviewed_by, reviewed_at)
    SELECT %(record_kind)s, s.record_id, 'primary', s.district_code, s.street_code,
           s.community_code, s.grid_code, s.building_code, s.floor_no, s.room_code,
           s.address_code, s.method, s.confidence, s.band, now(), %(actor)s, s.input, s.facets,
           s.warnings, CASE WHEN s.band = 'accept' THEN NULL ELSE 'pending' END, NULL, NULL
    FROM staged AS s
    ON CONFLICT (record_kind, record_id, role) DO UPDATE
        SET district_code = excluded.district_code, street_code = excluded.street_code,
            community_code = excluded.community_code, grid_code = excluded.grid_code,
            building_code = excluded.building_code, floor_no = excluded.floor_no,
            room_code = excluded.room_code, address_code = excluded.address_code,
            method = excluded.method, confidence = excluded.confidence, band = excluded.band,
            placed_at = excluded.placed_at, placed_by = excluded.placed_by,
            input = excluded.input, facets = excluded.facets, warnings = excluded.warnings,
            review_status = excluded.review_status, reviewed_by = NULL, reviewed_at = NULL
        WHERE coalesce(p.review_status, 'pending') = 'pending'
           OR p.input IS DISTINCT FROM excluded.input
    RETURNING p.id, p.record_id, p.district_code, p.street_code, p.community_code,
              p.grid_code, p.building_code, p.floor_no, p.room_code, p.address_code, p.method,
              p.confidence, p.band
),
-- The reviewed placements the upsert left as they were (as the statement began: unchanged),
-- looked up by the record (usually none is left).
kept AS (
    SELECT k.id, k.record_id, k.district_code, k.street_code, k.community_code, k.grid_code,
           k.building_code, k.floor_no, k.room_code, k.address_code, k.method, k.confidence,
           k.band, k.facets
    FROM (SELECT record_id FROM staged EXCEPT SELECT record_id FROM placed) AS m
    CROSS JOIN LATERAL (
        SELECT * FROM twin.placement AS k
        WHERE k.record_kind = %(record_kind)s AND k.record_id = m.record_id
          AND k.role = 'primary'
    ) AS k
),
-- Their facets follow the record (a person's residence kind, an event's status). Other rows
-- than the upsert's: one statement may change a row once.
refaceted AS (
    UPDATE twin.placement AS p SET facets = s.facets
    FROM kept AS k JOIN staged AS s ON s.record_id = k.record_id
    WHERE p.id = k.id AND k.facets IS DISTINCT FROM s.facets
),
-- One summary row per batch in the audit log (batches skip the per-row entries).
audited AS (
    INSERT INTO twin.audit_log (actor, action, table_name, after, reason)
    SELECT %(actor)s::text, 'place_records', 'placement',
           jsonb_build_object('source', %(source)s::text, 'kind', %(record_kind)s::text,
                              'rows', count(*),
                              'accept', count(*) FILTER (WHERE band = 'accept'),
                              'review', count(*) FILTER (WHERE band = 'review'),
                              'reject', count(*) FILTER (WHERE band = 'reject')),
           nullif(current_setting('twin.reason', true), '')
    FROM place_stage
)
-- What the store now holds for each staged row.
SELECT s.row_no, s.record_id, x.id, x.district_code, x.street_code, x.community_code,
       x.grid_code, x.building_code, x.floor_no, x.room_code, x.address_code, x.method,
       x.confidence, x.band
FROM staged AS s
JOIN (SELECT * FROM placed
      UNION ALL
      SELECT id, record_id, district_code, street_code, community_code, grid_code,
             building_code, floor_no, room_code, address_code, method, confidence, band
      FROM kept) AS x ON x.record_id = s.record_id
ORDER BY s.row_no
