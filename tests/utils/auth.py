"""API keys for tests: create one in a test database and return its request headers."""

from __future__ import annotations

import contextlib

from twin.db.connect import connect
from twin.keys import create_key


def key_headers(
    conninfo: str, role: str = "admin", scope: str | None = None, name: str = "test"
) -> dict[str, str]:
    """Create (and commit) a key; return ``{"Authorization": "Bearer <key>"}``."""
    with contextlib.closing(connect(conninfo)) as conn:
        key, _ = create_key(conn, name=name, role=role, created_by="tests", scope_code=scope)
        conn.commit()
    return {"Authorization": f"Bearer {key}"}
