-- The floors of one building with their rooms and the people, companies and events placed on
-- each (counted from the rooms' block counts; withheld below k).
WITH floor_rooms AS (
    SELECT r.floor_no, count(*) AS rooms, sum(c.people) AS people,
           sum(c.companies) AS companies, sum(c.events) AS events
    FROM twin.room AS r
    LEFT JOIN twin.block_counts AS c ON c.code = r.code
    WHERE r.building_code = %(code)s
    GROUP BY r.floor_no
)
SELECT f.floor_no, f.label, coalesce(fr.rooms, 0),
       twin.tile_count(fr.people::integer, %(k)s), twin.tile_count(fr.companies::integer, %(k)s),
       twin.tile_count(fr.events::integer, %(k)s)
FROM twin.floor AS f
LEFT JOIN floor_rooms AS fr ON fr.floor_no = f.floor_no
WHERE f.building_code = %(code)s
ORDER BY f.floor_no
