-- Administrative units of one level (district, street, community or grid), simplified to the
-- tile's pixel size before clipping so that low zooms stay small, with their counts (exact
-- within the caller's scope, else withheld below the privacy threshold).
SELECT ST_AsMVTGeom(
           ST_SimplifyPreserveTopology(ST_Transform(u.geom, 3857), %(px)s),
           env.e3857, 4096, 64, true) AS geom,
       u.code, u.name, u.parent_code,
       twin.tile_count_for(agg.people, %(k)s, u.code, %(scope)s) AS people,
       twin.tile_count_for(agg.companies, %(k)s, u.code, %(scope)s) AS companies,
       twin.tile_count_for(agg.events, %(k)s, u.code, %(scope)s) AS events
FROM twin.admin_unit AS u
CROSS JOIN env
LEFT JOIN twin.block_counts AS agg ON agg.code = u.code
WHERE u.level = %(level)s AND u.geom && env.e4326
