"""The action journal: whatever step a crash interrupted, the case resumes from there on restart."""

from __future__ import annotations

import pytest

from tests.memory_adapter import MemoryAdapter
from gateway.policy.crisis_lines import load_directory
from gateway.core.engine import Engine
from gateway.store.eventlog import EventLog
from gateway.runner import Runner

from .conftest import MODS, NET, ROOM, make_binding, say

IMMINENT = "i took all my pills"


def fresh(policy, tmp_path, network_type):
    """``network_type`` "matrix": the adapter de-duplicates resends; "irc-like": it cannot."""
    engine = Engine([make_binding(policy, network_type=network_type)], load_directory())
    log = EventLog(tmp_path / "gateway.db")
    adapter = MemoryAdapter(NET, members={ROOM: {"@kit:test"}})
    adapter.resends_are_deduplicated = network_type == "matrix"
    return engine, log, adapter, Runner(engine, {NET: adapter}, log)


def journal_row(log, **states):
    log.journal_open("case1", NET, ROOM, "@kit:test", "$risk", "imminent", ("imminent.act_under_way",),
                     "risk", 1.0, "pending", "pending", "pending", False)
    for step, state in states.items():
        log.journal_step("case1", step, state)


@pytest.mark.parametrize("network_type", ["matrix", "irc-like"])
async def test_crash_before_the_private_message_sends_it_on_restart(default_policy, tmp_path, network_type):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, network_type)
    journal_row(log)
    await runner.resume()
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert str(adapter.calls[0]["key"]) == "case1.dm"
    assert adapter.calls[2]["text"].startswith("[URGENT, RESENT AFTER A RESTART: you may have seen this case]")
    assert log.journal_unfinished() == []


async def test_private_message_in_flight_is_resent_only_where_the_server_deduplicates(default_policy, tmp_path):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, "matrix")
    journal_row(log, dm="started")
    await runner.resume()
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert str(adapter.calls[0]["key"]) == "case1.dm"  # the same transaction id: Matrix delivers it once


async def test_private_message_in_flight_is_never_resent_where_resends_are_not_deduplicated(default_policy, tmp_path):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, "irc-like")
    journal_row(log, dm="started")
    await runner.resume()
    assert adapter.methods() == ["alert_moderators"]  # no second message; the policy keeps them
    text = adapter.calls[0]["text"]
    assert "unknown (the gateway restarted while sending it)" in text and "kept in the room" in text
    assert adapter.calls[0]["priority"] == "urgent"


async def test_removal_in_flight_is_repeated_then_the_alert_sent(default_policy, tmp_path):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, "irc-like")
    journal_row(log, dm="done", removal="started")
    await runner.resume()
    assert adapter.methods() == ["remove_from_room", "alert_moderators"]
    assert "Private message: delivered. Removal: done." in adapter.calls[1]["text"]


async def test_alert_in_flight_is_sent_marked_as_possibly_seen(default_policy, tmp_path):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, "irc-like")
    journal_row(log, dm="done", removal="done", alert="started")
    await runner.resume()
    assert adapter.methods() == ["alert_moderators"]
    assert "RESENT AFTER A RESTART" in adapter.calls[0]["text"].splitlines()[0]


async def test_finished_cases_do_not_resume_and_forget_whom_they_were_about_once_closed(default_policy, tmp_path):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, "matrix")
    await runner.handle(say(IMMINENT, ref="$risk"))
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert log.journal_unfinished() == []
    sealed = "SELECT count(*) FROM journal WHERE sealed IS NOT NULL OR sealed_ref IS NOT NULL"
    # the message id goes when the actions are done; the person's id (sealed) stays while the case is open
    assert log.db.execute("SELECT sealed_ref FROM journal").fetchone()[0] is None
    assert [r["user"] for r in log.journal_open_cases()] == ["@kit:test"]
    case = engine.cases()[0]
    await runner.handle(say(f"!ack {case.id}", sender="@mod:test", power=100, room=MODS))
    assert log.db.execute("SELECT count(*) FROM journal WHERE sealed_acked IS NOT NULL").fetchone()[0] == 1
    await runner.handle(say(f"!close {case.id} safe", sender="@mod:test", power=100, room=MODS))
    assert log.db.execute(sealed).fetchone()[0] == 0  # closed: whom it was about is forgotten
    assert log.db.execute("SELECT count(*) FROM journal WHERE sealed_acked IS NOT NULL").fetchone()[0] == 0
    assert log.journal_open_cases() == []
    # the same message delivered again after a restart is not a new case
    engine2, _, adapter2, runner2 = fresh(default_policy, tmp_path, "matrix")
    engine2.ref_key = log.ref_digest
    engine2.seen_refs |= log.journal_refs()
    await runner2.handle(say(IMMINENT, ref="$risk"))
    assert adapter2.methods() == []


async def test_the_journal_names_no_one_in_clear(default_policy, tmp_path):
    engine, log, adapter, runner = fresh(default_policy, tmp_path, "irc-like")
    journal_row(log)
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"@kit:test" not in data  # sealed with the key file, which is separate
    assert log.journal_unfinished()[0]["user"] == "@kit:test"


def test_the_resend_ledger_counts_what_left_and_forgets_it_with_the_case(tmp_path):
    """The ledger's key format lives in the event log alone; adapters and the runner use ResendKey."""
    from adapters.contract import ResendKey

    log = EventLog(tmp_path / "gateway.db")
    dm, alert, other = ResendKey("case1", "dm"), ResendKey("case1", "alert"), ResendKey("case2", "dm")
    assert log.parts_sent(dm) == 0
    log.record_parts_sent(dm, 2)
    log.record_parts_sent(alert, 1)
    log.record_parts_sent(other, 3)
    assert (log.parts_sent(dm), log.parts_sent(alert), log.parts_sent(other)) == (2, 1, 3)
    log.journal_finish("case1")
    assert (log.parts_sent(dm), log.parts_sent(alert), log.parts_sent(other)) == (0, 0, 3)
    log.close()
