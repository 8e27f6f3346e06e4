-- Store the new entities (and the new codes of moved ones, keeping their name if none is given).
INSERT INTO twin.geo_entity (code, class_code, community_code, name, source, source_id, geom,
                             beidou_code)
SELECT p.code, p.class_code, p.community_code,
       CASE WHEN b.name IS NULL AND p.match_code IS NOT NULL
            THEN (SELECT g.name FROM twin.geo_entity AS g WHERE g.code = p.match_code)
            ELSE b.name END,
       %(source)s, b.source_id, b.geom, b.beidou_code
FROM entity_plan AS p
JOIN entity_batch AS b ON b.row_no = p.row_no
WHERE p.action IN ('new', 'recode')
ORDER BY p.code
