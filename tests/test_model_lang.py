"""The German, French and Spanish learned scores: each shipped file is small, says it learned only from our own
lines, and is rebuilt by its script; the language's policy uses it for concern only; it never raises plain
distress, never goes above concern, never removes anyone, and never stays behind the rules' exceptions."""

from __future__ import annotations

import csv

import pytest

from gateway.detection import detector_for
from gateway.detection.model import MODELS, RiskModel
from gateway.text.folding import normalise
from gateway.policy.loader import PolicyLoader

LANGUAGES = ("de", "fr", "es")


@pytest.fixture(scope="module")
def detectors(shipped_policy):
    return {lang: detector_for(shipped_policy(f"default-{lang}")) for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_ships_a_small_model_learned_from_our_own_lines(lang):
    """Learned from the files its script names (``train_model_lang.training_files``): the held-out sets a round has
    read, up to ``READ_SETS`` (German and Spanish 13 since session 18, French 3), never the unread set 14 or later."""
    from gateway.detection import train_model_lang

    path = MODELS / f"risk-{lang}.bin"
    model = RiskModel.load(path)
    assert path.stat().st_size < 300_000 and len(model.weights) == 1 << model.bits
    (source,) = model.meta["sources"]
    assert source["licence"] == "this repository's"
    assert source["files"] == [p.name for p in train_model_lang.training_files(lang)]
    assert all(f.startswith(f"{lang}-") for f in source["files"])
    read = [int(f[len(lang) + 8:-4] or 1) for f in source["files"] if f.startswith(f"{lang}-heldout")]
    assert read == list(range(1, train_model_lang.READ_SETS[lang] + 1)) and max(read) <= 13
    assert f"{lang}-tune.csv" in source["files"] and model.meta["lines"] > 3000
    cv = model.meta["cross_validated"]
    assert cv["split"] == "by file" and cv["distress_alarms"]["k"] == 0 and cv["none_alarms"]["rate"] <= 0.03


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_language_policy_uses_its_own_file_for_concern_only(lang, detectors):
    policy = PolicyLoader().load(f"default-{lang}")
    model = RiskModel.load(MODELS / f"risk-{lang}.bin")
    assert policy.model.enabled and policy.model.file == f"risk-{lang}.bin" and policy.model.high is None
    assert policy.model.concern == model.meta["thresholds"]["concern"]  # the script's figure, not a guess
    assert detectors[lang].model.meta["language"] == lang
    assert PolicyLoader().load("default").model.file == "risk-en.bin"  # English keeps its model


def test_the_shipped_german_model_is_what_its_script_builds_from_the_named_files():
    """The same weights to within float rounding (the cross-validation that sets the threshold is left out here:
    slow). Not byte for byte: the last bits of a fit depend on the BLAS build and its thread count (a fresh
    install gave differences of 6e-7); a changed or missing training file moves weights by far more."""
    from gateway.detection import train_model_lang

    lines = train_model_lang.load(train_model_lang.training_files("de"))
    rebuilt = train_model_lang.train(lines, "de")
    shipped = RiskModel.load(MODELS / "risk-de.bin")
    assert len(rebuilt.weights) == len(shipped.weights)
    assert max(abs(a - b) for a, b in zip(rebuilt.weights, shipped.weights)) < 1e-4
    assert abs(rebuilt.bias - shipped.bias) < 1e-4


def test_the_script_reads_only_the_named_files_and_rebuilds_byte_for_byte(tmp_path):
    from gateway.detection import train_model_lang

    risk = ["ich will nicht mehr leben", "ich will sterben heute", "ich mach heute schluss mit allem",
            "ich halt das leben nicht mehr aus", "ich hab die tabletten hier liegen", "ich will einfach tot sein"]
    none = ["ich geh heute ins kino", "ich hab hunger auf pizza", "ich mag meinen hund sehr",
            "ich fahr morgen nach berlin", "ich hab das spiel gewonnen", "ich koch heute nudeln"]
    distress = ["ich bin so traurig heute", "ich hab stress mit der arbeit"]
    for name, rows in (("de-tune.csv", [(t, "concern", "risk") for t in risk[:3]] + [(t, "none", "ordinary")
                                                                                      for t in none[:3]]),
                       ("de-own.csv", [(t, "high", "risk") for t in risk[3:]] + [(t, "none", "ordinary")
                                                                                 for t in none[3:]]
                        + [(t, "none", "distress") for t in distress]),
                       ("de-heldout14.csv", [("ich will nicht mehr leben", "none", "ordinary")])):
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label", "kind", "scenario"])
            w.writerows(row + ("s",) for row in rows)
    out, again = tmp_path / "m.bin", tmp_path / "again.bin"
    args = ["--language", "de", "--data", str(tmp_path), "--bits", "10"]
    assert train_model_lang.main(args + ["--out", str(out)]) == 0
    model = RiskModel.load(out)
    assert model.meta["sources"][0]["files"] == ["de-tune.csv", "de-own.csv"] and model.meta["lines"] == 14
    assert model.score_text("ich will nicht mehr leben") > model.score_text("ich geh heute ins kino")
    train_model_lang.main(args + ["--out", str(again)])
    assert again.read_bytes() == out.read_bytes()


# Lines written for these tests, in no training file.
PLAIN_DISTRESS = {
    "de": ["ich bin total gestresst wegen der prüfungen morgen", "mir geht es heute echt mies, alles zu viel"],
    "fr": ["je suis épuisée par le boulot, j'en peux plus de cette semaine",
           "je pleure tous les soirs depuis la rupture"],
    "es": ["estoy agotada del trabajo, no puedo mas con esta semana", "lloro todas las noches desde que me dejo"],
}


@pytest.mark.parametrize("lang,text", [(lang, t) for lang, ts in PLAIN_DISTRESS.items() for t in ts])
def test_plain_distress_is_not_raised(lang, text, detectors):
    assert detectors[lang].detect(text).tier == "none"


def test_the_model_lifts_risk_no_rule_names_to_concern_and_no_further(detectors):
    # (session 18: "ich seh einfach keinen sinn mehr in irgendwas, nachts lieg ich wach und plane wie", the example
    # before, scores 0.85 with the model rebuilt on every read set, under its threshold 0.9132)
    text = "hab mir schon alles überlegt, wie und wo, nachts lieg ich wach"
    detection = detectors["de"].detect(text)
    assert detection.tier == "concern" and detection.rules == ("model.risk",)
    assert not detectors["de"].would_remove(detection)


@pytest.mark.parametrize("lang,text", [("de", "er will nicht mehr leben und plant wie, sagt seine mutter"),
                                       ("fr", "elle veut mourir depuis des semaines"),
                                       ("es", "ella quiere morirse desde hace semanas")])
def test_a_window_only_about_someone_else_is_not_scored(lang, text):
    assert RiskModel.load(MODELS / f"risk-{lang}.bin").score_text(text) == 0.0


def test_a_policy_naming_a_model_file_that_does_not_ship_is_refused_at_its_line(write):
    from gateway.yamlfiles.located import ConfigError, ConfigErrors

    path = write("m.yaml", "extends: default-de\nname: m\nmodel:\n  file: risk-xx.bin\n")
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        PolicyLoader([path.parent]).load(str(path))
    assert "m.yaml:4:9: model.file: expected one of risk-de.bin, risk-en.bin, risk-es.bin, risk-fr.bin" in str(info.value)


def test_a_room_policy_over_a_language_keeps_its_model_file(write):
    path = write("room.yaml", "extends: default-fr\nname: room\nmodel:\n  concern: 0.95\n")
    policy = PolicyLoader([path.parent]).load(str(path))
    assert policy.model.file == "risk-fr.bin" and policy.model.concern == 0.95


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_batch_screens_long_posts_with_the_models_own_answer(lang, detectors):
    """``detect_many`` screens the lines no rule touched with ``RiskModel.screen``: a message of several sentences
    is bounded window by window first. The screen says yes exactly when the score reaches the threshold, so a
    batch of posts, quiet ones and ones with the line the model lifts inside them, answers as ``detect`` does."""
    import random

    own = detectors[lang].own
    lifted = "hab mir schon alles überlegt, wie und wo, nachts lieg ich wach"
    quiet = {"de": ["heute war die arbeit lang", "naja", "der bus kam wieder zu spät", "ok"],
             "fr": ["le boulot était long aujourd'hui", "ma soeur a appelé", "le bus était encore en retard"],
             "es": ["hoy el trabajo fue largo", "mi hermana me llamó", "el bus llegó tarde otra vez"]}[lang]
    rng = random.Random(19)
    texts = []
    for i in range(120):
        sentences = [rng.choice(quiet) for _ in range(rng.randint(1, 6))]
        if lang == "de" and i % 4 == 0:
            sentences.insert(rng.randint(0, len(sentences)), lifted)
        texts.append(". ".join(sentences) + ".")
    screened = [own._screen(t, normalise(t)) for t in texts]
    assert screened == [own.model.score_text(t, normalise(t)) >= own.model_concern for t in texts]
    assert lang != "de" or sum(screened) >= 10  # German posts with the lifted line pass (most neighbours keep it)
    assert [d.tier for d in detectors[lang].detect_many(texts)] == [detectors[lang].detect(t).tier for t in texts]


def test_an_own_file_no_shipped_model_learned_from_is_left_out_of_its_training_files():
    """``train_model_lang.NOT_TRAINED``: a round's own lines for its rules' tests, not (yet) a model's; the file exists."""
    from gateway.detection import train_model_lang

    for name in train_model_lang.NOT_TRAINED:
        assert (train_model_lang.DATA / name).exists()
        assert name not in [p.name for p in train_model_lang.training_files(name[:2])]
