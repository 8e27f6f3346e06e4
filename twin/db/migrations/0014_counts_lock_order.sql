-- Count triggers that cannot deadlock each other. Two writers placing at once (Dask workers,
-- a job and the API) update the same count rows (every record counts in its district and
-- street), and used to do so in whatever order their joins produced, so each could wait for
-- the other. Each statement now locks the count rows it changes in key order ("locked"), and
-- the update only reaches a row through that lock, in any plan; new keys are inserted in key
-- order. Keys whose net change is zero are left alone: a statement that changes only a
-- placement's facets no longer locks its block counts.

CREATE OR REPLACE FUNCTION twin.block_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
        ), changed AS (
            SELECT * FROM d WHERE people <> 0 OR companies <> 0 OR events <> 0
        ), locked AS (
            SELECT bc.code FROM twin.block_counts AS bc JOIN changed USING (code)
            ORDER BY bc.code FOR UPDATE OF bc
        ), upd AS (
            UPDATE twin.block_counts AS bc
            SET people = bc.people + d.people, companies = bc.companies + d.companies,
                events = bc.events + d.events
            FROM changed AS d JOIN locked USING (code) WHERE bc.code = d.code
            RETURNING bc.code
        )
        INSERT INTO twin.block_counts AS bc (code, people, companies, events)
        SELECT d.code, d.people, d.companies, d.events FROM changed AS d
        WHERE d.code NOT IN (SELECT code FROM upd)
        ORDER BY d.code
        ON CONFLICT (code) DO UPDATE
            SET people = bc.people + excluded.people,
                companies = bc.companies + excluded.companies,
                events = bc.events + excluded.events
        $q$, src);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION twin.block_facet_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
        ), locked AS (
            SELECT bc.code, bc.record_kind, bc.facet
            FROM twin.block_facet_counts AS bc JOIN d USING (code, record_kind, facet)
            ORDER BY bc.code, bc.record_kind, bc.facet FOR UPDATE OF bc
        ), upd AS (
            UPDATE twin.block_facet_counts AS bc SET n = bc.n + d.n
            FROM d JOIN locked USING (code, record_kind, facet)
            WHERE bc.code = d.code AND bc.record_kind = d.record_kind AND bc.facet = d.facet
            RETURNING bc.code, bc.record_kind, bc.facet
        )
        INSERT INTO twin.block_facet_counts AS bc (code, record_kind, facet, n)
        SELECT d.code, d.record_kind, d.facet, d.n FROM d
        WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.code = d.code
                          AND upd.record_kind = d.record_kind AND upd.facet = d.facet)
        ORDER BY d.code, d.record_kind, d.facet
        ON CONFLICT (code, record_kind, facet) DO UPDATE SET n = bc.n + excluded.n
        $q$, src);
    RETURN NULL;
END $$;
