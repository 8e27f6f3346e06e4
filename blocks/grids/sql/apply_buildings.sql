-- Each building into its planned grid; its code stays (the row audit trigger logs the move).
UPDATE twin.building AS b SET grid_code = m.grid_code
FROM (SELECT unnest(building_codes) AS code, grid_code FROM twin.grid_plan
      WHERE community_code = %(community)s) AS m
WHERE b.code = m.code AND b.grid_code <> m.grid_code
RETURNING b.code
