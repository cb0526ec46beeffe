"""Detection, stage 4: the decision. What the rules matched becomes a tier: an idiom or reported speech
drops an overlapping match, a negation just before it lowers it one tier, a joke marker drops the
lower tiers and lowers the top one; what is left gives the tier and the rule ids that explain it.
(The learned model, stage 3, may raise the result afterwards; see ``detector.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Detection", "Matches", "NO_RISK", "MODEL_RULE", "decide", "tier_level", "TIER_NAMES"]

_LEVEL = {"none": 0, "concern": 1, "high": 2, "imminent": 3}
_NAME = {v: k for k, v in _LEVEL.items()}

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
TIER_NAMES = _NAME


@dataclass
class Matches:
    """Everything the rules found in one normalised message (positions are character offsets)."""

    risks: list = field(default_factory=list)  # (start, end, level, rule id)
    idioms: list = field(default_factory=list)  # (start, end, level; 0 = every tier)
    negations: list = field(default_factory=list)  # (end, level)
    reported: list = field(default_factory=list)  # (start, end) of reported-speech cues
    joking: bool = False
    abuse: set = field(default_factory=set)
    third: set = field(default_factory=set)


def decide(m: Matches, norm: str, negation_window: int, reported_window: int) -> tuple[Detection, bool]:
    """The rules' answer, and whether the model must stay out: the rules saw an idiom, a joke marker,
    reported speech, words aimed at someone else, or lowered a match for a negation."""
    risks, idioms, negations, reported, joking, abuse, third = (m.risks, m.idioms, m.negations, m.reported,
                                                                m.joking, m.abuse, m.third)
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
                cue_start < start and norm.count(" ", cue_end, start) - 1 <= reported_window
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
                and norm.count(" ", neg_end, start) - 1 <= negation_window
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
