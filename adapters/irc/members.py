"""Who is in which channel, as the server tells it (NAMES, JOIN, PART, KICK, QUIT, NICK), with operator
status (NAMES, MODE) and the channel's modes, services accounts (account-tag, account-notify,
extended-join, WHOIS), and the nick changes that open cases follow. Part of ``IrcAdapter`` (uses its state).
"""

from __future__ import annotations

import asyncio
import logging
import time

import irc.modes

from gateway.core.events import Join, Leave, NickChange

from adapters.irc.lines import clean, fold

__all__ = ["IrcMembers"]

log = logging.getLogger("gateway.irc")


class IrcMembers:
    def _on_namreply(self, event) -> None:
        channel = fold(event.arguments[1])
        for entry in event.arguments[2].split():
            nick = entry.lstrip("~&@%+")
            self.members.setdefault(channel, set()).add(fold(nick))
            if "@" in entry[: len(entry) - len(nick)] or "~" in entry[: len(entry) - len(nick)] \
                    or "&" in entry[: len(entry) - len(nick)]:
                self.ops.setdefault(channel, set()).add(fold(nick))

    def _on_channelmodeis(self, event) -> None:
        """324, the answer to ``MODE #channel``: the channel's modes now (for moderators' channels:
        whether anyone can join)."""
        if len(event.arguments) < 2:
            return
        channel = fold(event.arguments[0])
        self.chanmodes[channel] = {m for m in event.arguments[1] if m not in "+-"}
        self._modes_known.setdefault(channel, asyncio.Event()).set()
        self._securing.discard(channel)
        self._secure(event.arguments[0])

    def _on_mode(self, event) -> None:
        channel = fold(event.target)
        if channel not in self.members:
            return
        for sign, mode, param in irc.modes.parse_channel_modes(" ".join(event.arguments)):
            if mode in ("i", "s") and channel in self.chanmodes:
                (self.chanmodes[channel].add if sign == "+" else self.chanmodes[channel].discard)(mode)
                self._securing.discard(channel)
                if sign == "-":
                    self._secure(event.target)
            if mode == "o" and param:
                ops = self.ops.setdefault(channel, set())
                (ops.add if sign == "+" else ops.discard)(fold(param))
                if sign == "+" and fold(param) == fold(self.nick):
                    self._secure(event.target)
                    if channel in self._op_granted:
                        self._op_granted[channel].set()
                    for line in self._pending_topics.pop(channel, []):
                        self._send(line)

    def _remember(self, event) -> str | None:
        """Note the sender's host (for ban masks); where account-tag is in use, return the account this
        line says its sender has (a line without the tag means: not logged in)."""
        src = event.source
        if src is not None and getattr(src, "host", None):
            self.hosts[fold(src.nick)] = src.host
        if src is None or "account-tag" not in self.caps:
            return None
        tags = {t["key"]: t["value"] for t in (event.tags or [])}
        return tags.get("account") or None

    def _on_join(self, event) -> None:
        self._remember(event)
        channel, nick = fold(event.target), event.source.nick
        self.renamed.pop(fold(nick), None)  # someone (else) has this nick now
        if "extended-join" in self.caps and event.arguments:  # JOIN #chan account :realname
            self.accounts[fold(nick)] = None if event.arguments[0] == "*" else event.arguments[0]
        if fold(nick) == fold(self.nick):
            src = event.source
            if getattr(src, "user", None) and getattr(src, "host", None):
                self.own_mask = f"*!*{src.user.lstrip('~')}@{src.host}"
            self.blind.pop(channel, None)
            if self._rule(event.target) is not None:  # a moderators' channel: may anyone join it?
                self._send(f"MODE {clean(event.target)}")
        self.members.setdefault(channel, set()).add(fold(nick))
        if fold(nick) == fold(self.nick):
            return
        name = self.by_fold.get(channel)
        if name is not None:
            self._in.put_nowait(Join(self.network, self.clock(), room=name, user=nick))

    def _gone(self, channel: str, nick: str) -> None:
        self.members.get(channel, set()).discard(fold(nick))
        self.ops.get(channel, set()).discard(fold(nick))
        name = self.by_fold.get(channel)
        if name is not None and fold(nick) != fold(self.nick):
            self._in.put_nowait(Leave(self.network, self.clock(), room=name, user=nick))

    def _on_part(self, event) -> None:
        self._gone(fold(event.target), event.source.nick)
        self.accounts.pop(fold(event.source.nick), None)

    def _on_kick(self, event) -> None:
        self._gone(fold(event.target), event.arguments[0])
        self.accounts.pop(fold(event.arguments[0]), None)

    def _on_account(self, event) -> None:
        """account-notify: ``ACCOUNT name`` after a login, ``ACCOUNT *`` after a logout."""
        account = event.target or (event.arguments[0] if event.arguments else "*")
        self.accounts[fold(event.source.nick)] = None if account == "*" else account

    def _on_quit(self, event) -> None:
        nick = event.source.nick
        for channel in list(self.members):
            if fold(nick) in self.members[channel]:
                self._gone(channel, nick)
        self.accounts.pop(fold(nick), None)

    def _on_nick(self, event) -> None:
        old, new = fold(event.source.nick), fold(event.target)
        if old == fold(self.nick):
            self.nick = event.target
            if fold(event.target) == fold(self.wanted_nick) and old != fold(self.wanted_nick):
                log.info("%s: the bot has its nick %s back", self.network, self.wanted_nick)
                self._nick_status()
        for table in (self.members, self.ops):
            for nicks in table.values():
                if old in nicks:
                    nicks.discard(old)
                    nicks.add(new)
        self.accounts.pop(old, None)  # a new nick proves nothing about the account
        self.accounts.pop(new, None)
        now = time.monotonic()
        for k in [k for k, (_, when) in self.renamed.items() if now - when > self.RENAME_MEMORY]:
            del self.renamed[k]
        if old != fold(self.nick) and new != old:
            # open cases follow the person, not the nick (see ``current_nick``)
            self.renamed[old] = (event.target, now)
            self.renamed.pop(new, None)
            self._in.put_nowait(NickChange(self.network, self.clock(), old=event.source.nick, new=event.target))

    def _on_whoisaccount(self, event) -> None:
        nick, account = event.arguments[0], event.arguments[1]
        future = self._whois.get(fold(nick))
        if future is not None and not future.done():
            future.set_result(account)

    def _on_endofwhois(self, event) -> None:
        future = self._whois.get(fold(event.arguments[0]))
        if future is not None and not future.done():
            future.set_result(None)

    async def _account(self, nick: str) -> str | None:
        """The services account of ``nick`` now, for a line that may be a command from someone who is not
        an operator. Where the server keeps us told (account-notify with extended-join) the table is
        current; otherwise ask by WHOIS every time: an answer from a minute ago may belong to someone
        who has since logged out or left."""
        if {"account-notify", "extended-join"} <= self.caps and fold(nick) in self.accounts:
            return self.accounts[fold(nick)]
        future = self._whois.get(fold(nick))
        if future is None or future.done():
            future = asyncio.get_running_loop().create_future()
            self._whois[fold(nick)] = future
            self._send(f"WHOIS {clean(nick)}")
        try:
            return await asyncio.wait_for(asyncio.shield(future), 5.0)
        except asyncio.TimeoutError:
            return None

    RENAME_MEMORY = 600.0  # seconds a nick change is followed

    def current_nick(self, nick: str) -> str:
        """The nick ``nick``'s owner has now, following the nick changes seen in the last few minutes."""
        now, seen = time.monotonic(), set()
        while fold(nick) in self.renamed and fold(nick) not in seen:
            new, when = self.renamed[fold(nick)]
            if now - when > self.RENAME_MEMORY:
                break
            seen.add(fold(nick))
            nick = new
        return nick

    def _has_op(self, room: str) -> bool:
        return fold(self.nick) in self.ops.get(fold(room), set())

    async def _wait_for_op(self, room: str) -> None:
        if self._has_op(room) or self.op_wait <= 0:
            return
        event = self._op_granted.setdefault(fold(room), asyncio.Event())
        event.clear()
        try:
            await asyncio.wait_for(event.wait(), self.op_wait)
        except asyncio.TimeoutError:
            pass  # try anyway: the server's 482 then tells the moderators
