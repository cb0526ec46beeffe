"""The moderator workflow through a real IRC server: cases, commands, escalation, follow-up, talk,
outreach limits and shadow mode. Commands are parsed in the core, so Matrix behaves the same
(tests/test_workflow_matrix.py runs the same case commands there)."""

from __future__ import annotations

import re

import pytest

from .conftest import Clock
from .test_irc import IrcWorld, ircd, wait_until  # noqa: F401  (ircd is a fixture)


@pytest.fixture
def clock():
    return Clock(start=2_000_000_000.0)


@pytest.fixture
async def world(ircd, tmp_path, clock):  # noqa: F811
    w = IrcWorld(ircd, tmp_path, clock=clock, tick_every=3600)  # timers run when the test says
    yield w
    await w.close()


def bot_says(person, world, *parts):
    return person.find(f":{world.bot_nick}!", *parts)


async def case_for(world, person_name: str, text: str) -> str:
    mod, person = world.people["mod"], world.people[person_name]
    before = len(bot_says(mod, world, f"PRIVMSG {world.mods} :["))
    person.send(f"PRIVMSG {world.group} :{text}")
    alerts = await mod.wait_for("an alert", lambda: bot_says(mod, world, f"PRIVMSG {world.mods} :[")[before:])
    return re.search(r"Case (\w+)(?::| updated:)", alerts[0]).group(1)  # a new case, or their open one's update


async def test_case_commands(world):
    service = await world.start()
    mod = world.people["mod"]
    await world.person("kit", world.group)
    ana = await world.person("ana", world.group, world.mods)
    case = await case_for(world, "kit", "i want to die")
    kit_nick = world.people["kit"].nick

    async def ask(text, expect, who=mod, where=None):
        n = len(bot_says(who, world, "NOTICE"))
        who.send(f"PRIVMSG {where or world.mods} :{text}")
        # a reply may be several lines: wait for the one that says it, not for the first to arrive
        return await who.wait_for(f"{expect!r} in the reply to {text}", lambda: [
            line for line in bot_says(who, world, "NOTICE")[n:] if expect in line])

    await ask("!cases", f"{case}: high, {kit_nick} in {world.group}")
    await ask(f"!case {case}", "Private message: delivered. Removal: not needed.")
    await ask("!cases", "works in the moderators' room", where=world.group)   # never in a group room
    await ask("!cases", "is for moderators", who=ana)                         # ana is not an operator
    await ask(f"!ack {case}", f"Case {case} acknowledged by {mod.nick}")
    await ask(f"!escalated {case}", "a moderator contacted emergency services")
    await ask(f"!close {case} maybe", "Close with one of: resolved, safe")
    await ask(f"!close {case} safe", f"Case {case} closed (safe)")
    await ask("!cases", "No open cases.")
    await ask("!case nosuch", "No case 'nosuch' here.")

    kinds = [(r["kind"], r["outcome"]) for r in service.log.rows() if r["case_id"] == case]
    assert ("acked", None) in kinds and ("escalated_external", None) in kinds and ("closed", "safe") in kinds
    commands = [(r["command"], r["authorised"]) for r in service.log.rows() if r["kind"] == "command"]
    assert ("cases", False) in commands and commands.count(("close", True)) == 2


async def test_remove_and_readmit(world):
    service = await world.start()
    mod = world.people["mod"]
    kit = await world.person("kit", world.group)
    case = await case_for(world, "kit", "i want to die")
    assert not kit.find(f"KICK {world.group}")
    mod.send(f"PRIVMSG {world.mods} :!remove {case}")
    await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}"))
    # already messaged: not again. A second message would reach kit before the KICK (one sender, one
    # connection, in order), and its lines would repeat the first's (counting lines races the first message)
    dm_lines = [line.split(" :", 1)[1] for line in bot_says(kit, world, f"PRIVMSG {kit.nick} :")]
    assert dm_lines and len(dm_lines) == len(set(dm_lines)), dm_lines
    mod.send(f"PRIVMSG {world.mods} :!readmit {case}")
    await kit.wait_for("the invite back", lambda: bot_says(kit, world, f"INVITE {kit.nick}"))
    await mod.wait_for("the readmit confirmation", lambda: bot_says(mod, world, "may come back"))
    kinds = [r["kind"] for r in service.log.rows() if r["case_id"] == case]
    assert "removed" in kinds and "readmitted" in kinds


async def test_escalation_timing_and_follow_up_with_a_controllable_clock(world, clock):
    service = await world.start()
    mod = world.people["mod"]
    await world.person("kit", world.group)
    case = await case_for(world, "kit", "i want to die")

    async def tick_after(seconds):
        clock.advance(seconds)
        await service.tick()

    await tick_after(14 * 60)
    assert not bot_says(mod, world, "has not been acknowledged")
    await tick_after(60)
    await mod.wait_for("the repeated alert", lambda: bot_says(
        mod, world, f"PRIVMSG {world.mods} :[HIGH] Case {case} has not been acknowledged for 15m"))
    await tick_after(15 * 60)
    widened = await mod.wait_for("the widened alert", lambda: bot_says(
        mod, world, f"PRIVMSG {world.mods} :", "has not been acknowledged for 30m"))
    assert f":{mod.nick}: [HIGH] Case {case}".lower() in widened[0].lower()  # every operator named
    mod.send(f"PRIVMSG {world.mods} :!ack {case}")
    await mod.wait_for("the ack", lambda: bot_says(mod, world, "acknowledged by"))
    await tick_after(3600)
    assert len(bot_says(mod, world, "has not been acknowledged")) == 2
    await tick_after(24 * 3600)
    await mod.wait_for("the follow-up reminder", lambda: bot_says(
        mod, world, f"Reminder for case {case}", "check in privately"))


async def test_scan_is_a_dry_run_only_in_the_moderators_room_and_its_text_is_not_logged(world):
    service = await world.start()
    mod = world.people["mod"]
    marker = "SCANCANARY"
    mod.send(f"PRIVMSG {world.mods} :!scan i took all my pills {marker}")
    reply = await mod.wait_for("the scan result", lambda: bot_says(mod, world, "Scan (peer)"))
    assert "tier imminent; would remove: yes; rules: imminent.act_frames, imminent.act_under_way, imminent.compose.act_dose; model score " in reply[0]
    assert not mod.find(marker)  # in no line the bot sent, not only the first
    mod.send(f"PRIVMSG {world.group} :!scan i took all my pills")
    await mod.wait_for("a refusal in the group room", lambda: bot_says(mod, world, "works in the moderators' room"))
    assert not service.engine.state.cases  # a dry run opens nothing
    for path in (world.dir / "data").iterdir():
        assert marker.encode() not in path.read_bytes()


async def test_reload_keeps_the_old_policy_on_error_and_says_why(world):
    service = await world.start()
    mod = world.people["mod"]
    policy = world.dir / "policies" / "peer.yaml"
    good = policy.read_text()
    policy.write_text(good + "mode: sometimes\n")
    mod.send(f"PRIVMSG {world.mods} :!reload")
    refusal = await mod.wait_for("the refusal", lambda: bot_says(mod, world, "Reload refused"))
    await mod.wait_for("the reason", lambda: bot_says(mod, world, f"{policy}:", "mode: expected one of act, observe"))
    assert refusal
    policy.write_text(good.replace("region: GB", "region: US"))
    mod.send(f"PRIVMSG {world.mods} :!reload")
    await mod.wait_for("the reload", lambda: bot_says(mod, world, "Policies reloaded: 1 room(s)."))
    kit = await world.person("kit", world.group)
    kit.send(f"PRIVMSG {world.group} :i want to die")
    await kit.wait_for("US crisis lines after the reload", lambda: bot_says(kit, world, "988"))


async def test_everyone_gets_resources_and_help_privately_or_publicly_but_never_for_someone_else(world):
    await world.start()
    ana = await world.person("ana", world.group)
    kit = await world.person("kit", world.group)
    ana.send(f"PRIVMSG {world.group} :!resources US {kit.nick}")
    await ana.wait_for("the crisis lines", lambda: bot_says(ana, world, f"PRIVMSG {ana.nick} :", "988"))
    ana.send(f"PRIVMSG {world.group} :!help")
    await ana.wait_for("help", lambda: bot_says(ana, world, world.group, "This is an automated bot, not a person"))
    said = bot_says(ana, world, world.group)  # one command a line: what a non-moderator may use
    assert any(line.endswith(" :!resources [COUNTRY] - free crisis lines, sent to you privately") for line in said)
    assert not [line for line in said if "!close" in line or "!case" in line]
    assert not bot_says(kit, world, f"PRIVMSG {kit.nick}")  # nothing was sent to kit


async def test_private_messages_get_crisis_lines_and_talk_reaches_a_moderator(world):
    service = await world.start()
    mod = world.people["mod"]
    kit = await world.person("kit", world.group)  # a private conversation belongs to a room they share
    marker = "PMCANARY"
    kit.send(f"PRIVMSG {world.bot_nick} :hello? {marker}")
    await kit.wait_for("the reply", lambda: bot_says(kit, world, f"PRIVMSG {kit.nick} :", "Reply \"talk\""))
    kit.send(f"PRIVMSG {world.bot_nick} :talk")
    await kit.wait_for("the acknowledgement", lambda: bot_says(kit, world, "moderator has been asked"))
    alert = await mod.wait_for("the talk alert", lambda: bot_says(mod, world, "asked the bot to talk"))
    assert kit.nick in alert[0]
    for path in (world.dir / "data").iterdir():
        assert marker.encode() not in path.read_bytes()
    assert [r["kind"] for r in service.log.rows()].count("talk_requested") == 1


async def test_one_crisis_message_per_person_per_day_across_rooms(world, clock):
    await world.start()
    mod = world.people["mod"]
    kit = await world.person("kit", world.group)
    first = await case_for(world, "kit", "i want to die")
    clock.advance(7 * 3600)  # past the tier's 6 h cooldown, within the 24 h outreach limit
    assert await case_for(world, "kit", "i want to die") == first  # joins kit's open case
    assert len([line for line in bot_says(kit, world, f"PRIVMSG {kit.nick} :") if "Hi. This is" in line]) == 1
    await mod.wait_for("the update saying why", lambda: bot_says(
        mod, world, f"Case {first} updated: they wrote at risk again (high)"))
    await mod.wait_for("...and that no second message went out", lambda: bot_says(mod, world, "not sent again"))


async def test_shadow_mode_detects_and_alerts_without_messaging_or_removing(ircd, tmp_path):  # noqa: F811
    world = IrcWorld(ircd, tmp_path, policy_extra="mode: observe\n")
    try:
        await world.start()
        mod = world.people["mod"]
        kit = await world.person("kit", world.group)
        kit.send(f"PRIVMSG {world.group} :i took all my pills")
        alert = await mod.wait_for("a would-have alert", lambda: bot_says(mod, world, "Observe mode"))
        assert not bot_says(kit, world, f"PRIVMSG {kit.nick}") and not kit.find(f"KICK {world.group}")
        # a moderator may still remove: the person is messaged first, never just cut off
        case = re.search(r"Case (\w+):", "".join(bot_says(mod, world, f"PRIVMSG {world.mods} :["))).group(1)
        mod.send(f"PRIVMSG {world.mods} :!remove {case}")
        kick = (await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}")))[0]
        private = bot_says(kit, world, f"PRIVMSG {kit.nick} :")
        assert private and kit.lines.index(private[0]) < kit.lines.index(kick) and alert
    finally:
        await world.close()


async def test_guidelines_pause_and_resume_commands(world):
    service = await world.start()
    mod = world.people["mod"]
    kit = await world.person("kit", world.group)
    posted = len(bot_says(mod, world, f"NOTICE {world.group} :Welcome."))
    mod.send(f"PRIVMSG {world.group} :!guidelines")
    await mod.wait_for("the guidelines again", lambda: bot_says(mod, world, f"NOTICE {world.group} :Welcome.")[posted:])
    mod.send(f"PRIVMSG {world.group} :!pause")
    await mod.wait_for("paused", lambda: bot_says(mod, world, "is paused"))
    kit.send(f"PRIVMSG {world.group} :i want to die")
    await mod.wait_for("a paused-room alert", lambda: bot_says(mod, world, "The room is paused"))
    assert not bot_says(kit, world, f"PRIVMSG {kit.nick}")
    mod.send(f"PRIVMSG {world.group} :!resume")
    await mod.wait_for("resumed", lambda: bot_says(mod, world, "is resumed"))
    ana = await world.person("ana", world.group)
    ana.send(f"PRIVMSG {world.group} :i want to die")
    await ana.wait_for("the crisis message after resume", lambda: bot_says(ana, world, f"PRIVMSG {ana.nick} :Hi."))
    kinds = [r["kind"] for r in service.log.rows()]
    assert "paused" in kinds and "resumed" in kinds
