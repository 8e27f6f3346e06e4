"""``twin keys``: create, list and revoke API keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)


@app.command()
def create(
    role: Annotated[str, typer.Option(help="admin, supervisor, grid_worker, planner or system.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key (for the audit log).")],
    scope: Annotated[
        str | None, typer.Option(help="Community or grid code (required for grid_worker).")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Expire after this many days.")] = None,
    rate: Annotated[int | None, typer.Option(min=1, help="Requests a minute (system).")] = None,
    quota: Annotated[int | None, typer.Option(min=1, help="Requests a day (system).")] = None,
) -> None:
    """Create a key and print it: it is shown this once and stored only as a hash."""
    from twin.cli.common import database
    from twin.keys import create_key

    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days) if days else None
    with database(actor="twin keys create") as conn:
        key, principal = create_key(
            conn, name=name, role=role, created_by="twin keys create", scope_code=scope,
            expires_at=expires, rate_per_minute=rate, quota_per_day=quota,
        )  # fmt: skip
        conn.commit()
    typer.echo(key)
    typer.echo(
        f"key {principal.key_id}: {principal.role}"
        + (f" in {principal.scope_code}" if principal.scope_code else "")
        + (f", expires {expires:%Y-%m-%d}" if expires else "")
        + " — store it now: it cannot be shown again",
        err=True,
    )


@app.command("list")
def list_() -> None:
    """List the keys (id, name, role, scope, created, expiry, revoked); never the secrets."""
    from twin.cli.common import database
    from twin.keys import list_keys

    with database(actor="twin keys list") as conn:
        keys = list_keys(conn)
    for k in keys:
        state = "revoked" if k["revoked_at"] else "active"
        expiry = f" expires {k['expires_at']:%Y-%m-%d}" if k["expires_at"] else ""
        scope = f" scope {k['scope_code']}" if k["scope_code"] else ""
        typer.echo(f"{k['key_id']}  {k['role']:<11} {state:<7} {k['name']}{scope}{expiry}")


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="The 12-digit key id.")]) -> None:
    """Revoke a key (servers stop accepting it within 30 seconds)."""
    from twin.cli.common import database
    from twin.keys import revoke_key

    with database(actor="twin keys revoke") as conn:
        changed = revoke_key(conn, key_id)
        conn.commit()
    typer.echo(f"key {key_id} revoked" if changed else f"key {key_id} was revoked already")
