"""Labelled CSV lines judged as one test per file (issues 25 and 28: the unit suite under 30 s; a test per line
cost pytest more than the detection itself). A failure lists every wrong line by its line number in the CSV,
with the expected and the given tier and removal: never the text."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def numbered(rows: list[dict]) -> list[tuple[int, dict]]:
    """Each row with its line in the CSV file (line 1 is the header; every row of these files is one line)."""
    return list(enumerate(rows, start=2))


def wrong_lines(rows: Iterable[tuple[int, Any]], judge: Callable[[int, Any], tuple[Any, Any]]) -> list[str]:
    """``judge(line, row)`` gives (what the detector said, what the label says) for one line; every line where
    they differ, as ``line N: expected ..., got ...``."""
    wrong = []
    for n, row in rows:
        got, expected = judge(n, row)
        if got != expected:
            wrong.append(f"line {n}: expected {expected}, got {got}")
    return wrong
