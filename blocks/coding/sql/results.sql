-- What happened to each row, in row order.
SELECT row_no, action, code,
       CASE WHEN action = 'recode' THEN match_code END AS previous_code,
       community_code, problem_field, problem
FROM entity_plan
ORDER BY row_no
