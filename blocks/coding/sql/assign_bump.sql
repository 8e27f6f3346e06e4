-- Each counter this batch needs grows by its number of new rows (UPDATE ... RETURNING, under
-- the row lock taken before); the value it had before is kept as the batch's base.
WITH need AS (
    SELECT location, class_code, count(*) AS n
    FROM entity_plan WHERE action IN ('new', 'recode')
    GROUP BY location, class_code
), bumped AS (
    UPDATE twin.entity_code_counter AS c
    SET last = c.last + need.n
    FROM need
    WHERE c.location = need.location AND c.class_code = need.class_code
    RETURNING c.location, c.class_code, c.last - need.n AS base
)
INSERT INTO entity_bump (location, class_code, base)
SELECT location, class_code, base FROM bumped
