"""German, French and Spanish held-out set 5 (issue 27): what was measured on it, held as a floor.

``tests/data/lang/LANG-heldout5.csv`` (120 lines each: 14 imminent, 18 high, 18 concern, 70 none) were written
on 2026-12-03 by three helpers who never saw the rules, the models or the earlier sets, and committed before
round 5 was merged; nobody who wrote rules read them. They were measured once before round 5 and once after it
(README "Detection quality"), counts only. The floors below are the figures after round 5: they guard against a
regression, they are not issue 27's targets (exact tier >= 0.75, any-tier recall >= 0.90, 7 of 9 imminent lines
removed, no false removal), which the README reports as met or missed beside them. A later round that tunes on
these lines makes them tuning material: move them to the tuning-floor tests then, and write set 6 first.

Failures name counts only, never the text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.evaluate import evaluate
from gateway.policy_loader import PolicyLoader

LANG = Path(__file__).resolve().parent / "data" / "lang"

# language -> (exact tier, any-tier hits of 50, imminent removed of 14, false removals of 106), after round 5
MEASURED = {"de": (99, 38, 8, 0), "fr": (102, 36, 11, 2), "es": (102, 33, 11, 0)}


@pytest.mark.parametrize("language", sorted(MEASURED))
def test_held_out_set_five_keeps_what_was_measured_on_it(language):
    exact, hits, removed, false = MEASURED[language]
    report = evaluate(detector_for(PolicyLoader().load(f"default-{language}")), LANG / f"{language}-heldout5.csv",
                      "text", "label")
    got = (report.exact, report.any_tier.tp, 14 - report.missed_removals, report.false_removals)
    assert report.rows == 120
    assert got[0] >= exact and got[1] >= hits and got[2] >= removed and got[3] <= false, (
        f"{language}: (exact, any-tier hits, removed, false removals) = {got}, measured {MEASURED[language]}")
