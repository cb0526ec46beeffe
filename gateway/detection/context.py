"""Detection, stage 5: a person's recent messages. "I can't do this anymore" followed within minutes by
"goodbye everyone, thanks for everything" is imminent, though each line alone is not. Only the time and
tier of each detection are remembered, per person and room, for the policy's ``context.window``, with
at most ``context.max_people`` people (the longest quiet forgotten first); never what was written.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

from .decision import Detection

__all__ = ["CONTEXT_RULE", "with_context"]

CONTEXT_RULE = "context.farewell_after_risk"


def with_context(recent: "OrderedDict[tuple, list[tuple[float, int]]]", key: tuple, ts: float,
                 detection: Detection, context: Any) -> Detection:
    """``detection`` with what the person's recent detections add (a farewell after earlier risk is
    imminent); ``recent`` is updated in place. ``context``: the policy's ``context`` settings."""
    if context.window is None or detection.level == 0:
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
