"""Connecting and staying connected: TCP or TLS, CAP negotiation before NICK/USER, registration and
the joins after it, reconnects with exponential backoff, what a disconnect forgets, and reading paused
while the runner is far behind. Part of ``IrcAdapter`` (uses its state).
"""

from __future__ import annotations

import asyncio
import logging
import ssl

import irc.client
import irc.connection

from adapters.contract import ActionFailed, EventSink
from adapters.irc.lines import LineReactor, OutQueue, clean, fold

__all__ = ["IrcConnection"]

log = logging.getLogger("gateway.irc")


class IrcConnection:
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

    def _resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            transport = getattr(self._conn, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.resume_reading()
