"""Imminence by composition, measured on the held-out half (issue 25, item 2).

``tests/data/parts-heldout3.csv`` was written by a helper who never saw the rules or the other sets, and
committed before the third round of rules was merged; nobody who wrote rules read it
(``tests/data/README.md``; the two earlier held-out sets were each measured once and then became tuning
material). Each part of an act or plan
(act, means, pronoun, timing, place, preparation, farewell, and the same lines obfuscated) has its own
test, so a change that only memorises the tuning half's phrasings fails here. The floors are the
figures measured once at the release (README "Detection quality", commit after 7a3ef11), rounded down:
they guard against a regression, they are not the issue's targets (at least 90% removed, no false
removal), which the README reports as missed beside them.

Failures name CSV line numbers and tiers, never the text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.policy_loader import PolicyLoader

HELDOUT = Path(__file__).resolve().parent / "data" / "parts-heldout3.csv"
LEVEL = {"none": 0, "concern": 1, "high": 2, "imminent": 3}

# part -> least share of its imminent lines removed (measured at the release, rounded down)
REMOVED_AT_LEAST = {  # measured: 6/6, 4/6, 4/6, 3/6, 6/6, 3/6, 3/6, 3/4
    "act": 1.0, "means": 0.66, "pronoun": 0.66, "timing": 0.5, "place": 1.0, "preparation": 0.5,
    "farewell": 0.5, "obfuscated": 0.75,
}
# part -> near misses removed at the release (the target is none: the README reports these two)
FALSE_REMOVALS_AT_MOST = {"pronoun": 1, "timing": 1}


@pytest.fixture(scope="module")
def judged():
    detector = detector_for(PolicyLoader().load("default"))
    with open(HELDOUT, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [(i + 2, row, detector.detect(row["text"]), detector) for i, row in enumerate(rows)]


@pytest.mark.parametrize("part", sorted(REMOVED_AT_LEAST))
def test_imminent_lines_of_each_part_are_removed(judged, part):
    lines = [(n, d, det) for n, row, d, det in judged if row["label"] == "imminent" and row["part"] == part]
    assert lines, f"no imminent line for part {part}"
    kept = [(n, d.tier) for n, d, det in lines if not det.would_remove(d)]
    share = 1 - len(kept) / len(lines)
    assert share >= REMOVED_AT_LEAST[part], f"{part}: {share:.2f} removed; not removed (CSV line, tier): {kept}"


@pytest.mark.parametrize("part", sorted(REMOVED_AT_LEAST))
def test_near_misses_of_each_part_are_not_removed(judged, part):
    """Someone else's act, a recovery story, a quote, everyday words, a joke: never a removal (two
    everyday lines still are: no more than that)."""
    removed = [(n, row["kind"]) for n, row, d, det in judged
               if row["part"] == part and row["label"] != "imminent" and det.would_remove(d)]
    assert len(removed) <= FALSE_REMOVALS_AT_MOST.get(part, 0), f"{part}: removed (CSV line, kind): {removed}"


def test_nothing_without_a_part_is_removed(judged):
    """Self-harm, eating distress, ideation, distress and supportive replies never remove."""
    removed = [(n, row["kind"]) for n, row, d, det in judged if not row["part"] and det.would_remove(d)]
    assert not removed, f"removed without an imminent label (CSV line, kind): {removed}"


def test_self_harm_and_eating_distress_reach_high_without_removal(judged):
    lines = [(n, d.tier) for n, row, d, det in judged if row["kind"] == "sh_ed"]
    high = [n for n, tier in lines if tier == "high"]
    assert len(high) >= 7, f"self-harm and eating lines at high: {len(high)} of {len(lines)}; {lines}"
