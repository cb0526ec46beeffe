"""IRC lines in: chat (channel lines, notices, ``/me``, private messages) handed to the runner as
events, in order and in batches, each channel line's authority settled when it is read; joins the server
refused, invitations, the end of a channel's names (the room is ready) and the bot's own timed bans.
Part of ``IrcAdapter`` (uses its state).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import irc.client

from gateway.core.events import (
    Authority,
    Event,
    Message,
    PrivateMessage,
    RoomReady,
    RoomUnavailable,
)
from gateway.core.quotes import pasted_names

from adapters.contract import EventSink
from adapters.irc.lines import ANY_FAILURE, JOIN_FAILURES, clean, fold

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
