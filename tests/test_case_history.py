"""Issue 26, items 2 and 3: alerts say what to do next, ``!help`` is a short list, a moderator's ✅ on an
alert acknowledges its case (Matrix), and a case's history, live (``!case ID``, also after a restart) and
offline (``gateway case ID``), from one formatter. Unit level, through the engine, the runner and the
installed command; on a real Synapse: tests/test_workflow_matrix.py."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest
from nio import ReactionEvent

from gateway.core import actions as A
from gateway.store.eventlog import EventLog
from gateway.core.events import Authority, PrivateMessage, Reaction, Tick
from gateway.core.history import Entry, entry_text

from .conftest import MODS, NET, ROOM, Clock, make_binding, say
from .test_cli import run as gateway
from .test_commands import replies, run
from .test_engine import IMMINENT, only, outcome
from .test_restart import Gateway

OUTCOMES = "OUTCOME one of: resolved, safe, referred, no_contact, false_alarm, other"


def alert_of(engine, text, *, sender="@kit:test", ts=1_800_000_000.0):
    """The first alert of the case ``text`` opens, every action of the flow answered as accepted."""
    pending = engine.handle(say(text, sender=sender, ts=ts))
    while True:
        alert = next((a for a in pending if isinstance(a, A.AlertModerators)), None)
        if alert is not None:
            return alert
        step = next(a for a in pending if isinstance(a, (A.SendPrivate, A.RemoveFromRoom)))
        pending = engine.handle(outcome(step, ts=ts + 1))


def last_line(text: str) -> str:
    return text.splitlines()[-1]


# -- item 2: alerts end with the commands for their case -------------------------------------------

def test_an_alert_ends_with_the_commands_for_its_case_readmit_only_when_removed(engine):
    removed = alert_of(engine, IMMINENT)
    assert last_line(removed.text) == (f"Next: !ack {removed.case} · !case {removed.case} · !readmit {removed.case} "
                                       f"· !close {removed.case} OUTCOME, {OUTCOMES}")
    kept = alert_of(engine, "i wish i was dead", sender="@ana:test")
    assert last_line(kept.text) == \
        f"Next: !ack {kept.case} · !case {kept.case} · !close {kept.case} OUTCOME, {OUTCOMES}"


def test_the_commands_use_the_policys_prefix(default_policy, directory):
    from gateway.core.engine import Engine

    policy = dataclasses.replace(default_policy, command_prefix="?")
    engine = Engine([make_binding(policy)], directory, bot_ids={NET: "@bot:test"}, case_id=lambda: "abc234")
    assert last_line(alert_of(engine, IMMINENT).text).startswith("Next: ?ack abc234 · ?case abc234 · ?readmit abc234")


def test_talk_third_party_escalation_and_follow_up_alerts_end_with_them_too(engine):
    talk = only(engine.handle(PrivateMessage(NET, 0.0, sender="@x:test", text="talk", rooms=(ROOM,))),
                A.AlertModerators)
    assert last_line(talk.text).startswith(f"Next: !ack {talk.case} · !case {talk.case} · !close {talk.case}")
    worried = engine.handle(say("my friend just texted me she wants to kill herself", sender="@lee:test"))
    third = only(worried, A.AlertModerators)
    assert last_line(third.text).startswith(f"Next: !ack {third.case} · !case {third.case}")

    alert = alert_of(engine, IMMINENT, ts=1_800_000_000.0)
    engine.handle(outcome(alert, ts=1_800_000_003.0))
    repeat = only(engine.handle(Tick(NET, 1_800_000_003.0 + 16 * 60)), A.AlertModerators)
    assert repeat.case == alert.case and last_line(repeat.text).startswith(f"Next: !ack {alert.case}")
    run(engine, f"!ack {alert.case}", power=100)
    reminder = [a for a in engine.handle(Tick(NET, 1_800_000_003.0 + 86_400)) if isinstance(a, A.AlertModerators)
                and a.case == alert.case]
    # acknowledged already: no !ack any more, the rest stays
    assert last_line(reminder[0].text).startswith(f"Next: !case {alert.case} · !readmit {alert.case}")


def test_an_alert_listing_many_cases_ends_with_the_commands_for_any_of_them(engine):
    for i, sender in enumerate(("@a:test", "@b:test")):
        alert = alert_of(engine, IMMINENT, sender=sender, ts=1_800_000_000.0 + i)
        engine.handle(outcome(alert, ts=1_800_000_003.0))
    engine.handle(Tick(NET, 1_800_000_003.0 + 16 * 60))
    grouped = only(engine.handle(Tick(NET, 1_800_000_003.0 + 31 * 60)), A.AlertModerators)
    assert "2 cases have not been acknowledged" in grouped.text
    assert last_line(grouped.text) == f"Next: !cases lists them · !case ID · !ack ID · !close ID OUTCOME, {OUTCOMES}"


# -- item 2: !help is a short list ---------------------------------------------------------------------

def test_help_is_one_command_a_line_with_its_arguments(engine):
    everyone = replies(run(engine, "!help", room=ROOM))[0].splitlines()
    assert everyone == ["Safety bot commands:", "!help - this list",
                        "!resources [COUNTRY] - free crisis lines, sent to you privately",
                        "This is an automated bot, not a person or a counsellor."]
    moderator = replies(run(engine, "!help", power=100))[0].splitlines()
    assert "!case ID - one case and its history" in moderator
    assert any(line.startswith("!close ID [outcome] - close it; outcome one of resolved, safe,") for line in moderator)
    assert "In the moderators' room:" not in moderator  # they are in it
    for line in moderator:
        assert not re.search(r"\([^)]*\(", line), line  # no nested parentheses
    in_group = replies(run(engine, "!help", room=ROOM, power=100))[0].splitlines()
    assert in_group.index("In the moderators' room:") < in_group.index("!case ID - one case and its history")


# -- item 2: a moderator's ✅ on an alert acknowledges its case -----------------------------------------

def tick(engine, ref, *, power=100, key="✅", room=MODS, sender="@mod:test", ts=1_800_000_100.0):
    return engine.handle(Reaction(NET, ts, room=room, sender=sender, ref=ref, key=key,
                                  authority=Authority(power_level=power)))


def sent_alert(engine, text=IMMINENT, sender="@kit:test"):
    alert = alert_of(engine, text, sender=sender)
    engine.handle(outcome(alert, ts=1_800_000_003.0, ref=f"$alert-{alert.case}"))
    return alert.case, f"$alert-{alert.case}"


@pytest.mark.parametrize("key", ["✅", "✔️", "☑️", "✔"])
def test_a_moderators_tick_on_an_alert_acknowledges_its_case(engine, key):
    case, ref = sent_alert(engine)
    out = tick(engine, ref, key=key)
    assert replies(out) == [f"Case {case} acknowledged by @mod:test with ✅. No more repeated alerts for it."]
    assert [(r.kind, r.command, r.authorised, r.outcome) for r in out if isinstance(r, A.RecordEvent)] == [
        ("command", "ack", True, "reaction"), ("acked", None, None, "reaction")]
    assert engine.case(case).acked_by == "@mod:test"
    assert not [a for a in engine.handle(Tick(NET, 1_800_000_003.0 + 16 * 60)) if isinstance(a, A.AlertModerators)]
    detail = replies(run(engine, f"!case {case}", power=100))[0]
    assert "Status: acknowledged by @mod:test" in detail and "acknowledged by @mod:test with a ✅ reaction" in detail


@pytest.mark.parametrize("why, how", [
    ("not_moderator", dict(power=0)),
    ("not_alert", dict(ref="$someone-elses-message")),
    ("not_moderators_room", dict(room=ROOM)),
])
def test_any_other_tick_is_a_counted_refusal_and_changes_nothing(engine, why, how):
    case, ref = sent_alert(engine)
    out = tick(engine, how.pop("ref", ref), **how)
    assert replies(out) == []
    (record,) = out
    assert (record.kind, record.command, record.outcome, record.code) == ("command", "ack", "reaction", why)
    assert record.user == (None if why == "not_moderators_room" else "@mod:test")
    assert engine.case(case).acked_by is None
    assert only(engine.handle(Tick(NET, 1_800_000_003.0 + 16 * 60)), A.AlertModerators).case == case  # still repeated


def test_other_reactions_are_nothing_and_a_closed_cases_alert_is_forgotten(engine):
    case, ref = sent_alert(engine)
    assert tick(engine, ref, key="👍") == []
    run(engine, f"!close {case} safe", power=100)
    assert engine.state.alert_refs == {}  # the alert's id is kept only while its case is open
    (record,) = tick(engine, ref)
    assert record.code == "not_alert"


def test_the_matrix_adapter_hands_on_reactions_decrypted_or_not(tmp_path):
    from .test_encryption_units import ROOM as MX_ROOM, adapter

    a = adapter(tmp_path / "store")
    a.power_level = lambda room_id, user: 100
    ev = ReactionEvent.from_dict({"type": "m.reaction", "sender": "@mod:test", "event_id": "$r",
                                  "origin_server_ts": 1, "content": {"m.relates_to": {
                                      "rel_type": "m.annotation", "event_id": "$alert", "key": "✅"}}})
    expected = Reaction(a.network, 1.0, room=MX_ROOM, sender="@mod:test", ref="$alert", key="✅",
                        authority=Authority(power_level=100))
    assert a._translate(MX_ROOM, MX_ROOM, ev) == expected
    ev.decrypted = True  # from an encrypted moderators' room: it must not be dropped as forged state
    assert a._translate(MX_ROOM, MX_ROOM, ev) == expected
    assert "✅" not in repr(expected)  # reaction keys are free text: kept out of logs like messages
    assert a._translate("!dm:test", None, ev) is None


# -- item 3: a case's history ----------------------------------------------------------------------

def test_unknown_record_kinds_still_read(engine):
    assert entry_text(Entry(0.0, "joined", tier="high")) == "joined: high"
    assert entry_text(Entry(0.0, "alert_deferred", code="disconnected")) == \
        "alert waiting: the network was away (disconnected)"
    assert entry_text(Entry(0.0, "dm_sent", count=3)) == "private message delivered (x3)"


async def test_case_lists_its_history_with_times(default_policy, directory, tmp_path):
    clock = Clock(start=1_800_000_000.0)  # 2027-01-15 08:00:00 UTC
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say(IMMINENT, ts=clock()))
    cid = gw.engine.cases()[0].id
    clock.advance(60)
    await gw.mod(f"!ack {cid}")
    (shown,) = await gw.mod(f"!case {cid}")
    lines = shown["text"].splitlines()
    assert lines[0].startswith(f"Case {cid}: imminent") and lines[1] == "History (UTC):"
    assert lines[2:] == ["2027-01-15 08:00:00 opened: imminent risk", "08:00:00 private message delivered",
                         "08:00:00 removed from the room", "08:00:00 moderators alerted",
                         "08:01:00 acknowledged by @mod:test", "2027-01-16 08:00:00 follow-up reminder due (in 23h)"]
    gw.log.close()


async def test_after_a_restart_the_earlier_events_are_still_listed(default_policy, directory, tmp_path):
    clock = Clock(start=1_800_000_000.0)
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say(IMMINENT, ts=clock()))
    cid = gw.engine.cases()[0].id
    await gw.mod(f"!ack {cid}")
    clock.advance(3600)
    gw = await gw.restart(default_policy, directory)
    (shown,) = await gw.mod(f"!case {cid}")
    history = shown["text"].split("History (UTC):\n")[1].splitlines()
    assert history == ["2027-01-15 08:00:00 opened: imminent risk", "08:00:00 private message delivered",
                       "08:00:00 removed from the room", "08:00:00 moderators alerted",
                       "08:00:00 acknowledged by @mod:test",  # who: from the journal's sealed copy
                       "2027-01-16 08:00:00 follow-up reminder due (in 23h)"]
    gw.log.close()


async def test_gateway_case_prints_the_history_offline_with_pseudonyms_and_no_text(default_policy, directory,
                                                                                 tmp_path):
    db = tmp_path / "gateway.db"
    clock = Clock(start=time.time() - 7200)
    gw = await Gateway(default_policy, directory, db, clock).start()
    marker = "zqxmarker"
    await gw.runner.handle(say(f"{IMMINENT} {marker}", ts=clock()))
    cid = gw.engine.cases()[0].id
    clock.advance(90)
    await gw.mod(f"!ack {cid}")
    await gw.mod(f"!close {cid} referred")
    pseudonym = gw.log.pseudonym(NET, "@kit:test")
    gw.log.close()

    r = gateway("case", cid.upper(), "--db", str(db))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith(f"Case {cid}: imminent (") and f"for {pseudonym} in {ROOM} ({NET}), opened " in lines[0]
    assert lines[0].endswith("Status: closed (referred).")
    assert lines[1] == "History (UTC):"
    events = [re.sub(r"^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d ", "", line) for line in lines[2:-1]]
    assert events == ["opened: imminent risk", "private message delivered", "removed from the room",
                      "moderators alerted", "acknowledged", "closed: referred"]
    assert lines[-1].startswith("(The event log keeps no names: the person is shown by pseudonym")
    out = r.stdout.decode()
    assert marker not in out and "@kit:test" not in out and "@mod:test" not in out

    missing = gateway("case", "nope42", "--db", str(db))
    assert missing.returncode == 1 and missing.stdout == b""
    assert missing.stderr.decode().startswith(f"error: no case 'nope42' in the event log {db}")


def test_a_refused_tick_spends_no_reply_budget_after_a_restart(engine):
    """A refused ✅ is never answered, so rebuilding the reply budgets from the log does not count it."""
    row = {"kind": "command", "network": NET, "room": MODS, "ts": 0.0, "subject": "p_0123456789abcdef",
           "outcome": "reaction", "authorised": 0, "command": "ack", "case": None}
    engine.restore_budgets([row], [], frozenset({"ack"}))
    assert ("reply", NET, "p_0123456789abcdef") not in engine.state.budgets
    engine.restore_budgets([{**row, "outcome": None}], [], frozenset({"ack"}))  # a refused !ack was answered
    assert ("reply", NET, "p_0123456789abcdef") in engine.state.budgets
