"""``twin db``: the project's own PostGIS cluster, or the server named by ``DATABASE_URL``."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

import typer

from twin.cli.common import settings
from twin.db import migrate as migrations
from twin.db.cluster import DB_NAME
from twin.db.connect import check_versions, connect, local_cluster, redact, resolve_conninfo
from twin.errors import DatabaseError

app = typer.Typer(
    help="Run and migrate the database (local PostGIS cluster or DATABASE_URL).",
    no_args_is_help=True,
)

NoMigrate = Annotated[bool, typer.Option("--no-migrate", help="Do not apply migrations.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _migrate(conninfo: str) -> list[str]:
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        check_versions(conn, need_postgis=True)
        return [f"{m.version:04d}_{m.name}" for m in migrations.migrate(conn)]


@app.command()
def up(no_migrate: NoMigrate = False) -> None:
    """Create (once) and start the local cluster, then apply migrations; safe to run twice."""
    cfg = settings()
    if cfg.db.is_external:
        conninfo = resolve_conninfo(cfg)
        typer.echo(f"DATABASE_URL is set: using {redact(conninfo)} (nothing to start).")
    else:
        cluster = local_cluster(cfg)
        was_running = cluster.status().running
        st = cluster.up()
        verb = "already running" if was_running else "started"
        typer.echo(
            f"local PostGIS {verb}: pid {st.pid}, 127.0.0.1:{st.port}, "
            f"socket {st.socket_dir}, data {st.root}"
        )
        conninfo = cluster.conninfo()
    if not no_migrate:
        applied = _migrate(conninfo)
        typer.echo(f"schema: applied {', '.join(applied)}" if applied else "schema: up to date")


@app.command()
def down() -> None:
    """Stop the local cluster of this data home (never any other server)."""
    cfg = settings()
    if cfg.db.is_external:
        typer.echo("DATABASE_URL is set: citytwin does not stop outside servers.")
        return
    stopped = local_cluster(cfg).down()
    typer.echo("local PostGIS stopped." if stopped else "local PostGIS was not running.")


def _server_facts(conninfo: str) -> dict[str, Any]:
    try:
        with contextlib.closing(connect(conninfo, autocommit=True, timeout_s=3)) as conn:
            info = check_versions(conn, need_postgis=False)
            return {
                "reachable": True,
                **info.as_dict(),
                "schema_version": migrations.current_version(conn),
                "schema_head": migrations.head(),
            }
    except DatabaseError as exc:
        return {"reachable": False, "error": str(exc)}


@app.command()
def status(as_json: AsJson = False) -> None:
    """Say what is running where: the local cluster or DATABASE_URL, versions, schema."""
    cfg = settings()
    if cfg.db.is_external:
        conninfo = resolve_conninfo(cfg)
        facts: dict[str, Any] = {
            "mode": "external",
            "url": redact(conninfo),
            **_server_facts(conninfo),
        }
    else:
        cluster = local_cluster(cfg)
        st = cluster.status()
        facts = {"mode": "local", **st.as_dict()}
        if st.running:
            facts.update(_server_facts(cluster.conninfo()))
    if as_json:
        typer.echo(json.dumps(facts, ensure_ascii=False, indent=2))
        return
    for line in _status_lines(facts):
        typer.echo(line)


def _status_lines(facts: dict[str, Any]) -> list[str]:
    if facts["mode"] == "external":
        lines = [f"database: DATABASE_URL {facts['url']}"]
    elif not facts["initialised"]:
        return [f"local PostGIS: not created yet under {facts['home']} (run `twin db up`)"]
    elif not facts["running"]:
        return [f"local PostGIS: stopped (data {facts['root']}; run `twin db up`)"]
    else:
        lines = [
            f"local PostGIS: running, pid {facts['pid']}, as {facts['os_user']}",
            f"  listening: 127.0.0.1:{facts['port']} and socket {facts['socket_dir']}",
            f"  data: {facts['root']}",
            f"  log: {facts['log_file']}",
        ]
    if facts.get("reachable"):
        lines.append(f"  PostgreSQL {facts['postgres']}, PostGIS {facts['postgis'] or 'missing'}")
        lines.append(
            f"  schema version {facts['schema_version']} (this citytwin: {facts['schema_head']})"
        )
    elif "error" in facts:
        lines.append(f"  unreachable: {facts['error']}")
    return lines


@app.command()
def url(
    socket: Annotated[
        bool,
        typer.Option(
            "--socket", help="Print libpq key=value over the Unix socket instead of a TCP URL."
        ),
    ] = False,
) -> None:
    """Print the database URL (with its password: treat the output as a secret)."""
    cfg = settings()
    if cfg.db.is_external:
        typer.echo(resolve_conninfo(cfg))
        return
    cluster = local_cluster(cfg)
    typer.echo(cluster.conninfo() if socket else cluster.url())


@app.command("migrate")
def migrate_cmd(
    target: Annotated[int | None, typer.Option(help="Stop at this schema version.")] = None,
) -> None:
    """Apply pending migrations (never loses data; refuses a database newer than this code)."""
    conninfo = resolve_conninfo(settings())
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        check_versions(conn)
        applied = migrations.migrate(conn, target)
        version = migrations.current_version(conn)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied)
    typer.echo(
        f"applied {names}; schema version {version}"
        if applied
        else f"schema version {version}: up to date"
    )


@app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: every table is emptied.")] = False,
) -> None:
    """Drop everything citytwin stored and rebuild an empty schema."""
    if not yes:
        typer.confirm("This deletes every table citytwin stored. Continue?", abort=True)
    cfg = settings()
    if cfg.db.is_external:
        conninfo = resolve_conninfo(cfg)
        with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
            conn.execute("DROP SCHEMA IF EXISTS twin CASCADE")
    else:
        cluster = local_cluster(cfg)
        cluster.up()
        with contextlib.closing(connect(cluster.conninfo("postgres"), autocommit=True)) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conninfo = cluster.create_database(DB_NAME)
    applied = _migrate(conninfo)
    typer.echo(f"database reset; schema version {len(applied)}")
