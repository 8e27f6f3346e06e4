-- One planned grid.
INSERT INTO twin.grid_plan (community_code, grid_code, geom, building_codes, housing_units,
                            residents, compactness, parts, status, planned_by)
VALUES (%(community)s, %(grid)s, ST_Multi(ST_GeomFromWKB(%(wkb)s, 4326)), %(buildings)s,
        %(units)s, %(residents)s, %(compactness)s, %(parts)s, %(status)s, %(actor)s)
