"""Raids never starve a real person (issue 24, finding 1), on a real Synapse with real clients: 25 sock
puppets post the same at-risk line with the shipped limits, then a genuine person writes a different
imminent line. Before the fix the genuine person got no private message, stayed in the room and no
alert named them, `!cases` hid their case behind "(and 6 more)" and a moderator's `!remove` was held to
the spent raid budget. This is also the Matrix soak of the issue: the event log agrees with what the
clients received."""

from __future__ import annotations

import asyncio
import re
import secrets

import pytest
from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, SyncError

from gateway.demo.homeserver import Person
from gateway.service import Service

from .conftest import Clock
from .matrix_world import make_world, world  # noqa: F401  (a fixture)

PUPPET_LINE = "i am going to kill myself tonight"
GENUINE_LINE = "i took all my pills, goodbye"


class Puppet(Person):
    """A sock puppet: a real client of an account registered beforehand (so that 25 register at once)."""

    def __init__(self, hs, user):  # noqa: D107 (Person registers in __init__; a puppet is already registered)
        self.user, self.id, self.encrypted = user, user.user_id, False
        self.client = AsyncClient(hs.url, self.id, device_id=user.device_id,
                                  config=AsyncClientConfig(encryption_enabled=False))
        self.client.access_token, self.client.user_id = user.access_token, self.id
        self.events, self.undecrypted, self.to_device, self.invites = [], [], [], {}


def sees_everything(person) -> None:
    """The person's client syncs with a timeline limit above a raid's size (a client's default, 10,
    would skip events of a burst: the assertions must see all that happened)."""
    async def sync() -> None:
        resp = await person.client.sync(timeout=500, since=person.client.next_batch,
                                        sync_filter={"room": {"timeline": {"limit": 500}}})
        if isinstance(resp, SyncError):
            return
        for room_id, info in resp.rooms.join.items():
            person.events.extend((room_id, ev.source) for ev in info.timeline.events)
        for room_id, info in resp.rooms.invite.items():
            person.invites[room_id] = [{"type": "m.room.member", "state_key": e.state_key, "content": e.content}
                                       for e in info.invite_state if isinstance(e, InviteMemberEvent)]

    person.sync = sync


def direct_invites(person) -> list[str]:
    return [r for r, evs in person.invites.items()
            if any(e["state_key"] == person.id and e["content"].get("is_direct") for e in evs)]


@pytest.mark.timeout(300)
async def test_25_puppets_then_a_genuine_person_on_matrix(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path)
    mod, kit, bot = world.mod, world.people["kit"], world.bot.user_id
    tag = secrets.token_hex(3)
    users = await asyncio.gather(*(asyncio.to_thread(homeserver.register, f"puppet{i}x{tag}") for i in range(26)))
    puppets = [Puppet(homeserver, u) for u in users]
    late = puppets.pop()  # posts once the raid is under way and its message budget spent
    for p in [mod, kit, *puppets, late]:
        sees_everything(p)
    await asyncio.gather(*(mod.client.room_invite(world.group, p.id) for p in [*puppets, late]))
    await asyncio.gather(*(p.client.join(world.group) for p in [*puppets, late]))

    clock = Clock(start=2_000_000_000.0)  # frozen: the raid's window never passes unless the test says so
    gw = Service(world.config_path, tick_every=3600, clock=clock)
    gw.adapters["mx"].sync_timeout_ms = 500
    sent: dict[str, list[str]] = {}  # user -> the private messages the bot handed to Synapse
    real_send = gw.adapters["mx"].send_private

    async def send_private(user, text, key=None):
        ref = await real_send(user, text, key)
        sent.setdefault(user, []).append(text)
        return ref

    gw.adapters["mx"].send_private = send_private
    await gw.start()
    try:
        def rows(kind=None):
            return [r for r in gw.log.rows() if kind is None or r["kind"] == kind]

        def bot_in_mods():
            return [m["content"]["body"] for m in mod.messages(world.mods_room, bot)]

        def left(user):
            return any(r == world.group and e.get("type") == "m.room.member" and e.get("state_key") == user
                       and e["content"].get("membership") in ("leave", "ban") for r, e in mod.events)

        async def ask(text, expect):
            n = len(bot_in_mods())
            await mod.say(world.mods_room, text)
            return (await mod.wait_for(f"{expect!r} in reply to {text}", lambda: [
                b for b in bot_in_mods()[n:] if expect in b]))[0]

        await asyncio.gather(*(p.say(world.group, PUPPET_LINE) for p in puppets))
        await mod.wait_for("25 cases opened", lambda: len(rows("risk_detected")) >= 25, timeout=60)
        await kit.say(world.group, GENUINE_LINE)

        # the genuine person: the whole crisis message, in their own client
        dm_room = (await kit.wait_for("a private message", lambda: direct_invites(kit)))[0]
        await kit.client.join(dm_room)
        dm = (await kit.wait_for("the crisis message", lambda: kit.messages(dm_room, bot)))[0]["content"]["body"]
        assert [dm] == sent[kit.id] and "116 123" in dm and "999" in dm
        # ...then removed from the room, and an alert naming their case
        await mod.wait_for("the genuine person's removal", lambda: left(kit.id))
        kit_subject = gw.log.pseudonym("mx", kit.id)
        case = next(r["case_id"] for r in rows("risk_detected") if r["subject"] == kit_subject)
        alert = (await mod.wait_for("their alert", lambda: [b for b in bot_in_mods() if f"Case {case}:" in b]))[0]
        assert kit.id in alert and "Private message: delivered. Removal: done." in alert

        # the puppets like the raid's line: listed by case id in the raid alert, not one alert each
        pattern = [r["case_id"] for r in rows("raid_case") if r["outcome"] == "pattern"]
        assert len(pattern) == 20
        await late.say(world.group, PUPPET_LINE)  # one more: the raid's message budget is spent
        skipped = (await mod.wait_for("its case", lambda: [r["case_id"] for r in rows("dm_skipped")
                                                           if r["outcome"] == "raid_budget"]))[0]
        pattern.append(skipped)
        raid_alert = (await mod.wait_for("the raid alert", lambda: [b for b in bot_in_mods()
                                                                     if "Possible raid" in b]))[0]
        assert case not in raid_alert and any(cid in raid_alert for cid in pattern)

        # !cases: the genuine case on the first page
        listing = await ask("!cases", "open case(s)")
        assert f"{case}: imminent, {kit.id}" in listing and listing.startswith("27 open case(s), page 1 of 2:")

        # a moderator's !remove of a puppet whose message the raid budget skipped: answered and carried out
        user = late.id
        await ask(f"!remove {skipped}", f"Case {skipped}: messaging them first")
        await mod.wait_for("the puppet's removal", lambda: left(user))
        done = (await mod.wait_for("its alert", lambda: [b for b in bot_in_mods()
                                                         if f"Case {skipped}:" in b and "Removal: done" in b]))[0]
        assert user in done and len(sent[user]) == 1

        # the window passes: the update lists the raid's other cases, so each is named once in a raid alert
        clock.advance(600)
        await gw.tick()
        await mod.wait_for("the raid update", lambda: [b for b in bot_in_mods() if "Still a raid" in b])
        raid_text = " ".join(b for b in bot_in_mods() if "Possible raid" in b or "Still a raid" in b)
        assert all(cid in raid_text for cid in pattern)

        # the event log agrees with what the clients received
        kinds = [r["kind"] for r in rows() if r["case_id"] == case]
        assert kinds[:5] == ["risk_detected", "raid_case", "dm_sent", "removed", "alerted"]
        await asyncio.gather(*(p.sync() for p in [*puppets, late]))
        everyone = [*puppets, late, kit]
        messaged = {gw.log.pseudonym("mx", p.id) for p in everyone if direct_invites(p)}
        assert {r["subject"] for r in rows("dm_sent")} == messaged
        assert len(rows("dm_sent")) == sum(len(v) for v in sent.values()) == 5 + 20 + 1 + 1  # before the raid, its budget, kit, !remove
        await mod.sync()
        removed = {gw.log.pseudonym("mx", p.id) for p in everyone if left(p.id)}
        assert {r["subject"] for r in rows("removed")} == removed and len(removed) == 5 + 1 + 1
    finally:
        await gw.stop()
        for p in [mod, *world.people.values(), *puppets, late]:
            await p.close()


async def test_a_burst_longer_than_a_sync_is_read_whole(world, monkeypatch):
    """A sync carries only a room's latest events (its timeline limit; Synapse's default is 10) and says
    "limited". Before the fix the earlier ones were never read: in the raid above, 6 of the 25 puppets'
    lines; here, what a person at risk wrote while the gateway restarted, under later chat."""
    from adapters.matrix import connection as matrix

    monkeypatch.setitem(matrix.SYNC_FILTER["room"], "timeline", {"limit": 3})
    kit, ana = world.people["kit"], world.people["ana"]
    gw = await world.start_gateway()
    await gw.stop()
    world.gateway = None
    await kit.say(world.group, GENUINE_LINE)
    for i in range(8):
        await ana.say(world.group, f"morning all, coffee number {i}")
    gw = await world.start_gateway()
    await kit.wait_for("the private message", lambda: direct_invites(kit))
    assert [r["kind"] for r in gw.log.rows()].count("risk_detected") == 1
