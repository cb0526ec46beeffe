"""The IRC adapter against real IRC servers on loopback, with real client connections as the people.

Every test that takes ``world`` or ``ircd`` runs twice: on ngircd, and on InspIRCd linked to Anope
services (the bot then also sees IRCv3 account tags, account-notify and extended-join). TLS and the
restart test run on ngircd. Without the servers these tests skip locally; under CI a skip is a failure
(.ci/run installs them).
"""

from __future__ import annotations

import asyncio
import secrets
import textwrap
from pathlib import Path

import pytest

from adapters.contract import ResendKey
from adapters.irc import IrcAdapter
from adapters.irc.lines import fold
from gateway.service import Service

from .factories import irc_network, policy_yaml, room_entry, write_gateway
from .ircd import IrcPerson, Ngircd, ngircd_path, start_server

NEUTRAL = "Removed by the room bot (automated). A moderator will follow up."


@pytest.fixture(scope="module", params=["ngircd", "inspircd"])
def ircd(request, tmp_path_factory):
    """One server per module and kind: ngircd, then InspIRCd with Anope services."""
    server = start_server(request.param, tmp_path_factory.mktemp(request.param))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain_ngircd(tmp_path_factory):
    """ngircd only: what InspIRCd is not set up for here (TLS)."""
    server = start_server("ngircd", tmp_path_factory.mktemp("ngircd_tls"))
    yield server
    server.stop()


class IrcWorld:
    def __init__(self, server: Ngircd, tmp: Path, policy_extra: str = "", guidelines_extra: str = "",
                 tick_every: float = 30.0, clock=None):
        tag = secrets.token_hex(3)
        self.server, self.dir, self.tag = server, tmp, tag
        self.group, self.mods = f"#grp{tag}", f"#mods{tag}"
        self.bot_nick = f"bot{tag}"
        self.policy_extra, self.guidelines_extra, self.tick_every = policy_extra, guidelines_extra, tick_every
        self.clock = clock
        self.people: dict[str, IrcPerson] = {}
        self.service: Service | None = None

    async def person(self, name: str, *channels: str) -> IrcPerson:
        p = await IrcPerson(self.server.port, name + self.tag).connect()
        for c in channels:
            mod = self.people.get("mod")
            if c == self.mods and mod is not None and mod.find(" 366 ", c):  # the bot keeps the moderators' channel invite-only
                mod.send(f"INVITE {p.nick} {c}")
                await p.wait_for("the invitation", lambda: p.find("INVITE", c))
            await p.join(c)
        self.people[name] = p
        return p

    def write_config(self, extra_networks: str = "", room_extra: str = "", tls: bool = False,
                     op_wait: float = 10.0, flood: tuple[float, float] = (100, 100), network_extra: str = "") -> Path:
        policy = policy_yaml(self.mods, accounts=(f"modacct{self.tag}",), extra=textwrap.dedent("""\
            guidelines:
              greet_on_join: true
            GUIDELINES_EXTRA
            """).replace("GUIDELINES_EXTRA\n", self.guidelines_extra))
        network = irc_network(self.server.tls_port if tls else self.server.port, self.bot_nick, tls=tls,
                              ca_file=self.server.ca_file, flood=flood, op_wait=op_wait, extra=network_extra)
        path = write_gateway(self.dir, policy=policy + self.policy_extra, networks=[network],
                             rooms=[room_entry("irc", self.group)])
        if extra_networks or room_extra:  # more networks (already indented) and more room lines
            text = path.read_text().replace("rooms:\n", extra_networks + "rooms:\n") + room_extra
            path.write_text(text)
        return path

    async def start(self, **config) -> Service:
        """Moderator creates both channels (so is op), the gateway joins, the moderator ops the bot."""
        mod = await self.person("mod", self.group, self.mods)
        options = {"clock": self.clock} if self.clock is not None else {}
        self.service = Service(self.write_config(**config), tick_every=self.tick_every, **options)
        await self.service.start()
        adapter = self.adapter
        for channel in adapter.channels:  # the channels this bot is configured for
            mod.send(f"MODE {channel} +o {self.bot_nick}")
        await wait_until("the bot is op", lambda: all(
            fold(self.bot_nick) in adapter.ops.get(fold(c), set()) for c in adapter.channels))
        return self.service

    @property
    def adapter(self) -> IrcAdapter:
        return self.service.adapters["irc"]

    async def close(self) -> None:
        if self.service is not None:
            await self.service.stop()
        for p in self.people.values():
            await p.close()


async def wait_until(what: str, found, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not found():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def world(ircd, tmp_path):
    w = IrcWorld(ircd, tmp_path)
    yield w
    await w.close()


async def test_guidelines_and_the_at_risk_flow_as_people_on_irc_see_it(world):
    service = await world.start()
    mod = world.people["mod"]
    bot = world.bot_nick
    await mod.wait_for("the guidelines in the channel", lambda: mod.find(f":{bot}!", f"NOTICE {world.group} :Welcome."))

    kit = await world.person("kit", world.group)
    await kit.wait_for("the greeting notice", lambda: kit.find(f":{bot}!", f"NOTICE {kit.nick} :Welcome to"))
    assert kit.find(f"NOTICE {kit.nick} :- Don't share details of methods")  # guidelines come with it

    marker = "CANARYirc9"
    kit.send(f"PRIVMSG {world.group} :honestly I took all my pills {marker}")
    kick = (await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}")))[0]
    assert kick.endswith(f":{NEUTRAL}")
    private = kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :")
    assert private and kit.lines.index(private[0]) < kit.lines.index(kick)  # the message came first
    text = "\n".join(private)
    assert "call 116 123" in text and "call 999" in text and "not a person or a counsellor" in text
    assert all(len(line.encode()) + 2 <= 512 for line in kit.lines)

    alert = await mod.wait_for("the alert", lambda: mod.find(f":{bot}!", f"PRIVMSG {world.mods} :[URGENT]"))
    assert kit.nick in alert[0]
    await mod.wait_for("the alert's status line", lambda: mod.find(
        f"PRIVMSG {world.mods} :Private message: delivered. Removal: done."))
    assert not mod.find(f":{bot}!", marker)  # the bot never repeats what kit wrote
    kinds = [r["kind"] for r in service.log.rows()]
    assert kinds[-4:] == ["risk_detected", "dm_sent", "removed", "alerted"]
    for path in (world.dir / "data").iterdir():
        assert marker.encode() not in path.read_bytes(), path.name


async def test_commands_need_operator_status_or_a_services_account_never_a_nick(world):
    service = await world.start()
    mod, bot = world.people["mod"], world.bot_nick
    impostor = await world.person("modacct", world.group)  # nick equals the moderators' account name
    assert impostor.nick == f"modacct{world.tag}"
    impostor.send(f"PRIVMSG {world.group} :!pause")
    await impostor.wait_for("a refusal", lambda: impostor.find(f":{bot}!", "is for moderators"))
    assert not service.engine.state.paused

    mod.send(f"PRIVMSG {world.group} :!pause")
    await mod.wait_for("the pause", lambda: mod.find(f":{bot}!", "is paused"))
    mod.send(f"PRIVMSG {world.mods} :!status")
    await mod.wait_for("a status reply", lambda: mod.find(f":{bot}!", f"NOTICE {world.mods} :Watching 1 room"))
    rows = [(r["command"], r["authorised"]) for r in service.log.rows() if r["kind"] == "command"]
    assert rows == [("pause", False), ("pause", True), ("status", True)]


async def test_without_operator_status_the_bot_alerts_that_it_could_not_remove(world):
    await world.start(op_wait=0.5)  # waits briefly for op status (as after a rejoin), then tries
    mod, bot = world.people["mod"], world.bot_nick
    kit = await world.person("kit", world.group)
    mod.send(f"MODE {world.group} -o {bot}")
    await wait_until("the bot lost op", lambda: fold(bot) not in world.adapter.ops.get(fold(world.group), set()))
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    await kit.wait_for("the private message", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :"))
    await mod.wait_for("an alert about the failed removal", lambda: mod.find(
        f"PRIVMSG {world.mods} :Private message: delivered. Removal: FAILED (482): still in the room."))
    assert not kit.find(f"KICK {world.group}")


async def test_private_message_not_delivered_is_recorded_and_escalated(world):
    service = await world.start()
    mod, bot = world.people["mod"], world.bot_nick
    ana = await world.person("ana", world.group)
    ana.send(f"PRIVMSG {world.group} :i took all my pills", "QUIT :gone")
    await mod.wait_for("the escalated alert", lambda: mod.find(
        f"PRIVMSG {world.mods} :Private message: not delivered (401). Removal: kept in the room"))
    failed = [r for r in service.log.rows() if r["kind"] == "dm_failed"]
    assert failed and failed[0]["code"] == "401"


async def test_invalid_utf8_and_crlf_injection_do_no_harm(world):
    service = await world.start()
    mod, bot = world.people["mod"], world.bot_nick
    kit = await world.person("kit", world.group)
    kit.send_bytes(f"PRIVMSG {world.group} :caf\xe9 \xff i took all my pills\r\n".encode("latin-1"))
    await kit.wait_for("the private message", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :"))
    # text the bot echoes that came from a user can never start a new line
    adapter = world.adapter
    lines = adapter._text_lines("PRIVMSG", "x\r\nQUIT", "a\rb\nc")
    assert lines == ["PRIVMSG x  QUIT :a", "PRIVMSG x  QUIT :b", "PRIVMSG x  QUIT :c"]
    assert not any(ch in line for line in lines for ch in "\r\n\0")


async def test_timed_ban_is_set_with_the_kick_and_lifted_by_the_bot(ircd, tmp_path):
    world = IrcWorld(ircd, tmp_path, policy_extra=textwrap.dedent("""
        tiers:
          imminent:
            action:
              ban_for: 2s
    """))
    try:
        await world.start()
        mod, bot = world.people["mod"], world.bot_nick
        kit = await world.person("kit", world.group)
        kit.send(f"PRIVMSG {world.group} :i took all my pills")
        ban = await mod.wait_for("the ban", lambda: mod.find(f":{bot}!", f"MODE {world.group} +b"))
        mask = ban[0].split()[-1].lstrip(":")  # InspIRCd writes the last parameter as a trailing one
        assert mask == "*!*@127.0.0.1"
        await mod.wait_for("the KICK", lambda: mod.find(f"KICK {world.group} {kit.nick}"))
        await mod.wait_for("the ban lifted", lambda: mod.find(f":{bot}!", f"MODE {world.group} -b", mask))
    finally:
        await world.close()


@pytest.mark.live
async def test_reconnects_after_the_server_restarts_and_acts_again(tmp_path):
    if ngircd_path() is None:
        pytest.skip("ngircd is not installed: apt-get install ngircd")
    server = Ngircd(tmp_path / "ngircd").start()
    world = IrcWorld(server, tmp_path)
    try:
        await world.start()
        adapter, bot = world.adapter, world.bot_nick
        assert adapter.health() == {"ready": True, "reconnects": 0}
        server.stop()
        for p in world.people.values():
            await p.close()
        world.people.clear()
        await wait_until("the bot noticed", lambda: not adapter._registered.is_set())
        assert adapter.health()["ready"] is False  # what /readyz and gateway_network_connected show
        server.start()  # same port; the bot is first back, so it creates the channels and is op
        await wait_until("the bot rejoined with op", lambda: all(
            fold(bot) in adapter.ops.get(fold(c), set()) for c in (world.group, world.mods)), timeout=60)
        # ...and makes the moderators' channel invite-only at once: the moderator gets in by invitation
        # (here from the test, as an operator of a server without services would arrange)
        await wait_until("+i", lambda: "i" in adapter.chanmodes.get(fold(world.mods), set()))
        mod = await IrcPerson(server.port, "mod" + world.tag).connect()
        world.people["mod"] = mod
        adapter._send(f"INVITE {mod.nick} {world.mods}")
        await mod.wait_for("the invitation", lambda: mod.find("INVITE", world.mods))
        await mod.join(world.mods)
        kit = await world.person("kit", world.group)
        kit.send(f"PRIVMSG {world.group} :i took all my pills")
        await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}"))
        await mod.wait_for("the alert", lambda: mod.find(f"PRIVMSG {world.mods} :[URGENT]"))
        assert adapter.health() == {"ready": True, "reconnects": 1}  # gateway_irc_reconnects_total
    finally:
        await world.close()
        server.stop()


async def test_an_irc_incident_can_alert_a_matrix_moderators_room(ircd, homeserver, tmp_path):
    from gateway.demo.homeserver import Person
    from nio import RoomPreset

    tag = secrets.token_hex(3)
    bot_pw = secrets.token_hex(8)
    bot = homeserver.register(f"xbot{tag}", bot_pw)
    mxmod = Person(homeserver, f"xmod{tag}")
    mods_room = (await mxmod.client.room_create(name="mods", preset=RoomPreset.private_chat,
                                                invite=[bot.user_id])).room_id
    import os

    os.environ[f"XBOT_{tag}"] = bot_pw
    world = IrcWorld(ircd, tmp_path)
    try:
        await world.start(
            extra_networks=textwrap.dedent(f"""
              mx:
                type: matrix
                homeserver: {homeserver.url}
                user_id: "{bot.user_id}"
                password_env: XBOT_{tag}
            """).replace("\n", "\n  ").rstrip(" "),
            room_extra=f"    moderators_network: mx\n    moderators_room: \"{mods_room}\"\n")
        kit = await world.person("kit", world.group)
        kit.send(f"PRIVMSG {world.group} :i took all my pills")
        alert = await mxmod.wait_for("the alert on Matrix", lambda: mxmod.messages(mods_room, bot.user_id))
        body = alert[0]["content"]["body"]
        assert kit.nick in body and f"in {world.group} (irc)" in body and "Removal: done" in body
    finally:
        await world.close()
        await mxmod.close()


async def test_guidelines_reposted_at_the_interval_and_kept_in_the_topic(ircd, tmp_path):
    world = IrcWorld(ircd, tmp_path, tick_every=0.2,
                     guidelines_extra="  repost_every: 1s\n  topic: Peer support. Be kind. !resources for crisis lines.\n")
    try:
        await world.start()
        mod, bot = world.people["mod"], world.bot_nick
        await mod.wait_for("the topic", lambda: mod.find(f":{bot}!", f"TOPIC {world.group} :Peer support. Be kind."))
        await mod.wait_for("a second posting", lambda: mod.find(
            f":{bot}!", f"NOTICE {world.group} :Welcome.")[1:])
    finally:
        await world.close()


async def test_tls_connection_with_a_verified_private_ca(plain_ngircd, tmp_path):
    world = IrcWorld(plain_ngircd, tmp_path)
    try:
        await _tls_flow(world)
    finally:
        await world.close()


async def _tls_flow(world):
    await world.start(tls=True)
    mod, bot = world.people["mod"], world.bot_nick
    kit = await world.person("kit", world.group)
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    await kit.wait_for("the KICK over a TLS-connected bot", lambda: kit.find(f"KICK {world.group} {kit.nick}"))
    assert world.adapter.tls and world.adapter._conn.transport.get_extra_info("ssl_object") is not None


async def test_event_log_failure_keeps_protecting_and_tells_the_moderators(world):
    service = await world.start()
    mod, bot = world.people["mod"], world.bot_nick
    kit = await world.person("kit", world.group)
    service.log.db.execute("PRAGMA query_only = ON")  # every write now fails, as on a read-only disk
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    await kit.wait_for("the private message", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :Hi."))
    await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}"))
    await mod.wait_for("the alert", lambda: mod.find(f"PRIVMSG {world.mods} :[URGENT]"))
    await mod.wait_for("the logging alert", lambda: mod.find(f":{bot}!", "cannot write its event log"))
    assert service.runner.log_failures >= 5
    service.log.db.execute("PRAGMA query_only = OFF")


async def test_a_resend_with_the_same_key_skips_the_lines_that_already_left(world):
    await world.start()
    bot = world.bot_nick
    kit = await world.person("kit")
    adapter = world.adapter
    text = "line one\nline two\nline three\nline four"
    key = ResendKey("case9", "dm")
    adapter.store.record_parts_sent(key, 2)  # a crash after two lines had been written
    await adapter.send_private(kit.nick, text, key=key)
    await adapter.send_private(kit.nick, text, key=key)  # and another resend: nothing new
    await kit.wait_for("the rest", lambda: kit.find(f":{bot}!", "line four"))
    await asyncio.sleep(0.3)
    received = [line.split(" :", 1)[1] for line in kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :")]
    assert received == ["line three", "line four"]


async def test_a_flood_is_read_with_backpressure_and_the_at_risk_line_still_gets_help(world):
    """Lines arriving faster than the gateway handles them: it stops reading past MAX_QUEUED lines (TCP
    pushes back; memory stays bounded), resumes when it has caught up, and the at-risk line sent after
    the flood still gets the private message, the removal and the alert."""
    service = await world.start()
    adapter, bot = world.adapter, world.bot_nick
    adapter.MAX_QUEUED = 50
    mod = world.people["mod"]
    ana = await world.person("ana", world.group)
    kit = await world.person("kit", world.group)
    handle_many = service.runner.handle_many
    largest = []

    async def slow(events):
        largest.append(adapter._in.qsize())
        await asyncio.sleep(0.02)  # a consumer slower than the line rate
        await handle_many(events)

    service.runner.handle_many = slow
    ana.send(*(f"PRIVMSG {world.group} :ordinary chat line {i}" for i in range(1500)))
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    await kit.wait_for("the private message", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :Hi."))
    await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}"))
    await mod.wait_for("the alert", lambda: mod.find(f":{bot}!", f"PRIVMSG {world.mods} :[", kit.nick))
    assert adapter.backpressure_pauses >= 1 and not adapter._reading_paused
    assert max(largest) < 1500  # never the whole flood at once (reading resumes for each action's PONG)
