"""Self-harm and eating distress as acts and intents (issue 25, item 3), on ``tests/data/sh-ed-own.csv``.

The file was written before the rules it led to and committed first (the shipped rules then: 1 of its 52 acts
at high, 3 of its 52 near misses at high); the rules were then tuned on it, so this is a regression test, not
evidence. Every act and intent (label high) reaches high with the self-harm message and is never a removal;
every near miss sharing their words (recovery told as past, supportive replies, cooking, the gym, fasting for
religion or a blood test, a stomach bug, a calm diet, someone else's self-harm, a lyric) gets no tier.

Failures name CSV line numbers and tiers, never the text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.policy.loader import PolicyLoader

OWN = Path(__file__).resolve().parent / "data" / "sh-ed-own.csv"
# CSV lines of acts the rules leave at no tier, on purpose: a razor on the thighs "most nights" reads the same
# as shaving; no rule tells them apart without a false alarm.
KNOWN_MISSES = {12}
SELF_HARM_RULES = {"high.self_harm", "high.self_harm_acts", "high.eating_acts"}


@pytest.fixture(scope="module")
def judged():
    detector = detector_for(PolicyLoader().load("default"))
    with open(OWN, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [(i + 2, row, detector.detect(row["text"]), detector) for i, row in enumerate(rows)]


def test_the_file_has_both_halves(judged):
    labels = [row["label"] for _, row, _, _ in judged]
    assert labels.count("high") == 52 and labels.count("none") == 52


def test_acts_and_intents_reach_high(judged):
    missed = [(n, d.tier) for n, row, d, _ in judged
              if row["label"] == "high" and d.tier != "high" and n not in KNOWN_MISSES]
    assert not missed, f"acts and intents below high (CSV line, tier): {missed}"


def test_known_misses_are_still_misses(judged):
    """A known miss that starts to match: move it out of KNOWN_MISSES."""
    reached = [n for n, row, d, _ in judged if n in KNOWN_MISSES and d.tier == "high"]
    assert not reached, f"known misses now at high, update KNOWN_MISSES (CSV lines): {reached}"


def test_acts_and_intents_get_the_self_harm_rules(judged):
    """The self-harm message, with no suicide talk: a rule of the self-harm family decides each one."""
    other = [(n, d.rules) for n, row, d, _ in judged
             if row["label"] == "high" and d.tier == "high" and not SELF_HARM_RULES & set(d.rules)]
    assert not other, f"at high by another rule (CSV line, rules): {other}"


def test_near_misses_get_no_tier(judged):
    tiered = [(n, row["kind"], d.tier) for n, row, d, _ in judged if row["label"] == "none" and d.tier != "none"]
    assert not tiered, f"near misses with a tier (CSV line, kind, tier): {tiered}"


def test_nothing_is_removed(judged):
    removed = [(n, row["label"]) for n, row, d, detector in judged if detector.would_remove(d)]
    assert not removed, f"removed (CSV line, label): {removed}"
