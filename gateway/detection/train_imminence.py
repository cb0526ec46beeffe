"""Build the English imminence score (``gateway/detection/models/risk-en-imminent.bin``) from named files of
``tests/data``, with a fixed seed, and its threshold by cross-validation by file.

    python -m gateway.detection.train_imminence [--out PATH] [--c C] [--bits B] [--misses]

What it learns: P(imminent | a risk line). Positives: every line labelled imminent. Negatives: every line labelled high
or concern, and none lines that share the words of risk (the kinds of ``NEGATIVE_KINDS``: everyday chat with the parts'
words, near misses, someone else's risk, recovery, jokes, quotes, supportive replies...; plain ``ordinary`` chat is
left out: it shares no words with risk lines and only dilutes the fit), and the none lines of ``chat-train.csv``.
The features and file format are ``model.py``'s (words and word pairs, hashed, per sentence window); the fit is
``train_model.fit`` (its OpenBLAS pin: the same weights on every machine).

The files (``FILES``, named one by one): every labelled English set of ``tests/data`` that a round has read. Never an
unread evaluation set (``NEVER``: held-out sets 21 and 22, ``en-everyday-parts.csv``); a test checks the list.

The threshold, fixed by a rule written before anything was measured: each file is scored by a model trained on the
others; among the cross-validated lines that the shipped rules put at concern or high (``imminence.eligible``, the
lines the score is ever asked about) and that are not labelled imminent, at most ``MAX_FALSE`` (1 in 50) reach it;
and no none line of the everyday files (``EVERYDAY``) that the rules put at concern or high reaches it (``MARGIN``
above the highest). The expected gain: the cross-validated imminent lines at concern or high that reach it.
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
from pathlib import Path

from .train_model import fit  # first: it pins OpenBLAS's kernels before numpy loads
from .evaluate import wilson
from .model import _FIRST_PERSON, _THIRD_PERSON, MODELS, RiskModel, windows

SEED = 20261206
BITS = 18  # 262,144 buckets (1 MB in memory, a file of about 0.2 MB): fewer collisions than 2**16
C = 10.0
NONE_WEIGHT = 30.0  # a none line weighs as thirty (``weight``): a false removal is the error that costs most
GATED_WEIGHT = 1.0  # a line the rules hold at concern or high weighs this much
MAX_FALSE = 1 / 50  # share of the cross-validated non-imminent lines at concern or high that may reach the threshold
MARGIN = 1e-4
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
OUT = MODELS / "risk-en-imminent.bin"
# unread evaluation sets: never opened, trained on or measured here (the lead measures them once)
NEVER = frozenset(("parts-heldout21.csv", "parts-heldout22.csv", "en-everyday-parts.csv"))
EVERYDAY = ("en-everyday-parts-tune.csv", "en-chat-everyday.csv", "en-chat-everyday-check.csv")
FILES = (
    "dev.csv", "heldout.csv", "test.csv", "test2.csv", "test3.csv", "test4.csv",
    "speaker.csv", "speaker-check.csv", "speaker-check2.csv", "parts-tune.csv",
    "parts-heldout.csv", *(f"parts-heldout{i}.csv" for i in range(2, 21)),
    *(f"parts-own-{r}.csv" for r in (
        "r4", "r5", "r5b", "r5c", "r5d", "r8", "r10", "r10b", "r10c", "r10d", "r11", "r11b", "r11c", "r12", "r12b",
        "r13", "r14", "r14b", "r15", "r15b", "r17", "r18", "r19", "r19b", "r19c", "r20", "r20b", "r20c", "r21")),
    "sh-ed-own.csv", "sh-ed-own-b.csv", *EVERYDAY,
)
CHAT_TRAIN = MODELS / "chat-train.csv"  # label 0/1 only (any tier): its none lines are negatives, the rest unknown
NEGATIVE_KINDS = frozenset(("everyday", "hard_negative", "third_party", "recovery", "joke", "quote", "supportive",
                            "narrative", "lyric", "other_harm", "distress", "depression", "abuse"))

Line = collections.namedtuple("Line", "text label kind file")  # label: none, concern, high, imminent


def load(data: Path = DATA) -> list[Line]:
    """Every line the model learns from, in a fixed order (``FILES``, then ``chat-train.csv``'s none lines)."""
    assert NEVER.isdisjoint(FILES)
    out = []
    for name in FILES:
        with open(data / name, newline="", encoding="utf-8") as fh:
            out += [Line(r["text"], r["label"], r["kind"] or "", name) for r in csv.DictReader(fh)]
    with open(CHAT_TRAIN, newline="", encoding="utf-8") as fh:
        out += [Line(r["text"], "none", "chat_none", CHAT_TRAIN.name) for r in csv.DictReader(fh)
                if r["label"] == "0" and r["text"]]
    return out


def learns_from(line: Line) -> bool:
    return line.label != "none" or line.kind in NEGATIVE_KINDS or line.kind == "chat_none"


def weight(line: Line, gated: bool, none_weight: float = NONE_WEIGHT, gated_weight: float = GATED_WEIGHT) -> float:
    """A line's weight in the fit: ``gated_weight`` for a line the rules hold at concern or high (where the score is
    asked), ``none_weight`` more for a none line (a false removal is the error that costs most)."""
    return (gated_weight if gated else 1.0) * (none_weight if line.label == "none" else 1.0)


def train(lines: list[Line], gate: list[bool], seed: int = SEED, bits: int = BITS, c: float = C,
          none_weight: float = NONE_WEIGHT, gated_weight: float = GATED_WEIGHT) -> RiskModel:
    rows = [(" ".join(ws), int(ln.label == "imminent"), weight(ln, g, none_weight, gated_weight))
            for ln, g in zip(lines, gate) if learns_from(ln) and (ws := windows(ln.text))]
    model = fit(rows, seed, bits, c)
    model.meta = {"first_person": sorted(_FIRST_PERSON), "third_person": sorted(_THIRD_PERSON)}
    model.__post_init__()
    return model


def gates(lines: list[Line]) -> list[bool]:
    """Whether the shipped default policy's rules put each line at concern or high as the writer's own present risk
    (``imminence.eligible``): the only lines the score is ever asked about."""
    from ..policy.loader import PolicyLoader
    from ..text.folding import normalise
    from .detector import Detector
    from .imminence import eligible, own_message_rules

    policy = PolicyLoader().load("default")
    detector = Detector(policy)
    own_message = own_message_rules(policy)
    out = []
    for ln in lines:
        norm = normalise(ln.text)
        out.append(bool(norm) and eligible(*detector.rules_answer(norm, ln.text), own_message))
    return out


def cross_validate(lines: list[Line], gate: list[bool], seed: int = SEED, bits: int = BITS, c: float = C,
                   none_weight: float = NONE_WEIGHT, gated_weight: float = GATED_WEIGHT) -> list[float]:
    """Each line's score from the model trained on every other file (split by file, never by line)."""
    scores = [0.0] * len(lines)
    for held in sorted({ln.file for ln in lines}):
        rest = [(ln, g) for ln, g in zip(lines, gate) if ln.file != held]
        model = train([ln for ln, _ in rest], [g for _, g in rest], seed, bits, c, none_weight, gated_weight)
        for i, ln in enumerate(lines):
            if ln.file == held:
                scores[i] = model.score_text(ln.text)
    return scores


def threshold(lines: list[Line], scores: list[float], gate: list[bool]) -> float:
    """The lowest score that at most ``MAX_FALSE`` of the gated non-imminent lines reach, and ``MARGIN`` above every
    gated none line of the everyday files."""
    wrong = sorted((s for s, ln, g in zip(scores, lines, gate) if g and ln.label != "imminent"), reverse=True)
    allowed = int(len(wrong) * MAX_FALSE)
    by_false = wrong[allowed] + MARGIN if allowed < len(wrong) else 0.0
    everyday = [s for s, ln, g in zip(scores, lines, gate) if g and ln.file in EVERYDAY and ln.label == "none"]
    by_everyday = max(everyday, default=0.0) + MARGIN
    return round(min(0.9999, max(by_false, by_everyday)), 4)


def figures(lines: list[Line], scores: list[float], gate: list[bool], cut: float) -> dict:
    def share(keep) -> dict:
        hits = [s >= cut for s, ln, g in zip(scores, lines, gate) if keep(ln, g)]
        return {"k": sum(hits), "n": len(hits), "rate": round(sum(hits) / max(1, len(hits)), 3),
                "wilson95": [round(x, 3) for x in wilson(sum(hits), len(hits))]}
    return {
        # the gain: imminent lines the rules hold at concern or high that the score raises
        "imminent_at_concern_or_high": share(lambda ln, g: g and ln.label == "imminent"),
        "imminent_lines": sum(1 for ln in lines if ln.label == "imminent"),
        "false_at_concern_or_high": share(lambda ln, g: g and ln.label != "imminent"),
        "none_at_concern_or_high": share(lambda ln, g: g and ln.label == "none"),
        "everyday_at_concern_or_high": share(lambda ln, g: g and ln.file in EVERYDAY),
    }


def build(seed: int = SEED, bits: int = BITS, c: float = C, none_weight: float = NONE_WEIGHT,
          gated_weight: float = GATED_WEIGHT, data: Path = DATA):
    lines = load(data)
    gate = gates(lines)
    scores = cross_validate(lines, gate, seed, bits, c, none_weight, gated_weight)
    cut = threshold(lines, scores, gate)
    model = train(lines, gate, seed, bits, c, none_weight, gated_weight)
    model.meta.update({
        "language": "en", "seed": seed, "c": c, "none_weight": none_weight, "gated_weight": gated_weight, "features": "crc32 word 1-2 grams, l2, per sentence window",
        "label": "1 = imminent; 0 = high or concern, and none lines sharing risk's words (NEGATIVE_KINDS)",
        "applies_to": "lines the rules put at concern or high as the writer's own present risk (imminence.eligible)",
        "sources": [{"name": "this project's own lines (written by helpers for this project)",
                     "licence": "this repository's", "files": [*FILES, CHAT_TRAIN.name]}],
        "thresholds": {"imminent": cut}, "lines": sum(map(learns_from, lines)),
        "cross_validated": {"split": "by file", **figures(lines, scores, gate, cut)}})
    return model, lines, scores, gate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway.detection.train_imminence", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--bits", type=int, default=BITS)
    ap.add_argument("--c", type=float, default=C)
    ap.add_argument("--none-weight", type=float, default=NONE_WEIGHT)
    ap.add_argument("--gated-weight", type=float, default=GATED_WEIGHT)
    ap.add_argument("--misses", action="store_true", help="gated lines on the wrong side, by file and line number")
    args = ap.parse_args(argv)
    model, lines, scores, gate = build(args.seed, args.bits, args.c, args.none_weight, args.gated_weight)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    cut = model.meta["thresholds"]["imminent"]
    print(f"{model.meta['lines']} lines learned from; threshold (cross-validated by file): {cut}")
    for name, v in model.meta["cross_validated"].items():
        print(f"  {name}: {v}")
    if args.misses:  # by file and line number (the header is line 1), never by text
        row = collections.Counter()
        for s, ln, g in zip(scores, lines, gate):
            row[ln.file] += 1
            if g and (ln.label == "imminent") != (s >= cut):
                print(f"  {'MISS' if ln.label == 'imminent' else 'FALSE'} {s:.3f} {ln.label} {ln.kind} "
                      f"{ln.file}:{row[ln.file] + 1}")
    print(f"written: {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
