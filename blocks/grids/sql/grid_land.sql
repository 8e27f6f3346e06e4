-- A community's outline and the centre lines of the roads inside it (NULL: no road).
SELECT ST_AsBinary(u.geom),
       (SELECT ST_AsBinary(ST_Union(ST_Intersection(r.geom, u.geom)))
        FROM twin.road AS r WHERE ST_Intersects(r.geom, u.geom))
FROM twin.admin_unit AS u
WHERE u.code = %(community)s AND u.level = 'community'
