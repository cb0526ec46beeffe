"""IRC actions: what the adapter does for the runner (notices, topics, replies, private messages,
greetings, removals and timed bans, alerts, readmissions), each confirmed through the PING barrier
(sending.py) so that it either got past the server or fails with its code; and moderators' channels
kept invite-only, or nothing naming a person is posted there. Part of ``IrcAdapter`` (uses its state).
"""

from __future__ import annotations

import asyncio
import logging
import time

from gateway.core.events import guidelines_digest

from adapters.contract import ActionFailed, Delivered
from adapters.irc.lines import ANY_FAILURE, KICK_FAILURES, PRIVMSG_FAILURES, clean, fold

__all__ = ["IrcActions"]

log = logging.getLogger("gateway.irc")


class IrcActions:
    async def post_notice(self, room, text):
        await self._guard(room)
        await self._confirmed(self._text_lines("NOTICE", room, text), [room], ANY_FAILURE)

        return guidelines_digest(text)  # IRC has no message ids; the digest stands in for "what is posted"

    async def pin_notice(self, room, ref, replaces):
        self.store.set(self._key(room), ref)  # "pinned" = remembered as the current posted guidelines
        return ref

    async def set_topic(self, room, text):
        """Set the topic; on a +t channel where the bot is not an operator yet (just joined, waiting for
        ChanServ or a moderator), it is set as soon as the bot is given operator status."""
        lines = self._text_lines("TOPIC", room, text)[:1]
        try:
            await self._confirmed(lines, [room], KICK_FAILURES)
            self._pending_topics.pop(fold(room), None)
        except ActionFailed as exc:
            if exc.code != "482":
                raise
            self._pending_topics[fold(room)] = lines
            log.info("%s: topic of %s waits for operator status", self.network, room)

    async def post_reply(self, room, text):
        if self.refused_exposures(room):  # a case reply names people: not into an open channel
            self._tell_exposed(room)
            log.error("%s: a reply in %s was not sent: the channel is open to anyone", self.network, room)
            return
        self._send_unconfirmed(self._text_lines("NOTICE", room, text))

    async def send_private(self, user, text, key=None):
        """A private message; a case's (``key``) goes ahead of routine lines. If the person changes nick
        while it is being written, the lines that did not reach them (401) are sent to the new nick;
        if those fail too, the message was only partly delivered and the outcome says so. Without a key
        (a reply, the resources a person asked for) it is queued like any reply."""
        if key is None:
            self._send_unconfirmed(self._text_lines("PRIVMSG", user, text))
            return None
        target = self.current_nick(user)
        head = f"PRIVMSG {clean(target)} :"
        parts = [line[len(head):] for line in self._text_lines("PRIVMSG", target, text)]
        failed, code = await self._barrier([head + p for p in parts], [target], PRIVMSG_FAILURES, key, self.URGENT)
        if failed:
            now = self.current_nick(target)
            if code != "401" or now == target:
                raise ActionFailed(code or "unknown")
            rest = parts[len(parts) - failed:]  # the lines written after they changed nick
            head = f"PRIVMSG {clean(now)} :"
            again, code = await self._barrier([head + p for p in rest], [now], PRIVMSG_FAILURES,
                                              f"{key}.renamed", self.URGENT)
            if again:
                raise ActionFailed("partial" if failed < len(parts) else (code or "401"))
            target = now
        return Delivered(user=target) if target != user else None

    async def greet_user(self, room, user, text):
        self._send_unconfirmed(self._text_lines("NOTICE", user, text), self.BULK)

    async def remove_from_room(self, room, user, reason, ban_seconds=None):
        await self._wait_for_op(room)
        user = self.current_nick(user)  # they may have changed nick since the at-risk line
        lines = []
        mask = None
        if ban_seconds:
            host = self.hosts.get(fold(user))
            mask = f"*!*@{host}" if host else f"{clean(user)}!*@*"
            lines.append(f"MODE {clean(room)} +b {mask}")
        lines.append(f"KICK {clean(room)} {clean(user)} :{clean(reason)[:300]}")
        try:
            await self._confirmed(lines, [room, user], KICK_FAILURES, priority=self.URGENT)
        except ActionFailed as exc:
            if exc.code not in ("441", "401"):  # not in the channel (any more): removed
                raise
        if mask is not None:
            self._schedule_unban(room, mask, ban_seconds)
        return Delivered(user=user)

    def _schedule_unban(self, room: str, mask: str, seconds: float) -> None:
        async def lift() -> None:
            await asyncio.sleep(seconds)
            await self._registered.wait()
            self._send(f"MODE {clean(room)} -b {mask}")

        task = asyncio.create_task(lift())
        self._unbans.add(task)
        task.add_done_callback(self._unbans.discard)

    async def alert_moderators(self, room, text, priority, message_ref, mention_all=False, key=None):
        if mention_all:  # name every operator of the moderators' channel: their clients highlight it
            ops = sorted(n for n in self.ops.get(fold(room), set()) if n != fold(self.nick))
            text = (", ".join(ops) + ": " + text) if ops else text
        await self._guard(room)
        await self._confirmed(self._text_lines("PRIVMSG", room, text), [room], PRIVMSG_FAILURES, key,
                              priority=self.URGENT)
        return None

    async def readmit(self, room, user):
        lines = []
        host = self.hosts.get(fold(user))
        for mask in ([f"*!*@{host}"] if host else []) + [f"{clean(user)}!*@*"]:
            lines.append(f"MODE {clean(room)} -b {mask}")
        lines.append(f"INVITE {clean(user)} {clean(room)}")
        await self._confirmed(lines, [room, user], {**KICK_FAILURES, "useronchannel": "443"})

    # -- moderators' channels: invite-only, or nothing naming a person is posted there ------------

    EXPOSURE_NOTICE_EVERY = 600.0  # seconds between notices that alerts are held in an open channel

    def _rule(self, room: str):
        for name, rule in self.moderators_rooms.items():
            if fold(name) == fold(room):
                return rule
        return None

    def exposures(self, room: str) -> list[str]:
        modes = self.chanmodes.get(fold(room))
        return ["open"] if modes is not None and not modes & {"i", "s"} else []

    def refused_exposures(self, room: str) -> list[str]:
        rule = self._rule(room)
        return [] if rule is None else [e for e in self.exposures(room) if not rule.allows(e)]

    def _secure(self, room: str) -> None:
        """A moderators' channel anyone can join (no +i or +s) that the bot is operator of: set +i."""
        rule = self._rule(room)
        if rule is None or rule.allow_open or not self.exposures(room) or not self._has_op(room):
            return
        if fold(room) in self._securing:
            return
        self._securing.add(fold(room))
        log.warning("%s: moderators' channel %s was open to anyone (no +i or +s): setting +i", self.network, room)
        self._send(f"MODE {clean(room)} +i", None, self.URGENT)
        if self.own_mask:  # an invite exception for the bot's user@host, so that it gets back in after a
            # restart (servers without +I answer 472, which changes nothing)
            self._send(f"MODE {clean(room)} +I {clean(self.own_mask)}", None, self.URGENT)

    async def _guard(self, room: str) -> None:
        """Before anything is posted in a moderators' channel: it must be invite-only (+i or +s) unless
        the policy allows an open one. The bot sets +i itself when it is operator (waiting up to
        ``op_wait`` for operator status); otherwise the post is refused with ``room_open`` and the channel
        is told, in words that name nobody, why alerts are held."""
        rule = self._rule(room)
        if rule is None or rule.allow_open:
            return
        known = self._modes_known.setdefault(fold(room), asyncio.Event())
        if not known.is_set():
            self._send(f"MODE {clean(room)}", None, self.URGENT)
            try:
                await asyncio.wait_for(known.wait(), 10.0)
            except asyncio.TimeoutError:
                pass
        if fold(room) not in self.chanmodes:
            raise ActionFailed("room_mode_unknown", definitive=False)
        if self.exposures(room):
            await self._wait_for_op(room)
            self._secure(room)
            deadline = asyncio.get_running_loop().time() + 10.0
            while self.exposures(room) and self._has_op(room) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
        if self.exposures(room):
            self._tell_exposed(room)
            log.error("%s: moderators' channel %s is open to anyone (no +i or +s) and the bot is not operator "
                      "there: alerts for it are held", self.network, room)
            raise ActionFailed("room_open", definitive=False)

    def _tell_exposed(self, room: str) -> None:
        now = time.monotonic()
        if now - self._exposure_told.get(fold(room), -1e9) < self.EXPOSURE_NOTICE_EVERY:
            return
        self._exposure_told[fold(room)] = now
        text = ("[HIGH] The safety bot is holding back alerts and case details for this channel: anyone can "
                "join it (no +i or +s) and alerts name people at risk. Set +i, or give the bot operator "
                "status here and it sets +i itself.")
        self._send_unconfirmed(self._text_lines("NOTICE", room, text))
