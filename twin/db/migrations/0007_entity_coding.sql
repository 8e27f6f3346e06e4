-- 0007 geographic entity auto-coding (地理实体对象自动化编码): the entity classification, the
-- serial counters behind entity codes, the Beidou grid location code of each entity, and links
-- from entities to people, legal entities, events and addresses.
--
-- An entity code is a location + a class code + a serial (docs/entity-coding.md):
--   admin form   community code (12) + class (4) + serial (6)      4403110010013101000001
--   Beidou form  Beidou grid location code, level 7 (14) + class (4) + serial (4)
--                                                                 N49FB53B51C20431010001

-- The classification: 9 major, 32 medium and 128 minor classes in the style of GB/T 13923,
-- loaded from data/entity_classes.csv (`twin entity classes --load`). Codes are 4 digits:
-- major (1) + medium (1) + minor (2), padded with zeros above the minor level (3000, 3100, 3101).
CREATE TABLE twin.entity_class (
    code          text PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{3}$'),
    level         text NOT NULL CHECK (level IN ('major', 'medium', 'minor')),
    parent_code   text REFERENCES twin.entity_class (code),
    name_zh       text NOT NULL CHECK (btrim(name_zh) <> ''),
    name_en       text NOT NULL CHECK (btrim(name_en) <> ''),
    geometry_type text NOT NULL CHECK (geometry_type IN ('point', 'line', 'polygon', 'any')),
    -- The code spells its level: X000 major, XY00 medium, XYNN minor (NN 01-99), and a
    -- class's code extends its parent's.
    CONSTRAINT entity_class_shape CHECK (
        (level = 'major' AND right(code, 3) = '000' AND parent_code IS NULL)
        OR (level = 'medium' AND right(code, 2) = '00' AND substr(code, 2, 1) <> '0'
            AND parent_code = left(code, 1) || '000')
        OR (level = 'minor' AND right(code, 2) <> '00' AND parent_code = left(code, 2) || '00'))
);
CREATE INDEX entity_class_parent_idx ON twin.entity_class (parent_code);

-- Entities carry a known class (NOT VALID: rows coded before this migration are not checked;
-- every new or changed row is).
ALTER TABLE twin.geo_entity
    ADD CONSTRAINT geo_entity_class_fk FOREIGN KEY (class_code)
        REFERENCES twin.entity_class (code) NOT VALID;

-- The full (level 10) Beidou grid location code of the entity's representative point
-- (ST_PointOnSurface), kept current when the geometry is edited: prefix queries find the
-- entities of any Beidou cell. The entity code itself never changes with small edits.
ALTER TABLE twin.geo_entity
    ADD COLUMN beidou_code text CHECK (beidou_code IS NULL OR beidou_code ~ '^[NS][0-9]{2}[A-V][0-9A-F]{0,16}$');
CREATE INDEX geo_entity_beidou_idx ON twin.geo_entity (beidou_code COLLATE "C");
CREATE INDEX geo_entity_community_idx ON twin.geo_entity (community_code);
CREATE INDEX geo_entity_class_status_idx ON twin.geo_entity (class_code, status);

-- The last serial handed out per (location, class): location is a community code (admin form)
-- or a level 7 Beidou cell (Beidou form). A batch bumps each of its rows once with
-- UPDATE ... RETURNING, which holds the row lock until commit: two batches never get the
-- same serial. The counter only grows, so a code is never handed out twice, not even after
-- its entity is retired.
CREATE TABLE twin.entity_code_counter (
    location   text NOT NULL CHECK (location ~ '^[0-9A-Z]{12,20}$'),
    class_code text NOT NULL REFERENCES twin.entity_class (code),
    last       bigint NOT NULL CHECK (last >= 0),
    PRIMARY KEY (location, class_code)
);

CREATE FUNCTION twin.entity_code_counter_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.last < OLD.last OR NEW.location <> OLD.location
       OR NEW.class_code <> OLD.class_code THEN
        RAISE EXCEPTION 'entity code counters only grow: a serial is never handed out twice'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER entity_code_counter_only_grows BEFORE UPDATE OR DELETE ON twin.entity_code_counter
    FOR EACH ROW EXECUTE FUNCTION twin.entity_code_counter_only_grows();

-- Links from an entity to the records about it: people (owner, occupant), legal entities
-- (owner, operator), events (reported on it) and standard addresses (its address). A link
-- names either a record id (person, legal entity, event) or an address code, never both.
CREATE TABLE twin.entity_link (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_code  text NOT NULL REFERENCES twin.geo_entity (code),
    record_kind  text NOT NULL CHECK (record_kind IN ('person', 'legal_entity', 'event',
                                                      'address')),
    record_id    bigint,
    address_code text REFERENCES twin.address (code),
    relation     text NOT NULL DEFAULT 'related' CHECK (relation ~ '^[a-z][a-z_]{0,39}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL CHECK (btrim(created_by) <> ''),
    CONSTRAINT entity_link_target CHECK (
        (record_kind = 'address' AND address_code IS NOT NULL AND record_id IS NULL)
        OR (record_kind <> 'address' AND record_id IS NOT NULL AND address_code IS NULL)),
    UNIQUE NULLS NOT DISTINCT (entity_code, record_kind, record_id, address_code, relation)
);
CREATE INDEX entity_link_record_idx ON twin.entity_link (record_kind, record_id);
CREATE INDEX entity_link_address_idx ON twin.entity_link (address_code);
CREATE TRIGGER entity_link_audit AFTER INSERT OR UPDATE OR DELETE ON twin.entity_link
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('id');
