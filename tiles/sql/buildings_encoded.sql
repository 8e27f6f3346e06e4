-- Buildings at z12-13: the layer as encoded once per tile in twin.building_layer_tile
-- (migration 0010); empty where no building reaches the tile.
SELECT l.mvt FROM twin.building_layer_tile AS l
WHERE l.z = %(z)s AND l.x = %(x)s AND l.y = %(y)s
