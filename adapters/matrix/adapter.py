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
- End-to-end encryption (``crypto.py``): with ``encryption`` on (the default), messages
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
import logging
import os
import time
from typing import Any

from nio import AsyncClientConfig

from adapters.contract import Adapter, AdapterStore, NetworkSettings
from adapters.matrix.actions import MatrixActions
from adapters.matrix.connection import MatrixConnection, NioClient
from adapters.matrix.crypto import Crypto, CryptoSettings, crypto_settings
from adapters.matrix.incoming import MatrixIncoming
from adapters.matrix.login import MatrixLogin

__all__ = ["MatrixAdapter", "create"]

log = logging.getLogger("gateway.matrix")

# nio logs response bodies (message text included) at DEBUG: never let it, whatever the root level is.
logging.getLogger("nio").setLevel(logging.WARNING)
# peewee (nio's crypto store) logs every SQL statement with its parameters at DEBUG: pickled keys.
logging.getLogger("peewee").setLevel(logging.WARNING)
# nio's crypto logs routine key traffic as warnings ("Missing session for device ..."); the adapter
# reports what matters (an undecryptable message, a failed key exchange) in its own words.
logging.getLogger("nio.crypto").setLevel(logging.ERROR)


class MatrixAdapter(MatrixConnection, MatrixLogin, MatrixIncoming, MatrixActions, Adapter):
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
        self.client = NioClient(homeserver, user_id, device_id=device_id or store.get(self._key("device")),
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

    def _remember(self, what: str, value: str) -> None:
        """Save adapter state; a failing database must never stop the adapter (it is reported)."""
        try:
            self.store.set(self._key(what), value)
        except Exception as exc:
            log.error("%s: could not save %s (%s)", self.network, what, type(exc).__name__)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.client.access_token}", "Content-Type": "application/json"}


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
