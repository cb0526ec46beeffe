"""Test rig for the Matrix adapter: real users on a real Synapse, and a gateway configured for them."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nio import RoomPreset

from adapters.matrix import MatrixAdapter
from gateway.demo.homeserver import ENCRYPTION, Homeserver, Person
from gateway.service import Service

from .factories import matrix_network, policy_yaml, room_entry, write_gateway


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


class Gateway(Service):
    """The real gateway, as ``gateway run`` assembles it, syncing quickly for tests."""

    def __init__(self, config_path: Path):
        super().__init__(config_path)
        self.adapter: MatrixAdapter = self.adapters["mx"]
        self.adapter.sync_timeout_ms = 500


async def make_world(hs: Homeserver, tmp: Path, *, policy_extra: str = "", invite_bot: bool = True,
                     use_token: bool = False, encrypted: bool = False, network_extra: str = "",
                     mods_encrypted: bool | None = None) -> World:
    """``encrypted``: the people use end-to-end encrypting clients (stores outside ``tmp``, which holds
    only what the gateway writes) and both rooms are encrypted from their creation (the moderators'
    room unless ``mods_encrypted`` is False). Both rooms are invite-only, as a real deployment's are."""
    tag = secrets.token_hex(3)
    bot_password = secrets.token_hex(12)
    bot = hs.register(f"bot{tag}", bot_password)
    clients = hs.dir / "clients" / tag

    def person(name: str) -> Person:
        return Person(hs, f"{name}{tag}", store=clients / name if encrypted else None)

    mod = person("mod")
    people = {name: person(name) for name in ("kit", "ana")}
    power = {"users": {bot.user_id: 100}}  # room version 12: the creator (mod) outranks everyone
    state = [ENCRYPTION] if encrypted else []
    group = (await mod.client.room_create(name="peer support", preset=RoomPreset.private_chat,
                                          invite=[*([bot.user_id] if invite_bot else []),
                                                  *(p.id for p in people.values())],
                                          power_level_override=power, initial_state=state)).room_id
    mods_room = (await mod.client.room_create(name="moderators", preset=RoomPreset.private_chat,
                                              invite=[bot.user_id], power_level_override=power,
                                              initial_state=state if mods_encrypted is None
                                              else [ENCRYPTION] if mods_encrypted else [])).room_id
    for p in people.values():
        await p.client.join(group)
        await p.sync()
    await mod.sync()
    env = f"GATEWAY_TEST_SECRET_{tag}"
    os.environ[env] = bot.access_token if use_token else bot_password
    config_path = write_gateway(tmp, policy=policy_yaml(mods_room, extra=policy_extra),
                                networks=[matrix_network(hs.url, bot.user_id, env, token=use_token,
                                                         extra=network_extra)],
                                rooms=[room_entry("mx", group)])
    return World(hs, tmp, bot, mod, people, group, mods_room, config_path)


@pytest.fixture
async def world(homeserver, tmp_path):
    """A fresh world on the session's Synapse; the gateway, if a test started one, is stopped after."""
    w = await make_world(homeserver, tmp_path)
    yield w
    if w.gateway is not None:
        await w.gateway.stop()
    for p in [w.mod, *w.people.values()]:
        await p.close()
