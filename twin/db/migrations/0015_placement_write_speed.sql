-- 0015 placement writes: every placement written updates each index of twin.placement. The
-- index on street_code serves no query (streets are reached through their communities and
-- the counts; district_code keeps its index for the generator's delete by district), so it
-- goes: one index less to write per placement.
DROP INDEX twin.placement_street_idx;
