-- Retire the codes of entities that moved to another community or changed class, pointing to
-- their new codes. Only active rows are retired: a count short of the plan means another
-- batch got there first, and the caller retries.
UPDATE twin.geo_entity AS g
SET status = 'retired', retired_at = now(), updated_at = now(),
    successor_codes = g.successor_codes || p.code
FROM entity_plan AS p
WHERE p.action = 'recode' AND g.code = p.match_code AND g.status = 'active'
