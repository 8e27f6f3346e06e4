"""Parsing benchmark: entity-level F1 on the public corpora, a baseline, and speed.

    .venv/bin/python bench/parse.py [--eval-dir ../shared/eval] [--out bench/results/parse.json]

Scores the shipped parser (normaliser + CRF + lexicon + rules, ``twin parse``'s code path)
with exact span and label on the original text:

- CCKS 2021 ``dev`` with ``--labels ccks`` (its test labels are withheld);
- NAACL 2019 ``test`` (the reported figure) and ``dev`` with ``--labels naacl``.

In the same run, a dictionary baseline: the same normaliser, then only the gazetteer of
administrative names (longest match) and the number + marker rules (12号, 3栋, 2单元, 5层,
301室), no learned model. With ``--baseline-models DIR``, the models in DIR (an earlier
version's ``<scheme>.crfsuite`` + ``.json``) are scored and timed too. Speed is addresses per
second in one process, normalising included, with its ratio to the shipped parser's. The
corpora are read from ``../shared/eval`` when present, else skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geocode.corpus import DEFAULT_EVAL_DIR, Example, corpus_path, read_split, score  # noqa: E402
from geocode.crf import MODEL_DIR, CrfModel, load_gazetteer  # noqa: E402
from geocode.labels import to_label  # noqa: E402
from geocode.lexicon import admin_lexicon  # noqa: E402
from geocode.normalize import normalize  # noqa: E402
from geocode.parse import AddressParser, default_parser  # noqa: E402

RUNS = (("ccks", "dev"), ("naacl", "test"), ("naacl", "dev"))
_NUMBER_RULES = (
    (re.compile(r"[0-9]+(?:-[0-9]+)?号"), "door"),
    (re.compile(r"[0-9A-Z]+栋"), "building"),
    (re.compile(r"[0-9]+单元"), "unit"),
    (re.compile(r"-?[0-9]+层"), "floor"),
    (re.compile(r"[A-Z]?[0-9]+室"), "room"),
)


def dictionary_baseline(text: str) -> list[tuple[int, int, str]]:
    """Elements from the gazetteer (longest match first) and the number rules only."""
    norm = normalize(text, strip_relative=False)
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(norm.text)
    matches = load_gazetteer().find_all(norm.text)
    candidates = [(m.start, m.end, m.level) for m in matches]
    for pattern, kind in _NUMBER_RULES:
        candidates += [(m.start(), m.end(), kind) for m in pattern.finditer(norm.text)]
    for start, end, kind in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if not any(taken[start:end]):
            taken[start:end] = [True] * (end - start)
            found.append((*norm.to_original(start, end), kind))
    return sorted(found)


def _per_label(examples: list[Example], predicted: list[list[tuple[int, int, str]]]) -> dict:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for example, spans in zip(examples, predicted, strict=True):
        gold, pred = set(example.spans), set(spans)
        for s in gold & pred:
            counts[s[2]][0] += 1
        for s in pred - gold:
            counts[s[2]][1] += 1
        for s in gold - pred:
            counts[s[2]][2] += 1
    out = {}
    for label, (tp, fp, fn) in sorted(counts.items(), key=lambda kv: -sum(kv[1])):
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
        out[label] = {"f1": round(2 * p * r / (p + r), 4) if p + r else 0.0, "gold": tp + fn}
    return out


def run_one(
    scheme: str, split: str, eval_dir: Path, baseline_dir: Path | None = None
) -> list[dict[str, Any]]:
    examples = read_split(scheme, split, eval_dir)  # type: ignore[arg-type]
    parser = default_parser(scheme)  # type: ignore[arg-type]
    parser.parse(examples[0].text)  # load the model before timing
    parsers: list[tuple[str, Any]] = [
        ("citytwin", lambda t: _labelled(parser.parse(t).elements, scheme)),
        ("dictionary baseline", lambda t: _relabel(dictionary_baseline(t), scheme)),
    ]
    old_path = baseline_dir / f"{scheme}.crfsuite" if baseline_dir else None
    if old_path is not None and old_path.exists():
        old = AddressParser(CrfModel(old_path), admin_lexicon())
        old.parse(examples[0].text)
        parsers.append(
            (f"baseline model {baseline_dir}", lambda t: _labelled(old.parse(t).elements, scheme))
        )
    results = []
    trained_on = str(parser.model.meta.get("training_data", {}).get("split", "train"))
    for name, fn in parsers:
        started = time.perf_counter()
        predicted = [fn(e.text) for e in examples]
        seconds = time.perf_counter() - started
        s = score((e.spans for e in examples), predicted)
        results.append(
            {
                "corpus": scheme,
                "split": split,
                "parser": name,
                "examples": len(examples),
                "split_in_training": name == "citytwin" and split in trained_on.split("+"),
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "addresses_per_second": round(len(examples) / seconds),
                "per_label": _per_label(examples, predicted),
            }
        )
    return results


def _labelled(elements: Any, scheme: str) -> list[tuple[int, int, str]]:
    return _relabel([(e.start, e.end, e.kind) for e in elements], scheme)


def _relabel(spans: list[tuple[int, int, str]], scheme: str) -> list[tuple[int, int, str]]:
    out = []
    for start, end, kind in spans:
        label = to_label(kind, scheme)  # type: ignore[arg-type]
        if label:
            out.append((start, end, label))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "parse.json")
    ap.add_argument(
        "--baseline-models",
        type=Path,
        help="a folder of earlier models (<scheme>.crfsuite + .json): scored and timed beside "
        "the shipped ones in the same run",
    )
    args = ap.parse_args()
    results: list[dict[str, Any]] = []
    skipped = []
    for scheme, split in RUNS:
        path = corpus_path(scheme, split, args.eval_dir)  # type: ignore[arg-type]
        if not path.exists():
            skipped.append(f"{scheme} {split}: {path} not found")
            print(f"skipped {scheme} {split}: {path} not found")
            continue
        rows = run_one(scheme, split, args.eval_dir, args.baseline_models)
        for r in rows:
            results.append(r)
            speed = r["addresses_per_second"] / rows[0]["addresses_per_second"]
            print(
                f"{r['corpus']:5} {r['split']:4} {r['parser'][:28]:28} F1 {r['f1'] * 100:5.2f} "
                f"(P {r['precision'] * 100:5.2f} R {r['recall'] * 100:5.2f}) "
                f"{r['addresses_per_second']:>7,}/s (x{speed:.2f})"
                + (
                    "  [this split is in the model's training data]"
                    if r["split_in_training"]
                    else ""
                )
            )
    models = {}
    for scheme in ("ccks", "naacl"):
        meta = json.loads((MODEL_DIR / f"{scheme}.json").read_text(encoding="utf-8"))
        keys = ("trained_at", "model_bytes", "dev", "params", "feature_groups", "training_data")
        models[scheme] = {k: meta.get(k) for k in keys}
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "baseline_models": str(args.baseline_models) if args.baseline_models else None,
        "models": models,
        "results": results,
        "skipped": skipped,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
