-- Building footprints (stored in EPSG:3857, migration 0010) with their code, floors, height,
-- use and the counts placed in them: exact within the caller's scope %(scope)s, else withheld
-- below the privacy threshold %(k)s for roles that may not see individuals.
SELECT ST_AsMVTGeom(b.footprint_3857, env.e3857, 4096, 64, true) AS geom,
       b.code, b.name, b.floors, b.height_m, b.use, b.grid_code,
       twin.tile_count_for(agg.people, %(k)s, b.code, %(scope)s) AS people,
       twin.tile_count_for(agg.companies, %(k)s, b.code, %(scope)s) AS companies,
       twin.tile_count_for(agg.events, %(k)s, b.code, %(scope)s) AS events
FROM twin.building AS b
CROSS JOIN env
LEFT JOIN twin.block_counts AS agg ON agg.code = b.code
WHERE b.footprint_3857 && env.b3857
