"""Rows of the built stock of one grid: doors, compounds, buildings, floors, units and rooms.

For each compound: its door and compound addresses (and aliases); for each building: the
building row, its floors (basements too), its rooms with 25-digit codes, and the addresses of
the building, its units (单元), floors and rooms. What people, companies and events need of
the rooms is kept in a :class:`GridRooms` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.address_codes import (
    compound_address_code,
    door_address_code,
    floor_address_code,
    unit_address_code,
)
from twin.synth import SOURCE
from twin.synth.addresses import (
    PREFIX,
    AdminNames,
    Place,
    address_row,
    alias_row,
    building_aliases,
    compound_aliases,
    door_text,
    elements,
    floor_label,
    room_text,
    unit_text,
)
from twin.synth.geometry import hex_ewkb
from twin.synth.noise import AddressParts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from twin.synth.buildings import Building
    from twin.synth.compounds import Compound
    from twin.synth.roads import Road
    from twin.synth.writer import Row, Sink


@dataclass
class Ids:
    """Deterministic ids and serials of one community's rows."""

    community: str
    alias: int = 0
    door_offset: int = 0
    compound_offset: int = 0

    def next_alias(self) -> int:
        """Return the next ``twin.address_alias`` id: community code × 10⁶ + serial."""
        self.alias += 1
        return int(self.community) * 1_000_000 + self.alias


@dataclass
class BuildingRef:
    """What records placed in a building need: the building, its texts and address parts."""

    building: Building
    compound: Compound
    text: str
    parts: AddressParts
    point: str
    row: Row


@dataclass
class GridRooms:
    """The rooms of one grid, as parallel lists (index = room)."""

    buildings: list[BuildingRef] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    building: list[int] = field(default_factory=list)
    floor: list[int] = field(default_factory=list)
    unit: list[str | None] = field(default_factory=list)
    number: list[str] = field(default_factory=list)

    def text(self, i: int) -> str:
        """Return the standard text of room ``i``."""
        return room_text(self.buildings[self.building[i]].text, self.unit[i], self.number[i])

    def parts(self, i: int) -> tuple[str, ...]:
        """Return the standard address parts of room ``i`` (as :class:`AddressParts` fields)."""
        unit = self.unit[i]
        base = self.buildings[self.building[i]].parts
        return (*base[:8], f"{unit}单元" if unit else "", f"{self.number[i]}室", *base[10:])

    def uses(self) -> np.ndarray:
        """Return the use of each room's building."""
        return np.array([self.buildings[b].building.use for b in self.building], dtype=object)


@dataclass(frozen=True)
class Stock:
    """What the rows of a community's built stock share."""

    place: Place
    names: AdminNames
    roads: Sequence[Road]
    road_codes: dict[int, str]
    ids: Ids
    sink: Sink


def _door(stock: Stock, comp: Compound, gate: str) -> tuple[str, str]:
    """Write a compound's door and compound addresses; return (compound code, its text)."""
    s, community = stock, stock.place.community or ""
    comp_code = compound_address_code(community, comp.serial + s.ids.compound_offset)
    text, parent = f"{s.names.head}{comp.name}", community
    road = s.roads[comp.road] if comp.road is not None else None
    door = f"{comp.door_no}号" if road is not None else None
    road_id = road.id if road is not None else None
    if road is not None and comp.road is not None:
        door_code = door_address_code(community, comp.serial + s.ids.door_offset)
        text = door_text(s.names.head, road.name, comp.door_no or 0)
        s.sink.add("twin.address", address_row(
            s.place, door_code, "door", text, s.road_codes[comp.road], grid=comp.gate_grid,
            road_id=road_id, door=door, elements_json=elements(road=road.name, door=door),
            geom=gate,
        ))  # fmt: skip
        alias = f"{s.names.district}{road.name}{door}"
        s.sink.add(
            "twin.address_alias",
            alias_row(s.ids.next_alias(), door_code, alias, "abbreviation"),
        )
        text, parent = f"{text}{comp.name}", door_code
    s.sink.add("twin.address", address_row(
        s.place, comp_code, "compound", text, parent, grid=comp.grid, road_id=road_id, door=door,
        compound_id=comp.row_id(community), geom=gate,
        elements_json=elements(road=road.name if road else None, door=door, poi=comp.name),
    ))  # fmt: skip
    for alias, kind in compound_aliases(s.names, comp.name, comp.nickname, comp.old_name):
        s.sink.add("twin.address_alias", alias_row(s.ids.next_alias(), comp_code, alias, kind))
    return comp_code, text


def write_compounds(stock: Stock, compounds: Sequence[Compound]) -> dict[int, tuple[str, str]]:
    """Write compound rows with their door and compound addresses; return serial → (code, text)."""
    community = stock.place.community or ""
    gates = [c.gate or c.parcel.representative_point() for c in compounds]
    shapes = hex_ewkb([*(c.parcel for c in compounds), *gates])
    out = {}
    for i, comp in enumerate(compounds):
        stock.sink.add("twin.compound", (
            comp.row_id(community), comp.name, comp.kind, community, shapes[i], True, SOURCE,
            elements(nickname=comp.nickname, old_name=comp.old_name),
        ))  # fmt: skip
        out[comp.serial] = _door(stock, comp, shapes[len(compounds) + i])
    return out


def write_buildings(
    stock: Stock,
    compounds: Sequence[Compound],
    heads: dict[int, tuple[str, str]],
    buildings: Sequence[Building],
    rng: np.random.Generator,
) -> GridRooms:
    """Write buildings with their floors, rooms, addresses and aliases; return their rooms."""
    shapes = hex_ewkb(
        [*(b.footprint for b in buildings), *(b.footprint.centroid for b in buildings)]
    )
    community = stock.place.community or ""
    table = GridRooms()
    for i, b in enumerate(buildings):
        comp = compounds[b.compound]
        stock.sink.add("twin.building", (
            b.code, b.grid, b.label, comp.row_id(community), shapes[i], b.floors, b.basements,
            b.height_m, b.use, b.built_year, True, SOURCE, "{}",
        ))  # fmt: skip
        ref = _building(stock, comp, heads[comp.serial], b, shapes[len(buildings) + i], rng)
        table.buildings.append(ref)
        _floors(stock, ref)
        _rooms(stock, ref, len(table.buildings) - 1, table)
    return table


def _building(
    stock: Stock, comp: Compound, head: tuple[str, str], b: Building, point: str,
    rng: np.random.Generator,
) -> BuildingRef:  # fmt: skip
    """Write a building's address and aliases; return what its rooms and records need."""
    s = stock
    road = s.roads[comp.road] if comp.road is not None else None
    door = f"{comp.door_no}号" if road is not None else ""
    text = f"{head[1]}{b.label}"
    row = address_row(
        s.place, b.code, "building", text, head[0], grid=b.grid,
        road_id=road.id if road else None, door=door or None,
        compound_id=comp.row_id(s.place.community or ""), building=b.code, geom=point,
    )  # fmt: skip
    s.sink.add("twin.address", (*row[:15], _building_elements(road, door, comp, b), *row[16:]))
    road_door = f"{road.name}{door}" if road else ""
    for alias, kind in building_aliases(
        rng, s.names, comp.name, comp.nickname, comp.old_name, b.label, road_door
    ):
        s.sink.add("twin.address_alias", alias_row(s.ids.next_alias(), b.code, alias, kind))
    parts = AddressParts(
        PREFIX, s.names.district, s.names.street, s.names.community, road.name if road else "",
        door, comp.name, b.label, "", "", comp.nickname, comp.old_name or "",
        (road.old_name or "") if road else "",
    )  # fmt: skip
    return BuildingRef(b, comp, text, parts, point, row)


def _building_elements(road: Road | None, door: str, comp: Compound, b: Building) -> str:
    return elements(
        road=road.name if road else None, door=door or None, poi=comp.name, building=b.label
    )


def _floors(stock: Stock, ref: BuildingRef) -> None:
    """Write a building's floors (basements too) and its floor and unit addresses."""
    b, row, add = ref.building, ref.row, stock.sink.add
    storey = round(b.storey_m, 2)
    label = b.label
    for f in [*range(-b.basements, 0), *range(1, b.floors + 1)]:
        add("twin.floor", (b.code, f, floor_label(f), round((f - (f > 0)) * storey, 2), storey))
        add("twin.address", (
            floor_address_code(b.code, f), "floor", f"{ref.text}{floor_label(f)}", b.code,
            *row[4:13], f, None, f'{{"building": "{label}", "floor": {f}}}', *row[16:],
        ))  # fmt: skip
    for unit in range(1, b.units + 1) if b.units > 1 else ():
        add("twin.address", (
            unit_address_code(b.code, unit), "unit", unit_text(ref.text, unit), b.code,
            *row[4:12], str(unit), None, None,
            f'{{"building": "{label}", "unit": "{unit}单元"}}', *row[16:],
        ))  # fmt: skip


def _rooms(stock: Stock, ref: BuildingRef, index: int, table: GridRooms) -> None:
    """Write a building's rooms (25-digit codes) and their addresses; list them in ``table``."""
    b, row, add = ref.building, ref.row, stock.sink.add
    area = round(b.footprint.area * 0.8 / (b.units * b.rooms_per_floor), 1)
    label = b.label
    for serial, (floor, unit, number) in enumerate(b.rooms(), start=1):
        code = f"{b.code}{serial:06d}"  # the building code is valid: no need to validate again
        if unit:
            parent = unit_address_code(b.code, int(unit))
            extra = f'{{"building": "{label}", "unit": "{unit}单元", "floor": {floor}, '
        else:
            parent = floor_address_code(b.code, floor)
            extra = f'{{"building": "{label}", "floor": {floor}, '
        add("twin.room", (code, b.code, floor, unit, number, b.use, area))
        add("twin.address", (
            code, "room", room_text(ref.text, unit, number), parent, *row[4:12], unit, floor,
            code, f'{extra}"room": "{number}室"}}', *row[16:],
        ))  # fmt: skip
        table.code.append(code)
        table.building.append(index)
        table.floor.append(floor)
        table.unit.append(unit)
        table.number.append(number)
