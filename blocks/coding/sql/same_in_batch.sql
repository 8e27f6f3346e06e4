-- Rows without a source id that lie within the tolerance of an earlier such row of the same
-- class describe the same entity twice: the later rows are refused, so nothing is coded twice.
-- Distances are Hausdorff distances in local metres (an equirectangular scale at the later
-- row's latitude); the index finds the candidates within the tolerance first.
WITH idless AS (
    SELECT b.row_no, b.class_code, b.geom, b.rep_lat
    FROM entity_batch AS b
    JOIN entity_plan AS p ON p.row_no = b.row_no
    WHERE p.action IS NULL AND NOT p.has_id
), pairs AS (
    SELECT later.row_no, min(earlier.row_no) AS first_row
    FROM idless AS later
    JOIN entity_batch AS earlier
      ON ST_DWithin(earlier.geom, later.geom,
                    %(shape_m)s / (111319.5 * cos(radians(later.rep_lat))))
     AND earlier.row_no < later.row_no
     AND earlier.class_code = later.class_code
     AND earlier.source_id IS NULL
    WHERE ST_HausdorffDistance(
              ST_Scale(earlier.geom, 111319.5 * cos(radians(later.rep_lat)), 110574.0),
              ST_Scale(later.geom, 111319.5 * cos(radians(later.rep_lat)), 110574.0))
          <= CASE WHEN ST_Dimension(later.geom) = 0 THEN %(point_m)s ELSE %(shape_m)s END
      AND EXISTS (SELECT 1 FROM entity_plan AS e
                  WHERE e.row_no = earlier.row_no AND e.action IS NULL)
    GROUP BY later.row_no
)
UPDATE entity_plan AS p
SET action = 'reject', problem_field = 'geometry',
    problem = format('the same entity as row %%s (within the tolerance, no source id)',
                     x.first_row)
FROM pairs AS x
WHERE p.row_no = x.row_no
