"""IRC adapter pieces that need no server: line splitting, cleaning, case folding, the flood budget, reading chat lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.irc.lines import FloodBudget, clean, fold, split_text


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


# -- the fast path for channel chat reads each line as the irc package's parser does ----------------

def _read_both_ways(lines):
    """(queued items, remembered hosts) from the adapter's fast path and from the irc package alone."""
    import asyncio

    import irc.client

    from adapters.irc import IrcAdapter

    def adapter():
        a = IrcAdapter("net", "127.0.0.1", 6667, "bot", store={}, rooms=["#chan", "#Other[x]"],
                       clock=lambda: 0.0)
        a._in = asyncio.Queue()
        return a

    def drain(a):
        out = []
        while not a._in.empty():
            out.append(a._in.get_nowait())
        return out, a.hosts

    fast, slow = adapter(), adapter()
    for a, use_fast in ((fast, True), (slow, False)):
        reactor = irc.client.Reactor()
        conn = reactor.server()
        conn.handlers, conn.real_server_name = {}, "irc.test"
        reactor.add_global_handler("all_events", a._on_event, -10)
        for line in lines:
            if not (use_fast and a._channel_message(line)):
                conn._process_line(line)
    return drain(fast), drain(slow)


CHAT_LINES = [
    ":kit!k@host.example PRIVMSG #chan :hello there",
    ":kit!k@h PRIVMSG #CHAN :mixed case channel",
    ":Kit[1]!k@h PRIVMSG #other{x} :folded channel and nick",
    ":kit!k@h PRIVMSG #chan ::starts with a colon",
    ":kit!k@h PRIVMSG #chan :",
    ":kit!k@h PRIVMSG #chan :a  b   spaces  kept  ",
    ":kit!k@h PRIVMSG #chan :\x01ACTION waves\x01",
    "@account=kit :kit!k@h PRIVMSG #chan :tagged",
    ":kit!k@h PRIVMSG #chan  :two spaces before the colon",
    ":kit!k@h PRIVMSG #chan word",
    ":bot!b@h PRIVMSG #chan :our own line",
    ":BOT!b@h PRIVMSG #chan :our own line, other case",
    ":kit!k@elsewhere PRIVMSG #unknown :a channel we do not watch",
    ":lee PRIVMSG #chan :no user or host",
    ":kit!k@h PRIVMSG bot :a private message",
    ":kit!k@h PRIVMSG #chan :with \x10 low-level quote",
    ":kit!k@h NOTICE #chan :a notice",
    ":kit!k@h PRIVMSG &local :another channel type",
]


def test_channel_lines_read_fast_are_read_as_the_irc_package_reads_them():
    (fast_items, fast_hosts), (slow_items, slow_hosts) = _read_both_ways(CHAT_LINES)
    assert fast_items == slow_items and fast_hosts == slow_hosts
    assert len(fast_items) >= 8  # the lines did reach the queue


@given(st.text(alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)),
               max_size=60),
       st.sampled_from(["#chan", "#CHAN", "#other{x}", "#nope", "bot", "&x"]),
       st.sampled_from(["kit!k@h", "bot!b@h", "Kit[1]!u@host", "lee"]))
@settings(max_examples=300, deadline=None)
def test_any_privmsg_is_read_as_the_irc_package_reads_it(text, target, prefix):
    fast, slow = _read_both_ways([f":{prefix} PRIVMSG {target} :{text}"])
    assert fast == slow


@given(st.lists(st.binary(max_size=40) | st.sampled_from([b"\n", b"\r\n", b"\r", b"\xc3", b"\xa9\n",
                                                           b"caf\xc3\xa9 \xe9\n", b"\xf0\x9f\x98"]),
                max_size=30))
@settings(max_examples=400, deadline=None)
def test_the_line_buffer_gives_the_lines_the_packages_buffer_gives(chunks):
    from jaraco.stream import buffer

    from adapters.irc.lines import ReplacingBuffer as _ReplacingBuffer

    ours, theirs = _ReplacingBuffer(), buffer.DecodingLineBuffer()
    theirs.errors = "replace"
    got, expected = [], []
    for chunk in chunks:
        ours.feed(chunk)
        theirs.feed(chunk)
        got += list(ours)
        expected += list(theirs)
        assert len(ours) == len(theirs)
    assert got == expected
