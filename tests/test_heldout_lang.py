"""German, French and Spanish held-out sets 5, 6 and 7 (issue 27): what was measured on them, held as a floor.

``tests/data/lang/LANG-heldout5.csv`` and ``-heldout6.csv`` (120 lines each: 14 imminent, 18 high, 18 concern,
70 none) were written on 2026-12-03 by six helpers who never saw the rules, the models or the earlier sets; set
5 was committed before round 5 was merged and measured once before it and once after it; set 6 after round 5,
measured once with the shipped models and once with models trained on more lines (not shipped:
docs/detection-quality.md); set 7 (session 13) with the shipped detector only. Nobody who wrote rules read them; counts only. The floors below are the shipped
detector's figures: they guard against a regression, they are not issue 27's targets (exact tier >= 0.75,
any-tier recall >= 0.90, 7 of 9 imminent lines removed, no false removal), which docs/detection-quality.md reports as
met or missed beside them. A later round that tunes on these lines makes them tuning material: move them to the
tuning-floor tests then, and write set 8 first.

Failures name counts only, never the text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.detection.evaluate import evaluate
from gateway.policy.loader import PolicyLoader

LANG = Path(__file__).resolve().parent / "data" / "lang"

# (language, set) -> (exact tier, any-tier hits of 50, imminent removed of 14, false removals of 106).
# Sets 5 and 6 are tuning material since each language's round 6 (session 13) read their misses: their floors are
# what that round reached on them (before it: de 99, 38, 8, 0 and 97, 37, 9, 0; fr 102, 36, 11, 2 and 105, 39, 12,
# 0; es 102, 33, 11, 0 and 100, 34, 13, 4), regression floors, no evidence.
MEASURED = {("de", 5): (102, 39, 11, 0), ("fr", 5): (116, 47, 14, 0), ("es", 5): (116, 47, 12, 0),
            ("de", 6): (101, 40, 13, 0), ("fr", 6): (120, 50, 14, 0), ("es", 6): (119, 49, 13, 0),
            # set 7 (session 13): measured once before any change of that session (de 89, 29, 6, 0; fr 88, 27, 5, 1;
            # es 94, 26, 10, 1) and once after each language's round 6, which never read it; held to the latter
            ("de", 7): (89, 29, 6, 0), ("fr", 7): (90, 30, 5, 1), ("es", 7): (96, 27, 10, 0)}


@pytest.mark.parametrize("language, number", sorted(MEASURED))
def test_held_out_sets_keep_what_was_measured_on_them(language, number):
    exact, hits, removed, false = MEASURED[language, number]
    report = evaluate(detector_for(PolicyLoader().load(f"default-{language}")),
                      LANG / f"{language}-heldout{number}.csv", "text", "label")
    got = (report.exact, report.any_tier.tp, 14 - report.missed_removals, report.false_removals)
    assert report.rows == 120
    assert got[0] >= exact and got[1] >= hits and got[2] >= removed and got[3] <= false, (
        f"{language} set {number}: (exact, any-tier hits, removed, false removals) = {got}, "
        f"measured {MEASURED[language, number]}")
