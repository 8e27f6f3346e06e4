"""Helpers shared by the subcommands: settings and database connections."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from twin.db.connect import check_versions, connect, resolve_conninfo
from twin.db.migrate import check_compatible
from twin.settings import TwinSettings

if TYPE_CHECKING:
    from collections.abc import Iterator

    import psycopg


def settings() -> TwinSettings:
    """Read the settings from the environment (the command line is a composition root)."""
    return TwinSettings()


@contextlib.contextmanager
def database(
    cfg: TwinSettings | None = None, *, autocommit: bool = False, actor: str = "cli"
) -> Iterator[psycopg.Connection[Any]]:
    """Connect to the configured database, check its versions and schema, and close after.

    The session's ``twin.actor`` names who makes the changes, for the audit log.
    """
    cfg = cfg or settings()
    conn = connect(resolve_conninfo(cfg), autocommit=autocommit, timeout_s=cfg.db.connect_timeout_s)
    try:
        check_versions(conn)
        check_compatible(conn)
        conn.execute("SELECT set_config('twin.actor', %s, false)", (actor,))
        if not autocommit:
            conn.commit()
        yield conn
    finally:
        conn.close()
