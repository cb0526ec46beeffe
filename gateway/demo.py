"""``gateway demo``: the at-risk flow played through the real engine, runner and event log.

Until the Matrix adapter lands, the network is simulated in memory; everything else is the code that
runs in production. The timeline shows what each person would see, then proves the event log holds
no message text.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from adapters.memory import MemoryAdapter

from .crisis import load_directory
from .engine import Engine, RoomBinding
from .events import Authority, Join, Message, RoomReady
from .eventlog import EventLog
from .policy import PolicyLoader
from .runner import Runner

ROOM, MODS = "#peer-support", "#peer-support-mods"
SCRIPT = [
    ("@sam:demo", "this exam is killing me lol"),
    ("@ana:demo", "I'm dead 😂 that meme"),
    ("@kit:demo", "honestly I took all my pills, I'm done"),
]


class _NarratingAdapter(MemoryAdapter):
    """Prints each action as the person on the other end would see it."""

    def __init__(self, start: float):
        super().__init__("demo", members={ROOM: {"@sam:demo", "@ana:demo", "@kit:demo"}})
        self.start = start

    def _say(self, who: str, what: str, body: str | None = None) -> None:
        print(f"[{time.monotonic() - self.start:6.3f}s] {who}: {what}")
        if body:
            for line in body.splitlines():
                print(f"           | {line}")

    async def post_notice(self, room, text):
        ref = await super().post_notice(room, text)
        self._say(f"everyone in {room}", "the bot posts the room guidelines", text)
        return ref

    async def pin_notice(self, room, ref, replaces):
        await super().pin_notice(room, ref, replaces)
        self._say(f"everyone in {room}", "the guidelines are pinned")
        return ref

    async def send_private(self, user, text):
        ref = await super().send_private(user, text)
        self._say(user, "receives a private message from the bot", text)
        return ref

    async def remove_from_room(self, room, user, reason):
        await super().remove_from_room(room, user, reason)
        self._say(f"everyone in {room}", f"{user} left the room; the reason shown is:", reason)

    async def alert_moderators(self, room, text, priority, message_ref):
        ref = await super().alert_moderators(room, text, priority, message_ref)
        self._say(f"moderators in {room}", f"{priority} alert", text)
        return ref


async def _play(workdir: Path) -> int:
    start = time.monotonic()
    policy = PolicyLoader().load("default")
    binding = RoomBinding("demo", ROOM, policy, "GB", "demo", MODS)
    engine = Engine([binding], load_directory(), bot_ids={"demo": "@bot:demo"})
    adapter = _NarratingAdapter(start)
    log = EventLog(workdir / "gateway.db")
    runner = Runner(engine, {"demo": adapter}, log)
    print("Safeguarding gateway demo (simulated network in memory; policy: shipped default, region GB)\n")
    await runner.handle(RoomReady("demo", time.time(), room=ROOM))
    await runner.handle(Join("demo", time.time(), room=ROOM, user="@kit:demo"))
    for sender, text in SCRIPT:
        print(f"\n[{time.monotonic() - start:6.3f}s] {sender} writes in {ROOM}: {text!r}")
        before = len(adapter.calls)
        await runner.handle(Message("demo", time.time(), room=ROOM, sender=sender, text=text,
                                    ref=f"$msg-{sender}"))
        if len(adapter.calls) == before:
            print("           (no action: an idiom, not a person at risk)")
    print("\nThe event log (transcript-free; people are keyed pseudonyms):")
    for row in log.rows():
        fields = {k: v for k, v in row.items() if v is not None and k not in ("id", "time")}
        print("  " + ", ".join(f"{k}={v}" for k, v in fields.items()))
    log.close()
    stored = b"".join(p.read_bytes() for p in workdir.iterdir())
    leaked = [text for _, text in SCRIPT if text.encode() in stored]
    print("\nMessage text found in the files the gateway wrote: " + ("NONE" if not leaked else str(leaked)))
    print("\nNext: `gateway scan` tries the detector on your own lines; README.md explains the policy format.")
    return 0 if not leaked else 1


def run_demo() -> int:
    with tempfile.TemporaryDirectory(prefix="gateway-demo-") as tmp:
        return asyncio.run(_play(Path(tmp)))
