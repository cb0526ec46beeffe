"""French detection with the shipped ``default-fr`` policy (issue 27, item 2).

``tests/data/lang/fr-own.csv`` holds chat lines written by the rules' author (every tier, idioms, jokes,
negation, the past, reported speech, third parties, abuse, chat and regional spellings); every line must
keep its tier except the three listed below. ``tests/data/lang/fr-tune.csv`` is the tuning half written by
someone who never saw the rules: each kind must stay at the floor measured when the rules were tuned.
``tests/data/lang/fr-heldout.csv`` is round 1's held-out half (measured once unseen: any-tier recall 0.46), now
tuning material for round 2 with floors of its own. The lines at the end of fr-own.csv (scenario ``round2``)
are the wordings that half taught (Quebec "pu", "m'effacer completement", "ca m'est egal de vivre ou de
mourir", taillade/entaille, injected insulin, a belt round a beam...) reworded, with hard negatives beside them.
``tests/data/lang/fr-heldout2.csv`` is round 2's held-out half (measured once unseen: any-tier recall 0.60, 8 of 14
removed), tuning material for round 3; ``tests/data/lang/fr-own-r3.csv`` holds round 3's own rewordings of each idea
it taught, with near misses. Neither is evidence of quality on unseen text (docs/detection-quality.md). Failures
name CSV line numbers and tiers, never the text.
"""

from __future__ import annotations

import csv
import functools
import unicodedata
from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.policy.loader import PolicyLoader

from .lines import wrong_lines

DATA = Path(__file__).resolve().parent / "data" / "lang"
LEVEL = {"none": 0, "concern": 1, "high": 2, "imminent": 3}

# Own lines the rules still get wrong, by CSV line (label -> detected), kept visible rather than fixed by
# a phrase that fits only them: a teacher-driven "je vais me jeter par la fenetre" with no joke marker reads
# as meant. (Round 5: the act named before "de ma mere", read as hers, is the writer's: someone named after
# "de" owns the means; "pas tenir longtemps" with "plus la force" reaches concern by the rebuilt model.)
OWN_KNOWN_MISSES = {217: ("none", "high")}

# fr-tune.csv, kind -> least share of its lines at exactly their tier (all 120 were right when tuned)
TUNE_EXACT_AT_LEAST = {"risk": 0.95, "distress": 1.0, "idiom": 0.9, "ordinary": 1.0, "joke": 0.83,
                       "abuse": 1.0, "third_party": 0.83, "reported": 1.0, "negation": 1.0, "past": 0.8,
                       "medical": 1.0, "lyric": 1.0}

# fr-heldout.csv (round 1's held-out half, tuned on in rounds 2 and 3), kind -> least share at exactly their tier
# (round 3 reads "me laisser mourir de faim" past the hunger idiom and "comment je vais m'y prendre. j'ai deja
# quelques idees" as a plan).
HELDOUT1_EXACT_AT_LEAST = {"risk": 1.0, "distress": 1.0, "idiom": 1.0, "ordinary": 1.0, "joke": 1.0,
                           "abuse": 1.0, "third_party": 1.0, "reported": 1.0, "negation": 1.0, "past": 1.0,
                           "medical": 1.0, "lyric": 1.0}
# fr-heldout.csv, label -> least share of its lines given any tier (round 1 unseen: 6/18, 9/18, 8/14)
HELDOUT1_ANY_TIER_AT_LEAST = {"concern": 1.0, "high": 1.0, "imminent": 1.0}

# fr-heldout2.csv (round 2's held-out half, measured once unseen: any-tier recall 0.60, 8/14 removed), tuned on in
# round 3: every kind at exactly its tier
HELDOUT2_EXACT_AT_LEAST = {kind: 1.0 for kind in HELDOUT1_EXACT_AT_LEAST}


def _rows(name: str) -> list[tuple[int, dict]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return [(n, row) for n, row in enumerate(csv.DictReader(f), start=2)]


@pytest.fixture(scope="module")
def detector(shipped_policy):
    return detector_for(shipped_policy("default-fr"))


@functools.cache  # several tests read one file's answers: judged once a worker (the module's detector is the key)
def _judge(detector, name: str) -> list[tuple[int, dict, object]]:
    rows = _rows(name)
    found = detector.detect_many([row["text"] for _, row in rows])
    return [(n, row, d) for (n, row), d in zip(rows, found)]


def test_own_lines_keep_their_tier(detector):
    judged = _judge(detector, "fr-own.csv")
    assert len(judged) >= 150
    wrong = {n: (row["label"], d.tier) for n, row, d in judged if d.tier != row["label"]}
    assert wrong == OWN_KNOWN_MISSES


def test_own_lines_never_remove_a_line_not_imminent(detector):
    removed = [n for n, row, d in _judge(detector, "fr-own.csv") if row["label"] != "imminent" and d.tier == "imminent"]
    assert removed == []


def test_own_abuse_is_an_alert_never_the_writers_risk(detector):
    for n, row, d in _judge(detector, "fr-own.csv"):
        if row["kind"] == "abuse":
            assert (n, bool(d.abuse), d.tier) == (n, True, "none")


@pytest.mark.parametrize("name, floors", [("fr-tune.csv", TUNE_EXACT_AT_LEAST),
                                           ("fr-heldout.csv", HELDOUT1_EXACT_AT_LEAST),
                                           ("fr-heldout2.csv", HELDOUT2_EXACT_AT_LEAST)])
def test_tuning_half_per_kind_floor(detector, name, floors):
    by_kind: dict[str, list[bool]] = {}
    for _, row, d in _judge(detector, name):
        by_kind.setdefault(row["kind"], []).append(d.tier == row["label"])
    shares = {kind: sum(ok) / len(ok) for kind, ok in by_kind.items()}
    low = {kind: round(share, 2) for kind, share in shares.items() if share < floors[kind]}
    assert low == {}


def test_round_one_heldout_half_risk_gets_a_tier(detector):
    by_label: dict[str, list[bool]] = {}
    for _, row, d in _judge(detector, "fr-heldout.csv"):
        if row["label"] != "none":
            by_label.setdefault(row["label"], []).append(d.tier != "none")
    shares = {label: round(sum(ok) / len(ok), 2) for label, ok in by_label.items()}
    assert {label: share for label, share in shares.items() if share < HELDOUT1_ANY_TIER_AT_LEAST[label]} == {}


@pytest.mark.parametrize("name", ["fr-tune.csv", "fr-heldout.csv", "fr-heldout2.csv"])
def test_tuning_half_removals(detector, name):
    judged = _judge(detector, name)
    false = [n for n, row, d in judged if row["label"] != "imminent" and d.tier == "imminent"]
    missed = [n for n, row, d in judged if row["label"] == "imminent" and d.tier != "imminent"]
    assert (false, missed) == ([], [])


@pytest.mark.parametrize("text, tier", [
    ("mdr je meurs", "none"),
    ("ptdr jsuis mort", "none"),
    ("tu me tues avec tes blagues", "none"),
    ("ça me tue cette histoire", "none"),
    ("je vais le tuer s'il mange encore mon yaourt", "none"),
    ("je suis mort de fatigue ce soir", "none"),
    ("je n'ai aucune envie de mourir je vais bien", "none"),
    ("j'aimerais m'endormir et ne plus me réveiller", "concern"),
    ("jen peux plus de cette vie", "concern"),
    ("j'ai envie de me scarifier", "high"),
    ("je vais me foutre en l'air", "high"),
    ("je les ai toutes prises", "imminent"),
    ("chui sur le pont, adieu", "imminent"),
])
def test_french_chat_spellings_and_idioms(detector, text, tier):
    assert detector.detect(text).tier == tier


def test_someone_named_as_the_subject_is_a_third_party_case(detector):
    # "mon" before someone named is not the writer speaking of themselves; "je" is
    d = detector.detect("mon frère veut mourir il arrête pas de le dire")
    assert (d.tier, d.third_party) == ("none", ("third_party.someone_they_know",))
    assert detector.detect("mon frère est parti, je veux mourir").tier == "high"


def test_a_french_past_tense_told_with_a_past_cue_after_it_is_past(detector):
    assert detector.detect("j'ai fait une TS il y a 5 ans, aujourd'hui je suis maman").tier == "none"
    assert detector.detect("j'ai envie de faire une TS").tier == "high"


def test_a_room_policy_extends_default_fr(tmp_path):
    room = tmp_path / "entraide.yaml"
    room.write_text("extends: default-fr\nname: entraide\nregion: FR\n"
                    "compose:\n  parts:\n    place: {phrases: [\"la vieille carriere\"]}\n", encoding="utf-8")
    policy = PolicyLoader().load(str(room))
    assert (policy.language, policy.region) == ("fr", "FR")
    d = detector_for(policy).detect("je suis au bord de la vieille carrière, adieu")
    assert (d.tier, d.rules) == ("imminent", ("imminent.compose.place_farewell",))


# fr-own-r3.csv: round 3's own lines, each idea a held-out line taught reworded 2-4 ways (a wish for an accident or
# for life to stop, a weight for everyone, a dose "pour pas se reveiller", a height asked about, bridges scouted,
# burns, blades kept "au cas ou", a loaded gun on the lap, a blade aimed at the wrist, letters then a roof, legs
# over the void, SMS and Quebec spellings ...) with the near misses that must stay as they are. By line number:
# a failure names the line and the tiers, never the text.
R3_LINES = {n: row for n, row in _rows("fr-own-r3.csv")}


def _judged(detector, lines: dict) -> dict:
    """Each numbered line's detection, in one batch."""
    numbers = sorted(lines)
    return dict(zip(numbers, detector.detect_many([lines[n]["text"] for n in numbers])))


@pytest.fixture(scope="module")
def r3_judged(detector):
    return _judged(detector, R3_LINES)


def test_round_three_own_line_keeps_its_tier(detector, r3_judged):
    def judge(line, row):
        d = r3_judged[line]
        return (d.tier, detector.would_remove(d)), (row["label"], row["label"] == "imminent")
    wrong = wrong_lines(sorted(R3_LINES.items()), judge)
    assert not wrong, f"fr-own-r3.csv: {wrong}"


@pytest.mark.parametrize("text, tier", [
    # French impersonal "il" names nobody: the writer's own question
    ("il faut combien de doliprane pour mourir", "high"),
    ("il y a des jours où je veux juste mourir", "high"),
    # a verb with "je" elided ("si j'étais") is the writer speaking of themselves beside "ils"
    ("ils seraient soulagés si j'étais plus là, mes parents", "concern"),
    # "si j'étais mort" is a hypothesis told now, not the past, even with "l'an dernier" after it
    ("je pense souvent que ce serait mieux si j'étais mort dans mon accident l'an dernier", "concern"),
    ("j'ai fait une TS il y a 5 ans, aujourd'hui je suis maman", "none"),
    # a condition told after an act under way does not cap it; one told before the act does
    ("j'ai avalé toute ma plaquette de xanax, jsais pas si je dois prévenir quelqu'un ou si je laisse faire", "imminent"),
    ("si je prends tous mes cachets ce soir, ça me tuerait ?", "high"),
    # a bare "toutes" is a dose only after pills named
    ("j'ai bu toutes les bières du frigo", "none"),
    ("je prends toutes mes affaires ce soir et je déménage", "none"),
    ("les cachets sont là, je vais les prendre toutes ce soir", "imminent"),
])
def test_round_three_whose_words_and_when(detector, text, tier):
    assert detector.detect(text).tier == tier


@pytest.mark.parametrize("name, least_french", [("fr-heldout.csv", 117), ("fr-heldout2.csv", 119), ("fr-tune.csv", 120)])
def test_french_lines_are_identified_as_french(name, least_french):
    """In a room of another language, a French line gets the French rules only if identified as French: on the
    tuning halves (120 lines each; round 2's word list: 112, 115, 119) none is named another language."""
    from gateway.text.folding import normalise
    from gateway.detection.language import identify

    found = [identify(normalise(row["text"]), row["text"]) for _, row in _rows(name)]
    assert sorted({lang for lang in found} - {"fr", None}) == []
    assert sum(lang == "fr" for lang in found) >= least_french


# fr-own-r4.csv: round 4's own lines. Lines 2-31 (scenario ``r4-blind``) were written and scored before set 3's
# misses were read (27 of 30 right, 6 of 6 removed, no false removal: the estimate for an unseen set); then the
# near misses written against each imminence rule (``r4-near-miss``: a goodbye at work or on a server, a trip, a
# night shift, a film, meds fetched or put away, a fall, a tournament lost, a confession ...), none of which may be
# removed; then set 3's misses as ideas reworded (``r4-...``) with near misses beside them; then a second blind batch
# (``r4-blind2``, scored after tuning, before any change for it: 28 of 30 right, 6 of 6 removed, one false removal,
# "je serai plus la demain au bureau", now fixed with the near misses after it) and a third of risk lines only
# (``r4-blind3``: 18 of 20 given a tier, 4 of 5 removed before the two ideas they taught were added) and of concern
# and high lines (``r4-blind4``: 7 of 10 given a tier before). The rules still give a
# wrong tier to the eight lines below (never a removal): a wish told "si je pouvais m'endormir pour toujours"
# read as high (an intent capped by the condition); a goodbye on leaving a job or a country told with "merci pour
# tout" / "je vous aime", pills put away or vitamins (the stockpiling and dose words), a dose asked "pour un
# devoir", a threat about a teacher with no joke marker, a therapist's question told ("ma psy m'a demande ... j'ai dit non").
R4_LINES = {n: row for n, row in _rows("fr-own-r4.csv")}
R4_KNOWN_MISSES = {32: ("none", "high"), 35: ("none", "high"), 115: ("none", "high"), 131: ("none", "high"),
                   155: ("none", "high"), 196: ("none", "high"), 424: ("none", "high"),
                   443: ("concern", "high")}


@pytest.fixture(scope="module")
def r4_judged(detector):
    return _judged(detector, R4_LINES)


def test_round_four_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r4_judged):
    def judge(line, row):
        d = r4_judged[line]
        expected = R4_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, row["label"] == "imminent")
    wrong = wrong_lines(sorted(R4_LINES.items()), judge)
    assert not wrong, f"fr-own-r4.csv: {wrong}"


def test_round_four_near_misses_are_never_removed(r4_judged, detector):
    near = [n for n, row in R4_LINES.items() if row["scenario"] == "r4-near-miss"]
    assert len(near) >= 150
    assert [n for n in near if detector.would_remove(r4_judged[n])] == []


def test_round_four_heldout3_is_tuning_material(detector):
    """Set 3 (measured once unseen after round 3: any-tier recall 0.74, 9 of 14 removed, 2 false alarms) was
    tuned on in round 4: every line at its tier, no false removal."""
    judged = _judge(detector, "fr-heldout3.csv")
    assert [(n, row["label"], d.tier) for n, row, d in judged if d.tier != row["label"]] == []
    assert [n for n, row, d in judged if detector.would_remove(d) != (row["label"] == "imminent")] == []


# fr-own-r5.csv: round 5's own lines, written before the rules they test: each class a miss of set 4 taught
# (means owned by someone named "de ma mere", love told in the past as a goodbye, natural heights and "c'est
# maintenant", "presque" naming the battery, "j'ecris ici" as the chat itself and "jsp pq j'ecris ici" at a
# height, "jpense a me tuer", the least height or dose "pour pas se rater", a condition told with "je rigole
# pas", cuts told as nouns, "j'ai des idees de suicide", "ca me derangerait pas de mourir", a burden told
# comparatively, a crash prayed for, "depuis lundi" as a duration, a denial of self-harm), 3-6 risk lines
# in new wordings with near misses beside each. Then a blind batch (``r5-blind``, lines 116-148, scored before
# any rule for it: 20 of 26 risk lines given a tier, 7 of 10 removed, no near miss raised) whose misses taught
# a whole blister or bottle and benzo slang, a car in a closed garage, a rig with a goodbye, an arm "ouvert",
# a letter written with the day not chosen, Quebec "le gout de"; their near misses follow (``r5-blind-class-near``,
# written after those rules). Known misses (never a false removal): rocks "au bout de la plage" (the beach
# reads as an outing), pills put aside "depuis lundi ... c'est pour ce soir" (the time is inside the plan's own
# words), how long dying "de froid" takes (the cold idiom wins). A second blind batch (``r5-blind2``, lines
# 165-198: 18 of 26 given a tier, concern 3 of 8, 8 of 10 removed, no near miss raised) taught no point in living,
# nobody noticing, falling asleep at the wheel wished, the heart giving out, no future, burns again or soothing,
# walking until the ice breaks, "je saute du pont" read as an order to jump; near misses after (``r5-blind2-class-near``),
# one still concern by an older phrase ("je me vois pas dans 5 ans" at a job interview). A third blind batch
# (``r5-blind3``, lines 211-242: 15 of 24 given a tier, 3 of 8 removed, two near misses raised, none removed) taught
# no reason left to stay, envying those who die asleep, the head banged "jusqu'a saigner", an attempt still thought
# of daily, pills counted and not enough yet, half the pharmacy, "bonne nuit pour de bon", asking everyone's pardon
# at a height, the handbrake let off at a cliff, waking "pas a l'heure" as an idiom; its near misses after
# (``r5-blind3-class-near``). Still missed: a knot "solide" hinted at, a tourniquet with a goodbye (a medical word);
# still high: a diving board jumped from "dans quelques minutes" (an older phrase).
R5_LINES = {n: row for n, row in _rows("fr-own-r5.csv")}
R5_KNOWN_MISSES = {22: ("imminent", "none"), 107: ("imminent", "none"), 124: ("high", "none"),
                   205: ("none", "concern"), 219: ("high", "none"), 233: ("imminent", "none"), 241: ("none", "high")}


@pytest.fixture(scope="module")
def r5_judged(detector):
    return _judged(detector, R5_LINES)


def test_round_five_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r5_judged):
    def judge(line, row):
        d = r5_judged[line]
        expected = R5_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R5_LINES.items()), judge)
    assert not wrong, f"fr-own-r5.csv: {wrong}"


def test_round_five_near_misses_are_never_raised(r5_judged):
    near = [n for n, row in R5_LINES.items() if row["label"] == "none" and n not in R5_KNOWN_MISSES]
    assert len(near) >= 80
    assert [n for n in near if r5_judged[n].tier != "none"] == []


def test_round_five_heldout4_is_tuning_material(detector):
    """Set 4 (measured once unseen after round 4: exact 0.875, any-tier recall 0.82, 9 of 14 removed, one false
    removal) was tuned on in round 5: every line at its tier, no false removal."""
    judged = _judge(detector, "fr-heldout4.csv")
    assert [(n, row["label"], d.tier) for n, row, d in judged if d.tier != row["label"]] == []
    assert [n for n, row, d in judged if detector.would_remove(d) != (row["label"] == "imminent")] == []


@pytest.mark.parametrize("text, tier", [
    # a joke marker said in words and denied is no joke; a laugh before a negation still is
    ("si je rate mon année je me jette sous le métro, je rigole pas", "high"),
    ("si je rate mon année je me jette sous le métro, c'est pas pour rire", "high"),
    ("je suis à deux doigts de me jeter par la fenêtre, ce code marche pas ptdr", "none"),
    # a time right after "depuis" is how long, not when
    ("je veux me tuer depuis jeudi", "high"),
    ("je vais me tuer jeudi", "imminent"),
])
def test_round_five_denied_jokes_and_durations(detector, text, tier):
    assert detector.detect(text).tier == tier


# fr-own-r6.csv: round 6's own lines, written before the rules they test, by class: a decision with a later day
# (``r6-decided-day``: a plan, high; imminent only with a time the same day) and calm since the decision, an act
# with help refused ("appelez personne"), a negated wish with a quantifier ("zero envie", "pas la moindre envie"),
# a height with last words or an end near told last, the point of living asked, hidden harm and method questions;
# then a second batch (lines 60-88: love sent from a height, a medicine cabinet emptied with an apology, a plan with
# no method word, method questions), near misses beside each. Lines 89-94 (``-near-after``) were written after the
# rules they check. Known misses (never a false removal): "je sais quand maintenant, vendredi soir quand l'appart sera
# vide, c'est decide" (a later day not said as "ce sera": concern by the model), "elles sont toutes dans mon ventre"
# (the pills' pronoun reads as people).
R6_LINES = {n: row for n, row in _rows("fr-own-r6.csv")}
R6_KNOWN_MISSES = {4: ("high", "concern"), 13: ("imminent", "none")}


@pytest.fixture(scope="module")
def r6_judged(detector):
    return _judged(detector, R6_LINES)


def test_round_six_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r6_judged):
    def judge(line, row):
        d = r6_judged[line]
        expected = R6_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R6_LINES.items()), judge)
    assert not wrong, f"fr-own-r6.csv: {wrong}"


def test_round_six_near_misses_are_never_raised(r6_judged):
    near = [n for n, row in R6_LINES.items() if row["label"] == "none" and n not in R6_KNOWN_MISSES]
    assert len(near) >= 40
    assert [n for n in near if r6_judged[n].tier != "none"] == []


@pytest.mark.parametrize("name", ["fr-heldout5.csv", "fr-heldout6.csv"])
def test_round_six_sets_five_and_six_are_tuning_material_without_false_removal(detector, name):
    """Sets 5 and 6 were read by round 6 (set 5 had two false removals: a later day decided, a will written with
    a mind made up, both high): no line of either is removed unless labelled imminent."""
    judged = _judge(detector, name)
    assert [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"] == []


@pytest.mark.parametrize("text, tier", [
    # a decision with a later day is a plan; with a time the same day and a chosen moment it is imminent
    ("c'est décidé, ce sera jeudi", "high"),
    ("c'est décidé, ce soir quand ils dorment", "imminent"),
    ("c'est décidé, ce sera jeudi pour le resto", "none"),
    # a quantified negation of the wish is no risk; of living it is
    ("zéro envie de me tuer, je suis juste fatiguée", "none"),
    ("aucune envie de vivre", "concern"),
    # help refused after an act
    ("jles ai toutes avalées, appelez personne", "imminent"),
    ("j'ai tout réparé, appelez personne", "none"),
])
def test_round_six_decisions_negations_and_refused_help(detector, text, tier):
    assert detector.detect(text).tier == tier


# fr-own-r8.csv: round 8's own lines in three blind batches, each committed and scored before its rules (any-tier
# recall before the rules: batch 1 (lines 2-50) 16/27, batch 2 (51-85) 16/19, batch 3 (86-115) 7/15, batch 4 of acts
# under way (116-127) 2/6 with none removed, batch 5 (128-145) 6/9, batch 6 (146-159) 5/7 with one near miss removed:
# a move abroad "pour de bon"), by class: a
# crash or illness wished on oneself, a future not seen, dead inside, born unasked, cutting again and the blade
# missed, skin torn till it bleeds, purging hidden or kept up, a method asked with despair, a method chosen with the
# day pending, a height that "will do", a lethal dose looked up, strength gone at a place with an apology; a near
# miss beside each. Known misses ("c'est pour bientot, j'ai tout calcule" is high since round 11): a wrist cut
# "hier" read as under way (removed: the act's day is not read), pills "dans la main" with "c'est fini" (concern by
# the model), a box "ouverte" with a glass of water and "encore 10 minutes" (a box names no pills), pills swallowed never
# named ("celles de la boite bleue"). Blood that will not stop with help refused (line 110, high until round 13) is
# removed since round 13 reads a negation cue inside a chosen part (the "pas" of "le sang arrete pas") as that part's word.
R8_LINES = {n: row for n, row in _rows("fr-own-r8.csv")}
R8_KNOWN_MISSES = {60: ("high", "imminent"), 106: ("imminent", "concern"),
                   116: ("imminent", "none"), 117: ("imminent", "none")}


@pytest.fixture(scope="module")
def r8_judged(detector):
    return _judged(detector, R8_LINES)


def test_round_eight_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r8_judged):
    def judge(line, row):
        d = r8_judged[line]
        expected = R8_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R8_LINES.items()), judge)
    assert not wrong, f"fr-own-r8.csv: {wrong}"


def test_round_eight_near_misses_are_never_raised(r8_judged):
    near = [n for n, row in R8_LINES.items() if row["label"] == "none"]
    assert len(near) >= 50
    assert [n for n in near if r8_judged[n].tier != "none"] == []


def test_round_eight_set_eight_has_no_new_false_removal(detector):
    """Set 8 (read by round 8) keeps its two known false removals (a plan with pills put aside, a week named with
    "j'en finis", both high) and no other: no none line is removed."""
    judged = _judge(detector, "fr-heldout8.csv")
    removed = [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"]
    assert len(removed) <= 2 and all(row["label"] == "high" for n, row, d in judged if n in removed)


@pytest.mark.parametrize("text, tier", [
    # a vehicle wished to crash with the writer in it; a train wished on time
    ("des fois je souhaite que le train déraille avec moi dedans", "concern"),
    ("j'espère que le train déraille pas, j'ai un rdv", "none"),
    # biting lips is a habit; the arm till it bleeds is harm
    ("je me mords les ongles devant les séries", "none"),
    ("je me mords le bras jusqu'au sang quand ça va pas", "high"),
    # an event ending is no wish to die
    ("vivement que tout ça se termine, les travaux je veux dire", "none"),
    ("vivement que tout ça se termine pour de bon", "concern"),
    # an engine running in a garage is imminent only with the door closed
    ("le moteur tourne dans le garage, je le laisse chauffer", "none"),
    # an act told done beside a dose is under way; beside a drink it is a dare
    ("voilà c'est fait, tout le flacon de lexomil", "imminent"),
    ("voilà c'est fait, tout le flacon de parfum est vide", "none"),
    # leaving for good with a country named is a move, not a goodbye
    ("bye la gang, c'était vraiment le fun, je pars pour de bon au Japon", "none"),
])
def test_round_eight_classes_and_their_near_misses(detector, text, tier):
    assert detector.detect(text).tier == tier


# fr-own-r9.csv: round 9's own lines in three blind batches, each committed and scored before its rules (any-tier
# recall before the rules: batch 1 (lines 2-48) 18/29 with one near miss removed (a new exhaust pipe, "garage ferme
# le dimanche"), batch 2 (49-92) 14/28 with one plan removed, batch 3 (93-136) 11/27, batch 4 (137-167) 11/19 with
# one near miss removed: a bridge climbed "avec mes chums", batch 5 (168-189) 6/15), by class: a mind made up
# with no day yet, the means ready "pour en finir", a method asked by speed or certainty, a dose asked by whether it
# suffices, the car in the garage with a goodbye, a box emptied, everything left in the medicine cabinet, never to
# wake, erased from memory, the heart hoped to stop, better off without me, a method thought over, the spot scouted,
# wounds hidden, chew and spit, all meals skipped, belongings given for good, a goodbye at a height in formal words,
# help refused, the means and the date had, the means ordered, gone before a coming event, the tracks thought of,
# a leap wondered about, burns, calorie caps, unplugged, no birthday seen, a rope that holds, one step "et c'est
# regle", a bar tested for my weight, the knot learned beside a rope, stones in the pockets by the water, sinking
# and not coming up, a last message, living by obligation, blood running told in reverse order, a prescription
# "de plus" to stock up, strokes cut on a thigh, drain cleaner drunk, a hairdryer by the bath, a flat to myself "et
# ce sera le moment", the date "ou tout s'arrete", a plane tree that "reglerait tout", the wheel let go "c'est
# decide", a mail set to go "quand je serai plus la"; a near miss beside
# each. Known misses: leaving "avant mon anniversaire" with no act named (a move reads the same), a pet "confie pour toujours" (the pet is read as the speaker), a weekend named
# with "plus de ce monde" (removed: a weekend counts as soon), a loaded gun and pills in the mouth named only by
# "elle"/"elles" (read as someone else), a mother left in care "quand je serai plus la, c'est bientot" (removed: a
# vague "bientot" counts as soon), a note "a ceux qui liront ca demain" (the opening reads as advice to others). (Days
# unfed told by a weekday, "depuis jeudi", line 38, are read since round 22: high.acts_r22.)
R9_LINES = {n: row for n, row in _rows("fr-own-r9.csv")}
R9_KNOWN_MISSES = {2: ("high", "none"), 52: ("imminent", "none"), 89: ("high", "imminent"),
                   132: ("imminent", "none"), 133: ("imminent", "none"), 164: ("high", "imminent"),
                   187: ("imminent", "none")}


@pytest.fixture(scope="module")
def r9_judged(detector):
    return _judged(detector, R9_LINES)


def test_round_nine_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r9_judged):
    def judge(line, row):
        d = r9_judged[line]
        expected = R9_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R9_LINES.items()), judge)
    assert not wrong, f"fr-own-r9.csv: {wrong}"


def test_round_nine_near_misses_are_never_raised(r9_judged):
    near = [n for n, row in R9_LINES.items() if row["label"] == "none"]
    assert len(near) >= 45
    assert [n for n in near if r9_judged[n].tier != "none"] == []


def test_round_nine_known_misses_are_what_the_file_says(r9_judged):
    assert all(R9_LINES[n]["label"] == label for n, (label, _) in R9_KNOWN_MISSES.items())


@pytest.mark.parametrize("text, tier", [
    # a mind made up about dying, with no day; the same words about a move or a job
    ("j'ai pris ma décision, je sais pas encore quand", "high"),
    ("j'ai décidé de déménager, je sais pas encore quand", "none"),
    ("j'ai décidé d'en finir", "high"),
    # a method asked by its speed; a route asked the same way
    ("le moyen le plus sûr de partir sans douleur", "high"),
    ("le moyen le plus rapide de partir de Paris", "none"),
    # a box of slang-named pills emptied; a box of sweets
    ("jai vidé la boite de xanax y a 10 min", "imminent"),
    ("jai vidé la boite de chocolats y a 10 min", "none"),
    # the car in the garage with a goodbye; a pipe changed at a garage shut on Sundays
    ("dans la voiture au garage, le moteur tourne, pardon à tous", "imminent"),
    ("j'ai changé le pot d'échappement, garage fermé le dimanche", "none"),
    # the heart hoped to stop; hoped not to fail in a race
    ("j'espère que mon coeur va lâcher cette nuit", "concern"),
    ("je souhaite que mon coeur lâche pas pendant le marathon", "none"),
    # roof work is no height with intent
    ("faut que je monte sur le toit changer l'antenne, qqun a une échelle?", "none"),
    # one step and it is settled; one step into the pool
    ("un pas et c'est réglé, j'y pense tous les soirs", "high"),
    ("le plongeoir, un pas et t'es dans l'eau", "none"),
    # living by obligation; waiting for a film's end
    ("je vis par obligation, j'attends la fin", "concern"),
    ("j'attends la fin du match pour manger", "none"),
    # a button to stop existing; a button to leave a mailing list
    ("si je pouvais appuyer sur un bouton pour plus exister je le ferais", "concern"),
    ("y a un bouton pour disparaître de la liste de diffusion?", "none"),
])
def test_round_nine_classes_and_their_near_misses(detector, text, tier):
    assert detector.detect(text).tier == tier


# fr-own-r10.csv: round 10's own lines in two blind batches, each committed and scored before its rules (any-tier
# recall before the rules: batch 1 (lines 2-38) 17/21, no near miss raised; batch 2 (39-74) 15/21, one near miss
# removed: a train "passe dans 10 min, j'arrive" at a station; batch 3 (75-101) 10/14, no near miss raised, 1 of 4
# imminent removed), by class: dismay at waking alive, praying not to see
# the morning, a vehicle welcome, why go on living, death or God asked to come, sleep hoped endless, not fighting an
# illness, glad not to wake, a dose or height asked by certainty or pain, joining the dead, a plan waiting for the
# house to empty, burns and blood by one's own hand, meals punished, misspelt suicide, an open bottle with nobody
# home, the means stowed with a place for tonight, a height with last thanks, legs over the void with a goodbye, a
# blade in hand behind a locked door, not here in ten years nor in one, a bridge scouted for when nobody is on it,
# urges growing, doses noted "pour que ce soit fini", pills with blurred sight and a goodbye, "ce soir c'est la
# bonne" with a letter, "je l'ai charge" with a goodbye; a near miss beside each. Known misses: a dose asked with "se" (read as
# someone else's), a mind made up with a date and "ce sera fini" (a trip reads the same), "a quoi bon se reveiller"
# and a height asked "pour pas survivre" (impersonal "se"/"il faut", read as nobody's), a rope ordered with a knot
# learned and a delivery day (read as rigged: removed), how to go about ending it wondered nightly and a reserve of pills that "would settle it" (concern only, by the
# model), a
# station with "je vais m'avancer" (no act word), crossing without looking "et ca m'est egal" (the model's
# alone, and below its threshold once rebuilt with batch 3). Line 42 ("hate de plus etre la") reaches concern by the model
# rebuilt in round 12. (Slaps until marked, line 57, are read since round 22: high.acts_r22.)
R10_LINES = {n: row for n, row in _rows("fr-own-r10.csv")}
R10_KNOWN_MISSES = {13: ("high", "concern"), 18: ("high", "none"), 49: ("high", "none"),
                    51: ("high", "imminent"), 53: ("high", "concern"),
                    67: ("imminent", "none")}


@pytest.fixture(scope="module")
def r10_judged(detector):
    return _judged(detector, R10_LINES)


def test_round_ten_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r10_judged):
    def judge(line, row):
        d = r10_judged[line]
        expected = R10_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R10_LINES.items()), judge)
    assert not wrong, f"fr-own-r10.csv: {wrong}"


def test_round_ten_near_misses_are_never_raised(r10_judged):
    near = [n for n, row in R10_LINES.items() if row["label"] == "none"]
    assert len(near) >= 42
    assert [n for n in near if r10_judged[n].tier != "none"] == []


def test_round_ten_known_misses_are_what_the_file_says(r10_judged):
    assert all(R10_LINES[n]["label"] == label for n, (label, _) in R10_KNOWN_MISSES.items())


# Round 11, first task: no act, no removal. One's own medicine forgotten, lost, run out, stopped, not yet
# collected or taken as prescribed, beside a body symptom (dizzy, shaky, sick, tired, a racing heart), the week's
# pill box filled, a prescription picked up: no act, so never removed and never imminent. A symptom counted as
# an act ("la tete qui tourne" beside "tous mes cachets") removed the first of these before the fix.
NO_ACT_NEAR_MISSES = [
    "jai oublie tous mes cachets a la maison et je commence a avoir la tete qui tourne",
    "jai laisse toute mon insuline chez moi et je suis tout tremblant",
    "jai perdu ma boite de medocs ce matin, je me sens mal depuis ce soir",
    "plus de comprimes depuis hier soir, jai le coeur qui bat a fond",
    "jai arrete mes antidepresseurs dun coup il y a 3 jours et jai des vertiges",
    "ma pharmacie avait pas mes medicaments, jsuis crevee et jai la nausee ce soir",
    "jai pas encore recupere mon traitement a la pharmacie, jsuis toute tremblante",
    "jai pris mes cachets comme prescrit ce soir et jai la tete qui tourne",
    "jai pris toute ma dose du soir comme dit le medecin et jai le coeur qui semballe",
    "je compte mes comprimes pour le pilulier de la semaine, 3 par jour",
    "jai prepare tous mes medocs de la semaine dans le pilulier ce soir",
    "je passe chercher mon ordonnance ce soir a la pharmacie, toute la boite de ventoline",
    "jai oublie de prendre mes medocs hier, chui malade et fatiguee aujourdhui",
    "jsuis a court de lithium depuis ce matin, je tremble et jai envie de vomir",
    "jai fini ma plaquette hier et ce soir jai des palpitations, je rappelle le medecin demain",
    "jai double ma dose de paracetamol comme la pharmacienne a dit, toujours mal a la tete ce soir",
    "jai recupere toute la boite de somniferes ce soir a la pharmacie, enfin je vais dormir",
    "jai oublie toutes mes pilules chez ma mere, je vois flou et jai le coeur qui semballe",
    "tous mes medocs sont restes au bureau, la tete qui tourne depuis midi",
    "jai plus un seul cachet depuis lundi, tout devient flou quand je me leve",
    "jai pris mon traitement il y a une heure et jai la tete qui tourne",
    "jai bu trois bieres il y a une heure, tout tourne mdr",
    "je viens de prendre mes medocs du soir, je me sens super mal",
    "jai fait mon vaccin il y a une heure, je tremble un peu",
]

# ... and the true act lines beside them stay removed: an act with the means, or the means with a near time.
ACT_SYMPTOM_REMOVED = [
    "jai avale toute la boite de somniferes, la tete qui tourne",
    "jai pris tous mes cachets dun coup, je vois flou",
    "jai tout avale il y a une heure, je sens plus mes mains",
    "jai avale la plaquette de doliprane y a 20 min, mon coeur bat trop vite",
    "jai pris toutes les pilules de ma mere, tout devient flou, pardon",
    "jai pris ce quil fallait il y a une demi heure, ca commence a tourner",
]


def test_round_eleven_no_act_no_removal(detector):
    found = detector.detect_many(NO_ACT_NEAR_MISSES)
    wrong = [i for i, d in enumerate(found) if detector.would_remove(d) or d.tier == "imminent"]
    assert wrong == [], f"near misses (0-based) removed or imminent: {wrong}"
    found = detector.detect_many(ACT_SYMPTOM_REMOVED)
    kept = [i for i, d in enumerate(found) if not (d.tier == "imminent" and detector.would_remove(d))]
    assert kept == [], f"act lines (0-based) not removed: {kept}"


# fr-own-r11.csv: round 11's own lines in three blind batches, each committed and scored before its rules (any-tier
# recall before the rules: batch 1 (lines 2-34) 17/23, 3 of 4 imminent removed, one near miss raised to concern by the
# model; batch 2 (35-62) 17/20, 4/4 removed, one near miss raised (a thumb slashed opening a parcel); batch 3 (63-89)
# 18/19, 4/4 removed, none raised; batch 4 (90-109) 10/12, 2/4 removed, three near misses raised: a rope bought
# online for climbing (high, by the ordered-rope rule) and two by the model; batch 5 (110-123) 7/8, 2/2 removed, none
# raised), by class: scarifying and slashing in chat spellings ("jme suis encore scarifiee"),
# marks redone, a relapse with a tool, arms hidden under a sweat in summer; meals vomited again; conditional wishes
# (not waking, run over, a crash that ends it, sleeping for ever), nothingness tempting, no sense or reason to live;
# not failing asked; a decision to die, treatment stopped for a reserve, pills stocked, following someone at their
# death, where a gun is kept, everything planned but the courage or the day; a dose "l'ensemble de", a blade under
# the pillow, a train minutes away with "deso pour tout", a pack emptied with its effect, going away for good, a jump
# wondered "si ca ferait mal", "un jour ce sera le bon" near tracks or a bridge, "tout ce que j'avais" taken, a rope
# delivered "et la je serai tranquille"; a near miss beside each.
# Known misses: two near misses lifted to concern by the model alone (leaving on exchange unmissed at the office,
# "ils seraient mieux sans moi a la soiree" over karaoke), how long dying "de froid" takes (the cold idiom holds), and a
# wish to sleep for
# ever "tout de suite" read as an intent with a time (capped at high by the wish, labelled concern).
R11_LINES = {n: row for n, row in _rows("fr-own-r11.csv")}
R11_KNOWN_MISSES = {19: ("none", "concern"), 69: ("concern", "high"), 103: ("none", "concern"), 117: ("high", "none")}


@pytest.fixture(scope="module")
def r11_judged(detector):
    return _judged(detector, R11_LINES)


def test_round_eleven_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r11_judged):
    def judge(line, row):
        d = r11_judged[line]
        expected = R11_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R11_LINES.items()), judge)
    assert not wrong, f"fr-own-r11.csv: {wrong}"


def test_round_eleven_near_misses_are_never_raised_but_the_known_one(r11_judged):
    near = [n for n, row in R11_LINES.items() if row["label"] == "none"]
    assert len(near) >= 26
    assert [n for n in near if r11_judged[n].tier != "none"] == [19, 103]


def test_round_eleven_known_misses_are_what_the_file_says(r11_judged):
    assert all(R11_LINES[n]["label"] == label for n, (label, _) in R11_KNOWN_MISSES.items())


def test_round_eleven_set_eleven_removes_only_imminent_lines(detector):
    """Set 11 (read by round 11, measured unseen after round 10 with two false removals: a letter begun "avant
    noel" with no day chosen, a leaking veranda roof climbed tomorrow) removes no line not labelled imminent."""
    judged = _judge(detector, "fr-heldout11.csv")
    assert [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"] == []


# fr-own-r12.csv: round 12's own lines in three blind batches, each committed and scored before its rules (any-tier
# recall before the rules: batch 1 (lines 2-35) 14/22, 4 of 5 imminent removed, no near miss raised but one risk line
# removed that was labelled high (messages scheduled "demain matin ... quand je serai plus la", still removed: the
# project reads "plus la" with tomorrow as a time); batch 2 (36-63) 9/16, 3/5 removed, one near miss removed (a
# garden hose "branche" on the tap, now routine); batch 3 (64-80) 2/10, 1/2 removed, none raised; batch 4 (81-93)
# 2/7, 0/2 removed, one near miss raised to concern: a project group that "bosse mieux sans moi"), by class:
# hopelessness (what's the use of holding on, living a bore, a weight for all); laxatives by the handful, a relapse
# with the blade out, bleeding or bruises from one's own hand, fasting with weighing; a method or a dose asked
# "c'est pour moi"; a decision with its horizon (the last days, a matter of weeks); the writer's arrangements for
# others (codes, passwords, a pet's keeper) with a day or what follows; second-person self-talk with the means;
# shut in with the means, begun; a gamer's sign-off for good beside a blade; the hidden thing referred back to.
# Known misses (shared code, not the policy): second-person self-talk read as someone else's or as abuse (lines 43,
# 69), a joke marker taken back ("mdr enfin pas mdr") or over a self-harm act (45, 66); "plus gout a rien" alone left at
# none (72); "mon compte" (something else) still blocks a bridge tonight after belongings left (83); how long dying
# "de froid" takes, asked "c'est pour moi", stays under the cold idiom (86). Line 64 ("c'est pas que je veux mourir,
# c'est que je veux plus etre la", read high) is at its label since round 13 made "c'est pas que" a negation cue.
R12_LINES = {n: row for n, row in _rows("fr-own-r12.csv")}
R12_KNOWN_MISSES = {17: ("high", "imminent"), 43: ("high", "none"), 45: ("imminent", "high"),
                    66: ("high", "none"), 69: ("high", "none"), 72: ("concern", "none"), 83: ("imminent", "none"),
                    86: ("high", "none")}


@pytest.fixture(scope="module")
def r12_judged(detector):
    return _judged(detector, R12_LINES)


def test_round_twelve_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, r12_judged):
    def judge(line, row):
        d = r12_judged[line]
        expected = R12_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R12_LINES.items()), judge)
    assert not wrong, f"fr-own-r12.csv: {wrong}"


def test_round_twelve_near_misses_are_never_raised(r12_judged):
    near = [n for n, row in R12_LINES.items() if row["label"] == "none"]
    assert len(near) >= 36
    assert [n for n in near if r12_judged[n].tier != "none"] == []


def test_round_twelve_known_misses_are_what_the_file_says(r12_judged):
    assert all(R12_LINES[n]["label"] == label for n, (label, _) in R12_KNOWN_MISSES.items())


def test_round_twelve_set_twelve_removes_only_imminent_lines(detector):
    """Set 12 (read by round 12, measured unseen after round 11 with one false removal: "je serai plus la jeudi.
    j'ai un plan", a later day named for the end, now a plan) removes no line not labelled imminent."""
    judged = _judge(detector, "fr-heldout12.csv")
    assert [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"] == []


# Round 13 (read held-out set 13's misses; its own lines are fr-own-r13.csv). The convention of issue 25 for all four
# languages: a first-person plan or act with means or a place and a time named only by a weekday or a clock time is
# imminent, like "ce soir"; a weekday or a clock time about something ordinary, or "depuis lundi", never is.
WEEKDAY_OR_CLOCK_IMMINENT = [
    "jeudi soir je prends tous mes cachets, ils sont dans le tiroir",
    "la corde est prête, ce sera samedi",
    "dimanche à l'aube je vais au pont et je saute",
    "vendredi 22h, les médocs sont comptés, j'attends plus que ça",
    "à 23h je saute du viaduc, personne me retiendra",
    "mercredi la corde est accrochée dans la grange et j'y vais",
    "le fusil est dans le placard, dimanche je m'en sers",
    "à 2h du mat je prends toute la boîte, j'ai plus peur",
]
WEEKDAY_OR_CLOCK_ORDINARY = [
    "samedi à 10h je vais chercher mes médocs à la pharmacie",
    "dimanche rando au pont du gard, qui vient ?",
    "ça fait depuis mardi que je prends mes cachets à 8h",
    "jeudi à 18h je saute en parachute pour mes 30 ans",
    "vendredi à 23h je finis ma garde, enfin le week-end",
    "samedi je monte sur le toit réparer l'antenne, j'ai la corde",
    "depuis lundi j'ai les cachets dans mon sac, je les prends pas",
    "ouverture de la chasse samedi, carabine prête, qui est partant ?",
    "si le psg perd encore mardi je me jette dans la seine mdr",
]


def test_round_thirteen_a_weekday_or_a_clock_time_with_means_or_a_place_is_imminent(detector):
    found = detector.detect_many(WEEKDAY_OR_CLOCK_IMMINENT)
    assert [i for i, d in enumerate(found) if not (d.tier == "imminent" and detector.would_remove(d))] == []


def test_round_thirteen_a_weekday_or_a_clock_time_about_something_ordinary_is_nothing(detector):
    found = detector.detect_many(WEEKDAY_OR_CLOCK_ORDINARY)
    assert [i for i, d in enumerate(found) if d.tier != "none"] == []


# "Non ca va pas" answers "ca va ?": a negation cue in an earlier sentence (or before a pronoun that names no means)
# denies no act of the next one (shared code: compose.py and decision.py read the sentence of the cue); a negation in
# the act's own sentence, or a near time denied after it, still lowers it, never a removal.
@pytest.mark.parametrize("text, tier, removed", [
    ("@modo non ca va pas du tout. chu sur le pont, appelez personne svp", "imminent", True),
    ("ca va pas non. les cachets sont devant moi et c'est ce soir", "imminent", True),
    ("bof pas du tout. je suis au bord du quai, le train arrive dans 2 min, desolee pour tout", "imminent", True),
    ("non ça va pas. la corde est accrochée à la poutre, je monte sur la chaise", "imminent", True),
    ("pas vraiment. je vais pas sauter hein, je suis juste crevée", "none", False),
    ("non ca va pas. mais je vais pas prendre les cachets, j'ai appelé le 3114", "none", False),
    ("les cachets sont devant moi. pas ce soir", "high", False),
    ("ca va pas trop non. j'ai raté mon train et je suis sur le quai depuis une heure", "none", False),
])
def test_round_thirteen_not_ok_is_no_negation_of_the_next_sentence(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# A negation cue inside a chosen part is that part's own word, not a negation of the next part (shared code:
# compose.py): "je m'attache pas. pardon" denies no "pardon", "je reviendrai pas ce soir" no "ce soir".
@pytest.mark.parametrize("text, tier, removed", [
    ("en haut de l'échafaudage, je m'attache pas cette fois. pardon les gars", "imminent", True),
    ("je suis sur le pont et je reviendrai pas ce soir", "imminent", True),
    ("en haut de l'échafaudage, je m'attache pas aujourd'hui, le chef est pas là mdr", "none", False),
    ("je rentre pas ce soir, je dors chez Léa", "none", False),
    ("la corde est prête mais je vais pas le faire ce soir", "high", False),
])
def test_round_thirteen_a_cue_inside_a_part_is_that_parts_word(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# fr-own-r13.csv: round 13's own lines by class, written from held-out set 13's misses and committed before any rule
# change (the rules before: exact 77 of 117, any tier 31 of 59, removed 12 of 25, no false removal, one near miss
# raised), by class: the act said formally, hurried phone writing (the subject fused to the verb, letters stretched),
# an act with the means unnamed, a height with the gear left off on purpose, "non ca va pas" before the scene, self-harm
# and eating acts in other words, a method asked in abbreviations, a plan decided with a later day or none, means set
# aside from work, passive wishes in other words, a weekday or a clock time; a near miss beside each. fr-own-r13b.csv:
# a blind probe of the same classes written after the rules and committed before being run (measured once: any tier 17
# of 24, removed 7 of 10, one line labelled high removed, two near misses raised), tuned on since. Known miss: a box set
# aside "a la pharmacie" (the routine guard for one's own medicine holds).
R13_LINES = {n: row for n, row in _rows("fr-own-r13.csv")}
R13B_LINES = {n: row for n, row in _rows("fr-own-r13b.csv")}
R13_KNOWN_MISSES = {83: ("high", "none")}


@pytest.mark.parametrize("lines, known", [(R13_LINES, R13_KNOWN_MISSES), (R13B_LINES, {})], ids=["r13", "r13b"])
def test_round_thirteen_own_line_keeps_its_tier_and_removal_only_if_imminent(detector, lines, known):
    judged = _judged(detector, lines)

    def judge(line, row):
        d = judged[line]
        expected = known.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(lines.items()), judge)
    assert not wrong, f"round 13 own lines: {wrong}"


def test_round_thirteen_near_misses_are_never_raised(detector):
    for lines, least in ((R13_LINES, 58), (R13B_LINES, 22)):
        near = [n for n, row in lines.items() if row["label"] == "none"]
        assert len(near) >= least
        judged = _judged(detector, {n: lines[n] for n in near})
        assert [n for n in near if judged[n].tier != "none"] == []


def test_round_thirteen_known_misses_are_what_the_file_says():
    assert all(R13_LINES[n]["label"] == label for n, (label, _) in R13_KNOWN_MISSES.items())


def test_round_thirteen_set_thirteen_removes_only_imminent_lines(detector):
    """Set 13 (read by round 13, measured unseen after round 12 with two false removals: a hunting opening with the gun
    cleaned and a day named, a letter "pas pour ce soir") removes no line not labelled imminent."""
    judged = _judge(detector, "fr-heldout13.csv")
    assert [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"] == []


# "No act, no removal" in hurried phone writing: one's own medicine forgotten, run out or taken as prescribed beside the
# body's complaint in chat spelling ("jvois flou", "jsens plus", "tt a lheure") stays none.
NO_ACT_CHAT_SPELLING = [
    "jai oublié mes cachets chez moi, jvois trouble et jtremble",
    "jai pris mes médocs comme prescrit tt a lheure, jvois flou",
    "g pris mon traitement tt a lheure, jsens plus mes doigts",
    "plus de lithium depuis hier, jvois double et jtremble",
    "jai pris un doliprane tt a lheure et jvois toujours flou, migraine",
    "jai pris mes somnifères tt a lheure comme dhab, jvois flou",
    "jai avalé mes cachets du soir tt a lheure, jvois double",
]


def test_round_thirteen_no_act_no_removal_in_chat_spelling(detector):
    found = detector.detect_many(NO_ACT_CHAT_SPELLING)
    assert [i for i, d in enumerate(found) if d.tier != "none"] == []


# Round 13's guards read only their own sense: a hunting opening, not the toilet flushed ("tire la chasse"); climbing's
# bouldering, not "en bloc" (all at once) or the operating theatre; an end put to things with a person, not "avec une
# corde"; a nosebleed is no cut.
@pytest.mark.parametrize("text, tier, removed", [
    ("j'ai avalé toute la boîte de somnifères et tiré la chasse, adieu", "imminent", True),
    ("j'ai tout pris en bloc y a 10 min, je vois flou", "imminent", True),
    ("infirmière du bloc, j'ai mis deux ampoules de côté, je sais à quoi elles serviront", "high", False),
    ("je vais mettre fin à tout ça avec des cachets ce soir", "imminent", True),
    ("je vais mettre fin à tout ça avec une corde, c'est décidé", "high", False),
    ("ce soir je mets fin à tout ça avec mon ex, deux ans de mensonges", "none", False),
    ("saignement de nez depuis 20 min, ça arrête pas de saigneeer", "none", False),
])
def test_round_thirteen_guards_read_only_their_own_sense(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 17 (read held-out sets 14 and 15's misses by class; tuning material since). Its own lines are fr-own-r17.csv
# (left out of the French model's files, train_model_lang.NOT_TRAINED: rebuilt with them it lost lines of round 10's
# test and of sets 14 and 15), written and committed before any rule (the rules before: exact 55 of 87,
# any tier 19 of 42, removed 2 of 14, one false removal), by class: self-harm marks hidden, passed off or waited on to fade; eating acts by count (one food a
# day, kcal counted down, purged again, vomiting asked about a test); the writer's own end at a near time; a place
# with a time and no return, the means already there, looking down from a height; intent with a decision, a plan or a
# condition and no near time (high; a song stays an idiom); passive wishes for a crash; a knife sharpened for food and
# a will written "just in case" (never removed); negated or past thoughts; a partner by Quebec word; a near miss
# beside each. Known misses (file line -> label, what the rules give): an end told by a party's end ("la soiree": an everyday guard) or a team's goodbye; not waking tonight; a
# cliff that "waits"; a plan written and waiting for a later event; a doctor lied to (concern). (A blade sharpened with
# veins opened tonight, line 72, is read since round 19b: compose part body_act with a time the same day; a kitchen burn
# the model raised, line 13, is no risk since round 22: an oven's burn is an idiom.)
R17_LINES = {n: row for n, row in _rows("fr-own-r17.csv")}
R17_KNOWN_MISSES = {28: ("imminent", "none"), 30: ("imminent", "none"),
                    31: ("imminent", "concern"), 39: ("imminent", "none"),
                    74: ("high", "none"), 75: ("high", "none"), 84: ("high", "concern"), 85: ("high", "concern")}


def test_round_seventeen_own_line_keeps_its_tier_and_removal_only_if_imminent(detector):
    judged = _judged(detector, R17_LINES)

    def judge(line, row):
        d = judged[line]
        expected = R17_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R17_LINES.items()), judge)
    assert not wrong, f"round 17 own lines: {wrong}"


def test_round_seventeen_known_misses_are_what_the_file_says():
    assert all(R17_LINES[n]["label"] == label for n, (label, _) in R17_KNOWN_MISSES.items())


def test_round_seventeen_no_near_miss_is_removed_or_raised_beyond_what_it_was(detector):
    near = {n: row for n, row in R17_LINES.items() if row["label"] == "none"}
    assert len(near) >= 45
    judged = _judged(detector, near)
    assert [n for n in near if detector.would_remove(judged[n])] == []
    assert [n for n in near if judged[n].tier != "none" and n not in R17_KNOWN_MISSES] == []


def test_round_seventeen_sets_fourteen_and_fifteen_remove_only_imminent_lines(detector):
    """Sets 14 and 15 (read by round 17; before it 3 and 1 false removals: knives sharpened for the kitchen, a plan in a
    notebook waiting for a brother's army service, a will written in jest on a furniture box) remove no line not
    labelled imminent."""
    for name in ("fr-heldout14.csv", "fr-heldout15.csv"):
        judged = _judge(detector, name)
        assert [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"] == [], name


# Issue 25's convention for all four languages, on round 17's classes: a plan with a place or the means and a time
# named only by a weekday or a clock time is imminent; the same words about something ordinary never are.
R17_WEEKDAY_OR_CLOCK_IMMINENT = [
    "mardi je vais jusqu'au viaduc en voiture, pas prévu de rentrer",
    "à 4h du matin je serai morte, tout est rangé",
    "vers 22h je serai plus de ce monde",
    "jeudi 21h je descends à la cave, la corde est déjà là-bas",
    "samedi soir je file au barrage, la lettre pour mes parents est sous mon oreiller",
]
R17_WEEKDAY_OR_CLOCK_ORDINARY = [
    "mardi je vais jusqu'au viaduc en voiture pour la rando, retour le soir",
    "à 4h du matin je serai mort de fatigue, garde de nuit",
    "jeudi 21h je descends à la cave, la corde est déjà là-bas pour le déménagement",
    "samedi j'ai aiguisé mes couteaux, ils coupent les oignons comme du beurre",
    "depuis lundi je suis sur le pont du bateau à regarder en bas les dauphins",
    "à partir de ce soir je serai plus ton problème, je rends les clés",
]


def test_round_seventeen_a_weekday_or_a_clock_time_with_a_place_or_means_is_imminent(detector):
    found = detector.detect_many(R17_WEEKDAY_OR_CLOCK_IMMINENT)
    assert [i for i, d in enumerate(found) if not (d.tier == "imminent" and detector.would_remove(d))] == []


def test_round_seventeen_a_weekday_or_a_clock_time_about_something_ordinary_is_never_removed(detector):
    found = detector.detect_many(R17_WEEKDAY_OR_CLOCK_ORDINARY)
    assert [i for i, d in enumerate(found) if d.tier != "none"] == []


# Intent with a decision, a plan or a condition and no near time is high, never a removal; a song stays an idiom;
# passive wishes are concern; someone else's eating or cutting told by a Quebec partner word is a third party's.
@pytest.mark.parametrize("text, tier", [
    ("je me pends avant l'été, c'est décidé", "high"),
    ("si je perds la garde des enfants je me tue, je plaisante pas", "high"),
    ("je me tire une balle si j'entends encore ce jingle à la radio", "none"),
    ("j'espère que le train déraille demain avec moi dedans", "concern"),
    ("tellement tannée d'être en vie", "concern"),
    ("mon chum se fait vomir en cachette, je fais quoi", "none"),
    ("toi t'aurais jamais dû venir au monde", "none"),
])
def test_round_seventeen_intent_without_a_near_time_and_its_near_misses(detector, text, tier):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, False)


# Round 18 (read held-out set 17's misses by class; tuning material since). Its own lines are fr-own-r18.csv (left out
# of the French model's files, train_model_lang.NOT_TRAINED), written and committed before any rule (the rules before:
# exact 39 of 56, any tier 20 of 27, removed 15 of 25, no false removal), by class (scenario column): the writer's own
# end said by a slang or elided verb ("jme bute", "m'flinguer") or named as a noun ("ma TS"); painkillers and calming
# pills by their generic names; oral elisions in a scene ("l'garage", "jreviens pas", a mother as "ma reum"); letters
# written with a chosen time, a place "where I want to die"; hobby gear and game hyperbole; a weekday or a clock time
# (issue 25's convention). A near miss sharing their words beside each. A second batch (lines 58-97, scenarios r18b-*,
# committed before its rules: exact 29 of 40, any tier 13 of 20, no false removal): the thought of suicide with an
# adverb or set off, then a plan; the Quebec "pantoute" denying a wish; cutting again in a few words; what works for
# sure to die; a suicide note of one's own. A third batch (lines 98-113, r18c-*, committed before its rules: exact 12
# of 16, any tier 5 of 8): pills kept as an exit; passive wishes said obliquely (the wish named as a thing, still there).
R18_LINES = {n: row for n, row in _rows("fr-own-r18.csv")}
R18_DONE = {"r18-slang", "r18-pills", "r18-elision", "r18-letters", "r18-hobby", "r18-weekday",
            "r18b-thought", "r18b-pantoute", "r18b-cut", "r18b-method", "r18b-note", "r18c-stash", "r18c-passive"}
# Known misses (file line -> label, what the rules give): "pas envie de me buter" (the slang verb alone is high, as
# before the round); a grandmother's words quoted with "disait"; "je vais me pendre" or "me jeter par la fenetre" after
# a raid or a teacher "kills me" (high, as before the round: the exasperation guard reads combinations only).
R18_KNOWN_MISSES = {15: ("none", "high"), 40: ("none", "high"), 42: ("none", "high"), 44: ("none", "high")}


def test_round_eighteen_own_line_keeps_its_tier_and_removal_only_if_imminent(detector):
    lines = {n: row for n, row in R18_LINES.items() if row["scenario"] in R18_DONE}
    judged = _judged(detector, lines)

    def judge(line, row):
        d = judged[line]
        expected = R18_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(lines.items()), judge)
    assert not wrong, f"round 18 own lines: {wrong}"


def test_round_eighteen_known_misses_are_what_the_file_says():
    assert all(R18_LINES[n]["label"] == label for n, (label, _) in R18_KNOWN_MISSES.items())


def test_round_eighteen_no_near_miss_is_removed(detector):
    near = {n: row for n, row in R18_LINES.items() if row["label"] == "none" and row["scenario"] in R18_DONE}
    assert len(near) >= 57
    judged = _judged(detector, near)
    assert [n for n in near if detector.would_remove(judged[n])] == []
    assert [n for n in near if judged[n].tier != "none" and n not in R18_KNOWN_MISSES] == []


def test_round_eighteen_set_seventeen_removes_only_imminent_lines(detector):
    """Set 17 (read by round 18; before it 2 false removals: a climbing rope asked to borrow, a game's boss that
    "kills me") removes no line not labelled imminent."""
    judged = _judge(detector, "fr-heldout17.csv")
    assert [n for n, row, d in judged if detector.would_remove(d) and row["label"] != "imminent"] == []


# Issue 25's convention for all four languages, on round 18's words: a plan with a place or the means and a time
# named only by a weekday or a clock time is imminent; the same words about something ordinary, or "depuis lundi",
# never are.
R18_WEEKDAY_OR_CLOCK_IMMINENT = [
    "vendredi je prends toute la boîte de calmants, j'ai décidé",
    "à 22h jme bute avec le fusil de mon oncle",
    "dimanche soir je monte au dernier étage du parking et je saute",
    "mardi à 5h je serai sur les rails, dites à ma reum que jl'aime",
]
R18_WEEKDAY_OR_CLOCK_ORDINARY = [
    "vendredi je prends un calmant avant l'oral, le médecin a dit que ça aide",
    "à 22h j'ai mon match sur le parking du stade",
    "dimanche soir je monte au dernier étage du parking pour les photos du coucher de soleil",
    "depuis lundi j'ai mal au dos, je prends des antidouleurs",
    "mardi à 5h je commence mon poste à la gare",
]


def test_round_eighteen_a_weekday_or_a_clock_time_with_a_place_or_means_is_imminent(detector):
    found = detector.detect_many(R18_WEEKDAY_OR_CLOCK_IMMINENT)
    assert [i for i, d in enumerate(found) if not (d.tier == "imminent" and detector.would_remove(d))] == []


def test_round_eighteen_a_weekday_or_a_clock_time_about_something_ordinary_is_never_removed(detector):
    found = detector.detect_many(R18_WEEKDAY_OR_CLOCK_ORDINARY)
    assert [i for i, d in enumerate(found) if detector.would_remove(d)] == []
    assert [i for i, d in enumerate(found) if d.tier != "none"] == []


@pytest.mark.parametrize("text, tier, removed", [
    # a return later, not no return; a kin word in a chat with no scene
    ("jsuis au bord de la rivière à pêcher, jrentre pas avant ce soir", "none", False),
    ("je suis au bord de la rivière, je rentre pas avant ce soir", "none", False),
    ("dis à ma reum que jl'aime, je suis coincé au taf", "none", False),
    ("je suis au garage avec mon char, moteur allumé, porte fermée pour la vidange", "none", False),
    # someone else "will kill me"; an everyday thing that "kills me"; the attempt told as done
    ("ma daronne va me buter si je rentre après minuit ce soir", "none", False),
    ("la canicule me tue, ce soir je dors dans la baignoire", "none", False),
    ("ça fait trois ans que j'ai fait ma TS, ce soir je fête ça avec ma psy", "none", False),
])
def test_round_eighteen_elisions_and_slang_read_only_their_own_sense(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# A no-return part ends in its own negation ("je rentre pas"): that "pas" negates nothing after it (compose.py,
# round 18); a negation before the place or the act still lowers it. Letters named for the family with a time are a
# preparation; letters to pen friends, of application, to Santa are not.
@pytest.mark.parametrize("text, tier, removed", [
    ("je rentre pas, je vais au viaduc, c'est là que je veux en finir", "imminent", True),
    ("jreviens pas ce soir, je monte sur le toit de l'immeuble, adieu", "imminent", True),
    ("je vais pas au viaduc ce soir, je rentre à la maison", "none", False),
    ("j'ai écrit les lettres pour mes enfants, c'est pour cette nuit", "imminent", True),
    ("j'ai écrit les lettres à mes correspondants ce soir, trop cool", "none", False),
    ("j'ai écrit mes lettres de candidature ce soir", "none", False),
    ("la plage de mon enfance, c'est là que je veux mourir un jour, vieille et heureuse", "high", False),
])
def test_round_eighteen_a_place_to_die_and_letters_with_a_time(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


@pytest.mark.parametrize("text, tier", [
    ("je me suis encore coupé ce matin en cuisinant", "high"),   # (as before the round: the self-harm rule reads it)
    ("c'est décidé je me tue au sport cette année", "none"),
    ("le suicide, j'ai un plan pour mon exposé de philo", "none"),
    ("ce qui marche pour mourir de rire c'est les vidéos de chats", "none"),
    ("ça va pantoute, je veux mourir", "high"),
])
def test_round_eighteen_second_batch_reads_only_its_own_sense(detector, text, tier):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, False)


@pytest.mark.parametrize("text, tier", [
    ("j'ai mis mes cachets dans la trousse de secours, c'est mon plan b contre le mal de dos", "none"),
    ("mes cachets c'est mon plan B si la migraine revient", "none"),
    ("jpense à crever l'abcès avec mon boss demain", "none"),
    ("je vois pas à quoi ça sert de continuer la réunion, on tourne en rond", "none"),
    ("j'pense vraiment à m'tuer, pas juste des idées noires", "high"),
])
def test_round_eighteen_third_batch_reads_only_its_own_sense(detector, text, tier):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, False)


# Round 19 (read the everyday tuning set, fr-everyday-parts-tune.csv, by class: before it 12 removed and 13 given a
# tier of 250, all labelled none). Its own lines are fr-own-r19.csv (left out of the French model's files,
# train_model_lang.NOT_TRAINED), written and committed before any rule (the rules before: every one of the 23 ordinary
# lines given a tier, 22 removed; the 26 at-risk lines right), by class (scenario column): the thing that ends is an
# event, a season, a show, a team or a server; leaving at a time with an errand and a return (the shop closed, the
# keys left for the agency or a neighbour); a rope, a knife or a height in a chore, a kitchen or a site; a last
# message before moving forum, farewells to a workplace with a retirement; a thing that "a rendu l'âme" (folded "l'ame"
# is the blade's "lame"). At-risk lines share each class's words ("c'est la fin du ramadan et la fin pour moi"). A
# second batch (lines 51-74, r19b-*, committed before its rules: 9 of 12 ordinary lines removed, 11 of 12 at-risk lines
# right): an end that is a season, an idiom, a lease or a match lost; leave from work with a time (a plan told in sick
# leave is swallowed by the homecoming guard's "en conge": a known miss); a height with its club and a return said. A third
# batch (lines 75-92, r19c-*, committed before its rules: 9 of 10 ordinary lines removed, 8 of 8 at-risk lines right):
# an activity or an era that ends for the writer; leaving at a time for a trip, a child or a rental handed back. A
# fourth (lines 93-102, r19d-*, committed before its rules: 5 of 5 ordinary lines given a tier, 5 of 5 at-risk right):
# belongings given away for a move named (compose part moving_away, unless of preparation_time alone), beside plans
# "to live in heaven" that share its words (other_sense holds them: no move). A fifth (lines 103-118, r19e-*, committed
# before its rules: 5 of 8 ordinary lines removed, 7 of 8 at-risk right): own medicine with "bonne nuit à tous" (people,
# not "all of them": other_sense "a tous"); a last shift or watch before a job ends (errand).
R19_LINES = {n: row for n, row in _rows("fr-own-r19.csv")}
R19_DONE = {"r19-end-thing", "r19-tool-chore", "r19-farewell-move", "r19-gave-up-ghost", "r19-leave-errand",
            "r19b-end-thing", "r19b-leave-work", "r19b-hobby-return", "r19c-end-activity", "r19c-leave-trip",
            "r19d-give-move", "r19e-meds-greeting", "r19e-shift-end"}
# Known misses (file line -> label, what the rules give): "je serai plus là ce soir" with a rental handed back (the
# tier rule's own phrase: an errand explains only the composed time); "je donne toutes mes affaires ce soir" with a
# move named (a high rule of its own, as before the round); a plan told in sick leave (none before and after: the
# homecoming guard "en conge"; taking sick leave out of it made ordinary sick-leave lines removals). A last watch then a
# hanging, with thanks to colleagues (line 118: none before the round and after, the guard "les collegues" of an earlier
# round) is read since round 19b: "je me pends" names the writer's death plainly in another clause (compose part plain)
R19_KNOWN_MISSES = {64: ("imminent", "none"), 88: ("none", "imminent"), 95: ("none", "high")}


def test_round_nineteen_own_line_keeps_its_tier_and_removal_only_if_imminent(detector):
    lines = {n: row for n, row in R19_LINES.items() if row["scenario"] in R19_DONE}
    assert len(lines) >= 116
    judged = _judged(detector, lines)

    def judge(line, row):
        d = judged[line]
        expected = R19_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(lines.items()), judge)
    assert not wrong, f"round 19 own lines: {wrong}"


def test_round_nineteen_known_misses_are_what_the_file_says():
    assert all(R19_LINES[n]["label"] == label for n, (label, _) in R19_KNOWN_MISSES.items())


def test_round_nineteen_every_class_has_four_ordinary_and_four_at_risk_lines():
    for scenario in {row["scenario"] for row in R19_LINES.values()}:
        labels = [row["label"] for row in R19_LINES.values() if row["scenario"] == scenario]
        assert labels.count("none") >= 4 and sum(label in ("high", "imminent") for label in labels) >= 4, scenario


# Words of risk inside an everyday phrase of their own sense (compose.OTHER_SENSE) are that phrase's; the same words
# said again beside it, of the writer, still count. A guard inside it stays a guard ("la fin de la saison" keeps the
# guard "la saison", as before the round: taking guards out made ordinary sick-leave lines removals).
@pytest.mark.parametrize("text, tier, removed", [
    ("ce soir c'est la fin du ramadan, on rompt le jeûne chez mes parents", "none", False),
    ("c'est la fin du ramadan ce soir et pour moi aussi c'est la fin, j'ai les cachets devant moi", "imminent", True),
    ("le grille-pain a rendu l'âme ce soir, je recommence demain avec la poêle", "none", False),
    ("la lame est dans ma main ce soir, je recommence, adieu", "imminent", True),
    ("j'ai le couteau japonais dans la main, ce soir je m'ouvre les veines", "imminent", True),
    ("la corde du volet est cassée, je monte sur la chaise ce soir", "none", False),
    ("je fais mes adieux au monde, retraite définitive ce soir, merci pour tout", "imminent", True),
])
def test_round_nineteen_words_of_risk_in_an_everyday_phrase_of_their_own_sense(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# An errand read only where it is named with its return or its recipient (compose part errand, unless of intent_time
# alone): the means, a place or a dose beside it still count; a server left for another one is an idiom, a server
# beside a plan is not.
@pytest.mark.parametrize("text, tier, removed", [
    ("c'est fini pour moi ce forum, je migre sur celui des modos, à plus", "none", False),
    ("c'est fini pour moi, ce serveur vous le garderez, ce soir je me pends", "imminent", True),
    ("je serai plus là vers 21h, je ferme la pharmacie et je rentre me coucher", "none", False),
    ("je ferme la boutique ce soir et je rentre pas, je vais au pont, adieu", "imminent", True),
    ("je serai plus là à minuit, je ferme la caisse et j'avale toute la boîte", "imminent", True),
    ("je serai plus là à 23h, les clés sont pour le voisin, j'ai les cachets devant moi, pardon", "imminent", True),
    ("je serai plus là à 23h, je ferme le magasin et je me jette sous le train", "imminent", True),
    ("ce soir je ferme le bar une dernière fois et je saute du pont", "imminent", True),
])
def test_round_nineteen_an_errand_or_a_server_left_explains_only_the_time_it_names(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# A move named explains belongings given with a time, and only that: farewell letters with a move are still a tier.
@pytest.mark.parametrize("text, tier, removed", [
    ("je donne mes affaires samedi, on part vivre en Martinique, merci pour tout", "none", False),
    ("je donne mes affaires ce soir, je vais vivre au paradis, adieu", "imminent", True),
    ("j'ai écrit mes lettres d'adieu ce soir, je pars vivre en Italie, merci pour tout", "high", False),
])
def test_round_nineteen_a_move_named_explains_only_the_belongings_given(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


@pytest.mark.parametrize("text", [
    "en congé maladie cette semaine, je serai parti demain chez ma mère pour me reposer",
    "en congé maladie, je donne mes affaires de sport ce week-end, j'en ai plus besoin",
])
def test_round_nineteen_sick_leave_told_with_a_time_is_not_removed(detector, text):
    assert not detector.would_remove(detector.detect(text))


# Round 19b (removals the rules missed where an ordinary word stands beside the act). Its own lines are fr-own-r19b.csv
# (left out of the French model's files, train_model_lang.NOT_TRAINED), written and committed before any rule (the
# rules before: 21 of 35 right; 13 of 18 at-risk lines below their tier, 1 of 17 ordinary lines given a tier), by class
# (scenario column): a context cue of one clause (a match lost, a stage, a season, holidays, leave) beside a plain act
# with a time in another; self-harm acts on the body said as chat says them (compose part body_act: high alone,
# imminent with a time the same day or now); a goodbye to the living with a "move" to heaven or the dead (gone_beyond),
# or after handing the children over (kids_handed, with a goodbye said to people, last_adieu; a stay "ce week-end" is
# a trip). Near misses share each class's words ("je m'ouvre une bière ce soir", "mamie est partie rejoindre papi").
R19B_LINES = {n: row for n, row in _rows("fr-own-r19b.csv")}
R19B_DONE = {"r19f-cue-clause", "r19f-body-act", "r19f-goodbye-move"}
R19B_KNOWN_MISSES: dict[int, tuple[str, str]] = {}


def test_round_nineteen_b_own_line_keeps_its_tier_and_removal_only_if_imminent(detector):
    lines = {n: row for n, row in R19B_LINES.items() if row["scenario"] in R19B_DONE}
    assert len(lines) >= 35
    judged = _judged(detector, lines)

    def judge(line, row):
        d = judged[line]
        expected = R19B_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(lines.items()), judge)
    assert not wrong, f"round 19b own lines: {wrong}"


def test_round_nineteen_b_every_class_has_five_ordinary_and_five_at_risk_lines():
    for scenario in {row["scenario"] for row in R19B_LINES.values()}:
        labels = [row["label"] for row in R19B_LINES.values() if row["scenario"] == scenario]
        assert labels.count("none") >= 5 and sum(label in ("high", "imminent") for label in labels) >= 5, scenario


# A self-harm act on the body is high alone and imminent only with a time the same day or now; a goodbye with a "move"
# to heaven, or after the children are handed over, is the writer's end; someone else's death, a stay for the weekend,
# a farewell to a thing and a move abroad are none.
@pytest.mark.parametrize("text, tier, removed", [
    ("ce soir je m'ouvre les veines", "imminent", True),
    ("je me scarifie depuis trois ans déjà", "high", False),
    ("j'ai recommencé à me couper les bras cette semaine", "high", False),
    ("je vais pas me scarifier ce soir, promis", "concern", False),
    ("je me coupe les cheveux ce soir", "none", False),
    ("je pars vivre au paradis, merci pour tout", "imminent", True),
    ("je pars vivre au Canada, merci pour tout", "none", False),
    ("allez chercher les enfants… adieu", "imminent", True),
    ("les enfants sont chez mamie ce week-end, adieu !", "none", False),
    ("va chercher les enfants à 16h30 stp, adieu la réunion, je suis coincée", "none", False),
    ("elle a déposé les enfants chez moi et elle a dit adieu", "none", False),
    ("je vous dis adieu, c'est fini pour moi", "imminent", True),
])
def test_round_nineteen_b_acts_on_the_body_and_goodbyes_with_a_move_or_the_children(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# The writer's own death said plainly (compose part plain: "je me suicide", "je me pends", "j'avale toutes mes pilules",
# "je me tue" as the last words or before a time) is not dropped by an everyday guard of ANOTHER clause (a match lost, a
# stage or a season, holidays, leave) nor given to someone named there; a guard of its own clause, a purpose in any
# clause (a bungee jump, a parachute), a condition, a joke, a story and someone else's act still read as before. A stage or a season is a guard of its own sentences (stage), no
# longer a story framing the whole message.
@pytest.mark.parametrize("text, tier, removed", [
    ("c'est fini pour nous, on a perdu, et ce soir je me tue", "imminent", True),
    ("plus jamais je monte sur scène, ce soir je saute du pont, adieu", "imminent", True),
    ("il m'a quittée, ce soir je me suicide", "imminent", True),
    ("on a perdu, ce soir je me tue de rire", "none", False),
    ("en vacances demain, ce soir je me tue à faire les valises", "none", False),
    ("si on perd encore ce soir, je me tue", "high", False),
    ("on a perdu ce soir, je me suicide mdr", "high", False),
    ("dans mon rp, cette nuit je me pends", "high", False),
    ("mon frere dit que cette nuit il se suicide", "none", False),
    ("fin de la saison, on fête ça ce soir, je me jette sur le buffet", "none", False),
    ("baptême de parachute demain, je saute dans le vide à 10h !", "none", False),
    ("saut à l'élastique ce week-end, demain je saute du pont de la Caille", "none", False),
    ("soirée escalade, ce soir je saute du mur", "none", False),
])
def test_round_nineteen_b_a_cue_of_one_clause_explains_only_its_own(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 20 (a mixed room: English words standing for a part of a French line, English discourse words around a risk
# line, lines typed without accents). Its own lines are fr-own-r20.csv (left out of the French model's files,
# train_model_lang.NOT_TRAINED), written and committed before any rule (the rules before: 69 of 87 right; 26 of 44
# at-risk lines at their tier, 21 of 37 imminent removed, no near miss given a tier), by class (scenario column): times,
# means, places, acts and farewells said in English (r20-en-*), discourse words (r20-discourse), no accents
# (r20-noaccent). The English words are named once per part (compose parts now, soon, same_day, pills, means, dose,
# place, jump, intent, act_whole, bye, thanks, farewell, chat_sorry, apology...: "round 20" at the head of each list).
R20_LINES = {n: row for n, row in _rows("fr-own-r20.csv")}
# label -> detected, kept visible: the same line in French words is missed too (a height someday with no return, an
# overdose named as a noun with a time), or a thought ("j'ai envie de sauter") caps the scene at a height (line 65, a
# lone opening "lol" before a scene at a height, was one too until the Spanish round 20's opener rule, merged after it)
R20_KNOWN_MISSES = {31: ("high", "none"), 42: ("imminent", "none"), 64: ("imminent", "high")}


def test_round_twenty_own_line_keeps_its_tier_and_removal_only_if_imminent(detector):
    assert len(R20_LINES) >= 87
    judged = _judged(detector, R20_LINES)

    def judge(line, row):
        d = judged[line]
        expected = R20_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R20_LINES.items()), judge)
    assert not wrong, f"round 20 own lines: {wrong}"


def test_round_twenty_known_misses_are_what_the_file_says():
    assert all(R20_LINES[n]["label"] == label for n, (label, _) in R20_KNOWN_MISSES.items())


def test_round_twenty_every_class_has_six_ordinary_and_six_at_risk_lines():
    for scenario in {row["scenario"] for row in R20_LINES.values()}:
        labels = [row["label"] for row in R20_LINES.values() if row["scenario"] == scenario]
        assert labels.count("none") >= 6 and sum(label in ("high", "imminent") for label in labels) >= 6, scenario


# An English word standing for a part of a French line is read as that part (a time, a means, a place, an act, a
# goodbye); the same words in a trip, a game, a night out, a break-up, cooking or medicine as prescribed stay none.
@pytest.mark.parametrize("text, tier, removed", [
    ("je vais take all my pills tonight", "imminent", True),
    ("la blade est sur mon poignet rn", "imminent", True),
    ("in 10 min je saute du bridge", "imminent", True),
    ("jsuis on the roof, bye everyone", "imminent", True),
    ("je suis sur le bridge rn, sorry for everything", "imminent", True),
    ("j'ai acheté une rope today, demain je me pends", "imminent", True),
    ("tonight je me kill", "imminent", True),
    ("j'ai swallow toute la boîte", "imminent", True),
    ("j'ai les cachets devant moi, adieu", "imminent", True),
    ("mon pote a dit qu'il va end it tonight, je fais quoi", "none", False),
    ("il a pris toutes ses pills tonight, j'appelle le 15 ?", "none", False),
    ("je prends le train tonight, bye guys", "none", False),
    ("je vais au bridge avec mamie ce soir, bye", "none", False),
    ("mon perso va jump du bridge dans le jeu tonight", "none", False),
    ("ce soir on jump sur le trampoline", "none", False),
    ("j'ai le knife dans la main, j'épluche les patates tonight", "none", False),
    ("la rope est dans le sac, on grimpe demain", "none", False),
    ("j'ai pris mes meds tonight, bonne nuit", "none", False),
    ("je vais end it with this game tonight lol", "none", False),
    ("désolé pour tout hier soir, j'avais trop bu", "none", False),
    ("on fait un bbq sur le rooftop today, venez", "none", False),
])
def test_round_twenty_english_words_for_a_part_read_only_their_own_sense(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# English discourse words around a risk line neither hide it nor make it: "ngl", "tbh", "idk", "anyway", "whatever",
# "sorry guys" before an act or plan leave its tier, and before an ordinary line leave none. A lone "lol" that opens the
# message is a discourse word, not a joke frame, before an imminent act or plan (decision._opened_with_laugh, round 20);
# a laugh after it, a second laugh or "mdr" still lower it (never a removal), and a lone "lol" before an idiom, a
# condition or "kms" leaves it where it was.
@pytest.mark.parametrize("text, tier, removed", [
    ("lol ce soir je me pends, j'ai la corde", "imminent", True),
    ("lol demain je saute du pont", "imminent", True),
    ("ngl ce soir je me pends, j'ai la corde", "imminent", True),
    ("tbh j'ai avalé toutes mes pilules il y a une heure", "imminent", True),
    ("whatever, ce soir je me pends, j'ai la corde", "imminent", True),
    ("sorry guys, j'ai avalé toutes mes pilules il y a une heure", "imminent", True),
    ("ce soir je me pends lol", "high", False),
    ("lol ce soir je me pends mdr", "high", False),
    ("mdr ce soir je me pends", "high", False),
    ("lol kms", "none", False),
    ("lol je suis mort de rire", "none", False),
    ("lol je me suicide si je rate le bac", "none", False),
    ("lol ce soir je me tue à la salle", "none", False),
    ("idk, je prends le train ce soir ou demain matin?", "none", False),
    ("anyway je saute dans le bus, bye", "none", False),
    ("sorry guys, je serai en retard tonight", "none", False),
])
def test_round_twenty_discourse_words_neither_hide_nor_make_risk(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


# Typed on an English keyboard: without accents (e for é, è, ê; c for ç; a for à) every line of rounds 19b and 20 gets
# the same answer as with them (folding strips them on both sides; round 20 found no read French line that differs).
@pytest.mark.parametrize("name", ["fr-own-r19b.csv", "fr-own-r20.csv"])
def test_round_twenty_lines_typed_without_accents_get_the_same_answer(detector, name):
    rows = [(n, row["text"]) for n, row in _rows(name) if _unaccented(row["text"]) != row["text"]]
    assert rows
    with_accents = detector.detect_many([text for _, text in rows])
    without = detector.detect_many([_unaccented(text) for _, text in rows])
    differ = [n for (n, _), a, b in zip(rows, with_accents, without)
              if (a.tier, a.rules, detector.would_remove(a)) != (b.tier, b.rules, detector.would_remove(b))]
    assert not differ, f"{name}: lines answered otherwise without accents: {differ}"


# Chat spellings of French typed in a hurry: a silent ending dropped ("jme pend", "jme fou en l'air", "j'en fini"),
# "jserai", "se soir", "mes veines", "dsl pr tt"; near misses in the same spellings stay none, and being done with a task
# named ("j'en finis avec mes exams demain", which was removed) is no end of the writer's.
@pytest.mark.parametrize("text, tier, removed", [
    ("c decide, ce soir jme pend", "imminent", True),
    ("ce soir jme fou en lair", "imminent", True),
    ("jpeux pu, ce soir jen fini", "imminent", True),
    ("demain matin jserai plus la", "imminent", True),
    ("je vai me pendre se soir", "imminent", True),
    ("jai ouvert mes veines sa saigne bcp", "imminent", True),
    ("jsuis au bord du quai, le train arrive, dsl pr tt", "imminent", True),
    ("j'en finis avec mes exams demain", "none", False),
    ("jen fini avec le taf ce soir", "none", False),
    ("jserai plus la demain, je pars en vacances", "none", False),
    ("se soir je sors avec les potes", "none", False),
    ("dsl pr tt le bruit hier soir", "none", False),
    ("jvais m tuer de rire", "none", False),
])
def test_round_twenty_chat_spellings_read_as_their_words(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 20's second batch, from a blind probe written after the first three classes (imminent 7 of 12 removed, high 1
# of 3, near misses 15 of 15 none; after: 8, 3, 15): a return denied ("je reviens jamais", "brb jamais") is no return (its
# homecoming word is the no_return part's: compose.outweighs) and its cue negates nothing after it (compose.NO_RETURN,
# in the decision stage too); an English "sorry" after the blister pack is "dsl"; the English verb for a jump off a height
# after the writer's wish or plan is a wish of it (high); done for the evening is no end; "take care" is "prenez soin de
# vous" (thanks: a goodbye at a height), and a bar, a party or a terrace on a roof is a night out (other_sense).
@pytest.mark.parametrize("text, tier, removed", [
    ("je reviens jamais, j'ai avalé toute la plaquette, désolé", "imminent", True),
    ("brb jamais, j'ai avalé toute la plaquette, sorry", "imminent", True),
    ("j'ai avalé toute la plaquette, sorry", "imminent", True),
    ("parfois je veux juste jump du bridge, no joke", "high", False),
    ("je pense à end it tous les jours, idk", "high", False),
    ("je rentre pas ce soir, je vais pas me tuer", "none", False),
    ("brb, je vais chercher les pizzas ce soir, j'ai pris toutes les boîtes", "none", False),
    ("je reviens dans 5 min, j'ai pris mes cachets", "none", False),
    ("je reviens jamais au boulot, démission ce soir", "none", False),
    ("c'est fini pour ce soir, bye les gars", "none", False),
    ("big night tonight, on va au rooftop pour l'anniv de Sarah, bye", "none", False),
    ("je prends mes pills avec le dîner tonight comme tous les soirs", "none", False),
    ("rope access training today, on monte sur le bridge avec les harnais", "none", False),
    ("je suis sur le pont, take care", "imminent", True),
    ("rooftop bar ce soir, take care", "none", False),
    ("soirée sur le rooftop tonight, bye", "none", False),
    ("je pars en vacances demain, take care les gars", "none", False),
    ("il y a 2 ans j'ai fait une od, aujourd'hui je vais bien", "none", False),
])
def test_round_twenty_second_batch_returns_denied_and_english_verbs(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 20's third batch, from a second blind probe (imminent 5 of 10 removed, high 2 of 3, near misses 9 of 9 none; after:
# 9, 2, 9): "je vous love" speaks to people as "je vous aime" (addressed, thanks), "mes goodbyes" are "mes adieux", a cut
# "trop deep" is cut too deep, and throwing oneself off a height or under a train said in the present is intent ("demain
# matin je me jette du pont" was high only), the English places too; out of bed, onto the sofa or into a paraglider's
# void it is none.
@pytest.mark.parametrize("text, tier, removed", [
    ("je vous love, c'est my last night, demain je serai plus là", "imminent", True),
    ("j'ai fait mes goodbyes à tout le monde, ce soir je pars pour de bon", "imminent", True),
    ("j'ai cut trop deep, ça saigne de ouf", "imminent", True),
    ("demain matin je me jette du pont", "imminent", True),
    ("demain morning je me jette du bridge, personne peut me stop", "imminent", True),
    ("demain matin je me jette du lit à 6h", "none", False),
    ("je me lance dans le vide ce weekend en parapente", "none", False),
    ("je vous love les gars, bonne nuit", "none", False),
    ("j'ai fait mes goodbyes au taf, je pars en vacances ce soir", "none", False),
    ("rip mon phone, il est tombé du bridge ce matin", "none", False),
    ("ma soeur a dit qu'elle voulait jump, je fais quoi ?? help", "none", False),
])
def test_round_twenty_third_batch_english_words_in_french_frames(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 21 (read the misses of held-out sets 18 to 20, tuning material since). Its own lines are fr-own-r21.csv (left out
# of the French model's files, train_model_lang.NOT_TRAINED), written and committed before any rule (the rules before: 63
# of 96 right; 26 of 44 at-risk lines at any tier, 6 of 22 imminent removed, 5 near misses removed), by class (scenario
# column): the writer's own dying with a near time (compose dying, dying_timed, want_die with for_real), a time settled at
# the head of a line with the goodbye right after it (settled_bye; the last message "avant de mourir"), "sauter" with an
# object that is no height (a dose, a class: idioms), someone else told to jump (abuse), the past told by an age or a year,
# means kept or a place chosen for the writer's own death with no day (kept_for_end, spot_for_end, no_day_yet: high),
# marks healed or hidden (self-harm), and passive wishes (concern.wish_r21).
R21_LINES = {n: row for n, row in _rows("fr-own-r21.csv")}
# label -> detected, kept visible: a recovery story told by the age then, whose act is one of the imminent tier's own rules
# (the decision stage reads only a past cue that ends before the act, and "a 15 ans" alone is also said of now); a rope
# kept with no death named; a method looked up in videos. (Lines 76 and 78, marks asked about healing with someone who must
# not see them, are read since round 22: high.acts_r22.)
R21_KNOWN_MISSES = {57: ("none", "imminent"), 59: ("none", "imminent"), 65: ("high", "concern"), 69: ("high", "none")}


def test_round_twenty_one_own_line_keeps_its_tier_and_removal_only_if_imminent(detector):
    assert len(R21_LINES) >= 96
    judged = _judged(detector, R21_LINES)

    def judge(line, row):
        d = judged[line]
        expected = R21_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R21_LINES.items()), judge)
    assert not wrong, f"round 21 own lines: {wrong}"


def test_round_twenty_one_known_misses_are_what_the_file_says():
    assert all(R21_LINES[n]["label"] == label for n, (label, _) in R21_KNOWN_MISSES.items())


def test_round_twenty_one_every_class_has_near_misses_and_at_risk_lines():
    for scenario in {row["scenario"] for row in R21_LINES.values()}:
        labels = [row["label"] for row in R21_LINES.values() if row["scenario"] == scenario]
        assert labels.count("none") >= 4 and sum(label != "none" for label in labels) >= 2, scenario


# Round 21's near side, probed while writing the rules: a dying verb negated after it or in a game, a comparison ("plus peur
# que"), an ordinary stash or spot, a present age, and a past in an earlier sentence with the act back tonight.
@pytest.mark.parametrize("text, tier, removed", [
    ("si je meurs pas de chaud aujourd'hui c'est un miracle", "none", False),
    ("je meurs ce soir dans le jeu, le boss est trop fort", "none", False),
    ("si je mourais demain, qui garderait mon chat ?", "none", False),
    ("je garde mes somnifères pour dormir quand j'ai des insomnies", "none", False),
    ("j'ai trouvé un coin tranquille en forêt, un jour j'irai y camper", "none", False),
    ("autant mourir de rire devant ce film", "none", False),
    ("je vais mourir pour de bon cette nuit", "imminent", True),
    ("j'ai trouvé un coin tranquille en forêt, un jour j'irai y mourir", "high", False),
    ("je stock mes somnifères depuis des semaines pour le jour où je me tue", "high", False),
    ("j'ai commencé à mettre des cachets de côté pour me tuer. je sais pas encore quand", "high", False),
    ("j'ai les cachets devant moi, ce soir j'avale tout. je sais pas quand ils rentrent", "imminent", True),
    ("à 30 ans je suis toujours seule, ce soir je me tue", "imminent", True),
    ("à 16 ans j'ai essayé de me pendre. ce soir je le refais, la corde est prête", "imminent", True),
    ("en 2015 j'ai voulu me pendre, aujourd'hui je fête mes 5 ans de thérapie", "none", False),
])
def test_round_twenty_one_near_side(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 21's blind probe, written after the rules above in other words and measured once before the three fixes it led to
# (bare "minuit" as a time the same day, a future verb or an elided place in spot_for_end, "au cas ou je deciderais" as no
# day): 19 of 22 right (11 with the rules before round 21); one high line removed by an older combination (means_owned).
@pytest.mark.parametrize("text, tier, removed", [
    ("je crois que je vais y passer cette nuit, et c'est voulu", "imminent", True),
    ("minuit et je meurs, personne me retiendra", "imminent", True),
    ("jvais crever dans une heure, j'ai plus rien à perdre", "imminent", True),
    ("aujourd'hui je meurs, merci à ceux qui m'ont supporté", "imminent", True),
    ("bref c'est cette nuit. je vous aime fort", "imminent", True),
    ("allez c'est l'heure. adieu les amis", "imminent", True),
    ("voilà mon dernier message avant de me tuer", "imminent", True),
    ("je vais crever d'ennui ce soir chez ma belle-mère", "none", False),
    ("ce soir je meurs de froid dans ce gymnase", "none", False),
    ("le perso principal meurt ce soir dans le dernier épisode", "none", False),
    ("bon c'est l'heure du match, bye les gars", "none", False),
    ("c'est ce soir la soirée d'adieu de Paul, merci de venir", "none", False),
    ("j'ai sauté la prise de mon anxiolytique hier soir, c'est grave ?", "none", False),
    ("toi t'as qu'à sauter d'un pont avec tes opinions", "none", False),
    ("j'ai un stock de cachets au cas où je déciderai de partir pour de bon", "high", False),
    ("j'ai trouvé l'arbre où je me pendrai, reste à choisir le jour", "high", False),
    ("je garde la corde pour le jour où je craquerai pour de bon", "high", False),
    ("je garde des pansements pour le jour où je me couperai en cuisinant", "none", False),
    ("à quoi bon vivre si c'est pour souffrir comme ça", "concern", False),
    ("franchement autant crever, rien ne changera", "concern", False),
    ("j'aurais dû mourir dans l'incendie avec mon frère", "concern", False),
    ("je vais mourir de honte demain à l'oral", "none", False),
])
def test_round_twenty_one_blind_probe(detector, text, tier, removed):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, removed)


# Round 22 (self-harm and eating-disorder acts and intents, every language; issue 25 item 3, issue 27). Its own lines are
# fr-own-r22.csv (left out of the French model's files, train_model_lang.NOT_TRAINED), written and committed before any rule
# (the rules before: 40 of 66 right, 12 of 33 at-risk lines at any tier, one near miss raised), by class (scenario column):
# restriction counted in days or hours or kept up, purging as a habit or on purpose, laxatives or appetite cutters to lose
# weight, food hidden or lied about, how long without food asked with an aim, skin scratched, burnt, hit or torn with a sign
# it was meant, the blade kept and the urge or a relapse after days held, marks healed or hidden from someone; near misses
# beside each (a fast for religion or a blood test, food poisoning, a laxative prescribed, the oven, mosquito bites, a
# scar from an operation, someone else's self-harm, hyperbole, a past in recovery). Every at-risk line is high with the
# self-harm message, never removed; every near miss gets no tier.
# Lines 68 to 85 (scenario r22b-...) are a blind probe written after the first rules in other words and committed before
# being run: 11 of 18 right with them, and 11 with the rules before round 22 (12 at risk: 5 at high; 6 near misses: none
# raised), 17 after the fixes it led to (a meal not touched, food thrown counted in days, off to the toilet to get it all
# out, slaps until marked, a relapse with the arms' state, stitches asked with someone who must not ask).
R22_LINES = {n: row for n, row in _rows("fr-own-r22.csv")}
# label -> detected, kept visible: the blade taken out "et je vais le faire ce soir" is read by compose as means owned with
# a plan tonight (means_owned, doing_time: removed), as the same words are in a suicide plan
R22_KNOWN_MISSES = {80: ("high", "imminent")}


def test_round_twenty_two_own_line_keeps_its_tier_never_removed(detector):
    assert len(R22_LINES) >= 84
    judged = _judged(detector, R22_LINES)

    def judge(line, row):
        d = judged[line]
        expected = R22_KNOWN_MISSES.get(line, (row["label"], row["label"]))[1]
        return (d.tier, detector.would_remove(d)), (expected, expected == "imminent")
    wrong = wrong_lines(sorted(R22_LINES.items()), judge)
    assert not wrong, f"round 22 own lines: {wrong}"


def test_round_twenty_two_self_harm_and_eating_lines_get_the_self_harm_message(detector, shipped_policy):
    policy = shipped_policy("default-fr")
    judged = _judged(detector, R22_LINES)
    wrong = [n for n, row in sorted(R22_LINES.items())
             if row["label"] == "high" and n not in R22_KNOWN_MISSES
             and policy.message_for(judged[n].rules, "tier") != "self_harm_dm"]
    assert not wrong, f"round 22 own lines without the self-harm message: {wrong}"


def test_round_twenty_two_known_misses_are_what_the_file_says():
    assert all(R22_LINES[n]["label"] == label for n, (label, _) in R22_KNOWN_MISSES.items())


def test_round_twenty_two_every_class_has_near_misses_and_at_risk_lines():
    classes = {row["scenario"].removesuffix("-near") for row in R22_LINES.values() if row["scenario"].endswith("-near")}
    for scenario in classes:
        risk = [row for row in R22_LINES.values() if row["scenario"] == scenario]
        near = [row for row in R22_LINES.values() if row["scenario"] == scenario + "-near"]
        assert risk and all(r["label"] == "high" for r in risk), scenario
        assert near and all(r["label"] == "none" for r in near), scenario


# Round 22's near side, probed while writing the rules: illness, a trek, a fast, a prescribed laxative, a candle lit, a
# razor bought, a question for a hike, a parent at a loss about a child's self-harm.
@pytest.mark.parametrize("text, tier", [
    ("rien mangé depuis lundi, grippe, j'ai encore de la fièvre", "none"),
    ("rien mangé depuis lundi avec la gastro, j'ai perdu 3 kilos", "none"),
    ("j'ai pas mangé depuis midi, je tiens plus, vivement le dîner", "none"),
    ("je saute le petit dej depuis des années, jamais faim le matin", "none"),
    ("je me suis brûlée avec le briquet en allumant les bougies hier soir", "none"),
    ("combien de temps on tient sans manger en randonnée ? je veux prévoir les provisions", "none"),
    ("le rasoir est nul, je vais craquer et en acheter un autre", "none"),
    ("j'ai vomi après le repas, les moules étaient pas fraîches", "none"),
    ("mes vergetures partent en combien de temps ? j'ai piscine", "none"),
    ("j'ai une brûlure de four sur l'avant-bras, combien de temps pour que ça blanchisse ?", "none"),
    ("ma fille de 15 ans se scarifie, j'ai vu ses bras hier soir, je suis démunie", "none"),
    ("après le dîner je file aux toilettes, trop de café", "none"),
    ("rechute du genou, mes jambes sont en compote", "none"),
    ("j'ai rechuté au foot, mes cuisses sont en feu", "none"),
    ("une coupure comme ça, faut des points ? ma mère dit que non", "none"),
    ("j'ai pas touché à mon plat depuis lundi, il est encore au frigo, je me sens mal de gâcher", "none"),
    ("rien avalé depuis jeudi à part du thé, et je continue", "high"),
    ("jme griffe les bras jusqu'au sang, ça me calme", "high"),
    ("j'ai tenu deux mois et cette nuit j'ai recraqué avec la lame", "high"),
])
def test_round_twenty_two_near_side(detector, text, tier):
    d = detector.detect(text)
    assert (d.tier, detector.would_remove(d)) == (tier, False)
