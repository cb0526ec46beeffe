"""The privacy canary, end to end: the real ``gateway run`` process on a real Synapse and a real IRC server
(ngircd, then InspIRCd with Anope services).

A unique marker goes through every tier and every command path on both networks while the gateway
logs at DEBUG. The Matrix rooms are end-to-end encrypted and the people use encrypting clients, so the
marker also goes through decryption (and the bot's replies, alerts and private messages through
encryption). Afterwards the marker appears in no file the gateway wrote (database, WAL, key files, the
crypto store) and nowhere in its stdout or stderr; neither do the secrets it was given or holds (the
password, the access token, the pickle key).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import textwrap


from .ircd import IrcPerson, any_ircd  # noqa: F401  (a fixture: ngircd, then InspIRCd with Anope)
from .factories import irc_network, room_entry
from .matrix_world import make_world
from .test_cli import GATEWAY

MARK = "CANARY" + secrets.token_hex(4).upper()

# The imminent line last: its writer is removed from the group room as soon as the private message is accepted, and a
# line the removed person sends after that is refused by the homeserver (on a fast machine the removal came before
# the writer's next line, and the client's send failed)
RISK_LINES = [f"i want to die {MARK}", f"i wish i was dead {MARK}", f"kill me lol {MARK}", f"kys {MARK}",
              f"I would never kill myself {MARK}", MARK, f"i took all my pills {MARK}"]
PUBLIC_COMMANDS = [f"!help {MARK}", f"!resources {MARK}", f"!pause {MARK}", f"!cases {MARK}"]




async def test_marker_appears_nowhere_the_gateway_wrote(homeserver, any_ircd, tmp_path):
    server = any_ircd
    world = await make_world(homeserver, tmp_path, encrypted=True)
    kit, ana, mod = world.people["kit"], world.people["ana"], world.mod
    tag = secrets.token_hex(3)
    group, mods, bot_nick = f"#grp{tag}", f"#mods{tag}", f"bot{tag}"
    irc_mod = await IrcPerson(server.port, f"mod{tag}").connect()
    for channel in (group, mods):
        await irc_mod.join(channel)
    matrix_password = os.environ[next(k for k in os.environ if k.startswith("GATEWAY_TEST_SECRET_")
                                      and world.config_path.read_text().count(k))]
    nickserv_secret = "NICKSERV" + secrets.token_hex(6)
    config = world.dir / "both.yaml"
    network = irc_network(server.port, bot_nick, extra="nickserv_password_env: CANARY_NICKSERV\nservices_server: services.test")
    config.write_text(world.config_path.read_text().replace("rooms:\n", textwrap.indent(network, "  ") + "rooms:\n")
                      + textwrap.indent(room_entry("irc", group, extra=f'moderators_room: "{mods}"'), "  "))
    env = {**os.environ, "CANARY_NICKSERV": nickserv_secret}
    log_format = "json" if type(server).__name__ == "Inspircd" else "text"  # each format once
    proc = subprocess.Popen([GATEWAY, "run", "--config", str(config), "--log-level", "DEBUG",
                             "--log-format", log_format],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=world.dir)
    try:
        await irc_mod.wait_for("the bot joining", lambda: irc_mod.find(f":{bot_nick}!", "JOIN", mods))
        for channel in (group, mods):
            irc_mod.send(f"MODE {channel} +o {bot_nick}")
        await mod.wait_for("the Matrix guidelines", lambda: mod.messages(world.group, world.bot.user_id))
        for _ in range(2):
            for p in (kit, ana, mod):
                await p.sync()  # the apps learn the bot's device, as they would

        # Matrix: every tier, idiom, abuse, negation, public and moderator commands, private messages
        for i, line in enumerate(RISK_LINES):
            await (kit if i % 2 == 0 else ana).say(world.group, line)
        for line in PUBLIC_COMMANDS:
            await ana.say(world.group, line)
        alerts = await mod.wait_for("an alert", lambda: [m for m in mod.messages(world.mods_room, world.bot.user_id)
                                                        if "Case" in m["content"]["body"]])
        case = re.search(r"Case (\w+):", alerts[0]["content"]["body"]).group(1)
        for line in (f"!scan i took all my pills {MARK}", f"!cases {MARK}", f"!case {case} {MARK}",
                     f"!ack {case} {MARK}", f"!escalated {case} {MARK}", f"!close {case} {MARK}",
                     f"!close {case} safe {MARK}", f"!remove nosuch {MARK}", f"!status {MARK}"):
            await mod.say(world.mods_room, line)
        dm_room = await kit.wait_for("a DM", lambda: next(iter(kit.invites), None))
        await kit.client.join(dm_room)
        await kit.wait_for("the joined DM", lambda: dm_room in kit.client.rooms)
        await kit.say(dm_room, f"hello {MARK}")
        await kit.say(dm_room, f"talk {MARK}")

        # IRC: the same paths
        kit_irc = await IrcPerson(server.port, f"kit{tag}").connect()
        ana_irc = await IrcPerson(server.port, f"ana{tag}").connect()
        for p in (kit_irc, ana_irc):
            await p.join(group)
        for i, line in enumerate(RISK_LINES):
            (kit_irc if i % 2 == 0 else ana_irc).send(f"PRIVMSG {group} :{line}")
        for line in PUBLIC_COMMANDS:
            ana_irc.send(f"PRIVMSG {group} :{line}")
        ana_irc.send(f"PRIVMSG {bot_nick} :hello {MARK}", f"PRIVMSG {bot_nick} :talk {MARK}")
        irc_alert = await irc_mod.wait_for("an IRC alert", lambda: irc_mod.find(f":{bot_nick}!", "Case"))
        irc_case = re.search(r"Case (\w+)(?::| updated:)", irc_alert[0]).group(1)
        for line in (f"!scan i took all my pills {MARK}", f"!case {irc_case} {MARK}", f"!ack {irc_case} {MARK}",
                     f"!close {irc_case} safe {MARK}", f"!status {MARK}"):
            irc_mod.send(f"PRIVMSG {mods} :{line}")
        await irc_mod.wait_for("the last reply", lambda: irc_mod.find(f":{bot_nick}!", "for this moderators' room"))
        await mod.wait_for("talk from Matrix", lambda: [m for m in mod.messages(world.mods_room, world.bot.user_id)
                                                       if "to talk to a moderator" in m["content"]["body"]])
        await asyncio.sleep(1.0)  # let the last writes land
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        for p in [mod, kit, ana]:
            await p.close()
        await irc_mod.close()

    assert not [e for p in (kit, mod) for e in p.undecrypted], "the people could read what the bot sent"
    written = sorted(p for p in (world.dir / "data").rglob("*") if p.is_file())
    assert {p.name for p in written} >= {"gateway.db", "gateway.key", "mx.key", "session.json"}
    assert any(p.suffix == ".db" and p.parent.name == "mx" for p in written), "the crypto store was checked"
    held = [(world.dir / "data" / "crypto" / "mx.key").read_text().strip().encode(),
            json.loads((world.dir / "data" / "crypto" / "mx" / "session.json").read_text())
            ["access_token"].encode()]
    for path in written:
        data = path.read_bytes()
        assert MARK.encode() not in data, f"{path.name} holds message text"
        assert nickserv_secret.encode() not in data and matrix_password.encode() not in data
    logs = out + err
    assert len(err) > 1000, "the gateway did log (DEBUG), so this check means something"
    assert MARK.encode() not in logs, "stdout/stderr hold message text"
    assert nickserv_secret.encode() not in logs and matrix_password.encode() not in logs
    assert not [s for s in held if s in logs], "the logs hold the pickle key or the access token"
    if log_format == "json":  # every line a JSON object, as journald and log shippers expect
        records = [json.loads(line) for line in err.decode().splitlines()]
        assert {"ts", "level", "logger", "message"} <= set(records[0])
        assert any(r["message"] == "stopping (SIGTERM)" for r in records)  # a clean stop
