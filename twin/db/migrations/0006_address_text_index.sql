-- 0006 indexes: exact look-ups of a standard text (alias resolution, "one code, many addresses"): the
-- trigram index serves similarity search but not equality, so equality scanned the table.
CREATE INDEX address_text_idx ON twin.address (text);
-- Earlier versions are searched by place too (what stood here on a date).
CREATE INDEX address_history_geom_idx ON twin.address_history USING gist (geom);
