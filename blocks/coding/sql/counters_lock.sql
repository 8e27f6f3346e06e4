-- Lock this batch's counters in key order (LockRows sits above the sort), so that two batches
-- sharing counters queue up instead of deadlocking.
SELECT count(*)
FROM (SELECT 1
      FROM twin.entity_code_counter AS c
      JOIN (SELECT DISTINCT location, class_code
            FROM entity_plan WHERE action IN ('new', 'recode')) AS n
        ON n.location = c.location AND n.class_code = c.class_code
      ORDER BY c.location, c.class_code
      FOR UPDATE OF c) AS locked
