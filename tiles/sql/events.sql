-- Events never appear one by one: counts per building (at a point inside it), suppressed
-- below the privacy threshold %(k)s.
SELECT ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(b.footprint), 3857), env.e3857, 4096, 64,
                    true) AS geom,
       b.code, twin.tile_count(agg.events, %(k)s) AS events
FROM twin.block_counts AS agg
JOIN twin.building AS b ON b.code = agg.code
CROSS JOIN env
WHERE agg.events > 0 AND b.footprint && env.e4326
  AND (%(k)s = 0 OR agg.events >= %(k)s)
