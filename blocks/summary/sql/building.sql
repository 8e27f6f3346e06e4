-- One building: its attributes, a point inside it, its standard address (the building-level
-- address that carries its code, else any building-level address of it) and its counts.
SELECT b.code, b.name, b.grid_code, b.floors, b.basement_floors, b.height_m, b.use,
       b.built_year, ST_X(p.geom), ST_Y(p.geom),
       a.code, a.text, a.status,
       twin.tile_count(c.people, %(k)s), twin.tile_count(c.companies, %(k)s),
       twin.tile_count(c.events, %(k)s),
       (SELECT count(*) FROM twin.room AS r WHERE r.building_code = b.code) AS rooms
FROM twin.building AS b
CROSS JOIN LATERAL ST_PointOnSurface(b.footprint) AS p (geom)
LEFT JOIN LATERAL (
    SELECT a.code, a.text, a.status
    FROM twin.address AS a
    WHERE a.building_code = b.code AND a.level = 'building' AND a.status <> 'retired'
    ORDER BY a.code = b.code DESC, a.code
    LIMIT 1
) AS a ON true
LEFT JOIN twin.block_counts AS c ON c.code = b.code
WHERE b.code = %(code)s
