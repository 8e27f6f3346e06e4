"""Block data: entity coding, placement, grids and aggregates (imports ``twin`` and ``geocode``)."""
