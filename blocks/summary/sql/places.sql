-- Where each code lies, for a search box: its standard text (else the unit's name), a point
-- (the address's, else one inside the unit's outline) and the building it lies in.
WITH wanted AS (
    SELECT unnest(%(codes)s::text[]) AS code
)
SELECT w.code, coalesce(a.text, u.name),
       coalesce(ST_X(a.geom), ST_X(ST_PointOnSurface(u.geom))),
       coalesce(ST_Y(a.geom), ST_Y(ST_PointOnSurface(u.geom))),
       a.building_code
FROM wanted AS w
LEFT JOIN twin.address AS a ON a.code = w.code
LEFT JOIN twin.admin_unit AS u ON u.code = w.code
