"""Generate one community and stream it into a :class:`~twin.synth.writer.Sink`, grid by grid.

The community's grids and layout come first (small: shapes and numbers); then, grid by grid,
its compounds, buildings, floors, rooms and their addresses, then the people, legal entities
and events of that grid with their messy addresses and truth. Every random stream is keyed by
the seed and the unit's code, so the result does not depend on the order of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.synth import SOURCE
from twin.synth.addresses import AdminNames, Place
from twin.synth.companies import choose_premises, company_rows
from twin.synth.compounds import layout_community, make_grids
from twin.synth.density import allocate
from twin.synth.events import event_rows
from twin.synth.geometry import hex_ewkb
from twin.synth.noise import messy_addresses
from twin.synth.people import IdNumbers, person_rows
from twin.synth.plan import community_targets
from twin.synth.rng import rng_for
from twin.synth.rooms import GridRooms, Ids, Stock, write_buildings, write_compounds
from twin.synth.truth import truth_row

if TYPE_CHECKING:
    from twin.synth.compounds import CommunityLayout, Compound
    from twin.synth.density import Targets
    from twin.synth.plan import Plan, Unit
    from twin.synth.writer import Sink

#: Share of people living in residential buildings (the rest in dormitories and shops).
RESIDENTIAL_SHARE = 0.9


@dataclass(frozen=True)
class RunSpec:
    """What identifies a run's data: its key, scale and seed."""

    key: str
    scale: str
    seed: int


@dataclass
class Records:
    """Where a community's records are: how many per grid, and running indices."""

    people: dict[str, int]
    companies: dict[str, int]
    events: dict[str, int]
    ids: IdNumbers
    next: dict[str, int] = field(default_factory=lambda: {"P": 0, "C": 0, "E": 0})


def _records(layout: CommunityLayout, targets: Targets, ids: IdNumbers) -> Records:
    """Share the community's people, entities and events among its grids.

    People follow residential rooms (all rooms if there are none), entities all rooms, events
    buildings.
    """
    grids = sorted(layout.grids)
    homes, rooms, buildings = (dict.fromkeys(grids, 0.0) for _ in range(3))
    for b in layout.buildings:
        n = b.floors * b.units * b.rooms_per_floor
        homes[b.grid] += n if b.use == "residential" else 0
        rooms[b.grid] += n
        buildings[b.grid] += 1
    people_w = homes if sum(homes.values()) > 0 else rooms

    def share(total: int, weights: dict[str, float]) -> dict[str, int]:
        return dict(zip(grids, allocate(total, [weights[g] for g in grids]), strict=True))

    return Records(
        share(targets.people, people_w),
        share(targets.companies, rooms),
        share(targets.events, buildings),
        ids,
    )


def generate_community(
    plan: Plan, street: Unit, community: Unit, run: RunSpec, sink: Sink, offsets: tuple[int, int]
) -> None:
    """Generate one community into ``sink`` (the caller flushes and commits).

    ``offsets`` are the door and compound serials already used by real addresses of the
    community: generated serials follow them.
    """
    code = community.code
    if plan.community_geoms[code].is_empty:
        return
    targets, n_grids = community_targets(plan, code, run.scale, run.seed)
    grids = make_grids(code, plan.community_geoms[code], n_grids, rng_for(run.seed, "grids", code))
    layout = layout_community(
        code, plan.stem(community), grids, plan.roads, plan.angle, targets.buildings,
        rng_for(run.seed, "layout", code),
    )  # fmt: skip
    _write_grids(sink, community, layout)
    stock = Stock(
        Place(plan.district.code, street.code, code),
        AdminNames(plan.district.name, street.name, community.name),
        plan.roads,
        {i: plan.road_code(i) for i in range(len(plan.roads))},
        Ids(code, door_offset=offsets[0], compound_offset=offsets[1]),
        sink,
    )
    ordinal, local = plan.ordinals.get(code, (0, 0))
    records = _records(layout, targets, IdNumbers(plan.district.code, ordinal, local))
    by_grid: dict[str, list[Compound]] = {g: [] for g in sorted(grids)}
    for comp in layout.compounds:
        by_grid[comp.grid].append(comp)
    for grid, comps in by_grid.items():
        heads = write_compounds(stock, comps)
        buildings = [b for c in comps for b in c.buildings]
        rooms = write_buildings(
            stock, layout.compounds, heads, buildings, rng_for(run.seed, "aliases", grid)
        )
        _people(stock, run, grid, rooms, records, plan.stem(community))
        _companies(stock, run, grid, rooms, records, plan.stem(community))
        _events(stock, run, grid, rooms, records, plan.stem(community))


def _write_grids(sink: Sink, community: Unit, layout: CommunityLayout) -> None:
    codes = sorted(layout.grids)
    shapes = hex_ewkb([layout.grids[c] for c in codes], metric=False)
    for c, shape in zip(codes, shapes, strict=True):
        name = f"{community.name}第{c[-2:]}网格"
        sink.add("twin.admin_unit", (c, "grid", name, community.code, shape, True, SOURCE, "{}"))


def _people(
    stock: Stock, run: RunSpec, grid: str, rooms: GridRooms, records: Records, local: str
) -> None:
    n = records.people[grid]
    if n == 0 or not rooms.code:
        return
    rng = rng_for(run.seed, "people", grid)
    homes = np.flatnonzero(rooms.uses() == "residential")
    anywhere = rng.integers(len(rooms.code), size=n)
    if len(homes):
        at_home = rng.random(n) < RESIDENTIAL_SHARE
        anywhere[at_home] = homes[rng.integers(len(homes), size=int(at_home.sum()))]
    picks = [int(i) for i in anywhere]
    messy = messy_addresses([rooms.parts(i) for i in picks], rng, local)
    start = records.next["P"]
    place = stock.place
    rows = person_rows(
        rng, records.ids, [rooms.text(i) for i in picks], [m[0] for m in messy],
        (place.district, place.community or "", start),
    )  # fmt: skip
    stock.sink.extend("twin.person", rows)
    for i, room in enumerate(picks):
        code = rooms.code[room]
        stock.sink.add("twin.synth_truth", truth_row(
            run.key, "person", rows[i][2], messy[i], (code, "room"), code, code[:19]
        ))  # fmt: skip
    records.next["P"] = start + n


def _companies(
    stock: Stock, run: RunSpec, grid: str, rooms: GridRooms, records: Records, local: str
) -> None:
    n = records.companies[grid]
    if n == 0 or not rooms.code:
        return
    rng = rng_for(run.seed, "companies", grid)
    enterprise, picks = choose_premises(rng, rooms.uses(), np.array(rooms.floor), n)
    messy = messy_addresses([rooms.parts(int(i)) for i in picks], rng, local)
    start = records.next["C"]
    place = stock.place
    rows = company_rows(
        rng, enterprise, [rooms.text(int(i)) for i in picks], [m[0] for m in messy],
        (place.district, f"{stock.names.district}{local}", place.community or "",
         records.ids.ordinal, start),
    )  # fmt: skip
    stock.sink.extend("twin.legal_entity", rows)
    for i, room in enumerate(picks):
        code = rooms.code[int(room)]
        stock.sink.add("twin.synth_truth", truth_row(
            run.key, "legal_entity", rows[i][2], messy[i], (code, "room"), code, code[:19]
        ))  # fmt: skip
    records.next["C"] = start + n


def _events(
    stock: Stock, run: RunSpec, grid: str, rooms: GridRooms, records: Records, local: str
) -> None:
    n = records.events[grid]
    if n == 0 or not rooms.buildings:
        return
    rng = rng_for(run.seed, "events", grid)
    picks = [rooms.buildings[int(i)] for i in rng.integers(len(rooms.buildings), size=n)]
    messy = messy_addresses([ref.parts for ref in picks], rng, local)
    start = records.next["E"]
    rows = event_rows(
        rng, [ref.building.footprint.centroid for ref in picks], [m[0] for m in messy],
        (stock.place.community or "", start),
    )  # fmt: skip
    stock.sink.extend("twin.event", rows)
    for i, ref in enumerate(picks):
        code = ref.building.code
        stock.sink.add("twin.synth_truth", truth_row(
            run.key, "event", rows[i][2], messy[i], (code, "building"), None, code
        ))  # fmt: skip
    records.next["E"] = start + n
