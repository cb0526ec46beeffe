"""Issue 26, item 1: one case per person per room at a time. A "talk" reply or a new detection from someone
whose case is open joins that case (the tier raised if higher, with its own message and removal round),
and the moderators get an update that says what changed; nobody can join another person's case."""

from __future__ import annotations

from pathlib import Path

from gateway.core import actions as A
from gateway.core.engine import Engine
from gateway.core.events import PrivateMessage, Tick
from gateway.policy.model import GatewayLimits
from gateway.runner import Runner

from .conftest import MODS, NET, ROOM, Clock, make_binding, say
from .test_engine import CONCERN, HIGH, IMMINENT, kinds, only, outcome
from .test_restart import Gateway

T0 = 1_800_000_000.0


def talk(sender="@kit:test", ts=T0 + 60):
    return PrivateMessage(NET, ts, sender=sender, text="talk", rooms=(ROOM,))


def cases_reply(engine, ts=T0 + 120) -> str:
    return only(engine.handle(say("!cases", room=MODS, sender="@mod:test", power=100, ts=ts)), A.PostNotice).text


def concern_case(engine):
    """kit at concern: the gentle message accepted, the low alert sent."""
    dm = only(engine.handle(say(CONCERN, ts=T0)), A.SendPrivate)
    alert = only(engine.handle(outcome(dm, ts=T0 + 1)), A.AlertModerators)
    engine.handle(outcome(alert, ts=T0 + 2))
    return dm.case


def records(actions, kind):
    return [a for a in actions if isinstance(a, A.RecordEvent) and a.kind == kind]


def test_talk_from_someone_with_an_open_case_joins_it_and_the_moderators_read_what_changed(engine):
    case = concern_case(engine)
    acts = engine.handle(talk())
    assert not [a for a in acts if isinstance(a, A.OpenCase)]
    assert "moderator has been asked" in only(acts, A.SendPrivate).text  # the person's acknowledgement
    alert = only(acts, A.AlertModerators)
    assert alert.text.startswith(f"[HIGH] Case {case} updated: they asked to talk to a moderator. @kit:test in ")
    assert alert.priority == "high" and alert.seq == 2  # its own resend key: never taken for the first alert
    [joined] = records(acts, "talk_requested")
    [updated] = records(acts, "case_updated")
    assert (joined.case, joined.outcome, updated.case, updated.outcome) == (case, "joined", case, "talk")
    assert len(engine.cases()) == 1
    assert cases_reply(engine).splitlines()[1].startswith(f"{case}: concern, asked to talk, @kit:test in ")
    assert alert.text.splitlines()[-1].startswith(f"Next: !ack {case} · !case {case} · !close {case} OUTCOME")
    shown = only(engine.handle(say(f"!case {case}", room=MODS, sender="@mod:test", power=100, ts=T0 + 130)),
                 A.PostNotice).text
    steps = [line.split(" ", 1)[1] for line in shown.split("History (UTC):\n")[1].splitlines()]
    assert steps[-3:-1] == ["they asked the bot for a moderator (talk): joins this case",
                            "updated: they asked to talk to a moderator"]


def test_a_talk_request_with_no_open_case_is_its_own_kind(engine):
    acts = engine.handle(talk())
    assert only(acts, A.OpenCase).kind == "talk"
    assert "asked the bot to talk" in only(acts, A.AlertModerators).text
    assert cases_reply(engine).splitlines()[1].startswith(f"{only(acts, A.OpenCase).case}: talk request, @kit:test")


def test_a_higher_tier_raises_the_case_with_a_message_of_its_own_before_the_removal(engine):
    case = concern_case(engine)
    later = engine.handle(say(IMMINENT, ts=T0 + 600))
    assert not [a for a in later if isinstance(a, (A.OpenCase, A.RemoveFromRoom, A.AlertModerators))]
    assert only(later, A.UpdateCase).tier == "imminent"
    [updated] = records(later, "case_updated")
    assert (updated.case, updated.tier, updated.outcome) == (case, "imminent", "raised")
    short = only(later, A.SendPrivate)  # within the outreach interval, tighter: the short message
    assert short.case == case and short.seq == 2 and "999" in short.text
    removal = only(engine.handle(outcome(short, ts=T0 + 601)), A.RemoveFromRoom)
    alert = only(engine.handle(outcome(removal, ts=T0 + 602)), A.AlertModerators)
    assert alert.text.startswith(f"[URGENT] Case {case} updated: tier raised from concern to imminent. @kit:test in ")
    assert "Private message: delivered. Removal: done." in alert.text
    assert [c.tier for c in engine.cases()] == ["imminent"]


def test_a_removal_never_follows_the_first_rounds_message_when_the_second_rounds_failed(engine):
    case = concern_case(engine)
    short = only(engine.handle(say(IMMINENT, ts=T0 + 600)), A.SendPrivate)
    after = engine.handle(outcome(short, ok=False, code="M_FORBIDDEN", ts=T0 + 601))
    assert not [a for a in after if isinstance(a, A.RemoveFromRoom)]
    alert = only(after, A.AlertModerators)
    assert f"Case {case} updated: tier raised" in alert.text and "kept in the room" in alert.text


def test_the_same_tier_after_the_cooldown_joins_without_a_second_message(engine):
    dm = only(engine.handle(say(HIGH, ts=T0)), A.SendPrivate)
    engine.handle(outcome(only(engine.handle(outcome(dm, ts=T0 + 1)), A.AlertModerators), ts=T0 + 2))
    again = engine.handle(say(HIGH, ts=T0 + 7 * 3600))  # past the 6 h cooldown, within the 24 h interval
    assert not [a for a in again if isinstance(a, (A.SendPrivate, A.OpenCase))]
    alert = only(again, A.AlertModerators)
    assert f"Case {dm.case} updated: they wrote at risk again (high). @kit:test in " in alert.text
    assert "not sent again (one was sent 6h ago)" in alert.text


def test_a_detection_after_a_talk_request_makes_it_a_risk_case(engine):
    opened = only(engine.handle(talk(ts=T0)), A.OpenCase)
    acts = engine.handle(say(CONCERN, ts=T0 + 60))
    assert not [a for a in acts if isinstance(a, A.OpenCase)]
    assert only(acts, A.UpdateCase).kind == "risk"
    dm = only(acts, A.SendPrivate)  # the concern message: the talk request sent none
    alert = only(engine.handle(outcome(dm, ts=T0 + 61)), A.AlertModerators)
    assert f"Case {opened.case} updated: they also wrote at risk in !group:test (concern). " in alert.text
    assert cases_reply(engine).splitlines()[1].startswith(f"{opened.case}: concern, asked to talk, @kit:test")


def test_nobody_joins_or_changes_someone_elses_case(engine):
    """The case is found by the network's id of the sender: bob's "talk" or bob's line never touches kit's."""
    kits = concern_case(engine)
    bob = engine.handle(PrivateMessage(NET, T0 + 60, sender="@bob:test", text=f"talk {kits} @kit:test",
                                       rooms=(ROOM,)))
    assert only(bob, A.OpenCase).user == "@bob:test" and only(bob, A.OpenCase).case != kits
    bob_risk = engine.handle(say(IMMINENT, sender="@bob:test", ts=T0 + 120))
    assert not [a for a in bob_risk if isinstance(a, A.OpenCase)]  # joins bob's own talk case
    assert {a.case for a in bob_risk if a.case} == {only(bob, A.OpenCase).case}
    kit = engine.case(kits)
    assert (kit.tier, kit.asked_to_talk, kit.kind) == ("concern", False, "risk")


def test_a_flood_of_talk_requests_from_open_cases_keeps_its_flood_handling(default_policy, directory):
    counter = iter(range(1, 10_000))
    engine = Engine([make_binding(default_policy)], directory, bot_ids={NET: "@bot:test"},
                    case_id=lambda: f"case{next(counter)}", limits=GatewayLimits(talk_requests=2))
    people = [f"@p{i}:test" for i in range(4)]
    for i, who in enumerate(people):
        dm = only(engine.handle(say(f"{CONCERN} {'x' * i}", sender=who, ts=T0 + i)), A.SendPrivate)
        engine.handle(outcome(dm, ts=T0 + i + 0.5))
    alerts = [a for who in people for a in engine.handle(talk(who, T0 + 60)) if isinstance(a, A.AlertModerators)]
    assert len(alerts) == 2 and all("updated: they asked to talk" in a.text for a in alerts)
    flood = [a for a in engine.handle(Tick(NET, T0 + 61)) if isinstance(a, A.AlertModerators)]
    assert len(flood) == 1 and "2 more people asked the bot to talk" in flood[0].text
    assert len(engine.cases()) == 4


async def test_a_joined_request_and_a_raised_tier_outlive_a_restart(default_policy, directory, tmp_path: Path):
    clock = Clock(T0)
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say(CONCERN, ts=clock()))
    [case] = [c.id for c in gw.engine.cases()]
    await gw.runner.handle(talk(ts=clock.advance(60)))
    await gw.runner.handle(say(HIGH, ts=clock.advance(60)))
    alerts = [c for c in gw.adapter.calls if c.method == "alert_moderators"]
    assert [str(c["key"]) for c in alerts] == [f"{case}.alert", f"{case}.alert2", f"{case}.alert3"]
    assert "updated: tier raised from concern to high" in alerts[-1]["text"]
    rows = [(r["kind"], r["case_id"], r["outcome"]) for r in gw.log.rows() if r["kind"] == "case_updated"]
    assert rows == [("case_updated", case, "talk"), ("case_updated", case, "raised")]

    gw = await gw.restart(default_policy, directory)
    [restored] = gw.engine.cases()
    assert (restored.id, restored.tier, restored.asked_to_talk, restored.sends) == (
        case, "high", True, {"dm": 2, "alert": 3})
    [reply] = await gw.mod("!cases")
    assert f"{case}: high, asked to talk, @kit:test" in reply["text"]
    # a talk request after the restart still joins the same case, under a new resend key
    await gw.runner.handle(talk(ts=clock.advance(700)))
    last = [c for c in gw.adapter.calls if c.method == "alert_moderators"][-1]
    assert str(last["key"]) == f"{case}.alert4" and "updated: they asked again to talk" in last["text"]
    assert len(gw.engine.cases()) == 1
    assert [c["kind"] for c in gw.log.cases_since(0)] == ["risk"]
    assert [c["tier"] for c in gw.log.cases_since(0)] == ["high"]


async def test_the_metrics_count_talk_requests_and_updates_as_their_own_kind_and_never_screen_the_moderators(
        engine):
    from gateway.ops.metrics import Metrics
    from tests.memory_adapter import MemoryAdapter

    metrics = Metrics({(NET, ROOM): "Peer support"})
    runner = Runner(engine, {NET: MemoryAdapter(NET, members={ROOM: {"@kit:test", "@ana:test"}})}, None,
                    observer=metrics)
    await runner.handle_many([say(CONCERN, ts=T0), say("hello all", sender="@ana:test", ts=T0),
                              say("!cases", room=MODS, sender="@mod:test", power=100, ts=T0)])
    await runner.handle(say("!status", room=MODS, sender="@mod:test", power=100, ts=T0 + 1))
    await runner.handle(talk(ts=T0 + 60))  # joins kit's case
    await runner.handle(talk("@ana:test", ts=T0 + 61))  # ana has none: a talk case
    out = metrics.exposition().decode()
    assert 'gateway_messages_screened_total{network="test",room="Peer support"} 2.0' in out
    assert "!mods:test" not in out  # the moderators' room is never screened
    assert 'gateway_cases_total{kind="risk",network="test",room="Peer support",tier="concern"} 1.0' in out
    assert 'gateway_cases_total{kind="talk",network="test",room="Peer support",tier="concern"} 1.0' in out
    assert 'gateway_talk_requests_total{network="test",outcome="joined",room="Peer support"} 1.0' in out
    assert 'gateway_talk_requests_total{network="test",outcome="opened",room="Peer support"} 1.0' in out
    assert 'gateway_case_updates_total{change="talk",network="test",room="Peer support"} 1.0' in out


async def test_a_raised_round_cut_by_a_crash_resumes_with_its_own_message_before_the_removal(
        default_policy, directory, tmp_path: Path):
    """The joined detection's round is journalled as unfinished: killed while its message is on its way,
    the gateway resends that message under the round's key (de-duplicated by the server, never taken for
    the first round's), then removes, then alerts."""
    import asyncio

    clock = Clock(T0)
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say(CONCERN, ts=clock()))
    [case] = [c.id for c in gw.engine.cases()]

    async def never_answers(user, text, key=None):
        await asyncio.Event().wait()

    gw.adapter.send_private = never_answers
    gw.runner.concurrent = True
    await gw.runner.handle(say(IMMINENT, ts=clock.advance(600)))
    await asyncio.sleep(0.05)  # the round's message is under way...
    gw.runner.stop()  # ...when the gateway dies

    gw.log.close()
    gw = Gateway(default_policy, directory, gw.log.path, clock)
    gw.adapter.resends_are_deduplicated = True  # as Matrix: the resend is the same transaction
    await gw.start()
    assert gw.adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    [dm] = gw.sent("send_private")
    assert str(dm["key"]) == f"{case}.dm2" and "999" in dm["text"]
    assert [c.tier for c in gw.engine.cases()] == ["imminent"]


def test_a_lower_tier_line_is_an_update_that_neither_messages_nor_removes(engine):
    """Back after a removal (readmitted), a high line seven hours later joins the imminent case: the
    moderators read it, at the high tier's priority; nobody is messaged or removed for it."""
    dm = only(engine.handle(say(IMMINENT, ts=T0)), A.SendPrivate)
    removal = only(engine.handle(outcome(dm, ts=T0 + 1)), A.RemoveFromRoom)
    engine.handle(outcome(only(engine.handle(outcome(removal, ts=T0 + 2)), A.AlertModerators), ts=T0 + 3))
    later = engine.handle(say(HIGH, ts=T0 + 7 * 3600))
    assert not [a for a in later if isinstance(a, (A.SendPrivate, A.RemoveFromRoom, A.OpenCase))]
    alert = only(later, A.AlertModerators)
    assert alert.priority == "high"
    assert alert.text.startswith(f"[HIGH] Case {dm.case} updated: they wrote at risk again (high; the case "
                                 f"stays imminent). @kit:test in ")
    assert [(r.outcome, r.tier) for r in records(later, "case_updated")] == [("lower", "high")]
    assert engine.case(dm.case).tier == "imminent"


def test_the_rules_of_many_joined_lines_fit_the_event_logs_column():
    from gateway.core.casework import _merged
    from gateway.detection import Detection

    merged = Detection("concern", ("concern.first",))
    for i in range(60):
        merged = _merged(merged, Detection("high", (f"high.rule_number_{i:02d}",)))
    assert merged.tier == "high" and merged.rules[0] == "concern.first" and len(",".join(merged.rules)) <= 480


async def test_a_detection_that_joined_while_the_first_message_was_on_its_way_outlives_a_crash(
        default_policy, directory, tmp_path: Path):
    """The person wrote at imminent risk while the bot's first (concern) message to them was still on its
    way; the gateway died before that message's answer. The joined detection waits in the journal, not in
    memory: after the restart its round runs once the first message is settled (its own message with the
    emergency number, then the removal), instead of being lost with the process."""
    import asyncio

    clock = Clock(T0)
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()

    async def never_answers(user, text, key=None):
        await asyncio.Event().wait()

    gw.adapter.send_private = never_answers
    gw.runner.concurrent = True
    await gw.runner.handle(say(CONCERN, ts=clock()))
    await asyncio.sleep(0.05)  # the concern message is under way...
    [case] = [c.id for c in gw.engine.cases()]
    await gw.runner.handle(say(IMMINENT, ts=clock.advance(60)))  # ...when the imminent line joins the case
    await asyncio.sleep(0.05)
    assert gw.sent("remove_from_room") == []
    gw.runner.stop()  # the gateway dies with the joined detection waiting

    gw.log.close()
    gw = Gateway(default_policy, directory, gw.log.path, clock)
    gw.adapter.resends_are_deduplicated = True  # as Matrix: the first message's resend is the same transaction
    await gw.start()
    dms = gw.sent("send_private")
    assert [str(d["key"]) for d in dms] == [f"{case}.dm", f"{case}.dm2"]
    assert "999" in dms[1]["text"]  # the imminent round's own message, with the emergency number
    methods = gw.adapter.methods()
    assert "remove_from_room" in methods
    assert methods.index("remove_from_room") > max(i for i, m in enumerate(methods) if m == "send_private")
    assert [c.tier for c in gw.engine.cases()] == ["imminent"]
    assert [r["outcome"] for r in gw.log.rows() if r["kind"] == "case_updated"] == ["raised"]
