"""The local cluster's life cycle: idempotent up, stale pid, ports, ownership, locale."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import pytest

from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.errors import ClusterError


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> LocalCluster:
    home = tmp_path_factory.mktemp("home")
    c = LocalCluster(home)
    yield c
    c.destroy()


@pytest.mark.db
def test_up_twice_is_idempotent_and_status_says_where(cluster: LocalCluster) -> None:
    first = cluster.up()
    second = cluster.up()
    assert first.running and second.running
    assert first.pid == second.pid
    assert first.port == second.port
    with contextlib.closing(connect(cluster.conninfo(), autocommit=True)) as conn:
        row = conn.execute(
            "SELECT datctype, pg_encoding_to_char(encoding) FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone()
        assert row == ("C.UTF-8", "UTF8")
        # Under LC_CTYPE=C trigrams would see no Chinese characters at all.
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        trgm = conn.execute("SELECT similarity('宝安区新安街道', '宝安区新安')").fetchone()
        assert trgm is not None and trgm[0] > 0.3
        assert conn.execute("SHOW jit").fetchone() == ("off",)
        port = conn.execute("SHOW port").fetchone()
        assert port == (str(first.port),)


@pytest.mark.db
def test_tcp_url_needs_the_generated_password(cluster: LocalCluster) -> None:
    cluster.up()
    url = cluster.url()
    with contextlib.closing(connect(url, autocommit=True)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    bad = url.replace(url.split(":")[2].split("@")[0], "wrong")
    with pytest.raises(Exception, match=r"password authentication failed|cannot connect"):
        connect(bad)


@pytest.mark.db
def test_up_survives_a_stale_pid_file(cluster: LocalCluster) -> None:
    cluster.up()
    assert cluster.down()
    pidfile = cluster.data_dir / "postmaster.pid"
    # A pid that is alive but is no PostgreSQL server (this test process), as after a reboot.
    pidfile.write_text(f"{os.getpid()}\n{cluster.data_dir}\n")
    status = cluster.up()
    assert status.running and status.pid != os.getpid()


@pytest.mark.db
def test_down_stops_only_its_own_server(tmp_path_factory: pytest.TempPathFactory) -> None:
    a = LocalCluster(tmp_path_factory.mktemp("a"))
    b = LocalCluster(tmp_path_factory.mktemp("b"))
    try:
        a.up()
        b.up()
        assert a.port != b.port
        assert a.down()
        assert not a.status().running
        assert b.status().running
        assert not a.down()  # stopping twice is fine
    finally:
        a.destroy()
        b.destroy()


@pytest.mark.db
def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        c = LocalCluster(tmp_path / "home", port=port)
        try:
            with pytest.raises(ClusterError, match=rf"port {port} is in use"):
                c.up()
        finally:
            c.destroy()


@pytest.mark.db
def test_a_remembered_port_taken_meanwhile_moves_to_a_free_one(cluster: LocalCluster) -> None:
    cluster.up()
    old = cluster.port
    cluster.down()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", old))
        busy.listen()
        again = LocalCluster(cluster.home)
        status = again.up()
        assert status.running and status.port != old
        again.down()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a folder owned by another user")
def test_data_folder_of_another_user_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    c = LocalCluster(home)
    c.data_dir.mkdir(parents=True)  # owned by root, but the server runs as `postgres`
    with pytest.raises(ClusterError, match="belongs to root"):
        c.up()


def test_missing_postgis_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A PostgreSQL installation without the PostGIS package: its share folder has no
    # postgis.control.
    bindir = tmp_path / "pg" / "bin"
    bindir.mkdir(parents=True)
    share = tmp_path / "pg" / "share"
    (share / "extension").mkdir(parents=True)
    for tool in ("initdb", "pg_ctl"):
        (bindir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bindir / tool).chmod(0o755)
    (bindir / "pg_config").write_text(f"#!/bin/sh\necho {share}\n")
    (bindir / "pg_config").chmod(0o755)
    monkeypatch.setenv("TWIN_PG_BINDIR", str(bindir))
    with pytest.raises(ClusterError, match="PostGIS is not installed"):
        LocalCluster(tmp_path / "home").up()


def test_missing_postgresql_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twin.db import cluster as cluster_module

    monkeypatch.setenv("TWIN_PG_BINDIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(cluster_module, "Path", _NoSystemPostgres)
    monkeypatch.setattr(cluster_module.shutil, "which", lambda _name: None)
    with pytest.raises(ClusterError, match="PostgreSQL 15 is not installed"):
        cluster_module.find_bindir()


class _NoSystemPostgres(type(Path())):  # type: ignore[misc]
    """A Path that pretends /usr/lib/postgresql does not exist."""

    def is_dir(self) -> bool:
        return False if str(self) == "/usr/lib/postgresql" else super().is_dir()


@pytest.mark.db
def test_up_waits_for_a_server_still_starting_after_pg_ctl_gives_up(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.up()
    pid = cluster.status().pid
    assert pid is not None
    os.kill(pid, 9)  # an unclean stop: the next start replays the log first
    monkeypatch.setattr(cluster, "start_wait", 0)  # pg_ctl gives up at once
    status = cluster.up()
    assert status.running and status.pid != pid
    with contextlib.closing(connect(cluster.conninfo(), autocommit=True)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
