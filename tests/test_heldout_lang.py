"""German, French and Spanish held-out sets 5 to 22 (issue 27): what was measured on them, held as a floor.

``tests/data/lang/LANG-heldout5.csv`` and ``-heldout6.csv`` (120 lines each: 14 imminent, 18 high, 18 concern,
70 none) were written on 2026-12-03 by six helpers who never saw the rules, the models or the earlier sets; set
5 was committed before round 5 was merged and measured once before it and once after it; set 6 after round 5,
measured once with the shipped models and once with models trained on more lines (not shipped:
docs/detection-quality.md); set 7 (session 13) with the shipped detector only. Nobody who wrote rules read them; counts only. The floors below are the shipped
detector's figures: they guard against a regression, they are not issue 27's targets (exact tier >= 0.75,
any-tier recall >= 0.90, 7 of 9 imminent lines removed, no false removal), which docs/detection-quality.md reports as
met or missed beside them. A later round that tunes on these lines makes them tuning material: move them to the
tuning-floor tests then, and write the next set first. Sets 8 and 9 (session 14) were each written and committed
before the round that read the set before them (round 7 read set 7, round 8 set 8); set 10 (session 15) before rounds 9,
which read set 9 (the Spanish one set 8 as well; the French one set 7's misses again).

Failures name counts only, never the text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.quotes import own_words
from gateway.detection import detector_for
from gateway.detection.evaluate import evaluate
from gateway.policy.loader import PolicyLoader

LANG = Path(__file__).resolve().parent / "data" / "lang"

# (language, set) -> (exact tier, any-tier hits of 50, imminent removed of 14, false removals of 106).
# Sets 5 and 6 are tuning material since each language's round 6 (session 13) read their misses: their floors are
# what that round reached on them (before it: de 99, 38, 8, 0 and 97, 37, 9, 0; fr 102, 36, 11, 2 and 105, 39, 12,
# 0; es 102, 33, 11, 0 and 100, 34, 13, 4), regression floors, no evidence.
MEASURED = {("de", 5): (120, 50, 14, 0), ("fr", 5): (117, 48, 14, 0), ("es", 5): (119, 50, 14, 0),
            ("de", 6): (120, 50, 14, 0), ("fr", 6): (120, 50, 14, 0), ("es", 6): (120, 50, 14, 0),
            # set 7 (session 13): measured once before any change of that session (de 89, 29, 6, 0; fr 88, 27, 5, 1;
            # es 94, 26, 10, 1) and once after each language's round 6, which never read it (de 89, 29, 6, 0; fr 90,
            # 30, 5, 1; es 96, 27, 10, 0). Rounds 7 and 8 (session 14) read its misses: tuning material since, held
            # to what the shipped rounds reached (French round 7 was not shipped; French round 8 read set 7 too)
            ("de", 7): (119, 50, 14, 0), ("fr", 7): (108, 42, 8, 0), ("es", 7): (120, 50, 14, 0),
            # set 8 (session 14): measured once with the shipped rules before round 7 (de 91, 27, 7, 0; fr 92, 32,
            # 8, 2; es 85, 18, 5, 0) and once after it (de 94, 30, 7, 0; fr unchanged by a branch not shipped; es 93,
            # 30, 5, 0); one none line of the Spanish set was seen by the Spanish round's author in a search's output
            # (no rule came of it). German and French rounds 8 and the Spanish round 9 read its misses: held to what they
            # reached (French: also what French round 9 reached on set 7)
            ("de", 8): (118, 48, 14, 0), ("fr", 8): (115, 47, 12, 1), ("es", 8): (111, 46, 12, 0),
            # set 9 (session 14): measured once with the shipped rules before round 8 (de 102, 35, 9, 1; fr 93, 25,
            # 6, 0; es 105, 37, 7, 0) and once after it (de 105, 37, 10, 1; fr 94, 27, 6, 0; es unchanged by a round 8
            # not shipped). Rounds 9 (session 15) read its misses, and the Spanish one set 8's: held to what they reached
            ("de", 9): (119, 50, 14, 1), ("fr", 9): (114, 47, 12, 0), ("es", 9): (119, 50, 13, 0),
            # set 10 (session 15): written and committed before rounds 9, which never read it; measured once with the
            # shipped rules before them (de 95, 30, 6, 0; fr 91, 23, 5, 0; es 93, 28, 5, 1) and once after (de 96, 31,
            # 6, 0; fr 92, 25, 6, 0; es 93, 29, 6, 1). Rounds 10 read its misses: held to what they reached
            ("de", 10): (113, 47, 9, 0), ("fr", 10): (115, 48, 12, 0), ("es", 10): (113, 48, 10, 1),
            # set 11 (session 15): written and committed before rounds 10, which never read it; measured once with the
            # rules after rounds 9 (de 99, 35, 10, 2; fr 89, 27, 6, 2; es 95, 29, 8, 1) and once after rounds 10 (de
            # 100, 36, 10, 2; fr 89, 27, 7, 2; es 97, 31, 8, 1). Rounds 11 (session 16) read its misses: held to what
            # they reached
            ("de", 11): (117, 50, 13, 1), ("fr", 11): (115, 48, 12, 0), ("es", 11): (117, 48, 11, 0),
            # set 12 (session 16): written and committed before rounds 11, which never read it; measured once before
            # them (de 97, 35, 6, 1; fr 90, 22, 6, 1; es 101, 36, 8, 0) and once after (de 98, 35, 6, 1; fr 93, 25, 7,
            # 1; es 101, 36, 8, 0). Rounds 12 read its misses: held to what they reached
            ("de", 12): (115, 48, 12, 0), ("fr", 12): (108, 41, 7, 0), ("es", 12): (115, 49, 10, 0),
            # set 13 (session 16): written and committed before rounds 12, which never read it; measured once before
            # them (de 98, 38, 8, 1; fr 89, 27, 8, 2; es 100, 32, 7, 0) and once after (de 100, 39, 9, 1; fr 90, 30, 8,
            # 2; es 101, 32, 7, 0). Rounds 13 (session 17) read its misses: tuning material since, held to what they
            # reached. The Spanish set's two "false removals" are lines its writer labelled high that name a place of
            # falling, a weekday and a plan made up, which this session's convention for every language reads as
            # imminent, like "tonight".
            ("de", 13): (120, 50, 14, 0), ("fr", 13): (120, 50, 14, 0), ("es", 13): (118, 50, 14, 2),
            # set 14 (session 17): written and committed before rounds 13, which never read it (a quarter long posts,
            # replies, take-backs, weekday and clock times); measured once before them (de 97, 34, 6, 2; fr 98, 37, 6, 3;
            # es 99, 35, 6, 1) and once after (de 97, 34, 6, 2; fr 98, 38, 6, 3; es 100, 33, 7, 1). Unread. Session 18
            # rebuilt the German and Spanish models on every read set (1 to 13, German probes): measured once per
            # candidate model, counts only; the shipped ones raise German 97, 34 -> 99, 35 and Spanish 100, 33 -> 102, 38
            # with no more none lines raised (French candidates raised more: not shipped; docs/detection-quality.md)
            # Rounds 17 (session 20) read the German, French and Spanish sets 14 and 15's misses: tuning material since,
            # held to what each round reached (before them: de 99, 35, 6, 2 and 96, 32, 7, 0; fr 98, 38, 6, 3 and 97, 37,
            # 9, 1; es 102, 38, 7, 1 and 105, 39, 11, 1), regression floors, no evidence
            ("de", 14): (112, 43, 8, 0), ("fr", 14): (115, 47, 11, 0), ("es", 14): (118, 49, 13, 0),
            # set 15 (session 18): written and committed before any change of session 18 (risk said without a word for
            # death, very short lines, lines referring back, English words mixed in); measured once at the session's
            # first commit (de 95, 33, 7, 0; fr 97, 37, 9, 1; es 105, 39, 11, 1) and once at its end.
            ("de", 15): (115, 47, 12, 0), ("fr", 15): (118, 49, 14, 0), ("es", 15): (118, 50, 14, 0),
            # set 16 (session 19): written and committed before any change of session 19 that reads a held-out set
            # (writers in particular lives, lines typed on a phone, emoji, lines quoting another person's message);
            # measured once, on the writer's own words as a room reads them (the whole line: fr 96, 31, 4, 0, the
            # others the same). Unread.
            # after the French round 21 (session 26; which never read it), the French floor raised (98, 32, 5, 0 -> 99, 33, 6, 0)
            ("de", 16): (106, 42, 9, 2), ("fr", 16): (99, 33, 6, 0), ("es", 16): (102, 40, 8, 0),
            # set 17 (session 20): written and committed before any change of session 20 that reads a held-out set
            # (lines from eight kinds of room in their registers, regional speech, risk as the second or third thing
            # said, imminent lines with a single sign); measured once at the session's first commit, on the
            # writer's own words. Rounds 18 (session 20) read the German, French and Spanish sets 17's misses: tuning
            # material since, held to what each round reached (before them, after rounds 17: de 104, 39, 8, 1; fr 96, 35,
            # 7, 2; es 109, 42, 12, 0), no evidence.
            ("de", 17): (115, 47, 13, 0), ("fr", 17): (114, 47, 14, 0), ("es", 17): (120, 50, 14, 0),  # fr: after round 21
            # set 18 (session 20): written and committed after rounds 17 (which never read it) and before any change that
            # reads a held-out set since (long-running peer-support rooms: regulars who refer back to what they said,
            # in-jokes and dark humour, the safety bot and the moderators named, replies by name, lines at night);
            # measured once at its commit, on the writer's own words.
            # Rounds 21 (session 26) read the German, French and Spanish sets 18, 19 and 20's misses: tuning material since,
            # held to what each round reached (before them: de 96, 34, 3, 1; fr 87, 30, 6, 1; es 98, 33, 9, 0), no evidence.
            ("de", 18): (109, 41, 8, 0), ("fr", 18): (99, 39, 9, 0), ("es", 18): (115, 49, 13, 0),
            # set 19 (session 21): written and committed before any change of session 21 that reads a held-out set
            # (international and mixed rooms: English words and half-sentences mixed in as each community does, an
            # English keyboard without accents, replies to an English line, newcomers' first messages); measured once
            # at that commit (the rules after rounds 18), on the writer's own words.
            # after round 20 (session 22; which never read them), floors raised: German 19 (99, 36, 9, 1 -> 102, 39, 11, 1),
            # Spanish 16 (100, 39 -> 101, 40); the others the same
            # Read by rounds 21 (session 26): tuning material since (before them: de 102, 39, 11, 1; fr 99, 36, 7, 0; es 108,
            # 45, 10, 0), held to what they reached.
            ("de", 19): (117, 47, 14, 0), ("fr", 19): (106, 42, 10, 0), ("es", 19): (114, 50, 12, 0),
            # set 20 (session 22): written and committed before any change of session 22 that reads a held-out set (an
            # ordinary fortnight in a peer-support room and the community rooms around it, no theme of earlier sets
            # favoured); measured once at that commit (the rules after rounds 19c), on the writer's own words.
            # Read by rounds 21 (session 26): tuning material since (before them: de 103, 39, 9, 0; fr 99, 36, 10, 1; es 108,
            # 43, 11, 0), held to what they reached.
            ("de", 20): (115, 50, 10, 0), ("fr", 20): (113, 47, 12, 0), ("es", 20): (118, 50, 14, 0),
            # set 21 (session 23): written and committed before any change of session 23 that reads a held-out set
            # (nights: the same rooms between late evening and early morning, night shifts, late gaming, exam nights,
            # regulars' in-jokes); measured once at that commit (the rules of session 22), on the writer's own words. Unread.
            # After rounds 21 (session 26; which never read it): German 107, 41, 10, 0 -> 110, 44, 11, 0; the others the same.
            # After rounds 22 (self-harm and eating acts; never read it either): German 111, 45, 11, 0; French 102, 40, 10, 1.
            ("de", 21): (111, 45, 11, 0), ("fr", 21): (102, 40, 10, 1), ("es", 21): (109, 44, 11, 1),
            # set 22 (session 26): written and committed before any change of session 26 that reads a held-out set
            # (December in the same rooms: the holidays and the end of the year); measured once at that commit (the
            # rules of session 22), on the writer's own words. Unread.
            ("de", 22): (107, 41, 12, 1), ("fr", 22): (100, 39, 7, 1), ("es", 22): (102, 37, 8, 0)}


# Session 26 raised every floor to what its detector reaches (rounds 21 and 22: sets 18 to 20 read, self-harm and eating
# acts; earlier sessions had left some floors below what later rounds reached): the comments above keep each set's story.


@pytest.mark.parametrize("language, number", sorted(MEASURED))
def test_held_out_sets_keep_what_was_measured_on_them(language, number):
    exact, hits, removed, false = MEASURED[language, number]
    report = evaluate(detector_for(PolicyLoader().load(f"default-{language}")),
                      LANG / f"{language}-heldout{number}.csv", "text", "label", read=own_words)
    got = (report.exact, report.any_tier.tp, 14 - report.missed_removals, report.false_removals)
    assert report.rows == 120
    assert got[0] >= exact and got[1] >= hits and got[2] >= removed and got[3] <= false, (
        f"{language} set {number}: (exact, any-tier hits, removed, false removals) = {got}, "
        f"measured {MEASURED[language, number]}")
