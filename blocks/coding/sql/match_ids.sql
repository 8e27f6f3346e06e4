-- Rows with a source id are the active entity of the same source and id, if there is one.
UPDATE entity_plan AS p
SET match_code = g.code, match_community = g.community_code, match_class = g.class_code,
    match_same_geom = (g.geom = b.geom)
FROM entity_batch AS b
JOIN twin.geo_entity AS g
  ON g.source = %(source)s AND g.source_id = b.source_id AND g.status = 'active'
WHERE p.row_no = b.row_no AND p.action IS NULL AND p.has_id
