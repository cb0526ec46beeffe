"""The Matrix adapter (matrix-nio ``AsyncClient``).

Translates sync responses into core events and executes core actions with client-server calls.
Decisions stay in the core; this module only knows Matrix:

- The sync token is saved in the gateway's database after each batch is handled, so a restart never
  handles a message twice; on the very first start, history from before it started is skipped.
- Crisis messages and moderator alerts are ``m.text``: the default push rule ``.m.rule.suppress_notices``
  silences ``m.notice``, and these must reach a person. Guidelines and command replies are notices.
- Direct rooms are created with ``is_direct`` and recorded in the ``m.direct`` account data (nio has
  no setter: a raw request) so clients show them as DMs; they are reused next time.
- Pins: ``m.room.pinned_events`` is read, the bot's own old pin swapped, everyone else's kept.
- Moderators are decided by the core from the sender's power level in that room (nio's
  ``has_permission`` is not used: it is broken, nio #324). From room version 12 on, room creators
  outrank every power level and are not listed in ``users``; nio does not know this, so creators are
  read from ``m.room.create`` here.
- End-to-end encryption (``adapters/matrix_crypto.py``): with ``encryption`` on (the default), messages
  in encrypted rooms are decrypted before they reach the core, and everything the bot sends to an
  encrypted room (private messages, alerts, guidelines) is encrypted. Direct rooms it creates are
  encrypted from their first state event. A message it cannot decrypt yet becomes ``Undecryptable``
  for the core (counted, reported) and is handed on if its key arrives.
- Rate limits: ``M_LIMIT_EXCEEDED`` is retried at most ``max_limit_exceeded`` times (nio's default is
  forever), waiting as long as the ``Retry-After`` header says (nio reads only the deprecated
  ``retry_after_ms`` body field), capped at ``MAX_RETRY_AFTER_S``; sync errors back off exponentially.
"""

from __future__ import annotations

import asyncio
import html.parser
import json
import logging
import os
import time
import urllib.parse
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    JoinError,
    LocalProtocolError,
    LoginError,
    MegolmEvent,
    MessageDirection,
    OlmTrustError,
    RoomCreateError,
    RoomGetEventError,
    RoomGetStateEventError,
    RoomMessagesResponse,
    RoomPreset,
    RoomResolveAliasError,
    SyncError,
    WhoamiError,
)

from gateway.core.events import (
    Authority,
    Join,
    Leave,
    Message,
    PrivateMessage,
    Reaction,
    RoomReady,
    Undecryptable,
    guidelines_digest,
)
from gateway.files import private_dir
from gateway.failpoints import failpoint
from gateway.core.quotes import pasted_names

from adapters.contract import (
    EXPOSURES,
    ActionFailed,
    AdapterStore,
    Adapter,
    CredentialsRefused,
    EventSink,
    NetworkSettings,
    ResendKey,
)
from adapters.matrix_crypto import Crypto, CryptoSettings, Session

__all__ = ["MatrixAdapter", "create", "crypto_settings", "message_text"]

log = logging.getLogger("gateway.matrix")

# Login answers that retrying cannot change: the operator must fix the user id, password or token.
_REFUSED = {"M_FORBIDDEN", "M_INVALID_USERNAME", "M_USER_DEACTIVATED", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN",
            "M_UNAUTHORIZED", "401", "403"}


async def _json_body(resp: aiohttp.ClientResponse) -> dict:
    """A homeserver answer's JSON object, or ``{}`` (the response is read and released either way)."""
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return {}
    finally:
        resp.release()
    return body if isinstance(body, dict) else {}


class _TryAgain(Exception):
    """A start-up answer worth retrying (rate limit, server error)."""


def describe(exc: BaseException) -> str:
    """One line for a transport failure, saying what to check."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate was not accepted (check the certificate, or the host name in the URL)"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "the TLS handshake failed (is the URL https on a port that speaks TLS?)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or type(exc.os_error).__name__})"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "no answer in time"
    if isinstance(exc, _TryAgain):
        return str(exc)
    return type(exc).__name__
# nio logs response bodies (message text included) at DEBUG: never let it, whatever the root level is.
logging.getLogger("nio").setLevel(logging.WARNING)
# peewee (nio's crypto store) logs every SQL statement with its parameters at DEBUG: pickled keys.
logging.getLogger("peewee").setLevel(logging.WARNING)
# nio's crypto logs routine key traffic as warnings ("Missing session for device ..."); the adapter
# reports what matters (an undecryptable message, a failed key exchange) in its own words.
logging.getLogger("nio.crypto").setLevel(logging.ERROR)


class _TextOnly(html.parser.HTMLParser):
    """The text of ``formatted_body`` that is the sender's own: a reply's ``<mx-reply>`` (the quoted
    message it answers) and ``<blockquote>`` (quoted words) are someone else's and are left out."""

    QUOTING = frozenset({"mx-reply", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quoting = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.QUOTING:
            self.quoting += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.QUOTING and self.quoting:
            self.quoting -= 1

    def handle_data(self, data: str) -> None:
        if not self.quoting:
            self.parts.append(data)


def strip_reply_fallback(body: str) -> str:
    """A reply's ``body`` without its fallback: the leading ``> `` lines quoting the message it answers,
    and the blank line after them (client-server spec, "Fallbacks for rich replies")."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i and i < len(lines) and lines[i] == "":
        i += 1
    return "\n".join(lines[i:])


def message_text(content: Any) -> str | None:
    """The text to scan in a message: ``body`` and the text of ``formatted_body`` (spoilers hide text
    in HTML that a plain ``body`` may not carry); for an edit, its ``m.new_content``. A reply's fallback
    (the quoted message it answers) is left out: those are someone else's words. ``None`` if the event
    carries no text at all."""
    if not isinstance(content, dict):
        return None
    if isinstance(content.get("m.new_content"), dict):
        return message_text(content["m.new_content"])
    parts = []
    body = content.get("body")
    relates = content.get("m.relates_to")
    if isinstance(body, str) and isinstance(relates, dict) and isinstance(relates.get("m.in_reply_to"), dict):
        body = strip_reply_fallback(body)
    if isinstance(body, str) and body:
        parts.append(body)
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and formatted:
        parser = _TextOnly()
        try:
            parser.feed(formatted)
            parser.close()
        except Exception:  # malformed HTML: keep what was parsed
            pass
        text = "".join(parser.parts)
        if text and text != body:
            parts.append(text)
    return "\n".join(parts) if parts else None


MAX_RETRY_AFTER_S = 30.0  # a crisis message must not wait an hour because a server said so


def retry_after_ms(headers: Any, body_ms: int | None) -> int:
    """How long to wait after a 429: the Retry-After header (seconds), else the body, else 5 s; capped."""
    value = None
    raw = headers.get("Retry-After") if headers is not None else None
    if raw is not None:
        try:
            value = float(raw) * 1000
        except ValueError:
            value = None  # an HTTP date: fall back to the body
    if value is None:
        value = body_ms or 5000
    return int(min(max(value, 0), MAX_RETRY_AFTER_S * 1000))


# What the gateway reads from /sync: room timelines and state. Presence, typing, receipts and account
# data are left out, so the homeserver builds (and the gateway parses) less for each message. A room
# whose timeline has more new events than ``limit`` comes back "limited" (only the latest): the rest
# is fetched with /messages (``MatrixAdapter._fill_gaps``), so a flood never hides a message.
SYNC_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {"ephemeral": {"not_types": ["*"]}, "account_data": {"not_types": ["*"]},
             "timeline": {"limit": 100}},
}
GAP_EVENTS = 5000  # at most this many earlier events fetched for one room's limited timeline


class _Client(AsyncClient):
    async def create_matrix_response(self, response_class, transport_response, data=None, save_to=None):
        resp = await super().create_matrix_response(response_class, transport_response, data, save_to)
        if getattr(transport_response, "status", None) == 429 or getattr(resp, "status_code", None) == "M_LIMIT_EXCEEDED":
            resp.retry_after_ms = retry_after_ms(transport_response.headers, getattr(resp, "retry_after_ms", None))
        return resp


# Room versions whose creators have no special power (before MSC4289, room version 12).
_LEGACY_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
CREATOR_LEVEL = 2**53  # "infinite": above any power level a room can set


def _fail(resp: Any) -> ActionFailed:
    code = getattr(resp, "status_code", None) or "M_UNKNOWN"
    return ActionFailed(str(code), definitive=code not in ("M_LIMIT_EXCEEDED", "M_UNKNOWN"))


class MatrixAdapter(Adapter):
    resends_are_deduplicated = True  # by transaction id, on the homeserver
    def __init__(self, network: str, homeserver: str, user_id: str, *, store: AdapterStore,
                 rooms: list[str], password: str | None = None, access_token: str | None = None,
                 device_id: str | None = None, clock=time.time, max_limit_exceeded: int = 5,
                 sync_timeout_ms: int = 30_000, crypto: CryptoSettings | None = None):
        if not (password or access_token):
            raise ValueError(f"network {network}: a password or an access token is needed")
        self.network = network
        self.user_id = user_id
        self.store = store
        self.configured = list(dict.fromkeys(rooms))
        self.password, self.access_token = password, access_token
        self.secret_hint = "the password or access token"  # where the secret comes from, for a refusal
        self.clock = clock
        self.sync_timeout_ms = sync_timeout_ms
        self.crypto = Crypto(crypto, network) if crypto is not None else None
        e2e = {}
        if crypto is not None:
            from nio.store import SqliteStore

            e2e = {"store": SqliteStore, "pickle_key": crypto.pickle_key}
        config = AsyncClientConfig(max_limit_exceeded=max_limit_exceeded, max_timeouts=2,
                                   request_timeout=30, store_sync_tokens=False,
                                   encryption_enabled=crypto is not None, **e2e)
        self.configured_device = device_id
        self.client = _Client(homeserver, user_id, device_id=device_id or store.get(self._key("device")),
                              config=config, store_path=str(crypto.store) if crypto is not None else "")
        self.room_ids: dict[str, str] = {}  # configured name (id or alias) -> room id
        self.names: dict[str, str] = {}  # room id -> configured name
        self.creators: dict[str, frozenset[str]] = {}  # room id -> creators with unlimited power
        self.wanted: dict[str, str] = {}  # room id -> configured name, for rooms not joined yet
        self.direct: dict[str, list[str]] = {}  # m.direct account data: user -> [room ids]
        self._created: set[str] = set()  # DM rooms created this run (nio learns of them at next sync)
        self._direct_lock = asyncio.Lock()  # one m.direct write at a time, each with the latest map
        self.ready = asyncio.Event()
        self._stopping = False
        self.last_sync: float | None = None  # time.monotonic() of the last successful sync
        self.moderators_rooms = {}
        self._exposure_told: dict[str, float] = {}  # moderators' room -> when the room was last told

    def _key(self, what: str) -> str:
        return f"matrix:{self.network}:{what}"

    # -- start-up -------------------------------------------------------------------------------

    async def login(self) -> None:
        if self.crypto is not None:
            await self._login_with_device()
            return
        c = self.client
        if self.access_token:
            c.access_token = self.access_token
            who = await c.whoami()
            if isinstance(who, WhoamiError):
                if who.status_code in _REFUSED:
                    raise self._refused("token", who.status_code)
                raise _TryAgain(f"the homeserver answered {who.status_code}")
            c.user_id, c.device_id = who.user_id, who.device_id or c.device_id
        else:  # (the password is tried at every start here: a wrong one is found at once)
            resp = await c.login(password=self.password, device_name="safeguarding-gateway")
            if isinstance(resp, LoginError):
                if resp.status_code in _REFUSED:
                    raise self._refused("password", resp.status_code)
                raise _TryAgain(f"the homeserver answered {resp.status_code}")
        if c.device_id:
            self._remember("device", c.device_id)

    async def _whoami(self, token: str) -> Any:
        self.client.access_token = token
        return await self.client.whoami()

    def _refused(self, what: str, code: str) -> CredentialsRefused:
        """The one line ``gateway run`` ends with: which account, which homeserver, where the secret is."""
        if what == "token":
            return CredentialsRefused(f"network {self.network}: {self.client.homeserver} refused the access "
                                      f"token of {self.user_id} ({code}): check {self.secret_hint}")
        return CredentialsRefused(f"network {self.network}: {self.client.homeserver} refused the login of "
                                  f"{self.user_id} ({code}): check {self.secret_hint} and user_id")

    async def _login_with_device(self) -> None:
        """Log in as the bot's one device, whose keys the crypto store holds: the configured access token
        (its device), else the device saved by the last run (its token, or the password again for the
        same device id), else the password once more as a new device, saved for next time."""
        c, crypto = self.client, self.crypto
        assert crypto is not None
        if self.access_token:
            who = await self._whoami(self.access_token)
            if isinstance(who, WhoamiError):
                if who.status_code in _REFUSED:
                    raise self._refused("token", who.status_code)
                raise _TryAgain(f"the homeserver answered {who.status_code}")
            if not who.device_id:
                raise CredentialsRefused(f"network {self.network}: the access token has no device, so it "
                                         f"cannot hold encryption keys: create a token by logging in")
            session = Session(who.user_id, who.device_id, self.access_token)
        else:
            session = crypto.saved_session(self.user_id)
            if session is not None:
                who = await self._whoami(session.access_token)
                if isinstance(who, WhoamiError):
                    if who.status_code not in _REFUSED:
                        raise _TryAgain(f"the homeserver answered {who.status_code}")
                    session = await self._password_login(session.device_id)  # token revoked: same device
                elif self.password:
                    await self._check_password()
            else:
                wanted = self.configured_device
                session = await self._password_login(wanted if wanted and crypto.has_store(self.user_id, wanted)
                                                     else None)
            crypto.save_session(session)
        try:
            c.restore_login(session.user_id, session.device_id, session.access_token)
        except Exception as exc:  # vodozemac: the store cannot be unpickled with this key
            raise CredentialsRefused(f"network {self.network}: the crypto store in {crypto.directory} cannot "
                                     f"be opened ({type(exc).__name__}): is the pickle key the one it was "
                                     f"created with?") from None
        crypto.secure()
        self._remember("device", session.device_id)
        log.info("%s: signed in as device %s (encryption on, store %s)", self.network, session.device_id,
                 crypto.directory)
        await crypto.housekeeping(c)

    async def _check_password(self) -> None:
        """The saved device's token still works, so the password was not needed, but a wrong one would
        only show when that token is revoked, perhaps months later, when the bot can no longer log in.
        So it is tried now, as a login of its own (a raw request: nio's login would take the new device
        as the client's own and open a crypto store for it), and that device is logged out again at
        once. The bot's device, its keys and its token stay as they were, and nothing is left behind. (A
        login on the bot's own device id instead would leave one more valid token at every start:
        Synapse does not revoke a device's older tokens then, and logging one out deletes the device.)"""
        method, path, data = Api.login(self.user_id, password=self.password,
                                       device_name="safeguarding-gateway (password check)")
        resp = await self.client.send(method, path, data, headers={"Content-Type": "application/json"})
        body = await _json_body(resp)
        if resp.status != 200 or not isinstance(body.get("access_token"), str):
            code = body.get("errcode") or str(resp.status)
            if code in _REFUSED:
                raise self._refused("password", code)
            # Homeservers limit logins (Synapse: a burst of 5, then one per 5.5 minutes), and a restart
            # loop would spend them: the saved token works, so protection never waits for this check.
            log.warning("%s: the password could not be checked now (%s); it is checked again at the next "
                        "start", self.network, code)
            return
        out = await self.client.send("POST", "/_matrix/client/v3/logout", "{}",
                                     headers={"Authorization": f"Bearer {body['access_token']}",
                                              "Content-Type": "application/json"})
        await _json_body(out)
        if out.status != 200:
            log.warning("%s: the password is right, but the device %s that checked it could not be logged out "
                        "(%s): remove it in a Matrix client's session list", self.network, body.get("device_id"),
                        out.status)

    async def _password_login(self, device_id: str | None) -> Session:
        c = self.client
        c.device_id = device_id
        resp = await c.login(password=self.password, device_name="safeguarding-gateway")
        if isinstance(resp, LoginError):
            if resp.status_code in _REFUSED:
                raise self._refused("password", resp.status_code)
            raise _TryAgain(f"the homeserver answered {resp.status_code}")
        return Session(resp.user_id, resp.device_id, resp.access_token)

    async def start_up(self) -> None:
        """Log in, join the rooms and read the direct-chat list, retrying with backoff while the homeserver
        cannot be reached or is overloaded; refused credentials end it (retrying cannot fix them)."""
        backoff = 1.0
        while True:
            try:
                await self.login()
                await self.join_rooms()
                await self.load_direct()
                return
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, _TryAgain) as exc:
                log.warning("%s: cannot start on %s: %s; check the homeserver URL and that it is up; "
                            "retrying in %.0f s", self.network, self.client.homeserver, describe(exc), backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)

    def _remember(self, what: str, value: str) -> None:
        """Save adapter state; a failing database must never stop the adapter (it is reported)."""
        try:
            self.store.set(self._key(what), value)
        except Exception as exc:
            log.error("%s: could not save %s (%s)", self.network, what, type(exc).__name__)

    async def join_rooms(self) -> None:
        """Join every configured room we can; the others wait for an invite (see ``_handle``)."""
        for name in self.configured:
            if name not in self.room_ids:
                await self._join(name)

    async def _join(self, name: str, room_id: str | None = None) -> bool:
        if room_id is None:
            room_id = name
            if name.startswith("#"):
                resolved = await self.client.room_resolve_alias(name)
                if isinstance(resolved, RoomResolveAliasError):
                    log.warning("%s: cannot resolve %s yet (%s)", self.network, name, resolved.status_code)
                    return False
                room_id = resolved.room_id
        self.wanted[room_id] = name
        joined = await self.client.join(room_id)
        if isinstance(joined, JoinError):
            log.warning("%s: cannot join %s yet (%s); waiting for an invite", self.network, name,
                        joined.status_code)
            return False
        self.room_ids[name] = joined.room_id
        self.names[joined.room_id] = name
        self.creators[joined.room_id] = await self._creators(joined.room_id)
        return True

    async def _creators(self, room_id: str) -> frozenset[str]:
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/state"
        resp = await self.client.send("GET", path, headers=self._auth())
        if resp.status != 200:
            return frozenset()
        for ev in await resp.json():
            if ev.get("type") == "m.room.create" and ev.get("state_key") == "":
                content = ev.get("content") or {}
                if str(content.get("room_version", "1")) in _LEGACY_ROOM_VERSIONS:
                    return frozenset()
                extra = content.get("additional_creators") or []
                return frozenset([ev.get("sender"), *[u for u in extra if isinstance(u, str)]])
        return frozenset()

    def power_level(self, room_id: str, user: str) -> int:
        if user in self.creators.get(room_id, ()):
            return CREATOR_LEVEL
        room = self.client.rooms.get(room_id)
        return room.power_levels.get_user_level(user) if room is not None else 0

    async def load_direct(self) -> None:
        path = f"/_matrix/client/v3/user/{urllib.parse.quote(self.user_id)}/account_data/m.direct"
        resp = await self.client.send("GET", path, headers=self._auth())
        if resp.status == 200:
            data = await resp.json()
            self.direct = {u: list(r) for u, r in data.items() if isinstance(r, list)}

    async def _save_direct(self) -> None:
        path = f"/_matrix/client/v3/user/{urllib.parse.quote(self.user_id)}/account_data/m.direct"
        async with self._direct_lock:  # the map as it is now: a write never replaces a newer one
            try:
                resp = await self.client.send("PUT", path, json.dumps(self.direct), headers=self._auth())
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                log.warning("%s: could not record m.direct (%s)", self.network, type(exc).__name__)
                return
        if resp.status != 200:
            log.warning("%s: could not record m.direct (HTTP %s)", self.network, resp.status)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.client.access_token}", "Content-Type": "application/json"}

    async def pinned_guidelines(self, room_id: str) -> tuple[str | None, str | None]:
        """(digest, event id) of the guidelines the bot pinned earlier in ``room_id``, if any."""
        state = await self.client.room_get_state_event(room_id, "m.room.pinned_events")
        if isinstance(state, RoomGetStateEventError):
            return None, None
        for event_id in reversed(state.content.get("pinned") or []):
            got = await self.client.room_get_event(room_id, event_id)
            if isinstance(got, RoomGetEventError):
                continue
            src = got.event.source
            body = (src.get("content") or {}).get("body")
            if src.get("sender") == self.user_id and isinstance(body, str):
                return guidelines_digest(body), event_id
        return None, None

    # -- the loop -------------------------------------------------------------------------------

    async def run(self, runner: EventSink) -> None:
        """Log in, join, announce ready rooms, then sync and hand every event to ``runner``."""
        await self.start_up()
        since = self.store.get(self._key("sync"))
        first = await self._sync(timeout=0, full_state=True, since=since)
        backoff = 1.0
        while isinstance(first, SyncError) or first is None:
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            first = await self._sync(timeout=0, full_state=True, since=since)
        for name, room_id in self.room_ids.items():
            digest, ref = await self.pinned_guidelines(room_id)
            await runner.handle(RoomReady(self.network, self.clock(), room=name, pinned_digest=digest,
                                          pinned_ref=ref))
        await self._after_sync()
        if since is not None:
            await self._fill_gaps(first, since)
            await self._handle(first, runner)  # what arrived while the gateway was away
        self._remember("sync", first.next_batch)
        self.last_sync = time.monotonic()
        self.ready.set()
        backoff = 1.0
        while not self._stopping:
            since = self.client.next_batch
            resp = await self._sync(timeout=self.sync_timeout_ms, since=since)
            if isinstance(resp, SyncError) or resp is None:
                log.warning("%s: sync failed (%s); retrying in %.0f s", self.network,
                            getattr(resp, "status_code", "no connection"), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            self.last_sync = time.monotonic()
            await self._after_sync()
            await self._fill_gaps(resp, since)
            await self._handle(resp, runner)
            self._remember("sync", resp.next_batch)

    async def _fill_gaps(self, resp: Any, since: str | None) -> None:
        """A room's timeline came back "limited": more happened since ``since`` than the sync carries (a
        raid, a flood, a restart). The events in between are fetched with /messages and put before the
        sync's own, in order, so none of them is skipped in silence."""
        if since is None:
            return
        for room_id, info in resp.rooms.join.items():
            timeline = info.timeline
            if not getattr(timeline, "limited", False) or not timeline.prev_batch:
                continue
            if room_id not in self.names and not self._is_direct_room(room_id):
                continue
            older: list[Any] = []
            start = timeline.prev_batch
            while len(older) < GAP_EVENTS:
                try:
                    got = await self.client.room_messages(room_id, start=start, end=since,
                                                          direction=MessageDirection.back, limit=100)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    got = None
                if not isinstance(got, RoomMessagesResponse):
                    log.warning("%s: could not fetch the earlier events of a limited sync in %s (%s)",
                                self.network, self.names.get(room_id, "a direct room"),
                                getattr(got, "status_code", "no connection"))
                    break
                older.extend(got.chunk)
                if not got.chunk or not got.end or got.end == start:
                    break
                start = got.end
            if len(older) >= GAP_EVENTS:
                log.warning("%s: %d earlier events fetched in %s; older ones were not read", self.network,
                            len(older), self.names.get(room_id, "a direct room"))
            timeline.events[:0] = list(reversed(older))

    async def _sync(self, **kwargs):
        """One sync; ``None`` when the homeserver cannot be reached (nio raises then), so the loop backs
        off and carries on from its token instead of ending."""
        try:
            return await self.client.sync(sync_filter=SYNC_FILTER, set_presence="offline", **kwargs)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.warning("%s: homeserver unreachable (%s)", self.network, type(exc).__name__)
            return None

    def health(self) -> dict:
        """Ready while syncs succeed: a sync waits up to ``sync_timeout_ms`` for news, so one older than
        that plus a minute means the homeserver is not answering."""
        lag = None if self.last_sync is None else time.monotonic() - self.last_sync
        ready = self.ready.is_set() and lag is not None and lag < self.sync_timeout_ms / 1000 + 60
        return {"ready": ready, "sync_lag_seconds": lag,
                "encryption": self.crypto is not None,
                "undecryptable_waiting": self.crypto.waiting() if self.crypto is not None else 0}

    async def _after_sync(self) -> None:
        """Key housekeeping; a failure here is logged and retried after the next sync."""
        if self.crypto is None:
            return
        try:
            await self.crypto.housekeeping(self.client)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, LocalProtocolError) as exc:
            log.warning("%s: key exchange failed (%s); retrying after the next sync", self.network,
                        type(exc).__name__)

    async def stop(self) -> None:
        self._stopping = True
        await self.client.close()
        if self.client.store is not None:
            self.client.store.database.close()

    def rooms_of(self, user: str) -> tuple[str, ...]:
        """The configured rooms ``user`` is a joined member of, by the room state the server sent: which
        community a private message belongs to (``PrivateMessage.rooms``)."""
        out = []
        for room_id, name in self.names.items():
            room = self.client.rooms.get(room_id)
            member = room.users.get(user) if room is not None else None
            if member is not None and not member.invited:
                out.append(name)
        return tuple(out)

    def _present(self, room_id: str, text: str) -> frozenset[str]:
        """Of the ``<name>`` that open lines of ``text``, those naming a member of the room (by display
        name or user id localpart): only those lines are quotes (gateway/core/quotes.py)."""
        room = self.client.rooms.get(room_id)
        if room is None:
            return frozenset()
        found = set()
        for name in pasted_names(text):
            folded = name.casefold()
            if room.names.get(name) or any(uid[1:].split(":", 1)[0].casefold() == folded
                                           or (u.display_name or "").casefold() == folded
                                           for uid, u in room.users.items()):
                found.add(name)
        return frozenset(found)

    def _is_direct_room(self, room_id: str) -> bool:
        return any(room_id in rooms for rooms in self.direct.values())

    async def _handle(self, resp: Any, runner: EventSink) -> None:
        for room_id in resp.rooms.invite:
            name = self.wanted.get(room_id)
            if name is None or room_id in self.names:
                continue  # invites only to configured rooms are accepted
            if await self._join(name, room_id):
                digest, ref = await self.pinned_guidelines(room_id)
                await runner.handle(RoomReady(self.network, self.clock(), room=name, pinned_digest=digest,
                                              pinned_ref=ref))
        events = []
        arrived = [(room_id, ev) for room_id, info in resp.rooms.join.items() for ev in info.timeline.events]
        if self.crypto is not None:
            arrived = self.crypto.decrypted_now(self.client) + arrived  # keys came for earlier messages
        for room_id, ev in arrived:
            name = self.names.get(room_id)
            direct = name is None and self._is_direct_room(room_id)
            if name is None and not direct:
                continue
            event = self._translate(room_id, name, ev)
            if event is not None:
                events.append(event)
            if isinstance(event, Undecryptable) and self.crypto is not None:
                self.crypto.wait_for_key(room_id, ev)
                await self.crypto.request_key(self.client, ev)
        if events:
            await runner.handle_many(events)  # one sync response: detection in one batch

    def _reaction(self, room_id: str, name: str | None, sender: str, content: Any, now: float) -> Reaction | None:
        """A reaction in a watched or moderators' room (an ``m.annotation`` on a message), with the sender's
        power level there: a moderator's ✅ on an alert acknowledges its case (the core decides). In an
        encrypted room it arrives decrypted, its relation from the event's cleartext as the spec has it."""
        relates = content.get("m.relates_to") if isinstance(content, dict) else None
        if name is None or not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
            return None
        ref, key = relates.get("event_id"), relates.get("key")
        if not isinstance(ref, str) or not isinstance(key, str) or len(key) > 64:
            return None
        return Reaction(self.network, now, room=name, sender=sender, ref=ref, key=key,
                        authority=Authority(power_level=self.power_level(room_id, sender)))

    def _translate(self, room_id: str, name: str | None, ev: Any):
        src = getattr(ev, "source", None) or {}
        sender = src.get("sender")
        if not isinstance(sender, str) or sender == self.user_id:
            return None  # never react to our own events
        etype, content = src.get("type"), src.get("content") or {}
        now = self.clock()
        if isinstance(ev, MegolmEvent) or etype == "m.room.encrypted":
            # Ciphertext the bot cannot read (no key yet, or encryption switched off in the config): the
            # bot is blind to it, which must be counted and reported, never skipped in silence.
            log.info("%s: encrypted message in %s not readable yet", self.network, name or "a direct room")
            return Undecryptable(self.network, now, room=name)
        if getattr(ev, "decrypted", False) and etype not in ("m.room.message", "m.reaction"):
            return None  # only messages and reactions travel encrypted; a "state" event in ciphertext is forged
        if etype == "m.reaction":
            return self._reaction(room_id, name, sender, content, now)
        if etype == "m.room.message":
            if not isinstance(content, dict):
                return None
            # Every message type from people is read (m.text, m.emote, m.notice, captions): a person at
            # risk may write in any of them. A notice is never run as a command, and a notice in the
            # bot's direct room gets no automatic reply: notices are how bots talk, and answering them
            # makes loops. Bots named in the config are ignored by the core.
            notice = content.get("msgtype") == "m.notice"
            text = message_text(content)
            if text is None:
                log.info("%s: message without text in %s skipped", self.network, room_id)
                return None
            if name is None:
                return None if notice else PrivateMessage(self.network, now, sender=sender, text=text,
                                                          rooms=self.rooms_of(sender))
            relates = content.get("m.relates_to")
            edit = isinstance(relates, dict) and relates.get("rel_type") == "m.replace"
            return Message(self.network, now, room=name, sender=sender, text=text, ref=src.get("event_id"),
                           authority=Authority(power_level=self.power_level(room_id, sender)), edit=edit,
                           notice=notice, emote=content.get("msgtype") == "m.emote",
                           present=self._present(room_id, text) if "<" in text else None)
        if etype == "m.room.member" and name is not None:
            user = src.get("state_key")
            membership = content.get("membership") if isinstance(content, dict) else None
            prev = ((src.get("unsigned") or {}).get("prev_content") or {}).get("membership")
            if not isinstance(user, str) or user == self.user_id:
                return None
            if membership == "join" and prev != "join":
                room = self.client.rooms.get(room_id)
                return Join(self.network, now, room=name, user=user,
                            history_hidden=bool(room is not None and room.encrypted))
            if membership in ("leave", "ban") and prev == "join":
                return Leave(self.network, now, room=name, user=user)
        return None

    # -- actions --------------------------------------------------------------------------------

    def _room(self, name: str) -> str:
        return self.room_ids.get(name, name)

    async def _send(self, room_id: str, content: dict, key: ResendKey | None = None,
                    recipient: str | None = None) -> str:
        """Send; with ``key``, a deterministic transaction id, so a resend after a crash is de-duplicated
        by the server instead of delivered twice (the device, and with it the transaction ids, survives
        restarts). In an encrypted room the content is encrypted for the members' devices that the trust
        mode allows; ``recipient`` must have one, or the message would reach nobody."""
        if self.crypto is not None:
            try:
                if not await self.crypto.known_room(self.client, room_id):
                    raise ActionFailed("room_state_unknown", definitive=False)
                await self.crypto.prepare_send(self.client, room_id)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise ActionFailed(type(exc).__name__, definitive=False) from None
            if not self.crypto.has_recipient(self.client, room_id, recipient):
                raise ActionFailed("no_verified_device" if self.crypto.settings.trust == "verified-only"
                                   else "no_device")
        try:
            resp = await self.client.room_send(room_id, "m.room.message", content,
                                               ignore_unverified_devices=self.crypto is None
                                               or self.crypto.settings.trust == "all-devices",
                                               tx_id=f"gateway.{key}" if key else None)
        except (LocalProtocolError, OlmTrustError) as exc:
            raise ActionFailed(f"crypto_{type(exc).__name__}", definitive=True) from None
        if isinstance(resp, ErrorResponse):
            raise _fail(resp)
        return resp.event_id

    async def post_notice(self, room, text):
        self._guard(room)
        return await self._send(self._room(room), {"msgtype": "m.notice", "body": text})

    # -- moderators' rooms ------------------------------------------------------------------------

    # join rules that let someone in without a moderator's say: "public" (anyone); a room whose rule
    # is invite, knock (a member must accept) or restricted (members of a named room) is not open
    OPEN_JOIN_RULES = frozenset({"public"})
    EXPOSURE_NOTICE_EVERY = 600.0  # seconds between notices that alerts are held in an exposed room

    def _matrix_room(self, room: str):
        return self.client.rooms.get(self._room(room))

    def room_encrypted(self, room: str) -> bool | None:
        r = self._matrix_room(room)
        return None if r is None else bool(r.encrypted)

    def exposures(self, room: str) -> list[str]:
        r = self._matrix_room(room)
        if r is None:
            return []
        out = ["open"] if r.join_rule in self.OPEN_JOIN_RULES else []
        rule = self.moderators_rooms.get(room)
        if rule is not None and not r.encrypted and any(self.room_encrypted(w) for w in rule.watched):
            out.append("unencrypted")
        return out

    def _guard(self, room: str) -> None:
        """Nothing the bot writes in a moderators' room (alerts, case replies) goes into one that is open
        to anyone or unencrypted for an encrypted watched room, unless the policy allows it: refused with
        the exposure as the code (the core records it, and the alert is kept as failed), and the room
        told once in a while why, in words that name nobody."""
        refused = self.refused_exposures(room)
        if not refused:
            return
        log.error("%s: moderators' room %s: %s; nothing naming people is posted there until this is fixed",
                  self.network, room, "; ".join(EXPOSURES[e] for e in refused))
        now = time.monotonic()
        if now - self._exposure_told.get(room, -1e9) >= self.EXPOSURE_NOTICE_EVERY:
            self._exposure_told[room] = now
            asyncio.get_running_loop().create_task(self._tell_exposed(room, refused))
        raise ActionFailed("room_" + refused[0], definitive=False)

    async def _tell_exposed(self, room: str, refused: list[str]) -> None:
        fix = {"open": "make it invite-only again (room settings: Private / invite only)",
               "unencrypted": "use an encrypted moderators' room (encryption cannot be turned off again)"}
        text = (f"[HIGH] The safety bot is holding back alerts and case details for this room: "
                f"{'; '.join(EXPOSURES[e] for e in refused)}. To receive them here, "
                f"{' and '.join(fix[e] for e in refused)}.")
        try:
            await self._send(self._room(room), {"msgtype": "m.notice", "body": text})
        except ActionFailed as exc:
            log.warning("%s: could not tell %s that alerts are held (%s)", self.network, room, exc.code)

    async def _check_join_rule(self, room: str) -> None:
        """Before an alert: the room's join rule as the server has it now (a sync may be up to
        ``sync_timeout_ms`` old), so an alert never follows a switch to public by seconds."""
        if room not in self.moderators_rooms:
            return
        room_id = self._room(room)
        try:
            state = await self.client.room_get_state_event(room_id, "m.room.join_rules")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return  # the room state from the last sync decides; sending fails the same way anyway
        r = self.client.rooms.get(room_id)
        if r is not None and not isinstance(state, RoomGetStateEventError):
            r.join_rule = state.content.get("join_rule", r.join_rule)

    async def pin_notice(self, room, ref, replaces):
        room_id = self._room(room)
        state = await self.client.room_get_state_event(room_id, "m.room.pinned_events")
        pinned = [] if isinstance(state, RoomGetStateEventError) else list(state.content.get("pinned") or [])
        pinned = [p for p in pinned if p not in (ref, replaces)] + [ref]
        resp = await self.client.room_put_state(room_id, "m.room.pinned_events", {"pinned": pinned})
        if isinstance(resp, ErrorResponse):
            raise _fail(resp)
        return ref

    async def set_topic(self, room, text):
        resp = await self.client.room_put_state(self._room(room), "m.room.topic", {"topic": text})
        if isinstance(resp, ErrorResponse):
            raise _fail(resp)

    async def _direct_room(self, user: str) -> str:
        """The DM room with ``user``: reused from m.direct (re-inviting if they left), or created."""
        for room_id in reversed(self.direct.get(user, [])):
            room = self.client.rooms.get(room_id)
            if room is None:
                if room_id in self._created:
                    return room_id  # created this run, not synced yet
                continue  # not joined any more
            if user in room.users or user in room.invited_users:
                await self._encrypt_direct_room(room, user)
                return room_id
            invited = await self.client.room_invite(room_id, user)
            if not isinstance(invited, ErrorResponse):
                return room_id
        encrypted = self.crypto is not None and await self.crypto.can_decrypt(self.client, user)
        encryption = ([{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] if encrypted else [])
        created = await self.client.room_create(is_direct=True, invite=[user], initial_state=encryption,
                                                preset=RoomPreset.trusted_private_chat)
        if isinstance(created, RoomCreateError):
            raise _fail(created)
        self._created.add(created.room_id)
        if encrypted:
            self.crypto.known_direct_room(self.client, created.room_id, user)
        self.direct.setdefault(user, []).append(created.room_id)
        # Recorded on the server before the message is sent: a restart after the send must find this
        # room again, because transaction ids de-duplicate a resend only within the same room (one in
        # twenty random SIGKILLs gave a second crisis message in a second room).
        await self._save_direct()
        return created.room_id

    async def _encrypt_direct_room(self, room: Any, user: str) -> None:
        """A direct room from before encryption was switched on gets it now, if the person's app can
        decrypt (state events cannot be taken back, so only the bot's own direct rooms)."""
        if self.crypto is None or room.encrypted or not await self.crypto.can_decrypt(self.client, user):
            return
        resp = await self.client.room_put_state(room.room_id, "m.room.encryption",
                                                {"algorithm": "m.megolm.v1.aes-sha2"})
        if isinstance(resp, ErrorResponse):
            log.warning("%s: could not turn on encryption in a direct room (%s)", self.network, resp.status_code)
            return
        room.encrypted = True
        self.client.encrypted_rooms.add(room.room_id)
        self.client.olm.update_tracked_users(room)

    async def send_private(self, user, text, key=None):
        room_id = await self._direct_room(user)
        failpoint("matrix_direct_room_ready")
        event_id = await self._send(room_id, {"msgtype": "m.text", "body": text}, key, recipient=user)
        failpoint("matrix_private_message_sent")
        return event_id

    async def greet_user(self, room, user, text):
        await self._send(self._room(room), {"msgtype": "m.notice", "body": f"{user}: {text}",
                                            "m.mentions": {"user_ids": [user]}})

    async def remove_from_room(self, room, user, reason, ban_seconds=None):  # timed bans: IRC only
        room_id = self._room(room)
        resp = await self.client.room_kick(room_id, user, reason)
        if isinstance(resp, ErrorResponse):
            member = await self.client.room_get_state_event(room_id, "m.room.member", user)
            if not isinstance(member, RoomGetStateEventError) and member.content.get("membership") in ("leave", "ban"):
                return  # already gone (a retry after a restart, or they left): removed
            raise _fail(resp)

    async def redact_message(self, room, ref, reason):
        resp = await self.client.room_redact(self._room(room), ref, reason=reason)
        if isinstance(resp, ErrorResponse):
            raise _fail(resp)

    async def alert_moderators(self, room, text, priority, message_ref, mention_all=False, key=None):
        await self._check_join_rule(room)
        self._guard(room)
        content: dict = {"msgtype": "m.text", "body": text}
        if mention_all:  # @room notifies everyone in the moderators' room
            content = {"msgtype": "m.text", "body": f"@room {text}", "m.mentions": {"room": True}}
        return await self._send(self._room(room), content, key)

    async def readmit(self, room, user):
        room_id = self._room(room)
        member = await self.client.room_get_state_event(room_id, "m.room.member", user)
        if not isinstance(member, RoomGetStateEventError) and member.content.get("membership") == "ban":
            unban = await self.client.room_unban(room_id, user)
            if isinstance(unban, ErrorResponse):
                raise _fail(unban)
        if isinstance(member, RoomGetStateEventError) or member.content.get("membership") != "join":
            invited = await self.client.room_invite(room_id, user)
            if isinstance(invited, ErrorResponse):
                raise _fail(invited)


def create(net: NetworkSettings, *, store: AdapterStore, rooms: list[str], **options: Any) -> MatrixAdapter:
    """Build the adapter from the config; secrets are read from the environment variables it names."""
    s = net.settings
    password = os.environ.get(s["password_env"]) if s.get("password_env") else None
    token = os.environ.get(s["access_token_env"]) if s.get("access_token_env") else None
    if not (password or token):
        names = [s[k] for k in ("password_env", "access_token_env") if s.get(k)]
        raise RuntimeError(f"network {net.name}: set {' or '.join(names) or 'password_env'} in the environment")
    adapter = MatrixAdapter(net.name, s["homeserver"], s["user_id"], store=store, rooms=rooms,
                            password=password, access_token=token, device_id=s.get("device_id"),
                            clock=options.get("clock", time.time), crypto=crypto_settings(net))
    adapter.secret_hint = (f"the access token in ${s['access_token_env']}" if token
                           else f"the password in ${s['password_env']}")
    return adapter


def crypto_settings(net: NetworkSettings) -> CryptoSettings | None:
    """The crypto store and its pickle key, as the config sets them (gateway/config/config_file.py checked them):
    the key from the environment variable named by ``pickle_key_env``, else from the key file beside
    the store (created at first start, 0600)."""
    e = net.settings.get("encryption")
    if not e or not e.get("enabled"):
        return None
    if e.get("pickle_key_env"):
        key = os.environ.get(e["pickle_key_env"])
        if not key:
            raise RuntimeError(f"network {net.name}: set {e['pickle_key_env']} in the environment (the crypto "
                               f"store's pickle key)")
    else:
        key = pickle_key_from_file(Path(e["pickle_key_file"]))
    return CryptoSettings(Path(e["store"]), key, e.get("trust", "all-devices"),
                          frozenset(tuple(d) for d in e.get("verified_devices", ())))


def pickle_key_from_file(path: Path) -> str:
    """The pickle key kept in ``path``; a new random one is written there (0600) the first time."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    import secrets

    private_dir(path.parent)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key
