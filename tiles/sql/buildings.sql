-- Building footprints with their code, floors, height, use and the counts placed in them
-- (suppressed below the privacy threshold %(k)s for roles that may not see individuals).
SELECT ST_AsMVTGeom(ST_Transform(b.footprint, 3857), env.e3857, 4096, 64, true) AS geom,
       b.code, b.name, b.floors, b.height_m, b.use, b.grid_code,
       twin.tile_count(agg.people, %(k)s) AS people,
       twin.tile_count(agg.companies, %(k)s) AS companies,
       twin.tile_count(agg.events, %(k)s) AS events
FROM twin.building AS b
CROSS JOIN env
LEFT JOIN twin.block_counts AS agg ON agg.code = b.code
WHERE b.footprint && env.e4326
