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
import itertools
import logging
import os
import time
from typing import Any

from gateway.core.events import Event

from adapters.contract import Adapter, AdapterStore, CredentialsRefused, NetworkSettings
from adapters.irc.actions import IrcActions
from adapters.irc.connection import IrcConnection
from adapters.irc.incoming import IrcIncoming
from adapters.irc.lines import DEFAULT_SERVICES, FloodBudget, OutQueue, fold
from adapters.irc.login import IrcLogin
from adapters.irc.members import IrcMembers
from adapters.irc.sending import IrcSending

__all__ = ["IrcAdapter", "create"]

# The irc package logs every raw line, message text included, at DEBUG ("FROM SERVER: ..."): never let
# it, whatever the root level is.
logging.getLogger("irc").setLevel(logging.WARNING)


class IrcAdapter(IrcConnection, IrcLogin, IrcIncoming, IrcMembers, IrcActions, IrcSending, Adapter):
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

    def _key(self, room: str) -> str:
        return f"irc:{self.network}:{fold(room)}:guidelines"


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
