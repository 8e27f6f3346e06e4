-- Active geographic entities (city parts, facilities) with their code and class.
SELECT ST_AsMVTGeom(ST_Transform(g.geom, 3857), env.e3857, 4096, 64, true) AS geom,
       g.code, g.class_code, g.name
FROM twin.geo_entity AS g
CROSS JOIN env
WHERE g.status = 'active' AND g.geom && env.e4326
