-- Door plates (门牌): points with the door number, for labels at close zoom.
SELECT ST_AsMVTGeom(ST_Transform(a.geom, 3857), env.e3857, 4096, 64, true) AS geom,
       a.code, a.door_no, a.text
FROM twin.address AS a
CROSS JOIN env
WHERE a.level = 'door' AND a.status <> 'retired' AND a.geom && env.e4326
