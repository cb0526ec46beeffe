"""Public labelled sets in German, French and Spanish, measured with each language's shipped policy
(issue 27, item 6): ``.venv/bin/python bench/eval_public_lang.py [--SET PATH ...]``.

Why a script of its own beside ``gateway eval``: the public sets found are labelled only "at risk" or
"not", never by tier, so exact tier means nothing on them; what a user of the shipped policy needs is how
often a line labelled at risk gets any tier, how often a line labelled not at risk does, and how often
either is removed. Each is printed with its 95% Wilson interval, per language, with the shipped
``default-LANG`` policy as a room in that language runs it (its own rules and language identification's
additions). No text of any set is printed, and the sets are not in this repository (their licences
do not allow it, or state none): each is read from a path given on the command line; where to get it
is in ``SETS`` and in DATA.md. A language with no usable set says so.

How labels map to our tiers: a set's positive label ("suicidal intention", "suicidal ideation") is
"at risk, tier unknown": any of concern, high or imminent is right, none is a miss. Its negative label
is ``none``. No set labels imminence, so a removal of a positive line is neither right nor wrong here
(it is reported, not judged); a removal of a negative line is a false removal.

Evaluation only: these figures are measured once per set and release and never read to tune a rule.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.detection import detector_for  # noqa: E402
from gateway.detection.evaluate import _ci  # noqa: E402
from gateway.policy.model import TIERS  # noqa: E402
from gateway.policy.loader import PolicyLoader  # noqa: E402

LANGUAGES = ("de", "fr", "es")


@dataclass(frozen=True)
class PublicSet:
    """One public labelled set: how to read it, and what it is."""
    key: str  # the command-line option: --KEY PATH
    language: str
    name: str
    source: str  # where to get it, at which commit
    text_col: str
    label_col: str
    positive: str  # the label value meaning "at risk"
    note: str  # genre and caveats, printed with the figures


SETS = (
    PublicSet(
        key="valeriano-es", language="es",
        name="Valeriano, Condori-Larico, Sulla-Torres 2020 (IJACSA 11(4)): Spanish tweets labelled for suicidal intent",
        source="github.com/kvvaldez/spanish_suicide at commit 125fb99, dataset/suicidio_notacion.csv "
               "(no licence stated; the README asks users to cite the paper: evaluation only)",
        text_col="tweet_clean", label_col="suicidio", positive="1",
        note="native Spanish tweets collected by suicide-related search phrases, lower-cased and "
             "stripped of punctuation by the authors; 1 = suicidal intent, 0 = not"),
)


@dataclass
class Tally:
    """What the detector did on one label's lines."""
    lines: int = 0
    any_tier: int = 0
    removed: int = 0
    tiers: Counter | None = None

    def add(self, tier: str, removed: bool) -> None:
        self.lines += 1
        self.any_tier += tier != "none"
        self.removed += removed
        self.tiers = self.tiers or Counter()
        self.tiers[tier] += 1


def measure(public: PublicSet, path: Path, detector) -> tuple[Tally, Tally, int]:
    """(positives, negatives, rows repeating an earlier row's text) of one set, as published."""
    positives, negatives = Tally(), Tally()
    seen: set[str] = set()
    repeats = 0
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (public.text_col, public.label_col) if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: no column {missing[0]!r}; is this {public.name}? Get it from {public.source}")
        for row in reader:
            text = row[public.text_col]
            repeats += text in seen
            seen.add(text)
            d = detector.detect(text)
            tally = positives if row[public.label_col].strip() == public.positive else negatives
            tally.add(d.tier, detector.would_remove(d))
    return positives, negatives, repeats


def report(public: PublicSet, positives: Tally, negatives: Tally, repeats: int) -> list[str]:
    """The figures of one set, counts only."""
    def tiers(t: Tally) -> str:
        return ", ".join(f"{tier} {(t.tiers or Counter())[tier]}" for tier in TIERS)
    return [
        f"{public.language}: {public.name}",
        f"  {public.note}; {positives.lines + negatives.lines} rows ({repeats} repeat an earlier row's text), "
        f"measured as published with policy default-{public.language}",
        f"  labelled at risk ({positives.lines}): any tier {positives.any_tier}/{positives.lines} "
        f"= {_ci(positives.any_tier, positives.lines)}; removed {positives.removed}/{positives.lines} "
        f"= {_ci(positives.removed, positives.lines)}; by tier: {tiers(positives)}",
        f"  labelled not at risk ({negatives.lines}): any tier {negatives.any_tier}/{negatives.lines} "
        f"= {_ci(negatives.any_tier, negatives.lines)}; removed (false removals) {negatives.removed}/"
        f"{negatives.lines} = {_ci(negatives.removed, negatives.lines)}; by tier: {tiers(negatives)}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for public in SETS:
        parser.add_argument(f"--{public.key}", type=Path, metavar="PATH",
                            help=f"{public.name}; get it from {public.source}")
    args = parser.parse_args(argv)
    loader = PolicyLoader()
    print("Public labelled sets, shipped policy per language; rates with 95% Wilson intervals; no text shown.")
    for language in LANGUAGES:
        sets = [s for s in SETS if s.language == language]
        if not sets:
            print(f"{language}: no public labelled set found that is obtainable here with a licence "
                  f"(DATA.md lists what was searched and why each candidate was not used)")
            continue
        for public in sets:
            path = getattr(args, public.key.replace("-", "_"))
            if path is None:
                print(f"{language}: {public.name}: not given (--{public.key} PATH; get it from {public.source})")
                continue
            detector = detector_for(loader.load(f"default-{language}"))
            print("\n".join(report(public, *measure(public, path, detector))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
