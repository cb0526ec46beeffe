"""Slow actions stall nothing (issue 17, item 4), on a real Synapse: one room's removal is held back 10 s,
and an at-risk flow in another room completes in its normal time meanwhile."""

from __future__ import annotations

import asyncio
import textwrap
import time

from nio import RoomPreset

from .factories import room_entry
from .matrix_world import make_world


async def test_a_removal_held_back_in_one_room_does_not_hold_up_another_room(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path)
    mod, kit, ana, bot = world.mod, world.people["kit"], world.people["ana"], world.bot.user_id
    second = (await mod.client.room_create(name="second room", preset=RoomPreset.private_chat,
                                           invite=[bot, ana.id],
                                           power_level_override={"users": {bot: 100}})).room_id
    await ana.client.join(second)
    world.config_path.write_text(world.config_path.read_text() + textwrap.indent(room_entry("mx", second), "  "))
    gw = await world.start_gateway()
    held = asyncio.Event()
    real_remove = gw.adapter.remove_from_room

    async def slow_in_the_first_room(room, user, reason, ban_seconds=None):
        if room == world.group:
            held.set()
            await asyncio.sleep(10)  # a slow or rate-limited server, for this room only
        return await real_remove(room, user, reason, ban_seconds)

    gw.adapter.remove_from_room = slow_in_the_first_room
    try:
        def left(person, room):
            return any(r == room and e.get("type") == "m.room.member" and e.get("state_key") == person.id
                       and e["content"].get("membership") == "leave" for r, e in mod.events)

        await kit.say(world.group, "i took all my pills, goodbye")
        await asyncio.wait_for(held.wait(), 30)  # kit's removal is now held back
        start = time.monotonic()
        await ana.say(second, "i took all my pills, goodbye")
        await mod.wait_for("ana removed from the second room", lambda: left(ana, second), timeout=30)
        elapsed = time.monotonic() - start
        assert elapsed < 5, f"the other room's flow took {elapsed:.1f} s behind a held removal"
        assert not left(kit, world.group)  # the held removal has not happened yet...
        alerts = await mod.wait_for("ana's alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                           if ana.id in m["content"]["body"]])
        assert "Removal: done" in alerts[0]["content"]["body"]
        await mod.wait_for("kit removed after the delay", lambda: left(kit, world.group), timeout=30)
    finally:
        await gw.stop()
        for p in [mod, *world.people.values()]:
            await p.close()
