"""Legal entities (法人, 商事主体) of one grid: enterprises and individual businesses.

Enterprises (深圳市鑫盛电子科技有限公司) sit mostly in commercial and industrial buildings
and register with the city (``91440300…``); individual businesses (个体工商户,
深圳市宝安区上川佳和便利店) sit mostly on ground floors and register with the district
(``92440306…``). Unified social
credit codes (GB 32100) have a valid organisation-code check (GB 11714) and check character,
and are unique: the organisation code encodes the community's ordinal and the entity's index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.codes import USCC_ALPHABET, org_code_check_char, uscc_check_char
from twin.synth import SOURCE
from twin.synth.vocab import (
    BRAND_CHARS,
    COMPANY_FORMS,
    INDUSTRIES,
    QIANHAI_SECRETARY,
    SHOPS,
    weights,
)

if TYPE_CHECKING:
    from twin.synth.writer import Row

#: Share of enterprises among legal entities (the rest are individual businesses).
ENTERPRISE_SHARE = 0.6
#: Share of enterprises registered at a business secretary's address, not where they work.
SECRETARY_SHARE = 0.1
#: Organisation codes per community and leading character (31⁵ / 797 communities).
_BLOCK = 35_800
_LEAD = "56789ABCD"


def _base31(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 31)
        out = USCC_ALPHABET[r] + out
    return out


def credit_code(enterprise: bool, region: str, ordinal: int, index: int, modern: bool) -> str:
    """Return a unique, valid unified social credit code.

    Parameters
    ----------
    enterprise
        ``91`` (an enterprise) or ``92`` (an individual business).
    region
        The registering authority's 6-digit code.
    ordinal, index
        The community's ordinal in the city and the entity's index in the community.
    modern
        An organisation code of the ``MA…`` form given since 2015, or an older numeric one.

    Examples
    --------
    >>> from twin.codes import is_valid_uscc
    >>> code = credit_code(True, "440300", 17, 42, True)
    >>> code[:10], is_valid_uscc(code)
    ('91440300MA', True)
    """
    if modern or index >= 100_000:  # numeric codes hold 100,000 entities per community
        body = f"MA{_LEAD[index // _BLOCK]}{_base31(ordinal * _BLOCK + index % _BLOCK, 5)}"
    else:
        body = f"{ordinal * 100_000 + index:08d}"
    first17 = f"{'91' if enterprise else '92'}{region}{body}{org_code_check_char(body)}"
    return first17 + uscc_check_char(first17)


def choose_premises(
    rng: np.random.Generator, uses: np.ndarray, floors: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (is enterprise, room index) of ``n`` entities placed among a grid's rooms.

    Enterprises take commercial or industrial rooms (four in five), individual businesses
    ground-floor rooms (four in five); the rest take any room.
    """
    enterprise = rng.random(n) < ENTERPRISE_SHARE
    work = np.flatnonzero((uses == "commercial") | (uses == "industrial"))
    ground = np.flatnonzero(floors == 1)
    anywhere = rng.integers(len(uses), size=n)
    preferred = rng.random(n) < 0.8
    pick = rng.random(n)
    rooms = anywhere.copy()
    for pool, mask in ((work, enterprise), (ground, ~enterprise)):
        if len(pool):
            use = mask & preferred
            rooms[use] = pool[(pick[use] * len(pool)).astype(int)]
    return enterprise, rooms


def company_rows(
    rng: np.random.Generator,
    enterprise: np.ndarray,
    premises: list[str],
    messy: list[str],
    where: tuple[str, str, str, int, int],
) -> list[Row]:
    """Return ``twin.legal_entity`` rows: names, credit codes, registered and business addresses.

    ``where`` is (district code, district name + place name, community code, community
    ordinal, index of the first entity in the community); the business address is the messy
    one, the registered address the standard text of the premises.
    """
    district, locality, community, ordinal, start = where
    n = len(premises)
    brand = rng.integers(len(BRAND_CHARS), size=(n, 2))
    trade = rng.choice(len(INDUSTRIES), size=n, p=weights(INDUSTRIES))
    shop = rng.choice(len(SHOPS), size=n, p=weights(SHOPS))
    form = rng.choice(len(COMPANY_FORMS), size=n, p=weights(COMPANY_FORMS))
    secretary = rng.random(n) < SECRETARY_SHARE
    modern = rng.random(n) < 0.75
    rows: list[Row] = []
    for i in range(n):
        a, b = BRAND_CHARS[brand[i, 0]], BRAND_CHARS[brand[i, 1]]
        name_brand = a + (b if b != a else BRAND_CHARS[(brand[i, 1] + 1) % len(BRAND_CHARS)])
        index = start + i
        if enterprise[i]:
            part, industry, _ = INDUSTRIES[trade[i]]
            name = f"深圳市{name_brand}{part}{COMPANY_FORMS[form[i]][0]}"
            registered = QIANHAI_SECRETARY if secretary[i] else premises[i]
        else:
            part, industry, _ = SHOPS[shop[i]]
            name = f"深圳市{locality}{name_brand}{part}"
            registered = premises[i]
        rows.append((
            int(community) * 1_000_000 + index, SOURCE, f"C{community}{index:06d}",
            credit_code(bool(enterprise[i]), "440300" if enterprise[i] else district, ordinal,
                        index, bool(modern[i])),
            name, "enterprise" if enterprise[i] else "individual", industry, registered,
            messy[i], True,
        ))  # fmt: skip
    return rows
