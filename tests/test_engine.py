"""The sans-I/O engine: the at-risk flow's ordering and branches, commands, guidelines, timers."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.core import actions as A
from gateway.detection import detector_for
from gateway.core.engine import Engine, guidelines_digest
from gateway.core.events import ActionOutcome, Join, Leave, PrivateMessage, RoomReady, Tick

from .conftest import MODS, NET, ROOM, make_binding, say

IMMINENT = "i took all my pills"
HIGH = "i want to kill myself"
CONCERN = "i wish i was dead"


def only(actions, kind):
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, f"expected one {kind.__name__}, got {[type(a).__name__ for a in actions]}"
    return found[0]


def outcome(action, ok=True, code=None, definitive=True, ts=1_800_000_001.0, ref=None):
    return ActionOutcome(action.network, ts, action.id, ok=ok, code=code, definitive=definitive, ref=ref)


def kinds(actions):
    return [a.kind for a in actions if isinstance(a, A.RecordEvent)]


def test_imminent_sends_private_message_and_nothing_else_until_its_outcome(engine):
    first = engine.handle(say(IMMINENT))
    dm = only(first, A.SendPrivate)
    assert dm.user == "@kit:test"
    assert "116 123" in dm.text and "999" in dm.text  # GB crisis line and emergency number
    assert "not a person or a counsellor" in dm.text
    assert not [a for a in first if isinstance(a, (A.RemoveFromRoom, A.AlertModerators))]
    assert kinds(first) == ["risk_detected"]
    case = only(first, A.OpenCase)
    assert (case.tier, case.rules) == ("imminent", ("imminent.act_frames", "imminent.act_under_way",
                                                "imminent.compose.act_dose"))


def test_removal_follows_accepted_private_message_then_alert(engine):
    dm = only(engine.handle(say(IMMINENT)), A.SendPrivate)
    after_dm = engine.handle(outcome(dm))
    remove = only(after_dm, A.RemoveFromRoom)
    assert kinds(after_dm) == ["dm_sent"]
    assert (remove.room, remove.user) == (ROOM, "@kit:test")
    assert "pill" not in remove.reason.lower() and "risk" not in remove.reason.lower()
    after_remove = engine.handle(outcome(remove))
    alert = only(after_remove, A.AlertModerators)
    assert alert.room == MODS and alert.priority == "urgent"
    assert dm.case in alert.text and "@kit:test" in alert.text
    assert "Private message: delivered. Removal: done." in alert.text
    assert "never contacts emergency services" in alert.text
    assert kinds(after_remove) == ["removed"]
    done = engine.handle(outcome(alert))
    assert kinds(done) == ["alerted"]
    assert only(done, A.UpdateCase).status == "alerted"


def test_failed_private_message_keeps_person_and_escalates_by_default(engine):
    dm = only(engine.handle(say(IMMINENT)), A.SendPrivate)
    after = engine.handle(outcome(dm, ok=False, code="M_FORBIDDEN"))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]
    alert = only(after, A.AlertModerators)
    assert alert.priority == "urgent"
    assert "not delivered (M_FORBIDDEN)" in alert.text and "kept in the room" in alert.text
    assert kinds(after) == ["dm_failed"]


def test_failed_private_message_removes_anyway_when_policy_says_so(default_policy, directory):
    tiers = dict(default_policy.tiers)
    imminent = tiers["imminent"]
    tiers["imminent"] = dataclasses.replace(
        imminent, action=dataclasses.replace(imminent.action, if_message_fails="remove"))
    policy = dataclasses.replace(default_policy, tiers=tiers, _detector=None)
    engine = Engine([make_binding(policy)], directory)
    dm = only(engine.handle(say(IMMINENT)), A.SendPrivate)
    after = engine.handle(outcome(dm, ok=False, code="401"))
    assert only(after, A.RemoveFromRoom).user == "@kit:test"


def test_failed_removal_raises_alert_priority(engine):
    dm = only(engine.handle(say(HIGH.replace("want to", "am going to") + " tonight")), A.SendPrivate)
    remove = only(engine.handle(outcome(dm)), A.RemoveFromRoom)
    alert = only(engine.handle(outcome(remove, ok=False, code="482")), A.AlertModerators)
    assert alert.priority == "urgent"
    assert "FAILED (482): still in the room" in alert.text


def test_high_tier_messages_and_alerts_without_removal(engine):
    dm = only(engine.handle(say(HIGH)), A.SendPrivate)
    after = engine.handle(outcome(dm))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]
    alert = only(after, A.AlertModerators)
    assert alert.priority == "high" and "Removal: not needed" in alert.text


def test_concern_sends_the_gentler_message(engine):
    dm = only(engine.handle(say(CONCERN)), A.SendPrivate)
    assert "check in" in dm.text and "moved out" not in dm.text


def test_no_action_on_ordinary_chat_or_idioms(engine):
    for text in ["good morning all", "kill me lol", "you're killing it", "I'm dead 😂"]:
        assert engine.handle(say(text)) == []


def test_cooldown_prevents_a_second_message_to_the_same_person(engine):
    dm = only(engine.handle(say(HIGH)), A.SendPrivate)
    engine.handle(outcome(dm))
    again = engine.handle(say(HIGH, ts=1_800_000_100.0))
    assert not [a for a in again if isinstance(a, A.SendPrivate)]
    assert [a.outcome for a in again if isinstance(a, A.RecordEvent)] == ["cooldown"]
    # a higher tier during the cooldown is acted on; it removes, so the person gets a short message of
    # its own first (never a removal without one: issue 14, finding 5), and only then the removal
    higher = engine.handle(say(IMMINENT, ts=1_800_000_200.0))
    short = only(higher, A.SendPrivate)
    assert "again" in short.text and "116 123" in short.text and "999" in short.text
    assert not [a for a in higher if isinstance(a, A.RemoveFromRoom)]
    alert = only(engine.handle(outcome(only(engine.handle(outcome(short)), A.RemoveFromRoom))), A.AlertModerators)
    assert "Private message: delivered. Removal: done." in alert.text


def test_observe_mode_alerts_would_have_acted_without_messaging_or_removing(default_policy, directory):
    policy = dataclasses.replace(default_policy, mode="observe", _detector=None)
    engine = Engine([make_binding(policy)], directory)
    first = engine.handle(say(IMMINENT))
    assert not [a for a in first if isinstance(a, (A.SendPrivate, A.RemoveFromRoom))]
    alert = only(first, A.AlertModerators)
    assert "Observe mode" in alert.text and "not sent (observe mode)" in alert.text


def test_the_bot_ignores_its_own_messages(engine):
    assert engine.handle(say(IMMINENT, sender="@bot:test")) == []


def test_moderators_room_is_never_scanned_for_risk(engine):
    assert engine.handle(say(IMMINENT, room=MODS, power=100)) == []


def test_unknown_room_is_ignored(engine):
    assert engine.handle(say(IMMINENT, room="!elsewhere:test")) == []


def test_moderator_command_refused_to_non_moderator_and_recorded(engine):
    actions = engine.handle(say("!pause", power=0))
    rec = only(actions, A.RecordEvent)
    assert (rec.kind, rec.command, rec.authorised) == ("command", "pause", False)
    assert "for moderators" in only(actions, A.PostNotice).text
    assert not engine.state.paused


@pytest.mark.parametrize("authority", [dict(power=50), dict(operator=True), dict(account="alice")])
def test_moderator_command_authorised_by_network_authority_only(default_policy, directory, authority):
    policy = dataclasses.replace(default_policy, moderators=dataclasses.replace(
        default_policy.moderators, accounts=("alice",)), _detector=None)
    engine = Engine([make_binding(policy)], directory)
    actions = engine.handle(say("!pause", **authority))
    records = [a for a in actions if isinstance(a, A.RecordEvent)]
    assert [(r.kind, r.command, r.authorised) for r in records] == [
        ("command", "pause", True), ("paused", None, None)]
    assert (NET, ROOM) in engine.state.paused
    # paused: detect and alert, but no private message or removal
    paused = engine.handle(say(IMMINENT))
    assert not [a for a in paused if isinstance(a, (A.SendPrivate, A.RemoveFromRoom))]
    assert "paused" in only(paused, A.AlertModerators).text


def test_display_name_or_nick_matching_a_moderator_does_not_authorise(default_policy, directory):
    policy = dataclasses.replace(default_policy, moderators=dataclasses.replace(
        default_policy.moderators, accounts=("alice",)), _detector=None)
    engine = Engine([make_binding(policy)], directory)
    actions = engine.handle(say("!pause", sender="alice", power=0, account=None))
    assert not engine.state.paused
    assert "for moderators" in only(actions, A.PostNotice).text


def test_resources_command_replies_privately_to_the_sender_only(engine):
    actions = engine.handle(say("!resources US", sender="@ana:test"))
    dm = only(actions, A.SendPrivate)
    assert dm.user == "@ana:test" and "988" in dm.text and "911" in dm.text


def test_resources_cannot_be_aimed_at_someone_else(engine):
    dm = only(engine.handle(say("!resources @kit:test", sender="@ana:test")), A.SendPrivate)
    assert dm.user == "@ana:test"


def test_a_command_line_is_read_for_risk_and_the_command_still_runs(engine):
    """Issue 24 finding 6: the words after a command are the writer's words (it used to skip them)."""
    actions = engine.handle(say("!help " + IMMINENT))
    assert only(actions, A.OpenCase).user == "@kit:test"
    assert only(actions, A.PostNotice).text.startswith("Safety bot commands")  # the command still ran
    assert [a for a in actions if isinstance(a, A.RecordEvent) and a.kind == "command"]
    # the command's own name is not read: "!resources" alone opens nothing
    assert not [a for a in engine.handle(say("!resources", sender="@ana:test")) if isinstance(a, A.OpenCase)]


def test_guidelines_posted_then_pinned_and_not_reposted_when_already_pinned(engine, default_policy):
    post = only(engine.handle(RoomReady(NET, 1.0, room=ROOM)), A.PostNotice)
    assert post.purpose == "guidelines"
    pin = only(engine.handle(outcome(post, ref="$g1")), A.PinNotice)
    assert (pin.ref, pin.replaces) == ("$g1", None)
    digest = guidelines_digest(default_policy.guidelines.text)
    fresh = Engine([make_binding(default_policy)], engine.directory)
    assert fresh.handle(RoomReady(NET, 2.0, room=ROOM, pinned_digest=digest, pinned_ref="$g1")) == []
    changed = fresh.handle(RoomReady(NET, 2.0, room=ROOM, pinned_digest="0" * 16, pinned_ref="$old"))
    post2 = only(changed, A.PostNotice)
    assert only(fresh.handle(outcome(post2, ref="$g2")), A.PinNotice).replaces == "$old"


def test_guidelines_reposted_after_interval(engine):
    post = only(engine.handle(RoomReady(NET, 0.0, room=ROOM)), A.PostNotice)
    engine.handle(outcome(post, ref="$g1"))
    assert engine.handle(Tick(NET, 3600.0)) == []
    assert only(engine.handle(Tick(NET, 7 * 86400.0)), A.PostNotice).purpose == "guidelines"


def test_greeting_with_grace_period_for_rejoins(default_policy, directory):
    policy = dataclasses.replace(default_policy, guidelines=dataclasses.replace(
        default_policy.guidelines, greet_on_join=True), _detector=None)
    engine = Engine([make_binding(policy)], directory, bot_ids={NET: "@bot:test"})
    greet = only(engine.handle(Join(NET, 0.0, room=ROOM, user="@new:test")), A.GreetUser)
    assert "!resources" in greet.text
    engine.handle(Leave(NET, 10.0, room=ROOM, user="@new:test"))
    assert engine.handle(Join(NET, 20.0, room=ROOM, user="@new:test")) == []
    assert engine.handle(Join(NET, 5.0, room=ROOM, user="@bot:test")) == []
    assert only(engine.handle(Join(NET, 10_000.0, room=ROOM, user="@new:test")), A.GreetUser)


def test_followup_reminder_after_policy_delay(engine):
    dm = only(engine.handle(say(HIGH)), A.SendPrivate)
    alert = only(engine.handle(outcome(dm)), A.AlertModerators)
    engine.handle(outcome(alert, ts=1000.0))
    engine.handle(say(f"!ack {alert.case}", room=MODS, power=50))  # acknowledged: no escalation
    assert engine.handle(Tick(NET, 1000.0 + 23 * 3600)) == []
    reminder = only(engine.handle(Tick(NET, 1000.0 + 24 * 3600)), A.AlertModerators)
    assert alert.case in reminder.text and "check in privately with @kit:test" in reminder.text
    assert engine.handle(Tick(NET, 1000.0 + 48 * 3600)) == []


def test_private_message_to_bot_gets_crisis_lines_once_per_interval(engine):
    first = engine.handle(PrivateMessage(NET, 0.0, sender="@x:test", text="hello?", rooms=(ROOM,)))
    assert "116 123" in only(first, A.SendPrivate).text
    assert engine.handle(PrivateMessage(NET, 60.0, sender="@x:test", text="again", rooms=(ROOM,))) == []


def test_redaction_comes_after_the_private_message_outcome_when_the_policy_asks(default_policy, directory):
    tiers = dict(default_policy.tiers)
    imminent = tiers["imminent"]
    tiers["imminent"] = dataclasses.replace(imminent, action=dataclasses.replace(imminent.action, redact=True))
    engine = Engine([make_binding(dataclasses.replace(default_policy, tiers=tiers, _detector=None))], directory)
    first = engine.handle(say(IMMINENT, ref="$risky"))
    assert not [a for a in first if isinstance(a, A.RedactMessage)]
    after = engine.handle(outcome(only(first, A.SendPrivate)))
    redact = only(after, A.RedactMessage)
    assert (redact.room, redact.ref) == (ROOM, "$risky")
    assert [type(a).__name__ for a in after if not isinstance(a, A.RecordEvent)] == [
        "RedactMessage", "RemoveFromRoom"]
    assert kinds(engine.handle(outcome(redact))) == ["redacted"]



def alerted_case(engine, text=HIGH, ts=1000.0):
    dm = only(engine.handle(say(text)), A.SendPrivate)
    after = engine.handle(outcome(dm))
    alert = only(after, A.AlertModerators)
    engine.handle(outcome(alert, ts=ts))
    return alert.case


def test_unacknowledged_alert_is_repeated_then_widened_and_ack_stops_it(engine):
    case = alerted_case(engine)
    assert engine.handle(Tick(NET, 1000.0 + 14 * 60)) == []
    repeat = engine.handle(Tick(NET, 1000.0 + 15 * 60))
    first = only(repeat, A.AlertModerators)
    assert first.mention_all is False and "has not been acknowledged for 15m" in first.text
    assert kinds(repeat) == ["alert_repeated"]
    assert engine.handle(Tick(NET, 1000.0 + 20 * 60)) == []
    widened = only(engine.handle(Tick(NET, 1000.0 + 30 * 60)), A.AlertModerators)
    assert widened.mention_all is True and widened.priority == "urgent"
    assert [a for a in engine.handle(Tick(NET, 1000.0 + 60 * 60)) if isinstance(a, A.AlertModerators)] == []


def test_acknowledged_alert_is_not_repeated(engine):
    case = alerted_case(engine)
    engine.handle(say(f"!ack {case}", room=MODS, power=50))
    assert engine.handle(Tick(NET, 1000.0 + 3600)) == []


def test_low_priority_alerts_are_not_escalated(engine):
    alerted_case(engine, text=CONCERN)
    assert engine.handle(Tick(NET, 1000.0 + 3600)) == []


def test_case_commands_answer_only_in_the_moderators_room(engine):
    case = alerted_case(engine)
    in_group = engine.handle(say(f"!case {case}", power=100))
    assert "works in the moderators' room" in only(in_group, A.PostNotice).text
    assert "@kit:test" not in only(in_group, A.PostNotice).text
    detail = only(engine.handle(say(f"!case {case}", room=MODS, power=100)), A.PostNotice).text
    assert f"Case {case}: high" in detail and "@kit:test" in detail


def test_talk_in_a_private_message_opens_a_case_and_alerts(engine):
    acts = engine.handle(PrivateMessage(NET, 0.0, sender="@x:test", text="talk", rooms=(ROOM,)))
    assert "moderator has been asked to contact you" in only(acts, A.SendPrivate).text
    alert = only(acts, A.AlertModerators)
    assert "@x:test" in alert.text and "asked the bot to talk" in alert.text
    assert only(acts, A.OpenCase).rules == ("request.talk",)
    assert engine.handle(PrivateMessage(NET, 30.0, sender="@x:test", text="talk", rooms=(ROOM,))) == []  # once is enough


@pytest.mark.parametrize("relayed", [
    "<@mod:test> !pause",                      # a bridge relaying a moderator's line
    "> <@mod:test> !pause\n\nagreed",          # a Matrix reply quoting a moderator's command
    "[irc] mod: !pause",                        # a relay bot's prefix
])
def test_relayed_or_quoted_commands_never_run(engine, relayed):
    actions = engine.handle(say(relayed, sender="@relaybot:test", power=0))
    assert not [a for a in actions if isinstance(a, A.RecordEvent) and a.kind == "command"]
    assert not engine.state.paused


def test_very_long_messages_are_scanned_whole(engine, default_policy):
    huge = ("lorem ipsum dolor " * 60_000) + " i took all my pills"  # over 1 MB
    assert detector_for(default_policy).detect(huge).tier == "imminent"
    assert only(engine.handle(say(huge)), A.SendPrivate)


def test_closed_cases_leave_memory_after_a_week_open_ones_never(engine):
    """A long-running gateway must not keep every case it ever saw; the event log keeps them."""
    first = only(engine.handle(say(HIGH, ts=1000.0)), A.SendPrivate)
    alert = only(engine.handle(outcome(first, ts=1001.0)), A.AlertModerators)
    engine.handle(outcome(alert, ts=1002.0))
    second = only(engine.handle(say(HIGH, sender="@lee:test", ts=1000.0)), A.SendPrivate)
    engine.handle(say(f"!close {first.case} safe", room=MODS, power=50, ts=2000.0))
    engine.handle(Tick(NET, 1000.0 + 6 * 86400))
    assert {first.case, second.case} <= engine.state.cases.keys()
    engine.handle(Tick(NET, 1000.0 + 7 * 86400))
    assert first.case not in engine.state.cases  # closed (no reminder any more) and a week old
    assert second.case in engine.state.cases  # still open: stays until a moderator closes it
