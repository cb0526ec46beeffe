"""Rebuild a German, French or Spanish risk model (``gateway/detection/models/risk-LANG.bin``), or the English
chat-lines model (``risk-en-chat.bin``), from our own chat lines, with a fixed seed.

    python -m gateway.detection.train_model_lang --language de [--data DIR] [--out PATH] [--misses]
    python -m gateway.detection.train_model_lang --language en      # risk-en-chat.bin, from the named files of tests/data

Why a model beside the rules: three rounds of rules were right on every line they were tuned on, yet missed
a quarter of fresh lines worded unlike any rule. The model reads words and word pairs, so it can lift such a
line to concern (a gentle check-in); it never makes a line high or imminent and never removes anyone.

English: ``risk-en.bin`` (``train_model.py``) learned from public Reddit posts, long and first-person; fourteen
rounds of English rules reached the wordings they were tuned on and about half of unseen imminent chat lines got
no tier. ``risk-en-chat.bin`` is this script's model on the English lines of ``tests/data`` (``EN_TRAINING_FILES``,
named one by one: every set there that a round has already read). The English policy uses it beside
``risk-en.bin``, for concern only and only on messages of chat length (``model.chat`` in ``policies/default.yaml``).
A new English set is added to ``EN_TRAINING_FILES`` only after a round has read and measured it as unseen
(counts only): the set a round has not read yet is the evidence, and a model trained on it would hide its misses.

What it learns from (German, French, Spanish): only the lines this project wrote (``tests/data/lang/LANG-tune.csv``, ``-heldout.csv``,
``-heldout2.csv``, ``-heldout3.csv``, ``-own*.csv``; columns text,label,kind,scenario): 1 = any tier, 0 = none,
including the hard negatives (idioms, jokes, negation, past, third party, abuse, lyrics, medical, distress).
The same features and sentence windows as English (``gateway/detection/model.py``), fewer hash buckets.

The concern threshold comes from cross-validation by file (each file is scored by a model trained on the
others): the lowest score at which at most ``MAX_ALARMS`` of the none lines, and none of the plain distress
lines, reach it. Risk is not distress: a line of pain without risk must never be flagged by the model.
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
from pathlib import Path

from .model import _FIRST_PERSON, _THIRD_PERSON, MODELS, RiskModel, windows
from .evaluate import wilson
from .train_model import fit

SEED = 20261202
BITS = 16  # 65,536 buckets: a file of about 100 KB; the English model's 2**20 is for a hundred times more text
MAX_ALARMS = 0.03  # share of none lines (cross-validated) the model may raise to concern
MAX_DISTRESS = 0.0  # share of plain distress lines (cross-validated) that may reach it (``--max-distress``): none
C = 10.0  # weaker regularisation than English (2.0): a few thousand short lines, near pairs to tell apart
MARGIN = 0.01  # above the highest cross-validated distress score: distress must stay quiet on new lines too
DISTRESS_WEIGHT = 10.0  # a plain distress line weighs as ten: the false alarm that matters most
DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "lang"
TRAINING_FILES = ("tune", "heldout", "heldout2", "heldout3")  # and every own*.csv; never a later held-out set
# English: every labelled set of tests/data that a round has read (never the next unseen held-out set; see above)
EN_DATA = DATA.parent
EN_TRAINING_FILES = (
    "dev.csv", "heldout.csv", "test.csv", "test2.csv", "test3.csv", "test4.csv",
    "speaker.csv", "speaker-check.csv", "speaker-check2.csv",
    "parts-tune.csv", "parts-heldout.csv", "parts-heldout2.csv", "parts-heldout3.csv", "parts-heldout4.csv",
    "parts-heldout5.csv", "parts-heldout6.csv", "parts-heldout7.csv", "parts-heldout8.csv", "parts-heldout9.csv",
    "parts-heldout10.csv", "parts-heldout11.csv", "parts-heldout12.csv",
    "parts-own-r4.csv", "parts-own-r5.csv", "parts-own-r5b.csv", "parts-own-r5c.csv", "parts-own-r5d.csv",
    "parts-own-r8.csv", "parts-own-r10.csv", "parts-own-r10b.csv", "parts-own-r10c.csv", "parts-own-r10d.csv",
    "parts-own-r11.csv", "parts-own-r11b.csv", "parts-own-r11c.csv", "parts-own-r12.csv", "parts-own-r12b.csv",
    "parts-own-r13.csv", "parts-own-r14.csv", "parts-own-r14b.csv",
    "sh-ed-own.csv", "sh-ed-own-b.csv",
    "en-chat-everyday.csv",  # everyday chat written for this model (apologies, evenings, goodbyes, tiredness...): none
)

# Whose risk a window may show (``RiskModel.writers``): a window naming only a third person is not scored.
# Folded forms (``normalise``: elisions joined, accents stripped). Only pronouns that cannot be something else:
# German "sie" (she, they, formal you), French "il" (impersonal) and "ils" (a room full of them: "quand ils dorment"), Spanish "el" (the) are left out.
PRONOUNS = {
    "de": ("ich ichs mich mir mein meine meinem meinen meiner meines bin hab habe", "er ihn ihm seine seinem seinen"),
    "fr": ("je jai jen jy jme jte jsuis jveux jpeux jvais jsais jcrois moi me mon ma mes chui", "elle elles"),
    "es": ("yo me mi mis conmigo estoy quiero tengo", "ella ellas ellos"),
    "en": (" ".join(sorted(_FIRST_PERSON)), " ".join(sorted(_THIRD_PERSON))),  # risk-en.bin's, as model.py has them
}


def default_data(language: str) -> Path:
    return EN_DATA if language == "en" else DATA


def default_out(language: str) -> Path:
    return MODELS / ("risk-en-chat.bin" if language == "en" else f"risk-{language}.bin")


def training_files(language: str, data: Path | None = None) -> list[Path]:
    """The named files of a language, in a fixed order (English: ``EN_TRAINING_FILES``, each of which must exist)."""
    data = default_data(language) if data is None else data
    if language == "en":
        missing = [name for name in EN_TRAINING_FILES if not (data / name).exists()]
        if missing:
            raise FileNotFoundError(f"{data}: missing {', '.join(missing)}")
        return [data / name for name in EN_TRAINING_FILES]
    named = [data / f"{language}-{name}.csv" for name in TRAINING_FILES]
    own = sorted(data.glob(f"{language}-own*.csv"))
    return [p for p in named if p.exists()] + own


Line = tuple[str, int, str, str]  # text, label (1 = any tier), kind, file


def load(paths: list[Path]) -> list[Line]:
    out = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            out += [(r["text"], int(r["label"] != "none"), r["kind"], path.name) for r in csv.DictReader(fh)]
    return out


def train(lines: list[Line], language: str, seed: int = SEED, bits: int = BITS, c: float = C) -> RiskModel:
    rows = [(" ".join(ws), label, DISTRESS_WEIGHT if kind == "distress" else 1.0)
            for text, label, kind, _ in lines if (ws := windows(text))]
    model = fit(rows, seed, bits, c)
    first, third = PRONOUNS[language]
    model.meta = {"first_person": sorted(first.split()), "third_person": sorted(third.split())}
    model.__post_init__()
    return model


def cross_validate(lines: list[Line], language: str, seed: int = SEED, bits: int = BITS, c: float = C) -> list[float]:
    """Each line's score from the model trained on every other file (split by file, never by line)."""
    scores = [0.0] * len(lines)
    for held in sorted({f for *_, f in lines}):
        model = train([ln for ln in lines if ln[3] != held], language, seed, bits, c)
        for i, (text, *_, f) in enumerate(lines):
            if f == held:
                scores[i] = model.score_text(text)
    return scores


def threshold(lines: list[Line], scores: list[float], max_distress: float = MAX_DISTRESS) -> float:
    """The lowest score with at most ``MAX_ALARMS`` of the none lines at or above it, and ``MARGIN`` above
    every plain distress line but the highest ``max_distress`` share of them (0: above every one)."""
    none = sorted((s for s, (_, label, _, _) in zip(scores, lines) if not label), reverse=True)
    distress = sorted((s for s, (_, label, kind, _) in zip(scores, lines) if kind == "distress"), reverse=True)
    allowed = int(len(none) * MAX_ALARMS)  # this many none lines may be at or above it
    by_none = none[allowed] + 1e-4 if allowed < len(none) else 0.0
    spared = int(len(distress) * max_distress)  # this many distress lines may be at or above it
    by_distress = (distress[spared] if spared < len(distress) else 0.0) + MARGIN
    return round(min(0.99, max(by_none, by_distress)), 4)


def figures(lines: list[Line], scores: list[float], cut: float) -> dict:
    """Recall on risk lines, false alarms on none lines and on distress lines, each with its 95% Wilson interval."""
    def share(keep) -> dict:
        hits = [s >= cut for s, ln in zip(scores, lines) if keep(ln)]
        return {"k": sum(hits), "n": len(hits), "rate": round(sum(hits) / max(1, len(hits)), 3),
                "wilson95": [round(x, 3) for x in wilson(sum(hits), len(hits))]}
    return {"recall": share(lambda ln: ln[1] == 1), "none_alarms": share(lambda ln: ln[1] == 0),
            "distress_alarms": share(lambda ln: ln[2] == "distress")}


def build(language: str, data: Path | None = None, seed: int = SEED, bits: int = BITS, c: float = C,
          max_distress: float = MAX_DISTRESS) -> tuple[RiskModel, list, list]:
    """The model on every named file, its threshold and cross-validated figures in its header; also the lines
    and their cross-validated scores (for the misses)."""
    paths = training_files(language, data)
    lines = load(paths)
    scores = cross_validate(lines, language, seed, bits, c)
    cut = threshold(lines, scores, max_distress)
    model = train(lines, language, seed, bits, c)
    model.meta.update({
        "language": language, "seed": seed, "features": "crc32 word 1-2 grams, l2, per sentence window",
        "label": "1 = any tier (concern, high, imminent) of our lines; 0 = none, hard negatives included",
        "sources": [{"name": "this project's own lines (written by helpers for this project)",
                     "licence": "this repository's", "files": [p.name for p in paths]}],
        "thresholds": {"concern": cut}, "lines": len(lines),
        "cross_validated": {"split": "by file", **figures(lines, scores, cut)}})
    return model, lines, scores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway.detection.train_model_lang", description=__doc__.split("\n\n")[0])
    ap.add_argument("--language", required=True, choices=sorted(PRONOUNS))
    ap.add_argument("--data", type=Path, help="folder of the LANG-*.csv files (English: of EN_TRAINING_FILES)")
    ap.add_argument("--out", type=Path, help="default: gateway/detection/models/risk-LANG.bin (English: risk-en-chat.bin)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--bits", type=int, default=BITS)
    ap.add_argument("--c", type=float, default=C, help="inverse regularisation of the fit")
    ap.add_argument("--max-distress", type=float, default=MAX_DISTRESS,
                    help="share of cross-validated plain distress lines that may reach the threshold")
    ap.add_argument("--misses", action="store_true", help="print the cross-validated misses and false alarms")
    args = ap.parse_args(argv)
    model, lines, scores = build(args.language, args.data, args.seed, args.bits, args.c, args.max_distress)
    out = args.out or default_out(args.language)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    cut = model.meta["thresholds"]["concern"]
    print(f"{args.language}: {len(lines)} lines from {', '.join(model.meta['sources'][0]['files'])}")
    print(f"concern threshold (cross-validated by file): {cut}")
    for name, v in model.meta["cross_validated"].items():
        print(f"  {name}: {v}")
    if args.misses:  # by file and line number (the header is line 1), never by text
        misses, row = [], collections.Counter()
        for s, (_, label, kind, f) in zip(scores, lines):
            row[f] += 1
            if (label == 1) != (s >= cut):
                misses.append((s, "MISS" if label else "ALARM", kind, f"{f}:{row[f] + 1}"))
        for s, what, kind, where in sorted(misses):
            print(f"  {what} {s:.3f} {kind} {where}")
    print(f"written: {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
