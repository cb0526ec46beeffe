"""``gateway demo``: the at-risk flow on a throwaway local Synapse, as the people in the room see it.

It starts Synapse (SQLite, loopback), registers a bot, a moderator and four members, creates a group
room and a moderators' room, runs the real gateway with the shipped default policy, and plays a short
scenario through real Matrix clients, printing a timeline of what each person sees. Then it stays up
(unless ``--once``) so you can log in with any Matrix client and look around. With ``--encrypted`` both
rooms are end-to-end encrypted and the people use encrypting clients.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import tempfile
import textwrap
import time
from pathlib import Path

from nio import RoomPreset

from .homeserver import ENCRYPTION, Homeserver, HomeserverUnavailable, Person, free_port
from ..policy.model import SHIPPED_DIR
from ..service import Service

# (who, what they write, what the gateway should make of it): two idioms, a line no phrase of the
# lexicon matches that the learned model scores as concern, and an overdose just taken.
SCRIPT = [
    ("sam", "this exam is killing me lol", "idiom"),
    ("ana", "I'm dead 😂 that meme", "idiom"),
    ("lee", "I keep thinking it would be easier to just not be here anymore", "concern"),
    ("kit", "honestly I took all my pills, I'm done", "imminent"),
]

# The same scenario as people write it in a German, French or Spanish room (``gateway demo --language``):
# the same four kinds, in the chat register of each language, not translated word for word. The room uses
# the language's shipped detection (policies/default-LANG.yaml); without one, the English rules and model,
# and the two lines that should reach the bot are then written in English (said when the demo starts).
SCRIPTS = {
    "en": SCRIPT,
    "de": [
        ("sam", "die Klausur bringt mich echt um lol", "idiom"),
        ("ana", "ich sterbe vor Lachen 😂 das Meme", "idiom"),
        ("lee", "ich denk die ganze zeit, es wär einfacher, einfach nicht mehr da zu sein", "concern"),
        ("kit", "hab grad alle meine tabletten genommen, ich kann nicht mehr", "imminent"),
    ],
    "fr": [
        ("sam", "ce partiel va me tuer mdr", "idiom"),
        ("ana", "je suis mort 😂 ce meme", "idiom"),
        ("lee", "je me dis tout le temps que ce serait plus simple de juste plus être là", "concern"),
        ("kit", "franchement j'ai pris tous mes médocs, j'en peux plus", "imminent"),
    ],
    "es": [
        ("sam", "este examen me está matando jajaja", "idiom"),
        ("ana", "me muero de risa 😂 ese meme", "idiom"),
        ("lee", "no dejo de pensar que sería más fácil simplemente no estar aquí", "concern"),
        ("kit", "la verdad me tomé todas mis pastillas, ya no puedo más", "imminent"),
    ],
}
# The room in each language: its name as messages say it, and its country (the crisis lines people get).
ROOMS = {"en": ("Peer support", "GB"), "de": ("Peer-Support", "DE"), "fr": ("Entraide", "FR"),
         "es": ("Apoyo mutuo", "ES")}
LANGUAGES = tuple(SCRIPTS)


def demo_policy(language: str, shipped: Path) -> tuple[str, str | None]:
    """The room's policy for ``language``: the shipped default for English; else a room policy in that
    language extending ``default-LANG`` when it is shipped, or ``default`` (English rules) until it is.
    Returns (the policy's name or YAML, a note for the timeline when the English rules stand in)."""
    if language == "en":
        return "default", None
    base = f"default-{language}"
    if (shipped / f"{base}.yaml").is_file():
        return f"extends: {base}\nname: demo-{language}\nlanguage: {language}\n", None
    return (f"extends: default\nname: demo-{language}\nlanguage: {language}\n",
            f"no {base} policy is shipped yet: the room reads its lines with the English rules and model, so "
            f"lee and kit write their lines in English")


def script_for(language: str, english_rules: bool) -> list[tuple[str, str, str]]:
    """The scenario in ``language``; with the English rules standing in, the lines that must reach the
    bot are the English ones (the idioms stay in the room's language: the bot must ignore them anyway)."""
    if not english_rules:
        return SCRIPTS[language]
    return [(who, text if kind == "idiom" else SCRIPT[i][1], kind)
            for i, (who, text, kind) in enumerate(SCRIPTS[language])]
PASSWORD = "demo-password"  # a throwaway homeserver on loopback; printed for logging in


class Timeline:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, who: str, what: str, body: str | None = None) -> None:
        print(f"[{time.monotonic() - self.start:6.2f}s] {who}: {what}", flush=True)
        for line in (body or "").splitlines():
            print(f"          | {line}", flush=True)


SILENCE = 2.0  # seconds the demo watches for the bot to (correctly) do nothing about an idiom


def _quiet_clients() -> None:
    """The people's encrypting clients log every message they cannot decrypt yet (the bot's pin from
    before they joined): true, and explained in the timeline, so not printed."""
    import logging

    logging.getLogger("nio").setLevel(logging.ERROR)


async def _scenario(hs: Homeserver, workdir: Path, keep_running: bool, kept: bool = False,
                    encrypted: bool = False, language: str = "en") -> int:
    say = Timeline()
    bot = hs.register("safety-bot", secrets.token_hex(12))
    policy, stand_in = demo_policy(language, SHIPPED_DIR)
    script = script_for(language, stand_in is not None)
    room_name, region = ROOMS[language]

    def person(name: str) -> Person:  # with --encrypted, an encrypting app (its keys outside data/)
        return Person(hs, name, PASSWORD, store=workdir / "clients" / name if encrypted else None)

    mod = person("moderator")
    people = {name: person(name) for name, _, _ in script}
    power = {"users": {bot.user_id: 100}}
    state = [ENCRYPTION] if encrypted else []
    group = (await mod.client.room_create(name="Peer support", alias="peer-support",
                                          preset=RoomPreset.public_chat, power_level_override=power,
                                          invite=[bot.user_id], initial_state=state)).room_id
    mods_room = (await mod.client.room_create(name="Peer support moderators", alias="peer-support-mods",
                                              preset=RoomPreset.private_chat, power_level_override=power,
                                              invite=[bot.user_id], initial_state=state)).room_id
    say("moderator", "created #peer-support:localhost and #peer-support-mods:localhost"
        + (", both end-to-end encrypted," if encrypted else "") + " and invited the bot")

    bot_env = "GATEWAY_DEMO_BOT_PASSWORD"
    os.environ[bot_env] = bot.password
    (workdir / "policies").mkdir(exist_ok=True)
    if policy != "default":
        (workdir / "policies" / f"demo-{language}.yaml").write_text(policy)
        policy = f"demo-{language}"
    config = workdir / "gateway.yaml"
    config.write_text(textwrap.dedent(f"""
        event_log: data/gateway.db
        policy_dir: policies
        networks:
          demo:
            type: matrix
            homeserver: {hs.url}
            user_id: "{bot.user_id}"
            password_env: {bot_env}
        rooms:
          - network: demo
            room: "#peer-support:localhost"
            name: "{room_name}"
            policy: {policy}
            region: {region}
            moderators_room: "#peer-support-mods:localhost"
    """))
    service = Service(config)
    if encrypted:
        _quiet_clients()  # (after the adapter set its own levels)
    service.adapters["demo"].sync_timeout_ms = 1000
    try:
        await service.start()
        rules = next(iter(service.engine.rooms.values())).policy
        say("safety-bot", (f"joined both rooms with the shipped default policy (region {region})" if policy == "default"
                           else f"joined both rooms with the room policy {policy} (language {rules.language}, "
                                f"region {region})")
            + (f"; its device {service.adapters['demo'].client.device_id} decrypts and encrypts" if encrypted else ""))
        if stand_in:
            say("note", stand_in)
        for p in people.values():
            if encrypted:
                await p.sync()  # an app publishes its device's keys when it signs in, before joining
            await p.client.join(group)
        if encrypted:
            for _ in range(2):
                for p in [mod, *people.values()]:
                    await p.sync()  # each app learns the others' devices, as apps do
        kit = people["kit"]
        if encrypted:
            sam = people["sam"]
            posted = await sam.wait_for("the guidelines", lambda: [
                m for m in sam.messages(group, bot.user_id) if m["content"]["body"].startswith(rules.guidelines.text[:20])])
            say("sam", "joins first; the pinned guidelines were encrypted before anyone joined, so sam's app "
                       "cannot decrypt them, and the bot posts them again for newcomers (at most every 5 "
                       "minutes while people keep joining)", posted[-1]["content"]["body"])
        else:
            state = await kit.client.room_get_state_event(group, "m.room.pinned_events")
            pinned = await kit.client.room_get_event(group, state.content["pinned"][-1])
            say("kit", "joins and sees the pinned guidelines", pinned.event.source["content"]["body"])

        unexpected: list[str] = []

        async def observed_silence(name: str, seconds: float) -> str | None:
            """Watch from the person's and the moderator's clients: what the bot did about ``name``."""
            person = people[name]
            deadline = asyncio.get_running_loop().time() + seconds
            while asyncio.get_running_loop().time() < deadline:
                await person.sync()
                await mod.sync()
                if any(e["state_key"] == person.id and e["content"].get("is_direct")
                       for evs in person.invites.values() for e in evs):
                    return "a private message"
                if any(person.id in e["content"].get("body", "") for e in mod.messages(mods_room, bot.user_id)):
                    return "an alert"
                if any(r == group and e.get("type") == "m.room.member" and e.get("state_key") == person.id
                       and e["content"].get("membership") == "leave" for r, e in mod.events):
                    return "a removal"
            return None

        async def private_message(name: str) -> None:
            person = people[name]
            dm_room = await person.wait_for("a DM invite", lambda: next(
                (r for r, evs in person.invites.items()
                 if any(e["state_key"] == person.id and e["content"].get("is_direct") for e in evs)), None))
            say(name, "is invited to a direct chat by the bot and opens it")
            await person.client.join(dm_room)
            dm = (await person.wait_for("the private message", lambda: person.messages(dm_room, bot.user_id)))[0]
            say(name, "reads the private message", dm["content"]["body"])

        async def alert_about(name: str) -> None:
            alert = await mod.wait_for("the alert", lambda: next(
                (e for e in mod.messages(mods_room, bot.user_id) if people[name].id in e["content"]["body"]), None))
            say("moderator", "gets an alert in #peer-support-mods", alert["content"]["body"])

        for name, text, kind in script:
            await people[name].say(group, text)
            say(name, f"writes {text!r}")
            if kind == "idiom":
                acted = await observed_silence(name, SILENCE)
                if acted:
                    unexpected.append(f"{name}: {acted}")
                    say("safety-bot", f"UNEXPECTED: {acted}")
                else:
                    say("safety-bot", f"no action: an idiom, not a person at risk (watched for {SILENCE:g} s: "
                                      f"no private message to {name}, no removal, no alert)")
            elif kind == "concern":
                say("safety-bot", "no phrase of the lexicon matches this; the learned risk model scores it as concern"
                    if language == "en" or stand_in else f"the room's {language} rules read it as concern")
                await private_message(name)
                await alert_about(name)
                say("everyone in the room", f"{name} stays in the room: concern is a private check-in, never a removal")
        await private_message("kit")
        kick = await mod.wait_for("the removal", lambda: next(
            (e for r, e in mod.events if r == group and e.get("type") == "m.room.member"
             and e.get("state_key") == kit.id and e["content"].get("membership") == "leave"), None))
        say("everyone in the room", "sees kit removed; the reason shown to all is", kick["content"]["reason"])
        await alert_about("kit")

        # A file is named only if it is still there to look at: kept (--keep), or while the demo stays up.
        named = kept or keep_running
        print("\nThe event log (transcript-free; people are keyed pseudonyms)"
              + (f", {service.config.event_log}:" if named else ":"))
        for row in service.log.rows():
            fields = {k: v for k, v in row.items() if v is not None and k not in ("id", "time", "network")}
            print("  " + ", ".join(f"{k}={v}" for k, v in fields.items()))
        if encrypted:
            raw = hs._request("GET", f"/_matrix/client/v3/rooms/{group}/messages?dir=b&limit=100",
                              token=mod.user.access_token)["chunk"]
            sent = [e for e in raw if e["type"] in ("m.room.message", "m.room.encrypted")]
            print(f"\nOn the homeserver, {sum(e['type'] == 'm.room.encrypted' for e in sent)} of the {len(sent)} "
                  f"messages in #peer-support are ciphertext (m.room.encrypted): the server never saw the words.")
        stored = b"".join(p.read_bytes() for p in (workdir / "data").rglob("*") if p.is_file())
        leaked = [text for _, text, _ in script if text.encode() in stored]
        print("\nMessage text found in the files the gateway wrote: " + ("NONE" if not leaked else str(leaked)))
        look = f"`gateway log stats --db {service.config.event_log}`"
        if kept:
            print(f"Those files are in {workdir / 'data'}, kept after the demo (--keep): look with {look}.")
        elif keep_running:
            print(f"Those files are in {workdir / 'data'} until the demo stops (then deleted; --keep DIR keeps "
                  f"them): look now with {look}.")
        else:
            print("Those files are deleted as the demo ends: run it with --keep DIR to keep them.")
        if keep_running:
            print(textwrap.dedent(f"""
                The homeserver stays up. Log in with any Matrix client (Element: "Sign in", edit the server):
                  homeserver  {hs.url}
                  users       @moderator:localhost, @sam:localhost, @ana:localhost, @lee:localhost, @kit:localhost
                  password    {PASSWORD}
                Rooms: #peer-support:localhost and #peer-support-mods:localhost. Press Ctrl-C to stop.
            """))
            await service.wait()
        return 0 if not leaked and not unexpected else 1
    finally:
        await service.stop()
        for p in [mod, *people.values()]:
            await p.close()


def run_demo(*, keep_running: bool = True, port: int | None = None, keep: str | Path | None = None,
             encrypted: bool = False, language: str = "en") -> int:
    """``keep``: a directory for the homeserver, config and event log that stays after the demo."""
    if keep is not None:
        Path(keep).mkdir(parents=True, exist_ok=True)
        if any(Path(keep).iterdir()):
            print(f"error: {keep} is not empty (the demo needs a fresh directory to keep)")
            return 1
    with tempfile.TemporaryDirectory(prefix="gateway-demo-") as tmp:
        work = Path(keep).resolve() if keep is not None else Path(tmp)
        try:
            hs = Homeserver(work / "synapse", port=port or _port_8008_or_free())
            print(f"Starting a throwaway Synapse on {hs.url} ...", flush=True)
            hs.start()
        except HomeserverUnavailable as exc:
            print(f"error: {exc}")
            return 1
        try:
            return asyncio.run(_scenario(hs, work, keep_running, kept=keep is not None, encrypted=encrypted,
                                         language=language))
        except KeyboardInterrupt:
            return 0
        finally:
            hs.stop()


def _port_8008_or_free() -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8008))
            return 8008
        except OSError:
            return free_port()
