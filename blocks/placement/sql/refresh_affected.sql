-- Placements whose address was retired, or changed after the placement was made: id, record
-- kind, what the record offered, method, address code, and the finest block code now.
SELECT p.id, p.record_kind, p.input, p.method, p.address_code,
       coalesce(p.room_code, p.building_code, p.grid_code, p.community_code, p.street_code,
                p.district_code)
FROM twin.placement AS p
JOIN twin.address AS a ON a.code = p.address_code
WHERE a.status = 'retired' OR a.updated_at > p.placed_at
ORDER BY p.id
