-- The people, companies and events placed in each room of one building (withheld below k).
SELECT r.code, twin.tile_count(c.people, %(k)s), twin.tile_count(c.companies, %(k)s),
       twin.tile_count(c.events, %(k)s)
FROM twin.room AS r
LEFT JOIN twin.block_counts AS c ON c.code = r.code
WHERE r.building_code = %(code)s
