"""The moderator workflow through a real Synapse: the same commands as on IRC, widened alerts as @room,
and ``talk`` from inside the bot's direct room."""

from __future__ import annotations

import re

from gateway.service import Service

from .conftest import Clock
from .matrix_world import make_world


async def test_case_commands_escalation_and_talk_on_matrix(homeserver, tmp_path):
    clock = Clock(start=2_000_000_000.0)
    world = await make_world(homeserver, tmp_path)
    service = Service(world.config_path, tick_every=3600, clock=clock)
    service.adapters["mx"].sync_timeout_ms = 500
    await service.start()
    try:
        mod, kit, ana = world.mod, world.people["kit"], world.people["ana"]
        bot = world.bot.user_id

        def bot_in_mods():
            return [m["content"] for m in mod.messages(world.mods_room, bot)]

        async def ask(text, expect, room=None, who=mod):
            n = len(who.messages(room or world.mods_room, bot))
            await who.say(room or world.mods_room, text)
            await who.wait_for(f"{expect!r} in reply to {text}", lambda: [
                m for m in who.messages(room or world.mods_room, bot)[n:] if expect in m["content"]["body"]])

        await kit.say(world.group, "i want to die")
        alert = await mod.wait_for("the alert", bot_in_mods)
        case = re.search(r"Case (\w+):", alert[0]["body"]).group(1)

        await ask("!cases", f"{case}: high, {kit.id} in {world.group}")
        await ask("!cases", "works in the moderators' room", room=world.group)
        await ask("!cases", "is for moderators", room=world.group, who=ana)

        clock.advance(30 * 60)
        await service.tick()  # repeated...
        await service.tick()  # ...then widened to everyone: @room
        widened = await mod.wait_for("the @room alert", lambda: [c for c in bot_in_mods() if c.get("m.mentions")])
        assert widened[0]["m.mentions"] == {"room": True} and widened[0]["body"].startswith("@room ")

        await ask(f"!ack {case}", f"Case {case} acknowledged by {mod.id}")
        await ask(f"!close {case} safe", f"Case {case} closed (safe)")
        await ask("!cases", "No open cases.")

        # kit answers inside the bot's direct room: that is a private message to the bot
        dm_room = await kit.wait_for("a DM invite", lambda: next(iter(kit.invites), None))
        await kit.client.join(dm_room)
        await kit.say(dm_room, "talk")
        talk = await mod.wait_for("the talk alert", lambda: [c for c in bot_in_mods()
                                                            if "asked the bot to talk" in c["body"]])
        assert kit.id in talk[0]["body"]
        await kit.wait_for("the acknowledgement", lambda: [m for m in kit.messages(dm_room, bot)
                                                          if "moderator has been asked" in m["content"]["body"]])
        kinds = [r["kind"] for r in service.log.rows()]
        assert {"alert_repeated", "alert_widened", "acked", "closed", "talk_requested"} <= set(kinds)
    finally:
        await service.stop()
        for p in [world.mod, *world.people.values()]:
            await p.close()


async def test_a_talk_reply_joins_the_open_case_on_matrix(homeserver, tmp_path):
    """Issue 26, item 1: kit is detected at concern, then replies "talk" in the bot's direct room. The
    moderators get an update of the same case (not a second case), and ``!cases`` lists ONE open case."""
    world = await make_world(homeserver, tmp_path)
    service = Service(world.config_path, tick_every=3600)
    service.adapters["mx"].sync_timeout_ms = 500
    await service.start()
    try:
        mod, kit = world.mod, world.people["kit"]
        bot = world.bot.user_id

        def bot_in_mods():
            return [m["content"]["body"] for m in mod.messages(world.mods_room, bot)]

        await kit.say(world.group, "i wish i was dead")
        alert = await mod.wait_for("the concern alert", lambda: [b for b in bot_in_mods() if "Case " in b])
        case = re.search(r"Case (\w+):", alert[0]).group(1)
        assert alert[0].startswith(f"[LOW] Case {case}: concern risk for {kit.id}")

        dm_room = await kit.wait_for("the gentle message's direct room", lambda: next(iter(kit.invites), None))
        await kit.client.join(dm_room)
        await kit.say(dm_room, "talk")
        update = await mod.wait_for("the update of the same case", lambda: [
            b for b in bot_in_mods() if b.startswith(f"[HIGH] Case {case} updated: they asked to talk to a moderator.")])
        assert kit.id in update[0] and "Private message: delivered." in update[0]
        await kit.wait_for("the acknowledgement", lambda: [m for m in kit.messages(dm_room, bot)
                                                          if "moderator has been asked" in m["content"]["body"]])

        n = len(mod.messages(world.mods_room, bot))
        await mod.say(world.mods_room, "!cases")
        reply = await mod.wait_for("the !cases reply", lambda: [
            m["content"]["body"] for m in mod.messages(world.mods_room, bot)[n:] if "open case" in m["content"]["body"]])
        assert reply[0].startswith(f"1 open case(s):\n{case}: concern, asked to talk, {kit.id} in ")
        assert not [b for b in bot_in_mods() if "asked the bot to talk" in b]  # no second, parallel case
        rows = [(r["kind"], r["case_id"], r["outcome"]) for r in service.log.rows()
                if r["kind"] in ("case_updated", "talk_requested")]
        assert rows == [("talk_requested", case, "joined"), ("case_updated", case, "talk")]
    finally:
        await service.stop()
        for p in [world.mod, *world.people.values()]:
            await p.close()
