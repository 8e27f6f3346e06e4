"""Connecting to the database: which server, clear errors, version checks.

Every command and the API reach PostgreSQL through :func:`resolve_conninfo` and
:func:`connect`, so ``DATABASE_URL`` is honoured everywhere and the failure messages are
the same everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from twin.db.cluster import LocalCluster
from twin.errors import DatabaseError

if TYPE_CHECKING:
    from twin.settings import TwinSettings

#: PostgreSQL 15: MERGE, ``UNIQUE NULLS NOT DISTINCT`` and faster sorts, used by the schema.
MIN_POSTGRES_VERSION = (15, 0)
#: PostGIS 3.2: ``ST_TileEnvelope`` / ``ST_AsMVT`` (3.0+) and ``ST_MakeValid(geom, params)``
#: (3.2+), which repairs imported polygons without collapsing them to lines.
MIN_POSTGIS_VERSION = (3, 2)

_PASSWORD = re.compile(r"(://[^:/@]+:)([^@]+)(@)|(password\s*=\s*)(\S+)")


def redact(dsn: str) -> str:
    """Hide the password of a connection URL or string.

    Examples
    --------
    >>> redact("postgresql://twin:s3cret@db:5432/twin")
    'postgresql://twin:***@db:5432/twin'
    >>> redact("host=db password=s3cret user=twin")
    'host=db password=*** user=twin'
    """

    def _hide(m: re.Match[str]) -> str:
        if m.group(1):
            return f"{m.group(1)}***{m.group(3)}"
        return f"{m.group(4)}***"

    return _PASSWORD.sub(_hide, dsn)


def local_cluster(settings: TwinSettings) -> LocalCluster:
    """Return the local cluster of the settings' data home."""
    return LocalCluster(settings.home_abs, os_user=settings.db.os_user, port=settings.db.port)


def resolve_conninfo(settings: TwinSettings) -> str:
    """Return the connection string to use: ``DATABASE_URL``, or the local cluster's socket.

    Raises
    ------
    DatabaseError
        When no ``DATABASE_URL`` is set and the local cluster is not running.
    """
    if settings.db.is_external:
        assert settings.db.database_url is not None
        return settings.db.database_url.get_secret_value()
    cluster = local_cluster(settings)
    if not cluster.status().running:
        raise DatabaseError(
            f"the local database of {cluster.home} is not running: start it with `twin db up` "
            "(or set DATABASE_URL to use another server)."
        )
    return cluster.conninfo()


def connect(
    conninfo: str, *, autocommit: bool = False, timeout_s: int = 5
) -> psycopg.Connection[Any]:
    """Open a connection with a clear error when the server cannot be reached.

    Raises
    ------
    DatabaseError
        With one sentence naming the server (password hidden) and what to check.
    """
    try:
        return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=timeout_s)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"cannot connect to the database at {redact(conninfo)}: {reason}. "
            "Check DATABASE_URL, or run `twin db up` for the local database."
        ) from exc
    except psycopg.ProgrammingError as exc:
        raise DatabaseError(
            f"the database address {redact(conninfo)!r} is malformed: {exc}."
        ) from exc


@dataclass(frozen=True)
class ServerInfo:
    """Versions of the server and its PostGIS, as checked at connect time."""

    postgres: str
    postgis: str | None

    def as_dict(self) -> dict[str, str | None]:
        """Return the versions as a dictionary."""
        return {"postgres": self.postgres, "postgis": self.postgis}


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def check_versions(conn: psycopg.Connection[Any], *, need_postgis: bool = True) -> ServerInfo:
    """Check the server against :data:`MIN_POSTGRES_VERSION` and :data:`MIN_POSTGIS_VERSION`.

    PostGIS counts when it is installed in the database, or, before the first migration,
    available to install.

    Raises
    ------
    DatabaseError
        When either is missing or too old.
    """
    num = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
    pg = (num // 10000, num % 10000)
    pg_text = f"{pg[0]}.{pg[1]}"
    if pg < MIN_POSTGRES_VERSION:
        want = ".".join(map(str, MIN_POSTGRES_VERSION))
        raise DatabaseError(f"PostgreSQL {pg_text} is too old: citytwin needs {want} or newer.")
    row = conn.execute(
        "SELECT coalesce(installed_version, default_version) FROM pg_available_extensions "
        "WHERE name = 'postgis'"
    ).fetchone()
    postgis = row[0] if row else None
    if postgis is None:
        if need_postgis:
            raise DatabaseError(
                f"PostGIS is not installed on the server (PostgreSQL {pg_text}): install "
                f"postgresql-{pg[0]}-postgis-3 there."
            )
        return ServerInfo(pg_text, None)
    if _version_tuple(postgis) < MIN_POSTGIS_VERSION:
        want = ".".join(map(str, MIN_POSTGIS_VERSION))
        raise DatabaseError(f"PostGIS {postgis} is too old: citytwin needs {want} or newer.")
    return ServerInfo(pg_text, postgis)
