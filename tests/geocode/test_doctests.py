"""The examples in the geocode docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "geocode.normalize",
    "geocode.numerals",
    "geocode.lexicon",
    "geocode.labels",
    "geocode.crf",
    "geocode.corpus",
    "geocode.parse",
    "geocode.index",
    "geocode.match",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
