-- Events never appear one by one: counts per building (at a point inside it), withheld below
-- the privacy threshold %(k)s outside the caller's scope %(scope)s.
SELECT ST_AsMVTGeom(ST_PointOnSurface(b.footprint_3857), env.e3857, 4096, 64, true) AS geom,
       b.code, twin.tile_count_for(agg.events, %(k)s, b.code, %(scope)s) AS events
FROM twin.block_counts AS agg
JOIN twin.building AS b ON b.code = agg.code
CROSS JOIN env
WHERE agg.events > 0 AND b.footprint_3857 && env.b3857
  AND twin.tile_count_for(agg.events, %(k)s, b.code, %(scope)s) IS NOT NULL
