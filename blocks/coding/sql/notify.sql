-- When the batch skipped triggers (bulk, session_replication_role = replica), tell the tile
-- cache what changed ourselves, as twin.notify_tiles() does: one message with the extent of
-- the new, edited and retired geometries.
SELECT pg_notify('twin_tiles', json_build_object(
           'table', 'geo_entity',
           'bbox', json_build_array(ST_XMin(x.box), ST_YMin(x.box), ST_XMax(x.box),
                                    ST_YMax(x.box)))::text)
FROM (SELECT ST_Extent(g) AS box
      FROM (SELECT b.geom AS g
            FROM entity_plan AS p JOIN entity_batch AS b ON b.row_no = p.row_no
            WHERE p.action IN ('new', 'update', 'recode')
            UNION ALL
            SELECT e.geom
            FROM entity_plan AS p JOIN twin.geo_entity AS e ON e.code = p.match_code
            WHERE p.action = 'recode') AS changed) AS x
WHERE x.box IS NOT NULL
