"""Raids never starve a real person (issue 24, finding 1), against the core: a case that does not share
the raid's pattern gets its crisis message, its removal and its own alert; the raid's cases are listed
by id; ``!cases`` shows every open case, paged; moderators' commands are held to no budget. The same on
a real Synapse: tests/test_raids_matrix.py."""

from __future__ import annotations

import re

import pytest

from gateway.core import actions as A
from gateway.store.eventlog import EventLog
from gateway.core.events import Tick
from gateway.core.raids import NEAR_DUPLICATE, line_print, similarity

from .conftest import MODS, NET, ROOM, say
from .test_engine import HIGH, IMMINENT, only, outcome

PUPPET_LINE = "i am going to kill myself tonight"  # imminent
GENUINE_LINE = "i took all my pills, goodbye"  # imminent, and nothing like the puppets' line
KEY = b"k" * 32


def _rig(engine, clock, tmp_path=None):
    from gateway.runner import Runner
    from tests.memory_adapter import MemoryAdapter

    adapter = MemoryAdapter(NET, members={ROOM: {f"@puppet{i}:test" for i in range(300)} | {"@ana:test"}})
    log = EventLog(tmp_path / "gateway.db") if tmp_path is not None else None
    return adapter, Runner(engine, {NET: adapter}, log, clock=clock), log


def calls(adapter, method, **match):
    return [c for c in adapter.calls if c.method == method and all(c[k] == v for k, v in match.items())]


async def raid(runner, clock, n=25, line=PUPPET_LINE):
    for i in range(n):
        await runner.handle(say(line, sender=f"@puppet{i}:test", ts=clock.advance(1)))


# -- the fingerprint ------------------------------------------------------------------------------

def test_a_fingerprint_is_keyed_hashes_of_folded_word_pairs_never_text():
    fp = line_print(PUPPET_LINE, KEY)
    assert fp and all(isinstance(h, int) for h in fp)
    assert line_print("I AM G0ING TO K1LL MYSELF TONIGHT!!", KEY) == fp  # case, leetspeak, punctuation fold
    assert line_print("i аm going to kіll mysеlf tonight", KEY) == fp  # Cyrillic homoglyphs in words
    assert line_print(PUPPET_LINE, b"x" * 32) != fp  # keyed: another key, other hashes
    assert similarity(line_print(PUPPET_LINE + " xq7", KEY), fp) >= NEAR_DUPLICATE  # a random suffix
    assert similarity(line_print(GENUINE_LINE, KEY), fp) < NEAR_DUPLICATE
    # the same fear, in other words, is another line: "going to end it all tonight"
    assert similarity(line_print("i am going to end it all tonight", KEY), fp) < NEAR_DUPLICATE
    assert line_print("", KEY) == frozenset()


# -- the scenario, through the runner ------------------------------------------------------

async def test_a_genuine_person_after_25_puppets_gets_message_removal_and_own_alert(engine, clock, tmp_path):
    adapter, runner, log = _rig(engine, clock, tmp_path)
    await raid(runner, clock)
    await runner.handle(say(GENUINE_LINE, sender="@ana:test", ts=clock.advance(1)))

    dm = calls(adapter, "send_private", user="@ana:test")
    assert len(dm) == 1 and "116 123" in dm[0]["text"]  # the whole crisis message
    assert calls(adapter, "remove_from_room", user="@ana:test")
    own = [c for c in calls(adapter, "alert_moderators") if "@ana:test" in c["text"]]
    assert len(own) == 1 and "Removal: done" in own[0]["text"] and "this line is not like the raid's" in own[0]["text"]
    genuine = re.search(r"Case (\w+):", own[0]["text"]).group(1)

    # the puppets: the first five before the raid, then listed in the raid alert by id
    raids = [c["text"] for c in calls(adapter, "alert_moderators") if "Possible raid" in c["text"]]
    assert len(raids) == 1
    rows = list(log.rows())
    roles = {r["case_id"]: r["outcome"] for r in rows if r["kind"] == "raid_case"}
    assert roles[genuine] == "distinct"
    pattern = [cid for cid, role in roles.items() if role == "pattern"]
    assert len(pattern) == 20 and genuine not in raids[0]
    await runner.handle(Tick(NET, clock.advance(600)))  # the update lists those opened after the alert
    listed = " ".join(c["text"] for c in calls(adapter, "alert_moderators") if "a raid or flood" in c["text"]
                      or "Possible raid" in c["text"])
    assert all(cid in listed for cid in pattern)
    assert [r["kind"] for r in rows].count("raid_started") == 1
    # the event log agrees with what the adapter did
    for_genuine = [r["kind"] for r in rows if r["case_id"] == genuine]
    assert for_genuine == ["risk_detected", "raid_case", "dm_sent", "removed", "alerted"]
    assert sum(r["kind"] == "dm_sent" for r in rows) == len(calls(adapter, "send_private"))
    assert sum(r["kind"] == "removed" for r in rows) == len(calls(adapter, "remove_from_room")) == 5 + 1
    log.close()


async def test_the_raids_own_budget_is_spent_by_copies_never_a_distinct_line(engine, clock):
    adapter, runner, _ = _rig(engine, clock)
    await raid(runner, clock, n=200)  # 195 copies: 20 get a message, none an alert of their own
    assert len(calls(adapter, "send_private")) == 5 + 20
    await runner.handle(say(GENUINE_LINE, sender="@ana:test", ts=clock.advance(1)))
    assert calls(adapter, "send_private", user="@ana:test") and calls(adapter, "remove_from_room", user="@ana:test")


async def test_a_copy_of_a_genuine_line_hides_nobody(engine, clock):
    """Puppets who copy a genuine person's line after them: the person was handled already, and the
    copies are the pattern."""
    adapter, runner, _ = _rig(engine, clock)
    await raid(runner, clock, n=6)  # a raid has started
    await runner.handle(say(GENUINE_LINE, sender="@ana:test", ts=clock.advance(1)))
    await raid(runner, clock, n=30, line=GENUINE_LINE)
    assert calls(adapter, "remove_from_room", user="@ana:test")
    assert [c for c in calls(adapter, "alert_moderators") if "@ana:test" in c["text"]]
    assert [c["user"] for c in calls(adapter, "remove_from_room")].count("@ana:test") == 1
    for c in adapter.calls:  # nobody else was messaged or removed because of the puppets
        assert c.args.get("user") in (None, "@ana:test") or c.args["user"].startswith("@puppet")


async def test_a_line_more_urgent_than_the_raids_is_never_part_of_its_pattern(engine, clock):
    adapter, runner, _ = _rig(engine, clock)
    await raid(runner, clock, line="i want to kill myself")  # high: messaged, not removed
    await runner.handle(say("i want to kill myself tonight", sender="@ana:test", ts=clock.advance(1)))
    assert calls(adapter, "send_private", user="@ana:test")
    assert calls(adapter, "remove_from_room", user="@ana:test")  # imminent: removed per its tier


async def test_distinct_lines_have_a_budget_of_their_own(engine, clock):
    """An attacker who writes a different line for each puppet spends the distinct budget (one alert
    each, up to ``private_messages_per_room``); beyond it their cases are listed like a pattern's."""
    adapter, runner, _ = _rig(engine, clock)
    await raid(runner, clock, n=6)
    words = ["red", "blue", "green", "gold", "grey", "pink", "teal", "navy", "rose", "jade"]
    for i in range(25):
        line = f"i took all my pills {words[i % 10]} {words[i // 10]} {i} {i * 7}"  # each unlike the others
        await runner.handle(say(line, sender=f"@puppet{100 + i}:test", ts=clock.advance(1)))
    own = [c for c in calls(adapter, "alert_moderators") if "this line is not like the raid's" in c["text"]]
    assert len(own) == 20
    assert not calls(adapter, "remove_from_room", user="@puppet124:test")


async def test_a_pattern_is_forgotten_after_the_window(engine, clock):
    _, runner, _ = _rig(engine, clock)
    await raid(runner, clock, n=6)
    assert engine.state.prints
    await runner.handle(Tick(NET, clock.advance(601)))
    assert not engine.state.prints


# -- moderators are never held to a budget ---------------------------------------------------------

async def test_a_moderators_remove_during_a_raid_is_answered_and_carried_out(engine, clock):
    adapter, runner, _ = _rig(engine, clock)
    await raid(runner, clock, n=40)  # the raid's message budget is spent
    skipped = next(c for c in engine.cases() if c.raid and c.dm_text.startswith("not sent (raid"))
    before = len(adapter.calls)
    await runner.handle(say(f"!remove {skipped.id}", room=MODS, sender="@mod:test", power=100, ts=clock.advance(1)))
    done = adapter.calls[before:]
    assert [c.method for c in done] == ["post_notice", "send_private", "remove_from_room", "alert_moderators"]
    assert done[0]["text"].startswith(f"Case {skipped.id}: messaging them first")
    assert done[1]["user"] == done[2]["user"] == skipped.user
    assert skipped.id in done[3]["text"] and "Removal: done" in done[3]["text"]


# -- !cases: every open case, paged, highest tier first -------------------------------------------

def test_cases_lists_every_open_case_in_pages_genuine_first(engine):
    for i in range(25):
        engine.handle(say(PUPPET_LINE, sender=f"@puppet{i}:test", ts=1_800_000_000.0 + i))
    engine.handle(say(HIGH, sender="@lee:test", ts=1_800_000_030.0))
    engine.handle(say(GENUINE_LINE, sender="@ana:test", ts=1_800_000_040.0))

    def page(arg=""):
        out = engine.handle(say(f"!cases {arg}".strip(), room=MODS, sender="@mod:test", power=100,
                                ts=1_800_000_050.0))
        return only(out, A.PostNotice).text

    first = page()
    assert first.startswith("27 open case(s), page 1 of 2:") and first.endswith("More: !cases 2")
    lines = first.splitlines()[1:-1]
    assert len(lines) == 20 and "@ana:test" in lines[5]  # after the five alerted before the raid
    assert all("imminent" in line for line in lines)
    second = page("2")
    assert "@lee:test" in second.splitlines()[-1]  # the lower tier last
    ids = {c.id for c in engine.cases()}
    assert ids == set(re.findall(r"^(case\d+):", first + "\n" + second, re.M))  # every case, once
    assert page("3") == "There are only 2 page(s) of open cases."
    assert page("x") == "Usage: !cases [PAGE], e.g. !cases 2."


def test_only_lines_written_in_a_raided_room_make_a_pattern(default_policy, directory):
    from gateway.core.engine import Engine

    from .conftest import make_binding

    other = "!other:test"
    engine = Engine([make_binding(default_policy), make_binding(default_policy, room=other)], directory)
    engine.handle(say(GENUINE_LINE, sender="@lee:test", room=other))  # a quiet room: no raid there
    for i in range(6):
        engine.handle(say(PUPPET_LINE, sender=f"@puppet{i}:test", ts=1_800_000_001.0 + i))
    out = engine.handle(say(GENUINE_LINE, sender="@ana:test", ts=1_800_000_010.0))
    assert only(out, A.OpenCase).raid is False
    assert [r.outcome for r in out if isinstance(r, A.RecordEvent) and r.kind == "raid_case"] == ["distinct"]
    assert only(out, A.SendPrivate).user == "@ana:test"
