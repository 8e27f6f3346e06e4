-- The community's placements follow: a placement in a building takes the building's grid;
-- else its address's grid; else the grid covering the point it was placed by (placement.input
-- keeps the WGS84 point); else the main successor of a retired grid. The count triggers move
-- the aggregates.
WITH target AS (
    SELECT p.id,
           coalesce(b.grid_code, a.grid_code,
                    (SELECT g.code FROM twin.admin_unit AS g
                     WHERE g.parent_code = %(community)s AND g.level = 'grid'
                       AND g.code = ANY(%(grids)s) AND p.input ? 'lon' AND p.input ? 'lat'
                       AND ST_Covers(g.geom, ST_Point((p.input ->> 'lon')::float8,
                                                      (p.input ->> 'lat')::float8, 4326))
                     ORDER BY g.code LIMIT 1),
                    %(successors)s::jsonb ->> p.grid_code, p.grid_code) AS grid_code
    FROM twin.placement AS p
    LEFT JOIN twin.building AS b ON b.code = p.building_code
    LEFT JOIN twin.address AS a ON a.code = p.address_code AND p.building_code IS NULL
    WHERE p.community_code = %(community)s AND p.grid_code IS NOT NULL
)
UPDATE twin.placement AS p SET grid_code = t.grid_code
FROM target AS t
WHERE p.id = t.id AND p.grid_code <> t.grid_code
RETURNING p.id
