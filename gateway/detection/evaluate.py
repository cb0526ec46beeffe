"""``gateway eval``: how well a policy's detection does on a labelled CSV.

Labels are ``none``, ``concern``, ``high`` or ``imminent`` (the writer's own risk); with ``binary`` set
(e.g. ``1``), a label equal to it means "at risk, tier unknown" and any other means ``none``, for public
sets labelled only yes or no (then only the any-tier figures mean anything). An optional kind column
(``ordinary``, ``hard_negative``, ``risk``, ``abuse``) adds the false-alarm rate on ordinary chat and on
hard negatives, and how well abuse aimed at others is told apart. Every proportion comes with its 95%
Wilson interval: a set of a hundred lines cannot show a difference of a few points.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import Detector
from ..policy.model import TIERS

LABELS = ("none",) + TIERS
ANY = "any"  # a binary set's positive label: at risk, tier unknown


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of k successes in n trials ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def _ci(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k / n if n else 1.0:.3f} [{lo:.3f}, {hi:.3f}]"


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

    def line(self) -> str:
        return (f"precision {_ci(self.tp, self.tp + self.fp)}  recall {_ci(self.tp, self.tp + self.fn)}  "
                f"F1 {self.f1:.3f}  (tp {self.tp}, fp {self.fp}, fn {self.fn})")


@dataclass
class Report:
    rows: int = 0
    any_tier: Score = field(default_factory=Score)
    would_remove: Score = field(default_factory=Score)
    abuse: Score = field(default_factory=Score)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    false_alarms: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (fired, total)
    mistakes: list[tuple[int, str, str]] = field(default_factory=list)  # (line, gold, predicted)
    binary: bool = False
    per_tier: dict[str, Score] = field(default_factory=dict)  # detected at exactly this tier
    exact: int = 0  # lines whose detected tier is exactly the label
    false_removals: int = 0  # would remove, labelled below every removing tier
    not_removable: int = 0  # lines labelled below every removing tier
    missed_removals: int = 0  # labelled at a removing tier, not removed
    removable: int = 0
    identified: dict[str, int] = field(default_factory=dict)  # what language identification said -> lines
    added: dict[str, int] = field(default_factory=dict)  # another language whose rules judged -> lines
    per_language: dict[str, "Report"] = field(default_factory=dict)  # the CSV's language column -> its lines

    def rate(self, kind: str) -> float | None:
        fired, total = self.false_alarms.get(kind, (0, 0))
        return fired / total if total else None


def evaluate(detector: Detector, path: str | Path, text_col: str, label_col: str,
             kind_col: str | None = "kind", binary: str | None = None,
             read: Callable[[str], str] | None = None) -> Report:
    """Every labelled line's answer counted. ``read``: the part of a line the detector is given (``gateway eval``
    passes the core's ``own_words``, so that lines quoting someone else are judged on the writer's own words, as a
    room judges them; the detection package cannot import the core itself)."""
    report = Report(binary=binary is not None, per_tier={t: Score() for t in TIERS})
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (text_col, label_col) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column {missing[0]!r} (columns: {', '.join(reader.fieldnames or [])})")
        has_kind = kind_col is not None and kind_col in (reader.fieldnames or [])
        has_language = "language" in (reader.fieldnames or [])
        remove_levels = detector.remove_levels
        for line, row in enumerate(reader, start=2):
            gold = row[label_col].strip().lower()
            if binary is not None:
                gold = ANY if gold == binary.lower() else "none"
            elif gold not in LABELS:
                raise ValueError(f"{path}:{line}: label {gold!r} is not one of {', '.join(LABELS)}")
            d = detector.detect(row[text_col] if read is None else read(row[text_col]))
            kind = row[kind_col].strip().lower() if has_kind else None
            targets = [report]
            if has_language:
                language = row["language"].strip().lower() or "none given"
                targets.append(report.per_language.setdefault(
                    language, Report(binary=report.binary, per_tier={t: Score() for t in TIERS})))
            for target in targets:
                _add(target, line, gold, d, detector.would_remove(d), remove_levels, kind)
    return report


def _add(report: Report, line: int, gold: str, d, removed: bool, remove_levels, kind: str | None) -> None:
    """One labelled line's answer counted in ``report``."""
    report.rows += 1
    report.any_tier.add(gold != "none", d.tier != "none")
    report.confusion[(gold, d.tier)] = report.confusion.get((gold, d.tier), 0) + 1
    identified = getattr(d, "identified", None) or "unsure"
    report.identified[identified] = report.identified.get(identified, 0) + 1
    for language in getattr(d, "languages", ())[1:]:
        report.added[language] = report.added.get(language, 0) + 1
    if gold != ANY:
        report.would_remove.add(LABELS.index(gold) in remove_levels, removed)
        for tier in TIERS:
            report.per_tier[tier].add(gold == tier, d.tier == tier)
        report.exact += gold == d.tier
        if LABELS.index(gold) in remove_levels:
            report.removable += 1
            report.missed_removals += not removed
        else:
            report.not_removable += 1
            report.false_removals += removed
    if gold != d.tier and not (gold == ANY and d.tier != "none"):
        report.mistakes.append((line, gold, d.tier))
    if kind is not None:
        report.abuse.add(kind == "abuse", bool(d.abuse))
        if gold == "none":
            fired, total = report.false_alarms.get(kind, (0, 0))
            report.false_alarms[kind] = (fired + (d.tier != "none"), total + 1)
    return report


def format_report(report: Report, *, show_mistakes: bool = False) -> str:
    """Figures with their 95% intervals; mistakes by CSV line number, never by text."""
    out = [f"{report.rows} labelled messages" + (" (binary labels: any tier or none)" if report.binary else "")]
    out.append(f"{'any tier':13s} {report.any_tier.line()}")
    if report.binary:  # removals can be judged only on the lines labelled no
        out.append(f"false removals: {report.false_removals} of {report.not_removable} "
                   f"({_ci(report.false_removals, report.not_removable)})")
    else:
        out.append(f"{'would remove':13s} {report.would_remove.line()}")
        for tier in TIERS:
            out.append(f"{tier:13s} {report.per_tier[tier].line()}")
        graded = report.rows
        out.append(f"exact tier: {_ci(report.exact, graded)}; false removals: {report.false_removals} of "
                   f"{report.not_removable} ({_ci(report.false_removals, report.not_removable)}); missed "
                   f"removals: {report.missed_removals} of {report.removable} "
                   f"({_ci(report.missed_removals, report.removable)})")
    if report.false_alarms:
        for kind, (fired, total) in sorted(report.false_alarms.items()):
            out.append(f"false alarms on {kind}: {fired}/{total} ({_ci(fired, total)})")
        a = report.abuse
        out.append(f"abuse aimed at others: precision {a.precision:.3f}  recall {a.recall:.3f}")
    if report.identified:
        out.append("language identification: " + ", ".join(
            f"{lang} {n}" for lang, n in sorted(report.identified.items(), key=lambda kv: (-kv[1], kv[0])))
            + ("; another language's rules added on " + ", ".join(
                f"{lang} {n}" for lang, n in sorted(report.added.items())) if report.added else ""))
    for language, sub in sorted(report.per_language.items()):
        out.append(_language_line(language, sub))
    out.append("")
    labels = ("none", ANY) if report.binary else LABELS
    out.append("confusion (rows: label, columns: detected)")
    out.append(f"{'':10s}" + "".join(f"{t:>10s}" for t in LABELS))
    for gold in labels:
        out.append(f"{gold:10s}" + "".join(f"{report.confusion.get((gold, t), 0):>10d}" for t in LABELS))
    if show_mistakes and report.mistakes:
        out.append("")
        out.append("mismatches (CSV line: label -> detected):")
        out += [f"  line {line}: {gold} -> {tier}" for line, gold, tier in report.mistakes]
    return "\n".join(out)


def _language_line(language: str, r: Report) -> str:
    """One language's lines of a CSV with a ``language`` column, in a line."""
    text = f"language {language}: {r.rows} lines; any tier recall {_ci(r.any_tier.tp, r.any_tier.tp + r.any_tier.fn)}"
    if not r.binary:
        text += (f"; exact tier {_ci(r.exact, r.rows)}; removed {r.removable - r.missed_removals} of {r.removable}"
                 f" at a removing tier; false removals {r.false_removals} of {r.not_removable}")
    return text


# Everyday community chat written for this project (greetings, tech, games, food, pets, plans, hard days
# without risk): no rule of a sane policy fires on more than a few of its lines (see DATA.md).
EVERYDAY_CHAT = Path(__file__).resolve().parent / "data" / "everyday-chat.txt"
EVERYDAY_LIMIT = 0.01  # a rule that fires on more than this share of everyday chat is too broad


def everyday_warnings(policy, detector: Detector) -> list[str]:
    """``gateway check``'s warning for each rule of ``policy`` (its own or inherited) that fires on more
    than 1% of the shipped everyday chat: a ``\\w`` regex at imminent would remove everyone who speaks.
    One batch through ``detect_many``: a few hundredths of a second."""
    lines = EVERYDAY_CHAT.read_text(encoding="utf-8").splitlines()
    fired: dict[str, int] = {}
    for d in detector.detect_many(lines):
        for rule in set(d.rules) | set(d.abuse) | set(d.third_party):
            fired[rule] = fired.get(rule, 0) + 1
    out = []
    for rule, n in sorted(fired.items(), key=lambda kv: (-kv[1], kv[0])):
        if n > EVERYDAY_LIMIT * len(lines):
            mark = policy.marks.get(rule)
            where = f"{mark.file}:{mark.line}: " if mark else f"{policy.file}: "
            out.append(f"{where}rule {rule} fires on {100 * n / len(lines):.0f}% of everyday chat ({n} of the "
                       f"{len(lines)} ordinary lines shipped to test this), more than 1%: a phrase or regex in it "
                       f"is too broad; try it with gateway scan --policy {policy.file}")
    return out
