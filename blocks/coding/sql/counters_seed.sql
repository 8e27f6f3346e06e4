-- Create the counters this batch needs and lacks, starting after the highest serial already
-- used under the prefix (codes written before the counter existed are never handed out again).
-- Rows go in key order so that two batches never wait on each other in opposite orders.
INSERT INTO twin.entity_code_counter AS c (location, class_code, last)
SELECT n.location, n.class_code,
       coalesce((SELECT max(right(g.code, %(width)s)::bigint)
                 FROM twin.geo_entity AS g
                 WHERE g.code BETWEEN n.prefix || repeat('0', %(width)s)
                                  AND n.prefix || repeat('9', %(width)s)
                   AND length(g.code) = length(n.prefix) + %(width)s
                   AND left(g.code, length(n.prefix)) = n.prefix), 0)
FROM (SELECT DISTINCT location, class_code, location || class_code AS prefix
      FROM entity_plan WHERE action IN ('new', 'recode')) AS n
WHERE NOT EXISTS (SELECT 1 FROM twin.entity_code_counter AS e
                  WHERE e.location = n.location AND e.class_code = n.class_code)
ORDER BY n.location, n.class_code
ON CONFLICT (location, class_code) DO NOTHING
