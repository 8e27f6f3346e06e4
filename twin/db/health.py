"""A quick health probe of the database, for ``/healthz`` and ``twin db status``."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from twin.db.connect import MIN_POSTGIS_VERSION, MIN_POSTGRES_VERSION
from twin.db.migrate import head

_FACTS = """
SELECT current_setting('server_version'),
       (SELECT extversion FROM pg_extension WHERE extname = 'postgis'),
       CASE WHEN to_regclass('twin.schema_migrations') IS NULL THEN 0
            ELSE (SELECT coalesce(max(version), 0) FROM twin.schema_migrations) END
"""


async def probe(pool: AsyncConnectionPool[Any], timeout_s: float = 2.0) -> dict[str, Any]:
    """Return reachability, versions and the schema version; never raises for a down database."""
    try:
        async with pool.connection(timeout=timeout_s) as conn:
            cur = await conn.execute(_FACTS)
            row = await cur.fetchone()
    except (PoolTimeout, psycopg.Error) as exc:
        return {"reachable": False, "error": f"database unreachable: {type(exc).__name__}"}
    assert row is not None
    postgres, postgis, schema = row
    return {
        "reachable": True,
        "postgres": postgres,
        "postgis": postgis,
        "schema_version": int(schema),
        "schema_head": head(),
        "schema_ok": int(schema) == head() and postgis is not None,
        "minimums": {
            "postgres": ".".join(map(str, MIN_POSTGRES_VERSION)),
            "postgis": ".".join(map(str, MIN_POSTGIS_VERSION)),
        },
    }
