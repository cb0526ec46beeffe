"""Rebuild the shipped risk model (``gateway/models/risk-en.bin``) from named public data, with a fixed seed.

    python -m gateway.train_model --reddit DIR [--goemotions DIR] [--chat CSV] [--out PATH] [--sample N]

Sources (``DATA.md`` is the data card: each source, its licence, how its labels map to the model's, and
what is never used for training: every public set of tweets labelled for suicidal intention is
evaluation only):

- ``--reddit DIR``: ``RedditSuicideData.csv`` and ``NoSuicideData.csv`` of Binary-Ninja-007/Social_Good
  (MIT, commit bedf2c5, folder ``Dataset/``), Reddit posts from r/SuicideWatch, r/depression, r/Anxiety
  and unrelated subreddits. One chat-length example per post (title and first sentences, at most 300
  characters): 1 for r/SuicideWatch and r/depression, 0 for the rest; stratified 80/20 train/dev split.
- ``--goemotions DIR``: ``train.tsv`` and ``dev.tsv`` of GoEmotions (Google Research, Apache-2.0), short
  Reddit comments of everyday conversation, emotional ones included. ``train.tsv`` gives negatives
  (comments naming suicide or self-harm are left out: their labels say nothing about risk); ``dev.tsv``
  is how often the model would alarm on ordinary chat, which sets the thresholds.
- ``--chat CSV``: this project's own chat-style lines (``gateway/models/chat-train.csv``: first-person
  risk, and idioms, negations, jokes, third persons, supportive replies, lyrics, news, gaming), weighted
  up because chat is shorter than forum posts. None of them is in ``tests/data`` (the regression sets).

Thresholds, from dev data only: concern is the best-F1 score on the Reddit dev split, raised until at
most 0.2% of GoEmotions dev comments reach it; high is the lowest score with dev precision at least
0.95 and at most 0.05% of GoEmotions dev. It prints the dev metrics and writes the model with its
provenance. Needs the ``train`` extra (numpy, scikit-learn); the gateway itself does not.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from array import array
from pathlib import Path

from .detection.folding import normalise
from .detection.model import SHIPPED_MODEL, RiskModel, features

SEED = 20261127
BITS = 18
POSITIVE_SUBREDDITS = {"SuicideWatch", "depression"}
REDDIT = {"name": "Binary-Ninja-007/Social_Good", "commit": "bedf2c5", "licence": "MIT",
          "files": ["Dataset/RedditSuicideData.csv", "Dataset/NoSuicideData.csv"]}
GOEMOTIONS = {"name": "GoEmotions (google-research; copy in monologg/GoEmotions-pytorch)", "commit": "b75f9d3",
              "licence": "Apache-2.0", "files": ["data/original/train.tsv", "data/original/dev.tsv"]}
CHAT = Path(__file__).resolve().parent / "models" / "chat-train.csv"
CHAT_WEIGHT = 5.0
CHAT_ALARMS, HIGH_ALARMS = 0.002, 0.0005  # the share of ordinary chat allowed to reach concern, high
# GoEmotions comments that name suicide or self-harm are not negatives: their emotion labels say nothing
# about the writer's risk. Leaving them out loses 0.1% of the comments.
NAMES_RISK = re.compile(r"suicid|kill (?:my ?self|me)|\bkms\b|end (?:my|it all)|want(?:ed)? to die|self.?harm"
                        r"|cut(?:ting)? my|overdos|hang (?:my ?self)|not (?:be )?alive|off (?:my|him|her)self", re.I)


def chat_length(title: str, text: str, limit: int = 300) -> str:
    """A post as a chat message: its title and first sentences, at most ``limit`` characters."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", (text or "").strip())
    out = (title or "").strip()
    for s in sentences:
        if len(out) + len(s) + 1 > limit:
            break
        out = f"{out} {s}".strip()
    return out[:limit]


def load_reddit(directory: Path) -> list[tuple[str, int]]:
    examples = []
    for name in ("RedditSuicideData.csv", "NoSuicideData.csv"):
        with open(directory / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                text = chat_length(row.get("title", ""), row.get("text", ""))
                if text:
                    examples.append((text, int(row.get("subreddit") in POSITIVE_SUBREDDITS)))
    return examples


def load_goemotions(directory: Path, name: str) -> list[tuple[str, int]]:
    """One split of GoEmotions (``text<TAB>labels<TAB>id``) as negatives, without comments naming risk."""
    out = []
    with open(directory / f"{name}.tsv", encoding="utf-8") as fh:
        for line in fh:
            text = line.split("\t", 1)[0].strip()
            if text and not NAMES_RISK.search(text):
                out.append((text, 0))
    return out


def load_chat(path: Path) -> list[tuple[str, int]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [(row["text"], int(row["label"])) for row in csv.DictReader(fh)]


def split(examples: list[tuple[str, int]], seed: int) -> tuple[list, list]:
    """Stratified 80/20: the same proportion of each label in train and dev."""
    rng = random.Random(seed)
    train, dev = [], []
    for label in (0, 1):
        group = [e for e in examples if e[1] == label]
        rng.shuffle(group)
        cut = int(len(group) * 0.8)
        train += group[:cut]
        dev += group[cut:]
    rng.shuffle(train)
    return train, dev


def matrix(texts: list[str], bits: int):
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        for j, v in features(normalise(t), bits).items():
            rows.append(i)
            cols.append(j)
            vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), 1 << bits))


def calibrate(scores: list[float], labels: list[int], chat: list[float] | None = None) -> dict[str, float]:
    """Thresholds from dev data. Concern maximises F1 on the dev split, then rises until at most
    ``CHAT_ALARMS`` of ordinary chat (``chat``: dev scores of everyday comments) reaches it; high is the
    lowest score with precision at least 0.95 and at most ``HIGH_ALARMS`` of ordinary chat."""
    pairs = sorted(zip(scores, labels), reverse=True)
    positives = sum(labels)
    tp = fp = 0
    best_f1, concern, high = -1.0, 0.5, None
    for s, y in pairs:
        tp += y
        fp += 1 - y
        precision, recall = tp / (tp + fp), tp / positives
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1:
            best_f1, concern = f1, s
        if precision >= 0.95 and tp >= 20:
            high = s
    high = high if high is not None else 0.99
    if chat:
        ordered = sorted(chat, reverse=True)
        concern = max(concern, ordered[int(len(ordered) * CHAT_ALARMS)] + 1e-4)
        high = max(high, ordered[int(len(ordered) * HIGH_ALARMS)] + 1e-4)
    return {"concern": round(concern, 4), "high": round(max(high, concern), 4)}


def metrics(scores: list[float], labels: list[int], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, y in zip(scores, labels) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels) if s < threshold and y)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def train(examples: list[tuple[str, int]], *, seed: int = SEED, bits: int = BITS,
          negatives: list[tuple[str, int]] = (), chat_dev: list[tuple[str, int]] = (),
          chat: list[tuple[str, int]] = (), sources: list[dict] = (REDDIT,)) -> tuple[RiskModel, dict]:
    """``examples`` are split 80/20 into train and dev; ``negatives`` and ``chat`` only train (chat
    weighted ``CHAT_WEIGHT``); ``chat_dev`` (ordinary chat) only sets how often the thresholds alarm."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    train_set, dev_set = split(examples, seed)
    rows = train_set + list(negatives) + list(chat)
    x = matrix([t for t, _ in rows], bits)
    y = np.array([label for _, label in rows])
    weight = np.array([1.0] * (len(train_set) + len(negatives)) + [CHAT_WEIGHT] * len(chat))
    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
    clf.fit(x, y, sample_weight=weight)
    weights = array("f", clf.coef_[0].astype("float32").tolist())
    model = RiskModel(weights, float(clf.intercept_[0]), bits)
    dev_scores = [model.score(normalise(t)) for t, _ in dev_set]
    dev_labels = [label for _, label in dev_set]
    chat_scores = [model.score(normalise(t)) for t, _ in chat_dev]
    thresholds = calibrate(dev_scores, dev_labels, chat_scores)
    report = {"train": len(train_set), "dev": len(dev_set), "positives": sum(e[1] for e in examples),
              "negatives_added": len(negatives), "chat": len(chat), "chat_dev": len(chat_dev),
              "thresholds": thresholds,
              "dev_at_concern": metrics(dev_scores, dev_labels, thresholds["concern"]),
              "dev_at_high": metrics(dev_scores, dev_labels, thresholds["high"])}
    if chat_scores:
        report["chat_dev_alarms"] = {k: round(sum(s >= v for s in chat_scores) / len(chat_scores), 4)
                                     for k, v in thresholds.items()}
    model.meta = {"sources": list(sources), "seed": seed, "features": "crc32 word 1-2 grams, l2",
                  "label": "1 = r/SuicideWatch or r/depression, or our chat lines of first-person risk; "
                           "0 = r/Anxiety, unrelated subreddits, everyday comments, our chat lines without risk",
                  **report}
    return model, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway.train_model", description=__doc__.split("\n\n")[0])
    ap.add_argument("--reddit", required=True, type=Path, help="folder with the two Social_Good CSV files")
    ap.add_argument("--goemotions", type=Path, help="folder with GoEmotions' train.tsv and dev.tsv")
    ap.add_argument("--chat", type=Path, default=CHAT, help="our chat-style lines (text,label CSV)")
    ap.add_argument("--out", type=Path, default=SHIPPED_MODEL)
    ap.add_argument("--sample", type=int, default=0, help="train on this many examples of each source only")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    def sample(rows: list) -> list:
        return rng.sample(rows, min(args.sample, len(rows))) if args.sample else rows

    examples = sample(load_reddit(args.reddit))
    negatives = chat_dev = []
    sources = [REDDIT]
    if args.goemotions:
        negatives = sample(load_goemotions(args.goemotions, "train"))
        chat_dev = sample(load_goemotions(args.goemotions, "dev"))
        sources.append(GOEMOTIONS)
    chat = load_chat(args.chat)
    sources.append({"name": "this project's chat-style lines", "licence": "this repository's",
                    "files": [args.chat.name]})
    model, report = train(examples, seed=args.seed, negatives=negatives, chat_dev=chat_dev, chat=chat,
                          sources=sources)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"{len(examples)} Reddit posts ({report['positives']} positive): train {report['train']}, "
          f"dev {report['dev']}; {len(negatives)} everyday comments; {len(chat)} chat lines "
          f"(weight {CHAT_WEIGHT:g}); {len(chat_dev)} everyday comments for calibration")
    print(f"thresholds (calibrated on dev): {report['thresholds']}")
    print(f"dev at concern: {report['dev_at_concern']}")
    print(f"dev at high:    {report['dev_at_high']}")
    if "chat_dev_alarms" in report:
        print(f"share of everyday comments (dev) reaching each tier: {report['chat_dev_alarms']}")
    print(f"written: {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
