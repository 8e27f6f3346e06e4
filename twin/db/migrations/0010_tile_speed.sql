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

-- Keep building_tile current: one statement per statement on building, whatever its size.
-- ENABLE ALWAYS: these fire in bulk sessions too (session_replication_role = replica).
CREATE FUNCTION twin.building_tile_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM twin.building_tile AS t USING old_rows AS o WHERE t.code = o.code;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO twin.building_tile (z, x, y, code, height_m, geom)
        SELECT t.z, t.x, t.y, n.code, n.height_m, t.geom
        FROM new_rows AS n CROSS JOIN LATERAL twin.building_tiles(n.footprint_3857) AS t;
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

INSERT INTO twin.building_tile (z, x, y, code, height_m, geom)
SELECT t.z, t.x, t.y, b.code, b.height_m, t.geom
FROM twin.building AS b CROSS JOIN LATERAL twin.building_tiles(b.footprint_3857) AS t;

-- A count as a tile shows it to a caller with privacy threshold k and scope: exact within
-- the scope (a grid worker's own community or grid), else withheld below k (twin.tile_count).
-- An empty scope covers nothing.
CREATE FUNCTION twin.tile_count_for(n integer, k integer, code text, scope text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT twin.tile_count(n, CASE WHEN scope <> '' AND starts_with(code, scope) THEN 0
                                   ELSE k END)
$$;
