"""Rebuild the shipped risk model (``gateway/detection/models/risk-en.bin``) from named public data, with a fixed seed.

    python -m gateway.detection.train_model --reddit DIR --rmhd CSV --stories DIR --goemotions DIR
                                  [--chat CSV ...] [--out PATH] [--sample N] [--bits B]

What it learns: the writer's OWN suicide or self-harm risk, told apart from distress. Positives are the
sentences of r/SuicideWatch posts that state risk, and our own first-person risk lines. Negatives are the
sentences of long first-person posts without risk (r/depression, r/Anxiety, r/lonely, divorce, legal and
money troubles, teaching, everyday stories), short everyday comments, and our own lines without risk
(idioms, third persons, recovery, lyrics, supportive replies). ``DATA.md`` is the data card: each source,
its commit, licence and role.

Sources (all kept outside the repository; no text of them ships):

- ``--reddit DIR``: ``RedditSuicideData.csv`` and ``NoSuicideData.csv`` of Binary-Ninja-007/Social_Good
  (MIT, commit bedf2c5, folder ``Dataset/``): r/SuicideWatch (1), r/depression, r/Anxiety and unrelated
  subreddits (0).
- ``--rmhd CSV``: ``rmhd_27subreddits_260posts_test.csv`` of the Reddit Mental Health Dataset (Low et al.
  2020, CC-BY-4.0) as shipped in the ``construct-tracker`` 1.0.16 wheel (Apache-2.0): 260 posts from each
  of 27 subreddits; r/suicidewatch (1), the other 26 (0).
- ``--stories DIR``: ``data/`` of ishandandekar/Reddit-Post-Comment-Dataset (MIT, commit bb1df6b): top
  posts of r/tifu, r/confessions, r/LetsNotMeet and others, everyday first-person stories (0).
- ``--goemotions DIR``: GoEmotions ``{train,dev,test}.tsv`` (Apache-2.0), short everyday comments (0).
- ``--chat CSV`` (repeatable): our own lines, ``text,label`` with label 0/1 or a tier name
  (``gateway/detection/models/chat-train.csv``), weighted ``CHAT_WEIGHT``: chat is shorter than forum posts.

Every source is split by a hash of its text (stable whatever the file order): 70% train, 15% dev
(thresholds), 15% test (evaluation only, never tuned on: ``part()`` names it, ``DATA.md`` gives its
figures). GoEmotions keeps its own train/dev/test; our lines train on their train part only.

How: a post is cut into windows, each sentence with its neighbours (``detection.model.windows``, the
same function that scores at run time). A negative post gives all its windows as negatives, except
windows of support-group posts that name suicide or self-harm (``NAMES_RISK``: a depression post that
says "I want to die" is not a clean negative; it is left out). An r/SuicideWatch post is a bag of
windows of which only some state risk: multiple-instance rounds keep, per post, the window the current
model finds riskiest (and drop the posts whose best window is weakest, ``DROP_WEAKEST``: they are sad
but state no risk).

Thresholds, from dev data only: concern is the best-F1 score for r/SuicideWatch against every other
post on dev, raised until at most ``POST_ALARMS`` of dev posts without named risk (long first-person
posts) and at most ``CHAT_ALARMS`` of GoEmotions dev comments reach it. High likewise with stricter
shares. Needs the ``train`` extra (numpy, scikit-learn); the gateway itself does not.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import os
import platform
import random
import re
import sys
from array import array
from pathlib import Path

from .model import SHIPPED_MODEL, RiskModel, features, windows

# OpenBLAS picks its kernels by the CPU it finds, and L-BFGS stops at its tolerance a few 1e-3 away in the weights
# with AVX-512 kernels (SkylakeX) than with AVX2 ones (Haswell), so "the shipped file is what the script builds"
# would hold on one machine and not the next. The shipped files were built with Haswell's kernels: every x86-64 CPU
# with AVX2 runs them. Read by OpenBLAS when numpy loads, so it is set before anything here imports numpy.
BLAS_KERNEL = "Haswell"
_X86 = platform.machine() in ("x86_64", "AMD64")
if _X86 and "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_CORETYPE", BLAS_KERNEL)

SEED = 20261202
BITS = 20
C = 2.0
ROUNDS = 2  # multiple-instance rounds after the first fit
DROP_WEAKEST = 0.2  # share of r/SuicideWatch posts whose best window is weakest, left out of later rounds
CHAT_WEIGHT = 16.0
POST_ALARMS, POST_HIGH_ALARMS = 0.02, 0.005  # share of dev posts without named risk allowed at concern, high
CHAT_ALARMS, HIGH_ALARMS = 0.0005, 0.0002  # share of everyday comments (GoEmotions dev) at concern, high
TRAIN, DEV = 0.70, 0.85  # hash cut points: [0, .70) train, [.70, .85) dev, [.85, 1) test

REDDIT = {"name": "Binary-Ninja-007/Social_Good", "commit": "bedf2c5", "licence": "MIT",
          "files": ["Dataset/RedditSuicideData.csv", "Dataset/NoSuicideData.csv"]}
RMHD = {"name": "Reddit Mental Health Dataset (Low et al. 2020) in construct-tracker 1.0.16", "licence":
        "CC-BY-4.0 (data), Apache-2.0 (package)",
        "files": ["construct_tracker/data/datasets/reddit_27_subreddits/rmhd_27subreddits_260posts_test.csv"]}
STORIES = {"name": "ishandandekar/Reddit-Post-Comment-Dataset", "commit": "bb1df6b", "licence": "MIT",
           "files": ["data/*/post_*.txt"]}
GOEMOTIONS = {"name": "GoEmotions (google-research; copy in monologg/GoEmotions-pytorch)", "commit": "b75f9d3",
              "licence": "Apache-2.0", "files": ["data/original/train.tsv", "data/original/dev.tsv"]}
CHAT = Path(__file__).resolve().parent / "models" / "chat-train.csv"
POSITIVE = {"suicidewatch"}
# Support-group subreddits whose posts may state the writer's own risk though their label is 0: a window of
# theirs that names suicide or self-harm is left out. Elsewhere (films, money, divorce, everyday stories)
# such a window is about someone or something else, and a useful negative ("the suicide squad was fun").
SUPPORT_GROUPS = {"depression", "anxiety", "lonely", "foreveralone", "ptsd", "bpd", "bipolarreddit", "edanonymous",
                  "addiction", "alcoholism", "adhd", "autism", "healthanxiety", "mentalhealth", "schizophrenia",
                  "socialanxiety", "offmychest", "confessions"}
STORY_SUBREDDITS = ("tifu", "confessions", "LetsNotMeet", "IDontWorkHereLady", "talesfromtechsupport", "IAmA",
                    "AskReddit", "gonewildstories")
# Text that names suicide or self-harm: never a negative (its source label says nothing about the writer's
# risk), and the genre-matched posts that the thresholds keep quiet are those without it.
NAMES_RISK = re.compile(r"suicid|kill(?:ing)? (?:my ?self|me)|\bkms\b|end (?:my life|it all|things)|want(?:ed)? to die"
                        r"|self.?harm|cut(?:ting)? (?:my|myself)|overdos|hang(?:ing)? (?:my ?self)|not (?:be )?alive"
                        r"|off (?:my|him|her)self|take my (?:own )?life|better off dead|wish i (?:was|were) dead"
                        r"|\bod\b|end it\b|jump(?:ing)? off", re.I)

Example = tuple[str, int, str]  # text, label, source (a subreddit or a file name)


def part(text: str, seed: int = SEED) -> str:
    """``train``, ``dev`` or ``test``, from a hash of the text: the same text always lands in the same part."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{text}".encode()).digest()[:8], "big") / 2 ** 64
    return "train" if h < TRAIN else "dev" if h < DEV else "test"


def post(title: str, body: str) -> str:
    title, body = (title or "").strip(), (body or "").strip()
    if title and title[-1] not in ".!?":
        title += "."
    return f"{title} {body}".strip()


def load_reddit(directory: Path) -> list[Example]:
    out = []
    for name in ("RedditSuicideData.csv", "NoSuicideData.csv"):
        with open(directory / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                text, sub = post(row.get("title", ""), row.get("text", "")), row.get("subreddit", "")
                if text:
                    out.append((text, int(sub.lower() in POSITIVE), sub.lower()))
    return out


def load_rmhd(path: Path) -> list[Example]:
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8") as fh:
        return [(row["post"].strip(), int(row["subreddit"].lower() in POSITIVE), row["subreddit"].lower())
                for row in csv.DictReader(fh) if row["post"].strip()]


def load_stories(directory: Path) -> list[Example]:
    """The posts (title and body, not the comments) of the story subreddits."""
    out = []
    for sub in STORY_SUBREDDITS:
        for f in sorted((directory / sub).glob("post_*.txt"), key=lambda p: int(p.stem.split("_")[1])):
            lines = f.read_text(encoding="utf-8", errors="replace").split("\n")
            title = next((ln[3:] for ln in lines if ln.startswith("## ")), "")
            body = next((ln[5:] for ln in lines if ln.startswith("#### ")), "")
            try:
                body = ast.literal_eval(body).decode("utf-8", "replace") if body.startswith("b") else body
            except (ValueError, SyntaxError):
                body = ""
            text = post(title, body.replace("\\n", "\n"))
            if len(text) > 40:
                out.append((text, 0, sub.lower()))
    return out


def load_goemotions(directory: Path, name: str, keep_risk_named: bool = False) -> list[Example]:
    """One split of GoEmotions (``text<TAB>labels<TAB>id``) as negatives. Comments naming risk are kept
    for training only (``keep_risk_named``): mostly hyperbole and other people ("he's going to kill me"),
    the only negatives of that kind at this length; they are left out where the thresholds are set."""
    out = []
    with open(directory / f"{name}.tsv", encoding="utf-8") as fh:
        for line in fh:
            text = line.split("\t", 1)[0].strip()
            if text and (keep_risk_named or not NAMES_RISK.search(text)):
                out.append((text, 0, "goemotions"))
    return out


def load_chat(path: Path) -> list[Example]:
    """Our lines: label 0/1, or a tier name (``none`` is 0, any tier 1)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [(row["text"], int(row["label"] not in ("0", "none")), "chat") for row in csv.DictReader(fh)]


def matrix(rows: list[str], bits: int):
    from scipy.sparse import csr_matrix

    indptr, cols, vals = [0], [], []
    for norm in rows:
        f = features(norm, bits)
        cols.extend(f.keys())
        vals.extend(f.values())
        indptr.append(len(cols))
    return csr_matrix((vals, cols, indptr), shape=(len(rows), 1 << bits))


def fit(rows: list[tuple[str, int, float]], seed: int, bits: int, c: float | None = None) -> RiskModel:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = matrix([t for t, _, _ in rows], bits)
    y = np.array([label for _, label, _ in rows])
    w = np.array([weight for _, _, weight in rows])
    w_pos, w_neg = w[y == 1].sum(), w[y == 0].sum()
    w = np.where(y == 1, w * (w_pos + w_neg) / (2 * w_pos), w * (w_pos + w_neg) / (2 * w_neg))  # balanced
    from threadpoolctl import threadpool_info, threadpool_limits  # installed with scikit-learn

    kernels = {i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"}
    if _X86 and kernels - {BLAS_KERNEL}:
        print(f"warning: OpenBLAS runs {sorted(kernels)} kernels, not {BLAS_KERNEL}: weights may differ from the "
              f"shipped files by ~1e-3 (set OPENBLAS_CORETYPE={BLAS_KERNEL} before numpy loads)", file=sys.stderr)
    clf = LogisticRegression(C=C if c is None else c, max_iter=5000, tol=1e-6, random_state=seed)
    with threadpool_limits(1):  # BLAS sums in one order: the same weights whatever the machine's core count
        clf.fit(x, y, sample_weight=w)
    return RiskModel(array("f", clf.coef_[0].astype("float32").tolist()), float(clf.intercept_[0]), bits)


def train(posts: list[Example], everyday: list[Example], chat: list[Example], *, seed: int = SEED,
          bits: int = BITS, log=print) -> RiskModel:
    """The multiple-instance fit on the train part of ``posts`` (long), ``everyday`` and ``chat`` (short)."""
    negatives: list[tuple[str, int, float]] = []
    bags: list[list[str]] = []
    for text, label, source in posts:
        if label:
            bag = windows(text)
            if bag:
                bags.append(bag)
        else:
            negatives += [(w, 0, 1.0) for w in windows(text)
                          if source not in SUPPORT_GROUPS or not NAMES_RISK.search(w)]
    negatives += [(w, 0, 1.0) for t, _, _ in everyday for w in windows(t)]
    short = [(" ".join(windows(t)), label, CHAT_WEIGHT) for t, label, _ in chat if windows(t)]
    # first fit: every window of a positive post is positive, a post weighing as much as one window
    positives = [(w, 1, 1.0 / len(bag)) for bag in bags for w in bag]
    model = fit(positives + negatives + short, seed, bits)
    for r in range(ROUNDS):
        best = [max(bag, key=model.score) for bag in bags]
        strength = sorted(model.score(w) for w in best) or [0.0]
        floor = strength[int(len(strength) * DROP_WEAKEST)]
        positives = [(w, 1, 1.0) for w in best if model.score(w) >= floor]
        log(f"round {r + 1}: {len(positives)} of {len(bags)} r/SuicideWatch posts give their riskiest window")
        model = fit(positives + negatives + short, seed, bits)
    return model


def calibrate(model: RiskModel, dev_posts: list[Example], dev_everyday: list[Example]) -> tuple[dict, dict]:
    """Concern: the best-F1 score for r/SuicideWatch posts against every other dev post, raised until at
    most ``POST_ALARMS`` of the dev posts that name no risk and ``CHAT_ALARMS`` of everyday comments reach
    it. High: precision at least 0.95, then the stricter shares."""
    scores = [model.score_text(t) for t, _, _ in dev_posts]
    labels = [label for _, label, _ in dev_posts]
    quiet = sorted((s for s, (t, label, _) in zip(scores, dev_posts) if not label and not NAMES_RISK.search(t)),
                   reverse=True)
    chat = sorted((model.score_text(t) for t, _, _ in dev_everyday), reverse=True)
    pairs = sorted(zip(scores, labels), reverse=True)
    positives = sum(labels)
    tp = fp = 0
    best_f1, concern, high = -1.0, 0.5, 0.99
    for s, y in pairs:
        tp += y
        fp += 1 - y
        precision, recall = tp / (tp + fp), tp / max(1, positives)
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        if f1 > best_f1:
            best_f1, concern = f1, s
        if precision >= 0.95 and tp >= 20:
            high = s

    def above(ordered: list[float], share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] + 1e-4 if ordered else 0.0

    concern = max(concern, above(quiet, POST_ALARMS), above(chat, CHAT_ALARMS))
    high = max(high, concern, above(quiet, POST_HIGH_ALARMS), above(chat, HIGH_ALARMS))
    thresholds = {"concern": round(concern, 4), "high": round(high, 4)}
    report = {"dev_at_concern": metrics(scores, labels, thresholds["concern"]),
              "dev_at_high": metrics(scores, labels, thresholds["high"]),
              "dev_quiet_posts_alarms": {k: round(sum(s >= v for s in quiet) / max(1, len(quiet)), 4)
                                         for k, v in thresholds.items()},
              "chat_dev_alarms": {k: round(sum(s >= v for s in chat) / max(1, len(chat)), 4)
                                  for k, v in thresholds.items()}}
    return thresholds, report


def metrics(scores: list[float], labels: list[int], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, y in zip(scores, labels) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels) if s < threshold and y)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway.detection.train_model", description=__doc__.split("\n\n")[0])
    ap.add_argument("--reddit", required=True, type=Path, help="folder with the two Social_Good CSV files")
    ap.add_argument("--rmhd", type=Path, help="the Reddit Mental Health Dataset CSV of construct-tracker")
    ap.add_argument("--stories", type=Path, help="the data/ folder of Reddit-Post-Comment-Dataset")
    ap.add_argument("--goemotions", type=Path, help="folder with GoEmotions' train.tsv and dev.tsv")
    ap.add_argument("--chat", type=Path, action="append", help="our lines (text,label CSV); repeatable")
    ap.add_argument("--out", type=Path, default=SHIPPED_MODEL)
    ap.add_argument("--sample", type=int, default=0, help="train on this many examples of each source only")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--bits", type=int, default=BITS, help="hash buckets: 2 to this power")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    def sample(rows: list) -> list:
        return rng.sample(rows, min(args.sample, len(rows))) if args.sample else rows

    sources = [REDDIT]
    posts = sample(load_reddit(args.reddit))
    if args.rmhd:
        posts += sample(load_rmhd(args.rmhd))
        sources.append(RMHD)
    if args.stories:
        posts += sample(load_stories(args.stories))
        sources.append(STORIES)
    everyday = dev_everyday = []
    if args.goemotions:
        everyday = sample(load_goemotions(args.goemotions, "train", keep_risk_named=True))
        dev_everyday = sample(load_goemotions(args.goemotions, "dev"))
        sources.append(GOEMOTIONS)
    chat = []
    for path in args.chat or [CHAT]:
        chat += load_chat(path)
        sources.append({"name": "this project's own lines", "licence": "this repository's", "files": [path.name]})
    by_part = {p: [e for e in posts if part(e[0], args.seed) == p] for p in ("train", "dev", "test")}
    chat_train = [e for e in chat if part(e[0], args.seed) == "train"]
    model = train(by_part["train"], everyday, chat_train, seed=args.seed, bits=args.bits)
    thresholds, report = calibrate(model, by_part["dev"], dev_everyday)
    model.meta = {"sources": sources, "seed": args.seed, "features": "crc32 word 1-2 grams, l2, per sentence window",
                  "label": "1 = the writer's own suicide or self-harm risk (r/SuicideWatch windows, our risk "
                           "lines); 0 = posts and comments without it (depression, anxiety, life troubles, "
                           "everyday), our lines without it",
                  "thresholds": thresholds, "train": len(by_part["train"]), "dev": len(by_part["dev"]),
                  "test": len(by_part["test"]), "everyday": len(everyday), "chat": len(chat_train),
                  "chat_dev": len(dev_everyday), **report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"posts: train {len(by_part['train'])}, dev {len(by_part['dev'])}, test {len(by_part['test'])} "
          f"(evaluation only); {len(everyday)} everyday comments; {len(chat_train)} of our lines "
          f"(weight {CHAT_WEIGHT:g}); {len(dev_everyday)} everyday comments for calibration")
    print(f"thresholds (calibrated on dev): {thresholds}")
    for k, v in report.items():
        print(f"{k}: {v}")
    print(f"written: {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
