"""End-to-end encrypted rooms on a real Synapse, with real encrypting clients (matrix-nio with vodozemac,
as Element does with its own Rust crypto) as the person at risk and the moderator.

What a person would see: the crisis message arrives in an encrypted direct room and they can decrypt
it; they are removed after it; the moderator decrypts the alert. The gateway keeps one device across
restarts and still reads the room; what it cannot decrypt is counted and reported, never dropped in
silence; a room that turns encryption on keeps working; no message text reaches any file or log.
The SIGKILL tests of exactly-once run encrypted too (tests/test_crash.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import subprocess
import urllib.request

import pytest

from gateway.demo.homeserver import ENCRYPTION

from .matrix_world import make_world
from .test_cli import GATEWAY

MARKER = "CANARYe2e7q"


def server_view(hs, token: str, path: str) -> dict:
    """What the homeserver itself holds (the raw events, as any server admin could read them)."""
    req = urllib.request.Request(hs.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


async def direct_room(person) -> str:
    """Join the direct room the bot invited ``person`` to; return its id."""
    room = await person.wait_for("a direct-room invite", lambda: next(
        (r for r, evs in person.invites.items()
         if any(e["state_key"] == person.id and e["content"].get("is_direct") for e in evs)), None))
    await person.client.join(room)
    person.invites.pop(room, None)
    return room


async def ready(world, *people):
    """Every client has seen the others' devices (as apps do before anyone speaks)."""
    for _ in range(3):
        for p in (world.mod, *people):
            await p.sync()


def kicked(world, person):
    return next((e for r, e in world.mod.events if r == world.group and e.get("type") == "m.room.member"
                 and e.get("state_key") == person.id and e["content"].get("membership") == "leave"), None)


async def test_encrypted_room_the_person_decrypts_the_crisis_message_and_the_moderator_the_alert(
        homeserver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    world = await make_world(homeserver, tmp_path, encrypted=True)
    kit, mod, bot = world.people["kit"], world.mod, world.bot.user_id
    try:
        gw = await world.start_gateway()
        await ready(world, kit)
        # the guidelines are posted, encrypted, in the encrypted room, and pinned (a state event)
        guidelines = await mod.wait_for("the guidelines", lambda: mod.messages(world.group, bot))
        assert guidelines[0]["content"]["body"].startswith("Welcome. This room is peer support")
        raw = server_view(homeserver, mod.user.access_token,
                          f"/_matrix/client/v3/rooms/{world.group}/event/{guidelines[0]['event_id']}")
        assert raw["type"] == "m.room.encrypted" and "body" not in raw["content"]
        pinned = server_view(homeserver, mod.user.access_token,
                             f"/_matrix/client/v3/rooms/{world.group}/state/m.room.pinned_events")
        assert guidelines[0]["event_id"] in pinned["pinned"]

        said = await kit.say(world.group, f"I took all my pills tonight {MARKER}")
        raw = server_view(homeserver, kit.user.access_token, f"/_matrix/client/v3/rooms/{world.group}/event/{said}")
        assert raw["type"] == "m.room.encrypted"  # the server never saw the words

        dm_room = await direct_room(kit)
        dm = (await kit.wait_for("the crisis message", lambda: kit.messages(dm_room, bot)))[0]
        assert "116 123" in dm["content"]["body"] and "999" in dm["content"]["body"]  # decrypted by kit
        raw = server_view(homeserver, kit.user.access_token,
                          f"/_matrix/client/v3/rooms/{dm_room}/event/{dm['event_id']}")
        assert raw["type"] == "m.room.encrypted"
        state = server_view(homeserver, kit.user.access_token,
                            f"/_matrix/client/v3/rooms/{dm_room}/state/m.room.encryption")
        assert state["algorithm"] == "m.megolm.v1.aes-sha2"  # encrypted from its creation

        kick = await mod.wait_for("kit's removal", lambda: kicked(world, kit))
        assert dm["origin_server_ts"] <= kick["origin_server_ts"]
        alert = (await mod.wait_for("the alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                          if kit.id in m["content"]["body"]]))[0]
        assert "Private message: delivered. Removal: done." in alert["content"]["body"]
        assert MARKER not in alert["content"]["body"]
        raw = server_view(homeserver, mod.user.access_token,
                          f"/_matrix/client/v3/rooms/{world.mods_room}/event/{alert['event_id']}")
        assert raw["type"] == "m.room.encrypted"
        assert not mod.undecrypted and not kit.undecrypted
        kinds = [r["kind"] for r in gw.log.rows()]
        assert kinds[-4:] == ["risk_detected", "dm_sent", "removed", "alerted"]
        store = gw.adapter.crypto.directory
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, *world.people.values()]:
            await p.close()

    # the privacy canary: the marker went through decryption, detection and the whole flow, and is in
    # no file the gateway wrote (event log, crypto store, key files) and in none of its log records
    written = [p for p in (world.dir / "data").rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"gateway.db", "session.json", "mx.key"}
    assert any(p.parent == store and p.suffix == ".db" for p in written)  # the crypto store itself
    for path in written:
        assert MARKER.encode() not in path.read_bytes(), f"{path} holds message text"
    for record in caplog.records:
        assert MARKER not in record.getMessage() and MARKER not in str(record.args)
    assert any(r.name.startswith("gateway") for r in caplog.records), "the gateway did log"
    # the store and its key are the gateway user's alone
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    for path in [*store.iterdir(), world.dir / "data" / "crypto" / "mx.key"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


async def test_a_restart_keeps_the_device_and_still_reads_the_room(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path, encrypted=True)
    kit, ana, mod, bot = world.people["kit"], world.people["ana"], world.mod, world.bot.user_id
    try:
        gw = await world.start_gateway()
        first_device = gw.adapter.client.device_id
        token = gw.adapter.client.access_token
        await mod.wait_for("the guidelines", lambda: mod.messages(world.group, bot))
        before = server_view(homeserver, token, "/_matrix/client/v3/devices")["devices"]
        assert first_device in [d["device_id"] for d in before]
        await gw.stop()
        world.gateway = None

        gw = await world.start_gateway()
        assert gw.adapter.client.device_id == first_device
        assert gw.adapter.client.access_token == token  # restored, not a new login
        devices = server_view(homeserver, token, "/_matrix/client/v3/devices")["devices"]
        assert sorted(d["device_id"] for d in devices) == sorted(d["device_id"] for d in before)  # no new one

        await ready(world, kit, ana)
        await ana.say(world.group, "i am going to kill myself tonight")
        dm_room = await direct_room(ana)
        dm = (await ana.wait_for("the crisis message", lambda: ana.messages(dm_room, bot)))[0]
        assert "116 123" in dm["content"]["body"]
        await mod.wait_for("ana's removal", lambda: kicked(world, ana))
        # it read its own encrypted pin after the restart, so it did not post the guidelines again
        posted = [m for m in mod.messages(world.group, bot) if m["content"]["body"].startswith("Welcome.")]
        assert len(posted) == 1
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, *world.people.values()]:
            await p.close()


async def test_a_message_it_cannot_decrypt_is_counted_reported_and_its_key_requested(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path, encrypted=True)
    kit, mod, bot = world.people["kit"], world.mod, world.bot.user_id
    try:
        gw = await world.start_gateway()
        await ready(world, kit)
        # kit's app withholds the room key from the bot's device (as an app set to send to verified
        # devices only would): the bot receives ciphertext it cannot read
        bot_devices = await kit.wait_for("the bot's device", lambda: list(kit.client.device_store.active_user_devices(bot)))
        for device in bot_devices:
            kit.client.blacklist_device(device)
        await kit.say(world.group, f"hello everyone {MARKER}")
        await kit.say(world.group, "how is everyone doing")

        def notices():
            return [m for m in mod.messages(world.mods_room, bot) if "could not read an encrypted message"
                    in m["content"]["body"]]
        notice = (await mod.wait_for("the notice", notices))[0]["content"]["body"]
        assert "peer support" in notice or world.group in notice
        def rows():
            return [r for r in gw.log.rows() if r["kind"] == "undecryptable"]
        await mod.wait_for("both counted", lambda: len(rows()) == 2)
        for _ in range(4):
            await mod.sync()
        assert len(notices()) == 1  # once per room and day, however many
        assert len(rows()) == 2 and all(r["room"] == world.group for r in rows())
        assert gw.adapter.crypto.waiting() == 2  # kept (ciphertext, in memory) for when a key comes
        # the bot asked kit's devices for the key
        await kit.wait_for("a key request", lambda: [e for e in kit.to_device
                                                     if type(e).__name__ == "RoomKeyRequest"])
        # `gateway status` shows the count to the operator
        out = subprocess.run([GATEWAY, "status", "--config", str(world.config_path)], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "undecryptable" in out.stdout and "2" in out.stdout
        assert MARKER not in out.stdout
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, *world.people.values()]:
            await p.close()


async def test_a_room_that_turns_encryption_on_keeps_working(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path)
    # kit uses an encrypting app in a room that is not encrypted yet
    from gateway.demo.homeserver import Person

    mod, bot = world.mod, world.bot.user_id
    tag = world.bot.user_id[4:10]
    kit = Person(homeserver, f"kitenc{tag}", store=homeserver.dir / "clients" / f"kitenc{tag}")
    try:
        await mod.client.room_invite(world.group, kit.id)
        await kit.sync()
        await kit.client.join(world.group)
        gw = await world.start_gateway()
        await mod.wait_for("the guidelines", lambda: mod.messages(world.group, bot))
        await mod.client.room_put_state(world.group, "m.room.encryption", ENCRYPTION["content"])
        for _ in range(3):
            await kit.sync()
        await asyncio.sleep(1.5)  # the gateway's sync sees the room turn encrypted
        said = await kit.say(world.group, "i want to end my life tonight")
        raw = server_view(homeserver, kit.user.access_token, f"/_matrix/client/v3/rooms/{world.group}/event/{said}")
        assert raw["type"] == "m.room.encrypted"
        dm_room = await direct_room(kit)
        dm = (await kit.wait_for("the crisis message", lambda: kit.messages(dm_room, bot)))[0]
        assert "116 123" in dm["content"]["body"]
        await mod.wait_for("kit's removal", lambda: kicked(world, kit))
        assert gw.adapter.client.rooms[world.group].encrypted
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, kit, *world.people.values()]:
            await p.close()


async def test_verified_only_sends_keys_to_listed_devices_alone_and_says_when_none_can_read(homeserver, tmp_path):
    """``trust: verified-only`` with the moderator's device listed (its fingerprint read out of the app)
    and kit's not: the alert reaches the moderator, encrypted for that device alone. Kit's crisis
    message could reach no one, so it is not sent into the void: it counts as not delivered, kit is not
    removed (no removal without a delivered message), and the moderators are told to reach kit."""
    world = await make_world(homeserver, tmp_path, encrypted=True,
                             network_extra="encryption:\n  trust: verified-only\n  verified_devices: [LISTED]\n")
    kit, mod, bot = world.people["kit"], world.mod, world.bot.user_id
    fingerprint = mod.client.olm.account.identity_keys["ed25519"]
    text = world.config_path.read_text()
    world.config_path.write_text(text.replace("LISTED", f'"{mod.id} {mod.client.device_id} {fingerprint}"'))
    try:
        gw = await world.start_gateway()
        await ready(world, kit)
        await kit.say(world.group, "i took all my pills")
        alert = (await mod.wait_for("the alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                          if kit.id in m["content"]["body"]]))[0]
        body = alert["content"]["body"]
        assert "Private message: not delivered (no_verified_device)" in body and "kept in the room" in body
        member = await mod.client.room_get_state_event(world.group, "m.room.member", kit.id)
        assert member.content["membership"] == "join"
        assert [r["code"] for r in gw.log.rows() if r["kind"] == "dm_failed"] == ["no_verified_device"]
        await kit.sync()
        assert not [m for r, m in kit.events if m.get("sender") == bot and "116 123" in str(m.get("content"))]
        # the guidelines in the group room went to the moderator's device only: kit cannot read them
        assert [r for r, _ in kit.undecrypted if r == world.group]
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, *world.people.values()]:
            await p.close()


async def test_a_wrong_pickle_key_stops_with_what_to_fix(homeserver, tmp_path):
    """The store cannot be opened with another key: the gateway stops (exit 3 from `gateway run`) with a
    line saying so, instead of starting as a new device and losing every session."""
    from adapters.contract import CredentialsRefused

    world = await make_world(homeserver, tmp_path, encrypted=True)
    try:
        gw = await world.start_gateway()
        await gw.stop()
        world.gateway = None
        (world.dir / "data" / "crypto" / "mx.key").write_text("not-the-key-it-was-made-with\n")
        with pytest.raises(CredentialsRefused, match="cannot be opened .*pickle key"):
            gw = await world.start_gateway()
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [world.mod, *world.people.values()]:
            await p.close()
