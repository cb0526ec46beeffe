"""The IRC adapter (the ``irc`` package's asyncio client).

IRC gives no acknowledgement for PRIVMSG or KICK; failures come back later as numerics. So after each
action the adapter sends ``PING :token`` and waits: the server handles one client's commands in order,
so an error numeric about the target (401, 404, 477, 486, 716 for a private message; 482, 441 for a
KICK) arrives before the matching PONG. That gives the runner the same contract as on Matrix: the
action was accepted, or it failed with a code. A removal is therefore attempted only after the private
message got past the server, and a missing operator status (482) reaches the moderators as a failed
removal, never silence.

- Lines: at most 512 bytes including CR LF and the prefix the server adds; long text is split on
  spaces and UTF-8 boundaries; CR, LF and NUL are removed from anything that goes into a line.
- Input that is not UTF-8 is decoded with replacement characters instead of crashing.
- Outgoing lines go through a flood budget (a burst, then a steady rate; long lines cost more).
- Moderators: channel operators of that channel (tracked from NAMES and MODE), or a services account
  (IRCv3 ``account-tag``, else a WHOIS 330 lookup for lines that may be commands). A nick alone never
  authorises.
- Guidelines cannot be pinned on IRC: the bot posts them in the channel and remembers the digest it
  posted, so a reconnect does not post unchanged guidelines again.
- Reconnects with exponential backoff, rejoins its channels, and regains operator status where the
  server grants it to the first to join. Nothing sent while the bot was away is delivered to it.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from dataclasses import dataclass
import functools
import itertools
import logging
import os
import ssl
import time
from typing import Any

import irc.client
import irc.client_aio
import irc.connection
import irc.modes
from jaraco.stream import buffer

from gateway.events import (
    Authority,
    Event,
    Join,
    Leave,
    Message,
    NickChange,
    PrivateMessage,
    RoomReady,
    RoomUnavailable,
    guidelines_digest,
)

from .base import (
    ActionFailed,
    AdapterStore,
    Adapter,
    CredentialsRefused,
    Delivered,
    EventSink,
    NetworkSettings,
    ResendKey,
)

__all__ = ["IrcAdapter", "FloodBudget", "clean", "split_text", "create", "fold"]

log = logging.getLogger("gateway.irc")
# The irc package logs every raw line, message text included, at DEBUG ("FROM SERVER: ..."): never let
# it, whatever the root level is.
logging.getLogger("irc").setLevel(logging.WARNING)

MAX_LINE = 512  # bytes, including CR LF
PREFIX_RESERVE = 1 + 30 + 1 + 10 + 1 + 63 + 1  # ":nick!user@host " at its longest on common servers
PRIVMSG_FAILURES = {"nosuchnick": "401", "cannotsendtochan": "404", "nochanmodes": "477", "486": "486",
                    "716": "716"}
KICK_FAILURES = {"chanoprivsneeded": "482", "usernotinchannel": "441", "nosuchnick": "401",
                 "nosuchchannel": "403", "notonchannel": "442"}
_ANY_FAILURE = {**PRIVMSG_FAILURES, **KICK_FAILURES}
JOIN_FAILURES = {"channelisfull": "471", "inviteonlychan": "473", "bannedfromchan": "474",
                 "badchannelkey": "475", "nochanmodes": "477"}
# Services whose private messages are not people talking to the bot. Only these nicks: a person whose
# nick merely ends in "serv" is a person.
DEFAULT_SERVICES = ("NickServ", "ChanServ", "MemoServ", "OperServ", "BotServ", "HostServ", "SaslServ",
                    "Global", "Alis")


class _ReplacingBuffer(buffer.DecodingLineBuffer):
    """Complete lines, decoded as UTF-8 with replacement characters (a stray Latin-1 byte must never
    crash the bot). The same lines as the package's buffer, split with ``bytes.rfind`` and ``str.split``
    instead of a regex and decoded once per read instead of once per line: LF cannot occur inside a
    UTF-8 sequence, so decoding all complete lines at once gives each line what decoding it alone
    would (tests/test_irc_units.py compares them)."""

    errors = "replace"

    def lines(self):
        end = self.buffer.rfind(b"\n")
        if end < 0:
            return iter(())
        complete, self.buffer = self.buffer[:end], self.buffer[end + 1:]
        return (line[:-1] if line[-1:] == "\r" else line
                for line in complete.decode(self.encoding, self.errors).split("\n"))


_RFC1459 = str.maketrans("[]\\~", "{}|^")


@dataclass(frozen=True)
class _AllJoined(Event):
    """Queued after the first joins: the adapter is ready once everything read before it is handled."""


class _Connection(irc.client_aio.AioConnection):
    """The package's connection, reading lines itself first: a plain channel message goes to the
    adapter's fast path (``fast_path`` returns True); every other line goes on through the package's
    own public ``process_data``, so its events and handlers work as documented. ``after_data`` runs
    once per chunk read (backpressure)."""

    buffer_class = _ReplacingBuffer

    def fast_path(self, line: str) -> bool:
        return False

    def after_data(self) -> None:
        pass

    def process_data(self, new_data: bytes) -> None:
        lines = self.__dict__.setdefault("_lines", _ReplacingBuffer())
        lines.feed(new_data)
        rest = [line for line in lines if line and not self.fast_path(line)]
        if rest:  # (decoded once more by the package's buffer: only the few lines that are not chat)
            super().process_data(("\r\n".join(rest) + "\r\n").encode("utf-8"))
        self.after_data()


class _Reactor(irc.client_aio.AioReactor):
    connection_class = _Connection


@functools.lru_cache(maxsize=8192)
def fold(name: str) -> str:
    """RFC 1459 case folding for nicks and channels. Cached: a busy gateway folds the same few thousand
    nicks and channels several times for every line (py-spy: 19% of its time before the cache)."""
    return name.lower().translate(_RFC1459)


def clean(text: str) -> str:
    """Remove what could end or corrupt an IRC line (CR, LF, NUL) from user-derived text."""
    return text.replace("\r", " ").replace("\n", " ").replace("\0", "")


def split_text(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into non-empty lines of at most ``max_bytes`` UTF-8 bytes, on spaces if possible."""
    out: list[str] = []
    for line in text.splitlines():
        line = clean(line).strip()
        while line:
            encoded = line.encode("utf-8")
            if len(encoded) <= max_bytes:
                out.append(line)
                break
            cut = encoded[:max_bytes].decode("utf-8", errors="ignore")  # never half a character
            space = cut.rfind(" ")
            if space > len(cut) // 2:
                cut = cut[:space]
            out.append(cut.rstrip())
            line = line[len(cut):].lstrip()
    return out


class FloodBudget:
    """Token bucket: ``burst`` lines at once, then ``rate`` lines a second; a line over 256 bytes costs
    one extra token (Sopel's defaults are a burst of 4 and 1 line/s)."""

    def __init__(self, burst: float = 4, rate: float = 1.0, clock=time.monotonic):
        self.burst, self.rate, self.clock = float(burst), float(rate), clock
        self.tokens, self.last = float(burst), clock()

    def delay(self, nbytes: int) -> float:
        """Take the tokens for one line; return how long to wait before sending it."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        self.tokens -= 1 + (nbytes > 256)
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class IrcAdapter(Adapter):
    resends_are_deduplicated = True  # by counting, per message, the lines already written (see _confirmed)
    MAX_BATCH = 256  # queued lines handed to the runner at once (see _consumer)
    MAX_QUEUED = 20_000  # lines read but not handled yet: beyond this, stop reading (TCP pushes back)

    def __init__(self, network: str, host: str, port: int, nick: str, *, store: AdapterStore,
                 rooms: list[str], tls: bool = False, username: str | None = None,
                 realname: str | None = None, sasl_account: str | None = None,
                 sasl_password: str | None = None, nickserv_password: str | None = None,
                 flood_burst: float = 4, flood_rate: float = 1.0, clock=time.time,
                 action_wait: float = 20.0, max_ban_seconds: int | None = None,
                 tls_ca_file: str | None = None, op_wait: float = 10.0, services: list[str] | None = None,
                 channel_keys: dict[str, str] | None = None, sasl_wait: float = 10.0):
        self.network, self.host, self.port, self.tls = network, host, port, tls
        self.tls_ca_file = tls_ca_file  # a private CA for a self-hosted server; certificates are verified
        self.nick = self.wanted_nick = nick
        self.username, self.realname = username or nick, realname or "safeguarding gateway bot"
        self.sasl_account, self.sasl_password = sasl_account, sasl_password
        self.nickserv_password = nickserv_password
        self.store = store
        self.channels = list(dict.fromkeys(rooms))
        self.by_fold = {fold(c): c for c in self.channels}
        self.clock = clock
        self.budget = FloodBudget(flood_burst, flood_rate)
        self.action_wait = action_wait
        self.max_ban_seconds = max_ban_seconds
        self.op_wait = op_wait  # after a (re)join, operator status may arrive a moment later (ChanServ)
        self.sasl_wait = sasl_wait  # an AUTHENTICATE nobody answers (services gone) must not hang registration
        self._sasl_timer: asyncio.TimerHandle | None = None
        self._op_granted: dict[str, asyncio.Event] = {}
        self._pending_topics: dict[str, list[str]] = {}  # folded channel -> TOPIC line waiting for +o
        self.ready = asyncio.Event()
        self.members: dict[str, set[str]] = {}  # folded channel -> folded nicks
        self.ops: dict[str, set[str]] = {}  # folded channel -> folded nicks with +o
        self.hosts: dict[str, str] = {}  # folded nick -> host, for ban masks (memory only)
        # folded nick -> services account (None: known not to be logged in). Kept only while the server
        # keeps it true for us (account-notify, extended-join, account-tag); forgotten on PART, KICK,
        # QUIT, NICK and disconnect, so a stranger who takes a moderator's nick inherits nothing.
        self.accounts: dict[str, str | None] = {}
        self.caps: set[str] = set()  # negotiated afresh on every connection
        self._offered: set[str] = set()  # CAP LS of this connection (may span several lines)
        self.services = {fold(n) for n in (services or DEFAULT_SERVICES)}
        self.channel_keys = {fold(c): k for c, k in (channel_keys or {}).items()}
        self.blind: dict[str, str] = {}  # folded channel -> numeric of the failed JOIN
        self._ids = itertools.count(1)
        self._waits: dict[str, tuple[asyncio.Future, set[str], dict[str, str]]] = {}
        self._whois: dict[str, asyncio.Future] = {}
        self._out: asyncio.Queue[str] | None = None
        self._in: asyncio.Queue[Event] | None = None  # events read, in order, for the consumer
        self._conn: Any = None
        self._connected = asyncio.Event()
        self._registered = asyncio.Event()
        self._stopping = False
        self._refused: CredentialsRefused | None = None  # the server refused the bot's login: stop
        self.secret_hint = "the SASL password"  # where the secret comes from, for a refusal
        self._tasks: list[asyncio.Task] = []
        self._unbans: set[asyncio.Task] = set()
        self._seq = itertools.count()  # FIFO order within one priority of the outgoing queue
        # folded old nick -> (new nick, when): people who changed nick recently, so that the private
        # message and the KICK of their case follow them (forgotten when someone else takes the old nick)
        self.renamed: dict[str, tuple[str, float]] = {}
        self._reading_paused = False
        self.backpressure_pauses = 0
        self.dropped_replies = 0

    # -- sending --------------------------------------------------------------------------------

    # Outgoing lines wait in one queue inside the flood budget, protective ones first: a crisis message,
    # a removal or a moderators' alert must never queue behind replies to a flood of commands (15
    # "!status" lines once delayed a crisis message by 27 s). Within a priority, lines keep their order.
    URGENT, ROUTINE = 0, 1

    STALE_REPLY = 30.0  # seconds a reply may wait for the flood budget before it is dropped

    def _send(self, line: str, written: tuple[str, int] | None = None, priority: int = ROUTINE,
              droppable: bool = False) -> None:
        assert self._out is not None
        self._out.put_nowait((priority, next(self._seq), line, written, time.monotonic() if droppable else None))

    def _send_unconfirmed(self, lines: list[str]) -> None:
        """Replies and greetings: queued behind everything protective and not waited for (nothing depends
        on their outcome), so the actions after them never wait for the flood budget to write them; a
        reply still waiting after STALE_REPLY seconds is dropped rather than sent late."""
        for line in lines:
            self._send(line, None, self.ROUTINE, droppable=True)

    async def _sender(self) -> None:
        assert self._out is not None
        while True:
            _, _, line, written, queued_at = await self._out.get()
            if queued_at is not None and time.monotonic() - queued_at > self.STALE_REPLY:
                self.dropped_replies += 1
                continue
            wait = self.budget.delay(len(line.encode("utf-8")) + 2)
            if wait:
                await asyncio.sleep(wait)
            if self._conn is not None and self._conn.connected:
                try:
                    self._conn.send_raw(line)
                except (irc.client.ServerNotConnectedError, OSError):
                    continue  # the disconnect handler reconnects; pending actions time out as unknown
                if written is not None:
                    # Count the lines of this message that left (after writing: a crash repeats at most
                    # the one line in flight, never loses one). A failing store must not stop sending.
                    key, count = written
                    try:
                        self.store.record_parts_sent(key, count)
                    except Exception as exc:
                        log.error("%s: could not record a sent line (%s)", self.network, type(exc).__name__)

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
        failed: list[str] = []
        self._waits[token] = (future, {fold(t) for t in targets}, failures, failed)
        already = 0
        if key is not None:  # a resend after a crash: skip the lines that already left
            try:
                already = self.store.parts_sent(key)
            except Exception:
                already = 0
        for i, line in enumerate(lines[already:], start=already + 1):
            self._send(line, (key, i) if key is not None else None, priority)
        self._send(f"PING :{token}", None, priority)
        self._resume_reading()  # the answer to this PING must be read, however far behind we are
        try:
            await asyncio.wait_for(future, self.action_wait)
        except asyncio.TimeoutError:
            raise ActionFailed("timeout", definitive=False) from None
        finally:
            self._waits.pop(token, None)
        return len(failed), (failed[0] if failed else None)

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

    def _resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            transport = getattr(self._conn, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.resume_reading()

    # -- actions --------------------------------------------------------------------------------

    async def post_notice(self, room, text):
        await self._confirmed(self._text_lines("NOTICE", room, text), [room], _ANY_FAILURE)
        
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
        self._send_unconfirmed(self._text_lines("NOTICE", user, text))

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

    def _key(self, room: str) -> str:
        return f"irc:{self.network}:{fold(room)}:guidelines"

    # -- connection -----------------------------------------------------------------------------

    async def run(self, runner: EventSink) -> None:
        loop = asyncio.get_running_loop()
        self._out, self._in = asyncio.PriorityQueue(), asyncio.Queue()
        self._tasks = [asyncio.create_task(self._sender()), asyncio.create_task(self._consumer(runner)),
                       asyncio.create_task(self._regain_nick())]
        backoff = 1.0
        try:
            while not self._stopping:
                try:
                    await self._connect(loop)
                    await self._connected.wait()
                    backoff = 1.0
                    await self._disconnected.wait()
                except ssl.SSLError as exc:
                    log.error("%s: TLS with %s:%d failed (%s); check that the port speaks TLS and the "
                              "server's certificate (tls_ca_file for a private CA); retrying in %.0f s",
                              self.network, self.host, self.port, getattr(exc, "reason", None) or type(exc).__name__,
                              backoff)
                except (OSError, irc.client.ServerConnectionError) as exc:
                    log.warning("%s: cannot connect to %s:%d (%s); check host, port and tls, and that the "
                                "server is up; retrying in %.0f s", self.network, self.host, self.port,
                                getattr(exc, "strerror", None) or type(exc).__name__, backoff)
                except Exception as exc:
                    log.error("%s: connection failed with %s; retrying in %.0f s", self.network,
                              type(exc).__name__, backoff)
                if self._refused is not None:
                    raise self._refused
                if self._stopping:
                    break
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
        finally:
            for t in self._tasks:
                t.cancel()

    async def _connect(self, loop) -> None:
        self._disconnected = asyncio.Event()
        self._registered.clear()
        self.members.clear()
        self.ops.clear()
        self.accounts.clear()
        self.caps, self._offered = set(), set()
        reactor = _Reactor(loop=loop)
        conn = reactor.server()
        reactor.add_global_handler("all_events", self._on_event, -10)

        def after_data() -> None:
            if self._in.qsize() > self.MAX_QUEUED and not self._reading_paused and not self._waits:
                # Behind by more than MAX_QUEUED lines: stop reading until the consumer catches up, so
                # memory stays bounded and the server sees the backpressure (it may drop us; a server
                # that does is logged as a disconnect and we reconnect). Never while an action waits
                # for its PONG: that reply is on this connection (see _confirmed).
                self._reading_paused = True
                self.backpressure_pauses += 1
                log.warning("%s: %d lines waiting; reading paused until they are handled (pause %d)",
                            self.network, self._in.qsize(), self.backpressure_pauses)
                conn.transport.pause_reading()

        conn.fast_path, conn.after_data = self._channel_message, after_data
        self._reading_paused = False
        factory = irc.connection.AioFactory(ssl=ssl.create_default_context(cafile=self.tls_ca_file)) \
            if self.tls else irc.connection.AioFactory()
        self._conn = conn
        self.nick = self.wanted_nick
        send_nick = conn.nick

        def cap_ls_first(nick: str) -> None:
            # CAP LS before NICK/USER: a server that registers a client at once would otherwise never
            # let it negotiate (no SASL); with CAP LS first, registration waits for CAP END.
            conn.send_raw("CAP LS 302")
            conn.nick = send_nick
            send_nick(nick)

        conn.nick = cap_ls_first
        await conn.connect(self.host, self.port, self.nick, username=self.username, ircname=self.realname,
                           connect_factory=factory)
        self._connected.set()

    async def stop(self) -> None:
        self._stopping = True
        for t in list(self._unbans):
            t.cancel()
        if self._conn is not None and self._conn.connected:
            try:
                self._conn.quit("gateway stopping")
            except irc.client.ServerNotConnectedError:
                pass
            self._conn.disconnect()
        if hasattr(self, "_disconnected"):
            self._disconnected.set()

    # -- incoming -------------------------------------------------------------------------------

    def _on_event(self, conn, event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        try:
            if handler is not None:
                handler(event)
            code = _ANY_FAILURE.get(event.type)
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

    def _on_disconnect(self, event) -> None:
        self._registered.clear()
        self._connected.clear()
        self.members.clear()  # stale operator status must never authorise anyone
        self.ops.clear()
        self.accounts.clear()
        self.caps.clear()
        if self._sasl_timer is not None:
            self._sasl_timer.cancel()
            self._sasl_timer = None
        for future, _, _, _ in self._waits.values():
            if not future.done():
                future.set_exception(ActionFailed("disconnected", definitive=False))
        if hasattr(self, "_disconnected"):
            self._disconnected.set()

    WANTED_CAPS = frozenset({"account-tag", "account-notify", "extended-join", "multi-prefix", "cap-notify"})

    def _on_cap(self, event) -> None:
        """IRCv3 capability negotiation, afresh on every connection (``_connect`` clears what an earlier
        connection had): a server restarted without its services offers no SASL, and asking for it
        anyway leaves the bot unregistered until the server drops it."""
        args = list(event.arguments or [])
        sub = args[0] if args else ""
        if sub == "LS":
            more = len(args) > 2 and args[1] == "*"  # CAP LS 302: more lines follow
            self._offered |= {c.split("=")[0] for c in args[-1].split()}
            if more:
                return
            want = self.WANTED_CAPS & self._offered
            if self.sasl_account and self.sasl_password:
                if "sasl" in self._offered:
                    want = want | {"sasl"}
                else:
                    log.warning("%s: the server offers no SASL now (services down?); registering without it",
                                self.network)
            if want:
                self._conn.send_raw("CAP REQ :" + " ".join(sorted(want)))
            else:
                self._conn.send_raw("CAP END")
        elif sub == "ACK":
            acked = set(args[-1].split())
            self.caps |= acked
            if "sasl" in acked and not self._registered.is_set():
                self._conn.send_raw("AUTHENTICATE PLAIN")
                self._sasl_timer = asyncio.get_running_loop().call_later(self.sasl_wait, self._sasl_gave_up)
            elif not self._registered.is_set():
                self._conn.send_raw("CAP END")
        elif sub == "NAK":
            if not self._registered.is_set():
                self._conn.send_raw("CAP END")
        elif sub == "DEL":
            self.caps -= set(args[-1].split())
        elif sub == "NEW":
            new = (self.WANTED_CAPS & {c.split("=")[0] for c in args[-1].split()}) - self.caps
            if new:
                self._conn.send_raw("CAP REQ :" + " ".join(sorted(new)))

    def _end_sasl(self) -> None:
        if self._sasl_timer is not None:
            self._sasl_timer.cancel()
            self._sasl_timer = None
        if self._conn is not None and self._conn.connected and not self._registered.is_set():
            self._conn.send_raw("CAP END")

    def _sasl_gave_up(self) -> None:
        self._sasl_timer = None
        log.error("%s: SASL got no answer in %.0f s (services down?); registering without it", self.network,
                  self.sasl_wait)
        self._end_sasl()

    def _on_authenticate(self, event) -> None:
        if event.target == "+" or (event.arguments and event.arguments[0] == "+"):
            raw = f"{self.sasl_account}\0{self.sasl_account}\0{self.sasl_password}".encode()
            self._conn.send_raw("AUTHENTICATE " + base64.b64encode(raw).decode())

    def _on_saslsuccess(self, event) -> None:
        self._end_sasl()

    def _on_saslfail(self, event) -> None:
        """904: the account or password is wrong. Retrying cannot fix it, and without its account the bot
        may get no operator status to protect anyone: stop and say what to fix."""
        self._refused = CredentialsRefused(
            f"network {self.network}: the server refused the SASL login for account {self.sasl_account} "
            f"(904): check sasl_account and {self.secret_hint}")
        self._stopping = True
        self._end_sasl()
        if self._conn is not None and self._conn.connected:
            self._conn.disconnect("login refused")
        self._disconnected.set()

    def _on_sasl_other(self, event) -> None:
        log.error("%s: SASL authentication did not complete (%s); registering without it", self.network,
                  event.type)
        self._end_sasl()

    _on_sasltoolong = _on_saslaborted = _on_saslalready = _on_sasl_other

    def _on_nicknameinuse(self, event) -> None:
        if not self._registered.is_set():
            self.nick = self.nick + "_"
            self._conn.nick(self.nick)

    NICK_RETRY = (2.0, 15.0)  # seconds: the first try to take the configured nick back, then every

    async def _regain_nick(self) -> None:
        """Take the configured nick back when registration had to use another one: after a crash the
        server may not have dropped the old connection yet, and people write to the bot by its name."""
        delay = self.NICK_RETRY[0]
        while True:
            await asyncio.sleep(delay)
            if self._registered.is_set() and fold(self.nick) != fold(self.wanted_nick):
                self._send(f"NICK {clean(self.wanted_nick)}")
                delay = self.NICK_RETRY[1]
            else:
                delay = self.NICK_RETRY[0]

    def _on_welcome(self, event) -> None:
        self.nick = event.target or self.nick
        self._registered.set()
        if self.nickserv_password:
            self._send(f"PRIVMSG NickServ :IDENTIFY {self.nickserv_password}")
        for channel in self.channels:
            key = self.channel_keys.get(fold(channel))
            self._send(f"JOIN {clean(channel)}" + (f" {clean(key)}" if key else ""))

    def _join_failed(self, channel: str, code: str) -> None:
        """The server refused to let the bot join a channel: it is blind there. Logged, and the core tells
        the channel's moderators; the bot counts as ready without it, so the other rooms are watched."""
        name = self.by_fold.get(fold(channel))
        if name is None or fold(channel) in self.members:
            return
        self.blind[fold(channel)] = code
        log.error("%s: cannot join %s (%s): the bot is blind there", self.network, name, code)
        self._in.put_nowait(RoomUnavailable(self.network, self.clock(), room=name, code=code))
        self._check_ready()

    def _check_ready(self) -> None:
        if not self.ready.is_set() and all(fold(c) in self.members or fold(c) in self.blind for c in self.channels):
            self._in.put_nowait(_AllJoined(self.network, self.clock()))

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
        if irc.client.is_channel(event.target):
            self._on_pubmsg(event)
        else:
            self._on_privmsg(event)

    def _on_mode(self, event) -> None:
        channel = fold(event.target)
        if channel not in self.members:
            return
        for sign, mode, param in irc.modes.parse_channel_modes(" ".join(event.arguments)):
            if mode == "o" and param:
                ops = self.ops.setdefault(channel, set())
                (ops.add if sign == "+" else ops.discard)(fold(param))
                if sign == "+" and fold(param) == fold(self.nick):
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
            self.blind.pop(channel, None)
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
                            notice: bool = False) -> None:
        if fold(nick) == fold(self.nick):
            return  # never react to our own lines
        name = self.by_fold.get(fold(target))
        if name is not None:
            self._in.put_nowait(Message(self.network, self.clock(), room=name, sender=nick, text=text,
                                        authority=Authority(account=account), notice=notice))

    def _on_privmsg(self, event) -> None:
        self._remember(event)
        if fold(event.source.nick) == fold(self.nick) or fold(event.source.nick) in self.services:
            return  # ignore ourselves and the network's services (only those named, never "*serv")
        self._in.put_nowait(PrivateMessage(self.network, self.clock(), sender=event.source.nick,
                                           text=event.arguments[0]))

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
                    if isinstance(item, _AllJoined):
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


def create(net: NetworkSettings, *, store: AdapterStore, rooms: list[str], **options: Any) -> IrcAdapter:
    """Build the adapter from the config; secrets are read from the environment variables it names."""
    s = net.settings

    def secret(key: str) -> str | None:
        return os.environ.get(s[key]) if s.get(key) else None

    if s.get("sasl_password_env") and not secret("sasl_password_env"):
        raise RuntimeError(f"network {net.name}: set {s['sasl_password_env']} in the environment")
    adapter = IrcAdapter(
        net.name, s["host"], int(s.get("port", 6697 if s.get("tls") else 6667)), s["nick"], store=store,
        rooms=rooms, tls=bool(s.get("tls", False)), username=s.get("username"), realname=s.get("realname"),
        sasl_account=s.get("sasl_account"), sasl_password=secret("sasl_password_env"),
        nickserv_password=secret("nickserv_password_env"), flood_burst=float(s.get("flood_burst", 4)),
        flood_rate=float(s.get("flood_rate", 1.0)), max_ban_seconds=options.get("max_ban_seconds"),
        tls_ca_file=s.get("tls_ca_file"), clock=options.get("clock", time.time),
        op_wait=float(s.get("op_wait", 10.0)), services=list(s.get("services") or DEFAULT_SERVICES),
        channel_keys=options.get("channel_keys"))
    if s.get("sasl_password_env"):
        adapter.secret_hint = f"the password in ${s['sasl_password_env']}"
    return adapter
