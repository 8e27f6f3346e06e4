-- A reviewer's decision: confirmed (the path stays, the band becomes accept) or corrected
-- (the path moves to the chosen block; method manual, confidence 1).
UPDATE twin.placement SET
    district_code = CASE WHEN %(moved)s THEN %(district)s ELSE district_code END,
    street_code = CASE WHEN %(moved)s THEN %(street)s ELSE street_code END,
    community_code = CASE WHEN %(moved)s THEN %(community)s ELSE community_code END,
    grid_code = CASE WHEN %(moved)s THEN %(grid)s ELSE grid_code END,
    building_code = CASE WHEN %(moved)s THEN %(building)s ELSE building_code END,
    floor_no = CASE WHEN %(moved)s THEN %(floor_no)s::smallint ELSE floor_no END,
    room_code = CASE WHEN %(moved)s THEN %(room)s ELSE room_code END,
    address_code = CASE WHEN %(moved)s THEN %(address_code)s ELSE address_code END,
    method = CASE WHEN %(moved)s THEN 'manual' ELSE method END,
    confidence = CASE WHEN %(moved)s THEN 1 ELSE confidence END,
    band = 'accept',
    review_status = %(status)s, reviewed_by = %(actor)s, reviewed_at = now()
WHERE id = %(id)s
