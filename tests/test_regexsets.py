"""RE2 sets in place of RE2's FilteredRE2 (``gateway/detection/regexsets.py``): the same answers, so that a language
added to a room by language identification can use them and cost under 1 MB instead of 5 to 15 MB (issue 25's 150 MB
for a mixed scan).

Failures name CSV lines and indexes, never the text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import re2

from gateway.core.quotes import own_words
from gateway.detection import Detector
from gateway.detection.multilingual import shipped_detector
from gateway.detection.regexsets import PatternSets
from gateway.detection.rules import CompiledRules, compiled_rules
from gateway.text.folding import normalise

DATA = Path(__file__).resolve().parent / "data"
# read labelled sets of each language (tuning material): risk lines, near misses, everyday lines sharing risk words
READ = {"default": [DATA / "dev.csv"],
        "default-de": [DATA / "lang" / "de-tune.csv", DATA / "lang" / "de-everyday-parts-tune.csv"],
        "default-fr": [DATA / "lang" / "fr-tune.csv", DATA / "lang" / "fr-everyday-parts-tune.csv"],
        "default-es": [DATA / "lang" / "es-tune.csv", DATA / "lang" / "es-everyday-parts-tune.csv"]}


def _lines(name: str) -> list[tuple[str, str]]:
    out = []
    for path in READ[name]:
        with open(path, newline="", encoding="utf-8") as fh:
            out += [(f"{path.name}:{i + 2}", row["text"]) for i, row in enumerate(csv.DictReader(fh))]
    return out


@pytest.mark.parametrize("name", sorted(READ))
def test_sets_find_the_same_patterns_as_the_filter(shipped_policy, name):
    """Every policy regex that matches a line, as FilteredRE2 answers it, over more than one set of 100 (the shipped
    policies hold hundreds), on the folded lines the rules read."""
    regex_filter = compiled_rules(shipped_policy(name)).regex_filter  # the room's own rules: FilteredRE2
    sets = compiled_rules(shipped_policy(name), small=True).regex_filter  # built once a process, as a room adds it
    assert isinstance(regex_filter, re2.Filter) and isinstance(sets, PatternSets)
    assert len(sets._sets) > 2  # several sets of 100, and a filter with a tree worth its memory
    found = 0
    differ = []
    for where, text in _lines(name):
        for norm in (normalise(own_words(text)), text):
            want, got = regex_filter.Match(norm), sets.Match(norm)
            found += want is not None
            if want != got:
                differ.append(f"{where}: filter {want}, sets {got}")
    assert found > 20  # the lines hold risk words: a comparison of empty answers would prove nothing
    assert not differ, "\n".join(differ[:20])


@pytest.mark.parametrize("name", sorted(READ))
def test_small_rules_answer_as_the_full_ones(shipped_policy, name):
    """A detector with ``small`` rules (how a language added by identification is built) gives every read line the
    same tier, removal and rule ids as the room's own detector of the same policy."""
    policy = shipped_policy(name)
    full, small = Detector(policy), Detector(policy, small=True)
    assert isinstance(small.rules.regex_filter, PatternSets) and not isinstance(full.rules.regex_filter, PatternSets)
    differ = []
    raised = 0
    for where, text in _lines(name):
        mine = own_words(text)
        a, b = full.detect(mine), small.detect(mine)
        raised += a.tier != "none"
        if (a.tier, full.would_remove(a), a.rules) != (b.tier, small.would_remove(b), b.rules):
            differ.append(f"{where}: {a.tier} {a.rules} / {b.tier} {b.rules}")
    many = [own_words(text) for _, text in _lines(name)]
    if [(d.tier, d.rules) for d in full.detect_many(many)] != [(d.tier, d.rules) for d in small.detect_many(many)]:
        differ.append("detect_many differs")
    assert raised > 20
    assert not differ, "\n".join(differ[:20])


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_a_language_added_by_identification_is_built_small(language):
    """The shipped detector a room adds for a line in another language judges only such lines: its regexes are found
    with RE2 sets, not a 5-15 MB filter (what keeps a mixed scan of the four languages under 150 MB)."""
    detector = shipped_detector(language)
    assert isinstance(detector.rules, CompiledRules)
    assert isinstance(detector.rules.regex_filter, PatternSets)
