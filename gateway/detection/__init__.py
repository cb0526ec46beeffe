"""Risk detection in stages (see ``detector.py``): folding, rules, learned model, decision, context."""

from .decision import MODEL_RULE, NO_RISK, Detection, tier_level
from .detector import Detector
from .rules import RulesSource

__all__ = ["Detector", "Detection", "NO_RISK", "MODEL_RULE", "RulesSource", "tier_level"]
