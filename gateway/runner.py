"""The runner: executes the engine's actions through adapters and feeds their outcomes back.

It is the only place where core decisions meet I/O. Event-log writes happen at once, in the order the
engine emits them (so a case is journalled before anything is done for it). Adapter actions go into
*lanes*, one per target (a room, or a person's private messages): a lane runs its actions one at a time,
in order, each awaited with a timeout, and its outcome goes back into the engine, whose follow-up
actions join their own lanes. Lanes run concurrently, so a removal held up by a slow or rate-limited
server stalls only its own room, never the sync loop or another room's at-risk flow; within a case the
order is causal (the removal is only emitted after the message's outcome), within a room it is FIFO.
Event-log writes that fail are counted and reported, and never stop the actions that protect a person.
Nothing here logs message text: only action kinds, case ids and error class names.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable, Protocol

from adapters.contract import ActionFailed, Adapter, Delivered, ResendKey

from .core import actions as A
from .core.engine import Engine
from .core.events import ActionOutcome, Event, ReloadResult
from .store.eventlog import EventLog, EventLogError

__all__ = ["Runner", "Observer"]

log = logging.getLogger("gateway.runner")


class Runner:
    def __init__(self, engine: Engine, adapters: dict[str, Adapter], event_log: EventLog | None, *,
                 clock: Callable[[], float] = time.time, action_timeout: float = 30.0,
                 reloader: Callable[[], list[str]] | None = None, concurrent: bool = False,
                 observer: "Observer | None" = None, digest: Callable[[A.PostDigest], str] | None = None):
        """``concurrent``: ``handle`` returns once the event's actions are queued (the running gateway:
        adapters' read loops never wait for actions); otherwise it waits until every lane is idle
        (tools and unit tests that check what happened after one event)."""
        self.engine = engine
        self.adapters = adapters
        self.event_log = event_log
        self.clock = clock
        self.action_timeout = action_timeout
        self.log_failures = 0  # event-log writes that failed (reported, counted, never fatal)
        self.last_log_failure: float | None = None
        self.reloader = reloader  # validates and applies policies; returns the errors (none: applied)
        self._log_alerted_at: float | None = None
        self.log_alert_interval = 600.0  # tell the moderators again at most every 10 minutes
        self.concurrent = concurrent
        self.observer = observer  # the live metrics (gateway/ops/metrics.py), if the gateway serves them
        self.digest = digest  # builds a weekly digest's text from the event log (gateway/service.py)
        self._lanes: dict[tuple, deque] = {}
        self._lane_tasks: dict[tuple, asyncio.Task] = {}

    async def handle(self, event: Event) -> None:
        """Process one event: its actions are queued at once (see ``concurrent``)."""
        started = time.perf_counter()
        actions = self.engine.handle(event)
        if self.observer is not None and self.engine.screens(event):
            self.observer.screened_batch([event], time.perf_counter() - started)
        self._dispatch(actions)
        if not self.concurrent:
            await self.idle()

    async def idle(self) -> None:
        """Wait until every lane has run out of actions (follow-ups included)."""
        while self._lane_tasks:
            await asyncio.gather(*list(self._lane_tasks.values()), return_exceptions=True)

    def stop(self) -> None:
        """Cancel every lane (at shutdown; the journal resumes unfinished cases at the next start)."""
        for task in self._lane_tasks.values():
            task.cancel()

    async def handle_many(self, events: list[Event]) -> None:
        """Process events in order, as ``handle`` does, with risk detection for all of them done first in
        one batch (``Engine.handle_many``). One event that fails is logged (its class, never its text) and
        the rest are still handled."""
        i, batch = 0, self.engine.handle_many(events)
        spent = 0.0
        while i < len(events):
            try:
                started = time.perf_counter()
                actions = next(batch)
                spent += time.perf_counter() - started
            except StopIteration:
                break
            except Exception as exc:
                log.error("error handling %s on %s: %s", type(events[i]).__name__, events[i].network,
                          type(exc).__name__)
                i += 1
                batch = self.engine.handle_many(events[i:])  # the rest, afresh
                continue
            i += 1
            self._dispatch(actions)
            if not self.concurrent:
                await self.idle()
        if self.observer is not None:  # what was read for risk (never a moderators' room)
            self.observer.screened_batch([e for e in events if self.engine.screens(e)], spent)

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
        self._dispatch(self.engine.resume(rows, self.clock()))
        await self.idle()

    async def catch_up(self) -> None:
        """Run the case timers (escalations, follow-ups) that are due now: at start, the ones that fell due
        while the gateway was down (see ``Engine.due_timers``)."""
        self._dispatch(self.engine.due_timers(self.clock()))
        await self.idle()

    def _dispatch(self, actions: list[A.Action]) -> None:
        """Write records now, in order; put adapter actions into their lanes. The cases the actions changed
        are journalled with them (``Engine.journal_changes``), before any adapter action runs."""
        pending = deque(actions)
        pending.extend(self.engine.journal_changes(actions))
        while pending:
            action = pending.popleft()
            if isinstance(action, A.ADAPTER_ACTIONS):
                lane = _lane(action)
                self._lanes.setdefault(lane, deque()).append(action)
                if lane not in self._lane_tasks:
                    self._lane_tasks[lane] = asyncio.get_running_loop().create_task(self._drain(lane))
            elif isinstance(action, A.ReloadPolicies):
                errors = self.reloader() if self.reloader else ["reload is not available in this process"]
                pending.extend(self.engine.handle(ReloadResult(action.network, self.clock(), action.id,
                                                               tuple(errors))))
            else:
                if self.observer is not None:
                    self.observer.recorded(action, self.clock())
                if not self._write(action):
                    pending.extend(self._log_failure_alerts(action))

    async def _drain(self, lane: tuple) -> None:
        """Run one lane's actions in order until it is empty; each outcome goes back to the engine."""
        queue = self._lanes[lane]
        try:
            while queue:
                action = queue.popleft()
                try:
                    journalled = action.case is not None and action.step is not None
                    if journalled:
                        self._journal(lambda: self.event_log.journal_step(action.case, action.step, "started"))
                    outcome = await self._execute(action)
                    if journalled:
                        state = "done" if outcome.ok else ("failed" if outcome.definitive else "unknown")
                        self._journal(lambda: self.event_log.journal_step(action.case, action.step, state))
                    self._dispatch(self.engine.handle(outcome))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one bad outcome must not stop the lane (class only, never text)
                    log.error("%s on %s failed in the runner: %s (case %s)", type(action).__name__,
                              action.network, type(exc).__name__, action.case)
        finally:
            self._lanes.pop(lane, None)
            self._lane_tasks.pop(lane, None)

    async def _execute(self, action: A.Action) -> ActionOutcome:
        kind = type(action).__name__
        adapter = self.adapters.get(action.network)
        if adapter is None:
            log.error("no adapter for network %s (action %s, case %s)", action.network, kind, action.case)
            return ActionOutcome(action.network, self.clock(), action.id, ok=False, code="no_adapter")
        try:
            timeout = None if getattr(adapter, "bounds_its_own_waits", False) else self.action_timeout
            ref = await asyncio.wait_for(self._call(adapter, action), timeout)
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
            # A connection error (the network was away: Matrix's aiohttp errors, a socket error) is
            # "disconnected", which the engine tries again once the network is back; anything else is the
            # adapter's bug and reaches the moderators as it is.
            code = "disconnected" if _connection_error(exc) else type(exc).__name__
            return ActionOutcome(action.network, self.clock(), action.id, ok=False, code=code,
                                 definitive=False)
        log.info("%s done on %s (case %s)", kind, action.network, action.case)
        if isinstance(ref, Delivered):
            return ActionOutcome(action.network, self.clock(), action.id, ok=True, ref=ref.ref, user=ref.user)
        return ActionOutcome(action.network, self.clock(), action.id, ok=True, ref=ref)

    async def _call(self, adapter: Adapter, a: A.Action) -> str | None:
        # de-duplicates a resend; a later message of the same step of a case (an update alert, a joined
        # detection's message) has a key of its own, so the server never takes it for a resend
        key = ResendKey(a.case, a.step if a.seq <= 1 else f"{a.step}{a.seq}") if a.case and a.step else None
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
        if isinstance(a, A.PostDigest):
            if self.digest is None:
                raise ActionFailed("no_event_log")
            return await adapter.post_notice(a.room, self.digest(a))
        raise TypeError(f"not an adapter action: {type(a).__name__}")

    def _journal(self, write: Callable[[], None]) -> bool:
        if self.event_log is None:
            return True
        try:
            write()
            return True
        except EventLogError as exc:
            self._failed()
            log.error("journal: %s (%d failures so far)", exc, self.log_failures)
            return False

    def _write(self, action: A.Action) -> bool:
        if self.event_log is None:
            return True
        try:
            if isinstance(action, A.JournalStep) and action.name == "round":
                self.event_log.journal_reopen(action.case)
            elif isinstance(action, A.JournalStep):
                self.event_log.journal_step(action.case, action.name, action.state)
            elif isinstance(action, A.FinishCase):
                self.event_log.journal_finish(action.case)
            elif isinstance(action, A.JournalCase):
                self.event_log.journal_case(action)
            elif isinstance(action, A.OpenCase):
                self.event_log.open_case(action, self.clock())
            else:
                self.event_log.write(action, self.clock())
            return True
        except EventLogError as exc:
            self._failed()
            log.error("event log: %s (%d failures so far)", exc, self.log_failures)
            return False

    def _failed(self) -> None:
        self.log_failures += 1
        self.last_log_failure = self.clock()
        if self.observer is not None:
            self.observer.write_failed()

    def _log_failure_alerts(self, action: A.Action) -> list[A.Action]:
        """Tell the moderators (at most every 10 minutes) that the record is failing; protection goes on."""
        now = self.clock()
        if self._log_alerted_at is not None and now - self._log_alerted_at < self.log_alert_interval:
            return []
        self._log_alerted_at = now
        return self.engine.event_log_failing(action.network, getattr(action, "room", None))


class Observer(Protocol):
    """What the runner tells the live metrics (gateway/ops/metrics.py implements it)."""

    def screened_batch(self, events: list[Event], seconds: float) -> None: ...

    def recorded(self, action: A.Action, ts: float) -> None: ...

    def write_failed(self) -> None: ...


def _connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (OSError, ConnectionError)) or any(
        c.__name__ in ("ClientConnectionError", "ServerDisconnectedError") for c in type(exc).__mro__)


def _lane(action: A.Action) -> tuple:
    """Where an action waits its turn: a person's private messages, or a room (also a moderators' room)."""
    if isinstance(action, A.SendPrivate):
        return ("person", action.network, action.user)
    return ("room", action.network, getattr(action, "room", None))
