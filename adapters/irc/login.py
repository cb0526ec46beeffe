"""Who the bot is on the network: the SASL login during registration, IDENTIFY only to a NickServ on the
configured services server (and its confirmation), and taking the configured nick back when registration
had to use another one. Part of ``IrcAdapter`` (uses its state).
"""

from __future__ import annotations

import asyncio
import base64
import logging

from gateway.core.events import BotNick

from adapters.contract import CredentialsRefused
from adapters.irc.lines import clean, fold

__all__ = ["IrcLogin"]

log = logging.getLogger("gateway.irc")


class IrcLogin:
    # -- SASL ------------------------------------------------------------------------------------

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

    # -- the bot's nick --------------------------------------------------------------------------

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
