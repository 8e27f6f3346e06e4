-- Entities edited within their community keep their code and take the new geometry.
UPDATE twin.geo_entity AS g
SET geom = b.geom, beidou_code = b.beidou_code, name = coalesce(b.name, g.name),
    updated_at = now()
FROM entity_plan AS p
JOIN entity_batch AS b ON b.row_no = p.row_no
WHERE p.action = 'update' AND g.code = p.code
