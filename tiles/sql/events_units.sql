-- Events aggregated at low zoom: counts per community below z12, per grid at z12-14, at a
-- point inside the unit; withheld below the privacy threshold outside the caller's scope.
SELECT ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(u.geom), 3857), env.e3857, 4096, 64, true)
           AS geom,
       u.code, u.level, twin.tile_count_for(agg.events, %(k)s, u.code, %(scope)s) AS events
FROM twin.admin_unit AS u
JOIN twin.block_counts AS agg ON agg.code = u.code
CROSS JOIN env
WHERE u.level = CASE WHEN %(z)s < 12 THEN 'community' ELSE 'grid' END
  AND agg.events > 0 AND u.geom && env.e4326
  AND twin.tile_count_for(agg.events, %(k)s, u.code, %(scope)s) IS NOT NULL
