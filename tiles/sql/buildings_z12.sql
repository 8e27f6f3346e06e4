-- Buildings at z12: read ready-cut from twin.building_tile (migration 0010); the height only
-- (for extrusion): a building is a few pixels here, too small to pick.
SELECT t.geom, t.height_m
FROM twin.building_tile AS t
WHERE t.z = %(z)s AND t.x = %(x)s AND t.y = %(y)s
