-- What the store now holds for each staged row (a reviewer's placement may have been kept).
SELECT s.row_no, s.record_id, p.id, p.district_code, p.street_code, p.community_code,
       p.grid_code, p.building_code, p.floor_no, p.room_code, p.address_code, p.method,
       p.confidence, p.band
FROM place_stage AS s
JOIN twin.placement AS p
  ON p.record_kind = %(record_kind)s AND p.record_id = s.record_id AND p.role = 'primary'
ORDER BY s.row_no
