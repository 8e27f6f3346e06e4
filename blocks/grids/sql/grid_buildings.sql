-- A community's buildings for grid delineation: code, grid in force, a point on the
-- surface, the footprint, housing units (rooms of residential buildings) and residents
-- (placed people, as the triggers count them).
SELECT b.code, b.grid_code, ST_X(ST_PointOnSurface(b.footprint)),
       ST_Y(ST_PointOnSurface(b.footprint)), ST_AsBinary(b.footprint),
       CASE WHEN b.use = 'residential'
            THEN (SELECT count(*) FROM twin.room AS r WHERE r.building_code = b.code)
            ELSE 0 END,
       coalesce(k.people, 0)
FROM twin.building AS b
LEFT JOIN twin.block_counts AS k ON k.code = b.code
WHERE b.grid_code LIKE %(community)s || '%%'
ORDER BY b.code
