-- Facets only changed (a person's residence kind, an event's status): update them alone.
UPDATE twin.placement AS p SET facets = s.facets
FROM place_stage AS s
WHERE p.record_kind = %(record_kind)s AND p.record_id = s.record_id AND p.role = 'primary'
  AND p.facets IS DISTINCT FROM s.facets
