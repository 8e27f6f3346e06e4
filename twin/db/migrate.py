"""Schema migrations: ordered SQL files with a version table.

Each file ``twin/db/migrations/NNNN_name.sql`` is one version. ``migrate`` applies the
pending ones in order, each in its own transaction, under an advisory lock so that two
processes never migrate at once. ``twin.schema_migrations`` records the version, the name
and a checksum of every applied file: an applied file that was edited afterwards, or a
database of a newer schema than this code knows, stops the migration with a clear message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from twin.errors import DatabaseError, SchemaVersionError

if TYPE_CHECKING:
    import psycopg

#: Any constant; two processes migrating at once wait for each other on it.
_LOCK_KEY = 0x7477696E  # "twin"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS twin;
CREATE TABLE IF NOT EXISTS twin.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def available() -> list[Migration]:
    """Return the migrations shipped with this code, in order."""
    found: list[Migration] = []
    for entry in resources.files("twin.db").joinpath("migrations").iterdir():
        m = _FILE.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if versions != list(range(1, len(found) + 1)):
        raise DatabaseError(f"migration files are not numbered 1..n without gaps: {versions}")
    return found


def head() -> int:
    """Return the newest schema version this code knows."""
    return available()[-1].version


def current_version(conn: psycopg.Connection[Any]) -> int:
    """Return the database's schema version (0 for a database never migrated)."""
    exists = conn.execute("SELECT to_regclass('twin.schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM twin.schema_migrations").fetchone()
    return int(row[0]) if row else 0


def check_compatible(conn: psycopg.Connection[Any]) -> int:
    """Fail when the database's schema is newer than this code; return its version."""
    version = current_version(conn)
    if version > head():
        raise SchemaVersionError(
            f"the database has schema version {version}, newer than this citytwin knows "
            f"({head()}): upgrade citytwin, or point DATABASE_URL at another database."
        )
    return version


def _verify_applied(conn: psycopg.Connection[Any], known: dict[int, Migration]) -> None:
    rows = conn.execute("SELECT version, name, checksum FROM twin.schema_migrations").fetchall()
    for version, name, checksum in rows:
        mig = known.get(version)
        if mig is not None and mig.checksum != checksum:
            raise SchemaVersionError(
                f"migration {version:04d}_{name}.sql was changed after it was applied: "
                "never edit an applied migration; add a new one."
            )


def migrate(conn: psycopg.Connection[Any], target: int | None = None) -> list[Migration]:
    """Apply the pending migrations up to ``target`` (default: all); return those applied.

    The connection must be in autocommit mode: each migration gets its own transaction.

    Raises
    ------
    SchemaVersionError
        When the database is newer than this code or an applied file was edited.
    DatabaseError
        When a migration fails; its transaction is rolled back and nothing of it remains.
    """
    import psycopg

    migrations = available()
    goal = head() if target is None else target
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_BOOTSTRAP)
    applied: list[Migration] = []
    for mig in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            current = check_compatible(conn)
            _verify_applied(conn, {m.version: m for m in migrations})
            if mig.version <= current or mig.version > goal:
                continue
            try:
                conn.execute(mig.sql.encode("utf-8"))
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"migration {mig.version:04d}_{mig.name}.sql failed and was rolled back: {exc}"
                ) from exc
            conn.execute(
                "INSERT INTO twin.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (mig.version, mig.name, mig.checksum),
            )
            applied.append(mig)
    return applied
