-- Buildings at z13: read ready-cut from twin.building_tile (migration 0010); the code and the
-- height only.
SELECT t.geom, t.code, t.height_m
FROM twin.building_tile AS t
WHERE t.z = %(z)s AND t.x = %(x)s AND t.y = %(y)s
