-- For walking distances: the facilities of a kind (outline, else their buildings' footprints)
-- and the housed buildings (community, people, footprint); all lon/lat.
SELECT 'facility', NULL::text, 0::bigint,
       ST_AsBinary(coalesce(c.geom, ST_Multi(ST_Union(b.footprint))))
FROM twin.compound AS c JOIN twin.building AS b ON b.compound_id = c.id
WHERE c.kind = %(kind)s
GROUP BY c.id
UNION ALL
SELECT 'housed', left(b.code, 12), k.people, ST_AsBinary(b.footprint)
FROM twin.block_counts AS k JOIN twin.building AS b ON b.code = k.code
WHERE k.people > 0 AND k.code LIKE %(within)s || '%%'
