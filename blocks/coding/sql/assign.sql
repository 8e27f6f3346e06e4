-- The rows of each (location, class) take the serials after its base, in row order. A serial
-- that does not fit the width leaves the code NULL; the caller refuses the batch.
WITH numbered AS (
    SELECT row_no, location, class_code,
           row_number() OVER (PARTITION BY location, class_code ORDER BY row_no) AS k
    FROM entity_plan WHERE action IN ('new', 'recode')
)
UPDATE entity_plan AS p
SET code = CASE WHEN bm.base + n.k < 10 ^ %(width)s
                THEN n.location || n.class_code || lpad((bm.base + n.k)::text, %(width)s, '0')
           END
FROM numbered AS n
JOIN entity_bump AS bm ON bm.location = n.location AND bm.class_code = n.class_code
WHERE p.row_no = n.row_no
