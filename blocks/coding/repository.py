"""Storage of entity coding: the :class:`EntityRepository` protocol and its PostGIS implementation.

Callers (the service, the command line, later the API) depend on the protocol. The PostGIS
repository receives an open connection, never reads settings, and runs a coding batch in one
transaction of its own (a savepoint when the caller already has a transaction open).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from blocks.coding import batch
from blocks.coding.classes import EntityClass
from blocks.coding.model import Entity, EntityLink
from blocks.errors import BlockStoreError, CodingConflictError, EntityNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from blocks.coding.model import BatchOptions, StagedRow, StoredOutcome

#: The table holding each kind of linked record, and its key column.
RECORD_TABLES = {
    "person": ("person", "id"),
    "legal_entity": ("legal_entity", "id"),
    "event": ("event", "id"),
    "address": ("address", "code"),
}
_LINK_COLUMNS = (
    "id, entity_code, record_kind, record_id, address_code, relation, created_by, created_at"
)
#: Errors that mean "a concurrent batch got in the way": the whole batch is worth retrying.
_RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.UniqueViolation)


class EntityRepository(Protocol):
    """Where entities, their classes, codes and links are kept."""

    def classes(self) -> list[EntityClass]:
        """Return every class, in code order."""
        ...

    def store_classes(self, classes: Sequence[EntityClass]) -> int:
        """Insert or update classes (never delete one); return how many were written."""
        ...

    def code_batch(self, rows: Sequence[StagedRow], options: BatchOptions) -> list[StoredOutcome]:
        """Code checked rows in one transaction; raise CodingConflictError to be retried."""
        ...

    def get_entity(self, code: str) -> Entity:
        """Return one entity with its links."""
        ...

    def record_exists(self, kind: str, key: int | str) -> bool:
        """Whether a person, legal entity, event (by id) or address (by code) exists."""
        ...

    def add_link(self, link: dict[str, Any]) -> EntityLink:
        """Store a link (or return the identical one already stored)."""
        ...

    def remove_link(self, link_id: int) -> bool:
        """Delete a link; return whether it existed."""
        ...

    def links(self, where: dict[str, Any]) -> list[EntityLink]:
        """Links whose columns equal the given values."""
        ...


class PgEntityRepository:
    """:class:`EntityRepository` in PostGIS (``twin.geo_entity``, ``twin.entity_class``...)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def classes(self) -> list[EntityClass]:
        """Return every class, in code order."""
        rows = self.conn.execute(
            "SELECT code, level, parent_code, name_zh, name_en, geometry_type "
            "FROM twin.entity_class ORDER BY code"
        ).fetchall()
        return [EntityClass(*r) for r in rows]

    def store_classes(self, classes: Sequence[EntityClass]) -> int:
        """Insert or update classes, parents first; never delete one (codes may use it)."""
        order = {"major": 0, "medium": 1, "minor": 2}
        rows = sorted(classes, key=lambda c: (order[c.level], c.code))
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO twin.entity_class AS c (code, level, parent_code, name_zh, "
                "name_en, geometry_type) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (code) DO UPDATE SET level = excluded.level, "
                "parent_code = excluded.parent_code, name_zh = excluded.name_zh, "
                "name_en = excluded.name_en, geometry_type = excluded.geometry_type",
                [
                    (c.code, c.level, c.parent_code, c.name_zh, c.name_en, c.geometry_type)
                    for c in rows
                ],
            )
        return len(rows)

    def code_batch(self, rows: Sequence[StagedRow], options: BatchOptions) -> list[StoredOutcome]:
        """Code the rows in one transaction (or savepoint).

        Raises
        ------
        CodingConflictError
            When a concurrent batch deadlocked with this one or coded the same entity first;
            the transaction was rolled back and the batch can run again.
        BlockStoreError
            For any other refusal of the database, with its first line.
        """
        try:
            with self.conn.transaction():
                return batch.run_batch(self.conn, rows, options)
        except _RETRYABLE as exc:
            raise CodingConflictError(f"a concurrent batch got in the way: {exc}") from exc
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BlockStoreError(f"coding a batch of {len(rows)} entities: {first}") from exc

    def get_entity(self, code: str) -> Entity:
        """Return one entity with its links.

        Raises
        ------
        EntityNotFoundError
            When no entity has this code.
        """
        row = self.conn.execute(
            "SELECT code, class_code, community_code, name, source, source_id, status, "
            "coalesce(successor_codes, '{}'), beidou_code, ST_AsText(geom), created_at, "
            "retired_at FROM twin.geo_entity WHERE code = %s",
            (code,),
        ).fetchone()
        if row is None:
            raise EntityNotFoundError(f"no geographic entity has code {code}")
        entity = Entity(*row)
        entity.links = self.links({"entity_code": code})
        return entity

    def record_exists(self, kind: str, key: int | str) -> bool:
        """Whether a person, legal entity, event (by id) or address (by code) exists."""
        table, column = RECORD_TABLES[kind]
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM twin.{} WHERE {} = %s)").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        row = self.conn.execute(query, (key,)).fetchone()
        return bool(row and row[0])

    def add_link(self, link: dict[str, Any]) -> EntityLink:
        """Store a link, or return the identical one already stored."""
        params = {
            k: link.get(k)
            for k in ("entity_code", "record_kind", "record_id", "address_code", "relation")
        }
        params["created_by"] = link["created_by"]
        row = self.conn.execute(
            "INSERT INTO twin.entity_link (entity_code, record_kind, record_id, address_code, "
            "relation, created_by) VALUES (%(entity_code)s, %(record_kind)s, %(record_id)s, "
            "%(address_code)s, %(relation)s, %(created_by)s) "
            f"ON CONFLICT DO NOTHING RETURNING {_LINK_COLUMNS}",
            params,
        ).fetchone()
        if row is not None:
            return EntityLink(*row)
        where = {k: v for k, v in params.items() if k != "created_by"}
        return self.links(where)[0]

    def remove_link(self, link_id: int) -> bool:
        """Delete a link; return whether it existed."""
        return (
            self.conn.execute("DELETE FROM twin.entity_link WHERE id = %s", (link_id,)).rowcount > 0
        )

    def links(self, where: dict[str, Any]) -> list[EntityLink]:
        """Links whose columns equal the given values (``None`` matches NULL)."""
        tests = [
            sql.SQL("{} IS NOT DISTINCT FROM {}").format(sql.Identifier(k), sql.Placeholder(k))
            for k in where
        ]
        query = sql.SQL("SELECT {} FROM twin.entity_link WHERE {} ORDER BY id").format(
            sql.SQL(_LINK_COLUMNS), sql.SQL(" AND ").join(tests) if tests else sql.SQL("true")
        )
        return [EntityLink(*r) for r in self.conn.execute(query, where).fetchall()]
