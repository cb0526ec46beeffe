"""Rebuild the shipped risk model (``gateway/models/risk-en.bin``) from named public data, with a fixed seed.

    python -m gateway.train_model --reddit DIR [--out PATH] [--sample N]

``DIR`` holds ``RedditSuicideData.csv`` and ``NoSuicideData.csv`` from the MIT-licensed repository
Binary-Ninja-007/Social_Good (commit bedf2c5, folder ``Dataset/``): Reddit posts from r/SuicideWatch,
r/depression and r/Anxiety, and from unrelated subreddits. ``DATA.md`` is the data card: each source,
its licence, how its labels map to the model's, and what is never used for training (every public set
of tweets labelled for suicidal intention is evaluation only). Needs the ``train`` extra (numpy,
scikit-learn); the gateway itself does not.

What it does: one short, chat-length example per post (the title and the first sentences, at most 300
characters), labelled 1 for r/SuicideWatch and r/depression and 0 for the rest; a stratified 80/20
split (seeded); logistic regression on ``riskmodel.features``; thresholds calibrated on the 20% dev
split only (concern: best F1; high: precision at least 0.95); it prints the dev metrics and writes the
model with its provenance.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from array import array
from pathlib import Path

from .normalise import normalise
from .riskmodel import SHIPPED_MODEL, RiskModel, features

SEED = 20261127
BITS = 18
POSITIVE_SUBREDDITS = {"SuicideWatch", "depression"}
SOURCE = {"name": "Binary-Ninja-007/Social_Good", "commit": "bedf2c5", "licence": "MIT",
          "files": ["Dataset/RedditSuicideData.csv", "Dataset/NoSuicideData.csv"]}


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


def calibrate(scores: list[float], labels: list[int]) -> dict[str, float]:
    """Thresholds from the dev split: concern maximises F1; high is the lowest score with precision
    at least 0.95 (a higher tier must be surer)."""
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
    return {"concern": round(concern, 4), "high": round(high if high is not None else 0.99, 4)}


def metrics(scores: list[float], labels: list[int], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, y in zip(scores, labels) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels) if s < threshold and y)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def train(examples: list[tuple[str, int]], *, seed: int = SEED, bits: int = BITS) -> tuple[RiskModel, dict]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    train_set, dev_set = split(examples, seed)
    x = matrix([t for t, _ in train_set], bits)
    y = np.array([label for _, label in train_set])
    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
    clf.fit(x, y)
    weights = array("f", clf.coef_[0].astype("float32").tolist())
    model = RiskModel(weights, float(clf.intercept_[0]), bits)
    dev_scores = [model.score(normalise(t)) for t, _ in dev_set]
    dev_labels = [label for _, label in dev_set]
    thresholds = calibrate(dev_scores, dev_labels)
    report = {"train": len(train_set), "dev": len(dev_set), "positives": sum(e[1] for e in examples),
              "thresholds": thresholds,
              "dev_at_concern": metrics(dev_scores, dev_labels, thresholds["concern"]),
              "dev_at_high": metrics(dev_scores, dev_labels, thresholds["high"])}
    model.meta = {"sources": [SOURCE], "seed": seed, "features": "crc32 word 1-2 grams, l2",
                  "label": "1 = r/SuicideWatch or r/depression; 0 = r/Anxiety and unrelated subreddits",
                  **report}
    return model, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway.train_model", description=__doc__.split("\n\n")[0])
    ap.add_argument("--reddit", required=True, type=Path, help="folder with the two Social_Good CSV files")
    ap.add_argument("--out", type=Path, default=SHIPPED_MODEL)
    ap.add_argument("--sample", type=int, default=0, help="train on this many examples only (a quick check)")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    examples = load_reddit(args.reddit)
    if args.sample:
        examples = random.Random(args.seed).sample(examples, min(args.sample, len(examples)))
    model, report = train(examples, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"{len(examples)} examples ({report['positives']} positive): train {report['train']}, dev {report['dev']}")
    print(f"thresholds (calibrated on dev): {report['thresholds']}")
    print(f"dev at concern: {report['dev_at_concern']}")
    print(f"dev at high:    {report['dev_at_high']}")
    print(f"written: {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
