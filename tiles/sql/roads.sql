-- Road centre lines with their names and classes.
SELECT ST_AsMVTGeom(ST_Transform(r.geom, 3857), env.e3857, 4096, 64, true) AS geom,
       r.id, r.name, r.road_class
FROM twin.road AS r
CROSS JOIN env
WHERE r.geom && env.e4326
