"""The imported models a viewer can show: BIM models, point clouds and CityJSON tilesets.

``GET /api/v1/models`` lists what ``twin 3d import-ifc``, ``import-las`` and ``import-cityjson``
wrote under the tilesets folder, each with its ``tileset.json`` address, centre and radius (to
fly to it), the community its centre lies in and, for a BIM model linked with ``--building``,
that building. A key with a scope (grid workers) sees only the models in its scope.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.auth import require
from api.deps import SyncConnDep
from models3d.tiles3d.catalogue import imported_models, with_places
from models3d.tiles3d.store import TILESET_JSON
from twin.keys import Principal
from twin.settings import TwinSettings


def models_router(settings: TwinSettings) -> APIRouter:
    """Build the route that lists the imported models of ``settings.tilesets_abs``."""
    router = APIRouter(tags=["3d"])
    root = settings.tilesets_abs

    @router.get("/api/v1/models")
    def models(
        conn: SyncConnDep,
        principal: Annotated[Principal, Depends(require("read"))],
        kind: Annotated[
            Literal["bim", "pointcloud", "cityjson"] | None, Query(description="Only this kind")
        ] = None,
    ) -> JSONResponse:
        """List the imported BIM models, point clouds and CityJSON tilesets, by kind and name.

        Each: ``kind``, ``name``, ``path`` and ``url`` (its ``/3dtiles/…/tileset.json``),
        ``lon``/``lat``/``height_m`` (the centre of its bounding volume) and ``radius_m``,
        ``community`` (the community its centre lies in, or null) and ``building`` (a BIM
        model's linked building, or null). Scoped keys see the models whose building or
        community lies in their scope.
        """
        found = [m for m in imported_models(root) if kind is None or m.kind == kind]
        listed = [
            m | {"url": f"/3dtiles/{m['path']}/{TILESET_JSON}"}
            for m in with_places(conn, found)
            if principal.covers(m["building"], m["community"])
        ]
        return JSONResponse({"models": listed})

    return router
