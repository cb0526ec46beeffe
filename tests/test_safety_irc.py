"""Issue 14 on real IRC servers: InspIRCd 3 with Anope services (SASL, account-tag, account-notify,
extended-join), and ngircd where a finding does not need services. People are real client connections;
each test asserts what they see, and each failed before its fix."""

from __future__ import annotations

import asyncio
import os

import pytest

from adapters.irc.lines import fold

from .ircd import IrcPerson, inspircd, ngircd  # noqa: F401  (fixtures)
from .test_irc import NEUTRAL, IrcWorld, wait_until

PASSWORD = "correct-horse-battery"


@pytest.fixture
async def world(inspircd, tmp_path):  # noqa: F811
    w = IrcWorld(inspircd, tmp_path)
    yield w
    await w.close()


async def sasl_bot(world: IrcWorld) -> str:
    """Register the bot's services account (as its owner would) and return config lines for SASL."""
    owner = await IrcPerson(world.server.port, f"botacct{world.tag}").connect()
    await owner.register_account(PASSWORD)
    await owner.close()
    env = f"GATEWAY_TEST_SASL_{world.tag}"
    os.environ[env] = PASSWORD
    return f"sasl_account: botacct{world.tag}\nsasl_password_env: {env}\n"


async def moderator_account(world: IrcWorld) -> IrcPerson:
    """A moderator known by services account only (not a channel operator): ``modacct`` in the policy."""
    mod = await IrcPerson(world.server.port, f"modacct{world.tag}").connect()
    await mod.register_account(PASSWORD)  # registering logs them in
    await mod.join(world.group)
    world.people["modacct"] = mod
    return mod


def refused(person, bot) -> list[str]:
    return person.find(f":{bot}!", "is for moderators")


async def test_at_risk_flow_with_sasl_and_account_tags_on_inspircd(world):
    """The whole flow on InspIRCd with services; the bot logs in by SASL and reads account tags."""
    service = await world.start(network_extra=await sasl_bot(world))
    adapter, bot, mod = world.adapter, world.bot_nick, world.people["mod"]
    assert {"sasl", "account-tag", "account-notify", "extended-join"} <= adapter.caps
    mod.send(f"WHOIS {bot}")
    await mod.wait_for("the bot's account", lambda: mod.find(" 330 ", f"botacct{world.tag}"))

    kit = await world.person("kit", world.group)
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    kick = (await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {kit.nick}")))[0]
    assert kick.endswith(f":{NEUTRAL}")
    private = kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :")
    assert private and kit.lines.index(private[0]) < kit.lines.index(kick)
    text = "\n".join(private)
    assert "call 116 123" in text and "call 999" in text
    await mod.wait_for("the alert", lambda: mod.find(
        f"PRIVMSG {world.mods} :Private message: delivered. Removal: done."))
    assert [r["kind"] for r in service.log.rows()][-4:] == ["risk_detected", "dm_sent", "removed", "alerted"]


async def test_a_stranger_who_takes_a_moderators_nick_is_not_a_moderator(world):
    """Finding 2: the account is the line's own (account-tag), not one remembered for the nick."""
    service = await world.start()
    bot = world.bot_nick
    mod = await moderator_account(world)
    mod.send(f"PRIVMSG {world.group} :!pause")
    await mod.wait_for("the pause", lambda: mod.find(f":{bot}!", "is paused"))
    mod.send(f"PRIVMSG {world.group} :!resume")
    await mod.wait_for("the resume", lambda: mod.find(f":{bot}!", "resumed"))

    nick = mod.nick
    mod.send(f"PART {world.group}")
    await wait_until("the bot saw the part", lambda: fold(nick) not in world.adapter.members.get(fold(world.group), set()))
    await mod.close()  # the bot shares no channel with them any more: it never sees this QUIT
    del world.people["modacct"]
    await asyncio.sleep(0.3)
    stranger = await IrcPerson(world.server.port, nick).connect()  # same nick, no account
    world.people["stranger"] = stranger
    await stranger.join(world.group)
    stranger.send(f"PRIVMSG {world.group} :!pause")
    await stranger.wait_for("a refusal", lambda: refused(stranger, bot))
    assert not service.engine.state.paused


async def test_after_logout_the_account_no_longer_authorises(world):
    """Finding 2: NickServ LOGOUT takes effect at once (account-notify, and the line's tag)."""
    service = await world.start()
    bot = world.bot_nick
    mod = await moderator_account(world)
    mod.send(f"PRIVMSG {world.group} :!status")
    await mod.wait_for("a status reply", lambda: mod.find(f":{bot}!", "Watching this room"))
    mod.send("PRIVMSG NickServ :LOGOUT")
    await wait_until("the bot saw the logout", lambda: world.adapter.accounts.get(fold(mod.nick), "x") is None)
    mod.send(f"PRIVMSG {world.group} :!pause")
    await mod.wait_for("a refusal", lambda: refused(mod, bot))
    assert not service.engine.state.paused


async def test_after_an_ircd_restart_without_services_the_bot_registers_and_acts(world):
    """Finding 2: capabilities are negotiated afresh; with services not back yet (no SASL offered) the
    bot registers without SASL at once instead of hanging unregistered, and protects people again."""
    await world.start(network_extra=await sasl_bot(world))
    adapter, bot = world.adapter, world.bot_nick
    assert "sasl" in adapter.caps
    for p in list(world.people.values()):
        await p.close()
    world.people.clear()
    server = world.server
    server.stop_services()
    # the moderator is back in the channels first (channel operator), as ChanServ would see to: the bot
    # keeps an empty moderators' channel it recreates invite-only
    mod_first, connect = asyncio.Event(), adapter._connect

    async def after_the_moderator(loop):
        await mod_first.wait()
        await connect(loop)

    adapter._connect = after_the_moderator
    server.stop_ircd()
    await wait_until("the bot saw the server go", lambda: not adapter._registered.is_set(), timeout=20)
    server.start_ircd()  # services stay down: the server offers no SASL now
    mod = await world.person("mod", world.group, world.mods)  # first in: channel operator
    mod_first.set()
    started = asyncio.get_running_loop().time()
    await wait_until("the bot registered again", lambda: adapter._registered.is_set(), timeout=30)
    # at once, not after the server's 60 s registration timeout (the reconnect backoff is 1-2 s)
    assert asyncio.get_running_loop().time() - started < 8
    assert "sasl" not in adapter.caps
    await wait_until("the bot rejoined", lambda: all(fold(c) in adapter.members for c in adapter.channels), timeout=20)
    for channel in adapter.channels:
        mod.send(f"MODE {channel} +o {bot}")
    kit = await world.person("kit", world.group)
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    await kit.wait_for("the crisis message", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :", "116 123"))
    await mod.wait_for("the alert", lambda: mod.find(f":{bot}!", f"PRIVMSG {world.mods} :[URGENT]"))


async def test_a_person_whose_nick_ends_in_serv_is_a_person(world):
    """Finding 2: only the network's real services are ignored, not everyone named like them."""
    await world.start()
    bot = world.bot_nick
    person = await world.person("lifeserv")
    person.send(f"PRIVMSG {bot} :hello, is anyone there")
    await person.wait_for("the bot's private reply", lambda: person.find(f":{bot}!", f"PRIVMSG {person.nick} :",
                                                                         "not a person"))


async def test_a_nick_change_right_after_the_at_risk_line_is_followed(world):
    """Finding 3: the crisis message, the KICK and the alert follow the person to their new nick."""
    await world.start()
    bot, mod = world.bot_nick, world.people["mod"]
    kit = await world.person("kit", world.group)
    new = f"kat{world.tag}"
    kit.send(f"PRIVMSG {world.group} :i took all my pills", f"NICK {new}")
    await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {new}"), timeout=30)
    text = "\n".join(kit.find(f":{bot}!", "PRIVMSG "))
    assert "call 116 123" in text and "call 999" in text
    alert = await mod.wait_for("the alert", lambda: mod.find(f":{bot}!", f"PRIVMSG {world.mods} :[URGENT]"))
    assert new in alert[0]
    await mod.wait_for("the status line", lambda: mod.find(
        f"PRIVMSG {world.mods} :Private message: delivered. Removal: done."))


async def test_a_nick_change_in_the_middle_of_the_crisis_message_gets_the_rest(world):
    """Finding 3: what had not reached them when they changed nick is sent to the new nick."""
    await world.start(flood=(2, 4))  # a slow bot: the message takes about two seconds to write
    bot, mod = world.bot_nick, world.people["mod"]
    kit = await world.person("kit", world.group)
    new = f"kat{world.tag}"
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    await kit.wait_for("the first line", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :"))
    kit.send(f"NICK {new}")
    await kit.wait_for("the KICK", lambda: kit.find(f"KICK {world.group} {new}"), timeout=30)
    before = kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :")
    after = kit.find(f":{bot}!", f"PRIVMSG {new} :")
    assert before and after  # part reached the old nick, the rest the new one
    text = "\n".join(before + after)
    assert "call 116 123" in text and "call 999" in text and "not a person or a counsellor" in text
    await mod.wait_for("the status line", lambda: mod.find(
        f"PRIVMSG {world.mods} :Private message: delivered. Removal: done."))


async def test_crisis_lines_go_ahead_of_replies_to_a_flood_of_commands(world):
    """Finding 8 (and 7's per-person reply budget): 15 !status lines from a non-moderator must not
    delay a crisis message behind their refusals."""
    await world.start(flood=(4, 1))  # Sopel's default budget: 4 lines at once, then one a second
    bot = world.bot_nick
    ana = await world.person("ana", world.group)
    kit = await world.person("kit", world.group)
    for _ in range(15):
        ana.send(f"PRIVMSG {world.group} :!status")
    kit.send(f"PRIVMSG {world.group} :i took all my pills")
    loop = asyncio.get_running_loop()
    start = loop.time()
    await kit.wait_for("the first crisis line", lambda: kit.find(f":{bot}!", f"PRIVMSG {kit.nick} :"), timeout=30)
    assert loop.time() - start < 4.0
    await asyncio.sleep(1.0)
    assert len(refused(ana, bot)) <= 3  # three refusals, then silence (counted in the log)


async def test_a_channel_with_a_key_is_joined_with_it_and_a_wrong_key_is_reported(ngircd, tmp_path):  # noqa: F811
    """Finding 3: a per-channel key; a channel the bot cannot join is reported to its moderators."""
    w = IrcWorld(ngircd, tmp_path)
    try:
        other = f"#other{w.tag}"
        mod = await w.person("mod", w.group, w.mods, other)
        mod.send(f"MODE {w.group} +k sesame", f"MODE {other} +k hidden")
        await mod.wait_for("the keys", lambda: len(mod.find("MODE", "+k")) >= 2)
        room_extra = f'    key: sesame\n  - network: irc\n    room: "{other}"\n    policy: peer\n'
        from gateway.service import Service

        w.service = Service(w.write_config(room_extra=room_extra))
        starting = asyncio.create_task(w.service.start())  # ready although one channel refused it
        # operator status in the moderators' channel as soon as the bot is in (as ChanServ gives it): the
        # bot then makes it invite-only, and only then posts there
        await mod.wait_for("the bot in the moderators' channel", lambda: mod.find(f":{w.bot_nick}!", "JOIN", w.mods))
        mod.send(f"MODE {w.mods} +o {w.bot_nick}")
        await starting
        adapter = w.adapter
        await wait_until("the bot in the keyed channel", lambda: fold(w.bot_nick) in adapter.members.get(fold(w.group), set()))
        assert adapter.blind == {fold(other): "475"}
        alert = await mod.wait_for("the blind alert", lambda: mod.find(f":{w.bot_nick}!", f"PRIVMSG {w.mods} :",
                                                                      "cannot join", other))
        assert "475" in alert[0] and "blind" in alert[0]
        assert "sesame" not in "".join(alert)
    finally:
        await w.close()


async def test_the_bot_takes_its_nick_back_when_the_old_connection_is_gone(ngircd, tmp_path):  # noqa: F811
    """After a crash the server may still hold the old connection: the bot registers as nick_ and takes
    its configured nick back as soon as it is free (people write to it by that name)."""
    w = IrcWorld(ngircd, tmp_path)
    try:
        holder = await IrcPerson(ngircd.port, w.bot_nick).connect()  # the "old connection"
        from gateway.service import Service

        w.service = Service(w.write_config())
        w.service.adapters["irc"].NICK_RETRY = (0.5, 0.5)
        await w.service.start()
        adapter = w.adapter
        assert adapter.nick == w.bot_nick + "_"
        await holder.close()
        await wait_until("the nick taken back", lambda: adapter.nick == w.bot_nick, timeout=15)
    finally:
        await w.close()


async def test_a_refused_sasl_login_stops_the_gateway_with_what_to_fix(world):
    """Issue 16, item 3 on InspIRCd with Anope: a wrong SASL password is permanent: the gateway stops with
    one line naming the account and the variable to fix (exit code 3 from `gateway run`), no retry loop."""
    from adapters.contract import CredentialsRefused

    extra = await sasl_bot(world)
    env = extra.split("sasl_password_env: ")[1].strip()
    os.environ[env] = "not-the-password"
    with pytest.raises(CredentialsRefused) as info:
        await asyncio.wait_for(world.start(network_extra=extra), 30)
    assert str(info.value) == (f"network irc: 127.0.0.1:{world.server.port} refused the SASL login of account "
                               f"botacct{world.tag} (904): check the password in ${env} and sasl_account")
