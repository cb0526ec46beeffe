"""Property-based tests (hypothesis) for the normaliser, the command parser and the IRC line splitter."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.irc.lines import clean, split_text
from gateway.core import actions as A
from gateway.detection import detector_for
from gateway.text.folding import normalise

from .conftest import MODS, say

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


@given(texts)
@settings(max_examples=400, deadline=None)
def test_normalise_output_is_canonical(text):
    out = normalise(text)
    assert out == out.strip() and "  " not in out
    assert not any(unicodedata.category(c) in ("Cf", "Mn", "Me", "Cc") for c in out)
    assert not any(c.isascii() and c.isupper() for c in out)


@given(texts)
@example("0\ud7c7A\ud7fc\u039d")  # found by hypothesis: letter-spaced Latin and Greek, joined, then folded
@example("A'\u0386")  # found by hypothesis: an apostrophe joining Latin and Greek into one mixed-script word
@settings(max_examples=400, deadline=None)
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


@given(texts, st.integers(min_value=8, max_value=400))
@settings(max_examples=400, deadline=None)
def test_irc_split_fits_the_limit_and_keeps_the_words(text, limit):
    parts = split_text(text, limit)
    assert all(0 < len(p.encode("utf-8")) <= limit for p in parts)
    assert not any(ch in p for p in parts for ch in "\r\n\0")
    assert "".join("".join(parts).split()) == "".join(clean(" ".join(text.splitlines())).split())


_ENGINE = []


def _engine():
    if not _ENGINE:
        from gateway.policy.crisis_lines import load_directory
        from gateway.core.engine import Engine
        from gateway.policy.loader import PolicyLoader

        from .conftest import make_binding

        _ENGINE.append(Engine([make_binding(PolicyLoader().load("default"))], load_directory()))
    return _ENGINE[0]


@given(st.text(max_size=200), st.integers(min_value=0, max_value=49))
@settings(max_examples=300, deadline=None)
def test_command_parser_never_authorises_a_non_moderator_or_records_text(text, power):
    engine = _engine()
    for room in (MODS, "!group:test"):
        actions = engine.handle(say("!" + text, power=power, room=room))
        for a in actions:
            assert not isinstance(a, (A.RemoveFromRoom, A.Readmit, A.RedactMessage))
            if isinstance(a, A.SendPrivate):
                assert a.user == "@kit:test"  # only ever the sender
            if isinstance(a, A.RecordEvent) and a.kind == "command":
                assert a.authorised in (True, False)
                if a.authorised:
                    assert a.command in ("help", "resources")
    assert not engine.state.paused


# -- the batch path gives exactly the one-by-one answers ---------------------------------------------

_DETECTOR = []


def _detector():
    if not _DETECTOR:
        from gateway.detection import Detector
        from gateway.policy.loader import PolicyLoader

        _DETECTOR.append(Detector(PolicyLoader().load("default")))
    return _DETECTOR[0]


# chat-like messages built from policy phrases, filler, leetspeak, spacing, punctuation, line breaks,
# NULs and non-ASCII, so that every branch of normalise_joined and detect_many is taken
_PIECES = st.sampled_from([
    "i want to die", "kill myself", "kms", "took all my pills", "i wish i was dead", "lol", "never",
    "not going to", "my friend said", "end it tonight", "whats the point", "you should just die",
    "k i l l", "k1ll", "p!lls", "$uicide", "su1c1de", "a b c", "x", "3am", "800mg", "I'M", "don't",
    "😂", "💀", "café", "kіll", "\n", "\x00", "\t", "  ", "...", "!!", "$", "|", "@", "", "ok", "the",
    "tonight", "pills", "on the bridge", "goodbye", "this is goodbye",
    # accents and compatibility letters that fold to ASCII (the batch folds those lines with the ASCII ones)
    "Müde", "ÇA VA", "j'ai", "j’ai", "ß", "œ", "ＫＩＬＬ", "ᴛᴏᴏᴋ", "é.t.é", "k.'i.l.l", "ñ-a-n", "ｋ  ｉ", "´", "ﬁ",
])
_CHAT = st.lists(_PIECES, max_size=12).map(" ".join) | st.lists(_PIECES, max_size=12).map("".join) \
    | st.text(max_size=80)


@given(st.lists(_CHAT, max_size=40))
@settings(max_examples=500, deadline=None)
def test_normalise_many_equals_normalise(texts):
    from gateway.text.folding import normalise_many

    assert normalise_many(texts) == [normalise(t) for t in texts]


@given(st.lists(_CHAT, max_size=40))
@settings(max_examples=500, deadline=None)
def test_detect_many_equals_detect(texts):
    detector = _detector()
    assert detector.detect_many(texts) == [detector.detect(t) for t in texts]


_MODEL_DETECTOR: list = []


def _model_detector():
    if _MODEL_DETECTOR:
        return _MODEL_DETECTOR[0]
    import dataclasses

    from gateway.policy.model import ModelSettings
    from gateway.policy.loader import PolicyLoader

    policy = PolicyLoader().load("default")
    _MODEL_DETECTOR.append(detector_for(dataclasses.replace(policy, model=ModelSettings(True), _detector=None)))
    return _MODEL_DETECTOR[0]


@given(st.lists(_CHAT, max_size=40))
@settings(max_examples=300, deadline=None)
def test_detect_many_equals_detect_with_the_model(texts):
    detector = _model_detector()
    assert detector.detect_many(texts) == [detector.detect(t) for t in texts]
