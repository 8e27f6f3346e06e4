"""Train the parser's CRF models: ``python -m geocode.train``.

Reads the ``train`` split of each corpus from ``../shared/eval`` (never ``test``), tunes
nothing on ``test``, scores the full parser on ``dev`` and writes into ``geocode/models/``:

- ``ccks.crfsuite`` + ``ccks.json`` and ``naacl.crfsuite`` + ``naacl.json`` (the model and its
  metadata: training data, date, features, parameters, dev scores);
- ``gazetteer.tsv.gz``, the names behind the gazetteer features, when ``--names`` is given:
  China's provinces, cities, districts (and streets, when the folder has ``streets.csv``) from
  the china-division tables (WTFPL), plus Shenzhen's streets and communities from
  ``data/admin``.

The corpora are not redistributable: only the derived models are written to the project.
The two models train in parallel, one per core, in a few minutes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geocode.corpus import DEFAULT_EVAL_DIR, Example, corpus_path, read_split, score
from geocode.crf import (
    FEATURE_GROUPS,
    FEATURE_VERSION,
    GAZETTEER_FILE,
    MODEL_DIR,
    CrfModel,
    char_features,
    load_gazetteer,
    spans_to_tags,
)
from geocode.labels import SCHEMES, to_label
from geocode.lexicon import admin_lexicon, read_admin_names
from geocode.normalize import Normalized, normalize
from geocode.parse import AddressParser

if TYPE_CHECKING:
    from geocode.labels import Scheme

#: CRFsuite L-BFGS settings: L1 keeps the model small, L2 smooths.
DEFAULT_PARAMS: dict[str, Any] = {
    "c1": 0.1,
    "c2": 0.005,
    "max_iterations": 150,
    "feature.possible_transitions": True,
}
#: Feature groups per scheme, as measured on dev (docs/geocoder.md): the repeat, number and
#: context groups help NAACL (+0.5 F1: redundant names, dash-chained numbers) and cost CCKS
#: about as much.
SCHEME_GROUPS: dict[str, tuple[str, ...]] = {
    "ccks": ("chars", "suffix", "gazetteer"),
    "naacl": FEATURE_GROUPS,
}
_NON_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def build_gazetteer(names_dir: Path, out: Path) -> int:
    """Write the feature gazetteer from the china-division tables and ``data/admin``.

    Parameters
    ----------
    names_dir
        A folder with ``provinces.csv``, ``cities.csv``, ``areas.csv`` and optionally
        ``streets.csv`` (columns ``code,name,...``).
    out
        The ``.tsv.gz`` file to write.

    Returns
    -------
    int
        The number of names written.
    """
    rows: set[tuple[str, str]] = set()
    for level, file in (
        ("province", "provinces.csv"),
        ("city", "cities.csv"),
        ("district", "areas.csv"),
        ("street", "streets.csv"),
    ):
        path = names_dir / file
        if path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                rows |= {(level, r["name"].strip()) for r in csv.DictReader(fh)}
    rows |= set(read_admin_names())
    rows = {(level, name) for level, name in rows if name not in _NON_NAMES and len(name) >= 2}
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        for level, name in sorted(rows):
            fh.write(f"{level}\t{name}\n")
    return len(rows)


def to_normalized(example: Example) -> tuple[Normalized, list[tuple[int, int, str]]]:
    """Normalise an example's text and move its gold spans onto the normalised text.

    A normalised character belongs to the gold span that holds its first original character.
    """
    norm = normalize(example.text, strip_relative=False)
    spans = []
    for start, end, label in example.spans:
        inside = [i for i, s in enumerate(norm.starts) if start <= s < end]
        if inside:
            spans.append((inside[0], inside[-1] + 1, label))
    spans.sort()
    clean: list[tuple[int, int, str]] = []
    for span in spans:
        if not clean or span[0] >= clean[-1][1]:
            clean.append(span)
    return norm, clean


def train_one(
    scheme: Scheme,
    eval_dir: Path,
    out_dir: Path,
    params: dict[str, Any],
    groups: tuple[str, ...] = FEATURE_GROUPS,
) -> dict[str, Any]:
    """Train the model of one scheme on its train split and score it on dev.

    Returns
    -------
    dict
        The metadata written beside the model.
    """
    import pycrfsuite  # type: ignore[import-untyped]

    started = time.time()
    train = read_split(scheme, "train", eval_dir)
    gazetteer = load_gazetteer(out_dir / GAZETTEER_FILE)
    trainer = pycrfsuite.Trainer(verbose=False)
    for example in train:
        norm, spans = to_normalized(example)
        trainer.append(
            char_features(norm.text, gazetteer, groups), spans_to_tags(len(norm.text), spans)
        )
    trainer.set_params(params)
    model_path = out_dir / f"{scheme}.crfsuite"
    trainer.train(str(model_path))
    meta: dict[str, Any] = {
        "scheme": scheme,
        "labels": sorted({label for e in train for _, _, label in e.spans}),
        "feature_version": FEATURE_VERSION,
        "feature_groups": list(groups),
        "params": params,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data": _data_note(scheme, "train", eval_dir, len(train)),
        "normaliser": "geocode.normalize.normalize(text, strip_relative=False)",
        "training_seconds": round(time.time() - started, 1),
        "model_bytes": model_path.stat().st_size,
    }
    _write_meta(model_path, meta)
    meta["dev"] = evaluate(scheme, "dev", eval_dir, CrfModel(model_path, gazetteer))
    _write_meta(model_path, meta)
    return meta


def evaluate(scheme: Scheme, split: str, eval_dir: Path, model: CrfModel) -> dict[str, Any]:
    """Score the full parser (normaliser, model, lexicon, rules) on a split.

    Returns
    -------
    dict
        ``split``, ``examples``, ``precision``, ``recall``, ``f1`` (entity level, exact span
        and label, on the original text).
    """
    examples = read_split(scheme, split, eval_dir)
    parser = AddressParser(model, admin_lexicon())
    predicted = []
    for example in examples:
        parsed = parser.parse(example.text)
        predicted.append(
            [(e.start, e.end, to_label(e.kind, scheme) or "") for e in parsed.elements]
        )
    predicted = [[s for s in spans if s[2]] for spans in predicted]
    result = score((e.spans for e in examples), predicted)
    return {
        "split": split,
        "examples": len(examples),
        "precision": round(result.precision, 4),
        "recall": round(result.recall, 4),
        "f1": round(result.f1, 4),
    }


def _data_note(scheme: Scheme, split: str, eval_dir: Path, count: int) -> dict[str, Any]:
    path = corpus_path(scheme, split, eval_dir)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    corpus = "CCKS 2021 address element parsing" if scheme == "ccks" else "NAACL 2019 (Li et al.)"
    return {
        "corpus": corpus,
        "split": split,
        "file": path.name,
        "examples": count,
        "sha256": digest,
    }


def _write_meta(model_path: Path, meta: dict[str, Any]) -> None:
    text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
    model_path.with_suffix(".json").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Train the models named on the command line (default: both)."""
    ap = argparse.ArgumentParser(prog="python -m geocode.train", description=__doc__)
    ap.add_argument("schemes", nargs="*", help="ccks and/or naacl (default: both)")
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    ap.add_argument("--out-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--names", type=Path, help="china-division tables: rebuild the gazetteer")
    ap.add_argument("--iterations", type=int, default=DEFAULT_PARAMS["max_iterations"])
    ap.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"])
    ap.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--groups",
        help=f"feature groups, comma-separated (default per scheme; of {FEATURE_GROUPS})",
    )
    args = ap.parse_args(argv)
    schemes = args.schemes or list(SCHEMES)
    if unknown := set(schemes) - set(SCHEMES):
        ap.error(f"unknown scheme(s) {sorted(unknown)}: choose from {list(SCHEMES)}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.names:
        count = build_gazetteer(args.names, args.out_dir / GAZETTEER_FILE)
        print(f"gazetteer: {count} names")  # noqa: T201 - a command's report
    params = {**DEFAULT_PARAMS, "max_iterations": args.iterations, "c1": args.c1, "c2": args.c2}
    groups = tuple(args.groups.split(",")) if args.groups else None
    if groups and (odd := set(groups) - set(FEATURE_GROUPS)):
        ap.error(f"unknown feature group(s) {sorted(odd)}: choose from {list(FEATURE_GROUPS)}")
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            s: pool.submit(
                train_one, s, args.eval_dir, args.out_dir, params, groups or SCHEME_GROUPS[s]
            )
            for s in schemes
        }
        for scheme, future in futures.items():
            meta = future.result()
            dev = meta["dev"]
            print(  # noqa: T201 - a command's report
                f"{scheme}: dev F1 {dev['f1']:.4f} (P {dev['precision']:.4f}, "
                f"R {dev['recall']:.4f}), {meta['model_bytes'] / 1e6:.1f} MB, "
                f"{meta['training_seconds']:.0f} s"
            )


if __name__ == "__main__":  # pragma: no cover
    main()
