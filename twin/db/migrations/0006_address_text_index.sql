-- 0006 exact look-ups of a standard text (alias resolution, "one code, many addresses"): the
-- trigram index serves similarity search but not equality, so equality scanned the table.
CREATE INDEX address_text_idx ON twin.address (text);
