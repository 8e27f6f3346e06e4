-- 0002 block counts (people, legal entities, events per block code, at every level) kept by
-- statement-level triggers on placements, and change notifications for the tile cache.

-- Counts per block code. A record counts once, by its 'primary' placement, at each level of
-- its path (district ... room), so the counts of a grid's buildings add up to the grid's.
CREATE TABLE twin.block_counts (
    code      text PRIMARY KEY,
    people    integer NOT NULL DEFAULT 0 CHECK (people >= 0),
    companies integer NOT NULL DEFAULT 0 CHECK (companies >= 0),
    events    integer NOT NULL DEFAULT 0 CHECK (events >= 0)
);

-- Apply the changes of one statement: new rows count +1, old rows -1, netted per code, in one
-- upsert per statement (bulk placements of millions of rows cost one aggregate, not millions).
CREATE FUNCTION twin.block_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    src text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sign FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sign FROM old_rows AS o'
        ELSE 'SELECT n.*, 1 AS sign FROM new_rows AS n '
             'UNION ALL SELECT o.*, -1 AS sign FROM old_rows AS o' END;
BEGIN
    -- Update the codes that exist first, then insert the new ones: an upsert would check the
    -- CHECK (>= 0) on the proposed row (a negative delta) before resolving the conflict.
    EXECUTE format($q$
        WITH d AS (
            SELECT c.code,
                   sum(CASE WHEN r.record_kind = 'person' THEN r.sign ELSE 0 END) AS people,
                   sum(CASE WHEN r.record_kind = 'legal_entity' THEN r.sign ELSE 0 END)
                       AS companies,
                   sum(CASE WHEN r.record_kind = 'event' THEN r.sign ELSE 0 END) AS events
            FROM (%s) AS r
            CROSS JOIN LATERAL unnest(ARRAY[r.district_code, r.street_code, r.community_code,
                                            r.grid_code, r.building_code, r.room_code]) AS c(code)
            WHERE c.code IS NOT NULL AND r.role = 'primary'
            GROUP BY c.code
        ), upd AS (
            UPDATE twin.block_counts AS bc
            SET people = bc.people + d.people, companies = bc.companies + d.companies,
                events = bc.events + d.events
            FROM d WHERE bc.code = d.code
            RETURNING bc.code
        )
        INSERT INTO twin.block_counts AS bc (code, people, companies, events)
        SELECT d.code, d.people, d.companies, d.events FROM d
        WHERE d.code NOT IN (SELECT code FROM upd)
        ON CONFLICT (code) DO UPDATE
            SET people = bc.people + excluded.people,
                companies = bc.companies + excluded.companies,
                events = bc.events + excluded.events
        $q$, src);
    RETURN NULL;
END $$;

CREATE TRIGGER placement_counts_insert AFTER INSERT ON twin.placement
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.block_counts_apply();
CREATE TRIGGER placement_counts_update AFTER UPDATE ON twin.placement
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.block_counts_apply();
CREATE TRIGGER placement_counts_delete AFTER DELETE ON twin.placement
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.block_counts_apply();

-- A count as a tile may show it: below the privacy threshold k (k > 0) it is withheld (NULL,
-- so the property is left out of the tile); zero reveals nobody and is shown.
CREATE FUNCTION twin.tile_count(n integer, k integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN n IS NULL OR n = 0 THEN 0 WHEN k > 0 AND n < k THEN NULL ELSE n END
$$;

-- Tile cache invalidation: after each statement that changes a mapped table, send the
-- bounding box (WGS84) of what changed on channel 'twin_tiles' as JSON
-- {"table": ..., "bbox": [w, s, e, n]}. One message per statement, not per row.
CREATE FUNCTION twin.notify_tiles() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    src text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT %1$I AS g FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT %1$I AS g FROM old_rows'
        ELSE 'SELECT %1$I AS g FROM new_rows UNION ALL SELECT %1$I FROM old_rows' END;
    box box2d;
BEGIN
    EXECUTE format('SELECT ST_Extent(g) FROM (' || src || ') AS x', TG_ARGV[0]) INTO box;
    IF box IS NOT NULL THEN
        PERFORM pg_notify('twin_tiles', json_build_object('table', TG_TABLE_NAME,
            'bbox', json_build_array(ST_XMin(box), ST_YMin(box), ST_XMax(box),
                                     ST_YMax(box)))::text);
    END IF;
    RETURN NULL;
END $$;

-- Counts change without a geometry: find the blocks' extent through buildings and units.
CREATE FUNCTION twin.notify_tiles_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    box box2d;
BEGIN
    SELECT ST_Extent(g) INTO box FROM (
        SELECT b.footprint AS g FROM new_rows AS n JOIN twin.building AS b ON b.code = n.code
        UNION ALL
        SELECT u.geom FROM new_rows AS n JOIN twin.admin_unit AS u ON u.code = n.code) AS x;
    IF box IS NOT NULL THEN
        PERFORM pg_notify('twin_tiles', json_build_object('table', TG_TABLE_NAME,
            'bbox', json_build_array(ST_XMin(box), ST_YMin(box), ST_XMax(box),
                                     ST_YMax(box)))::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER block_counts_notify_insert AFTER INSERT ON twin.block_counts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.notify_tiles_counts();
CREATE TRIGGER block_counts_notify_update AFTER UPDATE ON twin.block_counts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.notify_tiles_counts();

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('admin_unit', 'geom'), ('building', 'footprint'),
            ('road', 'geom'), ('address', 'geom'), ('geo_entity', 'geom')) AS v(tbl, col)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON twin.%I REFERENCING NEW TABLE AS '
            'new_rows FOR EACH STATEMENT EXECUTE FUNCTION twin.notify_tiles(%L)',
            t.tbl || '_tiles_insert', t.tbl, t.col);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON twin.%I REFERENCING OLD TABLE AS '
            'old_rows NEW TABLE AS new_rows FOR EACH STATEMENT '
            'EXECUTE FUNCTION twin.notify_tiles(%L)', t.tbl || '_tiles_update', t.tbl, t.col);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON twin.%I REFERENCING OLD TABLE AS '
            'old_rows FOR EACH STATEMENT EXECUTE FUNCTION twin.notify_tiles(%L)',
            t.tbl || '_tiles_delete', t.tbl, t.col);
    END LOOP;
END $$;
