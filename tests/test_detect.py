"""Normalisation and detection with the shipped default policy: idioms, negation, obfuscation."""

from __future__ import annotations

import pytest
import re2

from gateway.detection import detector_for
from gateway.text.folding import normalise


@pytest.mark.parametrize("raw, expected", [
    ("I'm going to K I L L myself!!", "im going to kill myself"),
    ("su1c1de", "suicide"),
    ("p!lls", "pills"),
    ("$uicide", "suicide"),
    ("took 800mg at 3am", "took 800mg at 3am"),          # numbers are not leetspeak
    ("kіll mysеlf", "kill myself"),                       # Cyrillic і and е
    ("k\u200bi\u200dll", "kill"),                         # zero-width characters
    ("ｋｉｌｌ", "kill"),                                   # full-width (NFKC)
    ("k̷̢i̵l̴l̸", "kill"),                                       # zalgo
    ("I’m dead 😂😂", "im dead 😂 😂"),                    # emoji kept as tokens
    ("took my 💊 and the 🔪", "took my pills and the knife"),  # ...except those naming a means
    ("k_i_l_l", "kill"),
    ("ВСЁ плохо", "все плохо"),                           # real Cyrillic words are not folded
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_a_flood_of_distinct_characters_folds_the_same_and_keeps_the_fold_table_bounded():
    """Folding remembers, per character, whether it is a mark to drop; a line of tens of thousands of distinct
    characters must not make that table grow without end, and a character met after it is full folds the same."""
    from gateway.text import folding

    flood = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 2 * folding._MarksDropped.LIMIT))
    normalise(flood)
    assert len(folding._MARKS_DROPPED) <= folding._MarksDropped.LIMIT
    assert normalise("k\u0301i\u200bll \U0001F600") == "kill \U0001F600"


def detect(policy, text):
    return detector_for(policy).detect(text)


@pytest.mark.parametrize("text, tier", [
    ("i took all my pills", "imminent"),
    ("gonna kill myself tonight", "imminent"),
    ("going to end my life right now", "imminent"),
    ("💊💊💊", "imminent"),
    ("i took all my 💊", "imminent"),
    ("i t o o k a l l m y p i l l s", "imminent"),  # letter-spaced, "i" joined to the rest
    ("i m g o n n a k i l l m y s e l f", "high"),
    ("I want to die", "high"),
    ("wanna kms", "high"),
    ("i wish i was dead", "concern"),
    ("nobody would miss me", "concern"),
])
def test_risk_tiers(default_policy, text, tier):
    assert detect(default_policy, text).tier == tier


@pytest.mark.parametrize("text", [
    "kill me lol", "I'm dead 😂", "you're killing it", "that's the hill you want to die on",
    "this cake is to die for", "I could kill myself for forgetting that", "my grandma died last year",
    "the diet starts monday", "skills and killers", "good morning everyone",
])
def test_idioms_and_ordinary_chat_do_not_fire(default_policy, text):
    assert detect(default_policy, text).tier == "none"


def test_idiom_suppression_is_reported(default_policy):
    d = detect(default_policy, "I could kill myself for forgetting that")
    assert d.suppressed == ("high.active_thoughts",)


@pytest.mark.parametrize("text, tier", [
    ("I would never kill myself", "concern"),
    ("I'm not going to kill myself", "concern"),
    ("I didn't... no, I won't hurt myself", "concern"),
])
def test_negation_lowers_one_tier_instead_of_dropping(default_policy, text, tier):
    d = detect(default_policy, text)
    assert d.tier == tier and d.lowered


def test_negation_far_away_does_not_lower(default_policy):
    assert detect(default_policy, "im not ok, i want to kill myself").tier == "high"


@pytest.mark.parametrize("text", [
    "i t00k all my p!lls", "I TOOK ALL MY PILLS", "i took all my pіlls", "i\u200b took all my pills",
    "i-took-all-my-pills", "i took all my pills.", "ｉ ｔｏｏｋ ａｌｌ ｍｙ ｐｉｌｌｓ",
])
def test_obfuscation_is_folded(default_policy, text):
    assert detect(default_policy, text).tier == "imminent"


def test_letter_spaced_whole_phrase(default_policy):
    assert detect(default_policy, "k i l l m y s e l f").tier == "high"


def test_words_inside_other_words_do_not_match(default_policy):
    assert detect(default_policy, "skms and kmsx").tier == "none"


def test_regex_engine_is_linear_time_on_a_backtracking_pattern():
    # (a+)+$ makes Python's re take exponential time on "aaaa...b"; RE2 answers in linear time.
    pattern = re2.compile(r"(a+)+$")
    assert pattern.search("a" * 100_000 + "b") is None


def test_would_remove_follows_the_tier_action(default_policy):
    d = detector_for(default_policy)
    assert d.would_remove(d.detect("i took all my pills")) is True
    assert d.would_remove(d.detect("i want to die")) is False


@pytest.mark.parametrize("text", [
    "i literally want to die, my crush saw my old tiktoks 😂",
    "im about to kms if this printer doesn't work lmao",
    "everyone would be better off without me in this group project lol",
])
def test_a_joke_marker_drops_concern_and_high(default_policy, text):
    result = detect(default_policy, text)
    assert result.tier == "none" and result.suppressed, result


def test_a_joke_marker_never_drops_an_act_under_way_only_lowers_it(default_policy):
    result = detect(default_policy, "i took all my pills lol")
    assert result.tier == "high" and result.lowered
    assert not detector_for(default_policy).would_remove(result)  # still a private message and an alert


@pytest.mark.parametrize("policy, text, tier", [
    # shared decision code: in every language an act under way told with its time or its effect on the body
    # outranks a laugh marker (nervous laughter is not a joke); without either, a laugh still lowers it
    ("default", "i took all my pills an hour ago lol, cant feel my legs", "imminent"),
    ("default-de", "hab vor einer stunde alle tabletten genommen haha, mir wird schwarz vor augen", "imminent"),
    ("default-fr", "j'ai pris toutes mes pilules il y a une heure mdr, je sens plus mes jambes", "imminent"),
    ("default", "i took all my pills lol", "high"),
    ("default", "ate the whole tub of ice cream an hour ago lol cant feel my legs", "none"),
])
def test_an_act_under_way_with_its_time_outranks_a_joke_marker(shipped_policy, policy, text, tier):
    detector = detector_for(shipped_policy(policy))
    result = detector.detect(text)
    assert (result.tier, detector.would_remove(result)) == (tier, tier == "imminent"), result


def test_jokes_are_policy_text(write, tmp_path):
    from gateway.policy.loader import PolicyLoader
    write("nojokes.yaml", "extends: default\nname: nojokes\nexceptions:\n  jokes: {replace: []}\n")
    policy = PolicyLoader([tmp_path]).load("nojokes")
    assert detector_for(policy).detect("i literally want to die 😂").tier == "high"


@pytest.mark.parametrize("text, tier", [
    # concept frames: phrasings that no listed phrase covers
    ("some days i hope a truck hits me", "concern"),
    ("everyone at home would be better off without me", "concern"),
    ("i cant see myself being around much longer", "concern"),
    ("i've been looking up how many pills it would take", "high"),
    ("i keep thinking about jumping off the bridge near my flat", "high"),
    ("i've been stockpiling my meds", "high"),
    ("i swallowed two whole packets of my tablets", "imminent"),
    ("the noose is tied and ready", "imminent"),
    ("im on the cliff edge right now", "imminent"),
])
def test_concept_frames(default_policy, text, tier):
    assert detect(default_policy, text).tier == tier


@pytest.mark.parametrize("text", [
    "the doctor said my dad took too many pills by accident last year",   # not the writer
    "i'm collecting my pills from the pharmacy later",
    "i'm going to end it with my boyfriend tonight",
    "i'm at the train station now, see you soon",
    "i wrote a note for my mum to buy milk",
])
def test_concept_frames_leave_everyday_lines_alone(default_policy, text):
    assert detect(default_policy, text).tier == "none"


@pytest.mark.parametrize("shard", range(4))
def test_detect_many_gives_the_one_by_one_answer_on_every_labelled_line(default_policy, shard):
    """Every line of every labelled set (a quarter per shard, so that two workers share them), in shuffled
    batches of every size from one line to a thousand: the batch path (bench/matchers.py measures it) must
    never answer differently from ``detect``, whatever its neighbours and however many they are."""
    import csv
    import random
    from pathlib import Path

    detector = detector_for(default_policy)
    texts = []
    for path in sorted((Path(__file__).parent / "data").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            texts += [row["text"] for row in csv.DictReader(f)]
    assert len(texts) > 3600
    texts = texts[shard::4]
    expected = [detector.detect(t) for t in texts]
    assert sum(d.tier != "none" for d in expected) > 300  # the batches do hold risk to find
    rng = random.Random(5 + shard)
    order = list(range(len(texts)))
    rng.shuffle(order)
    sizes, i = [1, 1000], 1001
    while i < len(order):  # then 1, 2, 3, 7, 31 and sizes between, in a shuffled order of lines
        sizes.append(min(rng.choice((1, 2, 3, 7, 31, rng.randint(4, 300))), len(order) - i))
        i += sizes[-1]
    i = 0
    for size in sizes:
        chunk = order[i:i + size]
        assert detector.detect_many([texts[j] for j in chunk]) == [expected[j] for j in chunk]
        i += size
    assert detector.detect_many([]) == []


def test_detect_many_judges_every_message_a_match_across_lines_touches(write, tmp_path):
    """A policy regex that can span a line break (``\\W`` matches it) must not hide the next message's
    own match: the batch joins messages by line, so the span touches both and both are judged."""
    from gateway.policy.loader import PolicyLoader
    write("span.yaml", "extends: default\nname: span\ntiers:\n  concern:\n    rules:\n"
                       "      span:\n        regexes: ['(?:qqa\\W+)?qqb\\b']\n")
    detector = detector_for(PolicyLoader([tmp_path]).load("span"))
    texts = ["qqa", "qqb", "ok"]
    assert [d.tier for d in map(detector.detect, texts)] == ["none", "concern", "none"]
    assert detector.detect_many(texts) == [detector.detect(t) for t in texts]


@pytest.mark.parametrize("text", [
    "if you're feeling suicidal please call 988",
    "if anyone is having thoughts of suicide tonight, please reach out",
    "anyone feeling suicidal, the crisis line is pinned",
    "tied up the rope swing for the kids",
])
def test_supportive_lines_and_everyday_rope_are_not_the_writers_risk(default_policy, text):
    """Issue 15, item 6 (and a false removal seen on hand-labelled chat): the speaker, not the topic."""
    assert detector_for(default_policy).detect(text).tier == "none"


def test_a_note_that_starts_with_if_you_are_reading_this_is_still_risk(default_policy):
    assert detector_for(default_policy).detect("if you are reading this, i want to die").tier == "high"


@pytest.mark.parametrize("text", [
    "took 40 of my 500mg ones an hour ago",
    "i took like 25 of my sertraline just now",
    "swallowed 30 paracetamol 20 minutes ago",
    "im on the bridge, goodbye everyone",
    "sitting in my car in the garage with the engine running",
    "put the hose on the exhaust",
])
def test_imminence_signals_remove(default_policy, text):
    """Issue 15, item 4: a dose with a number and recency, a bridge with a farewell, exhaust."""
    d = detector_for(default_policy)
    assert d.would_remove(d.detect(text)), text


@pytest.mark.parametrize("text", [
    "i took 2 paracetamol an hour ago",
    "took 15 minutes to get here an hour ago",
    "we took 30 selfies just now lol",
    "im on the bridge crew, bye for now",
    "my car is in the garage with the engine running a diagnostic",
    "i took 10 of my vitamins an hour ago",
])
def test_imminence_signals_are_not_everyday_numbers(default_policy, text):
    d = detector_for(default_policy)
    assert not d.would_remove(d.detect(text)), text


def test_the_answer_and_its_rules_never_depend_on_the_hash_seed(default_policy):
    """A pronoun after two means at the same word counted as whichever a set listed first, so the rules a line
    was said to match (and the JSON of ``gateway scan``) changed from one process to the next. Lines of these
    files did. ``gateway scan`` under a hash seed that is not this process's gives the answers found here."""
    import csv
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = Path(__file__).parent / "data"
    files = [data / "parts-heldout.csv", data / "lang" / "de-own.csv"]
    texts = [row["text"].replace("\n", " ") for f in files
             for row in csv.DictReader(open(f, newline="", encoding="utf-8"))]
    seed = "1" if os.environ.get("PYTHONHASHSEED") == "0" else "0"
    scan = subprocess.Popen([sys.executable, "-m", "gateway.cli", "scan"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONHASHSEED": seed})
    detector = detector_for(default_policy)
    here = [detector.detect(t) for t in texts]  # (while the other process starts)
    out, err = scan.communicate("".join(t + "\n" for t in texts), timeout=120)
    assert scan.returncode == 0, err[-2000:]
    there = [json.loads(line) for line in out.splitlines()]
    assert len(there) == len(texts)
    assert sum(bool(d.rules) for d in here) > 100  # lines with rules to order
    assert [(j["tier"], j["rules"], j["lowered"], j["suppressed"]) for j in there] == \
        [(d.tier, list(d.rules), list(d.lowered), list(d.suppressed)) for d in here]
