-- One summary row per batch in the audit log (batches skip the per-row entries).
INSERT INTO twin.audit_log (actor, action, table_name, after, reason)
SELECT %(actor)s::text, 'place_records', 'placement',
       jsonb_build_object('source', %(source)s::text, 'kind', %(record_kind)s::text,
                          'rows', count(*),
                          'accept', count(*) FILTER (WHERE band = 'accept'),
                          'review', count(*) FILTER (WHERE band = 'review'),
                          'reject', count(*) FILTER (WHERE band = 'reject')),
       nullif(current_setting('twin.reason', true), '')
FROM place_stage
