-- The version of one address valid at a moment: the live row when it had started by then
-- (a retired live row stays the answer for every later moment), else the history row whose
-- validity holds that moment.
WITH live AS (
    SELECT code, version, level, text, parent_code, status, successor_codes, elements,
           ST_X(geom) AS lon, ST_Y(geom) AS lat, valid_from, valid_to
    FROM twin.address
    WHERE code = %(code)s AND valid_from <= %(at)s
),
past AS (
    SELECT code, version, level, text, parent_code, status, successor_codes, elements,
           ST_X(geom) AS lon, ST_Y(geom) AS lat, valid_from, valid_to
    FROM twin.address_history
    WHERE code = %(code)s AND valid_from <= %(at)s AND %(at)s < valid_to
)
SELECT * FROM live
UNION ALL
SELECT * FROM past
ORDER BY valid_from DESC
LIMIT 1
