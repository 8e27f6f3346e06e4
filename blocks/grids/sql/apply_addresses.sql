-- The community's addresses follow: an address in a building takes the building's grid; one
-- outside buildings (a door, a compound) the grid covering its point, else the main successor
-- of its grid (:successors, a jsonb object retired code -> successor).
WITH target AS (
    SELECT a.code,
           coalesce(b.grid_code,
                    (SELECT g.code FROM twin.admin_unit AS g
                     WHERE g.parent_code = %(community)s AND g.level = 'grid'
                       AND g.code = ANY(%(grids)s) AND ST_Covers(g.geom, a.geom)
                     ORDER BY g.code LIMIT 1),
                    %(successors)s::jsonb ->> a.grid_code, a.grid_code) AS grid_code
    FROM twin.address AS a LEFT JOIN twin.building AS b ON b.code = a.building_code
    WHERE a.community_code = %(community)s AND a.grid_code IS NOT NULL
)
UPDATE twin.address AS a SET grid_code = t.grid_code
FROM target AS t
WHERE a.code = t.code AND a.grid_code <> t.grid_code
RETURNING a.code
