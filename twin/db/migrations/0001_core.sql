-- 0001 core model: administrative units and grids, roads, compounds, buildings, floors, rooms,
-- standard addresses and aliases, geographic entities, people, legal entities, events,
-- placements and the audit log.
--
-- Geometries are EPSG:4326 (WGS84). Official Shenzhen data is CGCS2000 (EPSG:4490), which
-- lies within centimetres of WGS84; storing 4326 lets vector tiles (ST_TileEnvelope is in
-- 3857), 3D Tiles (ECEF from WGS84) and web clients use the data with no datum step, and
-- every import converts its declared CRS (GCJ-02 and BD-09 included) on the way in.
-- Metric work transforms to EPSG:4547 at query time.
--
-- Codes are checked here, not only in Python, so that no path into the database can store a
-- malformed code or one inconsistent with its parent: a room code starts with its building
-- code, a building code with its grid code, a grid code with its community code, and so on.

CREATE EXTENSION IF NOT EXISTS postgis;
-- Trigram indexes for fuzzy address and name search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Stamp updated_at on every UPDATE.
CREATE FUNCTION twin.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- The digit length of each block level's code.
CREATE FUNCTION twin.level_code_length(level text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE level
        WHEN 'district' THEN 6 WHEN 'street' THEN 9 WHEN 'community' THEN 12
        WHEN 'grid' THEN 14 WHEN 'building' THEN 19 WHEN 'room' THEN 25 END
$$;

-- A path of codes is consistent when each set code extends the one above it and no level is
-- skipped (a NULL parent with a non-NULL child is inconsistent: CHECK passes on NULL, so the
-- NULL case is spelt out).
CREATE FUNCTION twin.is_code_path(district text, street text, community text, grid text,
                                  building text, room text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (district IS NULL OR district ~ '^[0-9]{6}$')
       AND (street IS NULL OR (district IS NOT NULL AND street ~ '^[0-9]{9}$'
                               AND left(street, 6) = district))
       AND (community IS NULL OR (street IS NOT NULL AND community ~ '^[0-9]{12}$'
                                  AND left(community, 9) = street))
       AND (grid IS NULL OR (community IS NOT NULL AND grid ~ '^[0-9]{14}$'
                             AND left(grid, 12) = community))
       AND (building IS NULL OR (grid IS NOT NULL AND building ~ '^[0-9]{19}$'
                                 AND left(building, 14) = grid))
       AND (room IS NULL OR (building IS NOT NULL AND room ~ '^[0-9]{25}$'
                             AND left(room, 19) = building))
$$;

-- Administrative units and base grids ------------------------------------------------------
CREATE TABLE twin.admin_unit (
    code         text PRIMARY KEY,
    level        text NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
    name         text NOT NULL CHECK (btrim(name) <> ''),
    parent_code  text REFERENCES twin.admin_unit (code),
    geom         geometry(MultiPolygon, 4326)
                 CHECK (geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))),
    is_generated boolean NOT NULL DEFAULT false,
    source       text,
    attrs        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_unit_code_shape
        CHECK (code ~ '^[0-9]+$' AND length(code) = twin.level_code_length(level)),
    -- A grid's two digits run 01-99.
    CONSTRAINT admin_unit_grid_serial CHECK (level <> 'grid' OR right(code, 2) <> '00'),
    CONSTRAINT admin_unit_parent
        CHECK ((level = 'district' AND parent_code IS NULL)
            OR (level = 'street' AND parent_code IS NOT NULL AND parent_code = left(code, 6))
            OR (level = 'community' AND parent_code IS NOT NULL AND parent_code = left(code, 9))
            OR (level = 'grid' AND parent_code IS NOT NULL AND parent_code = left(code, 12)))
);
CREATE INDEX admin_unit_parent_idx ON twin.admin_unit (parent_code);
CREATE INDEX admin_unit_level_idx ON twin.admin_unit (level);
CREATE INDEX admin_unit_geom_idx ON twin.admin_unit USING gist (geom);
CREATE INDEX admin_unit_name_trgm_idx ON twin.admin_unit USING gin (name gin_trgm_ops);
CREATE TRIGGER admin_unit_touch BEFORE UPDATE ON twin.admin_unit
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

-- Roads (街路巷) -------------------------------------------------------------------------------
CREATE TABLE twin.road (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    road_class    text,
    district_code text NOT NULL REFERENCES twin.admin_unit (code)
                  CHECK (district_code ~ '^[0-9]{6}$'),
    geom          geometry(MultiLineString, 4326) NOT NULL
                  CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    is_generated  boolean NOT NULL DEFAULT false,
    source        text,
    attrs         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district_code, name)
);
CREATE INDEX road_geom_idx ON twin.road USING gist (geom);
CREATE INDEX road_name_trgm_idx ON twin.road USING gin (name gin_trgm_ops);
CREATE TRIGGER road_touch BEFORE UPDATE ON twin.road
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

-- Compounds (小区), industrial parks, campuses -------------------------------------------------
CREATE TABLE twin.compound (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    kind           text NOT NULL DEFAULT 'residential',
    community_code text NOT NULL REFERENCES twin.admin_unit (code)
                   CHECK (community_code ~ '^[0-9]{12}$'),
    geom           geometry(MultiPolygon, 4326)
                   CHECK (geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))),
    is_generated   boolean NOT NULL DEFAULT false,
    source         text,
    attrs          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX compound_community_idx ON twin.compound (community_code);
CREATE INDEX compound_geom_idx ON twin.compound USING gist (geom);
CREATE INDEX compound_name_trgm_idx ON twin.compound USING gin (name gin_trgm_ops);
CREATE TRIGGER compound_touch BEFORE UPDATE ON twin.compound
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

-- Buildings (楼栋): the 19-digit building code is grid (14) + serial (5) --------------------------
CREATE TABLE twin.building (
    code            text PRIMARY KEY
                    CHECK (code ~ '^[0-9]{19}$' AND right(code, 5) <> '00000'),
    grid_code       text NOT NULL REFERENCES twin.admin_unit (code),
    name            text,
    compound_id     bigint REFERENCES twin.compound (id),
    footprint       geometry(MultiPolygon, 4326) NOT NULL
                    CHECK (ST_IsValid(footprint) AND NOT ST_IsEmpty(footprint)),
    floors          smallint NOT NULL CHECK (floors BETWEEN 1 AND 200),
    basement_floors smallint NOT NULL DEFAULT 0 CHECK (basement_floors BETWEEN 0 AND 20),
    height_m        real NOT NULL CHECK (height_m > 0 AND height_m <= 700),
    use             text,
    built_year      smallint CHECK (built_year IS NULL OR built_year BETWEEN 1000 AND 2100),
    is_generated    boolean NOT NULL DEFAULT false,
    source          text,
    attrs           jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT building_in_grid CHECK (left(code, 14) = grid_code AND length(grid_code) = 14)
);
CREATE INDEX building_grid_idx ON twin.building (grid_code);
CREATE INDEX building_compound_idx ON twin.building (compound_id);
CREATE INDEX building_footprint_idx ON twin.building USING gist (footprint);
CREATE TRIGGER building_touch BEFORE UPDATE ON twin.building
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

-- Floors: an attribute level of rooms and addresses, not a code level. Negative = basement.
CREATE TABLE twin.floor (
    building_code text NOT NULL REFERENCES twin.building (code) ON DELETE CASCADE,
    floor_no      smallint NOT NULL CHECK (floor_no <> 0 AND floor_no BETWEEN -20 AND 200),
    label         text,
    elevation_m   real,
    height_m      real CHECK (height_m IS NULL OR height_m > 0),
    PRIMARY KEY (building_code, floor_no)
);

-- Rooms (房屋): the 25-digit room code is building (19) + serial (6) -----------------------------
CREATE TABLE twin.room (
    code          text PRIMARY KEY CHECK (code ~ '^[0-9]{25}$' AND right(code, 6) <> '000000'),
    building_code text NOT NULL,
    floor_no      smallint NOT NULL,
    unit_no       text,
    room_no       text NOT NULL CHECK (btrim(room_no) <> ''),
    use           text,
    area_m2       real CHECK (area_m2 IS NULL OR area_m2 > 0),
    attrs         jsonb NOT NULL DEFAULT '{}'::jsonb,
    FOREIGN KEY (building_code, floor_no) REFERENCES twin.floor (building_code, floor_no)
        ON DELETE CASCADE,
    CONSTRAINT room_in_building CHECK (left(code, 19) = building_code),
    -- Two rooms of one building may share a number only in different units.
    UNIQUE NULLS NOT DISTINCT (building_code, unit_no, room_no)
);

-- Standard addresses (统一地址) and their aliases: one code, many addresses -----------------------
CREATE TABLE twin.address (
    code           text PRIMARY KEY CHECK (code ~ '^[0-9A-Z]{6,32}$'),
    level          text NOT NULL CHECK (level IN ('district', 'street', 'community', 'road',
                        'door', 'compound', 'building', 'unit', 'floor', 'room')),
    text           text NOT NULL CHECK (btrim(text) <> ''),
    parent_code    text REFERENCES twin.address (code),
    district_code  text REFERENCES twin.admin_unit (code),
    street_code    text REFERENCES twin.admin_unit (code),
    community_code text REFERENCES twin.admin_unit (code),
    grid_code      text REFERENCES twin.admin_unit (code),
    road_id        bigint REFERENCES twin.road (id),
    door_no        text,
    compound_id    bigint REFERENCES twin.compound (id),
    building_code  text REFERENCES twin.building (code),
    unit_no        text,
    floor_no       smallint,
    room_code      text REFERENCES twin.room (code),
    elements       jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom           geometry(Point, 4326) CHECK (geom IS NULL OR NOT ST_IsEmpty(geom)),
    status         text NOT NULL DEFAULT 'collected' CHECK (status IN ('collected', 'verified',
                        'coded', 'placed', 'published', 'retired')),
    successor_codes text[] NOT NULL DEFAULT '{}',
    version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz CHECK (valid_to IS NULL OR valid_to >= valid_from),
    is_generated   boolean NOT NULL DEFAULT false,
    created_by     text NOT NULL DEFAULT 'system',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT address_block_path CHECK (twin.is_code_path(district_code, street_code,
        community_code, grid_code, building_code, room_code)),
    CONSTRAINT address_retired_has_end CHECK (status <> 'retired' OR valid_to IS NOT NULL)
);
CREATE INDEX address_parent_idx ON twin.address (parent_code);
CREATE INDEX address_community_level_idx ON twin.address (community_code, level);
CREATE INDEX address_building_idx ON twin.address (building_code);
CREATE INDEX address_geom_idx ON twin.address USING gist (geom);
CREATE INDEX address_text_trgm_idx ON twin.address USING gin (text gin_trgm_ops);
CREATE TRIGGER address_touch BEFORE UPDATE ON twin.address
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

CREATE TABLE twin.address_alias (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address_code text NOT NULL REFERENCES twin.address (code) ON DELETE CASCADE,
    text         text NOT NULL CHECK (btrim(text) <> ''),
    kind         text NOT NULL DEFAULT 'variant' CHECK (kind IN ('old_name', 'agency',
                      'nickname', 'abbreviation', 'variant', 'correction')),
    source       text,
    created_by   text NOT NULL DEFAULT 'system',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (address_code, text)
);
CREATE INDEX address_alias_text_idx ON twin.address_alias (text);
CREATE INDEX address_alias_trgm_idx ON twin.address_alias USING gin (text gin_trgm_ops);

-- Geographic entities (地理实体): code = location + class + serial --------------------------------
CREATE TABLE twin.geo_entity (
    code            text PRIMARY KEY CHECK (code ~ '^[0-9A-Z]{8,40}$'),
    class_code      text NOT NULL CHECK (class_code ~ '^[0-9]{2,8}$'),
    community_code  text REFERENCES twin.admin_unit (code),
    name            text,
    source          text,
    source_id       text,
    geom            geometry(Geometry, 4326) NOT NULL
                    CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    successor_codes text[] NOT NULL DEFAULT '{}',
    attrs           jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    CONSTRAINT geo_entity_code_location
        CHECK (community_code IS NULL OR left(code, 12) = community_code OR code !~ '^[0-9]+$')
);
CREATE UNIQUE INDEX geo_entity_source_idx ON twin.geo_entity (source, source_id)
    WHERE source_id IS NOT NULL AND status = 'active';
CREATE INDEX geo_entity_geom_idx ON twin.geo_entity USING gist (geom);
CREATE INDEX geo_entity_class_idx ON twin.geo_entity (class_code);
CREATE TRIGGER geo_entity_touch BEFORE UPDATE ON twin.geo_entity
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

-- People (实有人口), legal entities (法人), events (网格事件) -----------------------------------------
CREATE TABLE twin.person (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source             text NOT NULL DEFAULT 'import',
    source_id          text NOT NULL,
    name               text,
    id_number          text CHECK (id_number IS NULL OR id_number ~ '^[0-9]{17}[0-9X]$'),
    phone              text,
    gender             text CHECK (gender IS NULL OR gender IN ('F', 'M')),
    birth_date         date,
    residence_kind     text CHECK (residence_kind IS NULL
                            OR residence_kind IN ('household', 'rental', 'other')),
    registered_address text,
    residence_address  text,
    is_generated       boolean NOT NULL DEFAULT false,
    attrs              jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE TRIGGER person_touch BEFORE UPDATE ON twin.person
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

CREATE TABLE twin.legal_entity (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source             text NOT NULL DEFAULT 'import',
    source_id          text NOT NULL,
    -- GB 32100: 18 characters from 0-9 and the letters without I, O, Z, S, V.
    uscc               text CHECK (uscc IS NULL OR uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    name               text NOT NULL CHECK (btrim(name) <> ''),
    kind               text,
    industry           text,
    registered_address text,
    business_address   text,
    is_generated       boolean NOT NULL DEFAULT false,
    attrs              jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE INDEX legal_entity_uscc_idx ON twin.legal_entity (uscc);
CREATE TRIGGER legal_entity_touch BEFORE UPDATE ON twin.legal_entity
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

CREATE TABLE twin.event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL DEFAULT 'import',
    source_id    text NOT NULL,
    event_type   text NOT NULL CHECK (btrim(event_type) <> ''),
    occurred_at  timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'open',
    description  text,
    address_text text,
    geom         geometry(Point, 4326) CHECK (geom IS NULL OR NOT ST_IsEmpty(geom)),
    is_generated boolean NOT NULL DEFAULT false,
    attrs        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE INDEX event_geom_idx ON twin.event USING gist (geom);
CREATE INDEX event_time_idx ON twin.event (occurred_at);
CREATE TRIGGER event_touch BEFORE UPDATE ON twin.event
    FOR EACH ROW EXECUTE FUNCTION twin.touch_updated_at();

-- Placements (落图入块): which record sits in which block, how, how sure, when, by whom ------------
CREATE TABLE twin.placement (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_kind    text NOT NULL CHECK (record_kind IN ('person', 'legal_entity', 'event',
                        'geo_entity')),
    record_id      bigint NOT NULL,
    -- One record may be placed more than once: a person's residence and household address,
    -- a company's registered and business address.
    role           text NOT NULL DEFAULT 'primary',
    district_code  text REFERENCES twin.admin_unit (code),
    street_code    text REFERENCES twin.admin_unit (code),
    community_code text REFERENCES twin.admin_unit (code),
    grid_code      text REFERENCES twin.admin_unit (code),
    building_code  text REFERENCES twin.building (code),
    floor_no       smallint,
    room_code      text REFERENCES twin.room (code),
    address_code   text REFERENCES twin.address (code),
    method         text NOT NULL CHECK (method IN ('code', 'geocode', 'point', 'manual')),
    confidence     real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    band           text NOT NULL CHECK (band IN ('accept', 'review', 'reject')),
    placed_at      timestamptz NOT NULL DEFAULT now(),
    placed_by      text NOT NULL CHECK (btrim(placed_by) <> ''),
    UNIQUE (record_kind, record_id, role),
    CONSTRAINT placement_block_path CHECK (twin.is_code_path(district_code, street_code,
        community_code, grid_code, building_code, room_code))
);
CREATE INDEX placement_community_idx ON twin.placement (community_code, band);
CREATE INDEX placement_grid_idx ON twin.placement (grid_code);
CREATE INDEX placement_building_idx ON twin.placement (building_code);

-- Audit log: append-only (a trigger refuses UPDATE and DELETE for every role) -----------------
CREATE TABLE twin.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    action      text NOT NULL,
    table_name  text,
    record_key  text,
    before      jsonb,
    after       jsonb,
    reason      text
);
CREATE INDEX audit_log_record_idx ON twin.audit_log (table_name, record_key);
CREATE INDEX audit_log_at_idx ON twin.audit_log (at);

CREATE FUNCTION twin.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'twin.audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON twin.audit_log
    FOR EACH ROW EXECUTE FUNCTION twin.audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON twin.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION twin.audit_log_is_append_only();

-- Row changes of the reference tables are audited. The actor comes from the session setting
-- twin.actor (set by the command line and the API); bulk loaders set twin.bulk = 'on' and
-- write one summary row for the whole batch instead of millions of row entries.
CREATE FUNCTION twin.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key_col text := TG_ARGV[0];
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
BEGIN
    IF coalesce(current_setting('twin.bulk', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO twin.audit_log (actor, action, table_name, record_key, before, after, reason)
    VALUES (coalesce(nullif(current_setting('twin.actor', true), ''), session_user),
            lower(TG_OP), TG_TABLE_NAME,
            coalesce(new_row ->> key_col, old_row ->> key_col),
            old_row - 'geom' - 'footprint', new_row - 'geom' - 'footprint',
            nullif(current_setting('twin.reason', true), ''));
    RETURN NULL;
END $$;

CREATE TRIGGER admin_unit_audit AFTER INSERT OR UPDATE OR DELETE ON twin.admin_unit
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('code');
CREATE TRIGGER building_audit AFTER INSERT OR UPDATE OR DELETE ON twin.building
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('code');
CREATE TRIGGER address_audit AFTER INSERT OR UPDATE OR DELETE ON twin.address
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('code');
CREATE TRIGGER address_alias_audit AFTER INSERT OR UPDATE OR DELETE ON twin.address_alias
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('id');
CREATE TRIGGER geo_entity_audit AFTER INSERT OR UPDATE OR DELETE ON twin.geo_entity
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('code');
CREATE TRIGGER placement_audit AFTER INSERT OR UPDATE OR DELETE ON twin.placement
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('id');
