"""Matching many texts: each distinct normalised text once, over worker processes.

Files of people repeat addresses: every resident of a flat gives the same one. A batch is
matched once per distinct text (:func:`match_many`), and texts that normalise alike share the
answer (a copy with their own input and warnings: :func:`~geocode.match.match` depends on
nothing else). :class:`MatchPool` forks its worker processes once, after the index is loaded,
so each worker holds the index without loading or receiving it; batches are submitted ahead
and collected later, so the caller can store one batch while the next is matched.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from geocode.match import MAX_CHARS, MatchResult, match
from geocode.normalize import normalize

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from geocode.index import AddressIndex

#: Distinct texts below which a batch is matched in the calling process.
POOL_FROM = 1_000
#: Pieces per worker a batch is cut into (smaller pieces even out the workers' loads).
PIECES_PER_WORKER = 2
_INDEX: AddressIndex | None = None  # set before the workers fork; read-only in them


def match_many(index: AddressIndex, texts: Sequence[str]) -> list[MatchResult]:
    """Match texts in order, each distinct normalised text once.

    Examples
    --------
    >>> from geocode.index import AddressIndex
    >>> a, b, c = match_many(AddressIndex(), ["", "  ", "x" * 1001])
    >>> a.reason, b.reason, c.reason
    ('empty address', 'empty address', 'too long for an address (1001 characters)')
    """
    first: dict[tuple[str, bool], MatchResult] = {}
    out = []
    for text in texts:
        norm = normalize(text[: MAX_CHARS * 5])
        key = (norm.text, len(text) > MAX_CHARS * 5)
        seen = first.get(key) if norm.text else None
        if seen is None:
            result = match(index, text, norm)
            if norm.text:
                first[key] = result
        else:  # the same answer for its own text
            result = dataclasses.replace(seen, input=text, warnings=list(norm.warnings))
        out.append(result)
    return out


#: A result without its details, as a worker sends it back (pickling a whole result, with
#: its explanation and candidates, costs as much as matching the text).
Brief = tuple[str, str | None, str | None, float, str, str | None, list[str]]


def _match_piece(texts: list[str], details: bool) -> list[MatchResult] | list[Brief]:
    assert _INDEX is not None
    results = match_many(_INDEX, texts)
    if details:
        return results
    return [(r.normalized, r.code, r.level, r.confidence, r.band, r.reason, r.warnings)
            for r in results]  # fmt: skip


def _unbrief(texts: list[str], answers: list[Any]) -> list[MatchResult]:
    if not answers or isinstance(answers[0], MatchResult):
        return answers
    pairs = zip(texts, answers, strict=True)
    return [MatchResult(t, n, code, level, conf, band, reason, warnings=w)
            for t, (n, code, level, conf, band, reason, w) in pairs]  # fmt: skip


class MatchPool:
    """Match batches of texts over ``workers`` processes forked once with the index.

    Use it as a context manager, entered before any other thread starts (forking copies only
    the calling thread). ``workers=1`` matches in the calling process.
    """

    def __init__(self, index: AddressIndex, workers: int = 2, *, details: bool = True) -> None:
        self.index = index
        self.workers = workers
        #: Whether results carry their elements, explanation and candidates (placement reads
        #: only the code, level, confidence, band and reason: leaving the rest in the workers
        #: halves the cost of a row).
        self.details = details
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> MatchPool:
        global _INDEX
        if self.workers > 1:
            _INDEX = self.index
            gc.freeze()  # the index stays shared: the collector would touch (copy) its pages
            ctx = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
            self._pool.submit(len, []).result()  # fork now, while this is the only thread
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        global _INDEX
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            gc.unfreeze()
        _INDEX = None

    def submit(self, texts: Sequence[str]) -> Callable[[], list[MatchResult]]:
        """Start matching ``texts``; return a function that waits for the results, in order."""
        distinct = list(dict.fromkeys(texts))
        if self._pool is None or len(distinct) < POOL_FROM:
            here = match_many(self.index, distinct)
            return lambda: _spread(texts, distinct, here)
        size = -(-len(distinct) // (self.workers * PIECES_PER_WORKER))
        pieces = [distinct[i : i + size] for i in range(0, len(distinct), size)]
        futures = [self._pool.submit(_match_piece, p, self.details) for p in pieces]

        def wait() -> list[MatchResult]:
            done = zip(pieces, futures, strict=True)
            return _spread(texts, distinct, [r for p, f in done for r in _unbrief(p, f.result())])

        return wait

    def __call__(self, texts: Sequence[str]) -> list[MatchResult]:
        """Match ``texts`` and wait for the results, in order."""
        return self.submit(texts)()


def _spread(
    texts: Sequence[str], distinct: list[str], results: list[MatchResult]
) -> list[MatchResult]:
    """Give every text its distinct text's result, a copy after the first.

    Callers may set a row's own ``reason`` on its result.
    """
    by_text = dict(zip(distinct, results, strict=True))
    used: set[str] = set()
    out = []
    for text in texts:
        result = by_text[text]
        out.append(dataclasses.replace(result) if text in used else result)
        used.add(text)
    return out
