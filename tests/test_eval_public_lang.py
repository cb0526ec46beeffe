"""bench/eval_public_lang.py: the public sets' figures per language, counts only, never the text."""

from __future__ import annotations

import csv

import pytest

from bench.eval_public_lang import main

# Lines written here for the test (not from any public set), in the Spanish set's columns.
LINES = [
    ("hola a todos, buenos dias", "0"),
    ("me voy a comprar unas zapatillas nuevas", "0"),
    ("esta noche me tomo todas las pastillas, ya las tengo aqui", "1"),
]


def write_set(path, rows=LINES, columns=("frase", "tweet_clean", "suicidio")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows([("x", text, label) for text, label in rows])


def test_prints_each_language_and_says_where_there_is_no_data(tmp_path, capsys):
    write_set(tmp_path / "es.csv")
    assert main(["--valeriano-es", str(tmp_path / "es.csv")]) == 0
    out = capsys.readouterr().out
    assert "de: no public labelled set found" in out
    assert "fr: no public labelled set found" in out
    assert "labelled at risk (1): any tier 1/1 = 1.000 [0.207, 1.000]" in out
    assert "labelled not at risk (2): any tier 0/2 = 0.000 [0.000, 0.658]; removed (false removals) 0/2" in out
    assert "3 rows (0 repeat an earlier row's text), measured as published with policy default-es" in out


def test_never_prints_the_text_of_the_set(tmp_path, capsys):
    write_set(tmp_path / "es.csv")
    main(["--valeriano-es", str(tmp_path / "es.csv")])
    out = capsys.readouterr().out
    assert not any(word in out for text, _ in LINES for word in text.replace(",", "").split() if len(word) > 4)


def test_a_set_not_given_says_where_to_get_it(capsys):
    main([])
    assert "not given (--valeriano-es PATH; get it from github.com/kvvaldez/spanish_suicide" in capsys.readouterr().out


def test_a_wrong_file_names_the_set_and_its_source(tmp_path):
    write_set(tmp_path / "other.csv", columns=("a", "text", "label"))
    with pytest.raises(SystemExit, match="no column 'tweet_clean'.*kvvaldez/spanish_suicide"):
        main(["--valeriano-es", str(tmp_path / "other.csv")])
