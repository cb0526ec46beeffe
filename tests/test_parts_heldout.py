"""Imminence by composition, measured on the held-out half (issue 25, item 2).

``tests/data/parts-heldout4.csv`` was written on 2026-12-03 by a helper who never saw the rules or the other
sets, and committed before the fourth round of rules was merged; nobody who wrote rules read it
(``tests/data/README.md``; the three earlier held-out sets were each measured once and then became tuning
material: ``parts-heldout3.csv`` is held below to what round 4 reached on it). Each part of an act or plan
(act, means, pronoun, timing, place, preparation, farewell, and the same lines obfuscated) has its own test,
so a change that only memorises the tuning sets' phrasings fails here. The floors are the figures measured
once after round 4 (docs/detection-quality.md), raised to what round 5 reached after reading this set's misses
(it is spent since: tuning material, its floors guard against a regression and are no evidence).

Failures name CSV line numbers and tiers, never the text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.core.quotes import own_words
from gateway.detection import detector_for
from gateway.policy.loader import PolicyLoader

DATA = Path(__file__).resolve().parent / "data"
HELDOUT = DATA / "parts-heldout4.csv"
SPENT = DATA / "parts-heldout3.csv"  # round 4 tuned on it
LEVEL = {"none": 0, "concern": 1, "high": 2, "imminent": 3}

# part -> least share of its imminent lines removed (measured after round 5, which tuned on this set's misses:
# regression floors, no longer evidence)
REMOVED_AT_LEAST = {  # measured: 6/6, 6/6, 5/6, 6/6, 6/6, 6/6, 6/6, 6/6 (round 4: 1, 5, 1, 3, 4, 1, 3, 6 of 6)
    "act": 1.0, "means": 1.0, "pronoun": 0.83, "timing": 1.0, "place": 1.0, "preparation": 1.0,
    "farewell": 1.0, "obfuscated": 1.0,
}
# part -> near misses removed (none since round 5: the sourdough and clay-pigeon lines are kept)
FALSE_REMOVALS_AT_MOST: dict[str, int] = {}


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
    """Someone else's act, a recovery story, a quote, everyday words, a joke: never a removal."""
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
    assert len(high) >= 6, f"self-harm and eating lines at high: {len(high)} of {len(lines)}; {lines}"


def test_the_spent_third_set_keeps_what_round_four_reached_on_it():
    """Round 4 tuned on the third held-out set (tuning material since): 45 of its 46 imminent lines removed,
    none of the others (a regression floor, not evidence)."""
    detector = detector_for(PolicyLoader().load("default"))
    with open(SPENT, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row, detector.would_remove(detector.detect(row["text"]))) for i, row in enumerate(rows)]
    kept = [n for n, row, removed in judged if row["label"] == "imminent" and not removed]
    wrong = [n for n, row, removed in judged if row["label"] != "imminent" and removed]
    assert len(kept) <= 1 and not wrong, f"not removed (CSV lines): {kept}; removed wrongly: {wrong}"


# Held-out set 5 (tests/data/parts-heldout5.csv): written on 2026-12-03 by another helper who never saw the rules,
# committed before round 5 was merged and measured once before and once after it (docs/detection-quality.md;
# removed after round 5: 3, 4, 2, 1, 3, 4, 4, 6 of 6). Rounds 7 and 8 read its misses: tuning material since, held
# to what round 8 reached (regression floors: the targets, 90% removed and no false removal, are missed
# and reported as missed on the sets nobody read).
HELDOUT5 = DATA / "parts-heldout5.csv"
REMOVED5_AT_LEAST = {  # measured after round 8: act 4, means 6, pronoun 3, timing 1, place 6, preparation 5, farewell 5, obfuscated 6 of 6
    "act": 0.66, "means": 1.0, "pronoun": 0.5, "timing": 0.16, "place": 1.0, "preparation": 0.83,
    "farewell": 0.83, "obfuscated": 1.0,
}
FALSE5_AT_MOST = {"means": 1, "pronoun": 1}  # measured before and after round 5 (a third-party line, an everyday one)


def shortfalls(detector, path, removed_at_least, false_at_most, high_at_least) -> list[str]:
    """What a held-out set misses against its floors, by CSV line number and tier or kind (never the text):
    each part's share of imminent lines removed, near misses removed per part, self-harm lines at high."""
    with open(path, newline="", encoding="utf-8") as fh:
        # the writer's own words, as a room reads them (a quoted line is someone else's: ``own_words``)
        judged = [(i + 2, row, detector.detect(own_words(row["text"]))) for i, row in enumerate(csv.DictReader(fh))]
    short = []
    for part, floor in sorted(removed_at_least.items()):
        lines = [(n, d) for n, row, d in judged if row["label"] == "imminent" and row["part"] == part]
        kept = [(n, d.tier) for n, d in lines if not detector.would_remove(d)]
        if not lines or 1 - len(kept) / len(lines) < floor:
            short.append(f"{part}: not removed (CSV line, tier): {kept}")
    false: dict[str, list] = {}
    for n, row, d in judged:
        if row["label"] != "imminent" and detector.would_remove(d):
            false.setdefault(row["part"], []).append((n, row["kind"]))
    short += [f"{part or 'no part'}: removed (CSV line, kind): {lines}" for part, lines in sorted(false.items())
              if len(lines) > false_at_most.get(part, 0)]
    high = [n for n, row, d in judged if row["kind"] == "sh_ed" and d.tier == "high"]
    if len(high) < high_at_least:
        short.append(f"self-harm and eating lines at high: {len(high)}")
    return short


# Held-out set 6 (tests/data/parts-heldout6.csv): written on 2026-12-03 by a third helper who never saw the rules,
# after round 5 was merged; measured with the shipped rules and with a round 6 that was then not shipped (it
# changed nothing here), read by round 8 (session 14): tuning material since. Floors are what round 8 reached.
HELDOUT6 = DATA / "parts-heldout6.csv"
REMOVED6_AT_LEAST = {  # measured: act 5, means 6, pronoun 3, timing 3, place 5, preparation 5, farewell 6, obfuscated 6 of 6
    "act": 0.83, "means": 1.0, "pronoun": 0.5, "timing": 0.5, "place": 0.83, "preparation": 0.83,
    "farewell": 1.0, "obfuscated": 1.0,
}
FALSE6_AT_MOST = {"": 2}  # measured: two ideation lines (labelled high, no part) removed


# Held-out set 7 (tests/data/parts-heldout7.csv): written on 2026-12-03 (session 13) by an eighth helper who never
# saw the rules, asked for wordings a rule author would not guess; committed before any change of that session and
# measured with the shipped rules (removed: act 5, means 4, pronoun 1, timing 1, place 3, preparation 2, farewell 3,
# obfuscated 4 of 6; one recovery story removed), then after that session's self-harm and eating round (4 of its 8
# self-harm and eating lines at high, 2 before). Round 8 (session 14) read its misses: tuning material since, held
# to what round 8 reached.
HELDOUT7 = DATA / "parts-heldout7.csv"
REMOVED7_AT_LEAST = {  # measured: act 6, means 4, pronoun 2, timing 3, place 6, preparation 3, farewell 5, obfuscated 4 of 6
    "act": 1.0, "means": 0.66, "pronoun": 0.33, "timing": 0.5, "place": 1.0, "preparation": 0.5,
    "farewell": 0.83, "obfuscated": 0.66,
}
FALSE7_AT_MOST = {"act": 1}  # measured: one recovery story (part act) removed


# Held-out set 8 (tests/data/parts-heldout8.csv): written on 2026-12-03 (session 14) by a ninth helper who never saw
# the rules, committed before round 8, which never read it. Measured once with the shipped rules (exact 86 of 120,
# any tier 34 of 66, removed 23 of 48, one false removal) and once after round 8 (87, 40, 24, the same one);
# floors were the latter, by part; round 10 (session 15) read its misses: tuning material since, held to what round 10
# reached (regression floors).
HELDOUT8 = DATA / "parts-heldout8.csv"
REMOVED8_AT_LEAST = {  # after round 10: act 5, means 3, pronoun 3, timing 2, place 3, preparation 3, farewell 4, obfuscated 5 of 6
    "act": 0.83, "means": 0.5, "pronoun": 0.5, "timing": 0.33, "place": 0.5, "preparation": 0.5,
    "farewell": 0.66, "obfuscated": 0.83,
}
FALSE8_AT_MOST = {"": 1}  # measured: one line without a part (labelled high) removed
# (a round 9 read set 8's misses and was not shipped: it moved no line of set 9; set 8 is read since)


# Held-out set 9 (tests/data/parts-heldout9.csv): written on 2026-12-03 (session 14) by a tenth helper who never saw
# the rules, committed before round 9, which read set 8 and was not shipped (it moved no line of set 9). Measured
# with the shipped rules: exact 89 of 120, any tier 46 of 66, removed 25 of 48, one false removal. Round 10 (session
# 15) read its misses: tuning material since, held to what round 10 reached (exact 91, removed 27), by part below.
HELDOUT9 = DATA / "parts-heldout9.csv"
REMOVED9_AT_LEAST = {  # after round 10: act 3, means 4, pronoun 2, timing 3, place 5, preparation 2, farewell 5, obfuscated 3 of 6
    "act": 0.5, "means": 0.66, "pronoun": 0.33, "timing": 0.5, "place": 0.83, "preparation": 0.33,
    "farewell": 0.83, "obfuscated": 0.5,
}
FALSE9_AT_MOST = {"farewell": 1}  # measured: one near miss of part farewell removed


# Held-out set 10 (tests/data/parts-heldout10.csv): written on 2026-12-03 (session 15) by an eleventh helper who never
# saw the rules, asked also for second-person self-talk, logistics, typos in the key word and jokes that turn serious;
# committed before round 10, which read sets 8 and 9 and never this one. Measured with the shipped rules before round
# 10 (exact 77 of 120, any tier 29 of 66, removed 16 of 48, no false removal) and after it (79, 32, 18, none). Round
# 11 read its misses: tuning material since, held to what round 11 reached (85, 41, 24, none), by part below.
HELDOUT10 = DATA / "parts-heldout10.csv"
REMOVED10_AT_LEAST = {  # after round 11: act 5, means 4, pronoun 2, timing 1, place 3, preparation 1, farewell 3, obfuscated 5 of 6
    "act": 0.83, "means": 0.66, "pronoun": 0.33, "timing": 0.16, "place": 0.5, "preparation": 0.16,
    "farewell": 0.5, "obfuscated": 0.83,
}
FALSE10_AT_MOST: dict[str, int] = {}  # measured: none


# Held-out set 11 (tests/data/parts-heldout11.csv): written on 2026-12-03 (session 15) by a twelfth helper who never
# saw the rules, asked for tired late-night writing; committed before round 11, which never read it. Measured with
# the rules after round 10 (exact 81 of 120, any tier 36 of 66, removed 22 of 48, three false removals) and after
# round 11 (82, 37, 23, the same three). Round 12 (session 16) read its misses: tuning material since, held to what
# round 12 reached (87, 45, 27, two false), by part below.
HELDOUT11 = DATA / "parts-heldout11.csv"
REMOVED11_AT_LEAST = {  # after round 12: act 3, means 4, pronoun 3, timing 2, place 2, preparation 3, farewell 4, obfuscated 6 of 6
    "act": 0.5, "means": 0.66, "pronoun": 0.5, "timing": 0.33, "place": 0.33, "preparation": 0.5,
    "farewell": 0.66, "obfuscated": 1.0,
}
FALSE11_AT_MOST = {"means": 1, "pronoun": 1}  # after round 12: a third-party line, an everyday line


# Held-out set 12 (tests/data/parts-heldout12.csv): written on 2026-12-04 (session 16) by a thirteenth helper who never
# saw the rules, asked for mid-conversation replies, self-correction, voice-to-text and arrangements for others;
# committed before round 12. Measured with the rules before round 12 and after it (exact 89 of 120, any tier 42 of
# 66, removed 22 of 48, two false removals both times) and after round 13 (89, 43, 22, 2). Round 14 read its misses:
# tuning material since, held to what round 14 reached (92, 45, 25, two false), by part below.
HELDOUT12 = DATA / "parts-heldout12.csv"
REMOVED12_AT_LEAST = {  # after round 14: act 3, means 2, pronoun 1, timing 3, place 2, preparation 3, farewell 5, obfuscated 6 of 6
    "act": 0.5, "means": 0.33, "pronoun": 0.16, "timing": 0.5, "place": 0.33, "preparation": 0.5,
    "farewell": 0.83, "obfuscated": 1.0,
}
FALSE12_AT_MOST = {"pronoun": 1, "means": 1}  # measured: two everyday lines


# Held-out set 13 (tests/data/parts-heldout13.csv): written on 2026-12-04 (session 16) by a fourteenth helper who never
# saw the rules, asked for hurried phone writing and people whose work puts the means in their hands; committed
# before rounds 13 and 14, which never read it. Measured before them and after them: the same (exact 80 of 120, any
# tier 34 of 66, removed 16 of 48, one false removal). Round 15 read its misses: tuning material since, held to what
# round 15 reached (exact 102, any tier 51, removed 38, no false removal: regression floors, no evidence), by part below.
HELDOUT13 = DATA / "parts-heldout13.csv"
REMOVED13_AT_LEAST = {  # after round 15: act 6, means 5, pronoun 4, timing 3, place 4, preparation 4, farewell 6, obfuscated 6 of 6
    "act": 1.0, "means": 0.83, "pronoun": 0.66, "timing": 0.5, "place": 0.66, "preparation": 0.66,
    "farewell": 1.0, "obfuscated": 1.0,
}
FALSE13_AT_MOST: dict[str, int] = {}  # after round 15: none (before it, one everyday line of part farewell)


# Held-out set 14 (tests/data/parts-heldout14.csv): written on 2026-12-04 (session 17) by a fifteenth helper who never
# saw the rules, asked for long peer-support posts (a quarter of the lines, the risk one sentence among several),
# replies in a conversation and take-backs; committed before round 15, which never read it. Measured before round 15
# (exact 89 of 120, any tier 49 of 66, removed 30 of 48, two false removals) and after it (below). Read by round 16
# (session 19, its false removals): tuning material since.
HELDOUT14 = DATA / "parts-heldout14.csv"
REMOVED14_AT_LEAST = {  # after round 15: act 3, means 5, pronoun 4, timing 2, place 4, preparation 4, farewell 5, obfuscated 5 of 6
    "act": 0.5, "means": 0.83, "pronoun": 0.66, "timing": 0.33, "place": 0.66, "preparation": 0.66,
    "farewell": 0.83, "obfuscated": 0.83,
}
FALSE14_AT_MOST: dict[str, int] = {}  # two everyday lines before and after round 15; none after round 16, which read them


# Held-out set 15 (tests/data/parts-heldout15.csv): written on 2026-12-04 (session 18) by a sixteenth helper who never
# saw the rules, asked for risk said without a word for death, very short lines and lines referring back; committed
# before any change of session 18 and measured once at its start's commit and once at its end (the same both times:
# exact 87 of 120, any tier 50 of 66, removed 28 of 48, two false removals: a recovery story and an everyday line).
# Read by round 16 (session 19, its false removals): tuning material since.
HELDOUT15 = DATA / "parts-heldout15.csv"
REMOVED15_AT_LEAST = {  # act 2, means 5, pronoun 3, timing 3, place 4, preparation 2, farewell 5, obfuscated 4 of 6
    "act": 0.33, "means": 0.83, "pronoun": 0.5, "timing": 0.5, "place": 0.66, "preparation": 0.33,
    "farewell": 0.83, "obfuscated": 0.66,
}
FALSE15_AT_MOST: dict[str, int] = {}  # a recovery story and an everyday line; none after round 16, which read them


# Held-out set 16 (tests/data/parts-heldout16.csv): written on 2026-12-04 (session 19) by a seventeenth helper who never
# saw the rules, asked for writers in particular lives, lines typed on a phone in a hurry, emoji, and lines quoting
# another person's message before the writer's own reply; committed before any change of session 19 that reads a
# held-out set, and measured once, with the writer's own words (a quoted line left out, as a room does): exact 79 of
# 120, any tier 38 of 66, removed 21 of 48, three false removals (two everyday lines, a recovery story). Read by round
# 17 (session 20): tuning material since, held at what that round reached (exact 96, any tier 51, removed 30, none false).
HELDOUT16 = DATA / "parts-heldout16.csv"
REMOVED16_AT_LEAST = {  # act 4, means 6, pronoun 3, timing 3, place 3, preparation 2, farewell 4, obfuscated 5 of 6
    "act": 0.66, "means": 1.0, "pronoun": 0.5, "timing": 0.5, "place": 0.5, "preparation": 0.33,
    "farewell": 0.66, "obfuscated": 0.83,
}
# round 17 fixed the three (a boat's rope, knives for tomatoes, a past told "years on"); the imminence score (session 26,
# tests/test_model_imminence.py) removes one ideation line labelled high (CSV line 57): the one false removal it makes on
# a read set, kept for what it removes on unread ones (docs/detection-quality.md)
FALSE16_AT_MOST = {"": 1}

# Held-out set 17 (tests/data/parts-heldout17.csv): written on 2026-12-05 (session 20) by an eighteenth helper who never
# saw the rules, asked for lines from eight kinds of room (a gaming guild, a queer community, students, parents, a
# chronic-illness group, a sports club, night-shift workers, language learners) in their registers and in British,
# Irish, Scottish, Australian, American, Indian and second-language English, risk as the second or third thing said,
# imminent lines with a single sign; committed before any change of session 20 that reads a held-out set, and
# measured once on the writer's own words: exact 80 of 120, any tier 38 of 66, removed 20 of 48, no false removal; after
# round 17, which never read it: 81, 38, 20, 0. Read by round 18 (session 20): tuning material since, held at what that
# round reached (94, 47, 27, 0).
HELDOUT17 = DATA / "parts-heldout17.csv"
REMOVED17_AT_LEAST = {  # act 4, means 4, pronoun 4, timing 4, place 2, preparation 1, farewell 5, obfuscated 3 of 6
    "act": 0.66, "means": 0.66, "pronoun": 0.66, "timing": 0.66, "place": 0.33, "preparation": 0.16,
    "farewell": 0.83, "obfuscated": 0.5,
}
FALSE17_AT_MOST: dict[str, int] = {}  # measured: none

# Held-out set 18 (tests/data/parts-heldout18.csv): written on 2026-12-05 (session 20) by a nineteenth helper who never
# saw the rules, asked for long-running peer-support rooms (regulars who refer back to what they said, in-jokes and dark
# humour, the safety bot and the moderators named, replies by name, lines at night); committed after round 17, which
# never read it, and before any change that reads a held-out set since; measured once on the writer's own words: exact
# 91 of 120, any tier 47 of 66, removed 26 of 48, one false removal (a self-harm line labelled high). Round 21 (session
# 26) read its misses: tuning material since, held to what the round reached (94, 48, 29, 1; before it 92, 47, 27, 1).
HELDOUT18 = DATA / "parts-heldout18.csv"
REMOVED18_AT_LEAST = {  # act 3, means 5, pronoun 4, timing 2, place 3, preparation 3, farewell 4, obfuscated 5 of 6
    "act": 0.5, "means": 0.83, "pronoun": 0.66, "timing": 0.33, "place": 0.5, "preparation": 0.5,
    "farewell": 0.66, "obfuscated": 0.83,
}
FALSE18_AT_MOST = {"": 1}  # measured: a self-harm line labelled high

# Held-out set 19 (tests/data/parts-heldout19.csv): written on 2026-12-05 (session 21) by a twentieth helper who never
# saw the rules, asked for international rooms that meet in English (about half the lines by people whose first language
# is not English, with their grammar and a word of their own language now and then; newcomers' first messages);
# committed before any change of session 21 that reads a held-out set, and measured once on the writer's own words:
# exact 75 of 120, any tier 41 of 66, removed 19 of 48, three false removals (a joke, two everyday lines). Round 21
# (session 26) read its misses (tuning material since) and moved none of its answers.
HELDOUT19 = DATA / "parts-heldout19.csv"
# After round 20 (session 22, second-language English; it never read the set): exact 77, any tier 43, removed 21 (an
# act under way 1 -> 3 of 6), the same three false removals.
REMOVED19_AT_LEAST = {  # act 3, means 4, pronoun 4, timing 1, place 2, preparation 2, farewell 2, obfuscated 3 of 6
    "act": 0.5, "means": 0.66, "pronoun": 0.66, "timing": 0.16, "place": 0.33, "preparation": 0.33,
    "farewell": 0.33, "obfuscated": 0.5,
}
FALSE19_AT_MOST = {"": 1, "means": 1, "farewell": 1}  # measured: a joke; everyday lines mimicking means and farewell

# Held-out set 20 (tests/data/parts-heldout20.csv): written on 2026-12-05 (session 22) by a twenty-first helper who
# never saw the rules, asked for an ordinary fortnight in a peer-support room and the community rooms around it (no theme
# of earlier sets favoured); committed before any change of session 22 that reads a held-out set (the rules after rounds
# 19c), and measured once on the writer's own words: exact 90 of 120, any tier 54 of 66, removed 29 of 48, two false
# removals (everyday lines mimicking a place and a farewell). Round 21 (session 26) read its misses: tuning material
# since, held to what the round reached (96, 55, 34, 2).
HELDOUT20 = DATA / "parts-heldout20.csv"
REMOVED20_AT_LEAST = {  # act 4, means 4, pronoun 4, timing 5, place 5, preparation 3, farewell 5, obfuscated 4 of 6
    "act": 0.66, "means": 0.66, "pronoun": 0.66, "timing": 0.83, "place": 0.83, "preparation": 0.5,
    "farewell": 0.83, "obfuscated": 0.66,
}
FALSE20_AT_MOST = {"place": 1, "farewell": 1}  # measured: everyday lines mimicking a place and a farewell

# Held-out set 21 (tests/data/parts-heldout21.csv): written on 2026-12-05 (session 23) by a twenty-second helper who
# never saw the rules, asked for nights in the same rooms (late evening to early morning: people who cannot sleep, night
# shifts, a late gaming session, exam nights, regulars' in-jokes); committed before any change of session 23 that reads
# a held-out set (the rules of session 22), and measured once on the writer's own words: exact 91 of 120, any tier 51 of
# 66, removed 29 of 48, two false removals (a recovery story and an ideation line labelled high). Unread.
HELDOUT21 = DATA / "parts-heldout21.csv"
# With the imminence score (session 26; it never read the set): exact 96, removed 34 of 48, the same two false removals.
REMOVED21_AT_LEAST = {  # act 5, means 4, pronoun 6, timing 3, place 4, preparation 5, farewell 2, obfuscated 5 of 6
    "act": 0.83, "means": 0.66, "pronoun": 1.0, "timing": 0.5, "place": 0.66, "preparation": 0.83,
    "farewell": 0.33, "obfuscated": 0.83,
}
FALSE21_AT_MOST = {"": 2}  # measured: a recovery story and an ideation line labelled high

# Held-out set 22 (tests/data/parts-heldout22.csv): written on 2026-12-06 (session 26) by a twenty-third helper who
# never saw the rules, asked for December in the same rooms (the holidays and the end of the year: family gatherings and
# being alone, money and presents, exams and deadlines, winter, New Year's Eve); committed before any change of session
# 26 that reads a held-out set (the rules of session 22), and measured once on the writer's own words: exact 93 of 120,
# any tier 55 of 66, removed 29 of 48, two false removals (everyday lines mimicking a farewell and an obfuscated line).
# Unread.
HELDOUT22 = DATA / "parts-heldout22.csv"
# With the imminence score (session 26; it never read the set): exact 96, removed 32 of 48, the same two false removals.
REMOVED22_AT_LEAST = {  # act 3, means 3, pronoun 4, timing 5, place 4, preparation 4, farewell 3, obfuscated 6 of 6
    "act": 0.5, "means": 0.5, "pronoun": 0.66, "timing": 0.83, "place": 0.66, "preparation": 0.66,
    "farewell": 0.5, "obfuscated": 1.0,
}
FALSE22_AT_MOST = {"farewell": 1, "obfuscated": 1}  # measured: everyday lines mimicking a farewell and obfuscation

# set -> (file, least share removed per part, most false removals per part, least self-harm and eating lines at high)
MEASURED = {5: (HELDOUT5, REMOVED5_AT_LEAST, FALSE5_AT_MOST, 8), 6: (HELDOUT6, REMOVED6_AT_LEAST, FALSE6_AT_MOST, 8),
            7: (HELDOUT7, REMOVED7_AT_LEAST, FALSE7_AT_MOST, 8), 8: (HELDOUT8, REMOVED8_AT_LEAST, FALSE8_AT_MOST, 8),
            9: (HELDOUT9, REMOVED9_AT_LEAST, FALSE9_AT_MOST, 8), 10: (HELDOUT10, REMOVED10_AT_LEAST, FALSE10_AT_MOST, 8),
            11: (HELDOUT11, REMOVED11_AT_LEAST, FALSE11_AT_MOST, 8), 12: (HELDOUT12, REMOVED12_AT_LEAST, FALSE12_AT_MOST, 7),
            13: (HELDOUT13, REMOVED13_AT_LEAST, FALSE13_AT_MOST, 7), 14: (HELDOUT14, REMOVED14_AT_LEAST, FALSE14_AT_MOST, 7),
            15: (HELDOUT15, REMOVED15_AT_LEAST, FALSE15_AT_MOST, 8), 16: (HELDOUT16, REMOVED16_AT_LEAST, FALSE16_AT_MOST, 8),
            17: (HELDOUT17, REMOVED17_AT_LEAST, FALSE17_AT_MOST, 8), 18: (HELDOUT18, REMOVED18_AT_LEAST, FALSE18_AT_MOST, 7),
            19: (HELDOUT19, REMOVED19_AT_LEAST, FALSE19_AT_MOST, 8), 20: (HELDOUT20, REMOVED20_AT_LEAST, FALSE20_AT_MOST, 7),
            21: (HELDOUT21, REMOVED21_AT_LEAST, FALSE21_AT_MOST, 6), 22: (HELDOUT22, REMOVED22_AT_LEAST, FALSE22_AT_MOST, 8)}


# Session 26 raised the self-harm and eating floors (the last figure) to what round 22 reached; on the unread sets 21 and
# 22 (which it never read) 4 -> 6 and 7 -> 8 of 8.
@pytest.mark.parametrize("number", sorted(MEASURED))
def test_a_later_held_out_set_keeps_what_was_measured_on_it_part_by_part(shipped_policy, number):
    short = shortfalls(detector_for(shipped_policy("default")), *MEASURED[number])
    assert not short, f"set {number}:\n" + "\n".join(short)
