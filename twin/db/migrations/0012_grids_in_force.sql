-- 0012 grids in force: applying a grid plan (twin grids delineate --apply) moves buildings
-- between the grids of their community without changing their codes.
--
-- A building code is an identity (the address library, the placements and every department's
-- records hold it): it keeps the grid code it was issued under as its first 14 digits for
-- good, and twin.building.grid_code records the grid the building lies in now. The two agree
-- until a re-delineation moves the building; both always name the same community.

ALTER TABLE twin.building DROP CONSTRAINT building_in_grid;
ALTER TABLE twin.building ADD CONSTRAINT building_in_community
    CHECK (length(grid_code) = 14 AND left(code, 12) = left(grid_code, 12));

-- A block path: as before, except that a building code need only extend the community code
-- (its grid is the current one, which a re-delineation may have changed).
CREATE OR REPLACE FUNCTION twin.is_code_path(district text, street text, community text,
                                             grid text, building text, room text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (district IS NULL OR district ~ '^[0-9]{6}$')
       AND (street IS NULL OR (district IS NOT NULL AND street ~ '^[0-9]{9}$'
                               AND left(street, 6) = district))
       AND (community IS NULL OR (street IS NOT NULL AND community ~ '^[0-9]{12}$'
                                  AND left(community, 9) = street))
       AND (grid IS NULL OR (community IS NOT NULL AND grid ~ '^[0-9]{14}$'
                             AND left(grid, 12) = community))
       AND (building IS NULL OR (grid IS NOT NULL AND building ~ '^[0-9]{19}$'
                                 AND left(building, 12) = community))
       AND (room IS NULL OR (building IS NOT NULL AND room ~ '^[0-9]{25}$'
                             AND left(room, 19) = building))
$$;

-- When a plan was applied, and by whom (NULL: a plan not applied yet).
ALTER TABLE twin.grid_plan ADD COLUMN applied_at timestamptz, ADD COLUMN applied_by text;

-- Grids a re-delineation retired: their codes are never issued again (buildings coded under
-- them keep them as a prefix); successors are the new grids that took their land.
CREATE TABLE twin.grid_retired (
    code            text PRIMARY KEY CHECK (code ~ '^[0-9]{14}$'),
    community_code  text NOT NULL REFERENCES twin.admin_unit (code),
    name            text NOT NULL,
    geom            geometry(MultiPolygon, 4326),
    successor_codes text[] NOT NULL,
    retired_at      timestamptz NOT NULL DEFAULT now(),
    retired_by      text NOT NULL CHECK (btrim(retired_by) <> '')
);
CREATE INDEX grid_retired_geom_idx ON twin.grid_retired USING gist (geom);
