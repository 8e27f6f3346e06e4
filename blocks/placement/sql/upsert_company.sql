-- Legal entities: insert or update by (source, source_id).
INSERT INTO twin.legal_entity AS t (source, source_id, uscc, name, kind, industry,
                                    business_address)
SELECT %(source)s, s.source_id, s.record->>'uscc', s.record->>'name',
       s.record->>'company_kind', s.record->>'industry', s.input->>'address'
FROM place_stage AS s
ON CONFLICT (source, source_id) DO UPDATE
    SET uscc = excluded.uscc, name = excluded.name, kind = excluded.kind,
        industry = excluded.industry, business_address = excluded.business_address,
        updated_at = now()
RETURNING t.id, t.source_id
