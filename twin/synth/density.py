"""How much the generator makes: Shenzhen's real densities, scaled.

Sources (rounded):

- Whole city: about 660,000 buildings and 11 million rooms (房屋) coded with the 25-digit room
  code (Shenzhen's 2017-2019 building and room census for the 社会管理要素统一地址 codes),
  17-20 million people (实有人口, registered and floating) and about 3 million legal entities
  (商事主体 counted as enterprises; Shenzhen Administration for Market Regulation).
- People per district: the 7th national census (2020, Shenzhen Statistics Bureau, resident
  population), except Bao'an at 5.3 million as the district reports its 实有人口; Longgang's
  figure includes Dapeng New Area (156,000), whose streets carry Longgang's code 440307.
- Legal entities: Bao'an about 850,000 (the district's own figure); the rest of the city's
  3 million shared by population.
- Grid events: about 0.05 per resident per year (district grid-management dashboards).
"""

from __future__ import annotations

from dataclasses import dataclass

#: People per district (millions): 2020 census, Bao'an as reported by the district.
POPULATION_M: dict[str, float] = {
    "440303": 1.14,  # 罗湖区 1,143,801
    "440304": 1.55,  # 福田区 1,553,225
    "440305": 1.80,  # 南山区 1,795,826
    "440306": 5.30,  # 宝安区 (district 实有人口; census 4,476,554)
    "440307": 4.14,  # 龙岗区 3,979,037 + 大鹏新区 156,236
    "440308": 0.21,  # 盐田区 214,225
    "440309": 2.53,  # 龙华区 2,528,872
    "440310": 0.55,  # 坪山区 551,333
    "440311": 1.10,  # 光明区 1,095,289
}
CITY_POPULATION_M = sum(POPULATION_M.values())
CITY_BUILDINGS = 660_000
CITY_ROOMS = 11_000_000
CITY_COMPANIES = 3_000_000
BAOAN = "440306"
BAOAN_COMPANIES = 850_000
#: Grid events (网格事件) per resident per year.
EVENTS_PER_PERSON = 0.05
#: A base grid (基础网格) holds about this many housing units (or twice as many residents).
GRID_HOUSING_UNITS = 500

#: Density factor of each scale; ``small`` is one street, the others whole districts.
SCALES: dict[str, float] = {"small": 0.02, "medium": 0.1, "city": 1.0}


@dataclass(frozen=True)
class Targets:
    """What to generate for one area at one scale."""

    people: int
    companies: int
    buildings: int
    rooms: int
    events: int

    def share(self, fraction: float) -> Targets:
        """Return the targets of a part of the area (a street, a community).

        Examples
        --------
        >>> Targets(100, 10, 5, 50, 5).share(0.5)
        Targets(people=50, companies=5, buildings=2, rooms=25, events=2)
        """
        return Targets(
            *(
                max(0, round(v * fraction))
                for v in (self.people, self.companies, self.buildings, self.rooms, self.events)
            )
        )


def district_targets(district: str, scale: str) -> Targets:
    """Return the targets of one district at one scale.

    A district missing from :data:`POPULATION_M` counts one million people.

    Examples
    --------
    >>> t = district_targets("440306", "medium")
    >>> t.people, t.companies
    (530000, 85000)
    """
    factor = SCALES[scale]
    pop = POPULATION_M.get(district, 1.0) * 1e6
    share = pop / (CITY_POPULATION_M * 1e6)
    if district == BAOAN:
        companies = float(BAOAN_COMPANIES)
    else:
        rest = (CITY_COMPANIES - BAOAN_COMPANIES) / (
            (CITY_POPULATION_M - POPULATION_M[BAOAN]) * 1e6
        )
        companies = pop * rest
    return Targets(
        people=round(pop * factor),
        companies=round(companies * factor),
        buildings=round(CITY_BUILDINGS * share * factor),
        rooms=round(CITY_ROOMS * share * factor),
        events=round(pop * EVENTS_PER_PERSON * factor),
    )


def grid_count(full_density_rooms: int) -> int:
    """Return how many base grids a community needs: one per 500 housing units, 1 to 99.

    Grids are delineated for the full-density community, so a community has the same grids
    at every scale.

    Examples
    --------
    >>> grid_count(0), grid_count(12_400), grid_count(10**6)
    (1, 25, 99)
    """
    return min(99, max(1, -(-full_density_rooms // GRID_HOUSING_UNITS)))


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainders), summing to ``total``.

    Nothing is given when every weight is zero.

    Examples
    --------
    >>> allocate(10, [1.0, 1.0, 1.0]), allocate(5, [0.0, 0.0])
    ([4, 3, 3], [0, 0])
    """
    mass = sum(weights)
    if mass <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [total * w / mass for w in weights]
    out = [int(e) for e in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in by_remainder[: total - sum(out)]:
        out[i] += 1
    return out
