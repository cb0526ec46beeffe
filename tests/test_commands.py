"""Every bot command: who may run it (by each network's own authority, never a name), where it answers,
what it does with missing or wrong arguments, and what it replies. Unit level, through the engine; the
live workflow tests (test_workflow_irc.py, test_workflow_matrix.py) run the same commands on real servers."""

from __future__ import annotations

import pytest

from gateway.core import actions as A
from gateway.core.commands import COMMANDS

from .conftest import MODS, NET, ROOM, say
from .test_engine import only, outcome

# How each network says "moderator": Matrix by power level, IRC by channel operator status or by a
# services account the policy lists. A display name or nick that looks like a moderator's is nothing.
MODERATOR = {"matrix power level 100": dict(power=100), "irc operator": dict(operator=True)}
NOT_MODERATOR = {"matrix power level 0": dict(power=0), "irc voice only": dict(operator=False),
                 "irc unlisted account": dict(account="mallory"), "a moderator's nick": dict(sender="@mod:test")}


def replies(actions) -> list[str]:
    return [a.text for a in actions if isinstance(a, (A.PostNotice, A.SendPrivate))]


def run(engine, text, *, room=MODS, **who) -> list[A.Action]:
    who.setdefault("sender", "@someone:test")
    return engine.handle(say(text, room=room, **who))


def open_case(engine) -> str:
    dm = only(engine.handle(say("i wish i was dead")), A.SendPrivate)
    engine.handle(outcome(dm))
    return dm.case


def test_every_command_is_covered_here():
    assert set(COMMANDS) == {"help", "resources", "status", "pause", "resume", "guidelines", "cases", "case",
                             "ack", "close", "escalated", "readmit", "remove", "scan", "reload"}


@pytest.mark.parametrize("who", NOT_MODERATOR.values(), ids=NOT_MODERATOR.keys())
@pytest.mark.parametrize("name", [c.name for c in COMMANDS.values() if c.moderator])
def test_moderator_commands_are_refused_to_everyone_else(engine, name, who):
    out = run(engine, f"!{name} x", room=ROOM, **who)
    assert replies(out) == [f"Sorry, !{name} is for moderators."]
    record = only(out, A.RecordEvent)
    assert (record.kind, record.command, record.authorised) == ("command", name, False)


@pytest.mark.parametrize("who", MODERATOR.values(), ids=MODERATOR.keys())
@pytest.mark.parametrize("name", [c.name for c in COMMANDS.values() if c.moderators_room_only])
def test_case_commands_never_answer_in_a_group_room(engine, name, who):
    out = run(engine, f"!{name}", room=ROOM, **who)
    assert replies(out) == [f"!{name} works in the moderators' room."]


def test_an_irc_services_account_listed_by_the_policy_counts(engine, default_policy):
    import dataclasses

    from .conftest import make_binding

    policy = dataclasses.replace(default_policy, moderators=dataclasses.replace(default_policy.moderators,
                                                                                accounts=("Alice",)))
    engine.set_rooms([make_binding(policy)])
    assert replies(run(engine, "!status", room=ROOM, account="alice"))[0].startswith("Watching this room, ")
    assert replies(run(engine, "!status", room=ROOM, account="alicia")) == ["Sorry, !status is for moderators."]


@pytest.mark.parametrize("who", MODERATOR.values(), ids=MODERATOR.keys())
def test_every_case_command_asks_for_a_case_id_and_refuses_an_unknown_one(engine, who):
    for name in ("case", "ack", "close", "escalated", "readmit", "remove"):
        assert replies(run(engine, f"!{name}", **who)) == ["Which case? Give its id, e.g. !case abc234."]
        assert replies(run(engine, f"!{name} nope42", **who)) == [
            "No case 'nope42' here. !cases lists the open ones."]


def test_help_lists_only_what_the_asker_may_use(engine):
    everyone = replies(run(engine, "!help", room=ROOM))[0]
    moderator = replies(run(engine, "!help", room=ROOM, power=100))[0]
    assert "!resources" in everyone and "!remove" not in everyone
    assert "!remove" in moderator and "!scan" in moderator


def test_resources_are_sent_privately_to_anyone(engine):
    out = run(engine, "!resources GB", room=ROOM)
    dm = only(out, A.SendPrivate)
    assert dm.user == "@someone:test" and "116 123" in dm.text
    assert not [a for a in out if isinstance(a, A.PostNotice)]


def test_status_pause_resume_and_guidelines(engine):
    assert replies(run(engine, "!status", power=100)) == [
        f"Watching 1 room(s) for this moderators' room:\n{ROOM} (test): 0 open case(s), 0 awaiting an alert; "
        f"mode: act; not paused."]
    assert replies(run(engine, "!pause", power=100)) == [
        f"The bot is paused: it will alert moderators but not message or remove anyone in {ROOM}."]
    assert replies(run(engine, "!status", power=100))[0].endswith("mode: act; paused.")
    assert replies(run(engine, "!resume", power=100)) == [f"The bot is resumed: acting again in {ROOM}."]
    posted = run(engine, "!guidelines", power=100)
    assert only(posted, A.PostNotice).room == ROOM


def test_cases_case_ack_close_and_escalated(engine):
    case = open_case(engine)
    listing = replies(run(engine, "!cases", power=100))[0]
    assert listing.startswith("1 open case(s):") and f"{case}: concern, @kit:test" in listing
    detail = replies(run(engine, f"!case {case}", power=100))[0]
    assert "Private message: delivered. Removal: not needed." in detail and "NOT acknowledged" in detail
    assert replies(run(engine, f"!ack {case}", power=100)) == [
        f"Case {case} acknowledged by @someone:test. No more repeated alerts for it."]
    assert replies(run(engine, f"!escalated {case}", power=100))[0].startswith(
        f"Recorded for case {case}: a moderator contacted emergency services.")
    assert replies(run(engine, f"!close {case} maybe", power=100)) == [
        "Close with one of: resolved, safe, referred, no_contact, false_alarm, other."]
    assert replies(run(engine, f"!close {case} safe", power=100)) == [
        f"Case {case} closed (safe). No follow-up reminder will be sent."]
    assert replies(run(engine, "!cases", power=100)) == ["No open cases."]


def test_remove_messages_first_then_removes_and_readmit_lets_them_back(engine):
    case = open_case(engine)  # concern: the tier removes nobody
    removal = only(run(engine, f"!remove {case}", power=100), A.RemoveFromRoom)  # a message of this case got through
    alert = only(engine.handle(outcome(removal)), A.AlertModerators)
    assert "Removal: done" in alert.text
    assert replies(run(engine, f"!remove {case}", power=100)) == [f"Case {case}: @kit:test was already removed."]
    readmit = only(run(engine, f"!readmit {case}", power=100), A.Readmit)
    assert "may come back" in only(engine.handle(outcome(readmit)), A.PostNotice).text


def test_scan_is_a_dry_run_and_needs_text(engine):
    assert replies(run(engine, "!scan", power=100)) == ["Usage: !scan TEXT"]
    out = run(engine, "!scan i took all my pills", power=100)
    assert "tier imminent; would remove: yes" in replies(out)[0]
    assert not [a for a in out if isinstance(a, (A.SendPrivate, A.RemoveFromRoom, A.OpenCase))]
    assert not engine.cases()


def test_reload_reports_in_the_room_where_it_was_asked(engine):
    from gateway.core.events import ReloadResult

    action = only(run(engine, "!reload", power=100), A.ReloadPolicies)
    done = engine.handle(ReloadResult(action.network, 1_800_000_010.0, action.id, ()))
    assert replies(done) == ["Policies reloaded: 1 room(s)."]
    action = only(run(engine, "!reload", power=100), A.ReloadPolicies)
    refused = engine.handle(ReloadResult(action.network, 1_800_000_020.0, action.id, ("p.yaml:1:1: bad",)))
    assert replies(refused)[0].startswith("Reload refused; the old policies stay in force:\np.yaml:1:1: bad")


def test_status_in_a_group_room_shows_that_rooms_figures_and_never_who(tmp_path, directory):
    """Issue 26, item 5: two rooms share one moderators' room, a third has its own. ``!status`` in a group
    room counts that room's cases only (never an id or a name); in a moderators' room, each room it
    looks after."""
    from gateway.config.config_file import load_config
    from gateway.core.engine import Engine

    from .factories import matrix_network, policy_yaml, room_entry, write_gateway

    a, b, c = "!a:test", "!b:test", "!c:test"
    path = write_gateway(tmp_path, policy=policy_yaml("!mods:test"),
                         networks=[matrix_network("http://127.0.0.1:8008", "@bot:test", "GATEWAY_T_PASSWORD",
                                                  name="test")],
                         rooms=[room_entry("test", a, extra="name: Room A"), room_entry("test", b),
                                room_entry("test", c, extra='moderators_room: "!mods-c:test"')])
    engine = Engine(load_config(path).rooms, directory, bot_ids={NET: "@bot:test"})
    engine.handle(say("i wish i was dead", room=a, sender="@kit:test"))  # a's case: its alert not sent yet
    engine.handle(say("i want to kill myself", room=c, sender="@ana:test"))
    run(engine, "!pause", room=b, power=100)

    [in_a] = replies(run(engine, "!status", room=a, power=100))
    assert in_a == ("Watching this room, Room A (test): 1 open case(s), 1 awaiting an alert; mode: act; "
                    "not paused.")
    assert replies(run(engine, "!status", room=b, power=100)) == [
        f"Watching this room, {b} (test): 0 open case(s), 0 awaiting an alert; mode: act; paused."]
    [in_mods] = replies(run(engine, "!status", room="!mods:test", power=100))
    assert in_mods == ("Watching 2 room(s) for this moderators' room:\n"
                       "Room A (test): 1 open case(s), 1 awaiting an alert; mode: act; not paused.\n"
                       f"{b} (test): 0 open case(s), 0 awaiting an alert; mode: act; paused.")
    assert "c:test" not in in_mods  # another moderators' room's room
    for text in (in_a, in_mods):
        assert "@kit" not in text and "@ana" not in text and not any(c.id in text for c in engine.cases())
