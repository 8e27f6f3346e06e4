"""The unified address library over HTTP.

Read (as of a date), search, create, change, alias and retire; a change needs the version the
client read (``If-Match``), so two clerks cannot silently overwrite each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from api.auth import needs, require
from api.deps import SyncConnDep
from api.input import ApiModel
from geocode.errors import AddressInputError
from geocode.library.repository import ALIAS_KINDS, STATUSES, find_addresses, get_address
from geocode.library.writes import (
    add_alias,
    change_address,
    create_address,
    expect_version,
    retire_address,
)
from twin.address_codes import LEVELS
from twin.keys import ForbiddenError, Principal

router = APIRouter(prefix="/api/v1/addresses", tags=["addresses"])


class AddressIn(ApiModel):
    """A new standard address; the library assigns its code."""

    level: str = Field(description="The address level.", json_schema_extra={"enum": list(LEVELS)})
    text: str = Field(min_length=1, max_length=500, description="Standard text, Shenzhen order")
    parent_code: str | None = None
    unit_code: str | None = Field(
        None, description="Admin unit, building or room code, for those levels"
    )
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    elements: dict[str, Any] = Field(default_factory=dict)
    status: str = Field("collected", json_schema_extra={"enum": list(STATUSES[:-1])})


class AddressPatch(ApiModel):
    """A change: new text, status or location; aliases to add; or retirement."""

    text: str | None = Field(None, min_length=1, max_length=500)
    status: str | None = Field(None, json_schema_extra={"enum": [*STATUSES, None]})
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    add_aliases: list[str] = Field(default_factory=list, max_length=50)
    alias_kind: str = Field("variant", json_schema_extra={"enum": list(ALIAS_KINDS)})
    retire_successors: list[str] | None = Field(None, description="Retire, pointing here")
    reason: str | None = Field(None, max_length=500)


@dataclass
class SearchParams:
    """Filters of the address search."""

    level: Annotated[str | None, Query(description="Address level")] = None
    parent_code: Annotated[str | None, Query(description="Parent address code")] = None
    status: Annotated[str | None, Query(description="Life-cycle status")] = None
    text: Annotated[str | None, Query(max_length=100, description="Text or alias part")] = None
    limit: Annotated[int, Query(ge=1, le=1000)] = 100
    offset: Annotated[int, Query(ge=0)] = 0


def _etag(version: int) -> str:
    return f'"v{version}"'


def _version(if_match: str | None) -> int:
    tag = (if_match or "").strip().removeprefix("W/").strip('"')
    if not tag.startswith("v") or not tag[1:].isdigit():
        raise AddressInputError(
            'send If-Match with the ETag you read (e.g. "v3"): changes '
            "need the version they apply to"
        )
    return int(tag[1:])


def _answer(body: dict[str, Any], version: int, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": _etag(version)})


def check_address_scope(conn: Any, principal: Principal, code: str) -> None:
    """Refuse a scoped key an address outside its community or grid (403)."""
    if principal.scope_code is None:
        return
    row = conn.execute(
        "SELECT community_code, grid_code, building_code FROM twin.address WHERE code = %s",
        (code,),
    ).fetchone()
    principal.check_scope(*(row or (code,)))


@router.get("/{code}", dependencies=[needs("read")])
def read_address(
    conn: SyncConnDep,
    code: str,
    as_of: Annotated[dt.datetime | None, Query(description="ISO 8601")] = None,
) -> JSONResponse:
    """Return an address, or its version at ``as_of``; retired ones carry their successors."""
    address = get_address(conn, code, as_of)
    return _answer(address.as_dict(), address.version)


@router.get("", dependencies=[needs("read")])
def search_addresses(conn: SyncConnDep, params: Annotated[SearchParams, Depends()]) -> JSONResponse:
    """Search by level, parent code, status and text (aliases included)."""
    found = find_addresses(
        conn,
        level=params.level,
        parent_code=params.parent_code,
        status=params.status,
        text=params.text,
        limit=params.limit,
        offset=params.offset,
    )
    return JSONResponse({"addresses": [a.as_dict() for a in found], "count": len(found)})


@router.post("", status_code=201)
def create(
    conn: SyncConnDep,
    body: AddressIn,
    principal: Annotated[Principal, Depends(require("edit_addresses"))],
) -> JSONResponse:
    """Create an address; the answer holds its new code (and ``Location``).

    A scoped key (a grid worker's) creates addresses only inside its community or grid.
    """
    address = create_address(
        conn,
        level=body.level,
        text=body.text,
        actor=principal.actor,
        parent_code=body.parent_code,
        unit_code=body.unit_code,
        lon=body.lon,
        lat=body.lat,
        elements=body.elements,
        status=body.status,
    )
    check_address_scope(conn, principal, address.code)  # refused: rolled back with the request
    response = _answer(address.as_dict(), address.version, 201)
    response.headers["Location"] = f"/api/v1/addresses/{address.code}"
    return response


@router.patch("/{code}", responses={412: {"description": "changed meanwhile"}})
def patch(
    conn: SyncConnDep,
    code: str,
    body: AddressPatch,
    principal: Annotated[Principal, Depends(require("edit_addresses"))],
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Change, alias or retire an address, if it is still at the version in ``If-Match``.

    Retiring, and any status other than ``collected``, needs a supervisor's key; a scoped
    key changes only addresses inside its community or grid.
    """
    if body.retire_successors is not None or body.status not in (None, "collected"):
        if not principal.can("verify_addresses"):
            raise ForbiddenError(f"the {principal.role} role may not verify or retire addresses")
    check_address_scope(conn, principal, code)
    x_actor = principal.actor
    version = _version(if_match)
    expect_version(conn, code, version)
    if body.text or body.status or body.lon is not None:
        version = change_address(
            conn,
            code,
            version,
            actor=x_actor,
            text=body.text,
            status=body.status,
            lon=body.lon,
            lat=body.lat,
            reason=body.reason,
        ).version
    for alias in body.add_aliases:
        add_alias(conn, code, alias, actor=x_actor, kind=body.alias_kind)
    if body.retire_successors is not None:
        retire_address(
            conn,
            code,
            body.retire_successors,
            actor=x_actor,
            reason=body.reason,
            expected_version=version,
        )
    address = get_address(conn, code)
    return _answer(address.as_dict(), address.version)
