-- The administrative units of one level (under a parent code when one is given), for the map:
-- a simplified outline, a label point inside the unit, the counts as tiles show them (withheld
-- below k) and the number of buildings.
WITH unit AS (
    SELECT u.code, u.level, u.name, u.parent_code, u.geom
    FROM twin.admin_unit AS u
    WHERE u.level = %(level)s
      AND u.geom IS NOT NULL
      AND (%(parent)s::text IS NULL OR starts_with(u.code, %(parent)s::text))
    ORDER BY u.code
    LIMIT %(limit)s
),
-- Buildings per unit: a unit's buildings are those whose grid code starts with its code.
buildings AS (
    SELECT left(b.grid_code, %(digits)s) AS code, count(*) AS n
    FROM twin.building AS b
    WHERE %(parent)s::text IS NULL OR starts_with(b.grid_code, %(parent)s::text)
    GROUP BY 1
)
SELECT u.code, u.level, u.name, u.parent_code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(u.geom, %(tolerance)s), 6) AS geometry,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
       twin.tile_count(c.people, %(k)s) AS people,
       twin.tile_count(c.companies, %(k)s) AS companies,
       twin.tile_count(c.events, %(k)s) AS events,
       coalesce(bn.n, 0) AS buildings
FROM unit AS u
CROSS JOIN LATERAL ST_PointOnSurface(u.geom) AS p (geom)
LEFT JOIN twin.block_counts AS c ON c.code = u.code
LEFT JOIN buildings AS bn ON bn.code = u.code
ORDER BY u.code
