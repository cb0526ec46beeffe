"""Candidate F: the English imminence score (``risk-en-imminent.bin``, ``gateway/detection/imminence.py``), built by
``train_imminence.py`` from named read sets of ``tests/data``. It raises to imminent only a line the rules already hold
at concern or high as the writer's own present risk, above a threshold set by cross-validation by file; off unless a
policy names it (``model.imminence``)."""

from __future__ import annotations

import json

import pytest

from gateway.core.quotes import own_words
from gateway.detection import detector_for
from gateway.detection.decision import Detection
from gateway.detection.imminence import IMMINENCE_RULE, eligible
from gateway.detection.model import MODELS, RiskModel
from gateway.policy.loader import PolicyLoader

FILE = MODELS / "risk-en-imminent.bin"

# Written for this test (not from tests/data): the rules hold each at concern or high as the writer's own risk, and
# the imminence score raises it
PROMOTED = [
    "nobody will miss me, im saying goodbye now, love you all, this is the last time",
    "i cant go on, goodbye everyone, thank you for everything, its time",
]
# Lines it must never raise, whatever its score: the rules put them at none, or they are someone else's, past, quoted,
# reported, laughed off or negated (written for this test)
NEVER = [
    "good morning everyone, coffee is on",
    "my brother has the pills out and says he is taking them all tonight",
    "my friend just texted me that she is on the bridge and wants to jump",
    "two years ago i took all my pills and ended up in hospital",
    "used to stand on the roof thinking about jumping, years ago now",
    "she said \"i have the rope ready and im doing it tonight\"",
    "im going to kill myself tonight lol jk",
    "i would never take all my pills, not tonight not ever",
    "still here and clean for a year, the pills are long gone",
    "i cant take it anymore, im sorry mum, goodbye, this is the end for me",  # the rules: none; its score is high
    "i cut myself again tonight and i have the blade right here",  # self-harm: its own message, never a removal
]
QUOTED = ["> i have the pills counted out and im taking them all tonight", "<kit> im on the roof and im going to jump"]


@pytest.fixture(scope="module")
def on(tmp_path_factory):
    """The default policy with the imminence score on (the shipped default leaves it off)."""
    path = tmp_path_factory.mktemp("imm") / "r.yaml"
    path.write_text("extends: default\nname: r\nmodel:\n  imminence: risk-en-imminent.bin\n")
    return detector_for(PolicyLoader([path.parent]).load(str(path)))


@pytest.fixture(scope="module")
def off(tmp_path_factory):
    """The default policy with the imminence score off, whatever the shipped default says."""
    path = tmp_path_factory.mktemp("imm-off") / "r.yaml"
    path.write_text("extends: default\nname: r\nmodel:\n  imminence: null\n")
    detector = detector_for(PolicyLoader([path.parent]).load(str(path)))
    assert detector.own.imminence is None
    return detector


@pytest.fixture(scope="module")
def forced(tmp_path_factory):
    """The same with its threshold at 0: every line it is allowed to read reaches it (what the gate alone decides)."""
    path = tmp_path_factory.mktemp("imm0") / "r.yaml"
    path.write_text("extends: default\nname: r\nmodel:\n  imminence: risk-en-imminent.bin\n")
    detector = detector_for(PolicyLoader([path.parent]).load(str(path)))
    detector.own.imminence_cut = 0.0
    return detector


def test_the_file_is_small_and_learned_from_named_read_sets_only():
    from gateway.detection import train_imminence

    model = RiskModel.load(FILE)
    assert FILE.stat().st_size <= 2_000_000 and len(model.weights) == 1 << model.bits
    assert train_imminence.NEVER.isdisjoint(train_imminence.FILES)
    for name in ("parts-heldout21.csv", "parts-heldout22.csv", "en-everyday-parts.csv"):
        assert name in train_imminence.NEVER and name not in model.meta["sources"][0]["files"]
    assert model.meta["sources"][0]["files"] == [*train_imminence.FILES, "chat-train.csv"]
    cv = model.meta["cross_validated"]
    assert cv["split"] == "by file" and cv["everyday_at_concern_or_high"]["k"] == 0
    assert cv["false_at_concern_or_high"]["k"] <= cv["false_at_concern_or_high"]["n"] / 50


def test_the_shipped_file_is_what_its_script_builds():
    """Weights to within float rounding (the cross-validation that sets the threshold is left out: slow)."""
    from gateway.detection import train_imminence

    shipped = RiskModel.load(FILE)
    lines = train_imminence.load()
    # which lines the rules gate weighs nothing when gated lines weigh as the rest (the shipped file's setting): the
    # rules' pass over every line (a second of CPU) only when it matters
    gated_matters = shipped.meta["gated_weight"] != 1.0
    gate = train_imminence.gates(lines) if gated_matters else [False] * len(lines)
    rebuilt = train_imminence.train(lines, gate, shipped.meta["seed"], shipped.bits, shipped.meta["c"],
                                    shipped.meta["none_weight"], shipped.meta["gated_weight"])
    assert shipped.meta["lines"] == sum(map(train_imminence.learns_from, lines))
    assert len(rebuilt.weights) == len(shipped.weights)
    assert max(abs(a - b) for a, b in zip(rebuilt.weights, shipped.weights)) < 1e-4
    assert abs(rebuilt.bias - shipped.bias) < 1e-4
    assert (shipped.meta["seed"], shipped.bits, shipped.meta["c"], shipped.meta["none_weight"],
            shipped.meta["gated_weight"]) == (train_imminence.SEED, train_imminence.BITS, train_imminence.C,
                                              train_imminence.NONE_WEIGHT, train_imminence.GATED_WEIGHT)


def test_off_unless_a_policy_names_it(on):
    from gateway.policy.model import ModelSettings

    assert ModelSettings().imminence is None
    for lang in ("de", "fr", "es"):
        assert PolicyLoader().load(f"default-{lang}").model.imminence is None
    assert on.own.imminence is not None
    assert on.own.imminence_cut == RiskModel.load(FILE).meta["thresholds"]["imminent"]


@pytest.mark.parametrize("text", PROMOTED)
def test_a_line_the_rules_hold_at_risk_is_raised_to_imminent_and_removed(on, text):
    d = on.detect(text)
    assert d.tier == "imminent" and IMMINENCE_RULE in d.rules and on.would_remove(d)
    assert [d] == on.detect_many([text])  # the batch path gives the same answer


@pytest.mark.parametrize("text", NEVER)
def test_never_a_none_someone_elses_past_reported_joked_or_negated_line(forced, off, text):
    d = forced.detect(text)
    plain = off.detect(text)
    assert IMMINENCE_RULE not in d.rules and (d.tier, d.rules) == (plain.tier, plain.rules)


def test_the_gate_lets_through_what_the_rules_hold_at_risk(forced):
    """With its threshold at 0, the lines above are what it would raise (the tests above hold by the gate alone)."""
    for text in PROMOTED + ["i keep thinking about ending my life, maybe one day"]:
        assert forced.detect(text).tier == "imminent"


@pytest.mark.parametrize("text", QUOTED)
def test_never_a_quoted_line(forced, text):
    mine = own_words(text)
    assert mine is not text  # the quote is left out, as in a room and in ``gateway scan``
    assert IMMINENCE_RULE not in forced.detect(mine).rules


def test_the_gate_reads_the_rules_answer_only():
    risk = Detection("high", ("high.x",))
    assert eligible(risk, False) and eligible(Detection("concern", ("concern.x",)), False)
    assert not eligible(risk, True)  # an idiom, a joke, reported speech, a recovery, a past story, a negation
    assert not eligible(Detection("none", ()), False) and not eligible(Detection("imminent", ("imminent.x",)), False)
    assert not eligible(Detection("high", ("high.x",), lowered=("high.x",)), False)
    assert not eligible(Detection("high", ("high.x",), third_party=("third_party.x",)), False)
    assert not eligible(Detection("none", (), third_party=("third_party.x",), someone_else=True), False)


@pytest.mark.parametrize("body, where", [
    ("  imminence: risk-xx-imminent.bin\n", "r.yaml:4:14: model.imminence: expected one of risk-en-imminent.bin"),
    ("  file: risk-en-imminent.bin\n", "r.yaml:4:9: model.file: expected one of"),  # never the main score
])
def test_a_bad_imminence_setting_is_refused_at_its_line(tmp_path, body, where):
    from gateway.yamlfiles.located import ConfigError, ConfigErrors

    path = tmp_path / "r.yaml"
    path.write_text("extends: default\nname: r\nmodel:\n" + body)
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        PolicyLoader([path.parent]).load(str(path))
    assert where in str(info.value)


def test_scan_names_the_imminence_score_in_rules(tmp_path):
    from tests.test_cli import run

    path = tmp_path / "r.yaml"
    path.write_text("extends: default\nname: r\nmodel:\n  imminence: risk-en-imminent.bin\n")
    r = run("scan", "--policy", str(path), stdin=PROMOTED[0] + "\ngood morning\n", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    raised, plain = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert raised["tier"] == "imminent" and raised["remove"] and IMMINENCE_RULE in raised["rules"]
    assert plain["tier"] == "none" and plain["rules"] == []


# Scenes that rounds 4 to 11 and session 19 held at high with no removal for lack of a way to tell them from their near
# misses (tests/test_composition.py holds the rules' own tier): acts under way, means at hand with a time, a place with
# nobody around. Switched on in the default policy (session 26) on lines nobody here read: held-out sets 21 and 22, 29
# and 29 of 48 imminent lines removed without it, 34 and 32 with it, the same false removals; public tweets (evaluation
# only) 19 more removals, none of a tweet labelled not at risk.
SCENES_THE_RULES_HOLD_AT_HIGH = [
    "necked the whole box of co-codamol at the festival", "its in my hand and im doing it right now",
    "its in my hand and its heavier than i thought", "in an hour its over for me. nobody try",
    "thank you for everything. ive already taken them", "the whole lot is going down my throat once the house is quiet",
    "got it pressed against my throat and im counting down from five", "please tell my missus im sorry. after tonight",
    "at the cliff edge, nobody knows im here", "all of the tablets about an hour back, nobody knows",
    "the rope is round my neck",
]


def test_the_shipped_default_raises_most_scenes_the_rules_hold_at_high(shipped_policy):
    detector = detector_for(shipped_policy("default"))
    assert detector.own.imminence is not None  # on in policies/default.yaml
    raised = []
    for text in SCENES_THE_RULES_HOLD_AT_HIGH:
        found = detector.detect(text)
        if detector.would_remove(found) and IMMINENCE_RULE in found.rules:
            raised.append(text)
    assert len(raised) >= 9, f"{len(raised)} of {len(SCENES_THE_RULES_HOLD_AT_HIGH)} raised"
