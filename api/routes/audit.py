"""The audit log for admins: who changed what, when, before → after.

Personal fields (names, ID numbers, phone numbers) in the before/after images are masked: the
log proves that a change was made, without repeating the data it changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.auth import needs
from api.deps import SyncConnDep
from twin.privacy import mask_id_number, mask_name, mask_phone

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[needs("admin")])
_MASKS = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone}
_PERSONAL_TABLES = {"person", "legal_entity"}


def _masked(table: str | None, image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None or table not in _PERSONAL_TABLES:
        return image
    out = dict(image)
    for key, mask in _MASKS.items():
        if table == "legal_entity" and key == "name":
            continue  # a company's name is public
        if isinstance(out.get(key), str):
            out[key] = mask(out[key])
    return out


@router.get("")
def audit_log(
    conn: SyncConnDep,
    table: Annotated[str | None, Query(max_length=63, description="e.g. address")] = None,
    record: Annotated[str | None, Query(max_length=100, description="The row's key")] = None,
    actor: Annotated[str | None, Query(max_length=200, description="Part of the actor")] = None,
    since: Annotated[dt.datetime | None, Query(description="ISO 8601")] = None,
    until: Annotated[dt.datetime | None, Query(description="ISO 8601")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, description="Page: entries older than this")
    ] = None,
) -> JSONResponse:
    """List audit entries, newest first, filtered by table, record, actor and time."""
    rows = conn.execute(
        """SELECT id, at, actor, action, table_name, record_key, before, after, reason
           FROM twin.audit_log
           WHERE (%(table)s::text IS NULL OR table_name = %(table)s)
             AND (%(record)s::text IS NULL OR record_key = %(record)s)
             AND (%(actor)s::text IS NULL OR strpos(actor, %(actor)s) > 0)
             AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
             AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
             AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s)
           ORDER BY id DESC LIMIT %(limit)s""",
        {"table": table, "record": record, "actor": actor, "since": since, "until": until,
         "before_id": before_id, "limit": limit},
    ).fetchall()  # fmt: skip
    entries = [
        {"id": i, "at": at.isoformat(), "actor": who, "action": action, "table": tab,
         "record": key, "before": _masked(tab, before), "after": _masked(tab, after),
         "reason": reason}
        for i, at, who, action, tab, key, before, after, reason in rows
    ]  # fmt: skip
    return JSONResponse({"entries": entries, "count": len(entries)})
