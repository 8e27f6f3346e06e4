"""From a table of cells to checked :class:`~blocks.placement.model.PlaceInput` rows (pure).

Columns are found by the names users write (``地址``, ``身份证号``, ``统一社会信用代码``...) or
named explicitly. Every row is checked on its own: a row with an invalid identifier (an ID
number or credit code whose check character is wrong), no record id, or an id that repeats an
earlier row is kept out of the store with the field at fault; a malformed block code or
coordinate is a warning, and the row is placed by what else it offers. Personal data is
masked here, before anything is stored: the store never holds a full name, ID number or phone
number of a person (placement needs none of them).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from blocks.coding.model import RowProblem
from blocks.errors import PlacementInputError
from blocks.placement.model import RECORD_KINDS, PlaceInput
from twin.codes import id_birth_date, id_check_char, is_valid_uscc, uscc_check_char, validate
from twin.crs import SHENZHEN_BBOX_WGS84, WGS84, parse_crs, to_wgs84
from twin.errors import CodeError, CrsError
from twin.privacy import mask_id_number, mask_name, mask_phone, mask_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: Header names each field is found by (compared without case, spaces and underscores).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "record_id", "source_id", "编号", "序号", "记录编号"),
    "code": ("code", "address_code", "room_code", "building_code", "编码", "地址编码",
             "房屋编码", "楼栋编码"),
    "address": ("address", "地址", "住址", "居住地址", "现住址", "经营地址", "注册地址",
                "事发地址", "事件地址", "address_text", "residence_address", "business_address"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "name": ("name", "姓名", "名称", "企业名称", "主体名称"),
    "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码", "证件号码"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话"),
    "residence_kind": ("residence_kind", "居住类型", "人口类型", "户籍类型"),
    "uscc": ("uscc", "统一社会信用代码", "信用代码", "credit_code"),
    "industry": ("industry", "行业", "所属行业"),
    "company_kind": ("company_kind", "主体类型", "企业类型"),
    "event_type": ("event_type", "type", "事件类型", "类型"),
    "status": ("status", "状态", "事件状态"),
    "occurred_at": ("occurred_at", "time", "发生时间", "上报时间"),
    "description": ("description", "描述", "事件描述"),
}  # fmt: skip
#: The record fields each kind reads (besides id, code, address and coordinates).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "person": ("name", "id_number", "phone", "residence_kind"),
    "company": ("name", "uscc", "industry", "company_kind"),
    "event": ("event_type", "status", "occurred_at", "description"),
}
#: Residence kinds as written → the stored value.
RESIDENCE_KINDS = {
    "household": "household", "户籍": "household", "户籍人口": "household", "常住": "household",
    "rental": "rental", "renting": "rental", "租住": "rental", "租赁": "rental",
    "流动": "rental", "流动人口": "rental", "出租屋": "rental", "other": "other", "其他": "other",
}  # fmt: skip
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＹ",
                           "0123456789XxABCDEFGHJKLMNPQRTUWY")  # fmt: skip
_ADDRESS_CODE = re.compile(r"[0-9A-Z]{6,32}")
#: Longest text cell kept (longer ones are cut, with a warning).
MAX_TEXT = 500


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


@dataclass(frozen=True)
class Columns:
    """Which column of the table holds each field (``None``: not in the file)."""

    by_field: dict[str, str | None]
    crs_name: str = "EPSG:4326"

    def __getitem__(self, name: str) -> str | None:
        return self.by_field.get(name)


def resolve_columns(
    header: Sequence[str], kind: str, explicit: Mapping[str, str | None], crs: str = "EPSG:4326"
) -> Columns:
    """Find each field's column: the one named explicitly, else by its usual names.

    Raises
    ------
    PlacementInputError
        For an unknown kind, an explicitly named column that is not in the file, or a file
        that offers nothing to place by (no code, address or lon/lat columns) or no ids.
    """
    if kind not in RECORD_KINDS:
        raise PlacementInputError(f"kind {kind!r}: use one of {', '.join(RECORD_KINDS)}")
    parse_crs(crs)  # an unknown CRS is refused before any row is read
    keys = {_key(h): h for h in header}
    out: dict[str, str | None] = {}
    for name in ("id", "code", "address", "lon", "lat", *KIND_FIELDS[kind]):
        given = explicit.get(name)
        if given is not None:
            if given not in header:
                raise PlacementInputError(
                    f"--{name.replace('_', '-')}-column {given!r} is not a column of the file "
                    f"(columns: {', '.join(header)})"
                )
            out[name] = given
        else:
            out[name] = next((keys[_key(n)] for n in FIELD_NAMES[name] if _key(n) in keys), None)
    if out["id"] is None:
        raise PlacementInputError(
            "the file has no record id column: name it with --id-column (ids make a re-run "
            "update what it placed instead of adding it again)"
        )
    if out["code"] is None and out["address"] is None and None in (out["lon"], out["lat"]):
        raise PlacementInputError(
            "the file offers nothing to place by: name a --code-column, an --address-column, "
            f"or --lon and --lat columns (columns: {', '.join(header)})"
        )
    return Columns(out, crs)


def _text(cell: Any) -> str:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e18:
        return str(int(cell))
    return str(cell).replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL


def check_id_number(text: str) -> str | None:
    """Return why ``text`` is not a valid 18-character ID number, or ``None`` when it is.

    Examples
    --------
    >>> check_id_number("440306199001011236") is None
    True
    >>> check_id_number("440306199001011237")
    'check character is 7, should be 6'
    >>> check_id_number("4403061990")
    'has 10 characters; an ID number has 18 (17 digits and a check character)'
    """
    if len(text) != 18:
        return f"has {len(text)} characters; an ID number has 18 (17 digits and a check character)"
    if not re.fullmatch(r"[0-9]{17}[0-9X]", text):
        return "must be 17 digits and a digit or X"
    if id_birth_date(text) is None:
        return f"birth date {text[6:14]} is not a plausible date"
    expected = id_check_char(text[:17])
    return None if expected == text[17] else f"check character is {text[17]}, should be {expected}"


def check_uscc(text: str) -> str | None:
    """Return why ``text`` is not a valid unified social credit code, or ``None``.

    Examples
    --------
    >>> check_uscc("91350100M000100Y43") is None
    True
    >>> check_uscc("91350100M000100Y44")
    'check character is 4, should be 3'
    """
    if len(text) != 18:
        return f"has {len(text)} characters; a credit code has 18"
    if is_valid_uscc(text):
        return None
    try:
        expected = uscc_check_char(text[:17])
    except CodeError:
        return "uses characters outside 0-9 and A-Y without I, O, S, V and Z"
    if text[17] not in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        return f"check character {text[17]!r} is not allowed"
    return f"check character is {text[17]}, should be {expected}"


def check_code(text: str) -> tuple[str | None, str | None]:
    """Return a code as stored (upper case, no spaces) and ``None``, or ``None`` and why not.

    Digits only: a block code, checked by :func:`twin.codes.validate`; letters and digits: an
    address code (a door ``…D00012``, a compound ``…C0003``...).

    Examples
    --------
    >>> check_code("4403060170010100001")
    ('4403060170010100001', None)
    >>> check_code("440306017001d00012")
    ('440306017001D00012', None)
    >>> check_code("12345")[1]
    "code '12345' has 5 digits; block codes have 6, 9, 12, 14, 19 or 25"
    """
    code = text.translate(_FULLWIDTH).upper().replace(" ", "")
    if code.isdigit():
        try:
            return validate(code), None
        except CodeError as exc:
            return None, str(exc)
    if _ADDRESS_CODE.fullmatch(code):
        return code, None
    return None, f"{text!r} is no block or address code"


def _float(text: str) -> float | None:
    try:
        value = float(text.translate(_FULLWIDTH))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _occurred_at(cell: Any) -> dt.datetime | None:
    if isinstance(cell, dt.datetime):
        return cell if cell.tzinfo else cell.replace(tzinfo=dt.UTC)
    if isinstance(cell, dt.date):
        return dt.datetime(cell.year, cell.month, cell.day, tzinfo=dt.UTC)
    text = _text(cell).replace("/", "-")
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _person(cells: Mapping[str, Any], rec: PlaceInput) -> None:
    name = _text(cells.get("name"))
    rec.fields["name"] = mask_name(name) or None
    number = _text(cells.get("id_number")).translate(_FULLWIDTH).upper().replace(" ", "")
    if number:
        problem = check_id_number(number)
        if problem:
            rec.errors.append(RowProblem("id_number", f"{mask_id_number(number)} {problem}"))
        rec.fields["id_number"] = mask_id_number(number)
    phone = _text(cells.get("phone"))
    rec.fields["phone"] = mask_phone(phone) or None
    kind = _text(cells.get("residence_kind"))
    if kind:
        value = RESIDENCE_KINDS.get(kind.lower())
        if value is None:
            known = ", ".join(sorted(set(RESIDENCE_KINDS)))
            message = f"{kind!r} is not a known kind (use {known})"
            rec.warnings.append(RowProblem("residence_kind", message))
        else:
            rec.fields["residence_kind"] = value
            rec.facets.append(f"residence:{value}")


def _company(cells: Mapping[str, Any], rec: PlaceInput) -> None:
    name = _text(cells.get("name"))
    if not name:
        rec.errors.append(RowProblem("name", "a legal entity needs its name"))
    rec.fields["name"] = name[:MAX_TEXT]
    uscc = _text(cells.get("uscc")).translate(_FULLWIDTH).upper().replace(" ", "")
    if uscc:
        problem = check_uscc(uscc)
        if problem:
            rec.errors.append(RowProblem("uscc", f"{uscc} {problem}"))
        rec.fields["uscc"] = uscc
    for key in ("industry", "company_kind"):
        rec.fields[key] = _text(cells.get(key))[:MAX_TEXT] or None
    if rec.fields["industry"]:
        rec.facets.append(f"industry:{rec.fields['industry']}")


def _event(cells: Mapping[str, Any], rec: PlaceInput) -> None:
    kind = _text(cells.get("event_type"))
    if not kind:
        rec.errors.append(RowProblem("event_type", "an event needs its type"))
    when_cell = cells.get("occurred_at")
    when = _occurred_at(when_cell)
    if when is None:
        shown = _text(when_cell)
        message = f"{shown!r} is not a date and time (write 2025-06-01 14:30)"
        rec.errors.append(RowProblem("occurred_at", message if shown else "is empty"))
    status = _text(cells.get("status")) or "open"
    description = mask_text(_text(cells.get("description")))[:MAX_TEXT] or None
    rec.fields |= {"event_type": kind[:MAX_TEXT], "status": status[:100],
                   "occurred_at": when.isoformat() if when else None,
                   "description": description}  # fmt: skip
    if kind:
        rec.facets += [f"type:{kind[:MAX_TEXT]}", f"status:{status[:100]}"]


_KIND_CHECKS = {"person": _person, "company": _company, "event": _event}


def _locators(cells: Mapping[str, Any], rec: PlaceInput) -> None:
    raw_code = _text(cells.get("code"))
    if raw_code:
        rec.code, problem = check_code(raw_code)
        if problem is not None:
            rec.warnings.append(RowProblem("code", f"{problem}: placed by what else it offers"))
    address = _text(cells.get("address"))
    if len(address) > MAX_TEXT:
        rec.warnings.append(RowProblem("address", f"longer than {MAX_TEXT} characters: cut"))
    rec.address = mask_text(address[:MAX_TEXT]) or None
    lon_text, lat_text = _text(cells.get("lon")), _text(cells.get("lat"))
    if lon_text or lat_text:
        lon, lat = _float(lon_text), _float(lat_text)
        if lon is None or lat is None:
            rec.warnings.append(RowProblem("lon/lat", f"({lon_text!r}, {lat_text!r}) "
                                           "are not two numbers"))  # fmt: skip
        else:
            rec.lon, rec.lat = lon, lat


def prepare_row(row: int, cells: Mapping[str, Any], kind: str) -> PlaceInput:
    """Check one row (cells by field name); coordinates are left in the file's CRS.

    Examples
    --------
    >>> rec = prepare_row(1, {"id": "p1", "name": "张三", "id_number": "440306199001011237",
    ...                       "address": "宝安区新安街道 13812345678"}, "person")
    >>> rec.fields["name"], rec.address
    ('张*', '宝安区新安街道 138****5678')
    >>> [(p.field, p.message) for p in rec.errors]
    [('id_number', '****************37 check character is 7, should be 6')]
    """
    source_id = _text(cells.get("id"))[:200] or None
    rec = PlaceInput(row, source_id)
    if source_id is None:
        rec.errors.append(RowProblem("id", "the record id is empty"))
    _locators(cells, rec)
    _KIND_CHECKS[kind](cells, rec)
    if rec.code is None and rec.address is None and rec.lon is None:
        rec.warnings.append(RowProblem("address", "no code, address or coordinates to place by"))
    return rec


def _in_shenzhen(lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    w, s, e, n = SHENZHEN_BBOX_WGS84
    return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)


def convert_points(rows: Sequence[PlaceInput], crs: str) -> None:
    """Convert the rows' coordinates to WGS84 in place; flag swapped and far-away points.

    A point outside Shenzhen whose swapped coordinates fall inside is swapped back (with a
    warning); any other point outside Shenzhen is dropped with a warning, and the row is
    placed by what else it offers.
    """
    with_point = [r for r in rows if r.lon is not None and r.lat is not None]
    if not with_point:
        return
    source = parse_crs(crs)
    x = np.array([r.lon for r in with_point], dtype=np.float64)
    y = np.array([r.lat for r in with_point], dtype=np.float64)
    try:
        lon, lat = to_wgs84(x, y, source) if source != WGS84 else (x, y)
        lon_s, lat_s = to_wgs84(y, x, source) if source != WGS84 else (y, x)
    except CrsError as exc:
        raise PlacementInputError(f"coordinates cannot be converted from {crs}: {exc}") from exc
    inside, swapped = _in_shenzhen(lon, lat), _in_shenzhen(lon_s, lat_s)
    for i, rec in enumerate(with_point):
        if inside[i]:
            rec.lon, rec.lat = float(lon[i]), float(lat[i])
        elif swapped[i]:
            rec.warnings.append(RowProblem("lon/lat", "longitude and latitude were swapped"))
            rec.lon, rec.lat = float(lon_s[i]), float(lat_s[i])
        else:
            rec.warnings.append(RowProblem("lon/lat", f"({rec.lon}, {rec.lat}) in {crs} lies "
                                           "outside Shenzhen: not used"))  # fmt: skip
            rec.lon = rec.lat = None


def duplicate_ids(rows: Sequence[PlaceInput]) -> None:
    """Keep the first row of each record id; later ones get an error naming it."""
    first: dict[str, int] = {}
    for rec in rows:
        if rec.source_id is None:
            continue
        seen = first.setdefault(rec.source_id, rec.row)
        if seen != rec.row:
            rec.errors.append(RowProblem("id", f"{rec.source_id!r} repeats row {seen}"))


def prepare_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    columns: Columns,
    kind: str,
    problems: Mapping[int, str] | None = None,
    first_row: int = 1,
    numbers: Sequence[int] | None = None,
) -> list[PlaceInput]:
    """Check rows of a table; row numbers count data rows from ``first_row``.

    ``numbers`` gives them instead (a part of a file whose rows are not consecutive).
    """
    at = {name: header.index(col) for name, col in columns.by_field.items() if col is not None}
    out = []
    for i, cells in enumerate(rows):
        row = numbers[i] if numbers is not None else first_row + i
        rec = prepare_row(row, {name: cells[j] for name, j in at.items()}, kind)
        if problems and i in problems:
            rec.errors.append(RowProblem("row", problems[i]))
        out.append(rec)
    convert_points(out, columns.crs_name)
    duplicate_ids(out)
    return out
