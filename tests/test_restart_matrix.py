"""Issue 24, finding 5, on a real Synapse through `gateway run`: a case outlives a SIGTERM or SIGKILL
restart. (a) between the alert and !ack: after the restart !case and !ack work, the repeat that fell due
while the gateway was down is sent once, saying it is late, and never again; (b) between the removal and
!readmit: after the restart !readmit lifts the ban and the person sees the invite. Neither restart sends
a second crisis message. (The other restart cases, in process with a real event log: test_restart.py.)
"""

from __future__ import annotations

import asyncio
import re
import signal

import pytest

from .matrix_world import make_world
from .test_crash import crisis_messages, start

pytestmark = pytest.mark.live

IMMINENT = "i took all my pills"


def stop(proc, sig):
    proc.send_signal(sig)
    proc.wait(timeout=60)


async def _alerted(world):
    """Start the gateway; kit writes an imminent line; returns (process, case id) once the alert is in."""
    mod, kit, bot = world.mod, world.people["kit"], world.bot.user_id
    proc = start(world.config_path, world.dir)
    await mod.wait_for("the gateway up", lambda: mod.messages(world.group, bot), timeout=60)
    await kit.say(world.group, IMMINENT)
    alert = await mod.wait_for("the alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                    if kit.id in m["content"]["body"]], timeout=60)
    await asyncio.sleep(1)  # the alert's outcome is journalled (a kill before that resends it: test_crash.py)
    return proc, re.search(r"Case (\w+):", alert[0]["content"]["body"]).group(1)


async def _ask(world, text, expect):
    """A moderator's command, and the bot's reply containing ``expect`` (generous: the gateway may still
    be starting; commands sent meanwhile are read from the sync it resumes)."""
    mod, bot = world.mod, world.bot.user_id
    n = len(mod.messages(world.mods_room, bot))
    await mod.say(world.mods_room, text)
    found = await mod.wait_for(f"a reply to {text}", lambda: [
        m["content"]["body"] for m in mod.messages(world.mods_room, bot)[n:]
        if expect in m["content"]["body"]], timeout=90)
    return found[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_between_alert_and_ack_a_restart_keeps_the_case_and_escalates_once(homeserver, tmp_path, sig):
    world = await make_world(homeserver, tmp_path, policy_extra="""\
        escalation:
          repeat_after: 6s
          widen_after: null
        """)
    mod, kit, bot = world.mod, world.people["kit"], world.bot.user_id
    proc = None
    try:
        proc, case = await _alerted(world)
        stop(proc, sig)
        await asyncio.sleep(8)  # the repeat falls due while the gateway is down
        proc = start(world.config_path, world.dir)

        def escalations():
            return [m["content"]["body"] for m in mod.messages(world.mods_room, bot)
                    if f"Case {case} has not been acknowledged" in m["content"]["body"]]
        late = await mod.wait_for("the late escalation", escalations, timeout=90)
        assert "(late: due" in late[0] and "the bot was down)" in late[0]
        detail = await _ask(world, f"!case {case}", f"Case {case}")
        assert detail.startswith(f"Case {case}: imminent") and kit.id in detail, detail
        assert "Removal: done" in detail and "NOT acknowledged" in detail
        await _ask(world, f"!ack {case}", f"Case {case} acknowledged by {mod.id}")
        stop(proc, sig)  # and once more: the acknowledgement and the sent repeat are kept
        proc = start(world.config_path, world.dir)
        detail = await _ask(world, f"!case {case}", f"Case {case}:")
        assert f"acknowledged by {mod.id}" in detail
        await asyncio.sleep(2)
        await mod.sync()
        assert len(escalations()) == 1  # exactly once
        alerts = [m for m in mod.messages(world.mods_room, bot) if f"Case {case}:" in m["content"]["body"]
                  and m["content"]["body"].startswith("[")]
        assert len(alerts) == 1  # the first alert was not sent again
        assert await crisis_messages(kit, bot) == (1, 1)  # no second crisis message
    finally:
        if proc is not None and proc.poll() is None:
            stop(proc, signal.SIGKILL)
        for p in [mod, *world.people.values()]:
            await p.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_between_removal_and_readmit_a_restart_keeps_the_case(homeserver, tmp_path, sig):
    world = await make_world(homeserver, tmp_path)
    mod, kit, bot = world.mod, world.people["kit"], world.bot.user_id
    proc = None
    try:
        proc, case = await _alerted(world)
        left = await mod.client.room_get_state_event(world.group, "m.room.member", kit.id)
        assert left.content["membership"] in ("leave", "ban")
        stop(proc, sig)
        proc = start(world.config_path, world.dir)
        kit.invites.pop(world.group, None)
        await _ask(world, f"!readmit {case}", f"Case {case}: {kit.id} may come back")
        await kit.wait_for("the invitation back", lambda: world.group in kit.invites, timeout=60)
        await kit.client.join(world.group)
        kit.invites.pop(world.group, None)
        member = await mod.client.room_get_state_event(world.group, "m.room.member", kit.id)
        assert member.content["membership"] == "join"
        assert await crisis_messages(kit, bot) == (1, 1)  # no second crisis message
    finally:
        if proc is not None and proc.poll() is None:
            stop(proc, signal.SIGKILL)
        for p in [mod, *world.people.values()]:
            await p.close()
