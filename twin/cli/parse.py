"""``twin parse``: label the elements of every address of a text file (one per line)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from twin.errors import ConfigError


def _read_lines(path: Path) -> list[str]:
    """Read the input's lines in UTF-8 (with or without BOM), else GB18030."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    raise ConfigError(f"{path} is neither UTF-8 nor GBK text")  # pragma: no cover


def parse(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="A text file, one address per line.", exists=True, dir_okay=False
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The JSON-lines file to write.", dir_okay=False)
    ],
    labels: Annotated[
        str, typer.Option(help="Label set of the output: ccks (CCKS 2021) or naacl (NAACL 2019).")
    ] = "ccks",
) -> None:
    """Parse addresses into elements: one {"text", "spans"} line per input line.

    Spans are on the original text, with the labels of the chosen corpus; the parser uses the
    model trained on that corpus. See docs/geocoder.md.
    """
    from geocode.parse import default_parser

    if labels not in ("ccks", "naacl"):
        raise ConfigError(f"unknown label set {labels!r}: use ccks or naacl")
    scheme = "ccks" if labels == "ccks" else "naacl"
    parser = default_parser(scheme)
    lines = _read_lines(input_file)
    started = time.perf_counter()
    with output.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(parser.labelled(line), ensure_ascii=False) + "\n")
    seconds = time.perf_counter() - started
    rate = len(lines) / seconds if seconds > 0 else 0.0
    typer.echo(
        f"parsed {len(lines)} addresses in {seconds:.2f} s ({rate:,.0f}/s) → {output}", err=True
    )
