-- One batch of placements, staged: the record's fields as JSON, its block path and how it
-- was placed.
CREATE TEMP TABLE place_stage (
    row_no         integer PRIMARY KEY,
    source_id      text NOT NULL,
    record         jsonb NOT NULL,
    lon            double precision,
    lat            double precision,
    district_code  text,
    street_code    text,
    community_code text,
    grid_code      text,
    building_code  text,
    floor_no       smallint,
    room_code      text,
    address_code   text,
    method         text NOT NULL,
    confidence     real NOT NULL,
    band           text NOT NULL,
    input          jsonb NOT NULL,
    facets         text[] NOT NULL,
    warnings       text[] NOT NULL
) ON COMMIT DROP
