"""English's second learned score (issue 25): ``risk-en-chat.bin``, learned from this project's own English chat
lines by ``train_model_lang.py --language en`` (named spent sets, never the next unseen one), read beside
``risk-en.bin`` on chat-length lines only (``model.chat``). Concern only, never high, never a removal, never
behind the rules' exceptions; the shipped file is what the script builds and the policy's threshold is its. On in the shipped default
since it learned everyday chat (``en-chat-everyday.csv``: before, it raised everyday lines that pair "sorry" with
"tonight"); a room switches it off."""

from __future__ import annotations

import json

import pytest

from gateway.detection import CHAT_RULE, MODEL_RULE, detector_for
from gateway.detection.model import MODELS, RiskModel
from gateway.policy.loader import PolicyLoader
from gateway.text.folding import normalise

# Written for this test (not from tests/data): the rules find nothing here, risk-en.bin stays under its threshold
# on the first, and the chat model raises both
RAISED = ["i know how i am going to do it and when", "i keep looking at the bottle of pills in my drawer"]


@pytest.fixture(scope="module")
def english():
    return detector_for(PolicyLoader().load("default"))


def test_the_chat_model_is_small_and_learned_from_named_spent_english_sets_only():
    from gateway.detection import train_model_lang

    path = MODELS / "risk-en-chat.bin"
    model = RiskModel.load(path)
    assert path.stat().st_size < 300_000 and len(model.weights) == 1 << model.bits
    (source,) = model.meta["sources"]
    assert source["licence"] == "this repository's"
    assert source["files"] == list(train_model_lang.EN_TRAINING_FILES)
    assert not any("heldout13" in f for f in source["files"]) and "parts-heldout12.csv" in source["files"]
    assert "en-chat-everyday.csv" in source["files"] and "en-chat-everyday-check.csv" not in source["files"]
    assert model.meta["language"] == "en"
    assert model.meta["first_person"] == sorted(train_model_lang.PRONOUNS["en"][0].split())
    cv = model.meta["cross_validated"]
    assert cv["split"] == "by file" and cv["distress_alarms"]["k"] == 0 and cv["none_alarms"]["rate"] <= 0.03


def test_the_shipped_chat_model_is_what_its_script_builds_from_the_named_files():
    """Weights to within float rounding (the cross-validation that sets the threshold is left out: slow)."""
    from gateway.detection import train_model_lang

    lines = train_model_lang.load(train_model_lang.training_files("en"))
    rebuilt = train_model_lang.train(lines, "en")
    shipped = RiskModel.load(MODELS / "risk-en-chat.bin")
    assert shipped.meta["lines"] == len(lines)
    assert len(rebuilt.weights) == len(shipped.weights)
    assert max(abs(a - b) for a, b in zip(rebuilt.weights, shipped.weights)) < 1e-4
    assert abs(rebuilt.bias - shipped.bias) < 1e-4
    assert train_model_lang.default_out("en") == MODELS / "risk-en-chat.bin"


def test_the_english_policy_keeps_its_model_and_reads_the_chat_model_at_the_scripts_threshold(english):
    policy = PolicyLoader().load("default")
    chat = RiskModel.load(MODELS / "risk-en-chat.bin")
    assert policy.model.enabled and policy.model.file == "risk-en.bin" and policy.model.high is None
    assert policy.model.chat.enabled and policy.model.chat.file == "risk-en-chat.bin"  # on in the shipped default
    assert policy.model.chat.concern == chat.meta["thresholds"]["concern"]  # the script's figure, not a guess
    assert policy.model.chat.max_words == 60
    assert english.own.chat.meta["language"] == "en" and english.own.chat_concern == policy.model.chat.concern
    for lang in ("de", "fr", "es"):  # the other languages' policies have no chat model
        assert not PolicyLoader().load(f"default-{lang}").model.chat.enabled


def test_a_line_the_chat_model_raises_is_concern_named_model_chat_and_never_removed(english):
    for text in RAISED:
        for d in (english.detect(text), english.detect_many([text, "good morning"])[0]):
            assert d.tier == "concern" and d.rules == (CHAT_RULE,) and not english.would_remove(d)
            assert d.chat_score >= english.own.chat_concern and d.score < english.own.model_concern
    assert english.detect("good morning").tier == "none"


def test_everyday_lines_about_an_evening_are_not_raised(english):
    """The lines that kept it off (apologies for missing an evening), and everyday chat written for it by class and
    never trained on (``en-chat-everyday-check.csv``: apologies, evenings, goodbyes, tiredness, shifts, games, heat,
    short replies): the chat model raises none of them."""
    import csv
    from pathlib import Path

    with (Path(__file__).parent / "data" / "en-chat-everyday-check.csv").open(newline="", encoding="utf-8") as fh:
        check = [row["text"] for row in csv.DictReader(fh)]
    assert len(check) == 220
    before = ["im not going out tonight sorry", "sorry everyone, i wont be on tonight"]  # concern before
    assert [english.detect(t).tier for t in before] == ["none", "none"]
    assert not [t for t, d in zip(check, english.detect_many(check)) if CHAT_RULE in d.rules]


def test_the_chat_model_stays_behind_the_exceptions_and_off_long_posts_and_other_people(english):
    joke = RAISED[1] + " lmao"  # a joke marker: the chat model alone would raise it
    assert english.own.chat.score(normalise(joke)) >= english.own.chat_concern
    assert english.detect(joke).tier == "none"
    assert english.detect("he knows how he is going to do it and when").tier == "none"  # someone else's words
    filler = " ".join(["and then we went to the shops and bought some bread and milk for the week"] * 5)
    long = RAISED[0] + " " + filler
    assert len(normalise(long).split()) > 60
    d = english.detect(long)
    assert CHAT_RULE not in d.rules and d.chat_score is None


def test_both_scores_from_one_hashing_are_each_models_own(english):
    """``score_with`` splits, normalises and hashes a message once for both models, and gives each its own score."""
    main, chat = english.own.model, english.own.chat
    texts = RAISED + ["good morning everyone", "i wont be around to see the weekend", "hi", "",
                      "she said she wants to die", "I am fine. Really. I just need sleep. Then the exam.",
                      "i took them all. it is done", "x " * 70, ". . . ok", "...\n\n!",
                      # three sentences or more: split and hashed once, each window scored by each model
                      RAISED[0] + ". " + RAISED[1] + ". Then bed.", "He left. She cried. They all went home.",
                      "she is fine. i am not. i have the pills here!\nbye", "ok. ok. ok. ok. ok. ok"]
    for text in texts:
        norm = normalise(text)
        score, chat_score = main.score_with(chat, text, norm, 60)
        assert score == main.score_text(text, norm)
        assert chat_score == (chat.score_text(text, norm) if len(norm.split()) <= 60 else None)


def test_the_batch_screen_never_passes_over_a_line_either_model_raises(english):
    """``detect_many`` screens the lines no rule touched with a bound (``RiskModel.screen_with``): it may let a
    line through that neither model raises, never the other way round; and a batch answers as ``detect`` does."""
    own = english.own
    words = "sorry tonight i me my not it the a to know want going love help thanks bad good dog".split()
    texts = RAISED + [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(3 + i % 14)) for i in range(400)]
    texts += [RAISED[0] + ". " + RAISED[1] + ". Then bed.", "i i i i know know how how", "sorry sorry sorry"]
    passed = 0
    for text in texts:
        norm = normalise(text)
        score, chat_score = own.model.score_with(own.chat, text, norm, own.chat_max_words)
        either = score >= own.model_concern or (chat_score is not None and chat_score >= own.chat_concern)
        assert own._screen(text, norm) or not either
        passed += either
    assert passed >= 3  # the test sees lines the models raise, not only quiet ones
    assert [d.tier for d in english.detect_many(texts)] == [english.detect(t).tier for t in texts]


def test_the_screen_of_long_and_several_sentence_messages_never_passes_over_one_either_model_raises(english):
    """Messages of several sentences, or longer than the chat model reads, are screened by a bound on each window
    (sentence sums; ``may_reach`` in ``screen_with``): it may let through a message neither model raises, never the
    other way round; and most quiet posts are settled by the bound alone (else it saves nothing)."""
    import random

    own = english.own
    rng = random.Random(27)
    quiet = ["work was long today", "my sister called about the weekend", "the bus was late again",
             "i made soup and watched a film", "the dog needed a walk in the rain", "exams start on monday",
             "i have been so tired this month", "my manager keeps asking for more", "we argued about money again"]
    texts = []
    for i in range(300):
        sentences = rng.sample(quiet, rng.randint(1, 6))
        if i % 3 == 0:  # a risk sentence somewhere in it, or at its end
            sentences.insert(rng.randint(0, len(sentences)), rng.choice(RAISED))
        text = ". ".join(sentences) + "."
        if i % 10 == 0:  # over the chat model's length: only the Reddit model reads it
            text = " ".join([text] * 4)
        texts.append(text)
    passed = settled = 0
    for text in texts:
        norm = normalise(text)
        score, chat_score = own.model.score_with(own.chat, text, norm, own.chat_max_words)
        either = score >= own.model_concern or (chat_score is not None and chat_score >= own.chat_concern)
        screened = own._screen(text, norm)
        assert screened or not either, text
        passed += either
        settled += not screened
    assert passed >= 30 and settled >= 100, (passed, settled)
    assert [d.tier for d in english.detect_many(texts)] == [english.detect(t).tier for t in texts]


def test_a_room_policy_can_switch_the_chat_model_off(write):
    from gateway.policy.diff import compare

    path = write("r2.yaml", "extends: default\nname: r2\nmodel:\n  chat:\n    enabled: false\n")
    policy = PolicyLoader([path.parent]).load(str(path))
    assert any(ch.weakens and ch.text.startswith("model.chat.enabled") for ch in compare(
        PolicyLoader().load("default"), policy))
    detector = detector_for(policy)
    assert detector.own.chat is None and detector.own.model is not None
    assert detector.detect(RAISED[0]).tier == "none"
    assert detector.detect("i wont be around to see the weekend").rules == (MODEL_RULE,)


def test_a_line_in_another_language_is_outside_what_the_chat_model_learned(write):
    path = write("r.yaml", "extends: default\nname: r\nmodel:\n  concern: 0.99\n  chat:\n    enabled: true\n    concern: 0.1\n")
    detector = detector_for(PolicyLoader([path.parent]).load(str(path)))
    english, german = "i am going to walk my dog in the park today", "ich gehe heute mit meinem hund im park spazieren"
    for text in (english, german):  # both above this room's (low) threshold
        assert detector.own.chat.score(normalise(text)) >= 0.1
    assert detector.detect(english).rules == (CHAT_RULE,)
    assert CHAT_RULE not in detector.detect(german).rules


@pytest.mark.parametrize("body, where", [
    ("  chat:\n    file: risk-xx.bin\n", "r.yaml:5:11: model.chat.file: expected one of risk-en-chat.bin"),
    ("  chat:\n    concern: 2\n", "r.yaml:5:14: model.chat.concern: expected a score between 0 and 1"),
    ("  chat:\n    max_words: 0\n", "r.yaml:5:16: model.chat.max_words"),
    ("  chat:\n    wordz: 3\n", "r.yaml:5:5: model.chat"),
    ("  file: risk-en-chat.bin\n", "r.yaml:4:9: model.file: expected one of"),  # a chat model is never the main one
])
def test_a_bad_chat_model_setting_is_refused_at_its_line(write, body, where):
    from gateway.yamlfiles.located import ConfigError, ConfigErrors

    path = write("r.yaml", "extends: default\nname: r\nmodel:\n" + body)
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        PolicyLoader([path.parent]).load(str(path))
    assert where in str(info.value)


def test_scan_reports_which_model_gave_the_concern_and_both_scores(tmp_path):
    from tests.test_cli import run

    r = run("scan", stdin=RAISED[0] + "\ni wont be around to see the weekend\ngood morning\n", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    chat, main, plain = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert chat["tier"] == "concern" and chat["rules"] == [CHAT_RULE] and not chat["remove"]
    assert chat["model"]["chat"]["score"] >= chat["model"]["chat"]["concern"]
    assert chat["model"]["chat"]["concern"] == RiskModel.load(MODELS / "risk-en-chat.bin").meta["thresholds"]["concern"]
    assert chat["model"]["score"] < chat["model"]["concern"]
    assert main["rules"] == [MODEL_RULE] and main["model"]["score"] >= main["model"]["concern"]
    assert "model" not in plain
