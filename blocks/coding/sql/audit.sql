-- One summary row per batch in the audit log (bulk batches skip the per-row entries).
INSERT INTO twin.audit_log (actor, action, table_name, after, reason)
SELECT %(actor)s::text, 'code_entities', 'geo_entity',
       jsonb_build_object('source', %(source)s::text, 'form', %(form)s::text, 'rows', count(*),
                          'new', count(*) FILTER (WHERE action = 'new'),
                          'existing', count(*) FILTER (WHERE action = 'existing'),
                          'updated', count(*) FILTER (WHERE action = 'update'),
                          'recoded', count(*) FILTER (WHERE action = 'recode'),
                          'rejected', count(*) FILTER (WHERE action = 'reject')),
       nullif(current_setting('twin.reason', true), '')
FROM entity_plan
