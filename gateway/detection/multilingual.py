"""A room's detection in a room where people write in more than one language.

The room's own policy's detector always judges every line. When language identification
(``language.py``) says a line is in another language with shipped rules, that language's shipped default
policy (``default`` for English, ``default-de``, ``default-fr``, ``default-es``) judges it as well, and the
higher answer wins (the room's own on a tie). Identification on short chat lines is unreliable, so it can
only add rules, never take the room's away: a line the room's rules catch is caught whatever it is said to
be in. What happens next (the tier's actions, the templates) is the room's policy's, in its language.

The answer says which language's rules gave it (``Detection.language``), which judged it
(``languages``) and what identification said (``identified``: also a language with no rules, counted).
"""

from __future__ import annotations

import dataclasses
import logging

from .decision import NO_RISK, Detection
from .detector import Detector
from ..text.folding import normalise
from .language import SUPPORTED, identify

__all__ = ["RoomDetector", "shipped_detector"]

log = logging.getLogger(__name__)

_SHIPPED: dict[str, Detector | None] = {}  # language -> its shipped default policy's detector (one per process)


def shipped_detector(language: str) -> Detector | None:
    """The detector of the shipped default policy for ``language``, or None if none loads (then that
    language adds nothing: the room's own rules still run)."""
    if language not in _SHIPPED:
        from ..policy.loader import PolicyLoader

        name = "default" if language == "en" else f"default-{language}"
        try:
            _SHIPPED[language] = Detector(PolicyLoader().load(name), small=True)  # judges its language's lines only
        except Exception as exc:  # a missing or broken shipped file must not stop the room's own detection
            log.error("shipped policy %s could not be loaded (%s): lines in %s get the room's rules only",
                      name, type(exc).__name__, language)
            _SHIPPED[language] = None
    return _SHIPPED[language]


def _rank(d: Detection) -> tuple[int, bool, bool]:
    """Which of two answers wins: the higher tier; at the same tier one that found someone else at risk,
    then one that found words aimed at someone (so a German third-party report is not lost)."""
    return d.level, bool(d.third_party), bool(d.abuse)


class RoomDetector:
    """A policy's detector for a room: its own rules, plus another supported language's shipped rules for
    a line identified as in that language. ``detect_many`` gives the same answers as ``detect``."""

    def __init__(self, own: Detector, language: str):
        self.own = own
        self.language = language
        self._others = frozenset(lang for lang in SUPPORTED if lang != language)
        self._plain: dict[tuple, Detection] = {}  # (languages, identified) -> NO_RISK so annotated

    # the room's own detector's figures: its tiers, what removes, its model's thresholds
    @property
    def rules(self):
        return self.own.rules

    @property
    def phrase_count(self) -> int:
        return self.own.phrase_count

    @property
    def remove_levels(self) -> frozenset:
        return self.own.remove_levels

    @property
    def model(self):
        return self.own.model

    @property
    def model_concern(self) -> float:
        return self._with_model().model_concern

    @property
    def model_high(self) -> float:
        return self._with_model().model_high

    def other(self, language: str | None) -> Detector | None:
        """Another supported language's shipped detector, loaded the first time a line in it comes (a room
        that never sees French never loads the French rules; ``gateway check`` loads none)."""
        return shipped_detector(language) if language in self._others else None

    def _with_model(self) -> Detector:
        """The detector whose model scores are shown: the room's own, else the English one (a German room
        whose English line the English model raised)."""
        english = self.other("en") if self.own.model is None else None
        return english if english is not None and english.model is not None else self.own

    def scored_by(self, detection: Detection) -> Detector:
        """The detector whose model gave ``detection.score`` (its thresholds go beside it): the language's
        whose rules decided (each language has its own model and threshold), else the room's own."""
        other = self.other(detection.language) if detection.language != self.language else None
        return other if other is not None and other.model is not None else self._with_model()

    def would_remove(self, detection: Detection) -> bool:
        return self.own.would_remove(detection)

    def detect(self, text: str) -> Detection:
        norm = normalise(text)
        found = self.own._judge(norm, text)
        identified = identify(norm, text) if norm else None
        other = self.other(identified)
        extra = other.judge_folded(norm, text) if other is not None else None
        return self._answer(found, identified, extra)

    def detect_many(self, texts: list[str]) -> list[Detection]:
        """``[detect(t) for t in texts]``: the room's batch, then each other language's rules over its
        lines in one batch of their own."""
        found, norms = self.own.detect_many_folded(texts)
        identified = [identify(n, t) if n else None for n, t in zip(norms, texts)]
        extra: list[Detection | None] = [None] * len(texts)
        for lang in sorted(self._others.intersection(identified)):
            other = self.other(lang)
            at = [i for i, ident in enumerate(identified) if ident == lang]
            if other is not None:
                for i, d in zip(at, other.detect_folded([texts[i] for i in at], [norms[i] for i in at])):
                    extra[i] = d
        return [self._answer(f, ident, x) for f, ident, x in zip(found, identified, extra)]

    def _answer(self, own: Detection, identified: str | None, extra: Detection | None) -> Detection:
        if extra is None:
            languages, best, language = (self.language,), own, self.language
        else:
            languages = (self.language, identified)
            best, language = (extra, identified) if _rank(extra) > _rank(own) else (own, self.language)
        if best is NO_RISK:  # most lines: one shared answer per (languages, identified)
            key = (languages, identified)
            plain = self._plain.get(key)
            if plain is None:
                plain = self._plain[key] = dataclasses.replace(NO_RISK, language=language, languages=languages,
                                                               identified=identified)
            return plain
        return dataclasses.replace(best, language=language, languages=languages, identified=identified)
