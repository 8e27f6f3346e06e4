-- 0004 generator bookkeeping: runs, the units each run finished (so an interrupted run resumes
-- where it stopped and never duplicates), and the truth kept apart from the data.

CREATE TABLE twin.synth_run (
    run_key     text PRIMARY KEY,
    district    text NOT NULL REFERENCES twin.admin_unit (code),
    street      text,
    scale       text NOT NULL CHECK (scale IN ('small', 'medium', 'city')),
    seed        bigint NOT NULL,
    status      text NOT NULL CHECK (status IN ('layout', 'content', 'done')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE TABLE twin.synth_unit_done (
    run_key   text NOT NULL REFERENCES twin.synth_run (run_key) ON DELETE CASCADE,
    unit_code text NOT NULL,
    rows      bigint NOT NULL,
    done_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_key, unit_code)
);

-- For every generated person, legal entity and event: the messy address a clerk typed and
-- the codes it truly belongs to. Never shown to the matcher; read by evaluations.
CREATE TABLE twin.synth_truth (
    run_key        text NOT NULL REFERENCES twin.synth_run (run_key) ON DELETE CASCADE,
    record_kind    text NOT NULL,
    source_id      text NOT NULL,
    messy_address  text NOT NULL,
    noise          text NOT NULL,
    address_code   text NOT NULL,
    level          text NOT NULL,
    room_code      text,
    building_code  text NOT NULL,
    grid_code      text NOT NULL,
    community_code text NOT NULL,
    street_code    text NOT NULL,
    district_code  text NOT NULL,
    PRIMARY KEY (record_kind, source_id)
);
CREATE INDEX synth_truth_run_idx ON twin.synth_truth (run_key);

-- Indexes on the referencing columns that had none: deleting or re-keying a building, room,
-- address or compound otherwise scans the referencing tables once per row.
CREATE INDEX address_room_idx ON twin.address (room_code) WHERE room_code IS NOT NULL;
CREATE INDEX address_compound_idx ON twin.address (compound_id) WHERE compound_id IS NOT NULL;
CREATE INDEX address_road_idx ON twin.address (road_id) WHERE road_id IS NOT NULL;
CREATE INDEX address_grid_idx ON twin.address (grid_code) WHERE grid_code IS NOT NULL;
CREATE INDEX room_building_idx ON twin.room (building_code, floor_no);
CREATE INDEX placement_room_idx ON twin.placement (room_code) WHERE room_code IS NOT NULL;
CREATE INDEX placement_address_idx ON twin.placement (address_code)
    WHERE address_code IS NOT NULL;
CREATE INDEX placement_street_idx ON twin.placement (street_code);
CREATE INDEX placement_district_idx ON twin.placement (district_code);
CREATE INDEX person_source_id_idx ON twin.person (source_id text_pattern_ops);
CREATE INDEX legal_entity_source_id_idx ON twin.legal_entity (source_id text_pattern_ops);
CREATE INDEX event_source_id_idx ON twin.event (source_id text_pattern_ops);
CREATE INDEX road_district_idx ON twin.road (district_code);
