-- The grids in force that the plan drops, each with its successors: the planned grids that
-- took its land, the largest share first.
SELECT o.code, o.name, ST_AsBinary(o.geom),
       coalesce((SELECT array_agg(p.grid_code ORDER BY ST_Area(ST_Intersection(p.geom, o.geom))
                                  DESC, p.grid_code)
                 FROM twin.grid_plan AS p
                 WHERE p.community_code = %(community)s AND ST_Intersects(p.geom, o.geom)
                   AND ST_Area(ST_Intersection(p.geom, o.geom)) > 0), '{}')
FROM twin.admin_unit AS o
WHERE o.parent_code = %(community)s AND o.level = 'grid'
  AND o.code NOT IN (SELECT grid_code FROM twin.grid_plan WHERE community_code = %(community)s)
ORDER BY o.code
