-- Every address as it was at a moment (the live row when it had started by then, else its
-- history row valid then), optionally of one level, with its aliases of today.
WITH versions AS (
    SELECT code, version, level, text, parent_code, status, successor_codes, geom, valid_from
    FROM twin.address
    WHERE valid_from <= %(at)s
    UNION ALL
    SELECT h.code, h.version, h.level, h.text, h.parent_code, h.status, h.successor_codes,
           h.geom, h.valid_from
    FROM twin.address_history AS h
    JOIN twin.address AS a ON a.code = h.code AND a.valid_from > %(at)s
    WHERE h.valid_from <= %(at)s AND %(at)s < h.valid_to
)
SELECT v.code, v.level, v.text, ST_X(v.geom), ST_Y(v.geom), v.status, v.version,
       array_to_string(v.successor_codes, '|'),
       (SELECT string_agg(al.text, '|' ORDER BY al.id) FROM twin.address_alias AS al
        WHERE al.address_code = v.code)
FROM versions AS v
WHERE %(level)s::text IS NULL OR v.level = %(level)s
ORDER BY v.code
