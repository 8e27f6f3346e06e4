"""People (实有人口) of one grid: names, ID numbers, phones, household or rental, addresses.

Names follow surname frequencies (national, with the south's 陈, 黄, 梁, 林 more common) and
gendered given names. ID numbers (GB 11643) carry the place of birth (the home district, or
Shenzhen's own code 440301, for most locally registered young residents; the counties most
migrants come from for the others), a birth date from Shenzhen's young age structure, and a
valid check digit. They are unique across the city: a community only uses birth days and
sequence numbers with ``(day × 1000 + sequence) mod m == o``, where for its own district's
code ``o`` is its ordinal in the district and ``m`` is :data:`DISTRICT_MODULUS`, and for any
other code ``o`` is its ordinal in the city and ``m`` is :data:`CITY_MODULUS` (primes above
the number of communities); a set rejects repeats within the community.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.synth import SOURCE
from twin.synth.vocab import (
    FEMALE_CHARS,
    HOME_COUNTIES,
    MALE_CHARS,
    SURNAMES,
    TOWNS,
    VILLAGES,
    weights,
)

if TYPE_CHECKING:
    from twin.synth.writer import Row

#: Ages are counted back from this day; events happen in the year before it.
EPOCH = dt.date(2026, 1, 1)
_DAY0 = dt.date(1900, 1, 1)
#: See the module docstring: primes above the number of communities of the city (788) and of
#: the largest district (144, Longgang with Dapeng).
CITY_MODULUS = 797
DISTRICT_MODULUS = 149
#: Shenzhen's age structure (2020 census, rounded): (youngest, oldest, share).
AGE_BANDS = ((0, 14, 0.15), (15, 24, 0.13), (25, 34, 0.27), (35, 44, 0.22), (45, 54, 0.13),
             (55, 64, 0.06), (65, 85, 0.04))  # fmt: skip
RENTAL_SHARE = 0.7
#: Shenzhen's own code (市辖区), on the ID numbers of people born in the city before districts.
SHENZHEN_CITY = "440301"
_PHONE_SECOND = np.array([3, 5, 8, 7, 9, 6])
_PHONE_P = np.array([0.3, 0.25, 0.25, 0.08, 0.1, 0.02])
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_COUNTY_NAMES = {code: name for code, name, _ in HOME_COUNTIES}


@dataclass
class IdNumbers:
    """Hands out resident ID numbers unique across the city (see the module docstring).

    ``ordinal`` is the community's ordinal in the city, ``local`` in its district.
    """

    district: str
    ordinal: int
    local: int
    used: set[tuple[str, int, int]] = field(default_factory=set)

    def _free(self, region: str, day: int, male: bool) -> int | None:
        own = region == self.district
        modulus = DISTRICT_MODULUS if own else CITY_MODULUS
        seq = ((self.local if own else self.ordinal) - day * 1000) % modulus
        while seq < 1000:
            if (seq % 2 == 1) == male and (region, day, seq) not in self.used:
                return seq
            seq += modulus
        return None

    def take(self, regions: list[str], days: np.ndarray, male: np.ndarray) -> list[str]:
        """Return ID numbers for birth places and days (days since 1900-01-01).

        A day with no free number for the person's sex and birth place moves to the nearest
        day that has one (within a year); a crowded birth place gives way to the next home
        county. ``regions`` is updated in place.
        """
        got_days = np.empty(len(regions), dtype=np.int64)
        seqs = np.empty(len(regions), dtype=np.int64)
        for i, region in enumerate(regions):
            day, is_male = int(days[i]), bool(male[i])
            for place in (region, *(code for code, _, _ in HOME_COUNTIES)):
                found = self._near(place, day, is_male)
                if found is not None:
                    break
            else:  # pragma: no cover - every place full for a year around the day
                raise RuntimeError(f"no free ID number near day {day}")
            regions[i] = place
            got_days[i], seqs[i] = found
            self.used.add((place, *found))
        return id_numbers(regions, got_days, seqs)

    def _near(self, region: str, day: int, male: bool) -> tuple[int, int] | None:
        for step in range(730):
            d = day + (step + 1) // 2 * (1 if step % 2 else -1)
            seq = self._free(region, d, male)
            if seq is not None:
                return d, seq
        return None


def id_numbers(regions: list[str], days: np.ndarray, seqs: np.ndarray) -> list[str]:
    """Compose 18-character ID numbers: birth place, birth day, sequence, GB 11643 check.

    Examples
    --------
    >>> id_numbers(["110105"], np.array([18_261]), np.array([2]))
    ['11010519491231002X']
    """
    first17 = (
        np.array([int(r) for r in regions], dtype=np.int64) * 10**11 + _yyyymmdd(days) * 1000 + seqs
    )
    total = np.zeros(len(regions), dtype=np.int64)
    rest = first17.copy()
    for weight in reversed(_ID_WEIGHTS):
        rest, digit = np.divmod(rest, 10)
        total += digit * weight
    return [
        f"{f:017d}{_ID_CHECK[t]}"
        for f, t in zip(first17.tolist(), (total % 11).tolist(), strict=True)
    ]


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    d = np.datetime64("1900-01-01") + days.astype("timedelta64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    out: np.ndarray = year * 10_000 + month * 100 + day
    return out


def birth_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` birth days (days since 1900-01-01) from Shenzhen's age structure."""
    bands = np.array([b[:2] for b in AGE_BANDS], dtype=float)
    which = rng.choice(len(AGE_BANDS), size=n, p=np.array([b[2] for b in AGE_BANDS]))
    age_days = rng.uniform(bands[which, 0] * 365.25, (bands[which, 1] + 1) * 365.25 - 1)
    days: np.ndarray = (EPOCH - _DAY0).days - age_days.astype(np.int64)
    return days


def person_names(rng: np.random.Generator, male: np.ndarray) -> list[str]:
    """Return names: a surname by frequency and one or two gendered given characters.

    Examples
    --------
    >>> names = person_names(np.random.default_rng(0), np.array([True, False]))
    >>> all(2 <= len(n) <= 4 for n in names)
    True
    """
    n = len(male)
    surnames = rng.choice(len(SURNAMES), size=n, p=weights(SURNAMES))
    two = rng.random(n) < 0.75
    a, b = rng.random(n), rng.random(n)
    out = []
    for i in range(n):
        chars = MALE_CHARS if male[i] else FEMALE_CHARS
        given = chars[int(a[i] * len(chars))] + (chars[int(b[i] * len(chars))] if two[i] else "")
        out.append(SURNAMES[surnames[i]][0] + given)
    return out


def birth_places(
    rng: np.random.Generator, rental: np.ndarray, days: np.ndarray, district: str
) -> list[str]:
    """Return 6-digit birth-place codes: Shenzhen for most locally registered young residents.

    The locally born carry the home district's code, or (three in ten) the city's own code
    440301 that older Shenzhen ID numbers carry.
    """
    n = len(rental)
    young = days > (dt.date(1985, 1, 1) - _DAY0).days
    local = ~rental & (rng.random(n) < np.where(young, 0.7, 0.3))
    home = rng.random(n) < 0.7
    counties = rng.choice(len(HOME_COUNTIES), size=n, p=weights(HOME_COUNTIES))
    return [
        (district if home[i] else SHENZHEN_CITY) if local[i] else HOME_COUNTIES[counties[i]][0]
        for i in range(n)
    ]


def hometown_addresses(rng: np.random.Generator, regions: list[str]) -> list[str]:
    """Return registered addresses in migrants' home counties (…衡南县三塘镇新塘村3组)."""
    n = len(regions)
    towns = rng.integers(len(TOWNS), size=n).tolist()
    villages = rng.integers(len(VILLAGES), size=n).tolist()
    groups = np.where(rng.random(n) < 0.4, rng.integers(1, 13, size=n), 0).tolist()
    return [
        f"{_COUNTY_NAMES.get(r, '广东省深圳市')}{TOWNS[t]}镇{VILLAGES[v]}村{f'{g}组' if g else ''}"
        for r, t, v, g in zip(regions, towns, villages, groups, strict=True)
    ]


def phones(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` mobile numbers (1 + 3/5/8/7/9/6 + 9 digits)."""
    second = rng.choice(_PHONE_SECOND, size=n, p=_PHONE_P)
    rest = rng.integers(0, 10**9, size=n)
    return [f"1{second[i]}{rest[i]:09d}" for i in range(n)]


def person_rows(
    rng: np.random.Generator,
    ids: IdNumbers,
    homes: list[str],
    messy: list[str],
    where: tuple[str, str, int],
) -> list[Row]:
    """Return ``twin.person`` rows, one per home (its standard text) and messy address.

    ``where`` is (district, community, index of the first person in the community): ids are
    community code × 10⁶ + index, source ids ``P`` + community code + index.
    """
    district, community, start = where
    n = len(homes)
    rental = rng.random(n) < RENTAL_SHARE
    male = rng.random(n) < 0.52
    days = birth_days(rng, n)
    regions = birth_places(rng, rental, days, district)
    names = person_names(rng, male)
    numbers = phones(rng, n)
    ids_ = ids.take(regions, days, male)  # may move a birth place: before the hometowns
    away = hometown_addresses(rng, regions)
    base = int(community) * 1_000_000 + start
    rows: list[Row] = []
    for i, number in enumerate(ids_):
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        rows.append((
            base + i, SOURCE, f"P{community}{start + i:06d}", names[i], number,
            numbers[i] if (EPOCH - birth).days > 16 * 365 else None, "M" if male[i] else "F",
            birth, "rental" if rental[i] else "household", away[i] if rental[i] else homes[i],
            messy[i], True,
        ))  # fmt: skip
    return rows
