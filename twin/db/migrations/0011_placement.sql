-- 0011 placement (落图入块) of records from files and the API: what each record offered (to
-- place it again when its address changes), its facets (residence kind, industry, event type
-- and status) for the counts, the review of uncertain placements, and counts per block code,
-- record kind and facet kept by statement-level triggers, as 0002 keeps block_counts.

ALTER TABLE twin.placement
    -- What the record offered, personal data masked: {"address": ..., "code": ...,
    -- "lon": ..., "lat": ...} (WGS84). Re-placement reads it.
    ADD COLUMN input jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- 'residence:rental', 'industry:制造业', 'type:消防隐患', 'status:open': what the counts
    -- break down by. Kept on the placement (not joined from the record) so that the old row
    -- of an UPDATE still says what was counted.
    ADD COLUMN facets text[] NOT NULL DEFAULT '{}',
    -- Problems that did not stop the placement (a malformed code, a swapped lon/lat).
    ADD COLUMN warnings text[] NOT NULL DEFAULT '{}',
    -- Placements of band review or reject wait for a reviewer; confirmed or corrected after.
    ADD COLUMN review_status text CHECK (review_status IS NULL
        OR review_status IN ('pending', 'confirmed', 'corrected')),
    ADD COLUMN reviewed_by text,
    ADD COLUMN reviewed_at timestamptz;

-- The review queue, per community and grid.
CREATE INDEX placement_review_idx ON twin.placement (community_code, grid_code, id)
    WHERE review_status = 'pending';
-- (Re-placement finds the placements of a changed address by placement_address_idx, 0004.)

-- Counts per block code (every level, as block_counts), record kind and facet.
CREATE TABLE twin.block_facet_counts (
    code        text NOT NULL,
    record_kind text NOT NULL,
    facet       text NOT NULL,
    n           integer NOT NULL DEFAULT 0 CHECK (n >= 0),
    PRIMARY KEY (code, record_kind, facet)
);

-- Apply one statement's changes: new rows +1, old rows -1, netted per (code, kind, facet),
-- in one update and one insert per statement. Only 'primary' placements count, as in
-- block_counts.
CREATE FUNCTION twin.block_facet_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    src text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sign FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sign FROM old_rows AS o'
        ELSE 'SELECT n.*, 1 AS sign FROM new_rows AS n '
             'UNION ALL SELECT o.*, -1 AS sign FROM old_rows AS o' END;
BEGIN
    EXECUTE format($q$
        WITH d AS (
            SELECT c.code, r.record_kind, f.facet, sum(r.sign) AS n
            FROM (%s) AS r
            CROSS JOIN LATERAL unnest(ARRAY[r.district_code, r.street_code, r.community_code,
                                            r.grid_code, r.building_code, r.room_code]) AS c(code)
            CROSS JOIN LATERAL unnest(r.facets) AS f(facet)
            WHERE c.code IS NOT NULL AND r.role = 'primary'
            GROUP BY c.code, r.record_kind, f.facet
            HAVING sum(r.sign) <> 0
        ), upd AS (
            UPDATE twin.block_facet_counts AS bc SET n = bc.n + d.n
            FROM d
            WHERE bc.code = d.code AND bc.record_kind = d.record_kind AND bc.facet = d.facet
            RETURNING bc.code, bc.record_kind, bc.facet
        )
        INSERT INTO twin.block_facet_counts AS bc (code, record_kind, facet, n)
        SELECT d.code, d.record_kind, d.facet, d.n FROM d
        WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.code = d.code
                          AND upd.record_kind = d.record_kind AND upd.facet = d.facet)
        ON CONFLICT (code, record_kind, facet) DO UPDATE SET n = bc.n + excluded.n
        $q$, src);
    RETURN NULL;
END $$;

CREATE TRIGGER placement_facets_insert AFTER INSERT ON twin.placement
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.block_facet_counts_apply();
CREATE TRIGGER placement_facets_update AFTER UPDATE ON twin.placement
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.block_facet_counts_apply();
CREATE TRIGGER placement_facets_delete AFTER DELETE ON twin.placement
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.block_facet_counts_apply();

-- Existing placements (none carry facets yet) need no back-fill: their facets are empty.

-- Delineated comprehensive grids (综合网格), as a plan per community: each grid's outline,
-- buildings (whole: a grid never cuts a building), housing units, residents, compactness and
-- how it relates to the grids in force (unchanged, changed, new). A grid code is the
-- community code and 2 digits; an unchanged grid keeps its code and outline. Building codes
-- embed their grid's code, so applying a plan (re-coding buildings) is the address library's
-- work, not this table's.
CREATE TABLE twin.grid_plan (
    community_code text NOT NULL REFERENCES twin.admin_unit (code),
    grid_code      text NOT NULL CHECK (grid_code ~ '^[0-9]{14}$'
                        AND left(grid_code, 12) = community_code AND right(grid_code, 2) <> '00'),
    geom           geometry(MultiPolygon, 4326) NOT NULL
                   CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    building_codes text[] NOT NULL,
    housing_units  integer NOT NULL CHECK (housing_units >= 0),
    residents      integer NOT NULL CHECK (residents >= 0),
    compactness    real NOT NULL CHECK (compactness BETWEEN 0 AND 1),
    parts          integer NOT NULL CHECK (parts >= 1),
    status         text NOT NULL CHECK (status IN ('unchanged', 'changed', 'new')),
    planned_by     text NOT NULL,
    planned_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_code, grid_code)
);
CREATE INDEX grid_plan_geom_idx ON twin.grid_plan USING gist (geom);

-- Large placement batches skip row triggers (foreign-key checks and the row audit) with
-- session_replication_role = replica, as the generator and entity coding do: their block
-- paths were read from the database by the batch itself, and one audit summary row is
-- written per batch. The counts and the tile notifications must still run: ALWAYS.
ALTER TABLE twin.placement ENABLE ALWAYS TRIGGER placement_counts_insert;
ALTER TABLE twin.placement ENABLE ALWAYS TRIGGER placement_counts_update;
ALTER TABLE twin.placement ENABLE ALWAYS TRIGGER placement_counts_delete;
ALTER TABLE twin.placement ENABLE ALWAYS TRIGGER placement_facets_insert;
ALTER TABLE twin.placement ENABLE ALWAYS TRIGGER placement_facets_update;
ALTER TABLE twin.placement ENABLE ALWAYS TRIGGER placement_facets_delete;
ALTER TABLE twin.block_counts ENABLE ALWAYS TRIGGER block_counts_notify_insert;
ALTER TABLE twin.block_counts ENABLE ALWAYS TRIGGER block_counts_notify_update;
