"""The runner over the in-memory adapter, and the transcript-free event log."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import stat

import pytest

from adapters.contract import ActionFailed
from gateway.detection import detector_for
from gateway.store.eventlog import EventLog, EventLogError
from gateway.runner import Runner
from tests.memory_adapter import MemoryAdapter

from .conftest import MODS, NET, ROOM, say

IMMINENT = "i took all my pills"


@pytest.fixture
def log(tmp_path):
    event_log = EventLog(tmp_path / "gateway.db")
    yield event_log
    event_log.close()


@pytest.fixture
def adapter():
    return MemoryAdapter(NET, members={ROOM: {"@kit:test", "@ana:test"}})


async def test_runner_executes_in_order_and_removes_only_after_the_private_message(engine, adapter, log, clock):
    runner = Runner(engine, {NET: adapter}, log, clock=clock)
    await runner.handle(say(IMMINENT))
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert "@kit:test" not in adapter.members[ROOM]
    assert adapter.calls[2]["room"] == MODS
    kinds = [r["kind"] for r in log.rows()]
    assert kinds == ["risk_detected", "dm_sent", "removed", "alerted"]
    assert log.stats()["cases_by_status"] == {"alerted": 1}


async def test_refused_private_message_keeps_the_person_and_alerts(engine, adapter, log, clock):
    adapter.fail["send_private"] = [ActionFailed("M_FORBIDDEN")]
    await Runner(engine, {NET: adapter}, log, clock=clock).handle(say(IMMINENT))
    assert adapter.methods() == ["send_private", "alert_moderators"]
    assert "@kit:test" in adapter.members[ROOM]
    assert "not delivered (M_FORBIDDEN)" in adapter.calls[1]["text"]
    rows = list(log.rows())
    assert [(r["kind"], r["code"]) for r in rows][1] == ("dm_failed", "M_FORBIDDEN")


async def test_adapter_crash_becomes_a_recorded_failure_not_a_crash(engine, adapter, log, clock):
    adapter.fail["remove_from_room"] = [RuntimeError("boom")]  # type: ignore[list-item]
    await Runner(engine, {NET: adapter}, log, clock=clock).handle(say(IMMINENT))
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert "FAILED (RuntimeError)" in adapter.calls[2]["text"]


async def test_event_log_failure_never_stops_protective_actions(engine, adapter, tmp_path, clock):
    broken = EventLog(tmp_path / "gateway.db")
    broken.db.close()  # every write now fails
    runner = Runner(engine, {NET: adapter}, broken, clock=clock)
    await runner.handle(say(IMMINENT))
    methods = adapter.methods()
    assert [m for m in methods if m != "alert_moderators"] == ["send_private", "remove_from_room"]
    alerts = [c["text"] for c in adapter.calls if c.method == "alert_moderators"]
    assert len(alerts) == 2 and "cannot write its event log" in alerts[0] and "[URGENT]" in alerts[1]
    # event log: OpenCase, 4 records, UpdateCase; journal: 3 steps x2, finish, the case state after each of 4 events
    assert runner.log_failures == 17
    await runner.handle(say(IMMINENT, sender="@ana:test", ts=clock.advance(60)))
    assert sum("cannot write its event log" in c["text"] for c in adapter.calls
               if c.method == "alert_moderators") == 1  # not repeated within 10 minutes


def test_schema_cannot_hold_chat_text(log):
    sentence = "i took all my pills"
    text_columns = {
        "events": ["kind", "network", "room", "subject", "case_id", "tier", "rules", "outcome", "code",
                   "command"],
        "cases": ["id", "network", "room", "subject", "tier", "rules", "status", "kind"],
        "meta": ["key", "value"],
    }
    for table, columns in text_columns.items():
        declared = {row[1] for row in log.db.execute(f"PRAGMA table_info({table})")
                    if row[2].upper() == "TEXT"}
        assert declared == set(columns), f"{table} has an unchecked text column"
        for col in columns:
            with pytest.raises(sqlite3.IntegrityError):
                if table == "events":
                    log.db.execute(f"INSERT INTO events (ts, kind, network, {col}) VALUES (1, 'x', 'n', ?)"
                                   if col not in ("kind", "network") else
                                   f"INSERT INTO events (ts, kind, network) VALUES (1, "
                                   f"{'?' if col == 'kind' else repr('x')}, {'?' if col == 'network' else repr('n')})",
                                   (sentence,))
                elif table == "cases":
                    values = {"id": "c1", "network": "n", "room": "r", "subject": "p_" + "0" * 16,
                              "tier": "high", "rules": "a", "status": "open", "kind": "risk", col: sentence}
                    log.db.execute("INSERT INTO cases (id, opened_ts, updated_ts, network, room, subject, tier,"
                                   " rules, status, kind) VALUES (:id, 1, 1, :network, :room, :subject, :tier,"
                                   " :rules, :status, :kind)", values)
                else:
                    values = {"key": "k", "value": "v", col: sentence}
                    log.db.execute("INSERT INTO meta VALUES (:key, :value)", values)
    non_text = [row for t in ("events", "cases") for row in log.db.execute(f"PRAGMA table_info({t})")
                if row[2].upper() not in ("TEXT", "INTEGER")]
    assert non_text == []


def test_pseudonyms_are_keyed_and_stable(tmp_path):
    a = EventLog(tmp_path / "a.db")
    b = EventLog(tmp_path / "b.db")
    assert a.pseudonym(NET, "@kit:test") == a.pseudonym(NET, "@kit:test")
    assert a.pseudonym(NET, "@kit:test") != b.pseudonym(NET, "@kit:test")  # different secret
    assert a.pseudonym(NET, "@kit:test") != a.pseudonym("other", "@kit:test")
    reopened = EventLog(tmp_path / "a.db")
    assert reopened.pseudonym(NET, "@kit:test") == a.pseudonym(NET, "@kit:test")


def test_database_and_key_file_are_private(log, tmp_path):
    for name in ("gateway.db", "gateway.key"):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"


def test_damaged_key_file_is_an_error_not_a_new_identity(tmp_path):
    (tmp_path / "x.key").write_text("abc")
    with pytest.raises(EventLogError):
        EventLog(tmp_path / "x.db")


async def test_forget_deletes_one_persons_rows_only(engine, adapter, log, clock):
    runner = Runner(engine, {NET: adapter}, log, clock=clock)
    await runner.handle(say(IMMINENT, sender="@kit:test"))
    await runner.handle(say("i wish i was dead", sender="@ana:test"))
    kit = log.pseudonym(NET, "@kit:test")
    ana = log.pseudonym(NET, "@ana:test")
    assert {r["subject"] for r in log.rows()} == {kit, ana}
    deleted, erased = log.forget("@kit:test")
    assert deleted == 5 and erased  # four events and the case
    assert {r["subject"] for r in log.rows()} == {ana}
    assert log.db.execute("SELECT count(*) FROM cases WHERE subject = ?", (kit,)).fetchone()[0] == 0


async def test_purge_older_than(engine, adapter, log, clock):
    runner = Runner(engine, {NET: adapter}, log, clock=clock)
    await runner.handle(say(IMMINENT))
    assert log.purge(90 * 86400, now=clock.now + 89 * 86400) == 0
    assert log.purge(90 * 86400, now=clock.now + 91 * 86400) == 5
    assert list(log.rows()) == []


async def test_export_jsonl_and_csv(engine, adapter, log, clock):
    await Runner(engine, {NET: adapter}, log, clock=clock).handle(say(IMMINENT))
    out = io.StringIO()
    assert log.export("jsonl", out) == 4
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0]["kind"] == "risk_detected" and rows[0]["tier"] == "imminent"
    assert rows[0]["subject"].startswith("p_") and rows[0]["time"].endswith("Z")
    out = io.StringIO()
    assert log.export("csv", out) == 4
    assert out.getvalue().splitlines()[0].startswith("id,time,kind,network,room,subject")


async def test_privacy_canary_through_engine_runner_and_event_log(engine, adapter, tmp_path, clock, caplog):
    """A unique marker in every kind of input appears in no file the process wrote, nor in its logs."""
    marker = "CANARY7f3b9e1d"
    logfile = tmp_path / "app.log"
    handler = logging.FileHandler(logfile)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    event_log = EventLog(tmp_path / "gateway.db")
    try:
        runner = Runner(engine, {NET: adapter}, event_log, clock=clock)
        adapter.fail["alert_moderators"] = [RuntimeError(marker)]  # even an exception text must not leak
        texts = [f"i took all my pills {marker}", f"i want to die {marker}", f"i wish i was dead {marker}",
                 f"kill me lol {marker}", f"!pause {marker}", f"!resources {marker}", f"!help {marker}",
                 f"{marker}"]
        for i, text in enumerate(texts):
            await runner.handle(say(text, sender=f"@u{i}:test", ts=clock.advance(1)))
        await runner.handle(say(f"!pause {marker}", power=100, ts=clock.advance(1)))
        await runner.handle(say(f"i took all my pills {marker}", sender="@p:test", ts=clock.advance(1)))
        assert len(list(event_log.rows())) > 10  # the flow really ran
        live = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        assert "gateway.db-wal" in live  # scanned while the write-ahead log still exists
        assert [name for name, data in live.items() if marker.encode() in data] == []
    finally:
        event_log.close()
        root.removeHandler(handler)
        handler.close()
    written = list(tmp_path.iterdir())
    assert {p.name for p in written} >= {"gateway.db", "gateway.key", "app.log"}
    for path in written:
        assert marker.encode() not in path.read_bytes(), f"{path.name} contains message text"
    assert marker not in caplog.text
    assert logfile.read_text()  # the log was really written to


async def test_a_batch_is_handled_exactly_as_one_event_at_a_time(default_policy, directory, adapter, clock):
    """``handle_many`` (one sync response, a burst of IRC lines) detects in one batch: the actions,
    their order and what the people see must be those of handling each event alone."""
    from gateway.core.engine import Engine

    from .conftest import make_binding

    texts = ["morning all", "i took all my pills", "kill me lol this printer", "!help",
             "i wish i was dead", "you should just die", "lunch?", "i want to die"]
    senders = ["@ana:test", "@kit:test", "@ana:test", "@ana:test", "@lee:test", "@ana:test",
               "@kit:test", "@lee:test"]

    async def run(batched: bool):
        counter = iter(range(1, 1000))
        engine = Engine([make_binding(default_policy)], directory, bot_ids={NET: "@bot:test"},
                        case_id=lambda: f"case{next(counter)}")
        memory = MemoryAdapter(NET, members={ROOM: {"@kit:test", "@ana:test", "@lee:test"}})
        runner = Runner(engine, {NET: memory}, None, clock=clock)
        events = [say(t, sender=s, ref=f"$b{i}") for i, (t, s) in enumerate(zip(texts, senders))]
        if batched:
            await runner.handle_many(events)
        else:
            for ev in events:
                await runner.handle(ev)
        return memory.calls, memory.members[ROOM]

    one_by_one, batched = await run(False), await run(True)
    assert batched == one_by_one
    # kit; lee for concern, then a short one for lee's tighter (high) case
    assert [c.method for c in batched[0]].count("send_private") == 3
    assert batched[1] == {"@ana:test", "@lee:test"}  # kit removed (imminent); lee was messaged, not removed


async def test_a_batch_screened_before_a_reload_uses_the_new_policy(engine, write, tmp_path):
    """Detection done for a batch belongs to the policy it was done with: after a reload the message
    is judged again by the policy now in force."""
    import dataclasses

    from gateway.policy.loader import PolicyLoader

    write("quiet.yaml", "extends: default\nname: quiet\nmode: observe\ntiers:\n  concern:\n    rules:\n"
                        "      extra:\n        phrases: [purple elephants]\n")
    events = [say("ok"), say("i love purple elephants"), say("fine")]
    batch = engine.handle_many(events)
    assert next(batch) == []  # the batch is screened by now, under the default policy
    binding = engine.rooms[(NET, ROOM)]
    engine.rooms[(NET, ROOM)] = dataclasses.replace(binding, policy=PolicyLoader([tmp_path]).load("quiet"))
    actions = next(batch)
    assert any(getattr(a, "tier", None) == "concern" for a in actions)


async def test_one_failing_event_in_a_batch_does_not_stop_the_rest(engine, adapter, clock, caplog):
    runner = Runner(engine, {NET: adapter}, None, clock=clock)
    original = engine._on_message

    def on_message(event, screened=None):
        if event.text == "boom":
            raise ValueError("never logged: boom")
        return original(event, screened)

    engine._on_message = on_message
    await runner.handle_many([say("boom"), say(IMMINENT)])
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert "ValueError" in caplog.text and "never logged" not in caplog.text


async def test_a_failing_batch_detection_falls_back_to_one_by_one(engine, adapter, clock, caplog):
    """The batch is only a shortcut: if it fails, every message is detected on its own."""
    runner = Runner(engine, {NET: adapter}, None, clock=clock)
    detector = detector_for(engine.rooms[(NET, ROOM)].policy)

    def broken(texts):
        raise RuntimeError("never logged")

    detector.detect_many, saved = broken, detector.detect_many
    try:
        await runner.handle_many([say("morning"), say(IMMINENT)])
    finally:
        detector.detect_many = saved
    assert adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    assert "never logged" not in caplog.text
