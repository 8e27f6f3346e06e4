"""Jobs for large files (geocoding, or a registered kind): queued, run in the background.

A job is a folder under ``<home>/jobs/<id>/``: ``job.json`` (its state), the uploaded file
and, when done, the result file. Every state change rewrites ``job.json`` through a
temporary file moved into place, and the result is written the same way, so a crash leaves
either the old state or the new one, never half a file. A :class:`JobRunner` started with
the server first re-queues every job that was queued or running when the last server
stopped: a restart loses no job. While a job runs, each finished chunk of rows is written
to ``parts/`` (atomically, named by its first row); a job interrupted by a server or database
restart resumes after its last finished chunk, so no row is lost or written twice.

The kind of a job names its :class:`JobHandler`: geocoding is built in; other packages'
kinds (placement) are registered by the composition root, so this module knows none of them.
A handler says where a resumed job starts (``resume_from``) and runs it (``run``).
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

from geocode.batch import TABLE_SUFFIXES, Table, geocode_table, read_table, write_table
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
#: The folder (under the jobs folder) where submitted jobs wait for a job worker process.
QUEUE = ".queue"


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
    #: What the job does: ``geocode`` or a registered kind (``place``).
    kind: str = "geocode"
    #: The kind's own settings (for ``place``: record kind, source, columns, CRS, scope).
    params: dict[str, Any] = field(default_factory=dict)
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
        self,
        filename: str,
        data: bytes,
        column: str,
        output: str,
        actor: str,
        owner: str = "",
        *,
        kind: str = "geocode",
        params: dict[str, Any] | None = None,
        check: Callable[[Table], None] | None = None,
    ) -> Job:
        """Store an upload as a new queued job; its table is checked at once.

        ``check`` refuses a table the job cannot use (by raising); by default, a geocoding
        job's ``column`` must be in it. A refused upload leaves nothing behind.

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
        job = Job(secrets.token_hex(8), f"input{suffix}", column, f"result{out}", actor, owner,
                  kind=kind, params=params or {})  # fmt: skip
        folder = self._dir(job.id)
        folder.mkdir(parents=True)
        try:
            (folder / job.input_name).write_bytes(data)
            try:
                table = read_table(folder / job.input_name)
            except GeocodeError as exc:
                path = str(folder / job.input_name)
                raise JobInputError(str(exc).replace(path, filename)) from exc
            (check or _has_column(column, filename))(table)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
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

    def enqueue(self, job_id: str) -> None:
        """Leave a note in ``.queue/`` that a job was submitted, for a job worker to take."""
        folder = self.root / QUEUE
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{job_id}.part"
        tmp.write_text(_now(), encoding="utf-8")
        tmp.replace(folder / self._dir(job_id).name)

    def take_queued(self) -> list[str]:
        """Take the notes :meth:`enqueue` left (oldest first): the ids of submitted jobs."""
        folder = self.root / QUEUE
        if not folder.is_dir():
            return []
        notes = sorted(
            (p for p in folder.iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime_ns,
        )
        for note in notes:
            note.unlink(missing_ok=True)
        return [note.name for note in notes]

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


def _has_column(column: str, filename: str) -> Callable[[Table], None]:
    def check(table: Table) -> None:
        if column not in table.columns:
            raise JobInputError(
                f"column {column!r} is not in {filename} (columns: {', '.join(table.columns)})"
            )

    return check


@dataclass
class JobContext:
    """What a handler works with: the job, its folder, its table, a connection, the index."""

    job: Job
    store: JobStore
    table: Table
    conn: psycopg.Connection[Any]
    index: AddressIndex
    #: The first row to work on (rows before it were finished by an earlier attempt).
    start: int = 0

    @property
    def folder(self) -> Path:
        """The job's folder (its input, partial files and result)."""
        return self.store.root / self.job.id

    def progress(self, rows: int) -> None:
        """Count ``rows`` more rows done and save the state."""
        self.job.done_rows += rows
        self.store.save(self.job)


@dataclass(frozen=True)
class JobHandler:
    """How a kind of job runs: ``run`` writes the result file and returns counts.

    ``resume_from`` says, for a job that starts again, the row its finished work ends at.
    """

    run: Callable[[JobContext], dict[str, int]]
    resume_from: Callable[[Path, Job], int]


def _geocode(ctx: JobContext) -> dict[str, int]:
    """Geocode the rows after ``ctx.start`` into ``parts/``, then write the whole result."""
    folder, table = ctx.folder, ctx.table
    header, _, _ = geocode_table(
        ctx.conn, ctx.index, table, ctx.job.column, workers=1, progress=ctx.progress,
        skip=ctx.start, sink=lambda first, rows: _write_part(folder, first, rows),
    )  # fmt: skip
    rows = [row for p in _parts(folder) for row in json.loads(p.read_text("utf-8"))]
    if len(rows) != len(table.rows):
        raise GeocodeError(f"the job's parts hold {len(rows)} rows, not {len(table.rows)}")
    write_table(folder / ctx.job.output, header, rows)
    band = header.index("band")
    shutil.rmtree(folder / "parts", ignore_errors=True)
    return dict(Counter(row[band] for row in rows))


#: The built-in kind: geocoding, resumed after the chunks in ``parts/``.
GEOCODE = JobHandler(_geocode, lambda folder, _: _done_rows(folder))


def run_job(
    store: JobStore,
    job_id: str,
    conn: psycopg.Connection[Any],
    index: AddressIndex,
    handlers: dict[str, JobHandler] | None = None,
) -> Job:
    """Run one job to the end (done or failed); its state on disk follows its progress.

    Work an interrupted attempt finished (``handler.resume_from``) is not done again.
    """
    job = store.get(job_id)
    folder = store.root / job.id
    handler = {"geocode": GEOCODE, **(handlers or {})}.get(job.kind)
    done = handler.resume_from(folder, job) if handler is not None else 0
    job.status, job.started_at, job.done_rows = "running", _now(), done
    job.attempts += 1
    job.resumed_from.append(done)
    store.save(job)
    try:
        if handler is None:
            raise JobInputError(f"no handler runs jobs of kind {job.kind!r}")
        table = read_table(folder / job.input_name)
        job.rows = len(table.rows)
        job.bands = handler.run(JobContext(job, store, table, conn, index, done))
        job.status, job.error = "done", None
    except psycopg.OperationalError as exc:
        # The database went away: the job waits for it and resumes after its last finished
        # chunk (each chunk is written once, atomically, so no row is written twice).
        logger.warning("%s job %s lost the database; it will resume", job.kind, job.id)
        job.error = f"the database was unavailable ({type(exc).__name__})"
        if job.attempts < MAX_ATTEMPTS:
            job.status = "queued"
            store.save(job)
            raise JobInterruptedError(job.id) from exc
        job.status = "failed"
    except Exception as exc:  # a job fails with its reason; the server goes on
        logger.exception("%s job %s failed", job.kind, job.id)
        job.status, job.error = "failed", str(exc) or type(exc).__name__
    job.finished_at = _now()
    store.save(job)
    return job


class FolderQueue:
    """Submits jobs to a job worker in another process (:mod:`api.worker`) through the store."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def submit(self, job_id: str) -> None:
        """Queue a stored job: the worker takes it within a fraction of a second."""
        self.store.enqueue(job_id)


class JobRunner:
    """One background thread that runs queued jobs in order."""

    def __init__(
        self,
        store: JobStore,
        connect: Callable[[], psycopg.Connection[Any]],
        index: Callable[[psycopg.Connection[Any]], AddressIndex],
        handlers: dict[str, JobHandler] | None = None,
    ) -> None:
        self.store = store
        self._connect = connect
        self._index = index
        self._handlers = handlers or {}
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

    def _is_pending(self, job_id: str) -> bool:
        try:
            return self.store.get(job_id).status in ("queued", "running")
        except (JobNotFoundError, ValueError, TypeError, OSError):
            logger.warning("job %s cannot be read; it is not run", job_id)
            return False

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            if not self._is_pending(job_id):
                continue  # queued twice (a restart found it and it was submitted): done once
            try:
                with contextlib.closing(self._connect()) as conn:
                    run_job(self.store, job_id, conn, self._index(conn), self._handlers)
            except (JobInterruptedError, psycopg.OperationalError):
                # The database is away (restarting): try again in a while, in order.
                time.sleep(RETRY_S)
                self._queue.put(job_id)
            except Exception:  # the runner outlives any one job
                logger.exception("job %s could not run", job_id)
