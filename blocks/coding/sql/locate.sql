-- Which community each staged entity lies in (the border rule, docs/entity-coding.md); one
-- plan row per staged row, the community left NULL when the entity lies in none.
WITH touching AS (
    -- Every community polygon each entity touches, and how many it touches. The communities
    -- drive the join, so each polygon is prepared once and tested against the batch's index.
    SELECT b.row_no, a.code, a.geom AS community, b.geom AS entity,
           count(*) OVER (PARTITION BY b.row_no) AS n
    FROM twin.admin_unit AS a
    JOIN entity_batch AS b ON ST_Intersects(a.geom, b.geom)
    WHERE a.level = 'community' AND a.geom IS NOT NULL
), measured AS (
    -- How much of the entity each holds: area for polygons, length for lines, nothing for
    -- points. Only entities that touch more than one community need the measure.
    SELECT row_no, code,
           CASE WHEN n = 1 THEN 0
                WHEN ST_Dimension(entity) = 2 THEN ST_Area(ST_Intersection(community, entity))
                WHEN ST_Dimension(entity) = 1 THEN ST_Length(ST_Intersection(community, entity))
                ELSE 0 END AS share
    FROM touching
), chosen AS (
    -- The largest share wins; a tie (a point on a shared edge, a line along it) goes to the
    -- lowest community code, so the answer never depends on the order of the rows.
    SELECT DISTINCT ON (row_no) row_no, code
    FROM measured
    ORDER BY row_no, share DESC, code
)
INSERT INTO entity_plan (row_no, class_code, has_id, community_code)
SELECT b.row_no, b.class_code, b.source_id IS NOT NULL, c.code
FROM entity_batch AS b
LEFT JOIN chosen AS c ON c.row_no = b.row_no
