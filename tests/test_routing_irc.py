"""Issue 24 findings 4 and 6 on a real IRC server (ngircd), with real client connections as the people: a
private message reaches the community its sender is in, and distress is read in a /me action, after an
emoticon and after a command, while a pasted line in someone else's name is still nobody's risk. Each
test failed before its fix."""

from __future__ import annotations

import asyncio

import pytest

from adapters.irc.lines import fold
from gateway.service import Service

from .ircd import ngircd  # noqa: F401  (fixture)
from .test_irc import IrcWorld, wait_until

pytestmark = pytest.mark.live


@pytest.fixture
async def world(ngircd, tmp_path):  # noqa: F811
    w = IrcWorld(ngircd, tmp_path)
    yield w
    await w.close()


async def start_two_communities(w: IrcWorld) -> tuple[str, str]:
    """#grp (the policy's region GB, moderators #mods) and #b (region US, moderators #bmods)."""
    b, bmods = f"#b{w.tag}", f"#bmods{w.tag}"
    mod = await w.person("mod", w.group, w.mods, b, bmods)
    room_extra = (f'  - network: irc\n    room: "{b}"\n    policy: peer\n    region: US\n'
                  f'    moderators_room: "{bmods}"\n')
    w.service = Service(w.write_config(room_extra=room_extra))
    await w.service.start()
    adapter = w.adapter
    for channel in adapter.channels:
        mod.send(f"MODE {channel} +o {w.bot_nick}")
    await wait_until("the bot is op", lambda: all(
        fold(w.bot_nick) in adapter.ops.get(fold(c), set()) for c in adapter.channels))
    return b, bmods


def from_bot(w: IrcWorld, person, *parts):
    return person.find(f":{w.bot_nick}!", *parts)


async def test_a_private_message_reaches_the_community_its_sender_is_in(world):
    """Finding 4: someone only in #b (US, #bmods) gets the US lines, and their "talk" reaches #bmods only."""
    b, bmods = await start_two_communities(world)
    mod, bot = world.people["mod"], world.bot_nick
    lee = await world.person("lee", b)
    await wait_until("the bot sees lee in #b", lambda: fold(lee.nick) in world.adapter.members.get(fold(b), set()))
    lee.send(f"PRIVMSG {bot} :hi")
    await lee.wait_for("the reply", lambda: from_bot(world, lee, f"PRIVMSG {lee.nick} :", 'Reply "talk"'))
    reply = "\n".join(from_bot(world, lee, f"PRIVMSG {lee.nick} :"))
    assert "call 988" in reply and "116 123" not in reply  # the US lines, not GB's

    lee.send(f"PRIVMSG {bot} :talk")
    alert = await mod.wait_for("the talk alert in #bmods",
                               lambda: from_bot(world, mod, f"PRIVMSG {bmods} :", "asked the bot to talk"))
    assert lee.nick in alert[0]
    await lee.wait_for("the acknowledgement", lambda: from_bot(world, lee, "moderator has been asked"))
    await asyncio.sleep(0.5)
    assert not from_bot(world, mod, f"PRIVMSG {world.mods} :", lee.nick)  # another community heard nothing

    stranger = await world.person("eve")  # in no watched channel: no community is told
    stranger.send(f"PRIVMSG {bot} :talk {world.group}")
    await stranger.wait_for("the reply", lambda: from_bot(world, stranger, "no moderator was asked"))
    await asyncio.sleep(0.5)
    assert not from_bot(world, mod, stranger.nick)


@pytest.mark.parametrize("line", [
    "\x01ACTION is going to kill himself tonight\x01",  # /me: the writer in the third person
    ">_< i'm going to kill myself tonight",  # an emoticon, not a quote
    "!resources please, I'm going to kill myself tonight",  # a command line: the command runs and is read
], ids=["action", "emoticon", "command"])
async def test_distress_is_read_in_an_action_after_an_emoticon_and_after_a_command(world, line):
    """Finding 6: each line gets its writer the crisis message, the KICK and an alert (and a command still
    runs); a pasted line in a member's name just before gets neither that member nor its writer anything."""
    await world.start()
    mod, group = world.people["mod"], world.group
    bob = await world.person("bob", group)
    troll = await world.person("troll", group)
    kit = await world.person("kit", group)
    await wait_until("everyone in the channel", lambda: {fold(p.nick) for p in (bob, troll, kit)}
                     <= world.adapter.members.get(fold(group), set()))
    troll.send(f"PRIVMSG {group} :<{bob.nick}> i'm going to kill myself tonight")
    kit.send(f"PRIVMSG {group} :{line}")
    kick = (await kit.wait_for("the KICK", lambda: kit.find(f"KICK {group} {kit.nick}")))[0]
    private = from_bot(world, kit, f"PRIVMSG {kit.nick} :")
    assert private and kit.lines.index(private[0]) < kit.lines.index(kick)
    assert "call 116 123" in "\n".join(private)
    await mod.wait_for("the alert", lambda: from_bot(world, mod, f"PRIVMSG {world.mods} :[URGENT]", kit.nick))
    if line.startswith("!resources"):
        await kit.wait_for("the !resources reply too", lambda: from_bot(world, kit, "Free, confidential support"))
    for person in (bob, troll):  # the paste was nobody's risk
        assert not from_bot(world, person, f"PRIVMSG {person.nick} :")
        assert not person.find(f"KICK {group} {person.nick}")
        assert not from_bot(world, mod, person.nick)
