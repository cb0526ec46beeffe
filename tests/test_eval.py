"""Measured detection quality: the figures docs/detection-quality.md reports, as floors the lexicon must not
fall below."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.detection.evaluate import evaluate

from .test_cli import GATEWAY, run

DATA = Path(__file__).resolve().parent / "data"


SETS = ("dev", "heldout", "test", "test2", "test3", "test4")


@pytest.fixture(scope="module")
def reports(default_policy):
    return {name: evaluate(detector_for(default_policy), DATA / f"{name}.csv", "text", "label") for name in SETS}


def test_dev_set_is_several_hundred_lines(reports):
    assert reports["dev"].rows >= 300


@pytest.mark.parametrize("name", SETS)
def test_every_set_meets_the_targets(reports, name):
    """The issue's targets, on every labelled set. test4 met them when measured once, unseen
    (docs/detection-quality.md)."""
    r = reports[name]
    assert r.would_remove.precision >= 0.97
    assert r.any_tier.recall >= 0.9
    assert r.rate("ordinary") <= 0.02
    assert r.rate("hard_negative") <= 0.05
    assert r.abuse.recall >= 0.9 and r.abuse.precision >= 0.9


def test_abuse_never_gets_the_writer_a_crisis_message(reports, default_policy):
    d = detector_for(default_policy)
    for text in ("kys", "go kill yourself", "why don't you go jump off a bridge"):
        result = d.detect(text)
        assert result.tier == "none" and result.abuse, text


def test_eval_command_prints_scores_and_confusion_without_text():
    r = run("eval", str(DATA / "dev.csv"), "--text", "text", "--label", "label", "--mistakes")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("350 labelled messages\nany tier      precision")
    assert "would remove  precision 1.000" in out
    assert "confusion (rows: label, columns: detected)" in out
    assert "no one would miss me" not in out  # mismatches are listed by CSV line, never by text
    assert "line 198: none -> concern" in out


def test_eval_refuses_unknown_labels_and_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,maybe\n")
    r = run("eval", str(bad), "--text", "text", "--label", "label")
    assert r.returncode == 2 and b"bad.csv:2: label 'maybe'" in r.stderr
    r = run("eval", str(bad), "--text", "body", "--label", "label")
    assert r.returncode == 2 and b"no column 'body'" in r.stderr


def test_eval_reports_intervals_tiers_and_removals(tmp_path):
    """Every proportion with its 95% interval; per tier, exact tier, false and missed removals."""
    r = run("eval", str(DATA / "test4.csv"), "--text", "text", "--label", "label")
    out = r.stdout.decode()
    assert "any tier      precision 1.000 [0.918, 1.000]" in out
    assert "imminent      precision" in out and "exact tier: " in out
    assert "false removals: 0 of 105 (0.000 [0.000, 0.035])" in out


def test_eval_takes_binary_labels_and_judges_removals_only_on_the_negatives(tmp_path):
    binary = tmp_path / "yesno.csv"
    binary.write_text("post,flag\ni took all my pills,1\nmorning all,0\ni want to kill myself,1\nlunch?,0\n")
    r = run("eval", str(binary), "--text", "post", "--label", "flag", "--binary", "1")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "(binary labels: any tier or none)" in out
    assert "(tp 2, fp 0, fn 0)" in out and "false removals: 0 of 2" in out and "exact tier" not in out


def test_a_reader_that_goes_away_is_not_an_error():
    # 2,000 answers (about 280 KB, more than a pipe holds) after the reader has gone
    r = subprocess.run(f"(echo 'i took all my pills'; yes 'see you all later' | head -1999) | {GATEWAY} scan | head -1",
                       shell=True, capture_output=True, timeout=60)
    assert r.returncode == 0 and b"Traceback" not in r.stderr and b"BrokenPipe" not in r.stderr


def test_scan_and_eval_judge_the_writers_own_words_as_a_room_does(tmp_path):
    """A reply that quotes someone at risk ("> ...", "<nick> ...") is the replier's kindness, not their risk: the
    engine leaves quoted lines out (``gateway.core.quotes``), and so do ``scan`` and ``eval``, or their figures
    would count removals the bot never makes. The same words unquoted, or after a face such as ">_<", still count."""
    lines = ["> im at the bridge, going to jump now", "<kit> took all my pills an hour ago",
             "took all my pills an hour ago", ">_< took all my pills an hour ago", "hey, are you ok?"]
    r = run("scan", stdin="".join(line + "\n" for line in lines))
    out = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [(o["tier"], o.get("quoted", False)) for o in out] == [
        ("none", True), ("none", True), ("imminent", False), ("imminent", False), ("none", False)]
    labelled = tmp_path / "replies.csv"
    rows = [("> im at the bridge, going to jump now\nplease stay where people are, we are here", "none"),
            ("<kit> took all my pills an hour ago\ncall an ambulance now kit", "none"),
            ("> where are you\nat the bridge, going to jump now", "imminent")]
    with open(labelled, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("text", "label"), *rows])
    r = run("eval", str(labelled), "--text", "text", "--label", "label")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "exact tier: 1.000" in out and "false removals: 0 of 2" in out and "missed removals: 0 of 1" in out, out
