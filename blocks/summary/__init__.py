"""Read-only summaries of the block store for maps and viewers.

Administrative units as GeoJSON with their counts (:func:`units_geojson`), the block path of a
code with each level's numbers (:func:`block_path`), a building's card (:func:`building_card`)
and the records placed in it with personal fields masked (:func:`building_records`). Counts
pass through ``twin.tile_count``: below the privacy threshold ``k`` they are withheld (``None``),
as in the vector tiles; callers pass ``k = 0`` only to principals allowed individual records.
"""

from blocks.summary.repository import (
    LEVEL_DIGITS,
    block_path,
    building_card,
    building_records,
    check_building,
    check_code,
    places,
    room_counts,
    units_geojson,
)

__all__ = [
    "LEVEL_DIGITS",
    "block_path",
    "building_card",
    "building_records",
    "check_building",
    "check_code",
    "places",
    "room_counts",
    "units_geojson",
]
