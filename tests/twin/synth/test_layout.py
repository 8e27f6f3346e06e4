"""Roads, door plates, grids, compounds and a whole community on a made-up district (no DB)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import shapely
from shapely import box

from twin.address_codes import address_level
from twin.synth.community import RunSpec, generate_community
from twin.synth.compounds import layout_community, make_grids
from twin.synth.density import allocate, grid_count
from twin.synth.geometry import to_metric
from twin.synth.plan import Plan, Unit
from twin.synth.roads import SLOT_M, door_slots, road_network
from twin.synth.writer import COLUMNS, Sink

# A made-up district about 6 × 4 km in Bao'an (WGS84), and its first community.
DISTRICT_LL = box(113.85, 22.55, 113.91, 22.586)
COMMUNITY_LL = box(113.85, 22.55, 113.87, 22.568)
DISTRICT, COMMUNITY = to_metric(DISTRICT_LL), to_metric(COMMUNITY_LL)


@pytest.fixture(scope="module")
def roads() -> tuple[list, float]:
    return road_network(DISTRICT, "440306", 1, [(COMMUNITY, "上川")], ["宝安", "新安"])


def test_roads_are_unique_inside_and_numbered_from_their_entry(roads: tuple[list, float]) -> None:
    made, _ = roads
    assert len({r.name for r in made}) == len(made) > 10
    assert [r.id for r in made] == [44030600000 + i for i in range(1, len(made) + 1)]
    for r in made:
        assert r.geom.difference(DISTRICT.buffer(1)).is_empty
        assert r.start == pytest.approx(min(a for a, _ in r.spans))


def test_door_numbers_are_odd_left_even_right_and_grow(roads: tuple[list, float]) -> None:
    made, _ = roads
    slots = door_slots(made, range(len(made)), DISTRICT, shapely.Polygon())
    assert len(slots) > 100
    for i, road in enumerate(made):
        mine = slots.road == i
        (x0, y0), (x1, y1) = road.line.coords[0], road.line.coords[-1]
        pos = (slots.x[mine] - x0) * (x1 - x0) + (slots.y[mine] - y0) * (y1 - y0)
        side = (x1 - x0) * (slots.y[mine] - y0) - (y1 - y0) * (slots.x[mine] - x0)
        numbers = slots.number[mine]
        assert ((numbers % 2 == 1) == (side > 0)).all()
        for parity in (0, 1):
            same = numbers % 2 == parity
            assert (np.diff(numbers[same][np.argsort(pos[same])]) > 0).all()
        assert len(set(numbers.tolist())) == len(numbers)
        assert (
            numbers.min(initial=1) >= 1
            and numbers.max(initial=1) <= 2 * road.line.length / SLOT_M + 2
        )


def test_buildings_stay_inside_their_grid_and_parcel(roads: tuple[list, float]) -> None:
    made, angle = roads
    grids = make_grids("440306017001", COMMUNITY_LL, 6, np.random.default_rng(1))
    metric = {c: to_metric(g) for c, g in grids.items()}
    layout = layout_community(
        "440306017001", "上川", grids, made, angle, 400, np.random.default_rng(2)
    )
    assert 300 <= len(layout.buildings) <= 400
    codes = [b.code for b in layout.buildings]
    assert len(set(codes)) == len(codes)
    for comp in layout.compounds:
        assert comp.parcel.difference(metric[comp.grid]).area < 1e-6
        for b in comp.buildings:
            assert b.code.startswith(b.grid) and b.grid == comp.grid
            assert comp.parcel.contains(b.footprint)
            assert 2.9 <= b.height_m / b.floors <= 3.3 + 1e-9
    # Every gate is a distinct door slot inside the community.
    gates = [(c.road, c.door_no) for c in layout.compounds if c.gate is not None]
    assert len(set(gates)) == len(gates) > 0
    assert all(COMMUNITY.contains(c.gate) for c in layout.compounds if c.gate is not None)
    kinds = Counter(c.kind for c in layout.compounds)
    assert len(kinds) >= 4, kinds


def _plan(made: list, angle: float) -> Plan:
    district = Unit("440306", "宝安区", None)
    street = Unit("440306017", "新安街道", "440306")
    community = Unit("440306017001", "上川社区", "440306017")
    return Plan(
        district, DISTRICT, [street], {street.code: DISTRICT_LL}, {street.code: [community]},
        {community.code: COMMUNITY_LL}, made, angle, {community.code: (7, 0)}, 0,
        {community.code: COMMUNITY},
    )  # fmt: skip


def test_a_community_streams_consistent_rows(roads: tuple[list, float]) -> None:
    plan = _plan(*roads)
    sink = Sink(None)
    street, community = plan.streets[0], plan.communities["440306017"][0]
    generate_community(plan, street, community, RunSpec("k", "small", 1), sink, (0, 0))
    rows = sink.buffers
    assert all(len(r) == len(COLUMNS[t]) for t, rs in rows.items() for r in rs)
    addresses = {r[0]: r for r in rows["twin.address"]}
    assert len(addresses) == len(rows["twin.address"])
    for code, row in addresses.items():
        assert address_level(code) == row[1]
        parent = row[3]
        assert (
            parent in addresses
            or parent in ("440306017001", "440306R00001")
            or (row[1] == "door" and address_level(parent) == "road")
        )
    rooms = {r[0] for r in rows["twin.room"]}
    assert rooms == {c for c, r in addresses.items() if r[1] == "room"}
    floors = {(r[0], r[1]) for r in rows["twin.floor"]}
    assert {(r[1], r[2]) for r in rows["twin.room"]} <= floors
    truth = rows["twin.synth_truth"]
    records = len(rows["twin.person"]) + len(rows["twin.legal_entity"]) + len(rows["twin.event"])
    assert len(truth) == records > 0
    assert all(t[5] in addresses for t in truth)


def test_allocation_and_grid_counts() -> None:
    assert allocate(7, [0.0, 2.0, 1.0]) == [0, 5, 2]
    assert sum(allocate(1000, [0.3, 0.3, 0.4, 1e-9])) == 1000
    assert grid_count(500) == 1 and grid_count(501) == 2
