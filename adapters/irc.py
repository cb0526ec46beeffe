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

from gateway.core.events import (
    BotNick,
    Event,
)

from adapters.contract import (
    ActionFailed,
    Adapter,
    AdapterStore,
    CredentialsRefused,
    EventSink,
    NetworkSettings,
)
from adapters.irc_actions import IrcActions
from adapters.irc_incoming import IrcIncoming
from adapters.irc_lines import (
    DEFAULT_SERVICES,
    FloodBudget,
    LineReactor,
    OutQueue,
    clean,
    fold,
    split_text,
)

__all__ = ["IrcAdapter", "FloodBudget", "clean", "split_text", "create", "fold"]  # (the last from irc_lines)

log = logging.getLogger("gateway.irc")
# The irc package logs every raw line, message text included, at DEBUG ("FROM SERVER: ..."): never let
# it, whatever the root level is.
logging.getLogger("irc").setLevel(logging.WARNING)

class IrcAdapter(IrcActions, IrcIncoming, Adapter):
    secures_rooms_itself = True  # sets +i on an open moderators' channel once it is operator there
    resends_are_deduplicated = True  # by counting, per message, the lines already written (see _confirmed)
    bounds_its_own_waits = True  # a confirmation wait starts when its PING is written (see _barrier)
    MAX_BATCH = 256  # queued lines handed to the runner at once (see _consumer)
    MAX_QUEUED = 20_000  # lines read but not handled yet: beyond this, stop reading (TCP pushes back)

    def __init__(self, network: str, host: str, port: int, nick: str, *, store: AdapterStore,
                 rooms: list[str], tls: bool = False, username: str | None = None,
                 realname: str | None = None, sasl_account: str | None = None,
                 sasl_password: str | None = None, nickserv_password: str | None = None,
                 flood_burst: float = 4, flood_rate: float = 1.0, clock=time.time,
                 action_wait: float = 20.0, max_ban_seconds: int | None = None,
                 tls_ca_file: str | None = None, op_wait: float = 10.0, services: list[str] | None = None,
                 channel_keys: dict[str, str] | None = None, sasl_wait: float = 10.0,
                 services_server: str | None = None):
        self.network, self.host, self.port, self.tls = network, host, port, tls
        self.tls_ca_file = tls_ca_file  # a private CA for a self-hosted server; certificates are verified
        self.nick = self.wanted_nick = nick
        self.username, self.realname = username or nick, realname or "safeguarding gateway bot"
        self.sasl_account, self.sasl_password = sasl_account, sasl_password
        self.nickserv_password = nickserv_password
        # The network's services server (as WHOIS NickServ shows it): IDENTIFY, which carries the
        # password, goes only to a NickServ on it, never to whoever holds the nick NickServ.
        self.services_server = services_server
        self._nickserv_check = False  # a WHOIS NickServ is out, to verify it before IDENTIFY
        self.nickserv_verified = False  # this connection's NickServ is on the services server
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
        # after IDENTIFY: services confirm the login with 900 (RPL_LOGGEDIN); none in time means a wrong
        # password (or services that never say), told in the log instead of running unidentified unnoticed
        self._identify_timer: asyncio.TimerHandle | None = None
        self.services_login: str | None = None  # None (not tried), "waiting", "confirmed", "unconfirmed"
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
        self.moderators_rooms = {}  # set by the service: what each moderators' channel must be
        self.chanmodes: dict[str, set[str]] = {}  # folded channel -> its mode letters (324, MODE)
        self._modes_known: dict[str, asyncio.Event] = {}
        self._securing: set[str] = set()  # folded channels the bot sent +i for
        self.own_mask: str | None = None  # *!*user@host of the bot as the server shows it (for +I)
        self._asked_invite: set[str] = set()  # folded channels ChanServ was asked for an invite (this connection)
        self._exposure_told: dict[str, float] = {}  # folded channel -> when it was told alerts are held
        self._ids = itertools.count(1)
        self._waits: dict[str, tuple[asyncio.Future, set[str], dict[str, str]]] = {}
        self._whois: dict[str, asyncio.Future] = {}
        self._out: OutQueue | None = None
        self._written: dict[str, asyncio.Event] = {}  # PING token -> set once that PING was written
        self._generation = 0  # the connection lines are queued for (see OutLine)
        self._in: asyncio.Queue[Event] | None = None  # events read, in order, for the consumer
        self._conn: Any = None
        self._connected = asyncio.Event()
        self._registered = asyncio.Event()
        self.connections = 0  # successful registrations: all but the first are reconnects
        self._stopping = False
        self._refused: CredentialsRefused | None = None  # the server refused the bot's login: stop
        self.secret_hint = "the SASL password"  # where the secret comes from, for a refusal
        self.nickserv_hint = "the NickServ password"
        self._tasks: list[asyncio.Task] = []
        self._unbans: set[asyncio.Task] = set()
        # folded old nick -> (new nick, when): people who changed nick recently, so that the private
        # message and the KICK of their case follow them (forgotten when someone else takes the old nick)
        self.renamed: dict[str, tuple[str, float]] = {}
        self._reading_paused = False
        self.backpressure_pauses = 0
        self.dropped_replies = 0

    # -- sending --------------------------------------------------------------------------------

    # Outgoing lines wait in one queue inside the flood budget, protective ones first: a crisis message,
    # a removal or a moderators' alert must never queue behind replies to a flood of commands (15
    # "!status" lines once delayed a crisis message by 27 s); replies still get a share, so none starves
    # behind a flood of crisis messages (irc_lines.OutQueue). Within a lane, lines keep their order. An
    # action's confirmation wait starts when its PING is written, so queueing never makes it "time out".

    STALE_REPLY = 120.0  # seconds a reply may wait for the flood budget before it is dropped









    # -- actions --------------------------------------------------------------------------------














    # -- connection -----------------------------------------------------------------------------

    async def run(self, runner: EventSink) -> None:
        loop = asyncio.get_running_loop()
        self._out, self._in = OutQueue(), asyncio.Queue()
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
        self.chanmodes.clear()
        self._securing.clear()
        self._asked_invite.clear()
        self.caps, self._offered = set(), set()
        reactor = LineReactor(loop=loop)
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

    def health(self) -> dict:
        return {"ready": self.ready.is_set() and self._registered.is_set(),
                "reconnects": max(self.connections - 1, 0)}

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



    def _on_disconnect(self, event) -> None:
        self._generation += 1  # what was queued for this connection is not written on the next one
        self._registered.clear()
        self._connected.clear()
        self.members.clear()  # stale operator status must never authorise anyone
        self.ops.clear()
        self.chanmodes.clear()  # and stale modes must never let an alert into an open channel
        for known in self._modes_known.values():
            known.clear()
        self._securing.clear()
        self.accounts.clear()
        self.caps.clear()
        if self._sasl_timer is not None:
            self._sasl_timer.cancel()
            self._sasl_timer = None
        self._stop_identify_timer()
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
            f"network {self.network}: {self.host}:{self.port} refused the SASL login of account "
            f"{self.sasl_account} (904): check {self.secret_hint} and sasl_account")
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

    @property
    def has_services_login(self) -> bool:
        """The bot logs in to services (SASL, or IDENTIFY to a verified NickServ), so services can free
        its registered nick from whoever holds it (GHOST)."""
        return bool(self.sasl_account and self.sasl_password) or bool(self.nickserv_password and self.services_server)

    async def _regain_nick(self) -> None:
        """Take the configured nick back when registration had to use another one: after a crash the
        server may not have dropped the old connection yet, or someone took the nick, and people write to
        the bot by its name. With a services login, NickServ RECOVER (or GHOST) frees the nick first (to the verified
        services server where one is configured); the moderators are told while it lasts (``BotNick``)."""
        delay = self.NICK_RETRY[0]
        while True:
            await asyncio.sleep(delay)
            if self._registered.is_set() and fold(self.nick) != fold(self.wanted_nick):
                self._nick_status()
                if self.has_services_login:
                    target = f"NickServ@{self.services_server}" if self.services_server else "NickServ"
                    for verb in ("RECOVER", "GHOST"):  # Anope 2; Atheme (and Anope set up like 1.8)
                        self._send(f"PRIVMSG {target} :{verb} {clean(self.wanted_nick)}")
                    await asyncio.sleep(1.0)  # services act on it before the NICK arrives
                self._send(f"NICK {clean(self.wanted_nick)}")
                delay = self.NICK_RETRY[1]
            else:
                delay = self.NICK_RETRY[0]

    def _nick_status(self) -> None:
        """Tell the core whether the bot has its configured nick (the engine tells the moderators)."""
        if self._in is not None:
            self._in.put_nowait(BotNick(self.network, self.clock(), wanted=self.wanted_nick, current=self.nick,
                                        reclaiming="services" if self.has_services_login else "retry"))

    def _on_welcome(self, event) -> None:
        self.nick = event.target or self.nick
        self._registered.set()
        self.connections += 1
        if self.nickserv_password:
            self._verify_nickserv()
        if fold(self.nick) != fold(self.wanted_nick):  # (the moderators are told from _regain_nick)
            log.warning("%s: the nick %s is taken: running as %s until it is free", self.network,
                        self.wanted_nick, self.nick)
        for channel in self.channels:
            key = self.channel_keys.get(fold(channel))
            self._send(f"JOIN {clean(channel)}" + (f" {clean(key)}" if key else ""))

    # -- NickServ: the password only ever goes to the real service --------------------------------

    def _verify_nickserv(self) -> None:
        """``IDENTIFY <password>`` is sent only to a NickServ that WHOIS places on the configured
        services server (someone can hold the nick NickServ where services are down or absent), and then
        addressed as ``NickServ@server``, which servers deliver only to a client on that server."""
        if not self.services_server:
            log.error("%s: no services_server configured: the NickServ password is never sent (use SASL)",
                      self.network)
            return
        self._nickserv_check = True
        self.nickserv_verified = False
        self._send("WHOIS NickServ")

    def _on_whoisserver(self, event) -> None:
        """312: nick, server, server info."""
        args = event.arguments
        if not self._nickserv_check or len(args) < 2 or fold(args[0]) != fold("NickServ"):
            return
        self._nickserv_check = False
        if args[1].lower() != (self.services_server or "").lower():
            log.error("%s: the nick NickServ is held by a client on %s, not on the services server %s: the "
                      "password was NOT sent (someone else may hold the nick NickServ)", self.network, args[1],
                      self.services_server)
            return
        self.nickserv_verified = True
        self._identify(f"NickServ@{self.services_server}")

    IDENTIFY_CONFIRM_WITHIN = 30.0  # seconds for services to confirm an IDENTIFY (900) before the log says so

    def _identify(self, target: str) -> None:
        self._send(f"PRIVMSG {target} :IDENTIFY {self.nickserv_password}")
        self._stop_identify_timer()
        self.services_login = "waiting"
        self._identify_timer = asyncio.get_running_loop().call_later(self.IDENTIFY_CONFIRM_WITHIN,
                                                                     self._identify_unconfirmed)

    def _stop_identify_timer(self) -> None:
        if self._identify_timer is not None:
            self._identify_timer.cancel()
            self._identify_timer = None

    def _identify_unconfirmed(self) -> None:
        self._identify_timer = None
        self.services_login = "unconfirmed"
        log.error("%s: NickServ did not confirm the login within %.0f s (no 900 RPL_LOGGEDIN): the password may "
                  "be wrong; check %s (the bot runs without its services account: no nick protection, no "
                  "services-granted rights)", self.network, self.IDENTIFY_CONFIRM_WITHIN, self.nickserv_hint)

    def _on_loggedin(self, event) -> None:
        """900: services logged the bot in to an account (after SASL or IDENTIFY)."""
        if self.services_login == "waiting":
            log.info("%s: NickServ confirmed the login", self.network)
        self._stop_identify_timer()
        self.services_login = "confirmed"

    def _on_nosuchnick(self, event) -> None:
        target = (event.arguments or [""])[0]
        if fold(target) == fold("NickServ") and self._nickserv_check:
            self._nickserv_check = False
            log.error("%s: there is no NickServ on the network now (services down?): not identified",
                      self.network)
        elif self.nickserv_verified and fold(target) == fold(f"NickServ@{self.services_server}"):
            # a server without nick@server targets; WHOIS just placed NickServ on the services server
            self.nickserv_verified = False
            self._identify("NickServ")




























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
        channel_keys=options.get("channel_keys"), services_server=s.get("services_server"))
    if s.get("sasl_password_env"):
        adapter.secret_hint = f"the password in ${s['sasl_password_env']}"
    if s.get("nickserv_password_env"):
        adapter.nickserv_hint = f"the password in ${s['nickserv_password_env']}"
    return adapter
