"""Issue 24 findings 4 and 6 on a real Synapse: distress written after a command or in an emote gets the
crisis flow (and the command still runs), and a private conversation belongs to the room its sender shares
with the bot. Each test failed before its fix."""

from __future__ import annotations

import secrets

from nio import RoomPreset

from gateway.demo.homeserver import Person

from .matrix_world import world  # noqa: F401  (a fixture)
from .test_safety_matrix import dm_invites, membership


def bodies(person, room, sender) -> list[str]:
    return [m["content"]["body"] for m in person.messages(room, sender)]


async def joined_dm(person) -> str:
    room = (await person.wait_for("a private message", lambda: dm_invites(person)))[0]
    await person.client.join(room)
    await person.wait_for("the joined DM", lambda: room in person.client.rooms)
    return room


async def test_distress_after_a_command_and_in_an_emote_gets_the_crisis_flow(world):
    """Finding 6: `!resources please, I'm going to kill myself tonight` sends the resources AND the crisis
    message, removes the writer and alerts; so does an emote "is going to kill herself tonight"."""
    await world.start_gateway()
    kit, ana, mod = world.people["kit"], world.people["ana"], world.mod
    bot = world.bot.user_id
    await kit.say(world.group, "!resources please, I'm going to kill myself tonight")
    await ana.client.room_send(world.group, "m.room.message",
                               {"msgtype": "m.emote", "body": "is going to kill herself tonight"})
    alerts = await mod.wait_for("two alerts", lambda: (lambda a: a if len(a) >= 2 else None)(
        [b for b in bodies(mod, world.mods_room, bot) if "Case" in b and "imminent" in b]))
    assert [a for a in alerts if kit.id in a] and [a for a in alerts if ana.id in a]
    for person in (kit, ana):
        await mod.wait_for("the removal", lambda: membership(mod, world.group, person.id) == "leave")
    dm = await joined_dm(kit)
    sent = await kit.wait_for("the crisis message and the resources", lambda: (lambda b: b if len(b) >= 2 else None)(
        bodies(kit, dm, bot)))
    assert any(b.startswith("Hi. This is an automated message from the safety bot") for b in sent)
    assert any(b.startswith("Free, confidential support") for b in sent)  # the command still ran


async def test_a_private_message_reaches_the_community_its_sender_is_in(world):
    """Finding 4: lee is only in a second room (US, its own moderators); what lee writes to the bot privately
    gets the US lines and lee's "talk" reaches that room's moderators, not the first room's."""
    mod, bot = world.mod, world.bot.user_id
    power = {"users": {bot: 100}}
    room_b = (await mod.client.room_create(name="us peers", preset=RoomPreset.private_chat, invite=[bot],
                                           power_level_override=power)).room_id
    mods_b = (await mod.client.room_create(name="us moderators", preset=RoomPreset.private_chat, invite=[bot],
                                           power_level_override=power)).room_id
    world.config_path.write_text(world.config_path.read_text() + (
        f'  - network: mx\n    room: "{room_b}"\n    policy: peer\n    region: US\n'
        f'    moderators_room: "{mods_b}"\n'))
    lee = Person(world.hs, f"lee{secrets.token_hex(3)}")
    try:
        await mod.client.room_invite(room_b, lee.id)
        await lee.client.join(room_b)
        await world.start_gateway()
        await lee.say(room_b, "!resources")  # the bot's direct room with lee: the only way to write to it
        dm = await joined_dm(lee)
        await lee.wait_for("the resources", lambda: bodies(lee, dm, bot))
        await lee.say(dm, "hi")
        reply = (await lee.wait_for("the reply", lambda: [b for b in bodies(lee, dm, bot) if b.startswith("Hi.")]))[0]
        assert "988" in reply and "116 123" not in reply  # the US lines, not GB's
        await lee.say(dm, "talk")
        alert = await mod.wait_for("the talk alert", lambda: [b for b in bodies(mod, mods_b, bot)
                                                               if "asked the bot to talk" in b])
        assert lee.id in alert[0]
        await mod.sync()
        assert not [b for b in bodies(mod, world.mods_room, bot) if lee.id in b]  # the other community heard nothing
    finally:
        await lee.close()
