-- The block path of each wanted code: an address of any level (with its status and
-- successors), else a room, a building or an administrative unit, whose path is its code's
-- prefixes.
WITH wanted AS (
    SELECT DISTINCT unnest(%(codes)s::text[]) AS code
),
-- Addresses carry their own path.
by_address AS (
    SELECT a.code, a.status, a.successor_codes, a.district_code, a.street_code,
           a.community_code, a.grid_code, a.building_code, a.floor_no, a.room_code,
           a.code AS address_code
    FROM wanted AS w JOIN twin.address AS a ON a.code = w.code
),
-- Rooms and buildings without an address (imported stock); the grid is the building's
-- current one (a re-delineation may have moved it: building codes never change).
by_room AS (
    SELECT r.code, 'published' AS status, '{}'::text[] AS successor_codes,
           left(r.code, 6), left(r.code, 9), left(r.code, 12), b.grid_code,
           r.building_code, r.floor_no, r.code, NULL::text
    FROM wanted AS w JOIN twin.room AS r ON r.code = w.code
    JOIN twin.building AS b ON b.code = r.building_code
    WHERE w.code NOT IN (SELECT code FROM by_address)
),
by_building AS (
    SELECT b.code, 'published', '{}'::text[], left(b.code, 6), left(b.code, 9),
           left(b.code, 12), b.grid_code, b.code, NULL::smallint, NULL::text, NULL::text
    FROM wanted AS w JOIN twin.building AS b ON b.code = w.code
    WHERE w.code NOT IN (SELECT code FROM by_address)
),
-- Districts, streets, communities and grids.
by_unit AS (
    SELECT u.code, 'published', '{}'::text[],
           left(u.code, 6),
           CASE WHEN length(u.code) >= 9 THEN left(u.code, 9) END,
           CASE WHEN length(u.code) >= 12 THEN left(u.code, 12) END,
           CASE WHEN length(u.code) >= 14 THEN left(u.code, 14) END,
           NULL::text, NULL::smallint, NULL::text, NULL::text
    FROM wanted AS w JOIN twin.admin_unit AS u ON u.code = w.code
    WHERE u.level IN ('district', 'street', 'community', 'grid')
      AND w.code NOT IN (SELECT code FROM by_address)
)
SELECT * FROM by_address
UNION ALL SELECT * FROM by_room
UNION ALL SELECT * FROM by_building
UNION ALL SELECT * FROM by_unit
