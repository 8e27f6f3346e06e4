"""Entity coding as the command line and the API use it.

:func:`code_entities` codes a batch: checks every row (:mod:`blocks.coding.prepare`), then
codes the good rows in one transaction through an :class:`EntityRepository`, retrying the
whole batch when a concurrent batch got in the way, and answers one
:class:`~blocks.coding.model.CodingResult` per input row, in input order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import random
import re
import time
from typing import TYPE_CHECKING, Any

from blocks.coding.classes import read_classes
from blocks.coding.model import FORMS, LINK_KINDS, BatchOptions, CodingResult, EntityItem
from blocks.coding.prepare import prepare
from blocks.coding.repository import PgEntityRepository
from blocks.errors import (
    CodingConflictError,
    CodingInputError,
    EntityClassError,
    EntityNotFoundError,
    LinkError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    import psycopg

    from blocks.coding.classes import EntityClass
    from blocks.coding.model import CodeForm, Entity, EntityLink, StoredOutcome
    from blocks.coding.repository import EntityRepository

logger = logging.getLogger(__name__)
#: Attempts at a batch that keeps clashing with concurrent batches.
MAX_ATTEMPTS = 5
#: A relation is a lower-case word: owner, operator, occupant, address, reported_on...
_RELATION = re.compile(r"^[a-z][a-z_]{0,39}$")


def load_classes(conn: psycopg.Connection[Any], path: Path | None = None) -> int:
    """Load the classification file into ``twin.entity_class``; return the number of classes.

    Raises
    ------
    EntityClassError
        When the file breaks a rule (see :func:`blocks.coding.classes.read_classes`).
    """
    return PgEntityRepository(conn).store_classes(read_classes(path))


def list_classes(conn: psycopg.Connection[Any], level: str | None = None) -> list[EntityClass]:
    """Return the loaded classes (of one level, if given), in code order."""
    return [c for c in PgEntityRepository(conn).classes() if level in (None, c.level)]


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds its many small objects.

    The objects hold no cycles; without the pause, collections triggered by the allocations
    rescan every live object again and again and cost about 40 % of the checks.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _merge(
    items: Sequence[EntityItem],
    problems: dict[int, Any],
    class_of: dict[int, str | None],
    stored: dict[int, StoredOutcome],
) -> list[CodingResult]:
    out = []
    for item in items:
        result = CodingResult(item.row, "rejected", class_code=class_of.get(item.row))
        result.source_id = (item.source_id or "").strip() or None
        result.problems = list(problems.get(item.row, []))
        done = stored.get(item.row)
        if done is not None:
            result.status, result.code = done.status, done.code
            result.previous_code, result.community_code = done.previous_code, done.community_code
            if done.problem is not None:
                result.problems.append(done.problem)
        out.append(result)
    return out


def code_with(
    repo: EntityRepository,
    items: Sequence[EntityItem],
    class_code: str | None,
    options: BatchOptions,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[CodingResult]:
    """Code a batch through any repository; see :func:`code_entities`."""
    if options.form not in FORMS:
        raise CodingInputError(f"unknown code form {options.form!r}: use one of {FORMS}")
    classes = {c.code: c for c in repo.classes()}
    if not classes:
        raise EntityClassError(
            "the entity classification is not loaded: run `twin entity classes --load`"
        )
    with _no_cycle_collection():
        prepared = prepare(items, class_code, classes)
    for attempt in range(1, max_attempts + 1):
        try:
            stored = repo.code_batch(prepared.staged, options) if prepared.staged else []
            break
        except CodingConflictError as exc:
            if attempt == max_attempts:
                raise
            logger.info("coding batch attempt %d clashed, retrying: %s", attempt, exc)
            time.sleep(random.uniform(0.05, 0.2) * attempt)  # jitter: retries spread out
    with _no_cycle_collection():
        beidou = {r.row: r.beidou_code for r in prepared.staged}
        done = {s.row: s for s in stored}
        results = _merge(items, prepared.problems, prepared.class_of, done)
        for r in results:
            r.beidou_code = beidou.get(r.row)
    return results


def code_entities(
    conn: psycopg.Connection[Any],
    items: Sequence[EntityItem],
    class_code: str | None,
    form: CodeForm = "admin",
    actor: str = "system",
    *,
    source: str = "import",
    options: BatchOptions | None = None,
) -> list[CodingResult]:
    """Code a batch of geographic entities; one result per item, in order.

    Parameters
    ----------
    conn
        An open connection. With no transaction open, the batch runs in its own, committed
        on return; inside one (any earlier statement opens one unless in autocommit mode),
        it runs in a savepoint and the caller commits.
    items
        Geometries in WGS84 with row numbers, optional source ids, classes and names.
    class_code
        The minor class of items that name none (e.g. ``"3101"``, residential building).
    form
        ``"admin"`` (community + class + serial) or ``"beidou"`` (Beidou cell + class + serial).
    actor
        Who codes, for the audit log.
    source
        The system the source ids come from: ids are unique within a source.
    options
        Tolerances and the like; ``form``, ``actor`` and ``source`` above win over its fields.

    Returns
    -------
    list of CodingResult
        ``new``, ``existing``, ``updated`` (same code, geometry edited), ``recoded`` (moved to
        another community or class: new code, ``previous_code`` retired) or ``rejected`` with
        the problems (field and sentence).

    Raises
    ------
    EntityClassError
        When the classification is not loaded.
    CodingConflictError
        When concurrent batches kept clashing with this one ``MAX_ATTEMPTS`` times.
    """
    opts = dataclasses.replace(options or BatchOptions(), form=form, source=source, actor=actor)
    return code_with(PgEntityRepository(conn), items, class_code, opts)


def get_entity(conn: psycopg.Connection[Any], code: str) -> Entity:
    """Return an entity (retired ones too, with their successors) and its links."""
    return PgEntityRepository(conn).get_entity(code)


def _check_target(repo: EntityRepository, kind: str, target: int | str) -> dict[str, Any]:
    if kind not in LINK_KINDS:
        raise LinkError(f"cannot link an entity to a {kind!r}: use one of {LINK_KINDS}")
    if kind == "address":
        key: dict[str, Any] = {"record_id": None, "address_code": str(target)}
    else:
        try:
            key = {"record_id": int(target), "address_code": None}
        except ValueError as exc:
            raise LinkError(f"a {kind} is linked by its numeric id, not {target!r}") from exc
    if not repo.record_exists(kind, key["address_code"] or key["record_id"]):
        raise LinkError(f"no {kind.replace('_', ' ')} {target} exists to link to")
    return key


def link_entity(
    conn: psycopg.Connection[Any],
    entity_code: str,
    kind: str,
    target: int | str,
    *,
    relation: str = "related",
    actor: str = "system",
) -> EntityLink:
    """Link an active entity to a person, legal entity, event (id) or address (code).

    Linking twice is harmless: the existing link is returned. The caller commits.

    Raises
    ------
    EntityNotFoundError
        When the entity does not exist.
    LinkError
        When it is retired, the kind is unknown, or the record does not exist.
    """
    repo = PgEntityRepository(conn)
    entity = repo.get_entity(entity_code)
    if entity.status != "active":
        succ = ", ".join(entity.successor_codes) or "none"
        raise LinkError(f"entity {entity_code} is retired (successors: {succ}): link those")
    key = _check_target(repo, kind, target)
    rel = relation.strip().lower()
    if not _RELATION.match(rel):
        raise LinkError(f"relation {relation!r} must be a lower-case word (owner, occupant...)")
    return repo.add_link(
        {"entity_code": entity_code, "record_kind": kind, "relation": rel, "created_by": actor}
        | key
    )


def unlink_entity(conn: psycopg.Connection[Any], link_id: int) -> None:
    """Remove a link. The caller commits.

    Raises
    ------
    EntityNotFoundError
        When no link has this id.
    """
    if not PgEntityRepository(conn).remove_link(link_id):
        raise EntityNotFoundError(f"no entity link has id {link_id}")


def linked_entities(
    conn: psycopg.Connection[Any], kind: str, target: int | str
) -> list[EntityLink]:
    """Links from entities to one person, legal entity, event or address."""
    if kind not in LINK_KINDS:
        raise LinkError(f"unknown record kind {kind!r}: use one of {LINK_KINDS}")
    key = {"address_code": str(target)} if kind == "address" else {"record_id": int(target)}
    return PgEntityRepository(conn).links({"record_kind": kind} | key)
