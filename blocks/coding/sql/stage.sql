-- The batch being coded, in two tables that live for the transaction only:
-- entity_batch holds the checked rows as staged (geometry indexed, never updated), and
-- entity_plan one narrow row per staged row that the steps fill in: where the entity lies,
-- which coded entity it is (if any), what to do, the code it ends with, or why it is refused.
-- Keeping the updates off the wide, indexed table saves rewriting geometries at every step.
CREATE TEMP TABLE entity_batch (
    row_no      integer PRIMARY KEY,
    source_id   text,
    class_code  text NOT NULL,
    name        text,
    geom        geometry(Geometry, 4326) NOT NULL,
    beidou_code text NOT NULL,
    beidou_cell text NOT NULL,
    rep_lat     double precision NOT NULL
) ON COMMIT DROP;

CREATE TEMP TABLE entity_plan (
    row_no          integer PRIMARY KEY,
    class_code      text NOT NULL,
    has_id          boolean NOT NULL,
    community_code  text,
    match_code      text,
    match_community text,
    match_class     text,
    match_same_geom boolean,
    action          text CHECK (action IN ('new', 'existing', 'update', 'recode', 'reject')),
    location        text,
    code            text,
    problem_field   text,
    problem         text
-- Room on every page for the updates of the steps to stay on the page (HOT updates): no new
-- index entries, no table growth.
) WITH (fillfactor = 40) ON COMMIT DROP;

-- The serial base each counter had before this batch (filled by assign_bump.sql).
CREATE TEMP TABLE entity_bump (
    location   text NOT NULL,
    class_code text NOT NULL,
    base       bigint NOT NULL,
    PRIMARY KEY (location, class_code)
) ON COMMIT DROP;
