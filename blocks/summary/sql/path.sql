-- The block path of a code: each administrative unit above it (and the building itself) with
-- its name, counts (withheld below k), number of child units and buildings, and extent.
WITH unit AS (
    SELECT u.code, u.level, u.name, u.geom
    FROM twin.admin_unit AS u
    WHERE u.code = ANY(%(codes)s)
),
-- The building of the path, named by its name or else its standard address.
bldg AS (
    SELECT b.code, coalesce(b.name, a.text, b.code) AS name, b.footprint AS geom
    FROM twin.building AS b
    LEFT JOIN twin.address AS a ON a.code = b.code
    WHERE b.code = ANY(%(codes)s)
)
SELECT u.code, u.level, u.name,
       twin.tile_count(c.people, %(k)s), twin.tile_count(c.companies, %(k)s),
       twin.tile_count(c.events, %(k)s),
       (SELECT count(*) FROM twin.admin_unit AS ch WHERE ch.parent_code = u.code) AS children,
       (SELECT count(*) FROM twin.building AS b WHERE starts_with(b.grid_code, u.code))
           AS buildings,
       ST_XMin(u.geom), ST_YMin(u.geom), ST_XMax(u.geom), ST_YMax(u.geom)
FROM unit AS u
LEFT JOIN twin.block_counts AS c ON c.code = u.code
UNION ALL
SELECT b.code, 'building', b.name,
       twin.tile_count(c.people, %(k)s), twin.tile_count(c.companies, %(k)s),
       twin.tile_count(c.events, %(k)s),
       (SELECT count(*) FROM twin.room AS r WHERE r.building_code = b.code),
       1,
       ST_XMin(b.geom), ST_YMin(b.geom), ST_XMax(b.geom), ST_YMax(b.geom)
FROM bldg AS b
LEFT JOIN twin.block_counts AS c ON c.code = b.code
ORDER BY 1
