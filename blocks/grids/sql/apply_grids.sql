-- The plan's grids into the grids in force: new codes are inserted, outlines that moved are
-- updated (the row audit trigger logs each). Names follow 「<community>第NN网格」.
INSERT INTO twin.admin_unit AS u (code, level, name, parent_code, geom, source)
SELECT p.grid_code, 'grid', c.name || '第' || right(p.grid_code, 2) || '网格', p.community_code,
       p.geom, 'grid plan'
FROM twin.grid_plan AS p JOIN twin.admin_unit AS c ON c.code = p.community_code
WHERE p.community_code = %(community)s
ON CONFLICT (code) DO UPDATE SET geom = excluded.geom
WHERE u.geom IS NULL OR NOT ST_OrderingEquals(u.geom, excluded.geom)
RETURNING u.code
