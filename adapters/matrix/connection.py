"""Start-up and the sync loop: log in, join the configured rooms (the others wait for an invite) and
read the direct-chat list, retried with backoff while the homeserver cannot be reached; then sync,
fill the gaps of a "limited" timeline with /messages, hand what arrived to the runner, and save the sync
token after each batch. Rate limits wait as long as Retry-After says, capped. Part of ``MatrixAdapter``
(uses its state).
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    JoinError,
    LocalProtocolError,
    MessageDirection,
    RoomGetEventError,
    RoomGetStateEventError,
    RoomMessagesResponse,
    RoomResolveAliasError,
    SyncError,
)

from gateway.core.events import RoomReady, guidelines_digest

from adapters.contract import EventSink
from adapters.matrix.login import TryAgain

__all__ = ["MatrixConnection", "NioClient", "SYNC_FILTER", "describe", "retry_after_ms"]

log = logging.getLogger("gateway.matrix")


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
    if isinstance(exc, TryAgain):
        return str(exc)
    return type(exc).__name__


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


class NioClient(AsyncClient):
    """nio's client, waiting after a 429 as long as Retry-After says (capped)."""

    async def create_matrix_response(self, response_class, transport_response, data=None, save_to=None):
        resp = await super().create_matrix_response(response_class, transport_response, data, save_to)
        if getattr(transport_response, "status", None) == 429 or getattr(resp, "status_code", None) == "M_LIMIT_EXCEEDED":
            resp.retry_after_ms = retry_after_ms(transport_response.headers, getattr(resp, "retry_after_ms", None))
        return resp


class MatrixConnection:
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
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, TryAgain) as exc:
                log.warning("%s: cannot start on %s: %s; check the homeserver URL and that it is up; "
                            "retrying in %.0f s", self.network, self.client.homeserver, describe(exc), backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)

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

    async def load_direct(self) -> None:
        path = f"/_matrix/client/v3/user/{urllib.parse.quote(self.user_id)}/account_data/m.direct"
        resp = await self.client.send("GET", path, headers=self._auth())
        if resp.status == 200:
            data = await resp.json()
            self.direct = {u: list(r) for u, r in data.items() if isinstance(r, list)}

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
