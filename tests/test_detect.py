"""Normalisation and detection with the shipped default policy: idioms, negation, obfuscation."""

from __future__ import annotations

import pytest
import re2

from gateway.normalise import normalise


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
    ("k_i_l_l", "kill"),
    ("ВСЁ плохо", "все плохо"),                           # real Cyrillic words are not folded
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def detect(policy, text):
    return policy.detector.detect(text)


@pytest.mark.parametrize("text, tier", [
    ("i took all my pills", "imminent"),
    ("gonna kill myself tonight", "imminent"),
    ("going to end my life right now", "imminent"),
    ("💊💊💊", "imminent"),
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
    d = default_policy.detector
    assert d.would_remove(d.detect("i took all my pills")) is True
    assert d.would_remove(d.detect("i want to die")) is False
