-- The number of pending placements inside a scope (a code prefix; '' for all), a community, a
-- grid and a record kind (each filter NULL for any): the total of the review queue's pages.
SELECT count(*)
FROM twin.placement AS p
WHERE p.review_status = 'pending'
  AND (%(scope)s = '' OR coalesce(p.room_code, p.building_code, p.grid_code, p.community_code, '')
                         LIKE %(scope)s || '%%')
  AND (%(community)s::text IS NULL OR p.community_code = %(community)s)
  AND (%(grid)s::text IS NULL OR p.grid_code = %(grid)s)
  AND (%(kind)s::text IS NULL OR p.record_kind = %(kind)s)
