"""API keys, roles and what each role may do.

A key is ``twin_<key_id>_<secret>``: ``key_id`` (12 hex digits) finds the row, the secret
(256 random bits, URL-safe base64) is checked against its stored SHA-256 in constant time.
The full key is returned once, by :func:`create_key`, and never stored.

Roles (see docs/security.md):

- ``admin``: everything, keys and the audit log included;
- ``supervisor``: verifies addresses, approves merges and retirements, reviews;
- ``grid_worker``: collects and corrects addresses, reviews placements — within the
  community or grid of the key's scope only;
- ``planner``: reads aggregates, tiles and 3D; no individual records;
- ``system``: the geocoding, coding and placement API for other systems, with a rate limit
  and a daily quota.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.errors import TwinError

if TYPE_CHECKING:
    import psycopg

ROLES = ("admin", "supervisor", "grid_worker", "planner", "system")
#: Permission → the roles that have it. Every route names one permission (api/auth.py).
PERMISSIONS: dict[str, frozenset[str]] = {
    # Maps, 3D, aggregates, the classification, standard addresses (no individuals).
    "read": frozenset(ROLES),
    # Geocode texts and points, read coded entities.
    "geocode": frozenset({"admin", "supervisor", "grid_worker", "system"}),
    # Create and change addresses, add aliases, save corrections (grid workers: in scope).
    "edit_addresses": frozenset({"admin", "supervisor", "grid_worker"}),
    # Retire, merge and verify addresses.
    "verify_addresses": frozenset({"admin", "supervisor"}),
    # Code geographic entities.
    "code": frozenset({"admin", "supervisor", "system"}),
    # Place records (people, companies, events) into blocks (grid workers: in scope).
    "place": frozenset({"admin", "supervisor", "grid_worker", "system"}),
    # Individual records (people, companies, events) and their review.
    "records": frozenset({"admin", "supervisor", "grid_worker"}),
    # Background jobs (geocoding files).
    "jobs": frozenset({"admin", "supervisor", "grid_worker", "system"}),
    # Keys and the audit log.
    "admin": frozenset({"admin"}),
}
#: Defaults of a system key.
SYSTEM_RATE_PER_MINUTE = 1_200
SYSTEM_QUOTA_PER_DAY = 1_000_000
_KEY = re.compile(r"^twin_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class AuthError(TwinError):
    """Root of the access errors."""


class NotAuthenticatedError(AuthError):
    """No key, an unknown, expired or revoked key (HTTP 401)."""


class ForbiddenError(AuthError):
    """The key's role or scope does not allow this (HTTP 403)."""


class RateLimitedError(AuthError):
    """The key used up its rate or quota (HTTP 429)."""


class KeyInputError(AuthError, ValueError):
    """A key to create is malformed (role, scope, expiry)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: the key's id, name, role and scope."""

    key_id: str
    name: str
    role: str
    scope_code: str | None = None
    rate_per_minute: int | None = None
    quota_per_day: int | None = None

    @property
    def actor(self) -> str:
        """The name written to the audit log: ``name (role, key id)``."""
        return f"{self.name} ({self.role}, {self.key_id})"

    def can(self, permission: str) -> bool:
        """Whether the role has a permission."""
        return self.role in PERMISSIONS.get(permission, frozenset())

    def covers(self, *codes: str | None) -> bool:
        """Whether a block (community, grid, building or room code) lies in the key's scope.

        Keys without a scope cover everything; a scoped key covers a code that starts with
        its scope (a community's grids, buildings and rooms share its 12 digits).

        Examples
        --------
        >>> p = Principal("0" * 12, "w", "grid_worker", "440306017001")
        >>> p.covers("44030601700101"), p.covers("440306017002"), p.covers(None)
        (True, False, False)
        """
        if self.scope_code is None:
            return True
        return any(c is not None and c.startswith(self.scope_code) for c in codes)

    def check_scope(self, *codes: str | None) -> None:
        """Raise :class:`ForbiddenError` when no code lies in the key's scope."""
        if not self.covers(*codes):
            shown = next((c for c in codes if c), "an unplaced record")
            raise ForbiddenError(f"{shown} is outside this key's scope ({self.scope_code})")


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_key(
    conn: psycopg.Connection[Any],
    *,
    name: str,
    role: str,
    created_by: str,
    scope_code: str | None = None,
    expires_at: dt.datetime | None = None,
    rate_per_minute: int | None = None,
    quota_per_day: int | None = None,
) -> tuple[str, Principal]:
    """Create a key; return the full key (shown once) and its principal. The caller commits.

    Raises
    ------
    KeyInputError
        For an unknown role, a grid worker without a scope, an unknown scope code, or an
        expiry in the past.
    """
    if role not in ROLES:
        raise KeyInputError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role == "grid_worker" and not scope_code:
        raise KeyInputError("a grid worker's key needs --scope COMMUNITY_OR_GRID_CODE")
    if scope_code is not None:
        found = conn.execute(
            "SELECT level FROM twin.admin_unit WHERE code = %s", (scope_code,)
        ).fetchone()
        if found is None or found[0] not in ("community", "grid", "street", "district"):
            raise KeyInputError(f"scope {scope_code} is no district, street, community or grid")
    if expires_at is not None and expires_at <= dt.datetime.now(dt.UTC):
        raise KeyInputError("the expiry is in the past")
    if role == "system":
        rate_per_minute = rate_per_minute or SYSTEM_RATE_PER_MINUTE
        quota_per_day = quota_per_day or SYSTEM_QUOTA_PER_DAY
    key_id = secrets.token_hex(6)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    conn.execute(
        "INSERT INTO twin.api_key (key_id, secret_sha256, name, role, scope_code, "
        "rate_per_minute, quota_per_day, created_by, expires_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (key_id, _sha256(secret), name.strip(), role, scope_code, rate_per_minute,
         quota_per_day, created_by, expires_at),
    )  # fmt: skip
    principal = Principal(key_id, name.strip(), role, scope_code, rate_per_minute, quota_per_day)
    return f"twin_{key_id}_{secret}", principal


def verify_key(conn: psycopg.Connection[Any], key: str) -> Principal:
    """Return the principal of a valid key.

    Raises
    ------
    NotAuthenticatedError
        For a malformed, unknown, revoked or expired key (one message for all: a caller learns
        nothing about which keys exist).
    """
    found = _KEY.match(key.strip())
    refused = NotAuthenticatedError("invalid, revoked or expired API key")
    if found is None:
        raise refused
    key_id, secret = found.groups()
    row = conn.execute(
        "SELECT secret_sha256, name, role, scope_code, rate_per_minute, quota_per_day "
        "FROM twin.api_key WHERE key_id = %s AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR expires_at > now())",
        (key_id,),
    ).fetchone()
    if row is None or not hmac.compare_digest(row[0], _sha256(secret)):
        raise refused
    return Principal(key_id, row[1], row[2], row[3], row[4], row[5])


def list_keys(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every key's public fields (never a secret or its hash), newest first."""
    rows = conn.execute(
        "SELECT key_id, name, role, scope_code, rate_per_minute, quota_per_day, created_by, "
        "created_at, expires_at, revoked_at FROM twin.api_key ORDER BY created_at DESC, id DESC"
    )
    names = [d.name for d in rows.description or []]
    return [dict(zip(names, r, strict=True)) for r in rows.fetchall()]


def revoke_key(conn: psycopg.Connection[Any], key_id: str) -> bool:
    """Revoke a key; return False when it was revoked already. The caller commits.

    Raises
    ------
    KeyInputError
        When no key has this id.
    """
    row = conn.execute(
        "UPDATE twin.api_key SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = %s "
        "RETURNING revoked_at = now()",
        (key_id,),
    ).fetchone()
    if row is None:
        raise KeyInputError(f"no API key has id {key_id!r}")
    return bool(row[0])
