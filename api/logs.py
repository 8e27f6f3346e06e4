"""Logs that never carry personal data.

Query strings hold what users typed (addresses with phone numbers, names, ID numbers) and API
keys (``?api_key=``): the access log keeps only the path and says that a query was there.
"""

from __future__ import annotations

import logging


class QueryRedactingFilter(logging.Filter):
    """Replace the query string of uvicorn's access-log lines with ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the path argument (uvicorn passes client, method, path, version, status)."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, sep, _ = args[2].partition("?")
            if sep:
                record.args = (*args[:2], f"{path}?…", *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger (once)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryRedactingFilter) for f in logger.filters):
        logger.addFilter(QueryRedactingFilter())
