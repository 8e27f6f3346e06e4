"""Who a tile is for: which counts it may show exactly, and which it must withhold.

Tiles never hold individuals, only counts of people, companies and events per block; a small
count can still point at someone, so counts below the privacy threshold are withheld for roles
that may not see individual records (planners, other systems). Administrators and supervisors
see exact counts; a grid worker sees exact counts within the community or grid of their key's
scope and withheld ones elsewhere, like a planner.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Roles that may see individual records everywhere, hence exact counts.
EXACT_ROLES = frozenset({"admin", "supervisor"})
#: Roles that see exact counts within their key's scope only.
SCOPED_ROLES = frozenset({"grid_worker"})


@dataclass(frozen=True, slots=True)
class Audience:
    """The privacy view of a tile: threshold ``k`` (0: exact) and an exact-count ``scope``.

    ``scope`` is a block-code prefix (a community or grid code) whose counts are exact whatever
    the threshold; empty for none.
    """

    threshold: int
    scope: str = ""


#: Exact counts everywhere (exports for administrators, tests).
EXACT = Audience(0)


def audience_for(role: str, scope_code: str | None, threshold: int) -> Audience:
    """Return the view a role (and key scope) gets under a privacy threshold.

    Examples
    --------
    >>> audience_for("planner", None, 5)
    Audience(threshold=5, scope='')
    >>> audience_for("supervisor", None, 5)
    Audience(threshold=0, scope='')
    >>> audience_for("grid_worker", "440306017001", 5)
    Audience(threshold=5, scope='440306017001')
    """
    if threshold == 0 or role in EXACT_ROLES:
        return EXACT
    if role in SCOPED_ROLES and scope_code:
        return Audience(threshold, scope_code)
    return Audience(threshold)
