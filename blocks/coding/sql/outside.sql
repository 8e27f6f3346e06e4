-- Entities in no community are refused: the twin codes what lies in its communities.
UPDATE entity_plan
SET action = 'reject', problem_field = 'geometry',
    problem = 'lies outside every community polygon'
WHERE action IS NULL AND community_code IS NULL
