"""Safety and security findings of issue 14, against the core (the network-level proofs are in the live
tests named in docs/reliability.md). Each test failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core import actions as A
from gateway.config.config_file import load_config
from gateway.detection import detector_for
from gateway.core.quotes import own_words
from gateway.yamlfiles.located import ConfigError, ConfigErrors

from .conftest import CONFIG, GOOD, NET, ROOM, say
from .test_engine import IMMINENT, kinds, only, outcome

KIND_REPLY = "> <@kit:test> i am going to kill myself tonight\n\nplease talk to us, we care about you"


def adapter_actions(actions):
    return [a for a in actions if isinstance(a, (A.SendPrivate, A.RemoveFromRoom, A.AlertModerators))]


# -- finding 1: a kind reply is not the replier's own risk; a moderator is never removed ------------

@pytest.mark.parametrize("text", [
    KIND_REPLY,  # Matrix reply fallback
    "> i am going to kill myself tonight\nwe are here for you",  # a Markdown quote
    "<kit> i took all my pills\nkit please call 116 123",  # a pasted IRC line
    "> i took all my pills",  # a quote and nothing else
])
def test_quoted_words_are_not_the_writers_own(engine, text):
    assert adapter_actions(engine.handle(say(text, sender="@ana:test"))) == []


def test_own_words_keep_what_is_not_a_quote():
    assert own_words("i love you <3 > everyone") == "i love you <3 > everyone"
    assert own_words("> quoted\nmine") == "mine"
    assert own_words("<3 i took all my pills") == "<3 i took all my pills"


def test_the_writers_own_risk_under_a_quote_is_still_seen(engine):
    dm = only(engine.handle(say("> are you ok?\ni took all my pills", sender="@ana:test")), A.SendPrivate)
    assert dm.user == "@ana:test"


def test_a_moderator_at_risk_is_messaged_and_reported_never_removed(engine):
    first = engine.handle(say(IMMINENT, sender="@mod:test", power=100))
    dm = only(first, A.SendPrivate)
    assert dm.user == "@mod:test" and "take you out" not in dm.text  # no removal promised
    after = engine.handle(outcome(dm))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]
    alert = only(after, A.AlertModerators)
    assert "never removes one" in alert.text and "moderator" in alert.text
    assert alert.priority == "urgent"


def test_a_moderator_case_is_still_never_removed_after_a_restart(engine, default_policy, directory):
    from gateway.core.engine import Engine

    from .conftest import make_binding

    first = engine.handle(say(IMMINENT, sender="@mod:test", power=100))
    opened = only(first, A.OpenCase)
    assert opened.moderator
    resumed = Engine([make_binding(default_policy)], directory)
    row = {"case_id": opened.case, "network": NET, "room": ROOM, "user": "@mod:test", "ref": None,
           "tier": "imminent", "rules": opened.rules, "kind": "risk", "observe": False, "dm": "done",
           "removal": "pending", "alert": "pending", "moderator": True, "dedupe": True}
    out = resumed.resume([row], 1_800_000_100.0)
    assert not [a for a in out if isinstance(a, A.RemoveFromRoom)]
    assert only(out, A.AlertModerators)


# -- finding 4: the private message never claims a removal that has not happened ------------------

def test_the_crisis_message_is_true_whether_or_not_the_removal_works(engine):
    dm = only(engine.handle(say(IMMINENT)), A.SendPrivate)
    lowered = dm.text.lower()
    for claim in ("you've been moved", "you have been moved", "you've been removed", "you have been removed"):
        assert claim not in lowered
    assert "may also take you out" in lowered  # still says why they may find themselves outside
    removal = only(engine.handle(outcome(dm)), A.RemoveFromRoom)
    alert = only(engine.handle(outcome(removal, ok=False, code="482")), A.AlertModerators)
    assert "FAILED (482)" in alert.text


# -- finding 5: no removal without a private message of the same case ----------------------------

def test_concern_then_imminent_an_hour_later_gets_a_message_before_the_removal(engine):
    concern = only(engine.handle(say("i wish i was dead")), A.SendPrivate)
    engine.handle(outcome(concern))
    later = engine.handle(say(IMMINENT, ts=1_800_003_600.0))
    short = only(later, A.SendPrivate)
    assert short.case == concern.case and short.step == "dm" and short.seq == 2  # the same case, its next round
    assert "116 123" in short.text and "999" in short.text and "bot" in short.text
    assert len(short.text) < len(concern.text) + 200  # short: they had the full message an hour ago
    assert not [a for a in later if isinstance(a, A.RemoveFromRoom)]
    assert only(engine.handle(outcome(short)), A.RemoveFromRoom).user == "@kit:test"


def test_a_failed_short_message_keeps_the_person_in_the_room(engine):
    engine.handle(outcome(only(engine.handle(say("i wish i was dead")), A.SendPrivate)))
    short = only(engine.handle(say(IMMINENT, ts=1_800_003_600.0)), A.SendPrivate)
    after = engine.handle(outcome(short, ok=False, code="M_FORBIDDEN"))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]
    assert "kept in the room" in only(after, A.AlertModerators).text


def test_same_tier_within_the_outreach_interval_is_not_messaged_again_and_not_removed(engine):
    first = only(engine.handle(say("i want to kill myself")), A.SendPrivate)  # high: 6 h cooldown
    engine.handle(outcome(first))
    again = engine.handle(say("i want to kill myself", ts=1_800_030_000.0))  # after the cooldown, in 24 h
    assert not [a for a in again if isinstance(a, (A.SendPrivate, A.RemoveFromRoom))]
    assert "dm_skipped" in kinds(again)


def test_a_moderators_remove_command_messages_first_and_never_removes_after_a_failed_message(engine):
    from .conftest import MODS

    dm = only(engine.handle(say("i wish i was dead")), A.SendPrivate)
    engine.handle(outcome(dm, ok=False, code="M_FORBIDDEN"))
    retry = only(engine.handle(say(f"!remove {dm.case}", room=MODS, sender="@mod:test", power=100)),
                 A.SendPrivate)
    after = engine.handle(outcome(retry, ok=False, code="M_FORBIDDEN"))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]


# -- finding 9: a moderators' room that would out people is refused --------------------------------

def _config_errors(write, room_extra: str = "", policy: str = GOOD) -> tuple[str, list[str]]:
    write("policies/peer.yaml", policy)
    path = write("gateway.yaml", CONFIG + room_extra + "policy_dir: policies\n")
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        load_config(path)
    exc = info.value
    return str(path), [str(e) for e in (exc.errors if isinstance(exc, ConfigErrors) else [exc])]


def test_a_moderators_room_equal_to_the_watched_room_is_refused_at_its_line(write):
    path, errors = _config_errors(write, '    moderators_room: "!group:test"\n')
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:12:22: rooms[0].moderators_room: the moderators' room '!group:test' "
                                "is a watched group room")


def test_a_policy_whose_moderators_room_is_the_watched_room_is_refused_at_the_policys_line(write):
    path, errors = _config_errors(write, policy=GOOD.replace("!mods:test", "!group:test"))
    policy = Path(path).parent / "policies" / "peer.yaml"
    assert errors == [f"{policy}:5:9: moderators.room: the moderators' room '!group:test' is a watched group "
                      f"room: alerts name the person at risk, so they would be posted to everyone there. Use a "
                      f"separate, private room for moderators (for the rooms of network mx in {path})"]


def test_a_policy_moderators_room_of_the_wrong_shape_is_told_at_the_policys_line_once(write):
    two_rooms = "  - network: mx\n    room: \"!other:test\"\n    policy: peer\n"
    path, errors = _config_errors(write, two_rooms, policy=GOOD.replace('"!mods:test"', '"#mods"'))
    policy = Path(path).parent / "policies" / "peer.yaml"
    assert errors == [f"{policy}:5:9: moderators.room: the moderators' room must be a Matrix room id (!abc or "
                      f"!abc:example.org) or alias (#name:example.org), got '#mods' (for the rooms of network mx "
                      f"in {path})"]
    # no room of any network: said by the policy alone (gateway check --policy)
    path, errors = _config_errors(write, policy=GOOD.replace('"!mods:test"', "mods"))
    assert errors == [f"{policy}:5:9: moderators.room: expected a Matrix room id (!abc:example.org) or alias "
                      f"(#name:example.org), or an IRC channel (#name), got 'mods'"]


def test_a_list_as_moderators_room_is_refused_at_its_line(write):
    path, errors = _config_errors(write, '    moderators_room: ["!a:test", "!b:test"]\n')
    assert errors == [f"{path}:12:22: rooms[0].moderators_room: the moderators' room must be a Matrix room "
                      f"id (!abc or !abc:example.org) or alias (#name:example.org), got ['!a:test', '!b:test']"]


# -- finding 10: notices and emotes are read; other bots named in the config are not ----------------

def test_a_notice_is_scanned_but_never_runs_a_command(engine):
    from dataclasses import replace

    assert only(engine.handle(replace(say(IMMINENT), notice=True)), A.SendPrivate)
    assert adapter_actions(engine.handle(replace(say("!pause", power=100), notice=True))) == []
    assert not engine.state.paused


def test_bots_named_in_the_config_are_ignored(default_policy, directory):
    from gateway.core.engine import Engine

    from .conftest import make_binding

    engine = Engine([make_binding(default_policy)], directory, other_bots={NET: frozenset({"@relay:test"})})
    assert engine.handle(say(IMMINENT, sender="@relay:test")) == []
    assert only(engine.handle(say(IMMINENT, sender="@kit:test")), A.SendPrivate)


# -- finding 6: message ids are not kept once the case is done --------------------------------------

async def test_a_finished_case_keeps_no_message_id(engine, tmp_path):
    from gateway.store.eventlog import EventLog
    from gateway.runner import Runner
    from tests.memory_adapter import MemoryAdapter

    log = EventLog(tmp_path / "gateway.db")
    engine.ref_key = log.ref_digest
    runner = Runner(engine, {NET: MemoryAdapter(NET, members={ROOM: {"@kit:test"}})}, log)
    await runner.handle(say(IMMINENT, ref="$EventIdThatFetchesTheText"))
    assert log.journal_unfinished() == []
    log.close()
    for path in tmp_path.iterdir():
        assert b"EventIdThatFetchesTheText" not in path.read_bytes(), path.name
    # ...yet the same message delivered again after a restart is still recognised
    log = EventLog(tmp_path / "gateway.db")
    assert log.ref_digest(NET, "$EventIdThatFetchesTheText") in log.journal_refs()
    log.close()


# -- finding 12: the event log's key and erasure -----------------------------------------------------

def _log_with_a_case(tmp_path):
    from gateway.store.eventlog import EventLog

    log = EventLog(tmp_path / "gateway.db")
    log.write(A.RecordEvent(1, NET, kind="risk_detected", room=ROOM, user="@kit:test", tier="high"), 1.0)
    return log


def test_a_lost_key_file_is_refused_not_replaced(tmp_path):
    from gateway.store.eventlog import EventLog, EventLogError

    _log_with_a_case(tmp_path).close()
    (tmp_path / "gateway.key").unlink()
    before = (tmp_path / "gateway.db").read_bytes()
    with pytest.raises(EventLogError, match="key .* is missing.*--new-log"):
        EventLog(tmp_path / "gateway.db")
    assert not (tmp_path / "gateway.key").exists()  # no new key made behind anyone's back
    assert (tmp_path / "gateway.db").read_bytes() == before
    log = EventLog(tmp_path / "gateway.db", new_log=True)  # the explicit way out keeps the old file aside
    assert list(log.rows()) == []
    log.close()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("gateway.db.orphaned-")]
    assert [p.read_bytes() for p in aside if not p.name.endswith(("-wal", "-shm"))] == [before]


def test_a_key_file_from_another_log_is_refused(tmp_path):
    from gateway.store.eventlog import EventLog, EventLogError

    _log_with_a_case(tmp_path).close()
    (tmp_path / "gateway.key").write_text("ab" * 32)
    with pytest.raises(EventLogError, match="does not belong"):
        EventLog(tmp_path / "gateway.db")


@pytest.mark.parametrize("damaged", ["gateway.db", "gateway.key"])
def test_a_damaged_database_or_key_is_one_clear_error_and_left_untouched(tmp_path, damaged):
    from gateway.cli import main

    _log_with_a_case(tmp_path).close()
    target = tmp_path / damaged
    target.write_bytes(b"\x00garbage\xff" * 100)
    before = target.read_bytes()
    code = main(["log", "stats", "--db", str(tmp_path / "gateway.db")])
    assert code != 0
    assert target.read_bytes() == before


def test_damaged_files_print_one_line_and_no_traceback(tmp_path):
    from .test_cli import run

    _log_with_a_case(tmp_path).close()
    (tmp_path / "gateway.db").write_bytes(b"not a database at all" * 50)
    done = run("log", "stats", "--db", str(tmp_path / "gateway.db"), text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "not a readable SQLite database" in done.stderr


def test_forget_with_another_reader_reports_pending_then_erases_for_real(tmp_path, monkeypatch):
    import sqlite3
    import time
    import types

    from gateway.store import eventlog

    # the checkpoint's pauses between attempts (1.5 s while the reader holds on) need not pass in real time here,
    monkeypatch.setattr(eventlog, "time", types.SimpleNamespace(**{**vars(time), "sleep": lambda _s: None}))
    monkeypatch.setattr(eventlog.EventLog, "checkpoint_busy_ms", 10)  # nor SQLite's wait on the reader each time
    log = _log_with_a_case(tmp_path)
    subject = log.pseudonym(NET, "@kit:test").encode()
    log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for i in range(5):  # later writes put pages naming the person in the WAL
        log.write(A.RecordEvent(2 + i, NET, kind="dm_sent", room=ROOM, user="@kit:test"), 2.0 + i)
    reader = sqlite3.connect(tmp_path / "gateway.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()  # holds a snapshot open
    deleted, erased = log.forget("@kit:test", NET)
    assert deleted == 6 and not erased  # honest: the WAL still holds older pages
    reader.execute("COMMIT")
    reader.close()
    deleted, erased = log.forget("@kit:test", NET)
    assert (deleted, erased) == (0, True)
    log.close()
    for path in tmp_path.iterdir():
        assert subject not in path.read_bytes(), path.name


# -- finding 7: raids and floods have limits -----------------------------------------------------------

def _rig(engine, clock):
    from gateway.runner import Runner
    from tests.memory_adapter import MemoryAdapter

    adapter = MemoryAdapter(NET, members={ROOM: {f"@puppet{i}:test" for i in range(300)}})
    return adapter, Runner(engine, {NET: adapter}, None, clock=clock)


async def test_three_hundred_sock_puppets_get_messages_within_budget_and_one_raid_alert(engine, clock):
    from gateway.core.events import Tick

    adapter, runner = _rig(engine, clock)
    for i in range(300):
        await runner.handle(say(IMMINENT, sender=f"@puppet{i}:test", ts=clock.advance(1)))
    calls = adapter.calls
    removals = [c for c in calls if c.method == "remove_from_room"]
    dms = [c for c in calls if c.method == "send_private"]
    alerts = [c for c in calls if c.method == "alert_moderators"]
    assert len(removals) == 5  # the five cases before the room counted as raided; none after
    # crisis messages go on within the budget: 5 before the raid, then 20 per 10-minute window
    assert len(dms) == 5 + 20
    assert len(alerts) == 5 + 1 and sum("Possible raid" in a["text"] for a in alerts) == 1
    raid = next(a for a in alerts if "Possible raid" in a["text"])
    assert raid["priority"] == "urgent" and "Automatic removal is paused" in raid["text"]
    # every case is open and can be looked at; the puppets' budgets reset with the window
    assert len(engine.state.cases) == 300
    # time passes: the five alerted cases escalate together (one alert, at most one @room ping) and the
    # raid's new cases come as one update, never 600 escalations and 300 pings
    before = len(adapter.calls)
    for _ in range(8):
        await runner.handle(Tick(NET, clock.advance(600)))
    later = [c for c in adapter.calls[before:] if c.method == "alert_moderators"]
    assert sum(c["mention_all"] for c in later) <= 1
    assert len(later) <= 4, [c["text"][:60] for c in later]
    assert any("5 cases have not been acknowledged" in c["text"] for c in later)
    assert any("Still a raid" in c["text"] for c in later)


async def test_a_flood_of_talk_requests_gives_one_aggregated_alert(engine, clock):
    from gateway.core.events import PrivateMessage, Tick

    adapter, runner = _rig(engine, clock)
    for i in range(200):
        await runner.handle(PrivateMessage(NET, clock.advance(0.5), sender=f"@puppet{i}:test", text="talk",
                                           rooms=(ROOM,)))
    alerts = [c for c in adapter.calls if c.method == "alert_moderators"]
    assert len(alerts) == 5  # the first five, one each
    acks = [c for c in adapter.calls if c.method == "send_private"]
    assert len(acks) == 200  # each asker is told, privately, once
    await runner.handle(Tick(NET, clock.advance(600)))
    flood = [c for c in adapter.calls if c.method == "alert_moderators"][5:]
    assert len(flood) == 1 and "195 more people asked" in flood[0]["text"]


async def test_replies_and_refusals_are_rate_limited_per_person(engine, clock):
    from gateway.core.events import PrivateMessage

    adapter, runner = _rig(engine, clock)
    for _ in range(30):
        await runner.handle(say("!help", sender="@ana:test", ts=clock.advance(1)))
    for _ in range(30):
        await runner.handle(say("!pause", sender="@ana:test", ts=clock.advance(1)))
    for _ in range(100):
        await runner.handle(PrivateMessage(NET, clock.advance(1), sender="@lee:test", text="resources GB",
                                           rooms=(ROOM,)))
    by = {}
    for c in adapter.calls:
        who = c.args.get("user") or "room"
        by[(c.method, who)] = by.get((c.method, who), 0) + 1
    assert by.get(("post_notice", "room"), 0) == 3  # three answers to ana, then silence
    assert by.get(("send_private", "@lee:test"), 0) == 3
    assert not engine.state.paused
    # a moderator is never rate-limited
    for _ in range(5):
        await runner.handle(say("!status", sender="@mod:test", power=100, ts=clock.advance(1)))
    assert sum(1 for c in adapter.calls if c.method == "post_notice") == 3 + 5


def test_limits_are_set_in_policy_and_checked(write):
    from gateway.policy.loader import PolicyLoader

    p = PolicyLoader([write("x.yaml", "").parent]).load(str(write("peer.yaml", GOOD + "limits:\n  cases_per_room: 50\n")))
    assert p.limits.cases_per_room == 50 and p.limits.window == 600
    with pytest.raises((ConfigError, ConfigErrors), match="limits.cases_per_room"):
        PolicyLoader().load(str(write("bad.yaml", GOOD + "limits:\n  cases_per_room: many\n")))


def test_a_database_from_before_keeps_working_and_loses_its_clear_message_ids(tmp_path):
    """Databases written before finding 6 kept message ids in the clear: opening one migrates them (a
    digest for every case; sealed for a case still running) and the clear ids are gone."""
    import sqlite3

    from gateway.store.eventlog import EventLog

    db = sqlite3.connect(tmp_path / "gateway.db")
    db.execute("CREATE TABLE journal (case_id TEXT PRIMARY KEY, network TEXT NOT NULL, room TEXT NOT NULL,"
               " sealed TEXT, subject TEXT NOT NULL, ref TEXT, tier TEXT NOT NULL, rules TEXT NOT NULL,"
               " kind TEXT NOT NULL, opened_ts INTEGER NOT NULL, dm TEXT NOT NULL, removal TEXT NOT NULL,"
               " alert TEXT NOT NULL, observe INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0) STRICT")
    db.execute("INSERT INTO journal VALUES ('done1', 'mx', '!r:t', NULL, 'p_00', '$OldFinished', 'high', 'x',"
               " 'risk', 1, 'done', 'done', 'done', 0, 1)")
    db.commit()
    db.close()
    (tmp_path / "gateway.key").write_text("cd" * 32)
    log = EventLog(tmp_path / "gateway.db")
    assert log.ref_digest("mx", "$OldFinished") in log.journal_refs()
    log.close()
    for path in tmp_path.iterdir():
        assert b"$OldFinished" not in path.read_bytes(), path.name
    raw = sqlite3.connect(tmp_path / "gateway.db")
    assert raw.execute("SELECT count(*) FROM journal WHERE ref IS NOT NULL").fetchone()[0] == 0


# -- issue 15, item 7: a person's recent messages ------------------------------------------------------

def detected(actions) -> A.RecordEvent:
    """What a line was judged (it opened a case, or joined the writer's open one)."""
    return next(a for a in actions if isinstance(a, A.RecordEvent) and a.kind == "risk_detected")


def test_a_farewell_after_earlier_risk_is_imminent(engine):
    first = engine.handle(say("nobody would miss me", sender="@kit:test"))
    assert only(first, A.OpenCase).tier in ("concern", "high")
    later = engine.handle(say("goodbye everyone, thanks for everything", sender="@kit:test", ts=1_800_000_300.0))
    judged = detected(later)  # joins kit's open case
    assert judged.tier == "imminent" and "context.farewell_after_risk" in judged.rules and judged.outcome == "joined"


def test_a_farewell_alone_or_from_someone_else_or_too_late_is_not(engine):
    engine.handle(say("nobody would miss me", sender="@kit:test"))
    other = engine.handle(say("goodbye everyone, thanks for everything", sender="@ana:test", ts=1_800_000_100.0))
    assert only(other, A.OpenCase).tier == "high"
    late = engine.handle(say("goodbye everyone, thanks for everything", sender="@kit:test", ts=1_800_003_700.0))
    assert detected(late).tier == "high"  # an hour later: outside the 15-minute window
    assert all(isinstance(k, tuple) and all(isinstance(x, (int, float)) for entry in v for x in entry)
               for k, v in engine.state.recent.items())  # times and tiers only


def test_a_short_line_that_carries_out_earlier_risk_is_imminent_and_removes(engine):
    """Chat splits a message over lines: "ive got all my pills here" (high), then "taking them now", which names
    no means and alone is nothing. After the same person's risk within the window it is the act, now: imminent
    (``context.followups``), and the flow goes on to the removal; the alert says why, never what."""
    first = engine.handle(say("ive got all my pills here and i cant do this anymore", sender="@kit:test"))
    assert only(first, A.OpenCase).tier in ("concern", "high")
    engine.handle(outcome(only(engine.handle(outcome(only(first, A.SendPrivate))), A.AlertModerators)))
    later = engine.handle(say("taking them now", sender="@kit:test", ts=1_800_000_120.0))
    judged = detected(later)
    assert judged.tier == "imminent" and "context.act_after_risk" in judged.rules and judged.outcome == "joined"
    removal = only(engine.handle(outcome(only(later, A.SendPrivate))), A.RemoveFromRoom)  # the case's next round
    assert removal.user == "@kit:test"
    alert = only(engine.handle(outcome(removal)), A.AlertModerators)
    assert "context.act_after_risk (a short line that carries out the risk they wrote here within 15m)" in alert.text
    assert "taking them" not in alert.text


@pytest.mark.parametrize("line", ["taking them now", "doing it at 11", "got em. doing it now"])
def test_a_follow_up_alone_from_someone_else_too_late_or_as_a_joke_is_nothing(engine, line):
    assert not [a for a in engine.handle(say(line, sender="@kit:test")) if isinstance(a, A.OpenCase)]  # alone
    engine.handle(say("ive got all my pills here and i cant do this anymore", sender="@kit:test", ts=1_800_000_010.0))
    other = engine.handle(say(line, sender="@ana:test", ts=1_800_000_100.0))  # ana had no risk
    assert not [a for a in other if isinstance(a, A.OpenCase)]
    joke = engine.handle(say(line + " lol", sender="@kit:test", ts=1_800_000_200.0))
    assert not [a for a in joke if isinstance(a, A.RecordEvent) and a.kind == "risk_detected"]
    errand = engine.handle(say("took them all to the tip", sender="@kit:test", ts=1_800_000_300.0))
    assert not [a for a in errand if isinstance(a, A.RecordEvent) and a.kind == "risk_detected"]
    late = engine.handle(say(line, sender="@kit:test", ts=1_800_003_700.0))  # an hour later: outside 15 minutes
    assert not [a for a in late if isinstance(a, A.RecordEvent) and a.kind == "risk_detected"]


# -- issue 15, item 6: the speaker, not the topic ----------------------------------------------------

def test_someone_else_at_risk_gives_the_moderators_a_case_and_the_writer_how_to_help(engine):
    out = engine.handle(say("my friend says she's going to kill herself tonight", sender="@ana:test"))
    case = only(out, A.OpenCase)
    assert case.kind == "thirdparty" and case.user == "@ana:test"
    dm = only(out, A.SendPrivate)
    assert dm.user == "@ana:test" and "someone you know may be at risk" in dm.text and "999" in dm.text
    assert "Something you wrote made us worried" not in dm.text  # not the crisis message
    alert = only(out, A.AlertModerators)
    assert "said that someone they know may be at risk" in alert.text and "nobody was removed" in alert.text
    assert not [a for a in out if isinstance(a, A.RemoveFromRoom)]
    # said again: no second message or alert
    again = engine.handle(say("my friend says she's going to kill herself tonight", sender="@ana:test",
                              ts=1_800_000_060.0))
    assert not [a for a in again if isinstance(a, (A.SendPrivate, A.AlertModerators))]


def test_the_writers_own_risk_beside_someone_elses_is_still_theirs(engine):
    out = engine.handle(say("my friend wants to die and i want to die too", sender="@ana:test"))
    assert only(out, A.OpenCase).kind == "risk"


def test_the_alert_says_why_never_what(engine, default_policy, directory):
    """Issue 15, item 8: rule ids, the model's score and threshold, what the recent context added."""
    import dataclasses

    from gateway.core.engine import Engine
    from gateway.policy.model import ModelSettings

    from .conftest import make_binding

    engine.handle(outcome(only(engine.handle(say("nobody would miss me", sender="@kit:test")), A.SendPrivate)))
    dm = only(engine.handle(say("goodbye everyone, thanks for everything", sender="@kit:test",
                                ts=1_800_000_300.0)), A.SendPrivate)  # joins kit's case: its next round
    alert = only(engine.handle(outcome(only(engine.handle(outcome(dm)), A.RemoveFromRoom))), A.AlertModerators)
    assert "updated: tier raised from concern to imminent" in alert.text
    assert "context.farewell_after_risk (a farewell after earlier risk from them here within 15m)" in alert.text
    assert "goodbye" not in alert.text

    policy = dataclasses.replace(default_policy, model=ModelSettings(True), _detector=None)
    with_model = Engine([make_binding(policy)], directory)
    text = "honestly i would rather not wake up tomorrow, everything is too heavy"  # no phrase of the lexicon
    dm = only(with_model.handle(say(text, sender="@ana:test")), A.SendPrivate)
    alert = only(with_model.handle(outcome(dm)), A.AlertModerators)
    threshold = f"concern from {detector_for(policy).model_concern:.2f}"
    assert "model.risk (score " in alert.text and threshold in alert.text and "heavy" not in alert.text


# -- issue 15, item 5: self-harm and eating-disorder crises ----------------------------------------

@pytest.mark.parametrize("text", ["i started cutting again last night", "been starving myself for a week"])
def test_self_harm_and_eating_distress_get_a_message_that_does_not_talk_about_suicide(engine, text):
    out = engine.handle(say(text))
    dm = only(out, A.SendPrivate)
    assert "hurting yourself" in dm.text and "suicid" not in dm.text.lower() and "116 123" in dm.text
    after = engine.handle(outcome(dm))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]


def test_suicidal_words_beside_self_harm_get_the_crisis_message(engine):
    dm = only(engine.handle(say("i want to kill myself and cut myself")), A.SendPrivate)
    assert "Something you wrote made us worried about you" in dm.text
