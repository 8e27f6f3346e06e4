"""Grid events (网格事件) of one grid: type, time, status, place as a point and an address.

Types follow the grid-event vocabulary of Shenzhen's districts (消防隐患, 占道经营, 噪音扰民,
垃圾堆放...) with their rough frequencies. Each event happens at a building, within the year
before :data:`~twin.synth.people.EPOCH`, at a point within 15 m of the building's centre; events
older than a month are closed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from shapely import Point

from twin.synth import SOURCE
from twin.synth.geometry import hex_ewkb
from twin.synth.people import EPOCH
from twin.synth.vocab import EVENT_TYPES, weights

if TYPE_CHECKING:
    from twin.synth.writer import Row

_START = dt.datetime.combine(EPOCH, dt.time(), dt.UTC)
_YEAR_MINUTES = 365 * 24 * 60
_OPEN_MINUTES = 30 * 24 * 60


def event_rows(
    rng: np.random.Generator,
    centres: list[Point],
    messy: list[str],
    where: tuple[str, int],
) -> list[Row]:
    """Return ``twin.event`` rows at the given building centres (metric) with messy addresses.

    ``where`` is (community code, index of the first event in the community).
    """
    community, start = where
    n = len(centres)
    kinds = rng.choice(len(EVENT_TYPES), size=n, p=weights(EVENT_TYPES))
    minutes = rng.integers(0, _YEAR_MINUTES, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = rng.uniform(0, 15, size=n)
    points = hex_ewkb([
        Point(c.x + r * np.cos(a), c.y + r * np.sin(a))
        for c, r, a in zip(centres, radius, angle, strict=True)
    ])  # fmt: skip
    rows: list[Row] = []
    for i in range(n):
        kind, what, _ = EVENT_TYPES[kinds[i]]
        index = start + i
        rows.append((
            int(community) * 1_000_000 + index, SOURCE, f"E{community}{index:06d}", kind,
            _START - dt.timedelta(minutes=int(minutes[i])),
            "open" if minutes[i] < _OPEN_MINUTES else "closed", f"{what}（{messy[i]}）",
            messy[i], points[i], True,
        ))  # fmt: skip
    return rows
