-- The blocks one level below a block: units below a unit, a grid's buildings, a building's
-- rooms; in code order.
SELECT code, level, name FROM twin.admin_unit
WHERE parent_code = %(code)s AND level IN ('street', 'community', 'grid')
UNION ALL
SELECT b.code, 'building', b.name FROM twin.building AS b WHERE b.grid_code = %(code)s
UNION ALL
SELECT r.code, 'room', r.room_no FROM twin.room AS r WHERE r.building_code = %(code)s
ORDER BY 1
LIMIT %(limit)s
