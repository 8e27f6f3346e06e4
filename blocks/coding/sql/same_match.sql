-- Two rows that turn out to be the same coded entity: the first keeps it, the others are refused.
WITH firsts AS (
    SELECT match_code, min(row_no) AS first_row
    FROM entity_plan
    WHERE action IS NULL AND match_code IS NOT NULL
    GROUP BY match_code
    HAVING count(*) > 1
)
UPDATE entity_plan AS p
SET action = 'reject', problem_field = 'geometry',
    problem = format('the same entity (%%s) as row %%s', f.match_code, f.first_row)
FROM firsts AS f
WHERE p.action IS NULL AND p.match_code = f.match_code AND p.row_no > f.first_row
