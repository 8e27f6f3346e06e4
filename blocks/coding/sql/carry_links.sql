-- A moved entity's links follow it to its new code (the old code keeps its own, as history).
INSERT INTO twin.entity_link (entity_code, record_kind, record_id, address_code, relation,
                              created_by)
SELECT p.code, l.record_kind, l.record_id, l.address_code, l.relation, %(actor)s
FROM entity_plan AS p
JOIN twin.entity_link AS l ON l.entity_code = p.match_code
WHERE p.action = 'recode'
ON CONFLICT DO NOTHING
