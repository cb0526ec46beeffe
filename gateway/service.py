"""The running gateway: config -> engine, event log, adapters and runner, started and stopped as one.

Used by ``gateway run``, ``gateway demo`` and the tests, so all three run the same assembly.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from pathlib import Path

from adapters.contract import EXPOSURES, Adapter, ModeratorsRoomRule

from .config.config_file import Config, build_engine, load_config
from .core import actions as A
from .ops.digest_text import WEEK, digest_text
from .store.eventlog import EventLog
from .ops.insight import cases_from_log, trouble
from .core.events import Tick
from .ops.health import HealthServer
from .ops.metrics import Metrics
from .core.restore import restore_from_log
from .runner import Runner

log = logging.getLogger("gateway.service")

__all__ = ["Service", "AdapterUnavailable", "ModeratorsRoomExposed"]


class AdapterUnavailable(RuntimeError):
    pass


class ModeratorsRoomExposed(RuntimeError):
    """A moderators' room anyone can join, or an unencrypted one for an encrypted watched room, and the
    policy does not allow it: alerts name the person at risk, so the gateway does not start (exit 2)."""


def moderators_room_rules(config: Config, network: str) -> dict[str, ModeratorsRoomRule]:
    """What each moderators' room on ``network`` must be (see ``ModeratorsRoomRule``)."""
    rules: dict[str, ModeratorsRoomRule] = {}
    for b in config.rooms:
        if b.moderators_network != network or not b.moderators_room:
            continue
        m = b.policy.moderators
        old = rules.get(b.moderators_room)
        watched = (old.watched if old else ()) + ((b.room,) if b.network == network else ())
        # several policies send alerts to one room: it is allowed only what every one of them allows
        rules[b.moderators_room] = ModeratorsRoomRule(
            allow_open=m.allow_open_room and (old.allow_open if old else True),
            allow_unencrypted=m.allow_unencrypted_room and (old.allow_unencrypted if old else True),
            watched=watched)
    return rules


def rooms_on(config: Config, network: str) -> list[str]:
    """Every room the bot must be in on ``network``: group rooms and moderators' rooms."""
    rooms = [b.room for b in config.rooms if b.network == network]
    rooms += [b.moderators_room for b in config.rooms if b.moderators_network == network]
    return list(dict.fromkeys(r for r in rooms if r))


def max_ban_seconds(config: Config, network: str) -> int | None:
    """The longest timed ban any policy on ``network`` sets (bots lift their own bans after it)."""
    bans = [t.action.ban_for for b in config.rooms if b.network == network
            for t in b.policy.tiers.values() if t.action.ban_for]
    return max(bans) if bans else None


class Service:
    """``tick_every``: how often timers run (guideline re-posts, follow-up reminders)."""

    recancel_every = 1.0  # seconds ``stop`` waits before cancelling tasks that are still running again

    def __init__(self, config: Config | str | Path, *, tick_every: float = 30.0, clock=time.time,
                 new_log: bool = False):
        self.tick_every, self.clock = tick_every, clock
        self.config = config if isinstance(config, Config) else load_config(config)
        self.engine = build_engine(self.config)
        self.log = EventLog(self.config.event_log, new_log=new_log)
        self.adapters: dict[str, Adapter] = {}
        try:
            for name, net in self.config.networks.items():
                try:
                    module = importlib.import_module(f"adapters.{net.type}")
                except ImportError:
                    raise AdapterUnavailable(f"network {name}: the {net.type} adapter is not available "
                                             "in this version") from None
                keys = {room: key for (n, room), key in self.config.channel_keys.items() if n == name}
                self.adapters[name] = module.create(net, store=self.log, rooms=rooms_on(self.config, name),
                                                    max_ban_seconds=max_ban_seconds(self.config, name),
                                                    clock=clock, channel_keys=keys)
        except Exception:
            self.log.close()
            raise
        for name, adapter in self.adapters.items():
            adapter.moderators_rooms = moderators_room_rules(self.config, name)
        labels = {(b.network, b.room): b.display_name for b in self.config.rooms}
        health = {name: a.health for name, a in self.adapters.items()}
        self.metrics = Metrics(labels, health, clock=clock)
        self.runner = Runner(self.engine, self.adapters, self.log, reloader=self.reload, clock=clock,
                             concurrent=True, observer=self.metrics, digest=self.digest_text)
        self.http: HealthServer | None = None
        if self.config.http is not None:
            host, port = self.config.http
            self.http = HealthServer(host, port, self.metrics, health, log_writable=self.log.writable,
                                     last_log_failure=lambda: self.runner.last_log_failure, clock=clock)
        self._stopping = False
        # Messages delivered again after a crash are not handled twice (recognised by keyed digest).
        self.engine.ref_key = self.log.ref_digest
        self.engine.seen_refs |= self.log.journal_refs()
        self.engine.digest_sent.update(self.log.last_of("digest_sent"))
        # Open cases, their timers, people's intervals, budgets and raids, as they were (gateway/core/restore.py)
        try:
            counts = restore_from_log(self.engine, self.log, clock())
            if counts["restored"] or counts["expired"]:
                log.info("restored %d open case(s); %d aged out", counts["restored"], counts["expired"])
        except Exception as exc:  # never stop the gateway from protecting people; say what failed
            log.error("state could not be rebuilt from the event log (%s): old cases are not loaded",
                      type(exc).__name__)
        self.tasks: list[asyncio.Task] = []

    def digest_text(self, action: A.PostDigest) -> str:
        """A weekly digest from the event log: the week's cases in the rooms it covers, the follow-ups
        still open there (from the last 90 days), trouble, and the networks down right now."""
        since, back, rooms = action.until - WEEK, action.until - 90 * 86400, set(action.rooms)
        events = self.log.events_since(back)  # one read: the 90 days hold the week
        views = [v for v in cases_from_log(self.log.cases_since(back), events) if (v.network, v.room) in rooms]
        week = [v for v in views if since <= v.opened < action.until]
        open_cases = [v for v in views if v.followup != "done"]
        names = {(b.network, b.room): b.display_name for b in self.config.rooms}
        down = sorted(n for n, a in self.adapters.items() if not a.health().get("ready"))
        return digest_text(week, open_cases, trouble([e for e in events if since <= e["ts"] < action.until], rooms),
                           until=action.until, room_names=[names.get(r, r[1]) for r in sorted(rooms)],
                           networks_down=down, words=self._moderators_words(action))

    def _moderators_words(self, action: A.PostDigest):
        """The language of the moderators' room a digest goes to: that of the first room it covers."""
        for key in sorted(action.rooms):
            b = self.engine.rooms.get(key)
            if b is not None:
                return b.policy.words
        return None

    async def start(self, timeout: float | None = 60.0) -> None:
        """Start every adapter and wait until each has joined its rooms and posted what it must.

        ``timeout=None`` waits as long as it takes (a gateway in a thousand rooms joins and pins for
        minutes); an adapter that stops during start-up still raises at once."""
        if self.http is not None:
            await self.http.start()  # first: /readyz says "not ready" while the networks come up
        self.tasks = [asyncio.create_task(a.run(self.runner)) for a in self.adapters.values()]
        waits = [asyncio.create_task(a.ready.wait()) for a in self.adapters.values()]
        pending = set(self.tasks) | set(waits)
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while any(not w.done() for w in waits):
            left = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if left is not None and left <= 0:
                raise TimeoutError("the gateway did not become ready")
            done, pending = await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t in self.tasks:
                    t.result()  # an adapter that stopped during start-up: raise why
                    raise RuntimeError("an adapter stopped during start-up")
        self.check_moderators_rooms()
        await self.runner.resume()
        await self.runner.catch_up()  # reminders that fell due while the gateway was down, once, marked late
        self.tasks.append(asyncio.create_task(self._ticker()))
        log.info("ready: %d room(s) on %d network(s)", len(self.config.rooms), len(self.adapters))

    def moderators_room_exposures(self) -> list[tuple[str, str, str, bool]]:
        """(network, moderators' room, exposure code, allowed by the policy) for each moderators' room as
        the adapters see it now, including an encrypted watched room whose alerts go to an unencrypted
        room on another network (IRC)."""
        out: list[tuple[str, str, str, bool]] = []
        for name, adapter in self.adapters.items():
            for room, rule in adapter.moderators_rooms.items():
                for e in adapter.exposures(room):
                    out.append((name, room, e, rule.allows(e)))
        for b in self.config.rooms:
            watched, mods = self.adapters.get(b.network), self.adapters.get(b.moderators_network)
            if b.moderators_network == b.network or watched is None or mods is None or not b.moderators_room:
                continue
            if watched.room_encrypted(b.room) and not mods.room_encrypted(b.moderators_room):
                rule = mods.moderators_rooms.get(b.moderators_room, ModeratorsRoomRule())
                item = (b.moderators_network, b.moderators_room, "unencrypted", rule.allow_unencrypted)
                if item not in out:
                    out.append(item)
        return out

    def check_moderators_rooms(self) -> None:
        """At start, once every room's state is known: refuse an exposed moderators' room the policy does
        not allow (``ModeratorsRoomExposed``, naming what to fix); warn loudly about one it allows. An IRC
        channel without +i/+s is not refused: the bot sets +i itself as soon as it is operator there, and
        holds alerts until then."""
        refused, fixes = [], {
            "open": "make it invite-only (Matrix: room settings, Private; IRC: +i), or set "
                    "moderators.allow_open_room: true in the policy to accept this on purpose",
            "unencrypted": "use an encrypted moderators' room on the same network, or set "
                           "moderators.allow_unencrypted_room: true in the policy to accept this on purpose"}
        for net, room, code, allowed in self.moderators_room_exposures():
            what = f"network {net}: the moderators' room {room}: {EXPOSURES[code]}"
            if allowed:
                log.warning("%s. ALLOWED by the policy (moderators.allow_%s_room): alerts are posted there "
                            "anyway", what, code)
            elif code == "open" and getattr(self.adapters[net], "secures_rooms_itself", False):
                log.error("%s. The bot sets +i as soon as it is operator there; until then it holds alerts "
                          "for that channel", what)
            else:
                refused.append(f"{what}. To fix: {fixes[code]}.")
        if refused:
            raise ModeratorsRoomExposed("\n".join(refused))

    def reload(self) -> list[str]:
        """Validate the config and policies again; apply only if all are valid. Rooms added to the
        config need a restart (the adapters join rooms at start)."""
        from .config.config_file import reload_rooms

        return [str(e) for e in reload_rooms(self.engine, self.config.file)]

    async def _ticker(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.tick_every)
            try:
                await self.runner.handle(Tick("", self.clock()))  # queued: a slow action delays no timer
            except Exception as exc:  # a timer failure must not stop the gateway
                log.error("timer run failed: %s", type(exc).__name__)

    async def tick(self) -> None:
        """Run the timers now and wait for what they set off (tests call it after moving a clock)."""
        await self.runner.handle(Tick("", self.clock()))
        await self.runner.idle()

    async def wait(self) -> None:
        await asyncio.gather(*self.tasks)

    async def stop(self) -> None:
        """Cancel every task and wait until each has ended. Python 3.11's ``asyncio.wait_for`` can swallow
        a cancellation that arrives as the awaited action completes (fixed in 3.12): the ticker then ran
        on and ``stop`` waited for it forever (seen as a rare hang in tests). So tasks that are still
        running are cancelled again, and the loops also check ``_stopping``."""
        self._stopping = True
        self.runner.stop()
        pending = set(self.tasks)
        while pending:
            for t in pending:
                t.cancel()
            _, pending = await asyncio.wait(pending, timeout=self.recancel_every)
        for t in self.tasks:
            if not t.cancelled() and t.exception() is not None:
                log.debug("task ended with %s", type(t.exception()).__name__)
        for a in self.adapters.values():
            await a.stop()
        if self.http is not None:
            await self.http.stop()
        self.log.close()
