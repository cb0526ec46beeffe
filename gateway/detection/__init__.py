"""Risk detection in stages (see ``detector.py``): folding (``gateway.text``), rules, learned model,
decision, context; a room's languages (``multilingual.py``, ``language.py``); beside it, ``gateway eval``
(``evaluate.py``), the training scripts (``train_model.py``, ``train_model_lang.py``) and the shipped
models (``models/``, their data card is DATA.md).

May import: ``gateway.text`` and ``gateway.policy`` (a detector compiles a policy); never the core or above.
"""

from .decision import CHAT_RULE, MODEL_RULE, NO_RISK, Detection, tier_level
from .detector import Detector
from .multilingual import RoomDetector
from .rules import RulesSource

__all__ = ["Detector", "Detection", "NO_RISK", "MODEL_RULE", "CHAT_RULE", "RoomDetector", "RulesSource", "detector_for",
           "tier_level"]


def detector_for(policy) -> RoomDetector:
    """The policy's compiled detector for a room (its own rules, and another language's shipped rules for
    a line in that language: ``multilingual.py``), built once per loaded policy and kept on it
    (``_detector``); a policy changed with ``dataclasses.replace(..., _detector=None)`` gets its own."""
    detector = getattr(policy, "_detector", None)
    if detector is None:
        detector = RoomDetector(Detector(policy), policy.language)
        object.__setattr__(policy, "_detector", detector)
    return detector
