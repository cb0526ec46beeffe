"""The moderator workflow through a real Synapse: the same commands as on IRC, widened alerts as @room,
and ``talk`` from inside the bot's direct room."""

from __future__ import annotations

import re

import pytest

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


async def react(person, room: str, ref: str, key: str = "✅") -> str:
    """A reaction, as Element sends it: in an encrypted room encrypted, with its relation in the clear
    (nio's own ``room_send`` would send it unencrypted)."""
    import uuid

    from nio import Api, RoomSendResponse

    c = person.client
    etype, content = "m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": ref, "key": key}}
    if person.encrypted:  # what nio's room_send does before it encrypts
        if not c.rooms[room].members_synced:
            await c.joined_members(room)
            if c.should_query_keys:
                await c.keys_query()
        if c.olm.should_share_group_session(room):
            await c.share_group_session(room, ignore_unverified_devices=True)
        etype, content = c.encrypt(room, etype, content)
    method, path, data = Api.room_send(c.access_token, room, etype, content, uuid.uuid4())
    sent = await c._send(RoomSendResponse, method, path, data, (room,))
    assert isinstance(sent, RoomSendResponse)
    return sent.event_id


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_alert_ends_with_its_commands_a_moderators_tick_acknowledges_and_case_shows_the_history(
        homeserver, tmp_path, encrypted):
    """Issue 26, items 2 and 3: the alert a moderator receives ends with the commands for its case; a ✅
    from someone in the moderators' room who is not a moderator changes nothing, one from a moderator
    acknowledges (shown by !case), also as an encrypted reaction in an encrypted moderators' room; !case
    lists what happened with times."""
    world = await make_world(homeserver, tmp_path, encrypted=encrypted)
    mod, kit, ana = world.mod, world.people["kit"], world.people["ana"]
    bot = world.bot.user_id
    await mod.client.room_invite(world.mods_room, ana.id)  # in the room, without a moderator's power level
    await ana.client.join(world.mods_room)
    try:
        await world.start_gateway()
        for _ in range(3):  # every client has seen the others' devices, as apps have before anyone speaks
            for p in (mod, kit, ana):
                await p.sync()

        def said(expect):
            return [m for m in mod.messages(world.mods_room, bot) if expect in m["content"]["body"]]

        async def ask(text, expect):
            n = len(said(expect))
            await mod.say(world.mods_room, text)
            found = await mod.wait_for(f"{expect!r} in reply to {text}", lambda: said(expect)[n:])
            return found[0]["content"]["body"]

        await kit.say(world.group, "i took all my pills")
        alert = (await mod.wait_for("the alert", lambda: said("[URGENT] Case")))[0]
        case = re.search(r"Case (\w+):", alert["content"]["body"]).group(1)
        assert alert["content"]["body"].splitlines()[-1] == (
            f"Next: !ack {case} · !case {case} · !readmit {case} · !close {case} OUTCOME, "
            f"OUTCOME one of: resolved, safe, referred, no_contact, false_alarm, other")

        await ana.sync()
        await react(ana, world.mods_room, alert["event_id"])  # not a moderator: refused, not answered
        shown = await ask(f"!case {case}", f"Case {case}: imminent")
        assert "Status: NOT acknowledged" in shown

        tick = await react(mod, world.mods_room, alert["event_id"], "✔️")
        if encrypted:  # the homeserver holds ciphertext: the adapter read the reaction decrypted
            from .test_encryption_matrix import server_view

            raw = server_view(homeserver, mod.user.access_token,
                              f"/_matrix/client/v3/rooms/{world.mods_room}/event/{tick}")
            assert raw["type"] == "m.room.encrypted"
        await mod.wait_for("the tick's answer", lambda: said(f"Case {case} acknowledged by {mod.id} with ✅"))
        shown = (await ask(f"!case {case}", f"acknowledged by {mod.id} with a ✅ reaction"))
        assert f"Status: acknowledged by {mod.id}" in shown
        history = shown.split("History (UTC):\n")[1].splitlines()
        steps = [re.sub(r"^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d ", "", line) for line in history]
        assert steps[:5] == ["opened: imminent risk", "private message delivered", "removed from the room",
                             "moderators alerted", f"acknowledged by {mod.id} with a ✅ reaction"]
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d opened", history[0])
        assert steps[5].startswith("follow-up reminder due")
        uses = [(r["command"], r["authorised"], r["outcome"], r["code"]) for r in world.gateway.log.rows()
                if r["kind"] == "command" and r["outcome"] == "reaction"]
        assert uses == [("ack", False, "reaction", "not_moderator"), ("ack", True, "reaction", None)]
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, *world.people.values()]:
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
