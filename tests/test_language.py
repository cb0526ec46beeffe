"""Language identification on short chat lines, and a room's detection in several languages (issue 27):
the room's own rules always judge a line; a line in another supported language is judged by that
language's shipped rules as well; lines in a language with no rules are counted (metrics, status)."""

from __future__ import annotations

import collections
import csv
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import actions as A
from gateway.detection import Detector, detector_for, multilingual
from gateway.text.folding import normalise
from gateway.detection.language import SUPPORTED, identify
from gateway.core.engine import Engine
from gateway.store.eventlog import EventLog
from gateway.ops.metrics import Metrics
from gateway.policy.loader import PolicyLoader

from .conftest import CONFIG, GOOD, NET, ROOM, make_binding, say
from .test_cli import run

DATA = Path(__file__).parent / "data"


def _identified(path: Path) -> dict[str, dict[str, int]]:
    """Per language of the file: how many lines were identified right, as nothing (unsure), or wrong."""
    out: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            got = identify(normalise(row["text"]), row["text"])
            verdict = "right" if got == row["language"] else "unsure" if got is None else "wrong"
            counts = out.setdefault(row["language"], {"right": 0, "unsure": 0, "wrong": 0})
            counts[verdict] += 1
    return out


@pytest.mark.parametrize("name, least_right", [("lang-id-short.csv", 13), ("lang-id-check.csv", 7)])
def test_short_lines_are_identified_or_left_unsure_never_named_wrong(name, least_right):
    """15 short lines per language, ours: ``lang-id-short.csv`` was used to write the word lists,
    ``lang-id-check.csv`` was written after them and never tuned on (en 11, de 14, fr 13, es 9 of 15 right,
    the rest unsure; es was 7 before the lists took words from the tuning halves of issue 27's lines). A
    wrong language would add the wrong rules: none is."""
    for language, counts in _identified(DATA / name).items():
        assert counts["wrong"] == 0, (language, counts)
        assert counts["right"] >= least_right, (language, counts)


@pytest.mark.parametrize("text", ["i hob ka lust mehr zum lebn", "i wett eifach nümm da si, es isch alles zvill",
                                  "i mog nimma. i hab scho überlegt ob i mi vor an lkw werf",
                                  "gibts ne sichere methode die nicht schief geht",
                                  "die pistole liegt geladen auf meinem schoß. sobald es dunkel is mach ichs"])
def test_german_chat_and_dialect_lines_are_named_german(text):
    """Chat German of DE, AT and CH (round 3 of issue 27): "i" is also English, "is" too; the words that are
    German's alone ("mog", "wett", "zvill", "gibts", "sobald") name it, so an English room adds the German rules."""
    assert identify(normalise(text), text) == "de"


def test_english_chat_is_never_named_another_language():
    """The shipped everyday chat (628 lines, English but for three greetings in Spanish and French): no
    English line would get another language's rules, or be counted as in a language with no rules."""
    lines = (Path(__file__).parent.parent / "gateway" / "detection" / "data" / "everyday-chat.txt").read_text("utf-8").splitlines()
    named = sorted(t for t in lines if identify(normalise(t), t) not in ("en", None))
    assert named == ["bonjour tout le monde", "buenos días, ¿qué tal?", "hola a todos"]


@pytest.mark.parametrize("text", ["ok", "lol", "hi", "😂😂", "no", "la la la", "", "ja", "si", "me too",
                                  "ich", "je", "morgen"])
def test_a_short_or_ambiguous_line_names_no_language(text):
    assert identify(normalise(text), text) is None


@pytest.mark.parametrize("text, script", [("Я больше не могу", "cyrillic"), ("لا أستطيع بعد الآن", "arabic"),
                                          ("我受不了了", "cjk"), ("もう無理", "cjk"), ("δεν αντέχω άλλο", "greek")])
def test_a_line_in_another_script_is_named_by_its_script(text, script):
    assert identify(normalise(text), text) == script


def test_look_alike_letters_in_english_are_not_another_script():
    text = "i want to dіe tonight"  # a Cyrillic і hiding the word from a filter
    assert identify(normalise(text), text) == "en"


# -- a room's detection in several languages ----------------------------------------------------------

@pytest.fixture(scope="module")
def english_room(shipped_policy):
    return detector_for(shipped_policy("default"))


@pytest.fixture(scope="module")
def german_room(shipped_policy):
    return detector_for(shipped_policy("default-de"))


def test_a_german_line_in_an_english_room_is_judged_by_the_german_rules(english_room):
    d = english_room.detect("Ich will sterben, sorry an alle")
    assert (d.tier, d.language, d.languages, d.identified) == ("high", "de", ("en", "de"), "de")
    assert d.rules == ("high.active_thoughts",)
    assert english_room.own.detect("Ich will sterben, sorry an alle").tier == "none"  # English rules alone: nothing
    d = english_room.detect("sitz am fluss und geh gleich rein, sagt meiner schwester dass es mir leid tut")
    assert (d.tier, english_room.would_remove(d)) == ("imminent", True)  # the room's own tier's action


def test_an_english_line_in_a_german_room_is_judged_by_the_english_rules(german_room):
    d = german_room.detect("i'm going to kill myself tonight")
    assert d.tier == "imminent" and d.language == "en" and d.languages == ("de", "en")


def test_french_and_spanish_lines_in_an_english_room(english_room):
    assert english_room.detect("je veux mourir, j'en peux plus").language == "fr"
    assert english_room.detect("quiero morir, ya no puedo más").tier == "high"


def test_a_line_the_rooms_rules_catch_is_never_lost_whatever_it_is_said_to_be(english_room, monkeypatch):
    """Identification may add rules, never take the room's away: even when every line is said to be German
    (wrongly), the English room's own answer stands wherever the German rules find less."""
    lines = ["i took all my pills", "I want to die", "gonna kill myself tonight", "i wish i was dead",
             "kill me lol", "good morning all"]
    own = [english_room.own.detect(t) for t in lines]
    monkeypatch.setattr(multilingual, "identify", lambda norm, text=None: "de")
    for text, alone in zip(lines, own):
        d = english_room.detect(text)
        assert d.languages == ("en", "de")
        assert (d.tier, d.rules, d.language) == (alone.tier, alone.rules, "en")
    batch = english_room.detect_many(lines)
    assert [(d.tier, d.rules) for d in batch] == [(d.tier, d.rules) for d in own]


def test_a_higher_answer_of_the_rooms_own_rules_wins_over_the_added_language(english_room):
    # identified as German, but the English rules find more (an act under way) than the German ones
    d = english_room.detect("ich bin so müde von allem und mir ist alles egal, i took all my pills")
    assert d.identified == "de" and d.tier == "imminent" and d.language == "en"


def test_a_language_with_no_shipped_policy_adds_nothing(monkeypatch):
    monkeypatch.setitem(multilingual._SHIPPED, "fr", None)  # as if policies/default-fr.yaml were missing
    room = multilingual.RoomDetector(Detector(PolicyLoader().load("default")), "en")
    d = room.detect("je veux mourir")
    assert d.tier == "none" and d.languages == ("en",) and d.identified == "fr"


_MIXED = st.sampled_from([
    "ich will sterben", "je veux mourir", "quiero morir", "i want to die", "ich", "und", "je", "yo", "the",
    "heute", "mañana", "ça", "kill me lol", "geh gleich rein", "esta noche me mato", "Я", "хочу", "умереть",
    "😂", "lol", "ok", "nicht", "pas", "no", "tonight", "k1ll", "took all my pills", "\n", "", "café",
])
_MIXED_LINES = st.lists(_MIXED, max_size=10).map(" ".join) | st.text(max_size=60)


@given(st.lists(_MIXED_LINES, max_size=30))
@settings(max_examples=300, deadline=None)
def test_a_batch_gives_the_same_answers_as_one_at_a_time_in_every_language(texts):
    for room in (_ROOMS.get("en") or _room("en"), _ROOMS.get("de") or _room("de")):
        assert room.detect_many(texts) == [room.detect(t) for t in texts]


_ROOMS: dict = {}


def _room(language: str):
    _ROOMS[language] = detector_for(PolicyLoader().load("default" if language == "en" else f"default-{language}"))
    return _ROOMS[language]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_accented_lines_get_the_same_answers_in_a_batch_as_one_at_a_time(language):
    """A line folding handles alone (accents, "ß", "ñ", emoji) but that is plain ASCII once folded goes through
    the batch's RE2 pass, not to the full judgement: the pass must not miss any of its risk, in any room."""
    texts = []
    for lang in ("de", "fr", "es"):
        with (Path(__file__).parent / "data" / "lang" / f"{lang}-own.csv").open(newline="", encoding="utf-8") as f:
            texts += [row["text"] for row in csv.DictReader(f) if not row["text"].isascii()]
    texts = [t for t in texts if normalise(t).isascii()]
    room = _ROOMS.get(language) or _room(language)
    expected = [room.detect(t) for t in texts]
    assert len(texts) > 50 and sum(d.tier != "none" for d in expected) > 20
    assert room.detect_many(texts) == expected


def test_a_moderators_scan_says_which_languages_rules_judged_the_line(engine):
    from .test_commands import replies, run as command

    out = replies(command(engine, "!scan ich will sterben heute", power=100))
    # the score and threshold are the German model's: the language whose rules decided
    german = multilingual.shipped_detector("de")
    score = german.model.score_text("ich will sterben heute", normalise("ich will sterben heute"))
    assert out == ["Scan (default): tier high; would remove: no; rules: high.active_thoughts; model score "
                   f"{score:.2f} (concern from {german.model_concern:.2f}); reads as de: the de rules judged it too "
                   "(theirs decided)."]
    out = replies(command(engine, "!scan Я больше не могу", power=100))
    assert out == ["Scan (default): tier none; would remove: no; rules: none; reads as cyrillic: no rules for that "
                   "language."]


# -- gateway scan and gateway eval --------------------------------------------------------------------

def test_scan_says_which_language_judged_each_line(tmp_path):
    lines = ["i want to die", "ich will sterben", "hello there", "Я хочу спать"]
    r = run("scan", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [(o["tier"], o["language"], o["languages"], o.get("identified")) for o in out] == [
        ("high", "en", ["en"], "en"), ("high", "de", ["en", "de"], "de"), ("none", "en", ["en"], None),
        ("none", "en", ["en"], "cyrillic")]
    r = run("scan", "--policy", "default-de", stdin="ich will sterben\ni am going to kill myself tonight\n")
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [(o["tier"], o["language"], o["languages"]) for o in out] == [
        ("high", "de", ["de"]), ("imminent", "en", ["de", "en"])]


def test_eval_reports_per_language_from_a_language_column(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("text,label,language\nich will sterben,high,de\nok danke,none,de\n"
                    "i want to die,high,en\nquiero morir,high,es\nesta noche me mato,imminent,es\n",
                    encoding="utf-8")
    r = run("eval", str(path))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "language de: 2 lines; any tier recall 1.000 [0.207, 1.000]; exact tier 1.000 [0.342, 1.000]" in out
    assert "language es: 2 lines" in out and "removed 1 of 1 at a removing tier; false removals 0 of 1" in out
    assert "language identification: es 2, de 1, en 1, unsure 1; another language's rules added on de 1, es 2" in out


# -- lines in a language with no rules: counted ----------------------------------------------------------

def test_a_line_in_a_language_with_no_rules_is_counted_without_its_text(directory):
    engine = Engine([make_binding(PolicyLoader().load("default"))], directory, bot_ids={NET: "@bot:test"})
    actions = engine.handle(say("Я больше не могу, всё"))
    records = [a for a in actions if isinstance(a, A.RecordEvent)]
    assert [(r.kind, r.room, r.code, r.user) for r in records] == [("no_rules_language", ROOM, "cyrillic", None)]
    assert engine.handle(say("good morning everyone")) == []
    assert engine.handle(say("ich bin müde heute")) == []  # German has rules: not counted
    metrics = Metrics({(NET, ROOM): "group"})
    for r in records:
        metrics.recorded(r, 0.0)
    text = metrics.exposition().decode()
    assert 'gateway_messages_without_rules_total{language="cyrillic",network="test",room="group"} 1.0' in text


def test_status_counts_lines_in_a_language_with_no_rules(write, tmp_path, directory):
    write("policies/peer.yaml", GOOD)
    config = write("gateway.yaml", CONFIG + "policy_dir: policies\n")
    policy = PolicyLoader([tmp_path / "policies"]).load("peer")
    engine = Engine([make_binding(policy)], directory, bot_ids={NET: "@bot:test"})
    log, now = EventLog(tmp_path / "gateway.db"), time.time()
    for text in ("Я больше не могу", "我受不了了", "Я устал", "non ce la faccio più, sono stanco", "hello"):
        for a in engine.handle(say(text, ts=now)):
            log.write(a, now)
    log.close()
    r = run("status", "--config", str(config), text=True, env={**os.environ, "GATEWAY_MX_PASSWORD": "x"})
    assert r.returncode == 0, r.stderr
    assert ("lines in a language with no rules (risk detection cannot read them; rules exist for en, de, fr, "
            "es), last 24 h / all time:") in r.stdout
    assert f"  {ROOM} ({ROOM}), cyrillic: 2 / 2" in r.stdout
    assert f"  {ROOM} ({ROOM}), cjk: 1 / 1" in r.stdout
    assert f"  {ROOM} ({ROOM}), it: 1 / 1" in r.stdout
    assert "больше" not in r.stdout


def test_every_supported_language_has_a_shipped_policy_that_loads():
    for language in SUPPORTED:
        assert multilingual.shipped_detector(language) is not None, language


def test_spanish_lines_of_the_tuning_halves_are_identified_as_spanish():
    """Issue 27's Spanish tuning halves (360 lines written by others: risk, idioms, abuse, everyday chat) are
    Spanish for language identification, so a Spanish line in an English, German or French room gets the
    Spanish rules: 359 of 360 (344 before round 3 added everyday Spanish words: "muero", "ojala", "wey",
    "boludo", "quisiera"...), the last unsure, none named another language."""
    got = collections.Counter()
    for name in ("es-tune.csv", "es-heldout.csv", "es-heldout2.csv"):
        with open(DATA / "lang" / name, encoding="utf-8") as fh:
            got.update(identify(normalise(row["text"]), row["text"]) for row in csv.DictReader(fh))
    assert set(got) <= {"es", None}
    assert got["es"] >= 355, got


def test_matches_of_several_passes_that_overlap_across_lines_name_each_line_once():
    """The batch pass is several RE2 patterns whose matches come ordered by where they start: a match that
    starts inside an earlier one spanning lines once made the batch count lines twice, name a message past the
    batch's end and fail (French rules on a batch of Spanish lines)."""
    import re2

    from gateway.detection.detector import lines_matched
    from gateway.detection.rules import _AnyOf

    trigger = _AnyOf([re2.compile("(?m)x\ny\nz"), re2.compile("(?m)^y$"), re2.compile("(?m)^w$")])
    assert lines_matched(trigger, b"x\ny\nz\nw\nv") == {0, 1, 2, 3}
    room = _ROOMS.get("fr") or _room("fr")
    with (Path(__file__).parent / "data" / "lang" / "es-own-r4.csv").open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    assert room.detect_many(texts) == [room.detect(t) for t in texts]
