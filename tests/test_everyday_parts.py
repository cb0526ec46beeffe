"""Everyday chat that shares the words of risk, in four languages (``tests/data/en-everyday-parts.csv`` and
``tests/data/lang/LANG-everyday-parts.csv``, 250 lines each, all ``none``): written on 2026-12-05 (session 20) by four
helpers who never saw the rules, asked for ordinary lines that each hold two or more of the words imminence is read
from (a time, going somewhere, a goodbye and thanks, pills, ropes, knives, heights, bridges, tracks, letters, giving
things away, "for good", "never again") in travel, work, hobbies, moving house, medicine as prescribed, games and
endings of every kind. Nobody who writes rules has read them: evaluation only, counts only. Measured once, at
commit (the rules after rounds 18), and held as a ceiling: removals and lines the rules give a tier (the word models'
own concern not counted). Failures name counts, never text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.detection import detector_for

DATA = Path(__file__).resolve().parent / "data"
FILES = {"en": DATA / "en-everyday-parts.csv", "de": DATA / "lang" / "de-everyday-parts.csv",
         "fr": DATA / "lang" / "fr-everyday-parts.csv", "es": DATA / "lang" / "es-everyday-parts.csv"}
POLICY = {"en": "default", "de": "default-de", "fr": "default-fr", "es": "default-es"}
# language -> (removed, given a tier by the rules) of 250, measured at commit: every one of them a false alarm
MEASURED = {"en": (6, 10), "de": (5, 6), "fr": (8, 9), "es": (1, 2)}
# (at commit, after rounds 18: en (7, 12), de (6, 7), fr (8, 10), es (1, 2); measured once more after round 19, which read
# the tuning set below and never this one: 22 -> 20 removed, 31 -> 27 given a tier; the ceiling moved to it)



def _false_alarms(detector, path: Path) -> tuple[int, int]:
    """(removed, given a tier by the rules: the word models' own concern not counted) on a file of 250 none lines."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 250 and {r["label"] for r in rows} == {"none"}
    found = detector.detect_many([r["text"] for r in rows])
    removed = sum(detector.would_remove(d) for d in found)
    return removed, sum(1 for d in found if d.tier != "none" and not set(d.rules) <= {"model.risk", "model.chat"})


@pytest.mark.parametrize("language", sorted(MEASURED))
def test_everyday_lines_with_the_words_of_risk_stay_at_or_under_what_was_measured(shipped_policy, language):
    removed, tiered = _false_alarms(detector_for(shipped_policy(POLICY[language])), FILES[language])
    assert removed <= MEASURED[language][0] and tiered <= MEASURED[language][1], (
        f"{language}: removed {removed}, given a tier by the rules {tiered}; measured {MEASURED[language]}")


# The second set, written for tuning (``*-everyday-parts-tune.csv``, 250 per language, same brief, four other helpers
# who never saw the rules): read by round 19, which fixes its false alarms by class. Its ceiling moves down with the
# rounds; the evaluation set above is measured once after them.
TUNE_FILES = {"en": DATA / "en-everyday-parts-tune.csv", "de": DATA / "lang" / "de-everyday-parts-tune.csv",
              "fr": DATA / "lang" / "fr-everyday-parts-tune.csv", "es": DATA / "lang" / "es-everyday-parts-tune.csv"}
# language -> (removed, given a tier by the rules) of 250; before round 19: en (8, 18), de (4, 6), fr (12, 13), es (1, 3)
TUNE_MEASURED = {
    "en": (1, 3),
    "de": (0, 0),
    "fr": (1, 1),
    "es": (0, 0),
}


@pytest.mark.parametrize("language", sorted(TUNE_MEASURED))
def test_everyday_tuning_lines_stay_at_or_under_what_the_last_round_reached(shipped_policy, language):
    removed, tiered = _false_alarms(detector_for(shipped_policy(POLICY[language])), TUNE_FILES[language])
    assert removed <= TUNE_MEASURED[language][0] and tiered <= TUNE_MEASURED[language][1], (
        f"{language}: removed {removed}, given a tier by the rules {tiered}; reached {TUNE_MEASURED[language]}")
