-- Rows without a source id are the nearest active entity of the same class and dimension
-- within the tolerance: 1 m between points, a Hausdorff distance of 2 m between lines or
-- polygons (defaults), measured in local metres.
WITH idless AS (
    SELECT b.row_no, b.class_code, b.geom, b.rep_lat,
           %(shape_m)s / (111319.5 * cos(radians(b.rep_lat))) AS radius_deg,
           CASE WHEN ST_Dimension(b.geom) = 0 THEN %(point_m)s ELSE %(shape_m)s END AS tol_m
    FROM entity_batch AS b
    JOIN entity_plan AS p ON p.row_no = b.row_no
    WHERE p.action IS NULL AND NOT p.has_id
), nearest AS (
    SELECT i.row_no, m.code, m.community_code, m.class_code, m.same
    FROM idless AS i
    CROSS JOIN LATERAL (
        SELECT g.code, g.community_code, g.class_code, g.geom = i.geom AS same,
               ST_HausdorffDistance(
                   ST_Scale(g.geom, 111319.5 * cos(radians(i.rep_lat)), 110574.0),
                   ST_Scale(i.geom, 111319.5 * cos(radians(i.rep_lat)), 110574.0)) AS metres
        FROM twin.geo_entity AS g
        -- The spatial index finds the candidates; class, status and dimension filter them.
        -- The class is compared as an expression on purpose: with stale statistics right
        -- after a big batch, the planner would otherwise scan the class index (every entity
        -- of the class, for every row) instead of the spatial one.
        WHERE ST_DWithin(g.geom, i.geom, i.radius_deg)
          AND left(g.class_code, 4) = i.class_code AND g.status = 'active'
          AND ST_Dimension(g.geom) = ST_Dimension(i.geom)
        ORDER BY metres, g.code
        LIMIT 1
    ) AS m
    WHERE m.metres <= i.tol_m
)
UPDATE entity_plan AS p
SET match_code = n.code, match_community = n.community_code, match_class = n.class_code,
    match_same_geom = n.same
FROM nearest AS n
WHERE p.row_no = n.row_no
