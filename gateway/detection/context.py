"""Detection, stage 5: a person's recent messages. "I can't do this anymore" followed within minutes by
"goodbye everyone, thanks for everything" is imminent, though each line alone is not. So is a line that
alone says nothing ("taking them now", "doing it at 11": ``context.followups``) after the same
person's risk: people in chat split what they say over several lines, and the line that carries out the
plan names no means. Only the time and tier of each detection are remembered, per person and room, for
the policy's ``context.window``, with at most ``context.max_people`` people (the longest quiet forgotten
first); never what was written: a follow-up is read from the line in hand. A restart rebuilds this
memory from the event log's ``risk_detected`` rows (``gateway/core/restore.py``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import OrderedDict
from typing import Any

import re2

from ..text.folding import normalise
from .decision import Detection

__all__ = ["CONTEXT_RULE", "FOLLOWUP_RULE", "with_context"]

CONTEXT_RULE = "context.farewell_after_risk"
FOLLOWUP_RULE = "context.act_after_risk"


@functools.lru_cache(maxsize=64)
def _followups(patterns: tuple[str, ...]):
    """The policy's follow-up regexes as one RE2 (validated when the policy loaded)."""
    return re2.compile("|".join(f"(?:{p})" for p in patterns))


def _follows_up(context: Any, text: str) -> bool:
    """Whether the line (the writer's own words) is a follow-up: one of ``context.followups`` matches its
    folded form. A line of more than a dozen words is a message of its own, read by the rules."""
    if not context.followups:
        return False
    norm = normalise(text)
    return 0 < norm.count(" ") + 1 <= 12 and _followups(context.followups).search(norm) is not None


def with_context(recent: "OrderedDict[tuple, list[tuple[float, int]]]", key: tuple, ts: float,
                 detection: Detection, context: Any, text: str | None = None) -> Detection:
    """``detection`` with what the person's recent detections add (a farewell after earlier risk is
    imminent, and so is a follow-up: ``text``, the writer's own words, read only then); ``recent`` is
    updated in place. ``context``: the policy's ``context`` settings."""
    if context.window is None:
        return detection
    if (detection.level < 3 and text is not None and not detection.third_party and not detection.abuse
            and key in recent and any(ts - t < context.window for t, _ in recent[key])  # (only risk is kept)
            and _follows_up(context, text)):
        # a follow-up after the person's own risk: the act told before, now ("taking them now"); never for a
        # line about someone else or words aimed at someone
        detection = dataclasses.replace(detection, tier="imminent",
                                        rules=tuple(sorted(detection.rules + (FOLLOWUP_RULE,))))
    if detection.level == 0:
        return detection
    earlier = [(t, lv) for t, lv in recent.pop(key, ()) if ts - t < context.window]
    if earlier and detection.level < 3 and not detection.third_party and any(
            r in context.farewell_rules for r in detection.rules):  # a helper is never raised to removal
        detection = dataclasses.replace(detection, tier="imminent",
                                        rules=tuple(sorted(detection.rules + (CONTEXT_RULE,))))
    recent[key] = (earlier + [(ts, detection.level)])[-8:]
    while len(recent) > context.max_people:
        recent.popitem(last=False)
    return detection
