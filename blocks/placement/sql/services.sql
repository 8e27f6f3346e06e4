-- Facilities of a kind (compounds) with their capacity, and per community the residents, the
-- residents within a straight-line radius of any facility, the facilities and capacity.
WITH facility AS (
    SELECT c.id, c.community_code,
           ST_Transform(coalesce(c.geom, ST_Multi(ST_Union(b.footprint))), 4547) AS geom_m,
           coalesce((c.attrs->>'capacity')::float8,
                    sum(ST_Area(ST_Transform(b.footprint, 4547)) * b.floors) / %(area)s)
               AS capacity
    FROM twin.compound AS c JOIN twin.building AS b ON b.compound_id = c.id
    WHERE c.kind = %(kind)s
    GROUP BY c.id
),
-- People per building, as the triggers count them.
housed AS (
    SELECT b.code, left(b.code, 12) AS community_code, k.people,
           ST_Transform(b.footprint, 4547) AS geom_m
    FROM twin.block_counts AS k JOIN twin.building AS b ON b.code = k.code
    WHERE k.people > 0 AND k.code LIKE %(within)s || '%%'
),
covered AS (
    SELECT h.community_code, sum(h.people) AS people
    FROM housed AS h
    WHERE EXISTS (SELECT 1 FROM facility AS f WHERE ST_DWithin(f.geom_m, h.geom_m, %(radius)s))
    GROUP BY h.community_code
),
offer AS (
    SELECT community_code, count(*) AS facilities, sum(capacity) AS capacity
    FROM facility GROUP BY community_code
)
SELECT u.code, u.name, coalesce(k.people, 0), coalesce(c.people, 0)::integer,
       coalesce(o.facilities, 0)::integer, coalesce(o.capacity, 0)
FROM twin.admin_unit AS u
LEFT JOIN twin.block_counts AS k ON k.code = u.code
LEFT JOIN covered AS c ON c.community_code = u.code
LEFT JOIN offer AS o ON o.community_code = u.code
WHERE u.level = 'community' AND u.code LIKE %(within)s || '%%'
  AND (k.people > 0 OR o.facilities > 0)
ORDER BY u.code
