-- 0010 faster vector tiles: footprints stored in Web Mercator, buildings pre-cut into their
-- z12-16 tiles, and counts shown per role and scope.

-- Footprints in EPSG:3857, the tiles' projection, computed once per write instead of once per
-- building per tile request. A stored generated column: it is filled in bulk loads too (the
-- generator's sessions skip ordinary triggers).
ALTER TABLE twin.building ADD COLUMN footprint_3857 geometry(MultiPolygon, 3857)
    GENERATED ALWAYS AS (ST_Transform(footprint, 3857)) STORED;
CREATE INDEX building_footprint_3857_idx ON twin.building USING gist (footprint_3857);

-- Buildings at z12-16 as their tiles hold them: already clipped, snapped and encoded in tile
-- coordinates (extent 4096, buffer 64, as ST_AsMVTGeom makes them), one row per building per
-- tile it reaches, with the height (the one attribute of the lowest zooms; the others are
-- joined by code). A z12 tile holds thousands of buildings; reading them ready-made is
-- several times faster than projecting and clipping each one per request, and at z14-16 it
-- leaves the database little to do but encode. Deeper zooms are cut per request (few
-- buildings per tile, and the rows would multiply). Kept current by the triggers below.
CREATE TABLE twin.building_tile (
    z        smallint NOT NULL CHECK (z BETWEEN 12 AND 16),
    x        integer NOT NULL CHECK (x >= 0),
    y        integer NOT NULL CHECK (y >= 0),
    code     text NOT NULL,
    height_m real NOT NULL,
    -- Tile coordinates (0..4096, y down), not a coordinate reference system.
    geom     geometry NOT NULL,
    PRIMARY KEY (z, x, y, code)
);
CREATE INDEX building_tile_code_idx ON twin.building_tile (code);

-- The z12-16 tiles a footprint (EPSG:3857) reaches, with its geometry as each holds it.
CREATE FUNCTION twin.building_tiles(g geometry)
RETURNS TABLE (z smallint, x integer, y integer, geom geometry)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH zoom AS (
        -- Tile size and the clipping buffer (64 of 4096 units), metres, at each zoom.
        SELECT zz, 40075016.685578488 / (1 << zz) AS size,
               40075016.685578488 / (1 << zz) * 64 / 4096 AS buf
        FROM generate_series(12, 16) AS zz
    ), span AS (
        SELECT zz, size,
               greatest(0, floor((ST_XMin(g) - buf + 20037508.342789244) / size))::int AS x0,
               least((1 << zz) - 1,
                     floor((ST_XMax(g) + buf + 20037508.342789244) / size))::int AS x1,
               greatest(0, floor((20037508.342789244 - ST_YMax(g) - buf) / size))::int AS y0,
               least((1 << zz) - 1,
                     floor((20037508.342789244 - ST_YMin(g) + buf) / size))::int AS y1
        FROM zoom
    )
    SELECT t.* FROM (
        SELECT s.zz::smallint, tx, ty,
               ST_AsMVTGeom(g, ST_TileEnvelope(s.zz, tx, ty), 4096, 64, true)
        FROM span AS s
        CROSS JOIN LATERAL generate_series(s.x0, s.x1) AS tx
        CROSS JOIN LATERAL generate_series(s.y0, s.y1) AS ty
    ) AS t (z, x, y, geom)
    WHERE t.geom IS NOT NULL
$$;

-- The buildings layer of each z12 and z13 tile, encoded once (ST_AsMVT of its building_tile
-- rows: the height at z12; the code and the height at z13; no counts, so one encoding serves
-- every caller). These tiles hold tens of thousands of buildings at full density and
-- dominate the cost of a map; served from here they cost one row read. The layer name
-- 'buildings' is the tile service's (tiles/layers.py).
CREATE TABLE twin.building_layer_tile (
    z   smallint NOT NULL CHECK (z IN (12, 13)),
    x   integer NOT NULL CHECK (x >= 0),
    y   integer NOT NULL CHECK (y >= 0),
    mvt bytea NOT NULL,
    PRIMARY KEY (z, x, y)
);

-- Tiles whose encoded layer is out of date after bulk writes (twin.bulk = on: the generator),
-- which encode them once at the end (twin.encode_stale_building_layers). No key: concurrent
-- bulk writers only ever append, so they never wait for one another.
CREATE TABLE twin.building_layer_stale (
    z smallint NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL
);

-- (Re-)encode the building layers of some z12/z13 tiles, given as (z, x, y) rows of a jsonb
-- array. Writers take turns on one advisory lock, held until they commit, so the one that
-- goes second reads what the first committed and no tile loses buildings. One lock rather
-- than one per tile: a transaction that writes buildings in several statements cannot then
-- deadlock with another over tiles taken in a different order.
CREATE FUNCTION twin.encode_building_layers(tiles jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('twin.building_layer_tile'));
    -- A new statement: a new snapshot, which sees what the writers before committed.
    WITH k AS (
        SELECT DISTINCT (e->>0)::smallint AS z, (e->>1)::int AS x, (e->>2)::int AS y
        FROM jsonb_array_elements(tiles) AS e
    ), enc AS (
        SELECT k.z, k.x, k.y, CASE WHEN k.z = 12 THEN
            (SELECT ST_AsMVT(r, 'buildings', 4096, 'geom') FROM (
                SELECT b.geom, b.height_m FROM twin.building_tile AS b
                WHERE b.z = k.z AND b.x = k.x AND b.y = k.y) AS r)
        ELSE
            (SELECT ST_AsMVT(r, 'buildings', 4096, 'geom') FROM (
                SELECT b.geom, b.code, b.height_m FROM twin.building_tile AS b
                WHERE b.z = k.z AND b.x = k.x AND b.y = k.y) AS r)
        END AS mvt
        FROM k
    ), gone AS (
        DELETE FROM twin.building_layer_tile AS l USING enc
        WHERE l.z = enc.z AND l.x = enc.x AND l.y = enc.y AND coalesce(length(enc.mvt), 0) = 0
    )
    INSERT INTO twin.building_layer_tile AS l (z, x, y, mvt)
    SELECT z, x, y, mvt FROM enc WHERE length(mvt) > 0
    ON CONFLICT (z, x, y) DO UPDATE SET mvt = excluded.mvt;
END $$;

-- Keep building_tile and building_layer_tile current: a few statements per statement on
-- building, whatever its size; an update re-cuts only the buildings whose footprint, height
-- or code changed. ENABLE ALWAYS: these fire in bulk sessions too (session_replication_role
-- = replica).
CREATE FUNCTION twin.building_tile_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone jsonb := '[]';
    made jsonb := '[]';
BEGIN
    IF TG_OP = 'DELETE' THEN
        WITH d AS (
            DELETE FROM twin.building_tile AS t USING old_rows AS o WHERE t.code = o.code
            RETURNING t.z, t.x, t.y)
        SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(z, x, y)), '[]') INTO gone
        FROM d WHERE z <= 13;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Old rows first, then new ones, in two statements (a building keeps its code).
        WITH changed AS (
            SELECT o.code FROM old_rows AS o LEFT JOIN new_rows AS n ON n.code = o.code
            WHERE n.code IS NULL OR n.footprint_3857 IS DISTINCT FROM o.footprint_3857
               OR n.height_m IS DISTINCT FROM o.height_m
        ), d AS (
            DELETE FROM twin.building_tile AS t USING changed AS c WHERE t.code = c.code
            RETURNING t.z, t.x, t.y)
        SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(z, x, y)), '[]') INTO gone
        FROM d WHERE z <= 13;
        WITH changed AS (
            SELECT n.* FROM new_rows AS n LEFT JOIN old_rows AS o ON o.code = n.code
            WHERE o.code IS NULL OR n.footprint_3857 IS DISTINCT FROM o.footprint_3857
               OR n.height_m IS DISTINCT FROM o.height_m
        ), i AS (
            INSERT INTO twin.building_tile (z, x, y, code, height_m, geom)
            SELECT t.z, t.x, t.y, n.code, n.height_m, t.geom
            FROM changed AS n CROSS JOIN LATERAL twin.building_tiles(n.footprint_3857) AS t
            RETURNING z, x, y)
        SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(z, x, y)), '[]') INTO made
        FROM i WHERE z <= 13;
    ELSE
        WITH i AS (
            INSERT INTO twin.building_tile (z, x, y, code, height_m, geom)
            SELECT t.z, t.x, t.y, n.code, n.height_m, t.geom
            FROM new_rows AS n CROSS JOIN LATERAL twin.building_tiles(n.footprint_3857) AS t
            RETURNING z, x, y)
        SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(z, x, y)), '[]') INTO made
        FROM i WHERE z <= 13;
    END IF;
    IF jsonb_array_length(gone || made) = 0 THEN
        RETURN NULL;
    ELSIF current_setting('twin.bulk', true) = 'on' THEN
        INSERT INTO twin.building_layer_stale (z, x, y)
        SELECT (e->>0)::smallint, (e->>1)::int, (e->>2)::int
        FROM jsonb_array_elements(gone || made) AS e;
    ELSE
        PERFORM twin.encode_building_layers(gone || made);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER building_tile_insert AFTER INSERT ON twin.building
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.building_tile_sync();
CREATE TRIGGER building_tile_update AFTER UPDATE ON twin.building
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.building_tile_sync();
CREATE TRIGGER building_tile_delete AFTER DELETE ON twin.building
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION twin.building_tile_sync();
ALTER TABLE twin.building ENABLE ALWAYS TRIGGER building_tile_insert;
ALTER TABLE twin.building ENABLE ALWAYS TRIGGER building_tile_update;
ALTER TABLE twin.building ENABLE ALWAYS TRIGGER building_tile_delete;

-- Encode the tiles left stale by bulk writes; return how many.
CREATE FUNCTION twin.encode_stale_building_layers() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    tiles jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('twin.building_layer_tile'));
    WITH gone AS (DELETE FROM twin.building_layer_stale RETURNING z, x, y)
    SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(z, x, y)), '[]') INTO tiles FROM gone;
    PERFORM twin.encode_building_layers(tiles);
    RETURN jsonb_array_length(tiles);
END $$;

INSERT INTO twin.building_tile (z, x, y, code, height_m, geom)
SELECT t.z, t.x, t.y, b.code, b.height_m, t.geom
FROM twin.building AS b CROSS JOIN LATERAL twin.building_tiles(b.footprint_3857) AS t;
SELECT twin.encode_building_layers(coalesce(jsonb_agg(jsonb_build_array(z, x, y)), '[]'))
FROM (SELECT DISTINCT z, x, y FROM twin.building_tile WHERE z <= 13) AS t;

-- A count as a tile shows it to a caller with privacy threshold k and scope: exact within
-- the scope (a grid worker's own community or grid), else withheld below k (twin.tile_count).
-- An empty scope covers nothing.
CREATE FUNCTION twin.tile_count_for(n integer, k integer, code text, scope text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT twin.tile_count(n, CASE WHEN scope <> '' AND starts_with(code, scope) THEN 0
                                   ELSE k END)
$$;
