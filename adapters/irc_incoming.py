"""IRC lines in: membership and operator status (NAMES, MODE, JOIN, PART, KICK, QUIT, NICK), services
accounts (account-tag, account-notify, WHOIS), the replies that settle pending actions, and chat handed
to the runner as events, in order. Mixed into ``IrcAdapter`` (uses its connection state).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass

import irc.client
import irc.modes

from gateway.core.events import (
    Authority,
    Event,
    Join,
    Leave,
    Message,
    NickChange,
    PrivateMessage,
    RoomReady,
    RoomUnavailable,
)

from gateway.core.quotes import pasted_names

from adapters.contract import EventSink
from adapters.irc_lines import ANY_FAILURE, JOIN_FAILURES, clean, fold

__all__ = ["IrcIncoming", "AllJoined"]

log = logging.getLogger("gateway.irc")


@dataclass(frozen=True)
class AllJoined(Event):
    """Queued after the first joins: the adapter is ready once everything read before it is handled."""



class IrcIncoming:
    def _on_event(self, conn, event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        try:
            if handler is not None:
                handler(event)
            code = ANY_FAILURE.get(event.type)
            if code is not None and event.arguments:
                self._fail_waits(event.arguments[0], code)
            if event.type in JOIN_FAILURES and event.arguments:
                self._join_failed(event.arguments[0], JOIN_FAILURES[event.type])
        except Exception as exc:  # one malformed line must not stop the connection
            log.error("%s: error handling %s: %s", self.network, event.type, type(exc).__name__)

    def _fail_waits(self, target: str, code: str) -> None:
        """A failure numeric about ``target``: counted against every action waiting on it (see _barrier)."""
        t = fold(target)
        for future, targets, failures, failed in self._waits.values():
            if t in targets and code in failures.values() and not future.done():
                failed.append(code)

    def _join_failed(self, channel: str, code: str) -> None:
        """The server refused to let the bot join a channel: it is blind there. Logged, and the core tells
        the channel's moderators; the bot counts as ready without it, so the other rooms are watched."""
        name = self.by_fold.get(fold(channel))
        if name is None or fold(channel) in self.members:
            return
        if code == "473" and self._rule(name) is not None and self.has_services_login \
                and fold(channel) not in self._asked_invite:
            # our own invite-only moderators' channel: ask ChanServ for an invitation (an INVITE makes
            # the bot join: _on_invite); blind until then
            self._asked_invite.add(fold(channel))
            self._send(f"PRIVMSG ChanServ :INVITE {clean(name)}")
        self.blind[fold(channel)] = code
        log.error("%s: cannot join %s (%s): the bot is blind there", self.network, name, code)
        self._in.put_nowait(RoomUnavailable(self.network, self.clock(), room=name, code=code))
        self._check_ready()

    def _check_ready(self) -> None:
        if not self.ready.is_set() and all(fold(c) in self.members or fold(c) in self.blind for c in self.channels):
            self._in.put_nowait(AllJoined(self.network, self.clock()))

    def _on_invite(self, event) -> None:
        """An invitation to a configured channel we are not in (ChanServ, or a moderator after a restart
        left the bot outside its own invite-only moderators' channel): join."""
        channel = event.arguments[0] if event.arguments else ""
        name = self.by_fold.get(fold(channel))
        if name is not None and fold(channel) not in self.members:
            key = self.channel_keys.get(fold(channel))
            self._send(f"JOIN {clean(name)}" + (f" {clean(key)}" if key else ""))

    def _on_pong(self, event) -> None:
        token = event.arguments[-1] if event.arguments else event.target
        entry = self._waits.get(token)
        if entry is not None and not entry[0].done():
            entry[0].set_result(None)

    def _on_namreply(self, event) -> None:
        channel = fold(event.arguments[1])
        for entry in event.arguments[2].split():
            nick = entry.lstrip("~&@%+")
            self.members.setdefault(channel, set()).add(fold(nick))
            if "@" in entry[: len(entry) - len(nick)] or "~" in entry[: len(entry) - len(nick)] \
                    or "&" in entry[: len(entry) - len(nick)]:
                self.ops.setdefault(channel, set()).add(fold(nick))

    def _on_endofnames(self, event) -> None:
        channel = event.arguments[0]
        name = self.by_fold.get(fold(channel))
        if name is not None and self.max_ban_seconds:
            self._send(f"MODE {clean(name)} +b")  # find our own timed bans that outlived a restart
        if name is not None:
            self._secure(name)  # the bot created it (first in: operator)
            self._in.put_nowait(RoomReady(self.network, self.clock(), room=name,
                                          pinned_digest=self.store.get(self._key(name)), pinned_ref=None))
            self._check_ready()

    def _on_banlist(self, event) -> None:
        """367: channel, mask, setter, set time. Lift the bot's own bans once their time is up.

        Nothing about a ban is stored: after a restart the ban list itself says when the bot set it,
        and no ban lasts longer than the longest ``ban_for`` of the policies."""
        args = event.arguments
        if len(args) < 4 or not self.max_ban_seconds or not args[3].isdigit():
            return
        setter = args[2].split("!")[0]
        if fold(setter) != fold(self.nick) and fold(setter) != fold(self.wanted_nick):
            return
        remaining = int(args[3]) + self.max_ban_seconds - self.clock()
        self._schedule_unban(args[0], args[1], max(0.0, remaining))

    def _on_action(self, event) -> None:
        """CTCP ACTION (``/me``): in a channel, the writer speaking of themselves in the third person
        (``Message.emote``); privately, read like any private line."""
        if irc.client.is_channel(event.target):
            account = self._remember(event)
            self._queue_channel_line(event.source.nick, event.target, event.arguments[0], account, emote=True)
        else:
            self._on_privmsg(event)

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

    def _channel_message(self, line: str) -> bool:
        """Read a channel PRIVMSG in the plain form servers send (``:nick!user@host PRIVMSG #chan :text``,
        no tags, no CTCP) directly; anything else is left to the ``irc`` package (returns False).

        Why: channel chat is nearly every line a busy gateway reads, and the package's general parser
        (regex, tag and CTCP parsing, two events through its dispatcher) cost ~20 us a line, most of
        the gateway's time when ngircd relayed 43,000 lines/s. The result is the one ``_on_pubmsg``
        gives (tests/test_irc_units.py compares them line by line)."""
        if line[:1] != ":":
            return False
        parts = line[1:].split(" ", 3)
        if len(parts) != 4 or parts[1] != "PRIVMSG" or parts[3][:1] != ":":
            return False
        prefix, _, target, text = parts
        if not prefix or not target or target[0] not in "#&+!" or "\x01" in text or "\x10" in text:
            return False
        nick, _, userhost = prefix.partition("!")
        host = userhost.partition("@")[2]
        if host:
            self.hosts[fold(nick)] = host
        self._queue_channel_line(nick, target, text[1:])
        return True

    def _on_pubmsg(self, event) -> None:
        account = self._remember(event)
        self._queue_channel_line(event.source.nick, event.target, event.arguments[0], account)

    def _on_pubnotice(self, event) -> None:
        """A NOTICE to the channel: read for risk like any line (a person may write one), never a command."""
        if event.source is None or "!" not in str(event.source):
            return  # from the server itself
        account = self._remember(event)
        self._queue_channel_line(event.source.nick, event.target, event.arguments[0], account, notice=True)

    def _queue_channel_line(self, nick: str, target: str, text: str, account: str | None = None,
                            notice: bool = False, emote: bool = False) -> None:
        if fold(nick) == fold(self.nick):
            return  # never react to our own lines
        name = self.by_fold.get(fold(target))
        if name is not None:
            present = None
            if "<" in text:  # "<nick> ..." quotes someone only if that nick is in the channel (gateway/core/quotes.py)
                members = self.members.get(fold(target), set())
                present = frozenset(n for n in pasted_names(text) if fold(n) in members)
            self._in.put_nowait(Message(self.network, self.clock(), room=name, sender=nick, text=text,
                                        authority=Authority(account=account), notice=notice, emote=emote,
                                        present=present))

    def _on_privmsg(self, event) -> None:
        self._remember(event)
        if fold(event.source.nick) == fold(self.nick) or fold(event.source.nick) in self.services:
            return  # ignore ourselves and the network's services (only those named, never "*serv")
        # the watched channels they are in, as the server told us (NAMES, JOIN, PART, KICK, QUIT, NICK): the
        # community a private conversation belongs to (Engine._bindings_for_person); never from the text
        nick = fold(event.source.nick)
        rooms = tuple(name for folded, name in self.by_fold.items() if nick in self.members.get(folded, ()))
        self._in.put_nowait(PrivateMessage(self.network, self.clock(), sender=event.source.nick,
                                           text=event.arguments[0], rooms=rooms))

    async def _settle_authority(self, msg: Message) -> Message:
        """Operator status as of now; the services account from the line's own tag where the server sends
        tags (untagged: not logged in), else by WHOIS, and only for lines that may be commands."""
        nick, text = msg.sender, msg.text
        operator = fold(nick) in self.ops.get(fold(msg.room), set())
        account = msg.authority.account
        if "account-tag" not in self.caps:  # else the line's own tag said it
            account = None
            if not operator and text[:1] and not text[:1].isalnum() and not text[:1].isspace():
                account = await self._account(nick)  # only lines that may be commands
        return dataclasses.replace(msg, ts=self.clock(), authority=Authority(operator=operator, account=account))

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

    async def _consumer(self, runner: EventSink) -> None:
        """Hand what the connection received to the runner: whatever queued up while the previous batch
        was handled goes in one batch (detection for all of it at once), so a burst is cheap and a
        single line waits for nothing."""
        assert self._in is not None
        while True:
            batch = [await self._in.get()]
            while len(batch) < self.MAX_BATCH and not self._in.empty():
                batch.append(self._in.get_nowait())
            events = []
            for item in batch:
                try:
                    if isinstance(item, AllJoined):
                        if events:
                            await runner.handle_many(events)
                            events = []
                        self.ready.set()
                        continue
                    if type(item) is Message:  # a channel line: its authority is settled now, when it is read
                        item = await self._settle_authority(item)
                    events.append(item)
                except Exception as exc:
                    log.error("%s: error reading an event: %s", self.network, type(exc).__name__)
            if events:
                await runner.handle_many(events)
            if self._reading_paused and self._in.qsize() < self.MAX_QUEUED // 2:
                self._resume_reading()
