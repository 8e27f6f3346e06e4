"""Geocoding jobs for large files: queued, run in the background, kept on disk.

A job is a folder under ``<home>/jobs/<id>/``: ``job.json`` (its state), the uploaded file
and, when done, the geocoded copy. Every state change rewrites ``job.json`` through a
temporary file moved into place, and the result is written the same way, so a crash leaves
either the old state or the new one, never half a file. A :class:`JobRunner` started with
the server first re-queues every job that was queued or running when the last server
stopped: a restart loses no job. While a job runs, each finished chunk of rows is written
to ``parts/`` (atomically, named by its first row); a job interrupted by a server or database
restart resumes after its last finished chunk, so no row is lost or written twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import queue
import secrets
import shutil
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from geocode.batch import TABLE_SUFFIXES, geocode_table, read_table, write_table
from geocode.errors import GeocodeError

if TYPE_CHECKING:
    from collections.abc import Callable

    from geocode.index import AddressIndex

logger = logging.getLogger(__name__)
#: Output formats a job can write.
OUTPUTS = (".csv", ".xlsx", ".parquet", ".gpkg")
#: Runs of a job that keeps losing the database before it is failed.
MAX_ATTEMPTS = 5
#: Seconds between attempts to reach a database that went away.
RETRY_S = 2.0
#: Biggest upload a job takes.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class JobNotFoundError(GeocodeError, LookupError):
    """No job has this id."""


class JobInputError(GeocodeError, ValueError):
    """The upload cannot become a job (format, size, column)."""


class JobNotReadyError(GeocodeError):
    """The job has no result (yet, or it failed)."""


class JobInterruptedError(GeocodeError):
    """The database went away in the middle of a job; it is queued to run again."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """The state of one job, as ``job.json`` holds it."""

    id: str
    input_name: str
    column: str
    output: str
    actor: str
    #: The id of the key that submitted the job: only it (and admins) may see the job.
    owner: str = ""
    status: str = "queued"  # queued, running, done, failed
    rows: int | None = None
    done_rows: int = 0
    bands: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 0
    #: The row each attempt started from (> 0: it resumed after finished chunks).
    resumed_from: list[int] = field(default_factory=list)
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus the progress (0–1)."""
        out = asdict(self)
        out["progress"] = round(self.done_rows / self.rows, 4) if self.rows else 0.0
        return out


class JobStore:
    """Jobs in folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _dir(self, job_id: str) -> Path:
        if not job_id.isalnum():
            raise JobNotFoundError(f"no job has id {job_id!r}")
        return self.root / job_id

    def create(
        self, filename: str, data: bytes, column: str, output: str, actor: str, owner: str = ""
    ) -> Job:
        """Store an upload as a new queued job; the column is checked at once.

        Raises
        ------
        JobInputError
            For an unknown input or output format, an empty or oversized file, a missing
            column, or a file that cannot be read as a table.
        """
        suffix = Path(filename).suffix.lower()
        if suffix not in TABLE_SUFFIXES:
            raise JobInputError(f"{filename}: upload one of {', '.join(TABLE_SUFFIXES)}")
        out = output if output.startswith(".") else f".{output}"
        if out not in OUTPUTS:
            raise JobInputError(f"output {output!r}: use one of {', '.join(OUTPUTS)}")
        if not data:
            raise JobInputError(f"{filename}: the upload is empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise JobInputError(f"{filename}: larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        job = Job(secrets.token_hex(8), f"input{suffix}", column, f"result{out}", actor, owner)
        folder = self._dir(job.id)
        folder.mkdir(parents=True)
        (folder / job.input_name).write_bytes(data)
        try:
            table = read_table(folder / job.input_name)
        except GeocodeError as exc:
            raise JobInputError(str(exc).replace(str(folder / job.input_name), filename)) from exc
        if column not in table.columns:
            raise JobInputError(
                f"column {column!r} is not in {filename} (columns: {', '.join(table.columns)})"
            )
        job.rows = len(table.rows)
        self.save(job)
        return job

    def save(self, job: Job) -> None:
        """Write the job's state atomically."""
        folder = self._dir(job.id)
        tmp = folder / "job.json.part"
        tmp.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
        tmp.replace(folder / "job.json")

    def get(self, job_id: str) -> Job:
        """Read a job's state."""
        path = self._dir(job_id) / "job.json"
        try:
            return Job(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise JobNotFoundError(f"no job has id {job_id!r}") from None

    def result_path(self, job_id: str) -> Path:
        """Return the finished job's result file."""
        job = self.get(job_id)
        if job.status != "done":
            detail = f": {job.error}" if job.error else ""
            raise JobNotReadyError(f"job {job_id} is {job.status}{detail}")
        return self._dir(job_id) / job.output

    def unfinished(self) -> list[Job]:
        """Jobs queued or running, oldest first."""
        if not self.root.is_dir():
            return []
        jobs = []
        for path in self.root.glob("*/job.json"):
            with contextlib.suppress(ValueError, TypeError, OSError):
                job = self.get(path.parent.name)
                if job.status in ("queued", "running"):
                    jobs.append(job)
        return sorted(jobs, key=lambda j: j.created_at)


def _parts(folder: Path) -> list[Path]:
    return sorted((folder / "parts").glob("*.json"))


def _done_rows(folder: Path) -> int:
    """Rows the finished chunks in ``parts/`` hold (they are contiguous from row 0)."""
    return sum(int(p.stem.split("-")[1]) for p in _parts(folder))


def _write_part(folder: Path, first: int, rows: list[list[Any]]) -> None:
    parts = folder / "parts"
    parts.mkdir(exist_ok=True)
    tmp = parts / f".{first:09d}.part"
    tmp.write_text(json.dumps(rows, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(parts / f"{first:09d}-{len(rows)}.json")


def run_job(
    store: JobStore, job_id: str, conn: psycopg.Connection[Any], index: AddressIndex
) -> Job:
    """Run one job to the end (done or failed); its state on disk follows its progress.

    Rows already in ``parts/`` (from an interrupted attempt) are not geocoded again.
    """
    job = store.get(job_id)
    folder = store.root / job.id
    done = _done_rows(folder)
    job.status, job.started_at, job.done_rows = "running", _now(), done
    job.attempts += 1
    job.resumed_from.append(done)
    store.save(job)
    try:
        table = read_table(folder / job.input_name)
        job.rows = len(table.rows)

        def progress(n: int) -> None:
            job.done_rows += n
            store.save(job)

        header, _, _ = geocode_table(
            conn, index, table, job.column, workers=1, progress=progress, skip=done,
            sink=lambda first, rows: _write_part(folder, first, rows),
        )  # fmt: skip
        rows = [row for p in _parts(folder) for row in json.loads(p.read_text("utf-8"))]
        if len(rows) != len(table.rows):
            raise GeocodeError(f"the job's parts hold {len(rows)} rows, not {len(table.rows)}")
        write_table(folder / job.output, header, rows)
        band = header.index("band")
        job.status, job.error = "done", None
        job.bands = dict(Counter(row[band] for row in rows))
        shutil.rmtree(folder / "parts", ignore_errors=True)
    except psycopg.OperationalError as exc:
        # The database went away: the job waits for it and resumes after its last finished
        # chunk (each chunk is written once, atomically, so no row is written twice).
        logger.warning("geocoding job %s lost the database; it will resume", job.id)
        job.error = f"the database was unavailable ({type(exc).__name__})"
        if job.attempts < MAX_ATTEMPTS:
            job.status = "queued"
            store.save(job)
            raise JobInterruptedError(job.id) from exc
        job.status = "failed"
    except Exception as exc:  # a job fails with its reason; the server goes on
        logger.exception("geocoding job %s failed", job.id)
        job.status, job.error = "failed", str(exc) or type(exc).__name__
    job.finished_at = _now()
    store.save(job)
    return job


class JobRunner:
    """One background thread that runs queued jobs in order."""

    def __init__(
        self,
        store: JobStore,
        connect: Callable[[], psycopg.Connection[Any]],
        index: Callable[[psycopg.Connection[Any]], AddressIndex],
    ) -> None:
        self.store = store
        self._connect = connect
        self._index = index
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Re-queue what the last server left unfinished, then start the thread."""
        for job in self.store.unfinished():
            self._queue.put(job.id)
        self._thread = threading.Thread(target=self._loop, name="geocode-jobs", daemon=True)
        self._thread.start()

    def submit(self, job_id: str) -> None:
        """Queue a stored job."""
        self._queue.put(job_id)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the running job (an unfinished one is resumed at the next start)."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                with contextlib.closing(self._connect()) as conn:
                    run_job(self.store, job_id, conn, self._index(conn))
            except (JobInterruptedError, psycopg.OperationalError):
                # The database is away (restarting): try again in a while, in order.
                time.sleep(RETRY_S)
                self._queue.put(job_id)
            except Exception:  # the runner outlives any one job
                logger.exception("geocoding job %s could not run", job_id)
