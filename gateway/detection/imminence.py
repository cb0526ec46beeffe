"""Detection, stage 3b: an English "is it imminent?" score for lines the rules already hold at risk (candidate F).

The rules read imminence from parts (``compose.py``); on lines nobody here had read, about half of the imminent lines
they did not remove were already at concern or high: the rules saw the writer's own risk but no act under way, no
means at hand with a time, no place with a farewell. A small learned model (``risk-en-imminent.bin``, words and word
pairs, the format of ``model.py``; built by ``train_imminence.py``) reads whether the act or plan is imminent, and above
a strict threshold raises such a line to imminent (rule id ``model.imminent``).

It acts only where the rules themselves established the writer's own present risk (``eligible``): the rules' tier is
concern or high; nothing was lowered (a negation, a past told in the act's sentence, a joke marker); no idiom, reported
speech, quote, joke, abuse, recovery, supportive reply or past story (``decide``'s ``exempt``); nobody else's risk
(``third_party``); not a line found only by rules with a message of their own (self-harm and eating acts: the
self-harm message, never a removal). Never on a line the rules put at none, so never on one the other models alone
raised.
Off unless a policy names the file (``model.imminence``).
"""

from __future__ import annotations

import dataclasses

from .decision import Detection

__all__ = ["IMMINENCE_RULE", "eligible", "own_message_rules", "promote"]

IMMINENCE_RULE = "model.imminent"


def own_message_rules(policy) -> frozenset[str]:
    """The ids of a policy's rules that carry a message of their own (``message: self_harm_dm``: self-harm and eating
    acts, never a removal): a line found by these alone is never raised."""
    return frozenset(r.id for t in policy.tiers.values() for r in t.rules if r.message)


def eligible(detection: Detection, exempt: bool, own_message: frozenset[str] = frozenset()) -> bool:
    """Whether the rules' answer (``decide``'s, before any model) is one the imminence score may raise: the writer's
    own risk at concern or high, nothing lowered or someone else's, no frame that makes it not the writer's now, and
    not found only by rules with a message of their own (``own_message``: ``own_message_rules``)."""
    return (not exempt and detection.tier in ("concern", "high") and not detection.lowered
            and not detection.third_party and not detection.someone_else and not detection.abuse
            and not set(detection.rules) <= own_message)


def promote(detection: Detection) -> Detection:
    """``detection`` raised to imminent, the rule id ``model.imminent`` beside the rules that gave its risk."""
    return dataclasses.replace(detection, tier="imminent", rules=tuple(sorted(detection.rules + (IMMINENCE_RULE,))))
