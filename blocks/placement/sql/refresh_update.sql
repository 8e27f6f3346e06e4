-- Write re-placed placements in one statement (the count triggers run once). A placement
-- that is not accepted any more waits for review again.
UPDATE twin.placement AS p SET
    district_code = u.district, street_code = u.street, community_code = u.community,
    grid_code = u.grid, building_code = u.building, floor_no = u.floor, room_code = u.room,
    address_code = u.address, method = u.method, confidence = u.confidence, band = u.band,
    placed_at = now(), placed_by = %(actor)s,
    warnings = CASE WHEN u.warnings = '' THEN p.warnings ELSE p.warnings || u.warnings END,
    review_status = CASE WHEN u.band = 'accept' THEN p.review_status ELSE 'pending' END
FROM unnest(%(ids)s::bigint[], %(district)s::text[], %(street)s::text[],
            %(community)s::text[], %(grid)s::text[], %(building)s::text[],
            %(floor)s::smallint[], %(room)s::text[], %(address)s::text[], %(method)s::text[],
            %(confidence)s::real[], %(band)s::text[], %(warnings)s::text[])
     AS u(id, district, street, community, grid, building, floor, room, address, method,
          confidence, band, warnings)
WHERE p.id = u.id
