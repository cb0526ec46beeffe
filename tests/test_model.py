"""The learned risk model: the shipped artefact loads offline and gives fixed answers; a policy switches
it on and off; it never removes anyone; the training script runs (on a small sample we wrote)."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from gateway.detection import detector_for
from gateway.text.folding import normalise
from gateway.detection.model import SHIPPED_MODEL, RiskModel
from gateway.policy.model import ModelSettings
from gateway.policy.loader import PolicyLoader


@pytest.fixture(scope="module")
def model():
    return RiskModel.load()


@pytest.fixture(scope="module")
def with_model(shipped_policy):
    return detector_for(shipped_policy("default"))


def test_the_shipped_model_is_small_offline_and_says_where_it_came_from(model):
    assert SHIPPED_MODEL.stat().st_size < 20_000_000 and len(model.weights) == 1 << model.bits
    sources = [(s["name"].split(" ")[0], s["licence"]) for s in model.meta["sources"]]
    assert sources[:4] == [("Binary-Ninja-007/Social_Good", "MIT"),
                           ("Reddit", "CC-BY-4.0 (data), Apache-2.0 (package)"),
                           ("ishandandekar/Reddit-Post-Comment-Dataset", "MIT"), ("GoEmotions", "Apache-2.0")]
    assert {licence for _, licence in sources[4:]} == {"this repository's"}
    assert model.meta["chat_dev_alarms"]["concern"] <= 0.002  # of everyday comments, at calibration
    assert model.meta["dev_quiet_posts_alarms"]["concern"] <= 0.03  # of long posts naming no risk
    t = model.meta["thresholds"]
    assert 0 < t["concern"] < t["high"] < 1


def test_our_chat_lines_for_training_are_not_in_the_regression_sets():
    """The sets in tests/data measure nothing if the model learned their lines."""
    from pathlib import Path

    from gateway.detection.train_model import CHAT, load_chat

    regression = {normalise(r["text"]) for f in Path(__file__).parent.glob("data/*.csv")
                  for r in csv.DictReader(open(f, encoding="utf-8"))}
    chat = load_chat(CHAT)
    assert len(chat) > 500 and {label for _, label, _ in chat} == {0, 1}
    assert not [t for t, _, _ in chat if normalise(t) in regression]


@pytest.mark.parametrize("text, above", [
    ("i dont want to be alive anymore, everything hurts and nobody would care", True),
    ("i keep thinking everyone would be better off if i was gone", True),
    ("what movie should we watch tonight", False),
    ("the new patch made the boss fight way easier", False),
    ("anyone know a good pizza place near the station", False),
])
def test_fixed_predictions(model, text, above):
    assert (model.score(normalise(text)) >= model.meta["thresholds"]["concern"]) is above


def test_the_default_policy_uses_the_model_and_a_policy_can_switch_it_off(with_model, write):
    text = "honestly i would rather not wake up tomorrow, everything is too heavy"  # no phrase of the lexicon
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


def test_the_training_script_rebuilds_a_model_from_files_in_the_sources_format(tmp_path, monkeypatch):
    """The real sources are not in the repository (DATA.md says where they are); this runs the same
    script end to end on a small sample in their format, written here."""
    from gateway.detection import train_model

    monkeypatch.setattr(train_model, "ROUNDS", 1)  # one multiple-instance round: the same code, faster
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
    (tmp_path / "train.tsv").open("a").write("i want to die\t25\tidx\n")  # names risk: kept in training only
    with open(tmp_path / "rmhd.csv", "w", newline="", encoding="utf-8") as fh:  # Low et al.'s columns
        w = csv.writer(fh)
        w.writerow(["", "subreddit", "author", "date", "post"])
        for i, t in enumerate(risk * 2 + other * 2):
            w.writerow([i, "suicidewatch" if t in risk else "personalfinance", "a", "2019", f"A long week. {t}."])
    story = tmp_path / "stories" / "tifu"
    story.mkdir(parents=True)
    (story / "post_0.txt").write_text("# r/tifu\n## TIFU by locking myself out\n#### b'I went out. Door shut.'\n")
    (tmp_path / "chat.csv").write_text("text,label\ni want to disappear for good,1\nwhat a goal,0\n")
    out = tmp_path / "model.bin"
    args = ["--reddit", str(tmp_path), "--goemotions", str(tmp_path), "--rmhd", str(tmp_path / "rmhd.csv"),
            "--stories", str(tmp_path / "stories"), "--chat", str(tmp_path / "chat.csv"), "--bits", "10"]
    assert train_model.main(args + ["--out", str(out)]) == 0
    small = RiskModel.load(out)
    assert small.meta["seed"] == train_model.SEED
    assert small.meta["train"] + small.meta["dev"] + small.meta["test"] == 60 + 40 + 1
    assert small.meta["everyday"] == 17 and small.meta["chat_dev"] == 16
    assert [s["licence"] for s in small.meta["sources"]] == [
        "MIT", "CC-BY-4.0 (data), Apache-2.0 (package)", "MIT", "Apache-2.0", "this repository's"]
    assert small.score_text("i want to die tonight") > small.score_text("look at this cute dog")
    rebuilt = tmp_path / "again.bin"
    train_model.main(args + ["--out", str(rebuilt)])
    assert rebuilt.read_bytes() == out.read_bytes()  # byte for byte


def test_model_settings_are_checked_at_their_line(write):
    from gateway.yamlfiles.located import ConfigError, ConfigErrors

    path = write("m.yaml", "extends: default\nname: m\nmodel:\n  enabled: yes-please\n  concern: 1.5\n")
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        PolicyLoader([path.parent]).load(str(path))
    text = str(info.value)
    assert "m.yaml:4:12: model.enabled: expected true or false" in text
    assert "m.yaml:5:12: model.concern: expected a score between 0 and 1" in text


# Long first-person posts written for these tests (none of them is in any training source).
ORDINARY_POST = (
    "My partner and I have been together for six years and I really enjoy the life we've built. "
    "Lately though I feel like I'm carrying the whole household: I work full time, I cook most nights, "
    "and I'm the one who remembers every bill and every birthday. Last week I finally brought it up and "
    "it turned into a huge argument. I cried in the car afterwards and felt stupid for it. "
    "I don't want to break up, I just want things to feel fair again. My sister says I should write "
    "down everything I do in a week and show him, but that feels petty. Work is stressful too, my "
    "manager keeps moving deadlines and I haven't slept properly in days. "
    "How do other couples split chores without it becoming a scoreboard? Any advice welcome.")
DEPRESSION_POST = (
    "I've been depressed for most of this year. I get up, go to work, come home and lie in bed scrolling "
    "until 2am. Nothing feels good anymore, not even the games I used to love. I feel empty and numb and "
    "I'm so tired all the time. My friends have stopped inviting me out because I always cancel. "
    "I started seeing a counsellor last month and I'm on a waiting list for the GP. I hate feeling like "
    "this and I don't know how to explain it to my family. Does it ever get lighter?")
ONE_RISKY_SENTENCE = (
    "Work has been a mess this month and my landlord is raising the rent again. My car needs new brakes "
    "and I can't afford them. I spent Sunday at my mum's and we watched old films, which was nice. "
    "Honestly I don't want to be alive anymore and I keep thinking everyone would be better off without me. "
    "Anyway, I have a shift tomorrow so I should probably try to sleep.")


def test_sentences_come_from_the_raw_text():
    from gateway.detection.model import sentences, windows

    assert sentences("just one line, no end") == ["just one line, no end"]
    assert sentences("First one. Second one!\nThird?") == ["First one.", "Second one!", "Third?"]
    assert windows("one. two. three. four") == ["one two", "one two three", "two three four", "three four"]
    assert windows("only. two") == ["only two"]


def test_a_long_post_scores_as_the_best_of_its_windows_the_way_training_cuts_them(model):
    """Scoring hashes each sentence once and builds every window's features from them (the model's time on long
    posts); training cuts posts with ``windows``. The two must agree to the last bit, or the threshold calibrated
    at training would not be the one applied."""
    import re
    from pathlib import Path

    from gateway.detection.model import windows

    posts = [ORDINARY_POST, DEPRESSION_POST, "one. two. three. four", "Fine.\n\nReally fine! Are you? yes. no."]
    for path in sorted((Path(__file__).parent / "data").glob("*.csv"))[:6]:
        with path.open(newline="", encoding="utf-8") as fh:
            lines = [row["text"] for row in csv.DictReader(fh)]
        posts += [". ".join(lines[i:i + 5]) for i in range(0, len(lines), 5)]
    long_posts = [p for p in posts if len(re.findall(r"[.!?]", p)) >= 2]
    assert len(long_posts) > 50
    for text in long_posts:
        expected = max((model.score(w) for w in windows(text) if model.writers(w.split())), default=0.0)
        assert model.score_text(text) == expected, text


@pytest.mark.parametrize("text", [ORDINARY_POST, DEPRESSION_POST,
                                  "i hate my life so much, i cry every night and nothing helps"])
def test_a_long_first_person_post_without_risk_is_not_raised(with_model, model, text):
    """Length and a personal voice must not raise the score: a hard week, depression named, no risk.
    Depression without risk gets no crisis message."""
    assert model.score_text(text) < model.meta["thresholds"]["concern"]
    assert with_model.detect(text).tier == "none"
    assert with_model.detect_many([text]) == [with_model.detect(text)]


def test_a_long_post_whose_one_sentence_states_risk_is_raised(with_model, model):
    assert model.score_text(ONE_RISKY_SENTENCE) >= model.meta["thresholds"]["concern"]
    d = with_model.detect(ONE_RISKY_SENTENCE)
    assert d.tier in ("concern", "high")
    assert with_model.detect_many([ORDINARY_POST, ONE_RISKY_SENTENCE, DEPRESSION_POST]) == [
        with_model.detect(ORDINARY_POST), d, with_model.detect(DEPRESSION_POST)]


@pytest.mark.parametrize("text", ["tonight", "rope", "pills", "bridge", "see you tonight", "bought a rope"])
def test_a_word_or_two_is_left_to_the_rules(with_model, text):
    """One or two words carry no context: the model does not raise them ("tonight" is not risk)."""
    assert "model.risk" not in with_model.detect(text).rules


@pytest.mark.parametrize("text, raised", [
    ("is going to kill himself tonight", False),  # speaks of him, never of the writer
    ("my sister says she wants to end her life", False),
    ("she left me and honestly i would rather not wake up tomorrow", True),  # the writer is in it too
])
def test_the_model_scores_the_writers_own_risk_not_someone_elses(model, text, raised):
    assert (model.score_text(text) >= model.meta["thresholds"]["concern"]) is raised
