-- Forget earlier matches before matching again (after more locks were taken).
UPDATE entity_plan
SET match_code = NULL, match_community = NULL, match_class = NULL, match_same_geom = NULL
WHERE action IS NULL AND match_code IS NOT NULL
