"""Jobs over HTTP (geocoding, placement): upload a file, follow its progress, get the result.

Jobs live on disk under the data home (:mod:`geocode.jobs`) and run one at a time, in the
job worker process of ``twin serve`` (:mod:`api.worker`) or in a background thread of the
server; a job queued or running when the server stopped runs again at the next start.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from api.auth import needs, require
from api.input import NUL_MESSAGE
from blocks.placement.jobs import check_table, place_params
from geocode.jobs import (
    MAX_UPLOAD_BYTES,
    FolderQueue,
    Job,
    JobInputError,
    JobNotFoundError,
    JobRunner,
    JobStore,
)
from twin.keys import Principal

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[needs("jobs")])
_MEDIA = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".parquet": "application/vnd.apache.parquet",
    ".gpkg": "application/geopackage+sqlite3",
}


def _store(request: Request) -> JobStore:
    store: JobStore = request.app.state.job_store
    return store


def _queued(request: Request, job: Job) -> JSONResponse:
    runner: JobRunner | FolderQueue = request.app.state.job_runner
    runner.submit(job.id)
    body = job.as_dict() | {"url": f"/api/v1/jobs/{job.id}"}
    return JSONResponse(body, status_code=202, headers={"Location": body["url"]})


async def _upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise JobInputError(f"{file.filename}: larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    return data


@router.post("/geocode", status_code=202)
async def submit(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV, XLSX, GeoPackage, GeoJSON or Parquet")],
    column: Annotated[str, Form(min_length=1, max_length=200, description="Address column")],
    principal: Annotated[Principal, Depends(require("jobs"))],
    output: Annotated[str, Form(description="csv, xlsx, parquet or gpkg")] = "csv",
) -> JSONResponse:
    """Queue a file for geocoding; the answer holds the job and where to follow it."""
    data = await _upload(file)
    job = _store(request).create(
        file.filename or "upload.csv", data, column, output, principal.actor, principal.key_id
    )
    return _queued(request, job)


_Column = Annotated[str | None, Form(max_length=200)]


@router.post("/place", status_code=202)
async def submit_place(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV, XLSX, GeoPackage, GeoJSON or Parquet")],
    kind: Annotated[Literal["person", "company", "event"], Form()],
    principal: Annotated[Principal, Depends(require("place"))],
    source: Annotated[str, Form(min_length=1, max_length=100)] = "api",
    address_column: _Column = None,
    code_column: _Column = None,
    id_column: _Column = None,
    lon_column: _Column = None,
    lat_column: _Column = None,
    crs: Annotated[str, Form(max_length=50)] = "EPSG:4326",
    output: Annotated[str, Form(description="csv, xlsx or parquet")] = "csv",
) -> JSONResponse:
    """Queue a file for placement (people, companies or events); the report is its result.

    Columns are found by their usual names unless named here. The job stores each chunk as
    it goes and resumes after the last stored one if the server or database stops.
    """
    texts = [source, crs, output, address_column, code_column, id_column, lon_column, lat_column]
    if any(t and "\x00" in t for t in texts):
        raise JobInputError(f"a form field {NUL_MESSAGE}")
    if output.lstrip(".") not in ("csv", "xlsx", "parquet"):
        raise JobInputError(f"output {output!r}: a placement report is csv, xlsx or parquet")
    data = await _upload(file)
    columns = {"address": address_column, "code": code_column, "id": id_column,
               "lon": lon_column, "lat": lat_column}  # fmt: skip
    params = place_params(kind, source, columns, crs, principal.scope_code)
    job = _store(request).create(
        file.filename or "upload.csv", data, "", output, principal.actor, principal.key_id,
        kind="place", params=params, check=check_table(params),
    )  # fmt: skip
    return _queued(request, job)


def _own_job(request: Request, job_id: str, principal: Principal) -> Job:
    """Return a job of the caller's key (any job for admins); others' jobs are not found."""
    job = _store(request).get(job_id)
    if principal.role != "admin" and job.owner != principal.key_id:
        raise JobNotFoundError(f"no job has id {job_id!r}")
    return job


@router.get("/{job_id}")
def status(
    request: Request, job_id: str, principal: Annotated[Principal, Depends(require("jobs"))]
) -> JSONResponse:
    """Return a job's state: status, rows, rows done, progress, bands, error."""
    job = _own_job(request, job_id, principal)
    body = job.as_dict()
    if job.status == "done":
        body["result_url"] = f"/api/v1/jobs/{job.id}/result"
    return JSONResponse(body)


@router.get("/{job_id}/result")
def result(
    request: Request, job_id: str, principal: Annotated[Principal, Depends(require("jobs"))]
) -> FileResponse:
    """Download the geocoded file of a finished job (409 while it is not done)."""
    _own_job(request, job_id, principal)
    path = _store(request).result_path(job_id)
    return FileResponse(
        path, media_type=_MEDIA[path.suffix], filename=f"geocoded-{job_id}{path.suffix}"
    )
