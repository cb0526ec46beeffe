"""IRC adapter pieces that need no server: line splitting, cleaning, case folding, the flood budget."""

from __future__ import annotations

import pytest

from adapters.irc import FloodBudget, clean, fold, split_text


def test_split_respects_the_byte_limit_and_never_cuts_a_character():
    text = "é" * 300 + " " + "💊" * 100
    parts = split_text(text, 100)
    assert all(len(p.encode("utf-8")) <= 100 for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_split_prefers_spaces_and_drops_empty_lines():
    parts = split_text("one two three four five six\n\n  \nseven", 12)
    assert parts == ["one two", "three four", "five six", "seven"]


@pytest.mark.parametrize("raw", ["a\r\nQUIT :x", "a\rb", "a\nb", "a\0b"])
def test_clean_removes_line_breaking_characters(raw):
    assert not any(ch in clean(raw) for ch in "\r\n\0")


def test_rfc1459_case_folding():
    assert fold("Nick[Away]") == fold("nick{away}") == "nick{away}"
    assert fold("#Peer") == "#peer"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_flood_budget_allows_a_burst_then_a_steady_rate():
    clock = FakeClock()
    budget = FloodBudget(burst=4, rate=1.0, clock=clock)
    assert [budget.delay(50) for _ in range(4)] == [0.0] * 4
    assert budget.delay(50) == pytest.approx(1.0)   # the fifth line waits a second
    assert budget.delay(50) == pytest.approx(2.0)   # and the sixth two
    clock.now = 10.0                                # after a quiet spell the burst is back
    assert budget.delay(50) == 0.0


def test_flood_budget_charges_long_lines_more():
    budget = FloodBudget(burst=4, rate=1.0, clock=FakeClock())
    assert budget.delay(400) == 0.0 and budget.delay(400) == 0.0
    assert budget.delay(400) == pytest.approx(2.0)
