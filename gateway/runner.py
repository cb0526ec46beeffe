"""The runner: executes the engine's actions through adapters, in order, and feeds outcomes back.

It is the only place where core decisions meet I/O. Each adapter action is awaited (with a timeout)
before the next one starts; its outcome goes back into the engine, whose follow-up actions join the
queue. Event-log writes that fail are counted and reported, and never stop the actions that protect
a person. Nothing here logs message text: only action kinds, case ids and error class names.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable

from adapters.base import ActionFailed, Adapter, Delivered

from . import actions as A
from .engine import Engine
from .events import ActionOutcome, Event, ReloadResult
from .eventlog import EventLog, EventLogError

__all__ = ["Runner"]

log = logging.getLogger("gateway.runner")


class Runner:
    def __init__(self, engine: Engine, adapters: dict[str, Adapter], event_log: EventLog | None, *,
                 clock: Callable[[], float] = time.time, action_timeout: float = 30.0,
                 reloader: Callable[[], list[str]] | None = None):
        self.engine = engine
        self.adapters = adapters
        self.event_log = event_log
        self.clock = clock
        self.action_timeout = action_timeout
        self.log_failures = 0  # event-log writes that failed (reported, counted, never fatal)
        self.reloader = reloader  # validates and applies policies; returns the errors (none: applied)
        self._log_alerted_at: float | None = None
        self.log_alert_interval = 600.0  # tell the moderators again at most every 10 minutes

    async def handle(self, event: Event) -> None:
        """Process one event and every action that follows from it, to completion."""
        await self._run(self.engine.handle(event))

    async def handle_many(self, events: list[Event]) -> None:
        """Process events in order, as ``handle`` does, with risk detection for all of them done first in
        one batch (``Engine.screen``). One event that fails is logged (its class, never its text) and the
        rest are still handled."""
        try:
            self.engine.screen(events)
        except Exception as exc:  # the batch is only a shortcut: each event is still detected on its own
            log.error("batch detection failed (%s); handling one by one", type(exc).__name__)
        try:
            for event in events:
                try:
                    await self.handle(event)
                except Exception as exc:
                    log.error("error handling %s on %s: %s", type(event).__name__, event.network,
                              type(exc).__name__)
        finally:
            self.engine.unscreen(events)

    async def resume(self) -> None:
        """Carry on with the cases a crash left unfinished (see ``Engine.resume``)."""
        if self.event_log is None:
            return
        try:
            rows = self.event_log.journal_unfinished()
        except Exception as exc:
            log.error("journal unreadable (%s): unfinished cases cannot resume", type(exc).__name__)
            return
        if rows:
            log.warning("resuming %d unfinished case(s)", len(rows))
        for row in rows:
            adapter = self.adapters.get(row["network"])
            row["dedupe"] = bool(adapter is not None and adapter.resends_are_deduplicated)
        await self._run(self.engine.resume(rows, self.clock()))

    async def _run(self, actions: list[A.Action]) -> None:
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            if isinstance(action, A.ADAPTER_ACTIONS):
                journalled = action.case is not None and action.step is not None
                if journalled:
                    self._journal(lambda: self.event_log.journal_step(action.case, action.step, "started"))
                outcome = await self._execute(action)
                if journalled:
                    state = "done" if outcome.ok else ("failed" if outcome.definitive else "unknown")
                    self._journal(lambda: self.event_log.journal_step(action.case, action.step, state))
                queue.extend(self.engine.handle(outcome))
            elif isinstance(action, A.ReloadPolicies):
                errors = self.reloader() if self.reloader else ["reload is not available in this process"]
                queue.extend(self.engine.handle(ReloadResult(action.network, self.clock(), action.id,
                                                             tuple(errors))))
            elif not self._write(action):
                queue.extend(self._log_failure_alerts(action))

    async def _execute(self, action: A.Action) -> ActionOutcome:
        kind = type(action).__name__
        adapter = self.adapters.get(action.network)
        if adapter is None:
            log.error("no adapter for network %s (action %s, case %s)", action.network, kind, action.case)
            return ActionOutcome(action.network, self.clock(), action.id, ok=False, code="no_adapter")
        try:
            ref = await asyncio.wait_for(self._call(adapter, action), self.action_timeout)
        except ActionFailed as exc:
            log.warning("%s refused on %s: %s (case %s)", kind, action.network, exc.code, action.case)
            return ActionOutcome(action.network, self.clock(), action.id, ok=False, code=exc.code,
                                 definitive=exc.definitive)
        except asyncio.TimeoutError:
            log.warning("%s timed out on %s (case %s)", kind, action.network, action.case)
            return ActionOutcome(action.network, self.clock(), action.id, ok=False, code="timeout",
                                 definitive=False)
        except Exception as exc:  # an adapter bug must not stop the flow; log the class, not the text
            log.error("%s failed on %s with %s (case %s)", kind, action.network, type(exc).__name__,
                      action.case)
            return ActionOutcome(action.network, self.clock(), action.id, ok=False,
                                 code=type(exc).__name__, definitive=False)
        log.info("%s done on %s (case %s)", kind, action.network, action.case)
        if isinstance(ref, Delivered):
            return ActionOutcome(action.network, self.clock(), action.id, ok=True, ref=ref.ref, user=ref.user)
        return ActionOutcome(action.network, self.clock(), action.id, ok=True, ref=ref)

    @staticmethod
    async def _call(adapter: Adapter, a: A.Action) -> str | None:
        key = f"{a.case}.{a.step}" if a.case and a.step else None  # idempotency key for resends
        if isinstance(a, A.SendPrivate):
            return await adapter.send_private(a.user, a.text, key=key)
        if isinstance(a, A.RemoveFromRoom):
            return await adapter.remove_from_room(a.room, a.user, a.reason, a.ban_seconds)
        if isinstance(a, A.RedactMessage):
            await adapter.redact_message(a.room, a.ref, a.reason)
            return None
        if isinstance(a, A.AlertModerators):
            return await adapter.alert_moderators(a.room, a.text, a.priority, a.message_ref, a.mention_all,
                                                  key=key)
        if isinstance(a, A.Readmit):
            await adapter.readmit(a.room, a.user)
            return None
        if isinstance(a, A.PostNotice):
            if a.purpose == "reply":
                await adapter.post_reply(a.room, a.text)
                return None
            return await adapter.post_notice(a.room, a.text)
        if isinstance(a, A.PinNotice):
            return await adapter.pin_notice(a.room, a.ref, a.replaces)
        if isinstance(a, A.SetTopic):
            await adapter.set_topic(a.room, a.text)
            return None
        if isinstance(a, A.GreetUser):
            await adapter.greet_user(a.room, a.user, a.text)
            return None
        raise TypeError(f"not an adapter action: {type(a).__name__}")

    def _journal(self, write: Callable[[], None]) -> bool:
        if self.event_log is None:
            return True
        try:
            write()
            return True
        except EventLogError as exc:
            self.log_failures += 1
            log.error("journal: %s (%d failures so far)", exc, self.log_failures)
            return False

    def _write(self, action: A.Action) -> bool:
        if self.event_log is None:
            return True
        try:
            if isinstance(action, A.JournalStep):
                self.event_log.journal_step(action.case, action.name, action.state)
            elif isinstance(action, A.FinishCase):
                self.event_log.journal_finish(action.case)
            elif isinstance(action, A.OpenCase):
                self.event_log.open_case(action, self.clock())
            else:
                self.event_log.write(action, self.clock())
            return True
        except EventLogError as exc:
            self.log_failures += 1
            log.error("event log: %s (%d failures so far)", exc, self.log_failures)
            return False

    def _log_failure_alerts(self, action: A.Action) -> list[A.Action]:
        """Tell the moderators (at most every 10 minutes) that the record is failing; protection goes on."""
        now = self.clock()
        if self._log_alerted_at is not None and now - self._log_alerted_at < self.log_alert_interval:
            return []
        self._log_alerted_at = now
        return self.engine.event_log_failing(action.network, getattr(action, "room", None))
