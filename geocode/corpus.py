"""Readers of the two labelled address corpora, and entity-level scoring.

The corpora are not part of the project (no licence to redistribute them): training and the
benchmark read them from ``../shared/eval`` beside the project, when it exists.

- CCKS 2021: ``ccks2021-addr-parsing/ccks2021_{train,dev}.jsonl.gz`` with
  ``{text, spans: [{label, start, end, text}]}``; digits are masked to 0.
- NAACL 2019: ``naacl2019-addr-parsing/{train,dev,test}.txt``, one token and its BIO tag per
  line (a token may be several characters: ``602``, ``47-6``), a blank line between addresses.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twin.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from geocode.labels import Scheme

#: ``../shared/eval`` beside the project.
DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
CCKS_DIR = "ccks2021-addr-parsing"
NAACL_DIR = "naacl2019-addr-parsing"

Span = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled address: its text and its spans ``(start, end, label)``."""

    text: str
    spans: tuple[Span, ...]


def corpus_path(scheme: Scheme, split: str, eval_dir: Path | None = None) -> Path:
    """Return the file of a corpus split.

    Parameters
    ----------
    scheme
        ``ccks`` or ``naacl``.
    split
        ``train``, ``dev`` or (NAACL only) ``test``.
    eval_dir
        The folder of the corpora (default ``../shared/eval``).
    """
    root = eval_dir or DEFAULT_EVAL_DIR
    if scheme == "ccks":
        return root / CCKS_DIR / f"ccks2021_{split}.jsonl.gz"
    return root / NAACL_DIR / f"{split}.txt"


def read_split(scheme: Scheme, split: str, eval_dir: Path | None = None) -> list[Example]:
    """Read one split of a corpus.

    Raises
    ------
    ConfigError
        When the file is not there.
    """
    path = corpus_path(scheme, split, eval_dir)
    if not path.exists():
        raise ConfigError(f"the {scheme} {split} split is not at {path}")
    if scheme == "ccks":
        return read_ccks_jsonl(path)
    return read_naacl(path)


def read_ccks_jsonl(path: Path) -> list[Example]:
    """Read a CCKS 2021 ``.jsonl.gz`` file."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                spans = tuple((s["start"], s["end"], s["label"]) for s in row["spans"])
                out.append(Example(row["text"], spans))
    return out


def read_naacl(path: Path) -> list[Example]:
    """Read a NAACL 2019 token-per-line file; labels are lower-cased (``devZone`` → ``devzone``)."""
    out: list[Example] = []
    tokens: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            if not line.strip():
                if tokens:
                    out.append(_naacl_example(tokens))
                tokens = []
                continue
            token, _, tag = line.rpartition(" ")
            tokens.append((token, tag))
    if tokens:
        out.append(_naacl_example(tokens))
    return out


def _naacl_example(tokens: list[tuple[str, str]]) -> Example:
    text = ""
    spans: list[list[int | str]] = []
    for token, tag in tokens:
        prefix, _, label = tag.partition("-")
        label = label.lower()
        start = len(text)
        text += token
        if prefix == "I" and spans and spans[-1][2] == label and spans[-1][1] == start:
            spans[-1][1] = len(text)
        elif prefix in ("B", "I"):
            spans.append([start, len(text), label])
    return Example(text, tuple((int(a), int(b), str(c)) for a, b, c in spans))


@dataclass(frozen=True, slots=True)
class Score:
    """Entity-level precision, recall and F1 (exact span and label)."""

    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        """Share of predicted spans that are right."""
        return self.true_pos / max(1, self.true_pos + self.false_pos)

    @property
    def recall(self) -> float:
        """Share of gold spans that were found."""
        return self.true_pos / max(1, self.true_pos + self.false_neg)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(gold: Iterable[Iterable[Span]], predicted: Iterable[Iterable[Span]]) -> Score:
    """Score predicted spans against gold spans, address by address.

    Examples
    --------
    >>> s = score([[(0, 3, "prov"), (3, 6, "city")]], [[(0, 3, "prov"), (3, 5, "city")]])
    >>> s.true_pos, s.false_pos, s.false_neg, round(s.f1, 2)
    (1, 1, 1, 0.5)
    """
    tp = fp = fn = 0
    for g, p in zip(gold, predicted, strict=True):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    return Score(tp, fp, fn)
