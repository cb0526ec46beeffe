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
Read and not added (session 18): ``parts-heldout13.csv``, ``parts-own-r15.csv``, ``parts-own-r15b.csv``; with them
the chat model moved no line of held-out set 14 (the rule for adding: it must raise more of the unseen set's risk).

What it learns from (German, French, Spanish): only the lines this project wrote (``tests/data/lang/``; columns
text,label,kind,scenario): ``LANG-tune.csv``, the held-out sets 1 to ``READ_SETS[LANG]`` (every one a round has
read: German and Spanish 1 to 13 since session 18, French 1 to 3), every ``LANG-own*.csv`` and German's
``de-probe-r*.csv`` (the German rounds' own lines); never an unread held-out set. 1 = any tier, 0 = none,
including the hard negatives (idioms, jokes, negation, past, third party, abuse, lyrics, medical, distress).
The same features and sentence windows as English (``gateway/detection/model.py``), fewer hash buckets.
French stays on sets 1 to 3: rebuilt on 1 to 13 (session 18) it raised near misses of the rounds' tests ("le moteur
tourne dans le garage, je le laisse chauffer"), more none lines of held-out set 14 and more of the benchmark's
everyday chat, so the shipped file is still the one this script builds from the shorter list.

The concern threshold comes from cross-validation by file (each file is scored by a model trained on the
others): the lowest score at which at most ``MAX_ALARMS`` of the none lines, and none of the plain distress
lines, reach it (``MARGIN`` above the highest). Risk is not distress: a line of pain without risk must never be
flagged by the model. Tried in session 18 and not shipped: letting at most 1% of the plain distress lines reach it
(``--max-distress 0.01``: the highest two of about 240 may reach it; with ``--c 10`` and ``--c 30``): cross-validated
recall rose by 5 to 15 points and held-out set 14's any-tier hits by 0 to 9 lines, but the benchmark's everyday
mixed chat was raised more often (lines the model alone raised: German 0.08-0.12% -> 0.17-0.21%, French 0.09-0.11%
-> 0.25-0.29%, Spanish 0-1 -> 1-4 of 98,000), so it was not shipped (DATA.md).
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
# Share of plain distress lines (cross-validated) that may reach it: 0, none. 0.01 (at most 1 in 100, ``--max-distress``)
# was tried in session 18 with every read set: more cross-validated recall, but more everyday chat raised (DATA.md)
MAX_DISTRESS = 0.0
C = 10.0  # weaker regularisation than English (2.0): a few thousand short lines, near pairs to tell apart
MARGIN = 0.01  # above the highest cross-validated distress score: distress must stay quiet on new lines too
DISTRESS_WEIGHT = 10.0  # a plain distress line weighs as ten: the false alarm that matters most
DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "lang"
# The held-out sets each model learns from: 1 to READ_SETS[language], every one a round has read (never the next
# unseen set: 14 is the evidence, 15 the final check). German and Spanish since session 18: 1 to 13. French stays at
# 1 to 3: trained on sets 4 to 13 it raised more none lines of held-out set 14 and of the rounds' near misses (DATA.md).
# Session 20 tried all three on sets 1 to 15 and every own file, decided beforehand on: cross-validated recall up, the
# unit suite green. German's recall fell (0.444 -> 0.405: a distress line set a higher threshold); French rose (0.383 ->
# 0.534) but raised near misses of rounds 8, 9 and 17 again; Spanish rose (0.454 -> 0.487) but lost a line of the
# unread set 16's floor. None shipped.
READ_SETS = {"de": 13, "fr": 3, "es": 13}
EXTRA_FILES = ("own*.csv", "probe-r*.csv")  # then these, written by the rules' authors (German rounds write probes)
# Own files a round wrote for its rules' tests that no shipped model has learned from: a model is rebuilt only when
# the lead decides, measured on its own (rounds 17, session 20: the French and Spanish rebuilds with their own lines
# lost lines of earlier rounds' tests and of read sets)
NOT_TRAINED = frozenset(("de-probe-r17.csv", "de-probe-r18.csv", "fr-own-r17.csv", "fr-own-r18.csv", "es-own-r17.csv",
                         "es-own-r18.csv", "es-own-r19.csv", "es-everyday-parts-tune.csv", "de-probe-r19.csv",
                         "de-probe-r19b.csv", "de-probe-r19c.csv", "de-everyday-parts-tune.csv", "fr-own-r19.csv",
                         "fr-own-r19b.csv", "fr-everyday-parts-tune.csv",
                         "fr-own-r20.csv", "es-own-r20.csv", "de-probe-r20.csv", "de-probe-r20b.csv",
                         "es-own-r21.csv", "fr-own-r21.csv", "de-probe-r21.csv", "es-own-r22.csv",
                         "de-probe-r22.csv", "fr-own-r22.csv"))
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
    sets = ["tune", "heldout"] + [f"heldout{i}" for i in range(2, READ_SETS.get(language, 3) + 1)]
    named = [data / f"{language}-{name}.csv" for name in sets]
    extra = [p for pattern in EXTRA_FILES for p in sorted(data.glob(f"{language}-{pattern}")) if p.name not in NOT_TRAINED]
    return [p for p in named if p.exists()] + extra


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
