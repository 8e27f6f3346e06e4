"""Rows of one community: addresses, aliases, floors, rooms, people, companies, events, truth.

Every function returns plain tuples in the column order of :mod:`twin.synth.writer`, ready for
``COPY``; geometries are WGS84 hex EWKB.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely
from shapely import MultiPolygon, Polygon

from twin.address_codes import (
    compound_address_code,
    door_address_code,
    unit_address_code,
)
from twin.codes import USCC_ALPHABET, org_code_check_char, uscc_check_char
from twin.synth import names
from twin.synth.addresses import PREFIX, AdminNames, building_aliases
from twin.synth.district import to_wgs84
from twin.synth.noise import AddressParts, messy_address
from twin.synth.tessellate import as_multipolygon

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from twin.synth.community import Building, CommunityLayout, Compound
    from twin.synth.district import Road

Row = tuple[Any, ...]
EPOCH = dt.date(2026, 1, 1)


def ewkb(geom: BaseGeometry) -> str:
    """WGS84 hex EWKB of a metric geometry (polygons kept valid after reprojection)."""
    out = to_wgs84(geom)
    if isinstance(out, Polygon | MultiPolygon):
        out = (
            as_multipolygon(out)
            if not out.is_valid
            else MultiPolygon([out] if isinstance(out, Polygon) else list(out.geoms))
        )
    return str(shapely.to_wkb(shapely.set_srid(out, 4326), hex=True, include_srid=True))


@dataclass
class RoomRef:
    """A room with what records placed in it need."""

    code: str
    building: Building
    floor: int
    unit: str | None
    room_no: str
    text: str
    parts: AddressParts


@dataclass
class Rows:
    """All rows of one community, by table."""

    address: list[Row] = field(default_factory=list)
    alias: list[Row] = field(default_factory=list)
    floor: list[Row] = field(default_factory=list)
    room: list[Row] = field(default_factory=list)
    person: list[Row] = field(default_factory=list)
    company: list[Row] = field(default_factory=list)
    event: list[Row] = field(default_factory=list)
    truth: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What every row of a community shares."""

    district: str
    street: str
    community: str
    admin: AdminNames
    roads: list[Road]
    road_ids: dict[str, int]
    road_codes: dict[str, str]


def address_row(
    code: str,
    level: str,
    text: str,
    parent: str | None,
    *,
    district: str,
    street: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    road_id: int | None = None,
    door: str | None = None,
    compound: int | None = None,
    building: str | None = None,
    unit: str | None = None,
    floor: int | None = None,
    room: str | None = None,
    geom: str | None = None,
) -> Row:
    """Return a published, generated ``twin.address`` row in the writer's column order."""
    return (
        code,
        level,
        text,
        parent,
        district,
        street,
        community,
        grid,
        road_id,
        door,
        compound,
        building,
        unit,
        floor,
        room,
        geom,
        "published",
        True,
        "citytwin-synth",
    )


def _addr(
    ctx: Context,
    code: str,
    level: str,
    text: str,
    parent: str | None,
    *,
    road: str | None = None,
    **kw: Any,
) -> Row:
    return address_row(
        code,
        level,
        text,
        parent,
        district=ctx.district,
        street=ctx.street,
        community=ctx.community,
        road_id=ctx.road_ids.get(road) if road else None,
        **kw,
    )


def compound_rows(
    ctx: Context, comp: Compound, serial: int, compound_id: int, rows: Rows
) -> tuple[str, str]:
    """Add the door and compound addresses of a compound; return (door code, compound code)."""
    road = ctx.roads[comp.road].name
    door_code = door_address_code(ctx.community, serial)
    comp_code = compound_address_code(ctx.community, serial)
    door_text = f"{ctx.admin.head}{road}{comp.door_no}号"
    gate = ewkb(comp.gate)
    rows.address.append(
        _addr(
            ctx,
            door_code,
            "door",
            door_text,
            ctx.road_codes[road],
            grid=comp.grid,
            road=road,
            door=f"{comp.door_no}号",
            geom=gate,
        )
    )
    rows.address.append(
        _addr(
            ctx,
            comp_code,
            "compound",
            door_text + comp.name,
            door_code,
            grid=comp.grid,
            road=road,
            door=f"{comp.door_no}号",
            compound=compound_id,
            geom=gate,
        )
    )
    rows.alias.append((comp_code, f"{ctx.admin.head}{comp.nickname}", "nickname", "citytwin-synth"))
    rows.alias.append(
        (comp_code, f"{ctx.admin.district}{comp.name}", "abbreviation", "citytwin-synth")
    )
    return door_code, comp_code


def building_rows(
    ctx: Context, comp: Compound, b: Building, comp_code: str, compound_id: int, rows: Rows
) -> list[RoomRef]:
    """Add a building's address, aliases, floors, units and rooms; return its rooms."""
    road = ctx.roads[comp.road].name
    door = f"{comp.door_no}号"
    text = f"{ctx.admin.head}{road}{door}{comp.name}{b.name}"
    point = ewkb(b.footprint.representative_point())

    def address(code: str, level: str, text: str, parent: str, **kw: Any) -> Row:
        return _addr(
            ctx,
            code,
            level,
            text,
            parent,
            grid=b.grid,
            road=road,
            door=door,
            compound=compound_id,
            building=b.code,
            geom=point,
            **kw,
        )

    rows.address.append(address(b.code, "building", text, comp_code))
    for alias, kind in building_aliases(comp.name, comp.nickname, b.name):
        rows.alias.append((b.code, alias, kind, "citytwin-synth"))
    for unit_no in range(1, b.units + 1) if b.units > 1 else ():
        rows.address.append(
            address(
                unit_address_code(b.code, unit_no),
                "unit",
                f"{text}{unit_no}单元",
                b.code,
                unit=str(unit_no),
            )
        )
    parts = AddressParts(
        PREFIX,
        ctx.admin.district,
        ctx.admin.street,
        ctx.admin.community,
        road,
        door,
        comp.name,
        comp.nickname,
        b.name,
        "",
        "",
    )
    refs: list[RoomRef] = []
    rows.floor.extend((b.code, floor) for floor in range(1, b.floors + 1))
    for serial, (floor, unit, room_no) in enumerate(b.rooms(), start=1):
        code = f"{b.code}{serial:06d}"  # the building code is valid; serials count from 1
        room_text = f"{text}{unit + '单元' if unit else ''}{room_no}室"
        parent = unit_address_code(b.code, int(unit)) if unit else b.code
        rows.room.append((code, b.code, floor, unit, room_no))
        rows.address.append(
            address(code, "room", room_text, parent, unit=unit, room=code, floor=floor)
        )
        refs.append(
            RoomRef(code, b, floor, unit, room_no, room_text, _room_parts(parts, unit, room_no))
        )
    return refs


def _room_parts(parts: AddressParts, unit: str | None, room_no: str) -> AddressParts:
    return parts._replace(unit=f"{unit}单元" if unit else "", room=f"{room_no}室")


def truth_row(
    kind: str,
    source_id: str,
    messy: str,
    noise: str,
    level: str,
    address: str,
    room: str | None,
    building: str,
    grid: str,
) -> Row:
    """Return a line of the truth: what a record's messy address truly is."""
    return (
        kind,
        source_id,
        messy,
        noise,
        address,
        level,
        room,
        building,
        grid,
        grid[:12],
        grid[:9],
        grid[:6],
    )


_ID_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
_EPOCH_BIRTH = np.datetime64("1950-01-01")


def id_numbers(district: str, days: np.ndarray, seq: np.ndarray) -> list[str]:
    """Return resident ID numbers, their GB 11643 check characters computed all at once.

    ``days`` are birth dates as days after 1950-01-01; ``seq`` the 3-digit sequence numbers.

    Examples
    --------
    >>> id_numbers("110105", np.array([0]), np.array([2]))
    ['110105195001010020']
    """
    births = (_EPOCH_BIRTH + days.astype("timedelta64[D]")).astype(str)
    stems = [f"{district}{b.replace('-', '')}{q:03d}" for b, q in zip(births, seq, strict=True)]
    digits = np.frombuffer("".join(stems).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    checks = (digits.astype(np.int64) @ _ID_WEIGHTS) % 11
    return [stem + "10X98765432"[c] for stem, c in zip(stems, checks, strict=True)]


def _people_draws(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Every per-person random number at once (far cheaper than draw by draw)."""
    draws = {
        "surname": rng.choice(len(names.SURNAMES), size=n, p=names.SURNAME_P),
        "given1": rng.integers(0, len(names.GIVEN_CHARS), size=n),
        "given2": rng.integers(0, len(names.GIVEN_CHARS), size=n),
        "two": rng.random(n) < 0.7,
        "days": rng.integers(0, 365 * 56, size=n),
        "seq": rng.integers(0, 1000, size=n),
        "p1": rng.integers(3, 10, size=n),
        "p9": rng.integers(0, 10**9, size=n),
        "rental": rng.random(n) < 0.7,
        "away": rng.integers(0, len(names.PROVINCES_AWAY), size=n),
        "village": rng.integers(0, len(names.ROAD_STEMS), size=n),
    }
    return {k: v.tolist() for k, v in draws.items()} | {
        "days_array": draws["days"],
        "seq_array": draws["seq"],
    }


def person_rows(
    ctx: Context, rooms: list[RoomRef], count: int, rng: np.random.Generator, rows: Rows
) -> None:
    """Add ``count`` people living in residential rooms, with messy addresses and truth."""
    homes = [r for r in rooms if r.building.use == "residential"] or rooms
    if not homes or count <= 0:
        return
    picks = rng.integers(0, len(homes), size=count).tolist()
    d = _people_draws(rng, count)
    ids = id_numbers(ctx.district, d["days_array"], d["seq_array"])
    births = (_EPOCH_BIRTH + d["days_array"].astype("timedelta64[D]")).tolist()
    given, surnames = names.GIVEN_CHARS, names.SURNAMES
    for i, idx in enumerate(picks):
        room = homes[idx]
        source_id = f"P{ctx.community}{i + 1:06d}"
        rental = d["rental"][i]
        messy, noise = messy_address(room.parts, rng)
        registered = (
            f"{names.PROVINCES_AWAY[d['away'][i]]}{names.ROAD_STEMS[d['village'][i]]}村"
            if rental
            else room.text
        )
        name = (
            surnames[d["surname"][i]]
            + given[d["given1"][i]]
            + (given[d["given2"][i]] if d["two"][i] else "")
        )
        rows.person.append(
            (
                "citytwin-synth",
                source_id,
                name,
                ids[i],
                f"1{d['p1'][i]}{d['p9'][i]:09d}",
                "M" if d["seq"][i] % 2 else "F",
                births[i],
                "rental" if rental else "household",
                registered,
                messy,
                True,
            )
        )
        rows.truth.append(
            truth_row(
                "person",
                source_id,
                messy,
                noise,
                "room",
                room.code,
                room.code,
                room.building.code,
                room.building.grid,
            )
        )


def _uscc(district: str, community: str, i: int) -> str:
    n = int(community[6:]) * 100_000 + i
    body = ""
    for _ in range(8):
        n, r = divmod(n, 31)
        body = USCC_ALPHABET[r] + body
    org = body + org_code_check_char(body)
    first17 = f"91{district}{org}"
    return first17 + uscc_check_char(first17)


def company_rows(
    ctx: Context, rooms: list[RoomRef], count: int, rng: np.random.Generator, rows: Rows
) -> None:
    """Add ``count`` legal entities, mostly in commercial and industrial buildings."""
    work = [r for r in rooms if r.building.use in ("commercial", "industrial")] or rooms
    if not rooms:
        return
    for i in range(count):
        pool = work if rng.random() < 0.7 else rooms
        room = pool[int(rng.integers(len(pool)))]
        source_id = f"C{ctx.community}{i + 1:05d}"
        name = (
            f"深圳市{names.pick(rng, names.BRANDS)}{names.pick(rng, names.BRANDS)[0]}"
            f"{names.pick(rng, names.INDUSTRIES)}{names.pick(rng, names.COMPANY_FORMS)}"
        )
        messy, noise = messy_address(room.parts, rng)
        rows.company.append(
            (
                "citytwin-synth",
                source_id,
                _uscc(ctx.district, ctx.community, i),
                name,
                "enterprise",
                names.pick(rng, names.INDUSTRIES),
                messy,
                room.text,
                True,
            )
        )
        rows.truth.append(
            truth_row(
                "legal_entity",
                source_id,
                messy,
                noise,
                "room",
                room.code,
                room.code,
                room.building.code,
                room.building.grid,
            )
        )


def event_rows(
    ctx: Context, layout: CommunityLayout, count: int, rng: np.random.Generator, rows: Rows
) -> None:
    """Add ``count`` grid events at buildings, with building-level messy addresses."""
    buildings = layout.buildings
    if not buildings:
        return
    for i in range(count):
        b = buildings[int(rng.integers(len(buildings)))]
        comp = layout.compounds[b.compound]
        road = ctx.roads[comp.road].name
        parts = AddressParts(
            PREFIX,
            ctx.admin.district,
            ctx.admin.street,
            ctx.admin.community,
            road,
            f"{comp.door_no}号",
            comp.name,
            comp.nickname,
            b.name,
            "",
            "",
        )
        messy, noise = messy_address(parts, rng)
        when = dt.datetime.combine(EPOCH, dt.time(), dt.UTC) - dt.timedelta(
            minutes=int(rng.integers(0, 365 * 24 * 60))
        )
        source_id = f"E{ctx.community}{i + 1:05d}"
        kind = names.pick(rng, names.EVENT_TYPES)
        rows.event.append(
            (
                "citytwin-synth",
                source_id,
                kind,
                when,
                f"{kind}：{messy}",
                messy,
                ewkb(b.footprint.representative_point()),
                True,
            )
        )
        rows.truth.append(
            truth_row("event", source_id, messy, noise, "building", b.code, None, b.code, b.grid)
        )
