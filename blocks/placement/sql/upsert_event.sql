-- Events: insert or update by (source, source_id); the point is the given one, else the
-- placed address's.
INSERT INTO twin.event AS t (source, source_id, event_type, occurred_at, status,
                             description, address_text, geom)
SELECT %(source)s, s.source_id, s.record->>'event_type',
       (s.record->>'occurred_at')::timestamptz, s.record->>'status',
       s.record->>'description', s.input->>'address',
       coalesce(ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), a.geom)
FROM place_stage AS s LEFT JOIN twin.address AS a ON a.code = s.address_code
ON CONFLICT (source, source_id) DO UPDATE
    SET event_type = excluded.event_type, occurred_at = excluded.occurred_at,
        status = excluded.status, description = excluded.description,
        address_text = excluded.address_text, geom = excluded.geom, updated_at = now()
RETURNING t.id, t.source_id
