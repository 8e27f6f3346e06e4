-- Buildings at z14-16: geometry read ready-cut from twin.building_tile (migration 0010), the
-- attributes and counts joined by code, as buildings.sql shows them.
SELECT t.geom, b.code, b.name, b.floors, b.height_m, b.use, b.grid_code,
       twin.tile_count_for(agg.people, %(k)s, b.code, %(scope)s) AS people,
       twin.tile_count_for(agg.companies, %(k)s, b.code, %(scope)s) AS companies,
       twin.tile_count_for(agg.events, %(k)s, b.code, %(scope)s) AS events
FROM twin.building_tile AS t
JOIN twin.building AS b ON b.code = t.code
LEFT JOIN twin.block_counts AS agg ON agg.code = t.code
WHERE t.z = %(z)s AND t.x = %(x)s AND t.y = %(y)s
