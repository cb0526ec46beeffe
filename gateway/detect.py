"""Risk detection: every phrase of a policy matched in one pass, then idioms and negations applied.

Why this shape: phrases, idioms and negation cues all go into a single Aho-Corasick automaton, so the
cost per message is one linear scan whatever the lexicon size. Regexes written in policies run on RE2,
which guarantees linear time, so no policy can hang the bot with a backtracking pattern (see
``bench/matchers.py`` for the measurement). Matching is on word boundaries of the normalised text.

- An idiom ("kill me lol") that overlaps a risk match drops that match.
- A negation cue ("never", "not going to") ending at most ``negation_window`` words before a match
  lowers that match one tier (floor: concern) instead of dropping it: "I'd never kill myself" is
  still worth a gentle message.
- A joke marker anywhere in the message ("lol", "lmao", "😂", "💀") drops matches below the top tier
  ("i literally want to die 😂") and lowers a top-tier match one tier: "took all my pills lol" still
  gets the private message and a moderator alert, but never a removal. The trade-off is deliberate
  and documented: distress masked with "lol" at the lower tiers gets no reaction.
- With the policy's ``model:`` on, a learned score (``riskmodel.py``) can raise a message to concern
  (and to high, if the policy sets ``model.high``; rule id ``model.risk``) when the rules found less;
  never to imminent, and never where the rules saw an idiom, a joke marker, reported speech, words
  aimed at someone else or a negation they applied.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Protocol

import ahocorasick
import re2

from .normalise import line_numbers, normalise, normalise_joined



class RulesSource(Protocol):
    """What detection reads of a policy (``gateway/policy.py``'s ``Policy`` is one): detection depends on
    this shape, not on the policy module, so the two do not import each other."""

    tiers: dict[str, Any]
    idioms: tuple[str, ...]
    negations: tuple[str, ...]
    negation_window: int
    reported: tuple[str, ...]
    reported_window: int
    jokes: tuple[str, ...]
    abuse: tuple[Any, ...]
    third_party: tuple[Any, ...]
    model: Any


__all__ = ["Detection", "Detector", "NO_RISK", "tier_level"]

_LEVEL = {"none": 0, "concern": 1, "high": 2, "imminent": 3}
_NAME = {v: k for k, v in _LEVEL.items()}

_RISK, _IDIOM, _NEGATION, _REPORTED, _ABUSE, _JOKE, _THIRD = 0, 1, 2, 3, 4, 5, 6
_ABUSE_LEVEL, _THIRD_LEVEL = -1, -2  # how abuse and third-party regexes are told apart from risk ones
_TOP = max(_LEVEL.values())  # a joke marker lowers this tier instead of dropping it


def tier_level(tier: str) -> int:
    return _LEVEL[tier]


@dataclass(frozen=True)
class Detection:
    tier: str  # "none", "concern", "high" or "imminent"
    rules: tuple[str, ...]  # rule ids that contributed, sorted
    lowered: tuple[str, ...] = ()  # rule ids lowered one tier by a negation
    suppressed: tuple[str, ...] = ()  # rule ids dropped because an idiom covered them
    abuse: tuple[str, ...] = ()  # abuse rule ids: words aimed at someone else (not the writer's risk)
    score: float | None = None  # the learned model's score, when the policy uses it and something fired
    third_party: tuple[str, ...] = ()  # someone the writer knows is at risk ("my friend wants to die")

    @property
    def level(self) -> int:
        return _LEVEL[self.tier]


NO_RISK = Detection("none", ())
MODEL_RULE = "model.risk"


@functools.lru_cache(maxsize=4)
def _load_model(path: str):
    from .riskmodel import RiskModel

    return RiskModel.load(path)


class Detector:
    def __init__(self, policy: RulesSource):
        self.window = policy.negation_window
        self.reported_window = policy.reported_window
        automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[int, int, str]]] = {}

        def add(key: str, entry: tuple[int, int, str]) -> None:
            entries.setdefault(key, []).append(entry)

        self.regexes: list[tuple[object, int, str]] = []
        for tier in policy.tiers.values():
            level = _LEVEL[tier.name]
            for rule in tier.rules:
                for phrase in rule.phrases:
                    add(phrase, (_RISK, level, rule.id))
                    if " " in phrase:  # "k i l l m y s e l f" normalises to one token, and so
                        joined = phrase.replace(" ", "")  # does "i t o o k a l l m y p i l l s"
                        add(joined, (_RISK, level, rule.id))
                        if not phrase.startswith(("i ", "im ")):
                            add("i" + joined, (_RISK, level, rule.id))
                            add("im" + joined, (_RISK, level, rule.id))
                for pattern in rule.regexes:
                    self.regexes.append((re2.compile(pattern), level, rule.id))
            for idiom in tier.idioms:
                add(idiom, (_IDIOM, level, ""))
        for idiom in policy.idioms:
            add(idiom, (_IDIOM, 0, ""))  # level 0: applies to every tier
        for cue in policy.negations:
            add(cue, (_NEGATION, 0, ""))
        for cue in policy.reported:
            add(cue, (_REPORTED, 0, ""))
        for cue in policy.jokes:
            add(cue, (_JOKE, 0, ""))
        for rule in policy.abuse:
            for phrase in rule.phrases:
                add(phrase, (_ABUSE, 0, rule.id))
            for pattern in rule.regexes:
                self.regexes.append((re2.compile(pattern), _ABUSE_LEVEL, rule.id))
        for rule in policy.third_party:
            for phrase in rule.phrases:
                add(phrase, (_THIRD, 0, rule.id))
            for pattern in rule.regexes:
                self.regexes.append((re2.compile(pattern), _THIRD_LEVEL, rule.id))
        for tier in policy.tiers.values():
            for cue in tier.negations:
                add(cue, (_NEGATION, _LEVEL[tier.name], ""))
        # All regexes in one RE2 filter (FilteredRE2): the literal atoms every pattern needs are matched
        # first, and only patterns whose atoms occur are run; it answers which patterns match. Those are
        # run again to find where (needed for idioms, negation and reported speech). Most messages match
        # none. Twice as fast as an RE2 set of the same patterns on the bench/matchers.py messages.
        self.regex_filter = None
        if self.regexes:
            self.regex_filter = re2.Filter()
            for pattern, _, _ in self.regexes:
                self.regex_filter.Add(pattern.pattern)
            self.regex_filter.Compile()
        for key, values in entries.items():
            automaton.add_word(key, (len(key), tuple(values)))
        automaton.make_automaton()
        self.automaton = automaton
        self.phrase_count = len(entries)
        self.remove_levels = frozenset(
            _LEVEL[t.name] for t in policy.tiers.values() if t.action.remove)
        self.model = None
        if policy.model.enabled:
            from .riskmodel import SHIPPED_MODEL

            self.model = _load_model(str(SHIPPED_MODEL))  # one copy per process, shared by policies
            # concern from the threshold calibrated at training unless the policy sets one; high only if
            # the policy asks: the model learned "suicidal or depressed", not the tiers, so by default it
            # raises a message to a gentle check-in and no further.
            self.model_concern = policy.model.concern or self.model.meta.get("thresholds", {}).get("concern", 0.5)
            self.model_high = policy.model.high if policy.model.high is not None else float("inf")
        # For many messages at once (``detect_many``): only risk and abuse phrases and the regexes can
        # make a message's answer anything but NO_RISK, so one RE2 pass over all messages (one per line)
        # finds the few that need the full judgement. Multi-line mode keeps ``^`` and ``$`` meaning the
        # start and end of a message; a phrase needs a space or a line edge on both sides.
        triggers = sorted(key for key, values in entries.items()
                          if any(kind in (_RISK, _ABUSE, _THIRD) for kind, _, _ in values))
        alternatives = [f"(?:{p.pattern})" for p, _, _ in self.regexes]
        if triggers:
            alternatives.insert(0, "(?:^| )(?:" + "|".join(map(re2.escape, triggers)) + ")(?: |$)")
        self.any_trigger = None
        if alternatives:
            options = re2.Options()
            options.max_mem = 64 << 20  # the lazy DFA of a large alternation wants more than the default
            self.any_trigger = re2.compile("(?m)" + "|".join(alternatives), options)

    def would_remove(self, detection: Detection) -> bool:
        return detection.level in self.remove_levels

    def detect(self, text: str) -> Detection:
        return self._judge(normalise(text))

    def detect_many(self, texts: list[str]) -> list[Detection]:
        """``[detect(t) for t in texts]``, several times faster: the messages are normalised together and
        scanned in one RE2 pass (every risk and abuse phrase and every policy regex); only the messages
        it touches are judged one by one. For batches: a sync response, a burst of IRC lines."""
        buf, slow = normalise_joined(texts)
        touched = set(slow)
        if self.any_trigger is not None:
            at = []
            for m in self.any_trigger.finditer(buf):
                at.append(m.start())
                newline = buf.find(b"\n", m.start(), m.end())
                while newline >= 0:  # a match across lines: every message in it is judged
                    at.append(newline + 1)
                    newline = buf.find(b"\n", newline + 1, m.end())
            touched |= line_numbers(buf, at)
        results = [NO_RISK] * len(texts)
        if touched or self.model is not None:
            lines = buf.split(b"\n")
            for i in touched:
                results[i] = self.detect(texts[i]) if i in slow else self._judge(lines[i].decode("ascii"))
            if self.model is not None:  # no phrase fired here, but the model may: judged if it does
                score, concern = self.model.score, self.model_concern
                for i, line in enumerate(lines):
                    if i not in touched:
                        norm = line.decode("ascii")
                        if score(norm) >= concern:
                            results[i] = self._judge(norm)
        return results

    def _judge(self, norm: str) -> Detection:
        detection, exempt = self._rules(norm)
        if self.model is None or exempt or not norm:
            return detection
        score = self.model.score(norm)
        level = 2 if score >= self.model_high else 1 if score >= self.model_concern else 0
        if level > detection.level:
            return dataclasses.replace(detection, tier=_NAME[level], score=score,
                                       rules=tuple(sorted(detection.rules + (MODEL_RULE,))))
        return dataclasses.replace(detection, score=score) if detection.level else detection

    def _rules(self, norm: str) -> tuple[Detection, bool]:
        """The rules' answer, and whether the model must stay out: the rules saw an idiom, a joke marker,
        reported speech, words aimed at someone else, or lowered a match for a negation."""
        if not norm:
            return NO_RISK, True
        size = len(norm)
        risks: list[tuple[int, int, int, str]] = []  # start, end (exclusive), level, rule
        idioms: list[tuple[int, int, int]] = []
        negations: list[tuple[int, int]] = []  # end, level (0 = all)
        reported: list[tuple[int, int]] = []  # reported-speech cues: a match may even start inside one
        abuse: set[str] = set()
        third: set[str] = set()
        joking = False
        for last, (length, values) in self.automaton.iter(norm):
            start, end = last - length + 1, last + 1
            if (start and norm[start - 1] != " ") or (end < size and norm[end] != " "):
                continue
            for kind, level, rule in values:
                if kind == _RISK:
                    risks.append((start, end, level, rule))
                elif kind == _IDIOM:
                    idioms.append((start, end, level))
                elif kind == _NEGATION:
                    negations.append((end, level))
                elif kind == _REPORTED:
                    reported.append((start, end))
                elif kind == _JOKE:
                    joking = True
                elif kind == _THIRD:
                    third.add(rule)
                    idioms.append((start, end, 0))  # someone else's risk, not the writer's
                else:
                    abuse.add(rule)
                    idioms.append((start, end, 0))  # words aimed at someone else are not the writer's risk
        hits = self.regex_filter.Match(norm) if self.regex_filter is not None else None
        for index in hits or ():
            pattern, level, rule = self.regexes[index]
            m = pattern.search(norm)
            if m is not None:
                if level == _ABUSE_LEVEL:
                    abuse.add(rule)
                elif level == _THIRD_LEVEL:
                    third.add(rule)
                    idioms.append((m.start(), m.end(), 0))
                else:
                    risks.append((m.start(), m.end(), level, rule))
        exempt = bool(idioms or reported or joking or abuse or third)
        if not risks:
            if abuse or third:
                return Detection("none", (), abuse=tuple(sorted(abuse)), third_party=tuple(sorted(third))), exempt
            return NO_RISK, exempt

        best: dict[str, int] = {}
        lowered: set[str] = set()
        suppressed: set[str] = set()
        for start, end, level, rule in risks:
            if any(s < end and start < e and lv in (0, level) for s, e, lv in idioms) or any(
                    cue_start < start and norm.count(" ", cue_end, start) - 1 <= self.reported_window
                    for cue_start, cue_end in reported):
                suppressed.add(rule)  # an idiom, or words reported about someone else
                continue
            if joking:
                if level < _TOP:
                    suppressed.add(rule)
                    continue
                lowered.add(rule)
                level -= 1
            elif level > 1 and any(
                    neg_end <= start and lv in (0, level)
                    and norm.count(" ", neg_end, start) - 1 <= self.window
                    for neg_end, lv in negations):
                lowered.add(rule)
                level -= 1
            if level > best.get(rule, 0):
                best[rule] = level
        exempt = exempt or bool(lowered)
        if not best:
            return Detection("none", (), suppressed=tuple(sorted(suppressed)), abuse=tuple(sorted(abuse)),
                             third_party=tuple(sorted(third))), exempt
        top = max(best.values())
        return Detection(_NAME[top], tuple(sorted(best)), tuple(sorted(lowered & best.keys())),
                         tuple(sorted(suppressed - best.keys())), tuple(sorted(abuse)),
                         third_party=tuple(sorted(third))), exempt
