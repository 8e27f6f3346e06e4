"""The job worker: runs the server's background jobs in a process of their own.

A job (geocoding or placing a large file) is CPU-bound Python. Run in a thread of the server
process, it competes with every request for the interpreter lock and the event loop, and the
server's tail latency doubles while it runs. ``twin serve`` therefore starts this worker as a
child process (``python -m api.worker``), restarts it when it dies and stops it with the
server; the application then only stores a submitted job and leaves a note for the worker
(:class:`geocode.jobs.FolderQueue`).

The worker runs the same :class:`geocode.jobs.JobRunner` as the in-process mode, so a job is
as durable as before: it re-queues what was queued or running when it last stopped, resumes
after the last finished chunk, and waits for a database that went away. One worker at a time
holds the data home's jobs (a lock file), and a worker whose server was killed ends with it
(the parent-death signal, and its parent's pid checked a few times a second).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import fcntl
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

import psycopg

from api.main import database_conninfo
from blocks.placement.jobs import PLACE_JOB
from geocode.index import add_new_aliases, library_time, load_index
from geocode.jobs import JobRunner, JobStore
from twin.settings import JOB_WORKER_PARENT_ENV, TwinSettings

if TYPE_CHECKING:
    from geocode.index import AddressIndex

logger = logging.getLogger("citytwin.jobs")
#: Seconds between two looks for submitted jobs (and at the parent process).
POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


class WorkerIndex:
    """The geocoder's index, loaded at the first job; later jobs first learn new aliases.

    The server process teaches its own index each correction as it is saved; this process
    reads the corrections (and any other aliases) stored since its last job instead.
    """

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.index: AddressIndex | None = None
        #: The database's time of the library the index holds.
        self.as_of: dt.datetime | None = None

    def __call__(self, conn: psycopg.Connection[Any]) -> AddressIndex:
        """Return the index, up to date with the stored aliases."""
        if self.index is None or self.as_of is None:
            # One snapshot for the library and its time: no alias stored meanwhile is missed.
            with psycopg.connect(self.conninfo) as load:
                load.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                self.as_of = library_time(load)
                self.index = load_index(load)
        else:
            self.as_of = add_new_aliases(conn, self.index, self.as_of)
            conn.commit()
        return self.index


def _die_with_parent(parent: int) -> None:
    """Ask Linux to end this process when its parent ends (best effort elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the signal was asked for
        os._exit(0)


def _lock(store: JobStore) -> int:
    """Hold the data home's job lock (wait for a worker that is still ending)."""
    store.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(store.root / ".worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def run_worker(settings: TwinSettings, parent: int | None = None) -> None:
    """Run jobs until stopped (SIGTERM) or until the parent process ``parent`` is gone."""
    if parent is not None:
        _die_with_parent(parent)
    store = JobStore(settings.home_abs / "jobs")
    _lock(store)
    conninfo = database_conninfo(settings)
    runner = JobRunner(
        store, lambda: psycopg.connect(conninfo), WorkerIndex(conninfo), {"place": PLACE_JOB}
    )
    runner.start()
    logger.info("job worker %s runs the jobs of %s", os.getpid(), store.root)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        for job_id in store.take_queued():
            runner.submit(job_id)
        if parent is not None and os.getppid() != parent:
            break
        stop.wait(POLL_S)
    # A running job is not waited for: it resumes after its last finished chunk next time.
    os._exit(0)


def main() -> None:
    """``python -m api.worker``: the job worker of ``twin serve``."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parent = os.environ.get(JOB_WORKER_PARENT_ENV)
    try:
        run_worker(TwinSettings(), int(parent) if parent else None)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
