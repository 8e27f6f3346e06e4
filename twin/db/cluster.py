"""The project's own PostgreSQL + PostGIS cluster, under the data home.

``twin db up`` creates the cluster once (``initdb``), then starts it; it is idempotent and
survives a stale ``postmaster.pid``. When citytwin runs as root the cluster runs as an
unprivileged user (``postgres`` by default), because ``initdb`` and ``postgres`` refuse root.

Layout under the data home (``.twin/`` by default)::

    .twin/cluster.json      where the cluster lives, its port (written by the invoking user)
    .twin/pg/data/          the PostgreSQL data folder
    .twin/pg/run/           the Unix socket
    .twin/pg/postgres.log   the server log

When the unprivileged user cannot reach the data home (a private temporary folder, say),
the ``pg/`` folder goes to ``/var/tmp/citytwin-<hash of the data home>/`` instead, and
``twin db status`` says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from twin.db.tuning import render_conf
from twin.errors import ClusterError

log = logging.getLogger("citytwin.db")

#: The PostgreSQL major version the local cluster is created with; newer majors also work.
PG_MAJOR = 15
#: The database and the (superuser) role the local cluster creates.
DB_NAME = "twin"
DB_USER = "twin"
#: A Unix socket path may hold at most 107 bytes on Linux; keep a margin for the file name.
_MAX_SOCKET_DIR = 90


@dataclass(frozen=True)
class ClusterStatus:
    """What ``twin db status`` reports about the local cluster."""

    home: str
    root: str
    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    socket_dir: str
    os_user: str
    log_file: str

    def as_dict(self) -> dict[str, Any]:
        """Return the status as a plain dictionary (for JSON output)."""
        return asdict(self)


def find_bindir() -> Path:
    """Find the PostgreSQL server programs (``initdb``, ``pg_ctl``), newest major first.

    Raises
    ------
    ClusterError
        When no PostgreSQL server of version 15 or newer is installed.
    """
    env = os.environ.get("TWIN_PG_BINDIR")
    candidates = [Path(env)] if env else []
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        majors = sorted((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name))
        candidates += [p / "bin" for p in majors if int(p.name) >= PG_MAJOR]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "pg_ctl").is_file():
            return cand
    raise ClusterError(
        f"PostgreSQL {PG_MAJOR} is not installed: run `make install` "
        f"(or `apt-get install postgresql-{PG_MAJOR} postgresql-{PG_MAJOR}-postgis-3`), "
        "or set DATABASE_URL to use another server."
    )


def check_postgis_installed(bindir: Path) -> None:
    """Fail with a clear sentence when the server has no PostGIS extension files."""
    out = subprocess.run(
        [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    )
    sharedir = Path(out.stdout.strip()) if out.returncode == 0 else bindir.parent / "share"
    candidates = [
        sharedir / "extension",
        Path(f"/usr/share/postgresql/{bindir.parent.name}/extension"),
    ]
    if not any((c / "postgis.control").is_file() for c in candidates):
        major = bindir.parent.name
        raise ClusterError(
            f"PostGIS is not installed for PostgreSQL {major}: run `make install` "
            f"(or `apt-get install postgresql-{major}-postgis-3`)."
        )


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port``.

    PostgreSQL listens with ``SO_REUSEADDR``, so a port whose old connections linger in
    TIME_WAIT (after a restart) is free to it: the check does the same, and a restarted cluster
    keeps its port, which clients and running jobs know.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_is_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline or b"postmaster" in cmdline


class LocalCluster:
    """The local PostgreSQL cluster of one data home.

    Parameters
    ----------
    home
        The data home (``.twin`` by default); created when missing.
    os_user
        The user that runs the server when the caller is root.
    port
        A port asked for explicitly; an error is raised when it is taken.
    """

    #: Seconds pg_ctl waits for the server to accept connections.
    start_wait = 60
    #: Seconds to wait beyond that for a server still starting (replaying its log).
    recovery_wait = 1800

    def __init__(self, home: Path, os_user: str = "postgres", port: int | None = None) -> None:
        self.home = home.expanduser().resolve()
        self.state_file = self.home / "cluster.json"
        self._asked_port = port
        self._as_root = os.geteuid() == 0
        self.os_user = os_user if self._as_root else pwd.getpwuid(os.geteuid()).pw_name
        state = self._read_state()
        self.root = Path(state["root"]) if "root" in state else self.home / "pg"
        self.port: int | None = port or state.get("port")

    # -- paths -----------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The PostgreSQL data folder."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's Unix socket."""
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        """The server's log file."""
        return self.root / "postgres.log"

    @property
    def password_file(self) -> Path:
        """The generated password of the ``twin`` role, for TCP connections (mode 600)."""
        return self.home / "db-password"

    # -- state -----------------------------------------------------------------
    def _read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ClusterError(f"cannot read {self.state_file}: {exc}; remove the file.") from exc
        return data if isinstance(data, dict) else {}

    def _write_state(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        state = {"root": str(self.root), "port": self.port, "os_user": self.os_user}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        tmp.replace(self.state_file)

    # -- running commands as the server's user -----------------------------------
    def _user_ids(self) -> tuple[int, int, str]:
        try:
            entry = pwd.getpwnam(self.os_user)
        except KeyError as exc:
            raise ClusterError(
                f"user {self.os_user!r} does not exist, and the database cannot run as root: "
                "install PostgreSQL (it creates the `postgres` user) or set TWIN_DB_OS_USER."
            ) from exc
        return entry.pw_uid, entry.pw_gid, entry.pw_dir

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
        if self._as_root:
            uid, gid, pw_dir = self._user_ids()
            kwargs.update(user=uid, group=gid, extra_groups=[])
            env["HOME"] = pw_dir
        proc = subprocess.run(
            args, capture_output=True, text=True, env=env, cwd="/", check=False, **kwargs
        )
        if check and proc.returncode != 0:
            raise self._failed(proc)
        return proc

    def _failed(self, proc: subprocess.CompletedProcess[str]) -> ClusterError:
        """Return the error for a failed program: its name, its last line, the log's path."""
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        tail = detail[-1] if detail else f"exit code {proc.returncode}"
        return ClusterError(f"{Path(proc.args[0]).name} failed: {tail} (log: {self.log_file}).")

    def _give_to_server_user(self, path: Path) -> None:
        if self._as_root:
            uid, gid, _ = self._user_ids()
            os.chown(path, uid, gid)

    def _server_user_can_write(self, path: Path) -> bool:
        if not self._as_root:
            return os.access(path, os.W_OK | os.X_OK)
        return (
            self._run(["test", "-w", str(path), "-a", "-x", str(path)], check=False).returncode == 0
        )

    def _choose_root(self) -> None:
        """Put the cluster under the home, or a fallback the server's user can reach."""
        if self.data_dir.exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        candidate = self.home / "pg"
        candidate.mkdir(exist_ok=True)
        self._give_to_server_user(candidate)
        too_long = len(str(candidate / "run")) > _MAX_SOCKET_DIR
        if too_long or not self._server_user_can_write(candidate):
            digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
            candidate = Path("/var/tmp") / f"citytwin-{digest}"
            candidate.mkdir(mode=0o700, exist_ok=True)
            self._give_to_server_user(candidate)
        self.root = candidate

    # -- life cycle --------------------------------------------------------------
    def is_initialised(self) -> bool:
        """Whether ``initdb`` has run for this data home."""
        return (self.data_dir / "PG_VERSION").is_file()

    def status(self) -> ClusterStatus:
        """Report whether the cluster exists and runs, and where."""
        pid = self._running_pid() if self.is_initialised() else None
        return ClusterStatus(
            home=str(self.home),
            root=str(self.root),
            initialised=self.is_initialised(),
            running=pid is not None,
            pid=pid,
            port=self.port,
            socket_dir=str(self.socket_dir),
            os_user=self.os_user,
            log_file=str(self.log_file),
        )

    def _running_pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            first = pidfile.read_text(encoding="utf-8").splitlines()[0]
            pid = int(first.strip())
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid if _pid_is_postgres(pid) else None

    def up(self) -> ClusterStatus:
        """Create the cluster when needed, start it when stopped; safe to call twice."""
        bindir = find_bindir()
        check_postgis_installed(bindir)
        self._choose_root()
        self._check_ownership()
        if not self.is_initialised():
            self._initdb(bindir)
        if self._running_pid() is None:
            self._clear_stale_pid()
            self._pick_port()
            self._write_conf()
            self._write_state()
            started = self._run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(self.start_wait),
                    "start",
                ],
                check=False,
            )
            if started.returncode != 0:
                self._wait_until_ready(bindir, started)
        self._write_state()
        self._ensure_database()
        return self.status()

    def _wait_until_ready(self, bindir: Path, started: subprocess.CompletedProcess[str]) -> None:
        """Wait for a server that pg_ctl gave up on but that is still starting.

        After an unclean stop PostgreSQL first replays its write-ahead log, which can take
        longer than pg_ctl waits; the server keeps going, so wait for it (up to
        ``recovery_wait`` seconds) instead of failing. A server that is gone fails with the
        last line of pg_ctl's answer and the log's path.
        """
        deadline = time.monotonic() + self.recovery_wait
        gone_since: float | None = None  # the pid file may not be written yet
        announced = False
        while time.monotonic() < deadline:
            if self._running_pid() is None:
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since > 5:
                    break
                time.sleep(0.2)
                continue
            gone_since = None
            isready = [str(bindir / "pg_isready"), "-q", "-h", str(self.socket_dir)]
            ready = self._run([*isready, "-p", str(self.port)], check=False)
            if ready.returncode == 0:
                return
            if not announced:
                log.warning("PostgreSQL is still starting (replaying its log?): waiting")
                announced = True
            time.sleep(0.5)
        raise self._failed(started)

    def down(self) -> bool:
        """Stop this data home's server (and no other); return whether one was running."""
        if not self.is_initialised() or self._running_pid() is None:
            return False
        bindir = find_bindir()
        self._run([str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        return True

    def destroy(self) -> None:
        """Stop the server and delete the whole cluster (every database in it)."""
        self.down()
        shutil.rmtree(self.root, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)
        self.password_file.unlink(missing_ok=True)

    # -- steps of ``up`` -----------------------------------------------------------
    def _check_ownership(self) -> None:
        if not self.data_dir.exists():
            return
        owner_uid = self.data_dir.stat().st_uid
        want_uid = self._user_ids()[0] if self._as_root else os.geteuid()
        if owner_uid != want_uid:
            try:
                owner = pwd.getpwuid(owner_uid).pw_name
            except KeyError:
                owner = str(owner_uid)
            raise ClusterError(
                f"the data folder {self.data_dir} belongs to {owner}, but the server must run as "
                f"{self.os_user}: use another TWIN_HOME, or `chown -R {self.os_user} {self.root}`."
            )

    def _initdb(self, bindir: Path) -> None:
        password = secrets.token_urlsafe(24)
        self.home.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text(password + "\n", encoding="utf-8")
        self.password_file.chmod(0o600)
        pwfile = self.root / "initdb-password"
        pwfile.write_text(password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        self._give_to_server_user(pwfile)
        try:
            # C.UTF-8: byte-order collation (fast, stable) while the character type knows
            # Chinese; under LC_CTYPE=C, pg_trgm and lower()/regex classes see no CJK letters.
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    DB_USER,
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _clear_stale_pid(self) -> None:
        """Remove a ``postmaster.pid`` whose process is gone or is not a PostgreSQL server."""
        pidfile = self.data_dir / "postmaster.pid"
        if pidfile.exists() and self._running_pid() is None:
            pidfile.unlink()
        if self.socket_dir.is_dir():
            for lock in self.socket_dir.glob(".s.PGSQL.*.lock"):
                lock.unlink(missing_ok=True)

    def _pick_port(self) -> None:
        if self._asked_port is not None:
            if not _port_is_free(self._asked_port):
                raise ClusterError(
                    f"port {self._asked_port} is in use by another program: "
                    "choose another TWIN_DB_PORT, or unset it to let citytwin pick a free one."
                )
            self.port = self._asked_port
        elif self.port is None or not _port_is_free(self.port):
            self.port = _free_port()

    def _write_conf(self) -> None:
        assert self.port is not None
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self._give_to_server_user(self.socket_dir)
        conf = self.data_dir / "citytwin.conf"
        conf.write_text(render_conf(self.port, self.socket_dir), encoding="utf-8")
        self._give_to_server_user(conf)
        main = self.data_dir / "postgresql.conf"
        text = main.read_text(encoding="utf-8")
        include = "include_if_exists = 'citytwin.conf'"
        if include not in text:
            main.write_text(text + f"\n# citytwin's own settings\n{include}\n", encoding="utf-8")

    def conninfo(self, dbname: str = DB_NAME) -> str:
        """Return a libpq connection string over the Unix socket."""
        if self.port is None:
            raise ClusterError("the local database has never been started: run `twin db up`.")
        return f"host={self.socket_dir} port={self.port} user={DB_USER} dbname={dbname}"

    def url(self, dbname: str = DB_NAME) -> str:
        """Return a ``postgresql://`` URL over TCP with the generated password."""
        if self.port is None:
            raise ClusterError("the local database has never been started: run `twin db up`.")
        try:
            password = self.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ClusterError(f"cannot read {self.password_file}: {exc}") from exc
        return f"postgresql://{DB_USER}:{password}@127.0.0.1:{self.port}/{dbname}"

    def _ensure_database(self, dbname: str = DB_NAME) -> None:
        import psycopg

        with contextlib.closing(
            psycopg.connect(self.conninfo("postgres"), autocommit=True)
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if exists.fetchone() is None:
                from psycopg import sql

                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

    def create_database(self, dbname: str) -> str:
        """Create a database in this cluster when missing; return its connection string."""
        self._ensure_database(dbname)
        return self.conninfo(dbname)
