"""The Matrix adapter against a real Synapse on loopback, with real clients as the people in the room.

Each test asserts what a person would see. Without matrix-synapse installed these tests skip locally;
under CI a skip is a failure (tests/conftest.py).
"""

from __future__ import annotations

import asyncio



from gateway.demo.homeserver import Person

from .matrix_world import make_world, world  # noqa: F401  (world is a fixture)

GUIDELINE_START = "Welcome. This room is peer support"




async def pinned_bodies(person, room_id) -> list[str]:
    state = await person.client.room_get_state_event(room_id, "m.room.pinned_events")
    bodies = []
    for event_id in getattr(state, "content", {}).get("pinned", []):
        ev = await person.client.room_get_event(room_id, event_id)
        bodies.append(ev.event.source["content"]["body"])
    return bodies


async def test_at_risk_flow_as_the_people_in_the_room_see_it(world):
    gw = await world.start_gateway()
    kit, mod = world.people["kit"], world.mod
    bot = world.bot.user_id

    # everyone sees the pinned guidelines
    bodies = await pinned_bodies(kit, world.group)
    assert len(bodies) == 1 and bodies[0].startswith(GUIDELINE_START)

    marker = "CANARYm4tr1x"
    at_risk_event = await kit.say(world.group, f"honestly I took all my pills {marker}")

    # kit is invited to a direct room and finds the crisis message there
    dm_room = await kit.wait_for("a DM invite", lambda: next(
        (r for r, evs in kit.invites.items() if any(e["state_key"] == kit.id and e["content"].get("is_direct")
                                                     for e in evs)), None))
    await kit.client.join(dm_room)
    dm = (await kit.wait_for("the crisis message", lambda: kit.messages(dm_room, bot)))[0]
    assert dm["content"]["msgtype"] == "m.text"  # notices are silenced by default push rules
    assert "116 123" in dm["content"]["body"] and "999" in dm["content"]["body"]
    assert "not a person or a counsellor" in dm["content"]["body"]

    # the room sees kit leave, with the neutral reason, after the DM was sent
    def kicked():
        return next((e for r, e in mod.events if r == world.group and e.get("type") == "m.room.member"
                     and e.get("state_key") == kit.id and e["content"].get("membership") == "leave"), None)
    kick = await mod.wait_for("kit's removal", kicked)
    assert kick["sender"] == bot
    assert kick["content"]["reason"] == "Removed by the room bot (automated). A moderator will follow up."
    assert dm["origin_server_ts"] <= kick["origin_server_ts"]

    # the moderators get an alert they can act on, with a link to the message
    alert = (await mod.wait_for("the alert", lambda: mod.messages(world.mods_room, bot)))[0]["content"]
    assert alert["msgtype"] == "m.text"
    assert kit.id in alert["body"] and "imminent" in alert["body"]
    assert "Private message: delivered. Removal: done." in alert["body"]
    assert f"https://matrix.to/#/{world.group}/{at_risk_event}" in alert["body"]
    assert marker not in alert["body"]

    # the database holds what happened, and no message text
    kinds = [r["kind"] for r in gw.log.rows()]
    assert kinds[-4:] == ["risk_detected", "dm_sent", "removed", "alerted"]
    for path in (p for p in (world.dir / "data").rglob("*") if p.is_file()):
        assert marker.encode() not in path.read_bytes(), path.name

    # the DM room is recorded in m.direct (on the server, written beside the DM) and reused for kit
    assert dm_room in gw.adapter.direct[kit.id]

    async def recorded():
        resp = await gw.adapter.client.send("GET", f"/_matrix/client/v3/user/{bot}/account_data/m.direct",
                                            headers=gw.adapter._auth())
        return dm_room in (await resp.json()).get(kit.id, [])
    for _ in range(100):
        if await recorded():
            break
        await asyncio.sleep(0.05)
    assert await recorded()


async def test_moderator_commands_need_power_level_not_a_name(world):
    gw = await world.start_gateway()
    ana, mod = world.people["ana"], world.mod
    bot = world.bot.user_id
    await ana.client.set_displayname(mod.id)  # pretending to be the moderator changes nothing
    await ana.say(world.group, "!pause")
    reply = await ana.wait_for("a refusal", lambda: [m for m in ana.messages(world.group, bot)
                                                     if "for moderators" in m["content"]["body"]])
    assert reply[0]["content"]["msgtype"] == "m.notice"
    assert not gw.engine.state.paused

    await mod.say(world.group, "!pause")
    await mod.wait_for("the pause confirmation", lambda: [m for m in mod.messages(world.group, bot)
                                                         if "is paused" in m["content"]["body"]])
    assert (("mx", world.group) in gw.engine.state.paused)
    await mod.say(world.mods_room, "!status")  # commands work from the moderators' room too
    await mod.wait_for("a status reply", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                 if m["content"]["body"].startswith("Watching 1 room")])
    rows = [(r["command"], r["authorised"]) for r in gw.log.rows() if r["kind"] == "command"]
    assert rows == [("pause", False), ("pause", True), ("status", True)]


async def test_restart_neither_rehandles_old_messages_nor_reposts_guidelines(world):
    gw = await world.start_gateway()
    kit, ana, mod = world.people["kit"], world.people["ana"], world.mod
    bot = world.bot.user_id
    await kit.say(world.group, "i want to die")
    await mod.wait_for("the first alert", lambda: mod.messages(world.mods_room, bot))
    await gw.stop()

    gw = await world.start_gateway()
    await ana.say(world.group, "i wish i was dead")
    await mod.wait_for("the second alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                   if ana.id in m["content"]["body"]])
    log_rows = list(gw.log.rows())
    detected = [r["subject"] for r in log_rows if r["kind"] == "risk_detected"]
    assert detected == [gw.log.pseudonym("mx", kit.id), gw.log.pseudonym("mx", ana.id)]
    assert [r["kind"] for r in log_rows].count("guidelines_posted") == 1
    guideline_posts = [m for m in mod.messages(world.group, bot)
                       if m["content"]["body"].startswith(GUIDELINE_START)]
    assert len(guideline_posts) == 1
    assert len(await pinned_bodies(mod, world.group)) == 1
    alerts_about_kit = [m for m in mod.messages(world.mods_room, bot) if kit.id in m["content"]["body"]]
    assert len(alerts_about_kit) == 1


async def test_bot_joins_a_configured_room_when_invited_later_and_ignores_other_invites(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path, invite_bot=False, use_token=True)  # token login too
    try:
        gw = await world.start_gateway()
        bot, mod, kit = world.bot.user_id, world.mod, world.people["kit"]
        assert world.group not in gw.adapter.names
        other = (await mod.client.room_create(name="not configured", invite=[bot])).room_id
        await mod.client.room_invite(world.group, bot)
        bodies = []
        for _ in range(60):  # wait until the pin is there (at most ~30 s)
            bodies = await pinned_bodies(kit, world.group)
            if bodies:
                break
            await kit.sync()
        assert len(bodies) == 1 and bodies[0].startswith(GUIDELINE_START)
        member = await mod.client.room_get_state_event(other, "m.room.member", bot)
        assert member.content["membership"] == "invite"  # never joined a room it was not configured for
        assert gw.log.get("matrix:mx:device") == world.bot.device_id  # the token's device, kept
    finally:
        await world.gateway.stop()
        for p in [world.mod, *world.people.values()]:
            await p.close()


GREET_AND_REDACT = """
guidelines:
  greet_on_join: true
  greet_grace: 30m
tiers:
  imminent:
    action:
      redact: true
"""


async def test_greeting_with_rejoin_grace_and_redaction_per_policy(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path, policy_extra=GREET_AND_REDACT)
    try:
        gw = await world.start_gateway()
        bot, mod, kit, ana = world.bot.user_id, world.mod, world.people["kit"], world.people["ana"]
        newcomer = Person(homeserver, f"new{world.mods_room[1:5].lower()}")
        await mod.client.room_invite(world.group, newcomer.id)
        await newcomer.client.join(world.group)

        def greetings():
            return [m for m in mod.messages(world.group, bot) if m["content"]["body"].startswith(newcomer.id)]
        greeting = (await mod.wait_for("the greeting", greetings))[0]["content"]
        assert greeting["m.mentions"] == {"user_ids": [newcomer.id]} and "!resources" in greeting["body"]
        await newcomer.client.room_leave(world.group)
        await mod.client.room_invite(world.group, newcomer.id)
        await newcomer.client.join(world.group)
        await mod.wait_for("the rejoin", lambda: [e for r, e in mod.events if r == world.group
                                                 and e.get("state_key") == newcomer.id
                                                 and e["content"].get("membership") == "join"][1:])
        # the bot answers !help only after handling every earlier event, the rejoin included
        await ana.say(world.group, "!help")
        await mod.wait_for("the bot's help reply", lambda: [m for m in mod.messages(world.group, bot)
                                                           if m["content"]["body"].startswith("Safety bot commands")])
        assert len(greetings()) == 1  # not greeted again within the grace period

        risky = await kit.say(world.group, "i took all my pills")
        await mod.wait_for("the alert", lambda: mod.messages(world.mods_room, bot))
        event = await mod.client.room_get_event(world.group, risky)
        assert event.event.source["content"] == {}  # redacted for everyone in the room
        kinds = [r["kind"] for r in gw.log.rows()]
        assert kinds.index("dm_sent") < kinds.index("redacted")
        await newcomer.close()
    finally:
        await world.gateway.stop()
        for p in [world.mod, *world.people.values()]:
            await p.close()


async def test_malformed_events_edits_and_spoilers(world):
    """Events with no body, a non-string body, only formatted_body or a spoiler, and edits: nothing
    crashes, hidden or edited-in risk is found, and an edit never runs a command."""
    gw = await world.start_gateway()
    kit, ana, mod = world.people["kit"], world.people["ana"], world.mod
    bot = world.bot.user_id
    send = kit.client.room_send
    await send(world.group, "m.room.message", {"msgtype": "m.text"})
    await send(world.group, "m.room.message", {"msgtype": "m.text", "body": {"nested": "i took all my pills"}})
    await send(world.group, "m.room.message", {"msgtype": "m.text", "body": 42})
    await send(world.group, "m.room.message", {"msgtype": "m.text", "body": "x" * 60_000 + " fine"})
    # the at-risk words only inside a spoiler in formatted_body
    await send(world.group, "m.room.message", {
        "msgtype": "m.text", "body": "spoiler", "format": "org.matrix.custom.html",
        "formatted_body": '<span data-mx-spoiler>i took all my pills</span>'})
    await mod.wait_for("the alert for kit", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                    if kit.id in m["content"]["body"]])
    # ana edits a harmless message into an at-risk one
    first = await ana.say(world.group, "hi all")
    await ana.client.room_send(world.group, "m.room.message", {
        "msgtype": "m.text", "body": "* i want to die",
        "m.new_content": {"msgtype": "m.text", "body": "i want to die"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": first}})
    await mod.wait_for("the alert for ana's edit", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                           if ana.id in m["content"]["body"]])
    # a moderator's edit into a command does not run it
    note = await mod.say(world.group, "note to self")
    await mod.client.room_send(world.group, "m.room.message", {
        "msgtype": "m.text", "body": "* !pause", "m.new_content": {"msgtype": "m.text", "body": "!pause"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": note}})
    await mod.say(world.group, "!status")
    await mod.wait_for("the status reply", lambda: [m for m in mod.messages(world.group, bot)
                                                   if m["content"]["body"].startswith("Watching")])
    assert not gw.engine.state.paused
    detected = [r["subject"] for r in gw.log.rows() if r["kind"] == "risk_detected"]
    assert detected == [gw.log.pseudonym("mx", kit.id), gw.log.pseudonym("mx", ana.id)]


async def test_event_log_failure_keeps_protecting_on_matrix(world):
    gw = await world.start_gateway()
    kit, mod, bot = world.people["kit"], world.mod, world.bot.user_id
    gw.log.db.execute("PRAGMA query_only = ON")  # the database refuses every write from now on
    try:
        await kit.say(world.group, "i took all my pills")
        await mod.wait_for("the alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                if kit.id in m["content"]["body"]])
        await mod.wait_for("the logging alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                        if "cannot write its event log" in m["content"]["body"]])
        kicked = await mod.client.room_get_state_event(world.group, "m.room.member", kit.id)
        assert kicked.content["membership"] == "leave"
        await world.people["ana"].say(world.group, "!help")  # still syncing after failed token saves
        await world.people["ana"].wait_for("help", lambda: [
            m for m in world.people["ana"].messages(world.group, bot) if m["content"]["body"].startswith("Safety bot")])
    finally:
        gw.log.db.execute("PRAGMA query_only = OFF")
