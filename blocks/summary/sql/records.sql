-- The records placed in one building (their primary placement), newest placement first:
-- people, legal entities and events, each with its floor and room number.
SELECT pl.record_kind, pl.record_id, pl.floor_no, r.room_no, pl.method, pl.confidence,
       pl.band,
       coalesce(p.name, l.name, e.event_type) AS name,
       coalesce(p.id_number, l.uscc) AS identifier,
       p.phone, p.residence_kind, l.industry, e.occurred_at, e.status, e.description
FROM twin.placement AS pl
LEFT JOIN twin.room AS r ON r.code = pl.room_code
LEFT JOIN twin.person AS p ON pl.record_kind = 'person' AND p.id = pl.record_id
LEFT JOIN twin.legal_entity AS l ON pl.record_kind = 'legal_entity' AND l.id = pl.record_id
LEFT JOIN twin.event AS e ON pl.record_kind = 'event' AND e.id = pl.record_id
WHERE pl.building_code = %(code)s AND pl.role = 'primary'
  AND (%(kind)s::text IS NULL OR pl.record_kind = %(kind)s::text)
ORDER BY pl.record_kind, pl.floor_no NULLS LAST, r.room_no, pl.record_id
LIMIT %(limit)s
