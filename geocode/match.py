"""Match one messy address to the library: scan, read numbers, resolve, score, explain.

:func:`match` is pure: an :class:`~geocode.index.AddressIndex` and a text in, a
:class:`MatchResult` out, never an exception for bad input (an empty, overlong or foreign
text is a ``reject`` with a reason). The steps:

1. **normalise** the text (``geocode.normalize``), and look its whole text up among the
   library's standard texts and aliases (an exact hit is certain);
2. **scan** it for every name the library knows (administrative units, roads, compounds and
   their alias names) with the Aho–Corasick automaton, longest match first, in any order;
3. **read numbers** from what is left: the door number right after a road (``45号``), the
   building (``3栋``), unit, floor and room (``1203室``, or ``3-1203``);
4. **fuzzy names** for a run of Chinese characters that no name explains (a typo): the names
   of the same kind within the administrative unit the text names, within an edit distance;
5. **resolve** every anchor (a compound by name, or the compounds behind a road and door)
   down the keys: compound or door → building → unit / floor / room; a level that is not
   found stops the descent there, so a coarser level is returned rather than nothing;
6. **score** each resolution by element agreement, and turn the best into a confidence
   0–1 and a band (``accept`` / ``review`` / ``reject``) with its explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import Levenshtein

from geocode.normalize import normalize

if TYPE_CHECKING:
    from geocode.index import AddressIndex, NameHit
    from geocode.normalize import Normalized

#: Confidence at or above which a result is accepted, and at or above which it is reviewed.
ACCEPT, REVIEW = 0.9, 0.5
#: Longer normalised texts are not addresses.
MAX_CHARS = 200
#: How an element was matched, and what it contributes to a candidate's score.
WEIGHTS = {"compound": 4.0, "road": 2.0, "door": 2.0, "building": 3.0, "unit": 1.0,
           "floor": 1.0, "room": 3.0, "district": 0.5, "street": 0.5, "community": 1.0}  # fmt: skip
HOW_FACTOR = {"exact": 1.0, "alias": 0.98, "fuzzy": 0.9, "derived": 0.97, "part": 0.7}
_ADMIN = frozenset({"province", "city", "district", "street", "community"})
_DOOR = re.compile(r"([0-9]+)号")
_BUILDING = re.compile(r"([0-9]+|[A-Z])栋楼?")
_UNIT = re.compile(r"([0-9]+)单元")
_FLOOR = re.compile(r"([0-9]+)层")
_ROOM = re.compile(r"([0-9]+)室")
#: ``3-2-1203`` (building, unit, room) or ``3-1203`` (building, room), at the end.
_DASHED = re.compile(r"([0-9]+|[A-Z])-(?:([0-9]{1,2})-)?([0-9]{3,5})$")
_TRAILING_ROOM = re.compile(r"(?<![0-9])([0-9]{3,5})$")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_HAN = re.compile(r"[\u3400-\u9fff]")
#: Characters that are markers or filler, not unexplained content.
_FILLER = set("号栋楼座幢单元层室房户之第附")


@dataclass(slots=True)
class Step:
    """How one element of the input was matched."""

    element: str
    input: str | None
    matched: str | None
    how: str  # exact, alias, fuzzy, derived, missing, conflict, not_found

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"element": self.element, "input": self.input, "matched": self.matched,
                "how": self.how}  # fmt: skip


@dataclass(slots=True)
class Candidate:
    """One resolution of the input: a code, its level, a score and how it was reached."""

    code: str
    level: str
    score: float
    steps: list[Step] = field(default_factory=list)
    wanted_level: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (no explanation: that is the chosen result's)."""
        return {"code": self.code, "level": self.level, "score": round(self.score, 3)}


@dataclass(slots=True)
class MatchResult:
    """The geocoder's answer for one text."""

    input: str
    normalized: str
    code: str | None = None
    level: str | None = None
    confidence: float = 0.0
    band: str = "reject"
    reason: str | None = None
    elements: dict[str, str] = field(default_factory=dict)
    explain: list[Step] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, confidence rounded to 3 decimals."""
        return {
            "code": self.code,
            "level": self.level,
            "confidence": round(self.confidence, 3),
            "band": self.band,
            "reason": self.reason,
            "normalized": self.normalized,
            "elements": self.elements,
            "explain": [s.as_dict() for s in self.explain],
            "candidates": [c.as_dict() for c in self.candidates[:5]],
            "warnings": self.warnings,
        }


def band_of(confidence: float) -> str:
    """``accept``, ``review`` or ``reject`` by the thresholds :data:`ACCEPT`, :data:`REVIEW`."""
    return "accept" if confidence >= ACCEPT else "review" if confidence >= REVIEW else "reject"


@dataclass(slots=True)
class _Scan:
    """What the scan and the number reading found in a normalised text."""

    text: str
    admin: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # level → (name, code)
    roads: list[tuple[str, NameHit, str | None]] = field(default_factory=list)  # + door number
    #: (input text, hit, how): compounds named exactly, by alias, by part or fuzzily.
    compounds: list[tuple[str, NameHit, str]] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)  # building, unit, floor, room
    fuzzy_roads: list[tuple[str, NameHit]] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    loose_door: str | None = None
    fuzzy_names: dict[str, str] = field(default_factory=dict)  # code → the name it matched


def _scan(index: AddressIndex, text: str) -> _Scan:
    scan = _Scan(text)
    covered = bytearray(len(text))
    parts: list[tuple[int, str, list[NameHit]]] = []
    hits_found = list(index.automaton().iter_long(text))
    districts = {h.code for _, (_, hs) in hits_found for h in hs if h.kind == "district"}
    for end, (name, hits) in hits_found:
        start = end - len(name) + 1
        kinds = {h.kind for h in hits}
        admin = [h for h in hits if h.kind in _ADMIN and _inside_named(index, h, districts)]
        if admin and (len(name) >= 3 or kinds <= _ADMIN):
            for hit in admin:
                scan.admin.setdefault(hit.kind, []).append((name, hit.code))
            covered[start : end + 1] = b"\x01" * len(name)
        roads = [h for h in hits if h.kind == "road"]
        if roads:
            door = _DOOR.match(text, end + 1)
            for hit in roads:
                scan.roads.append((name, hit, door.group(1) if door else None))
            covered[start : end + 1] = b"\x01" * len(name)
            if door:
                covered[door.start() : door.end()] = b"\x01" * len(door.group(0))
        compounds = [h for h in hits if h.kind == "compound"]
        if compounds and not admin and not roads:
            parts.append((start, name, compounds))
    rest = "".join(" " if covered[i] else ch for i, ch in enumerate(text))
    _read_numbers(scan, rest)
    for run in _HAN_RUN.finditer(rest):
        _compound_run(index, scan, run.group(0), run.start(), parts)
    return scan


def _inside_named(index: AddressIndex, hit: NameHit, districts: set[str]) -> bool:
    """Whether an admin hit lies in a district the text names (or no district is named)."""
    if not districts or hit.kind in ("province", "city", "district"):
        return True
    return index.place(hit.code).district in districts


def _compound_run(
    index: AddressIndex, scan: _Scan, run: str, at: int, parts: list[tuple[int, str, list[NameHit]]]
) -> None:
    """Find the compound a run of Chinese characters names: whole, by its parts, or fuzzily."""
    core = run.rstrip("".join(_FILLER))
    if len(core) < 2:
        return
    whole = [h for h in index.names.get(core, []) if h.kind == "compound"]
    if whole:
        scan.compounds += [(core, h, "alias" if h.alias else "exact") for h in whole]
        return
    inside = [(n, hs) for s, n, hs in parts if at <= s < at + len(run)]
    for name, hits in inside:
        scan.compounds += [(name, h, "part") for h in hits]
    scan.unexplained.append(core)


def _read_numbers(scan: _Scan, rest: str) -> None:
    for key, pattern in (("building", _BUILDING), ("unit", _UNIT), ("floor", _FLOOR),
                         ("room", _ROOM)):  # fmt: skip
        found = pattern.search(rest)
        if found:
            scan.numbers[key] = found.group(1).lstrip("0") or "0"
    tail = rest.rstrip()
    dashed = _DASHED.search(tail)
    if dashed and "room" not in scan.numbers:
        scan.numbers.setdefault("building", dashed.group(1))
        if dashed.group(2):
            scan.numbers.setdefault("unit", dashed.group(2).lstrip("0"))
        scan.numbers["room"] = dashed.group(3).lstrip("0")
    elif "room" not in scan.numbers and "building" in scan.numbers:
        trailing = _TRAILING_ROOM.search(tail)
        if trailing:
            scan.numbers["room"] = trailing.group(1).lstrip("0")
    if not scan.roads:
        door = _DOOR.search(rest)
        if door:
            scan.loose_door = door.group(1)


def _fuzzy(index: AddressIndex, scan: _Scan) -> None:
    """Match unexplained runs to compound (or road) names of the area the text names."""
    area = _narrowest(scan)
    for run in list(scan.unexplained):
        kinds = ("compound",) if scan.roads or scan.loose_door is None else ("compound", "road")
        for kind in kinds:
            best = _closest(index.names_in(kind, area), run)
            if best:
                scan.unexplained.remove(run)
                scan.fuzzy_names.update((h.code, name) for name, h in best)
                if kind == "road":
                    scan.fuzzy_roads += [(run, h) for _, h in best]
                else:
                    scan.compounds += [(run, h, "fuzzy") for _, h in best]
                break


def _closest(names: list[tuple[str, NameHit]], run: str) -> list[tuple[str, NameHit]]:
    """Return the names nearest to ``run`` within 1 edit (2 for names over 5 characters)."""
    best: list[tuple[str, NameHit]] = []
    best_d = 3
    for name, hit in names:
        limit = 1 if len(name) <= 5 else 2
        if abs(len(name) - len(run)) > limit:
            continue
        d = Levenshtein.distance(run, name, score_cutoff=limit)
        if d <= limit and d <= best_d:
            if d < best_d:
                best, best_d = [], d
            best.append((name, hit))
    return best


def _narrowest(scan: _Scan) -> str | None:
    for level in ("community", "street", "district"):
        codes = {c for _, c in scan.admin.get(level, [])}
        if len(codes) == 1:
            return codes.pop()
    return None


def _admin_steps(index: AddressIndex, scan: _Scan, code: str) -> tuple[list[Step], int]:
    """Return steps for the admin units named in the text, and how many conflict with ``code``."""
    place = index.place(code)
    steps, conflicts = [], 0
    for level in ("district", "street", "community"):
        named = scan.admin.get(level, [])
        actual = getattr(place, level)
        if not named:
            continue
        match = [n for n, c in named if c == actual]
        if match:
            steps.append(Step(level, match[0], match[0], "exact"))
        elif actual is not None:
            steps.append(Step(level, named[0][0], None, "conflict"))
            conflicts += 1
    return steps, conflicts


def _anchors(index: AddressIndex, scan: _Scan) -> list[tuple[str, list[Step]]]:
    """Compound and door codes to descend from, each with the steps that found it."""
    anchors: list[tuple[str, list[Step]]] = []
    doors: list[tuple[str, list[Step]]] = []
    roads = [(n, h, d, "alias" if h.alias else "exact") for n, h, d in scan.roads]
    roads += [(run, h, scan.loose_door, "fuzzy") for run, h in scan.fuzzy_roads]
    for name, hit, door_no, how in roads:
        road_step = Step("road", name, scan.fuzzy_names.get(hit.code, name), how)
        door = index.doors.get((hit.code, door_no)) if door_no else None
        if door is not None:
            doors.append((door, [road_step, Step("door", f"{door_no}号", f"{door_no}号", "exact")]))
        elif door_no:
            doors.append((hit.code, [road_step, Step("door", f"{door_no}号", None, "not_found")]))
        else:
            doors.append((hit.code, [road_step]))
    named_codes = set()
    for name, hit, how in scan.compounds:
        named_codes.add(hit.code)
        steps = [Step("compound", name, scan.fuzzy_names.get(hit.code, name), how)]
        door = index.door_of_compound.get(hit.code)
        for door_code, door_steps in doors:
            if door_code == door:
                steps += door_steps
                break
        else:
            if any(index.level(d) == "door" for d, _ in doors):
                steps.append(Step("door", doors[0][1][-1].input, None, "conflict"))
        anchors.append((hit.code, steps))
    for door_code, door_steps in doors:
        behind = [c for c in index.compounds_at_door.get(door_code, []) if c not in named_codes]
        if index.level(door_code) == "door" and behind:
            named = [Step("compound", n, None, "conflict") for n, _, _ in scan.compounds[:1]]
            anchors += [(c, [*door_steps, Step("compound", None, None, "derived"), *named])
                        for c in behind]  # fmt: skip
        if not behind:
            anchors.append((door_code, door_steps))
    return anchors


def _descend(index: AddressIndex, scan: _Scan, anchor: str, steps: list[Step]) -> Candidate:
    """Follow the numbers down from an anchor as far as the keys lead."""
    code, level = anchor, index.level(anchor) or ""
    wanted = level
    nums = scan.numbers
    bno = nums.get("building")
    if bno is not None:
        wanted = "building"
        building = index.buildings.get((anchor, bno))
        if building is None and level == "compound":
            door = index.door_of_compound.get(anchor)
            building = index.buildings.get((door, bno)) if door else None
        if building is None:
            steps.append(Step("building", f"{bno}栋", None, "not_found"))
        else:
            steps.append(Step("building", f"{bno}栋", f"{bno}栋", "exact"))
            code, level = building, "building"
            code, level = _inside(index, scan, building, steps, code, level)
            wanted = _finest_wanted(nums)
    return Candidate(code, level, 0.0, steps, wanted)


def _finest_wanted(nums: dict[str, str]) -> str:
    for level in ("room", "floor", "unit", "building"):
        if level in nums:
            return level
    return "building"


def _inside(
    index: AddressIndex, scan: _Scan, building: str, steps: list[Step], code: str, level: str
) -> tuple[str, str]:
    nums = scan.numbers
    unit = nums.get("unit")
    if unit is not None:
        found = index.units.get((building, unit))
        steps.append(Step("unit", f"{unit}单元", f"{unit}单元" if found else None,
                          "exact" if found else "not_found"))  # fmt: skip
        if found:
            code, level = found, "unit"
    room = nums.get("room")
    if room is not None:
        rooms = index.rooms_of(building, room)
        if unit is not None and len(rooms) > 1:
            rooms = [r for r in rooms if r[0] == unit] or rooms
        if len(rooms) == 1:
            steps.append(Step("room", f"{room}室", f"{room}室", "exact"))
            return rooms[0][1], "room"
        steps.append(Step("room", f"{room}室", None, "ambiguous" if rooms else "not_found"))
    floor = nums.get("floor")
    if floor is not None and floor.isdigit():
        found = index.floor_of(building, int(floor))
        steps.append(Step("floor", f"{floor}层", f"{floor}层" if found else None,
                          "exact" if found else "not_found"))  # fmt: skip
        if found and level == "building":
            return found, "floor"
    return code, level


def _score(index: AddressIndex, scan: _Scan, cand: Candidate) -> float:
    admin, conflicts = _admin_steps(index, scan, cand.code)
    cand.steps = admin + cand.steps
    score = 0.0
    for s in cand.steps:
        weight = WEIGHTS.get(s.element, 0.5)
        if s.how in HOW_FACTOR:
            score += weight * HOW_FACTOR[s.how]
        elif s.how in ("conflict", "not_found", "ambiguous"):
            score -= weight
    return score - 2.0 * conflicts


def _confidence(cand: Candidate, runner_up: Candidate | None, scan: _Scan) -> float:
    conf = 1.0
    for s in cand.steps:
        if s.how in HOW_FACTOR:
            conf *= HOW_FACTOR[s.how]
        elif s.how == "conflict":
            conf *= 0.5 if s.element in ("community", "door") else 0.6
        elif s.how in ("not_found", "ambiguous"):
            conf *= 0.6
    if cand.level in ("road", "door") and scan.numbers.get("building"):
        conf *= 0.6
    if runner_up is not None and runner_up.score >= cand.score - 0.25:
        conf *= 0.45
    if scan.unexplained:
        conf *= 0.85
    return conf


def match(index: AddressIndex, text: str, normalized: Normalized | None = None) -> MatchResult:
    """Geocode one text against the index; see the module docstring.

    ``normalized`` is ``normalize(text[:MAX_CHARS * 5])`` when the caller has it already (a
    batch that matches each distinct normalised text once).

    Examples
    --------
    >>> from geocode.index import AddressIndex
    >>> match(AddressIndex(), "").reason
    'empty address'
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    norm = normalized if normalized is not None else normalize(text[: MAX_CHARS * 5])
    out = MatchResult(text, norm.text, warnings=list(norm.warnings))
    t = norm.text
    if not t:
        kinds = sorted({r.kind for r in norm.removed} - {"whitespace", "separator"})
        out.reason = f"no address text (only {', '.join(kinds)})" if kinds else "empty address"
        return out
    if len(t) > MAX_CHARS or len(text) > MAX_CHARS * 5:
        out.reason = f"too long for an address ({len(text)} characters)"
        return out
    exact = index.texts.get(t)
    if exact is not None:
        out.code, out.level = exact, index.level(exact)
        out.confidence, out.band = 1.0, "accept"
        out.explain = [Step("text", t, t, "exact")]
        out.candidates = [Candidate(exact, out.level or "", 100.0)]
        return out
    scan = _scan(index, t)
    _fuzzy(index, scan)
    out.elements = _elements(scan)
    anchors = _anchors(index, scan)
    if not anchors:
        return _admin_only(index, scan, out)
    cands = []
    seen: set[str] = set()
    for anchor, steps in anchors:
        cand = _descend(index, scan, anchor, list(steps))
        cand.score = _score(index, scan, cand)
        if cand.code not in seen:
            seen.add(cand.code)
            cands.append(cand)
    cands.sort(key=lambda c: -c.score)
    best = cands[0]
    out.code, out.level = best.code, best.level
    out.explain, out.candidates = best.steps, cands
    out.confidence = _confidence(best, cands[1] if len(cands) > 1 else None, scan)
    out.band = band_of(out.confidence)
    if out.band != "accept":
        out.reason = _why(best, cands, scan)
    return out


def _admin_only(index: AddressIndex, scan: _Scan, out: MatchResult) -> MatchResult:
    code = _narrowest(scan)
    if code is None:
        out.reason = "no known road, compound or administrative unit of the library"
        return out
    out.code, out.level = code, index.level(code)
    out.explain = [Step(out.level or "", None, code, "exact")]
    out.candidates = [Candidate(code, out.level or "", 1.0)]
    out.confidence = 0.3
    out.band = band_of(out.confidence)
    out.reason = f"only the {out.level} is known: no road, door or compound matched"
    return out


def _why(best: Candidate, cands: list[Candidate], scan: _Scan) -> str:
    doubtful = ("conflict", "not_found", "ambiguous", "fuzzy")
    reasons = [
        " ".join(x for x in (s.element, s.input, s.how.replace("_", " ")) if x)
        for s in best.steps
        if s.how in doubtful
    ]
    if len(cands) > 1 and cands[1].score >= best.score - 0.25:
        reasons.append(f"{len(cands)} candidates score alike")
    if scan.unexplained:
        reasons.append("unexplained text: " + ", ".join(scan.unexplained))
    return "; ".join(reasons) or "low confidence"


def _elements(scan: _Scan) -> dict[str, str]:
    out: dict[str, str] = {}
    for level, found in scan.admin.items():
        out[level] = found[0][0]
    if scan.roads:
        name, _, door = scan.roads[0]
        out["road"] = name
        if door:
            out["door"] = f"{door}号"
    if scan.compounds:
        out["compound"] = scan.compounds[0][0]
    if scan.fuzzy_roads and "road" not in out:
        out["road"] = scan.fuzzy_roads[0][0]
    marks = {"building": "栋", "unit": "单元", "floor": "层", "room": "室"}
    for key, value in scan.numbers.items():
        out[key] = value + marks[key]
    return out
