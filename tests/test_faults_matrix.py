"""Synapse going away and coming back, and 429 storms: the gateway backs off, keeps its place, acts once."""

from __future__ import annotations

import asyncio

import pytest

from gateway.demo.homeserver import Homeserver
from gateway.service import Service

from .matrix_world import make_world

pytestmark = pytest.mark.live  # each test starts its own Synapse

OUTAGE = 30.0  # seconds the homeserver is down


async def test_homeserver_down_for_30s_then_back(tmp_path):
    hs = Homeserver(tmp_path / "synapse").start()
    world = await make_world(hs, tmp_path)
    service = Service(world.config_path)
    service.adapters["mx"].sync_timeout_ms = 500
    await service.start()
    mod, kit, ana = world.mod, world.people["kit"], world.people["ana"]
    bot = world.bot.user_id
    try:
        hs.stop()
        await asyncio.sleep(OUTAGE)
        hs.start()
        # as soon as the server is back, before the gateway noticed: a message it must handle, once
        await kit.say(world.group, "i took all my pills")
        alert = await mod.wait_for("the alert after the outage", lambda: [
            m for m in mod.messages(world.mods_room, bot) if kit.id in m["content"]["body"]], timeout=120)
        assert "Private message: delivered. Removal: done." in alert[0]["content"]["body"]
        await ana.say(world.group, "!help")  # the gateway is alive and current
        await ana.wait_for("help", lambda: [m for m in ana.messages(world.group, bot)
                                           if m["content"]["body"].startswith("Safety bot commands")], timeout=60)
        assert [r["kind"] for r in service.log.rows()].count("risk_detected") == 1
        assert all(not t.done() for t in service.tasks)  # nothing crashed
    finally:
        await service.stop()
        for p in [mod, kit, ana]:
            await p.close()
        hs.stop()


async def test_429_storm_bounded_retries_no_crash(tmp_path):
    strict = {"rc_message": {"per_second": 0.5, "burst_count": 2}}
    hs = Homeserver(tmp_path / "synapse", rate_limits=strict).start()
    world = await make_world(hs, tmp_path)
    service = Service(world.config_path)
    service.adapters["mx"].sync_timeout_ms = 500
    await service.start()
    mod, kit, ana = world.mod, world.people["kit"], world.people["ana"]
    bot = world.bot.user_id
    try:
        for _ in range(6):  # a burst of commands: their replies run into the rate limit
            await ana.say(world.group, "!help")
        await kit.say(world.group, "i took all my pills")
        await mod.wait_for("the alert despite the storm", lambda: [
            m for m in mod.messages(world.mods_room, bot) if kit.id in m["content"]["body"]], timeout=180)
        kicked = await mod.client.room_get_state_event(world.group, "m.room.member", kit.id)
        assert kicked.content["membership"] == "leave"
        assert all(not t.done() for t in service.tasks)
        assert " 429 " in hs.log_path.read_text(errors="replace")  # the storm really happened
    finally:
        await service.stop()
        for p in [mod, kit, ana]:
            await p.close()
        hs.stop()
