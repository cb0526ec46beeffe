"""``gateway eval``: how well a policy's detection does on a labelled CSV.

Labels are ``none``, ``concern``, ``high`` or ``imminent`` (the writer's own risk). An optional kind
column (``ordinary``, ``hard_negative``, ``risk``, ``abuse``) adds the false-alarm rate on ordinary
chat and on hard negatives, and how well abuse aimed at others is told apart.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .detect import Detector
from .policy import TIERS

LABELS = ("none",) + TIERS


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: bool, predicted: bool) -> None:
        self.tp += gold and predicted
        self.fp += (not gold) and predicted
        self.fn += gold and not predicted

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    rows: int = 0
    any_tier: Score = field(default_factory=Score)
    would_remove: Score = field(default_factory=Score)
    abuse: Score = field(default_factory=Score)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    false_alarms: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (fired, total)
    mistakes: list[tuple[int, str, str]] = field(default_factory=list)  # (line, gold, predicted)

    def rate(self, kind: str) -> float | None:
        fired, total = self.false_alarms.get(kind, (0, 0))
        return fired / total if total else None


def evaluate(detector: Detector, path: str | Path, text_col: str, label_col: str,
             kind_col: str | None = "kind") -> Report:
    report = Report()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (text_col, label_col) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column {missing[0]!r} (columns: {', '.join(reader.fieldnames or [])})")
        has_kind = kind_col is not None and kind_col in (reader.fieldnames or [])
        remove_levels = detector.remove_levels
        for line, row in enumerate(reader, start=2):
            gold = row[label_col].strip().lower()
            if gold not in LABELS:
                raise ValueError(f"{path}:{line}: label {gold!r} is not one of {', '.join(LABELS)}")
            d = detector.detect(row[text_col])
            report.rows += 1
            report.any_tier.add(gold != "none", d.tier != "none")
            report.would_remove.add(LABELS.index(gold) in remove_levels, detector.would_remove(d))
            report.confusion[(gold, d.tier)] = report.confusion.get((gold, d.tier), 0) + 1
            if gold != d.tier:
                report.mistakes.append((line, gold, d.tier))
            if has_kind:
                kind = row[kind_col].strip().lower()
                report.abuse.add(kind == "abuse", bool(d.abuse))
                if gold == "none":
                    fired, total = report.false_alarms.get(kind, (0, 0))
                    report.false_alarms[kind] = (fired + (d.tier != "none"), total + 1)
    return report


def format_report(report: Report, *, show_mistakes: bool = False) -> str:
    out = [f"{report.rows} labelled messages"]
    for name, s in (("any tier", report.any_tier), ("would remove", report.would_remove)):
        out.append(f"{name:13s} precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
                   f"(tp {s.tp}, fp {s.fp}, fn {s.fn})")
    if report.false_alarms:
        for kind, (fired, total) in sorted(report.false_alarms.items()):
            out.append(f"false alarms on {kind}: {fired}/{total} ({fired / total:.1%})")
        a = report.abuse
        out.append(f"abuse aimed at others: precision {a.precision:.3f}  recall {a.recall:.3f}")
    out.append("")
    out.append("confusion (rows: label, columns: detected)")
    out.append(f"{'':10s}" + "".join(f"{t:>10s}" for t in LABELS))
    for gold in LABELS:
        out.append(f"{gold:10s}" + "".join(f"{report.confusion.get((gold, t), 0):>10d}" for t in LABELS))
    if show_mistakes and report.mistakes:
        out.append("")
        out.append("mismatches (CSV line: label -> detected):")
        out += [f"  line {line}: {gold} -> {tier}" for line, gold, tier in report.mistakes]
    return "\n".join(out)
