"""Self-harm and eating distress as acts and intents (issue 25, item 3), on ``tests/data/sh-ed-own.csv`` and
``tests/data/sh-ed-own-b.csv``.

The first file was written before the rules it led to and committed first (the shipped rules then: 1 of its 52
acts at high, 3 of its 52 near misses at high); the second is a probe written after those rules and committed
before being run (measured once: 5 of 24 acts at high, the shipped rules 4). The rules were then tuned on both,
so this is a regression test, not evidence. Every act and intent (label high) reaches high with the self-harm message and is never a removal;
every near miss sharing their words (recovery told as past, supportive replies, cooking, the gym, fasting for
religion or a blood test, a stomach bug, a calm diet, someone else's self-harm, a lyric) gets no tier.

Failures name CSV line numbers and tiers, never the text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.detection import detector_for

DATA = Path(__file__).resolve().parent / "data"
OWN, PROBE = DATA / "sh-ed-own.csv", DATA / "sh-ed-own-b.csv"
# CSV lines of acts left below high: a razor "on my thighs" reads the same as shaving; a hair tie, one rice cake
# regretted, a lunch thrown in a hedge: no rule tells them from their near misses without a false alarm. Round 22
# (session 26) reached four by class: a razor taken "to my arm" (not the legs), a blade kept for bad days, a tool
# again with new marks, drinking before a weigh-in so they think one is heavier.
KNOWN_MISSES = {OWN: {12}, PROBE: {6, 10, 11}}
# the probe's lines that the rules before issue 25 item 3 already got wrong, left to their own rules: someone
# scratching bites "till it bled" (a self_harm_acts pattern of the tuning set), and a whole pack of laxatives
# "after tea", which the imminent composition reads as taking the lot (line 13: imminent, removed)
KNOWN_FALSE = {OWN: set(), PROBE: {37}}
KNOWN_REMOVED = {OWN: set(), PROBE: {13}}
SELF_HARM_RULES = {"high.self_harm", "high.self_harm_acts", "high.eating_acts"}


@pytest.fixture(scope="module")
def detector(default_policy):
    return detector_for(default_policy)


@pytest.fixture(scope="module", params=[OWN, PROBE], ids=["own", "probe"])
def judged(request, detector):
    with open(request.param, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return request.param, [(i + 2, row, detector.detect(row["text"]), detector) for i, row in enumerate(rows)]


def test_the_files_have_both_halves(judged):
    path, lines = judged
    labels = [row["label"] for _, row, _, _ in lines]
    half = {OWN: 52, PROBE: 24}[path]
    assert labels.count("high") == half and labels.count("none") == half


def test_acts_and_intents_reach_high(judged):
    path, lines = judged
    missed = [(n, d.tier) for n, row, d, _ in lines
              if row["label"] == "high" and d.tier != "high" and n not in KNOWN_MISSES[path] | KNOWN_REMOVED[path]]
    assert not missed, f"acts and intents below high (CSV line, tier): {missed}"


def test_known_misses_are_still_misses(judged):
    """A known miss that starts to match: move it out of KNOWN_MISSES."""
    path, lines = judged
    reached = [n for n, row, d, _ in lines if n in KNOWN_MISSES[path] and d.tier == "high"]
    assert not reached, f"known misses now at high, update KNOWN_MISSES (CSV lines): {reached}"


def test_acts_and_intents_get_the_self_harm_rules(judged):
    """The self-harm message, with no suicide talk: a rule of the self-harm family decides each one."""
    path, lines = judged
    other = [(n, d.rules) for n, row, d, _ in lines
             if row["label"] == "high" and d.tier == "high" and not SELF_HARM_RULES & set(d.rules)]
    assert not other, f"at high by another rule (CSV line, rules): {other}"


def test_near_misses_get_no_tier(judged):
    path, lines = judged
    tiered = [(n, row["kind"], d.tier) for n, row, d, _ in lines
              if row["label"] == "none" and d.tier != "none" and n not in KNOWN_FALSE[path]]
    assert not tiered, f"near misses with a tier (CSV line, kind, tier): {tiered}"


def test_nothing_is_removed(judged):
    path, lines = judged
    removed = [(n, row["label"]) for n, row, d, detector in lines
               if detector.would_remove(d) and n not in KNOWN_REMOVED[path]]
    assert not removed, f"removed (CSV line, label): {removed}"
