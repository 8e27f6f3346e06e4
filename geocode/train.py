"""Train the parser's CRF models: ``python -m geocode.train``.

Reads the ``train`` split of each corpus from ``../shared/eval`` (never ``test``), tunes
nothing on ``test``, scores the full parser on ``dev`` and writes into ``geocode/models/``
(``--with-dev`` trains a scheme again on ``train`` + ``dev`` after its ``dev`` score:
:data:`WITH_DEV`, none by default):

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
import json
import time
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geocode.corpus import DEFAULT_EVAL_DIR, Example, corpus_path, read_split, score
from geocode.crf import (
    FEATURE_GROUPS,
    FEATURE_VERSION,
    FIRST_SUFFIX,
    GAZETTEER_FILE,
    MODEL_DIR,
    SPANS_SUFFIX,
    CrfModel,
    SpanLexicon,
    char_features,
    file_digest,
    guide_features,
    guide_path,
    load_gazetteer,
    mask_digits,
    spans_to_tags,
    stack_features,
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
#: about as much; stacking helps the NAACL perceptron (+0.3) and neither CCKS model; the CCKS
#: model's tags (``ccks``) give the NAACL perceptron +0.1 to +0.2 (three shuffles) and replace
#: stacking (88.85 against 88.80, one tagger fewer).
SCHEME_GROUPS: dict[str, tuple[str, ...]] = {
    "ccks": ("chars", "suffix", "gazetteer"),
    "naacl": ("chars", "suffix", "gazetteer", "repeat", "number", "context", "ccks"),
}
#: Schemes whose shipped model also trains on ``dev`` once the recipe is fixed (on ``dev``).
#: None: the published NAACL figure is on ``test`` with models trained on ``train`` only, and
#: ours is reported the same way (``--with-dev naacl`` gives +0.4 on test: a third more data).
#: CCKS reports on ``dev`` (its test labels are withheld), so its model never sees ``dev``.
WITH_DEV: tuple[str, ...] = ()
#: CRFsuite averaged-perceptron settings: features seen fewer than three times are left out
#: (the perceptron has no L1 to drop them: 16 MB instead of 3.6 MB for NAACL).
AP_PARAMS: dict[str, Any] = {
    "max_iterations": 20,
    "feature.minfreq": 3,
    "feature.possible_transitions": True,
}
#: Training algorithm per scheme, as measured on dev (docs/geocoder.md): the averaged
#: perceptron gives NAACL +0.5 F1 over L-BFGS in a tenth of the time, and costs CCKS 0.5.
SCHEME_ALGORITHM: dict[str, str] = {"ccks": "lbfgs", "naacl": "ap"}
#: A stacked model's first stage (the ``stack`` group): its algorithm and settings. The
#: averaged perceptron trains several times faster than L-BFGS, and the first stage is
#: trained STACK_FOLDS + 1 times.
FIRST_ALGORITHM = "ap"
FIRST_PARAMS = AP_PARAMS
#: The first stage's tags of a training address come from a model that did not see it.
STACK_FOLDS = 4
#: The span lexicon of a training address comes from the other folds of the split, so that
#: the model learns how far to trust it on addresses it has not seen.
SPAN_FOLDS = 10
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


def fit(
    xs: list[list[list[str]]],
    ys: list[list[str]],
    path: Path,
    params: dict[str, Any],
    algorithm: str = "lbfgs",
) -> None:
    """Train a CRFsuite model on feature and tag sequences and write it to ``path``."""
    import pycrfsuite  # type: ignore[import-untyped]

    trainer = pycrfsuite.Trainer(algorithm=algorithm, verbose=False)
    for x, y in zip(xs, ys, strict=True):
        trainer.append(x, y)
    trainer.set_params(params)
    trainer.train(str(path))


def cross_tags(
    xs: list[list[list[str]]], ys: list[list[str]], folds: int, scratch: Path
) -> list[list[str]]:
    """Tag every training address with a first stage trained on the other folds.

    Address ``k`` belongs to fold ``k % folds``; ``scratch`` is a model file used in turn
    by each fold and removed at the end.
    """
    import pycrfsuite

    out: list[list[str]] = [[] for _ in xs]
    try:
        for fold in range(folds):
            keep = [k for k in range(len(xs)) if k % folds != fold]
            x, y = [xs[k] for k in keep], [ys[k] for k in keep]
            fit(x, y, scratch, FIRST_PARAMS, FIRST_ALGORITHM)
            tagger = pycrfsuite.Tagger()
            tagger.open(str(scratch))
            for k in range(fold, len(xs), folds):
                out[k] = tagger.tag(xs[k])
            tagger.close()
    finally:
        scratch.unlink(missing_ok=True)
    return out


def span_lexicons(
    normalized: list[tuple[Normalized, list[tuple[int, int, str]]]], folds: int
) -> list[SpanLexicon]:
    """Build one span lexicon per fold from the other folds (``folds=1``: from all).

    Address ``k`` belongs to fold ``k % folds``.
    """
    pieces = [
        [(label, mask_digits(norm.text[a:b])) for a, b, label in spans]
        for norm, spans in normalized
    ]
    if folds == 1:
        return [SpanLexicon.from_spans(p for spans in pieces for p in spans)]
    return [
        SpanLexicon.from_spans(
            p for k, spans in enumerate(pieces) if k % folds != fold for p in spans
        )
        for fold in range(folds)
    ]


def train_one(
    scheme: Scheme,
    eval_dir: Path,
    out_dir: Path,
    params: dict[str, Any],
    groups: tuple[str, ...] = FEATURE_GROUPS,
    algorithm: str = "lbfgs",
    with_dev: bool = False,
) -> dict[str, Any]:
    """Train the model of one scheme on its train split and score it on dev.

    With ``with_dev``, the same recipe is trained on ``train`` alone first and scored on
    ``dev`` (the ``dev`` figure of the metadata), then again on ``train`` + ``dev``: the model
    written is the second one. ``test`` is never read.

    Returns
    -------
    dict
        The metadata written beside the model.
    """
    dev_score: dict[str, Any] | None = None
    if with_dev:
        dev_score = train_one(scheme, eval_dir, out_dir, params, groups, algorithm)["dev"]
    started = time.time()
    splits = ("train", "dev") if with_dev else ("train",)
    train = [e for split in splits for e in read_split(scheme, split, eval_dir)]
    gazetteer = load_gazetteer(out_dir / GAZETTEER_FILE)
    model_path = out_dir / f"{scheme}.crfsuite"
    normalized = [to_normalized(example) for example in train]
    folds: list[SpanLexicon | None] = [None] * SPAN_FOLDS
    if "spans" in groups:
        folds = list(span_lexicons(normalized, SPAN_FOLDS))
        span_lexicons(normalized, 1)[0].save(model_path.with_suffix(SPANS_SUFFIX))
    xs = [
        char_features(norm.text, gazetteer, groups, folds[k % SPAN_FOLDS])
        for k, (norm, _) in enumerate(normalized)
    ]
    ys = [spans_to_tags(len(norm.text), spans) for norm, spans in normalized]
    guide: dict[str, Any] | None = None
    if "ccks" in groups:
        guide_file = guide_path(model_path)
        helper = CrfModel(guide_file, gazetteer)
        for (norm, _), x in zip(normalized, xs, strict=True):
            guide_features(helper.tag(norm.text), x)
        guide = {"model": guide_file.name, "sha256": file_digest(guide_file)}
    first: dict[str, Any] | None = None
    if "stack" in groups:
        first_started = time.time()
        unseen = cross_tags(xs, ys, STACK_FOLDS, out_dir / f"{scheme}.fold")
        fit(xs, ys, model_path.with_suffix(FIRST_SUFFIX), FIRST_PARAMS, FIRST_ALGORITHM)
        for x, tags in zip(xs, unseen, strict=True):
            stack_features(tags, x)
        first = {
            "algorithm": FIRST_ALGORITHM,
            "params": FIRST_PARAMS,
            "folds": STACK_FOLDS,
            "training_seconds": round(time.time() - first_started, 1),
        }
    fit(xs, ys, model_path, params, algorithm)
    meta: dict[str, Any] = {
        "scheme": scheme,
        "labels": sorted({label for e in train for _, _, label in e.spans}),
        "feature_version": FEATURE_VERSION,
        "feature_groups": list(groups),
        "algorithm": algorithm,
        "params": params,
        "guide": guide,
        "first_stage": first,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data": _data_note(scheme, splits, eval_dir),
        "normaliser": "geocode.normalize.normalize(text, strip_relative=False)",
        "training_seconds": round(time.time() - started, 1),
        "model_bytes": model_path.stat().st_size,
    }
    _write_meta(model_path, meta)
    if dev_score is not None:
        meta["dev"] = {**dev_score, "model": "the same recipe trained on train alone"}
    else:
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


def _data_note(scheme: Scheme, splits: tuple[str, ...], eval_dir: Path) -> dict[str, Any]:
    """Describe the training data: corpus, splits (``train`` or ``train+dev``), files, hashes."""
    paths = [corpus_path(scheme, split, eval_dir) for split in splits]
    corpus = "CCKS 2021 address element parsing" if scheme == "ccks" else "NAACL 2019 (Li et al.)"
    return {
        "corpus": corpus,
        "split": "+".join(splits),
        "file": "+".join(p.name for p in paths),
        "examples": sum(len(read_split(scheme, split, eval_dir)) for split in splits),
        "sha256": "+".join(file_digest(p) for p in paths),
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
    ap.add_argument("--iterations", type=int, help="default: 150 (lbfgs), 20 (ap)")
    ap.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"])
    ap.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"])
    ap.add_argument(
        "--algorithm", choices=("lbfgs", "ap"), help=f"default per scheme: {SCHEME_ALGORITHM}"
    )
    ap.add_argument("--minfreq", type=int, help="ap: leave out rarer features (default 3)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--with-dev",
        help="schemes (comma-separated) whose model also trains on dev, after a train-only "
        f"run scores dev (default: {','.join(WITH_DEV) or 'none'}; 'none' for none)",
    )
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
    params: dict[str, dict[str, Any]] = {}
    for scheme in schemes:
        algorithm = args.algorithm or SCHEME_ALGORITHM[scheme]
        if algorithm == "ap":
            params[scheme] = {**AP_PARAMS}
            params[scheme]["max_iterations"] = args.iterations or AP_PARAMS["max_iterations"]
            params[scheme]["feature.minfreq"] = args.minfreq or AP_PARAMS["feature.minfreq"]
        else:
            params[scheme] = {**DEFAULT_PARAMS, "c1": args.c1, "c2": args.c2}
            params[scheme]["max_iterations"] = args.iterations or DEFAULT_PARAMS["max_iterations"]
    groups = tuple(args.groups.split(",")) if args.groups else None
    if groups and (odd := set(groups) - set(FEATURE_GROUPS)):
        ap.error(f"unknown feature group(s) {sorted(odd)}: choose from {list(FEATURE_GROUPS)}")
    with_dev = WITH_DEV if args.with_dev is None else tuple(args.with_dev.split(","))
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures: dict[str, Future[dict[str, Any]]] = {}
        for s in sorted(schemes):  # ccks first: a guided naacl model reads the new one
            s_groups = groups or SCHEME_GROUPS[s]
            if "ccks" in s_groups and "ccks" in futures:
                futures["ccks"].result()
            futures[s] = pool.submit(
                train_one,
                s,
                args.eval_dir,
                args.out_dir,
                params[s],
                s_groups,
                args.algorithm or SCHEME_ALGORITHM[s],
                s in with_dev,
            )
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
