-- A block by its code: an administrative unit, a building or a room, with a display name.
SELECT code, level, name FROM twin.admin_unit
WHERE code = %(code)s AND level IN ('district', 'street', 'community', 'grid')
UNION ALL
SELECT b.code, 'building', coalesce(a.text, b.name) FROM twin.building AS b
LEFT JOIN twin.address AS a ON a.code = b.code
WHERE b.code = %(code)s
UNION ALL
SELECT r.code, 'room', coalesce(a.text, r.room_no) FROM twin.room AS r
LEFT JOIN twin.address AS a ON a.code = r.code
WHERE r.code = %(code)s
LIMIT 1
