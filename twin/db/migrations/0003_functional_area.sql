-- 0003 functional areas: areas that govern streets without being statistical districts.
-- Dapeng New Area (大鹏新区) is one: its streets carry Longgang's district code 440307. It is
-- data (data/admin/functional_areas.csv), not a special case in code. Area codes are the
-- district code, a dash and letters, so they can never be mistaken for a statistical code.

CREATE TABLE twin.functional_area (
    code          text PRIMARY KEY CHECK (code ~ '^[0-9]{6}-[A-Z]{1,8}$'),
    name          text NOT NULL CHECK (btrim(name) <> ''),
    district_code text NOT NULL REFERENCES twin.admin_unit (code)
                  CHECK (left(code, 6) = district_code),
    geom          geometry(MultiPolygon, 4326)
                  CHECK (geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))),
    source        text,
    attrs         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX functional_area_geom_idx ON twin.functional_area USING gist (geom);

ALTER TABLE twin.admin_unit
    ADD COLUMN functional_area_code text REFERENCES twin.functional_area (code),
    ADD CONSTRAINT admin_unit_functional_area
        CHECK (functional_area_code IS NULL
               OR (level <> 'district' AND left(code, 6) = left(functional_area_code, 6)));
