-- The finest block each staged point falls in: the smallest building whose footprint holds
-- it, else the finest administrative unit (grid, community, street, district). A point on a
-- shared border goes to the lower code, so the answer does not depend on the plan.
SELECT p.row_no, coalesce(b.code, u.code) AS code
FROM place_points AS p
LEFT JOIN LATERAL (
    SELECT b.code FROM twin.building AS b
    WHERE ST_Intersects(b.footprint, p.geom)
    ORDER BY ST_Area(b.footprint), b.code LIMIT 1
) AS b ON true
LEFT JOIN LATERAL (
    SELECT u.code FROM twin.admin_unit AS u
    WHERE b.code IS NULL AND u.level IN ('district', 'street', 'community', 'grid')
      AND ST_Intersects(u.geom, p.geom)
    ORDER BY length(u.code) DESC, u.code LIMIT 1
) AS u ON true
