"""Where the files the gateway ships are: the policies and their templates, the crisis-line directory and
the learned models. One place, so that the loader, the detection and the demo agree on them."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_DIR", "CRISIS_DIRECTORY", "MODELS"]

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "policies"  # default policies and templates/
CRISIS_DIRECTORY = SHIPPED_DIR / "crisis_lines.yaml"
MODELS = Path(__file__).resolve().parents[1] / "detection" / "models"  # risk-LANG.bin
