-- What to do with each row. A matched entity in the same community and class keeps its code
-- (its geometry is updated if it changed); one that moved to another community or changed class
-- gets a new code, and the old one is retired; an unmatched row gets a new code. New codes are
-- counted under the community (admin form) or the level 7 Beidou cell (Beidou form).
UPDATE entity_plan AS p
SET action = CASE
        WHEN p.match_code IS NULL THEN 'new'
        WHEN p.match_community IS DISTINCT FROM p.community_code
          OR p.match_class <> p.class_code THEN 'recode'
        WHEN p.match_same_geom THEN 'existing'
        ELSE 'update' END,
    code = CASE
        WHEN p.match_code IS NOT NULL AND p.match_community IS NOT DISTINCT FROM p.community_code
         AND p.match_class = p.class_code THEN p.match_code END,
    location = CASE WHEN %(form)s = 'beidou' THEN b.beidou_cell ELSE p.community_code END
FROM entity_batch AS b
WHERE p.row_no = b.row_no AND p.action IS NULL
