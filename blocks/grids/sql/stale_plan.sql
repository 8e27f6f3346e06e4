-- Buildings of the community that the plan does not hold, and planned ones that are gone.
SELECT b.code, 'not in the plan' FROM twin.building AS b
WHERE b.code LIKE %(community)s || '%%'
  AND b.code NOT IN (SELECT unnest(building_codes) FROM twin.grid_plan
                     WHERE community_code = %(community)s)
UNION ALL
SELECT m.code, 'gone' FROM (SELECT unnest(building_codes) AS code FROM twin.grid_plan
                            WHERE community_code = %(community)s) AS m
WHERE NOT EXISTS (SELECT 1 FROM twin.building AS b WHERE b.code = m.code)
ORDER BY 1 LIMIT 5
