"""The learned risk model: the shipped artefact loads offline and gives fixed answers; a policy switches
it on and off; it never removes anyone; the training script runs (on a small sample we wrote)."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from gateway.detection import detector_for
from gateway.detection.folding import normalise
from gateway.detection.model import SHIPPED_MODEL, RiskModel
from gateway.policy import ModelSettings
from gateway.policy_loader import PolicyLoader


@pytest.fixture(scope="module")
def model():
    return RiskModel.load()


@pytest.fixture(scope="module")
def with_model():
    return detector_for(PolicyLoader().load("default"))


def test_the_shipped_model_is_small_offline_and_says_where_it_came_from(model):
    assert SHIPPED_MODEL.stat().st_size < 1_000_000 and len(model.weights) == 1 << model.bits
    sources = [(s["name"].split(" ")[0], s["licence"]) for s in model.meta["sources"]]
    assert sources == [("Binary-Ninja-007/Social_Good", "MIT"), ("GoEmotions", "Apache-2.0"),
                       ("this", "this repository's")]
    assert model.meta["chat_dev_alarms"]["concern"] <= 0.002  # of everyday comments, at calibration
    t = model.meta["thresholds"]
    assert 0 < t["concern"] < t["high"] < 1


def test_our_chat_lines_for_training_are_not_in_the_regression_sets():
    """The sets in tests/data measure nothing if the model learned their lines."""
    from pathlib import Path

    from gateway.train_model import CHAT, load_chat

    regression = {normalise(r["text"]) for f in Path(__file__).parent.glob("data/*.csv")
                  for r in csv.DictReader(open(f, encoding="utf-8"))}
    chat = load_chat(CHAT)
    assert len(chat) > 300 and {label for _, label in chat} == {0, 1}
    assert not [t for t, _ in chat if normalise(t) in regression]


@pytest.mark.parametrize("text, above", [
    ("i dont want to be alive anymore, everything hurts and nobody would care", True),
    ("honestly i just want it all to stop, i am so tired of existing", True),
    ("what movie should we watch tonight", False),
    ("the new patch made the boss fight way easier", False),
    ("anyone know a good pizza place near the station", False),
])
def test_fixed_predictions(model, text, above):
    assert (model.score(normalise(text)) >= model.meta["thresholds"]["concern"]) is above


def test_the_default_policy_uses_the_model_and_a_policy_can_switch_it_off(with_model, write):
    text = "i hate my life so much, i cry every night and nothing helps"  # no phrase of the lexicon
    d = with_model.detect(text)
    assert d.tier == "concern" and d.rules == ("model.risk",) and d.score is not None
    path = write("quiet.yaml", "extends: default\nname: quiet\nmodel:\n  enabled: false\n")
    off = detector_for(PolicyLoader([path.parent]).load(str(path)))
    assert off.model is None and off.detect(text).tier == "none"
    policy = PolicyLoader().load("default")
    higher = detector_for(dataclasses.replace(policy, model=ModelSettings(True, None, 0.9), _detector=None))
    assert higher.detect(text).tier == "high"  # only where a policy asks for it


@pytest.mark.parametrize("text", [
    "this homework is killing me lol i want it all to stop",  # a joke marker
    "my friend said she is so tired of existing and wants it all to stop",  # someone else
])
def test_the_model_never_overrides_the_rules_exceptions(with_model, text):
    assert "model.risk" not in with_model.detect(text).rules


def test_the_model_alone_never_removes(with_model):
    lines = ["i dont want to be alive anymore, everything hurts and nobody would care",
             "i am done with all of it, goodbye, this is too much pain to carry",
             "nothing will ever get better and i want to disappear forever"]
    for d in with_model.detect_many(lines):
        assert d.tier != "imminent" or "model.risk" not in d.rules


def test_the_training_script_rebuilds_a_model_from_files_in_the_sources_format(tmp_path):
    """The real sources are not in the repository (DATA.md says where they are); this runs the same
    script end to end on a small sample in their format, written here."""
    from gateway import train_model

    risk = ["i cant do this anymore", "i want to die tonight", "nobody would miss me", "i wish i was dead",
            "everything is hopeless and i want out", "i am so tired of living", "thinking about ending it",
            "i hate being alive", "i want it all to stop", "no reason to keep going"]
    other = ["best movie of the year", "look at this cute dog", "new trailer is out", "my cat did a thing",
             "this joke killed me", "book recommendations please", "finished the game finally",
             "pizza or pasta tonight", "what a great goal", "rate my setup"]
    for name, rows in (("RedditSuicideData.csv", [("SuicideWatch", t) for t in risk * 3]),
                       ("NoSuicideData.csv", [("movies", t) for t in other * 3])):
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "subreddit", "title", "text"])
            for i, (sub, title) in enumerate(rows):
                w.writerow([f"x{i}", sub, title, ""])
    everyday = ["that goal was unreal", "who wants coffee", "my dog stole my sock", "great stream today",
                "this patch is so good", "anyone up for a match", "the bus is late again", "nice haircut"]
    for name in ("train", "dev"):  # GoEmotions' format: text, labels, id
        (tmp_path / f"{name}.tsv").write_text("".join(f"{t}\t27\tid{i}\n" for i, t in enumerate(everyday * 2)))
    (tmp_path / "train.tsv").open("a").write("i want to die\t25\tidx\n")  # names risk: left out
    out = tmp_path / "model.bin"
    assert train_model.main(["--reddit", str(tmp_path), "--goemotions", str(tmp_path), "--out", str(out)]) == 0
    small = RiskModel.load(out)
    assert small.meta["seed"] == train_model.SEED and small.meta["train"] == 48
    assert small.meta["negatives_added"] == 16 and small.meta["chat_dev"] == 16
    assert [s["licence"] for s in small.meta["sources"]] == ["MIT", "Apache-2.0", "this repository's"]
    assert small.score(normalise("i want to die tonight")) > small.score(normalise("look at this cute dog"))


def test_model_settings_are_checked_at_their_line(write):
    from gateway.yamlsrc import ConfigError, ConfigErrors

    path = write("m.yaml", "extends: default\nname: m\nmodel:\n  enabled: yes-please\n  concern: 1.5\n")
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        PolicyLoader([path.parent]).load(str(path))
    text = str(info.value)
    assert "m.yaml:4:12: model.enabled: expected true or false" in text
    assert "m.yaml:5:12: model.concern: expected a score between 0 and 1" in text
