"""Writing lines: one queue inside the flood budget in three lanes (lines.OutQueue), a writer that
counts the lines of a message that left (so a resend skips them), and the PING barrier that confirms an
action: the server answers one client's commands in order, so every error numeric about a target
arrives before the matching PONG. Part of ``IrcAdapter`` (uses its state).
"""

from __future__ import annotations

import asyncio
import logging
import time

import irc.client

from adapters.contract import ActionFailed, ResendKey
from adapters.irc.lines import MAX_LINE, PREFIX_RESERVE, OutLine, clean, fold, split_text

__all__ = ["IrcSending"]

log = logging.getLogger("gateway.irc")


class IrcSending:
    # Outgoing lines wait in one queue inside the flood budget, protective ones first: a crisis message,
    # a removal or a moderators' alert must never queue behind replies to a flood of commands (15
    # "!status" lines once delayed a crisis message by 27 s); replies still get a share, so none starves
    # behind a flood of crisis messages (lines.OutQueue). Within a lane, lines keep their order. An
    # action's confirmation wait starts when its PING is written, so queueing never makes it "time out".

    STALE_REPLY = 120.0  # seconds a reply may wait for the flood budget before it is dropped

    URGENT, ROUTINE, BULK = 0, 1, 2  # queue lanes: protective actions, replies and notices, greetings (OutQueue)

    def _send(self, line: str, written: tuple[str, int] | None = None, priority: int = ROUTINE,
              droppable: bool = False, token: str | None = None) -> None:
        assert self._out is not None
        self._out.put(OutLine(line, priority, self._generation, written, token,
                              time.monotonic() if droppable else None))

    def _send_unconfirmed(self, lines: list[str], priority: int = 1) -> None:
        """Replies (routine lane) and greetings (bulk lane), not waited for (nothing depends on their
        outcome), so the actions after them never wait for the flood budget to write them; the routine
        lane's share of the budget (``OutQueue``) writes them during a flood too. A reply still waiting
        after STALE_REPLY seconds is dropped rather than sent very late."""
        for line in lines:
            self._send(line, None, priority, droppable=True)

    async def _sender(self) -> None:
        assert self._out is not None
        while True:
            item = await self._out.get()
            if item.queued_at is not None and time.monotonic() - item.queued_at > self.STALE_REPLY:
                self.dropped_replies += 1
                self._out.dropped += 1
                continue
            if item.queued_at is None and item.generation != self._generation:
                self._dropped(item)  # queued for a connection that is gone: its action failed, a retry requeues
                continue
            wait = self.budget.delay(len(item.line.encode("utf-8")) + 2)
            if wait:
                await asyncio.sleep(wait)
            if self._conn is None or not self._conn.connected or (
                    item.queued_at is None and item.generation != self._generation):
                self._dropped(item)
                continue
            try:
                self._conn.send_raw(item.line)
            except (irc.client.ServerNotConnectedError, OSError):
                self._dropped(item)  # the disconnect handler reconnects; the action fails as disconnected
                continue
            self._out.sent += 1
            if item.token is not None:  # a PING barrier left: its PONG is due within action_wait
                wait_entry = self._written.pop(item.token, None)
                if wait_entry is not None:
                    wait_entry.set()
            if item.written is not None:
                # Count the lines of this message that left (after writing: a crash repeats at most
                # the one line in flight, never loses one). A failing store must not stop sending.
                key, count = item.written
                try:
                    self.store.record_parts_sent(key, count)
                except Exception as exc:
                    log.error("%s: could not record a sent line (%s)", self.network, type(exc).__name__)

    def _dropped(self, item: OutLine) -> None:
        """A line that was not written (no connection): the action waiting on its barrier fails now."""
        self._out.dropped += 1
        if item.token is not None:
            self._written.pop(item.token, None)
            entry = self._waits.get(item.token)
            if entry is not None and not entry[0].done():
                entry[0].set_exception(ActionFailed("disconnected", definitive=False))

    def _text_lines(self, command: str, target: str, text: str) -> list[str]:
        head = f"{command} {clean(target)} :"
        room = MAX_LINE - 2 - PREFIX_RESERVE - len(head.encode("utf-8"))
        return [head + part for part in split_text(text, room)]

    async def _confirmed(self, lines: list[str], targets: list[str], failures: dict[str, str],
                         key: ResendKey | None = None, priority: int = ROUTINE) -> None:
        """Send ``lines`` then a PING barrier; raise ActionFailed if the server reported a failure."""
        failed, code = await self._barrier(lines, targets, failures, key, priority)
        if failed:
            raise ActionFailed(code)

    async def _barrier(self, lines: list[str], targets: list[str], failures: dict[str, str],
                       key: ResendKey | None = None, priority: int = ROUTINE) -> tuple[int, str | None]:
        """Send ``lines`` then ``PING :token`` and wait for the PONG: the server answers one client's
        commands in order, so every failure numeric about a target arrives before it. Returns how many
        lines failed and the first failure's code."""
        if not self._registered.is_set():
            raise ActionFailed("not_connected", definitive=False)
        token = f"gw{next(self._ids)}"
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        written = asyncio.Event()
        failed: list[str] = []
        self._waits[token] = (future, {fold(t) for t in targets}, failures, failed)
        self._written[token] = written
        already = 0
        if key is not None:  # a resend (after a reconnect or a crash): skip the lines that already left
            try:
                already = self.store.parts_sent(key)
            except Exception:
                already = 0
        for i, line in enumerate(lines[already:], start=already + 1):
            self._send(line, (key, i) if key is not None else None, priority)
        self._send(f"PING :{token}", None, priority, token=token)
        self._resume_reading()  # the answer to this PING must be read, however far behind we are
        # The wait is sized to the queue ahead: it starts when the PING is written (the flood budget
        # writes every queued line while connected; a disconnect or a dropped line ends it at once).
        # A message whose lines all left is therefore never taken for lost because it queued. Twice the
        # time the lines ahead take at the flood rate is only a safety net (a stalled sender).
        queued = self.budget.seconds_for(self._out.ahead(priority)) * 2 + self.action_wait
        writing = asyncio.ensure_future(written.wait())
        try:
            await asyncio.wait({future, writing}, timeout=queued, return_when=asyncio.FIRST_COMPLETED)
            if not future.done() and not writing.done():
                raise asyncio.TimeoutError
            if not future.done():
                await asyncio.wait_for(asyncio.shield(future), self.action_wait)
            future.result()
        except asyncio.TimeoutError:
            raise ActionFailed("timeout", definitive=False) from None
        finally:
            writing.cancel()
            self._waits.pop(token, None)
            self._written.pop(token, None)
        return len(failed), (failed[0] if failed else None)

    def _fail_waits(self, target: str, code: str) -> None:
        """A failure numeric about ``target``: counted against every action waiting on it (see _barrier)."""
        t = fold(target)
        for future, targets, failures, failed in self._waits.values():
            if t in targets and code in failures.values() and not future.done():
                failed.append(code)

    def _on_pong(self, event) -> None:
        token = event.arguments[-1] if event.arguments else event.target
        entry = self._waits.get(token)
        if entry is not None and not entry[0].done():
            entry[0].set_result(None)
