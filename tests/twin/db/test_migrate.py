"""Migrations: apply in order, upgrade without losing data, refuse newer or edited schemas."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.errors import DatabaseError, SchemaVersionError

from ...conftest import drop_database, recreate_database

pytestmark = pytest.mark.db


@pytest.fixture
def scratch(pg_cluster: LocalCluster) -> Iterator[str]:
    name = "twin_migrate_scratch"
    yield recreate_database(pg_cluster, name)
    drop_database(pg_cluster, name)


def test_fresh_database_migrates_to_head_and_twice_is_a_no_op(scratch: str) -> None:
    with contextlib.closing(connect(scratch, autocommit=True)) as conn:
        assert migrations.current_version(conn) == 0
        applied = migrations.migrate(conn)
        assert [m.version for m in applied] == list(range(1, migrations.head() + 1))
        assert migrations.migrate(conn) == []
        assert migrations.current_version(conn) == migrations.head()


def test_upgrade_keeps_existing_data(scratch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with contextlib.closing(connect(scratch, autocommit=True)) as conn:
        migrations.migrate(conn)
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name) "
            "VALUES ('440306', 'district', '宝安区')"
        )
        shipped = migrations.available()
        extra = migrations.Migration(
            len(shipped) + 1,
            "add_population",
            "ALTER TABLE twin.admin_unit ADD COLUMN population integer;",
        )
        monkeypatch.setattr(migrations, "available", lambda: [*shipped, extra])
        applied = migrations.migrate(conn)
        assert [m.name for m in applied] == ["add_population"]
        row = conn.execute("SELECT name, population FROM twin.admin_unit").fetchone()
        assert row == ("宝安区", None)


def test_a_newer_database_is_refused_with_a_clear_message(scratch: str) -> None:
    with contextlib.closing(connect(scratch, autocommit=True)) as conn:
        migrations.migrate(conn)
        conn.execute("INSERT INTO twin.schema_migrations VALUES (999, 'future', 'x')")
        with pytest.raises(SchemaVersionError, match="schema version 999, newer than"):
            migrations.migrate(conn)


def test_an_edited_migration_is_refused(scratch: str) -> None:
    with contextlib.closing(connect(scratch, autocommit=True)) as conn:
        migrations.migrate(conn)
        conn.execute("UPDATE twin.schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(SchemaVersionError, match="changed after it was applied"):
            migrations.migrate(conn)


def test_a_failing_migration_leaves_nothing_behind(
    scratch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with contextlib.closing(connect(scratch, autocommit=True)) as conn:
        migrations.migrate(conn)
        shipped = migrations.available()
        broken = migrations.Migration(
            len(shipped) + 1,
            "broken",
            "CREATE TABLE twin.half_done (id int); SELECT no_such_function();",
        )
        monkeypatch.setattr(migrations, "available", lambda: [*shipped, broken])
        with pytest.raises(DatabaseError, match="failed and was rolled back"):
            migrations.migrate(conn)
        assert conn.execute("SELECT to_regclass('twin.half_done')").fetchone() == (None,)
        assert migrations.current_version(conn) == len(shipped)
