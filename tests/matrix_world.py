"""Test rig for the Matrix adapter: real users on a real Synapse, and a gateway configured for them."""

from __future__ import annotations

import asyncio
import os
import secrets
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from nio import AsyncClient, InviteMemberEvent, RoomPreset, SyncError

from adapters.matrix import MatrixAdapter, create
from gateway.config import build_engine, load_config
from gateway.eventlog import EventLog
from gateway.homeserver import Homeserver
from gateway.runner import Runner

WAIT = 30.0  # seconds a test waits for something to be seen before it fails


class Person:
    """A real Matrix client, logged in as a registered user, that remembers what it has seen."""

    def __init__(self, hs: Homeserver, localpart: str):
        self.user = hs.register(localpart)
        self.id = self.user.user_id
        self.client = AsyncClient(hs.url, self.id, device_id=self.user.device_id)
        self.client.access_token = self.user.access_token
        self.client.user_id = self.id
        self.events: list[tuple[str, dict]] = []  # (room id, raw event) in arrival order
        self.invites: dict[str, list[dict]] = {}

    async def sync(self) -> None:
        resp = await self.client.sync(timeout=500, since=self.client.next_batch)
        if isinstance(resp, SyncError):
            return
        for room_id, info in resp.rooms.join.items():
            self.events.extend((room_id, ev.source) for ev in info.timeline.events)
        for room_id, info in resp.rooms.invite.items():
            self.invites[room_id] = [{"type": "m.room.member", "state_key": e.state_key, "content": e.content}
                                     for e in info.invite_state if isinstance(e, InviteMemberEvent)]

    async def wait_for(self, what: str, found: Callable[[], Any]) -> Any:
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            result = found()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.id} never saw {what}")
            await self.sync()

    def messages(self, room_id: str, sender: str | None = None) -> list[dict]:
        return [e for r, e in self.events if r == room_id and e.get("type") == "m.room.message"
                and (sender is None or e.get("sender") == sender)]

    async def say(self, room_id: str, text: str) -> str:
        resp = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})
        return resp.event_id

    async def close(self) -> None:
        await self.client.close()


@dataclass
class World:
    hs: Homeserver
    dir: Path
    bot: Any
    mod: Person
    people: dict[str, Person]
    group: str
    mods_room: str
    config_path: Path
    gateway: "Gateway | None" = None
    extra: dict = field(default_factory=dict)

    async def start_gateway(self) -> "Gateway":
        gw = Gateway(self.config_path)
        await gw.start()
        self.gateway = gw
        return gw


class Gateway:
    """The real gateway (config, engine, event log, Matrix adapter, runner) running in this loop."""

    def __init__(self, config_path: Path):
        self.config = load_config(config_path)
        self.engine = build_engine(self.config)
        self.log = EventLog(self.config.event_log)
        net = self.config.networks["mx"]
        rooms = [b.room for b in self.config.rooms] + [b.moderators_room for b in self.config.rooms]
        self.adapter: MatrixAdapter = create(net, store=self.log, rooms=rooms)
        self.adapter.sync_timeout_ms = 500
        self.runner = Runner(self.engine, {"mx": self.adapter}, self.log)
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.adapter.run(self.runner))
        ready = asyncio.create_task(self.adapter.ready.wait())
        done, _ = await asyncio.wait({self.task, ready}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            self.task.result()  # raises what went wrong
        assert ready in done, "the gateway did not become ready"

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        await self.adapter.stop()
        self.log.close()


async def make_world(hs: Homeserver, tmp: Path, *, policy_extra: str = "") -> World:
    tag = secrets.token_hex(3)
    bot_password = secrets.token_hex(12)
    bot = hs.register(f"bot{tag}", bot_password)
    mod = Person(hs, f"mod{tag}")
    people = {name: Person(hs, f"{name}{tag}") for name in ("kit", "ana")}
    power = {"users": {bot.user_id: 100}}  # room version 12: the creator (mod) outranks everyone
    group = (await mod.client.room_create(name="peer support", preset=RoomPreset.private_chat,
                                          invite=[bot.user_id, *(p.id for p in people.values())],
                                          power_level_override=power)).room_id
    mods_room = (await mod.client.room_create(name="moderators", preset=RoomPreset.private_chat,
                                              invite=[bot.user_id], power_level_override=power)).room_id
    for p in people.values():
        await p.client.join(group)
        await p.sync()
    await mod.sync()
    env = f"GATEWAY_TEST_PW_{tag}"
    os.environ[env] = bot_password
    (tmp / "policies").mkdir(exist_ok=True)
    (tmp / "policies" / "peer.yaml").write_text(textwrap.dedent(f"""
        extends: default
        name: peer
        region: GB
        moderators:
          room: "{mods_room}"
    """) + policy_extra)
    config_path = tmp / "gateway.yaml"
    config_path.write_text(textwrap.dedent(f"""
        event_log: data/gateway.db
        policy_dir: policies
        networks:
          mx:
            type: matrix
            homeserver: {hs.url}
            user_id: "{bot.user_id}"
            password_env: {env}
        rooms:
          - network: mx
            room: "{group}"
            policy: peer
    """))
    return World(hs, tmp, bot, mod, people, group, mods_room, config_path)
