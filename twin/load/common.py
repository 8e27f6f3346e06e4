"""What the importers share: our fields and the file's columns, values, guarded writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import psycopg

from twin.load.errors import DataImportError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from twin.load.reader import SourceRow
    from twin.load.report import ImportReport

#: Our fields per kind, and the column names (compared in lower case) each is found under
#: when ``--mapping`` does not name its column.
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "admin": {"code": ("code", "编码", "代码"), "name": ("name", "名称")},
    "roads": {
        "name": ("name", "名称", "道路名称"),
        "class": ("class", "road_class", "等级", "道路等级"),
    },
    "buildings": {
        "code": ("code", "编码", "楼栋编码"),
        "name": ("name", "名称"),
        "floors": ("floors", "层数", "地上层数"),
        "height_m": ("height_m", "height", "高度"),
        "basement_floors": ("basement_floors", "地下层数"),
        "use": ("use", "用途"),
        "built_year": ("built_year", "建成年份"),
    },
}
#: Fields whose column must exist; a building needs floors or height_m (checked apart).
REQUIRED = {"admin": ("code", "name"), "roads": ("name",), "buildings": ()}
#: Our field → the file's column holding it (None: the file has none).
Columns: TypeAlias = dict[str, str | None]
#: A row and its prepared geometry.
Item: TypeAlias = tuple["SourceRow", "BaseGeometry"]


def resolve_columns(kind: str, columns: list[str], mapping: dict[str, str]) -> Columns:
    """Find each field's column: the mapped one, else a column under a known name.

    Raises
    ------
    DataImportError
        For a mapping of an unknown field or to a column the file lacks, and for a file
        without a required field's column.

    Examples
    --------
    >>> resolve_columns("roads", ["NAME", "wkt"], {})
    {'name': 'NAME', 'class': None}
    """
    fields = FIELDS[kind]
    lowered = {c.strip().lower(): c for c in columns}
    out: Columns = {}
    for ours in mapping:
        if ours not in fields:
            raise DataImportError(
                f"--mapping names {ours!r}, which is no field of {kind} "
                f"(fields: {', '.join(fields)})"
            )
        if mapping[ours] not in columns:
            raise DataImportError(
                f"--mapping {ours}={mapping[ours]}: the file has no column {mapping[ours]!r} "
                f"(columns: {', '.join(columns)})"
            )
    for ours, names in fields.items():
        out[ours] = mapping.get(ours) or next((lowered[n] for n in names if n in lowered), None)
    wanted = REQUIRED[kind] if kind != "buildings" or out["height_m"] else ("floors",)
    for ours in wanted:
        if out[ours] is None:
            raise DataImportError(
                f"the file has no {ours} column: name it with --mapping {ours}=COLUMN "
                f"(columns: {', '.join(columns)})"
            )
    return out


def value(row: SourceRow, columns: Columns, ours: str) -> str:
    """Return the row's value of one of our fields ('' when absent)."""
    column = columns.get(ours)
    return row.attrs.get(column, "").strip() if column else ""


def write_row(
    conn: psycopg.Connection[Any],
    report: ImportReport,
    rows: list[int],
    query: str,
    params: dict[str, Any],
) -> tuple[Any, ...] | None:
    """Run one row's write under a savepoint; a refusal rejects the rows, not the import.

    Returns
    -------
    tuple or None
        The statement's first returned row, or None when the database refused it.
    """
    try:
        with conn.transaction():
            return conn.execute(query, params).fetchone() or ()
    except (psycopg.IntegrityError, psycopg.DataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for number in rows:
            report.reject(number, "", f"the database refused it: {first}")
        return None
