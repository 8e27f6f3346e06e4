-- People: insert or update by (source, source_id). Names, ID numbers and phones arrive
-- masked; the full ID number column stays empty (placement does not need it).
INSERT INTO twin.person AS t (source, source_id, name, phone, residence_kind,
                              residence_address, attrs)
SELECT %(source)s, s.source_id, s.record->>'name', s.record->>'phone',
       s.record->>'residence_kind', s.input->>'address',
       jsonb_strip_nulls(jsonb_build_object('id_number', s.record->>'id_number'))
FROM place_stage AS s
ON CONFLICT (source, source_id) DO UPDATE
    SET name = excluded.name, phone = excluded.phone,
        residence_kind = excluded.residence_kind,
        residence_address = excluded.residence_address, attrs = t.attrs || excluded.attrs,
        updated_at = now()
RETURNING t.id, t.source_id
