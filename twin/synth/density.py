"""How much the generator makes: Shenzhen's real densities, scaled.

Whole-city figures (Shenzhen's published statistics, rounded): about 660,000 buildings and
11 million rooms coded with the 25-digit room code, 17-20 million people and 3 million legal
entities. District populations: the 7th national census (2020), with Bao'an at 5.3 million
(its registered and floating population as the district reports it); legal entities: Bao'an
about 850,000, the rest shared by population.
"""

from __future__ import annotations

from dataclasses import dataclass

#: People per district (millions).
POPULATION_M: dict[str, float] = {
    "440303": 1.14,
    "440304": 1.55,
    "440305": 1.80,
    "440306": 5.30,
    "440307": 3.98,
    "440308": 0.21,
    "440309": 2.53,
    "440310": 0.55,
    "440311": 1.10,
}
CITY_POPULATION_M = sum(POPULATION_M.values())
CITY_BUILDINGS = 660_000
CITY_ROOMS = 11_000_000
CITY_COMPANIES = 3_000_000
BAOAN_COMPANIES = 850_000
#: Grid events (网格事件) per resident per year, as district dashboards report them.
EVENTS_PER_PERSON = 0.05

#: Density factor and extent of each scale.
SCALES: dict[str, float] = {"small": 0.02, "medium": 0.1, "city": 1.0}


@dataclass(frozen=True)
class Targets:
    """What to generate for one district at one scale."""

    people: int
    companies: int
    buildings: int
    rooms: int
    events: int

    def share(self, fraction: float) -> Targets:
        """Return the targets of a part of the district (a street, a community)."""
        return Targets(
            *(
                max(0, round(v * fraction))
                for v in (self.people, self.companies, self.buildings, self.rooms, self.events)
            )
        )


def district_targets(district: str, scale: str) -> Targets:
    """Return the targets of one district at one scale.

    Examples
    --------
    >>> district_targets("440306", "medium").people
    530000
    """
    factor = SCALES[scale]
    pop = POPULATION_M.get(district, 1.0) * 1e6
    share = pop / (CITY_POPULATION_M * 1e6)
    if district == "440306":
        companies = BAOAN_COMPANIES
    else:
        rest = (CITY_COMPANIES - BAOAN_COMPANIES) / ((CITY_POPULATION_M - 5.30) * 1e6)
        companies = round(pop * rest)
    return Targets(
        people=round(pop * factor),
        companies=round(companies * factor),
        buildings=round(CITY_BUILDINGS * share * factor),
        rooms=round(CITY_ROOMS * share * factor),
        events=round(pop * EVENTS_PER_PERSON * factor),
    )
