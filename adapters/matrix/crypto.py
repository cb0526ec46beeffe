"""End-to-end encryption for the Matrix adapter (matrix-nio with vodozemac).

What lives here, and why:

- The crypto store (nio's ``SqliteStore``: Olm account, Olm and Megolm sessions, device lists and their
  trust) in a directory of its own, 0700, files 0600. It holds keys only: nio never writes message text
  to it (the SqliteStore has no table for events), and the gateway keeps no decrypted text anywhere.
  It is pickled with the configured pickle key.
- The bot's one stable device: its device id and access token are kept beside the store
  (``session.json``, 0600), so a restart reuses the device whose keys the store holds instead of logging
  in as a new device (a growing device list, and Megolm sessions shared with a device that is gone).
- Key housekeeping after every sync (upload, query, claim, queued to-device messages), which nio only
  does by itself inside ``sync_forever``.
- Messages that cannot be decrypted yet: a key request goes out, the event waits here (in memory only,
  ciphertext, at most ``PENDING_SECONDS``) and is decrypted and handled as soon as a key arrives.
- Device trust: ``all-devices`` (default: every current device of the people in a room, trust on first
  use) or ``verified-only``: only the devices the config lists, each with the fingerprint (ed25519 key)
  its owner read out of their app, get keys; the config is the one source of that trust, so a device
  taken off the list loses it again. A message that no device may decrypt is not sent at all: it fails
  with ``no_verified_device``, so the core knows it did not reach anyone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import EncryptionError, LocalProtocolError, MegolmEvent
from nio.rooms import MatrixRoom

from gateway.files import private_dir

from adapters.contract import NetworkSettings

__all__ = ["CryptoSettings", "Crypto", "crypto_settings", "pickle_key_from_file", "saved_device", "store_files"]

log = logging.getLogger("gateway.matrix")

PENDING_SECONDS = 3600.0  # an undecryptable message waits this long for its key
PENDING_PER_ROOM = 200  # and at most this many per room (the oldest gives way)


@dataclass(frozen=True)
class CryptoSettings:
    """Where the crypto store lives, the key that pickles it, and whose devices get room keys."""

    store: Path
    pickle_key: str = field(repr=False)
    trust: str = "all-devices"
    verified: frozenset[tuple[str, str, str]] = frozenset()  # (user, device id, ed25519 key)


def store_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []


def _private_dir(directory: Path) -> None:
    """The store and the directories made for it: 0700 whatever the umask (the store holds the token)."""
    private_dir(directory)
    os.chmod(directory, 0o700)


def _private_files(directory: Path) -> None:
    for p in store_files(directory):
        if p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)


def saved_device(directory: Path) -> str | None:
    """The device id the last run kept (for ``gateway status``; the token is not read)."""
    try:
        data = json.loads((directory / "session.json").read_text())
    except (OSError, ValueError):
        return None
    device = data.get("device_id") if isinstance(data, dict) else None
    return device if isinstance(device, str) else None


@dataclass
class Session:
    """The bot's device on the homeserver: restored at every start (never the event log's business)."""

    user_id: str
    device_id: str
    access_token: str = field(repr=False)


class Crypto:
    """The crypto half of one Matrix adapter; ``client`` is its nio ``AsyncClient``."""

    def __init__(self, settings: CryptoSettings, network: str):
        self.settings, self.network = settings, network
        self.directory = settings.store
        _private_dir(self.directory)
        self.session_file = self.directory / "session.json"
        self.pending: dict[str, list[tuple[float, MegolmEvent]]] = {}  # room id -> waiting for a key
        self.keys_lock = asyncio.Lock()  # one key query or claim at a time (the sync loop and sends)

    # -- the device --------------------------------------------------------------------------------

    def saved_session(self, user_id: str) -> Session | None:
        """The device from the last run, if its store is still here (a device without its keys cannot
        be reused: its published keys would no longer match)."""
        try:
            data = json.loads(self.session_file.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("user_id") != user_id:
            return None
        device, token = data.get("device_id"), data.get("access_token")
        if not (isinstance(device, str) and isinstance(token, str)):
            return None
        if not self.has_store(user_id, device):
            return None
        return Session(user_id, device, token)

    def has_store(self, user_id: str, device_id: str) -> bool:
        return (self.directory / f"{user_id}_{device_id}.db").exists()

    def save_session(self, session: Session) -> None:
        tmp = self.session_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"user_id": session.user_id, "device_id": session.device_id,
                       "access_token": session.access_token}, f)
        os.replace(tmp, self.session_file)

    def secure(self) -> None:
        """Store files readable by the gateway's user alone (SQLite creates them with the umask)."""
        _private_files(self.directory)

    # -- keys --------------------------------------------------------------------------------------

    async def housekeeping(self, client: Any) -> None:
        """What ``sync_forever`` would do after each sync: publish, fetch and claim keys, and send the
        queued to-device messages (key requests, session repairs)."""
        async with self.keys_lock:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                users = client.get_users_for_key_claiming()
                if users:
                    await client.keys_claim(users)
        await client.send_to_device_messages()
        self.secure()

    async def prepare_send(self, client: Any, room_id: str) -> None:
        """Before a send to an encrypted room: the members' devices are known, and under
        ``verified-only`` every unverified device is excluded from the room key."""
        room = client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return
        async with self.keys_lock:
            if client.should_query_keys:
                await client.keys_query()
        if self.settings.trust == "verified-only":
            for user in list(room.users):
                if user == client.user_id:
                    continue
                for device in client.device_store.active_user_devices(user):
                    self._apply_trust(client, device)

    def _apply_trust(self, client: Any, device: Any) -> None:
        listed = (device.user_id, device.id, device.ed25519) in self.settings.verified
        if listed:
            if device.blacklisted:
                client.unblacklist_device(device)
            if not device.verified:
                client.verify_device(device)
        else:
            if device.verified:
                client.unverify_device(device)
            if not device.blacklisted:
                client.blacklist_device(device)

    async def can_decrypt(self, client: Any, user: str) -> bool:
        """Whether ``user`` has a device with published keys: someone whose app does no encryption
        could never read an encrypted private message, so theirs is created unencrypted (under
        ``verified-only`` never: plain text would go further than the keys may)."""
        if self.settings.trust == "verified-only":
            return True
        client.olm.users_for_key_query.add(user)
        async with self.keys_lock:
            if client.should_query_keys:
                await client.keys_query()
        return any(True for _ in client.device_store.active_user_devices(user))

    def has_recipient(self, client: Any, room_id: str, user: str | None = None) -> bool:
        """Whether ``user`` (or, without one, anyone in the room but the bot) has a device that will get
        the room key: ``verified-only`` may leave none, and then the message would reach nobody."""
        room = client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return True
        users = [user] if user is not None else [u for u in room.users if u != client.user_id]
        devices = [d for u in users for d in client.device_store.active_user_devices(u)]
        if self.settings.trust == "verified-only":
            return any(d.verified for d in devices)
        return bool(devices) or user is None

    async def known_room(self, client: Any, room_id: str) -> bool:
        """Make a room joined this run (before the sync that describes it) known to nio, encrypted if
        its state says so: nio refuses to send to a room it does not know, and must not send plain
        text to an encrypted one. False if the homeserver cannot tell yet."""
        if room_id in client.rooms:
            return True
        state = await client.room_get_state_event(room_id, "m.room.encryption")
        code = getattr(state, "status_code", None)
        if code is not None and code != "M_NOT_FOUND":
            return False
        encrypted = code is None
        client.rooms[room_id] = MatrixRoom(room_id, client.user_id, encrypted=encrypted)
        if encrypted:
            client.encrypted_rooms.add(room_id)
        return True

    def known_direct_room(self, client: Any, room_id: str, user: str) -> None:
        """A direct room created this run, made known to nio as it is: encrypted, with the person invited.
        nio refuses to send to a room it does not know, and a sync may already have described the room
        between its creation and the invite (Synapse invites after creating): then the person would be
        missing from its members and get no key (seen: one run in two)."""
        room = client.rooms.get(room_id)
        if room is None:
            room = client.rooms[room_id] = MatrixRoom(room_id, client.user_id, encrypted=True)
            room.add_member(client.user_id, None, None)
        room.encrypted = True
        if user not in room.users:
            room.add_member(user, None, None, invited=True)
        room.members_synced = True
        client.encrypted_rooms.add(room_id)
        client.olm.update_tracked_users(room)

    # -- messages without a key yet ----------------------------------------------------------------

    def wait_for_key(self, room_id: str, event: MegolmEvent, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        waiting = self.pending.setdefault(room_id, [])
        waiting.append((now + PENDING_SECONDS, event))
        del waiting[:-PENDING_PER_ROOM]

    async def request_key(self, client: Any, event: MegolmEvent) -> None:
        try:
            await client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested for this session
        except Exception as exc:  # a key request that fails is retried by the next message
            log.warning("%s: key request failed (%s)", self.network, type(exc).__name__)

    def decrypted_now(self, client: Any, now: float | None = None) -> list[tuple[str, Any]]:
        """(room id, event) for every waiting message whose key has arrived; expired ones are let go
        (they were counted and reported when they arrived)."""
        now = time.monotonic() if now is None else now
        found = []
        for room_id, waiting in list(self.pending.items()):
            keep = []
            for deadline, event in waiting:
                try:
                    found.append((room_id, client.decrypt_event(event)))
                except EncryptionError:
                    if deadline > now:
                        keep.append((deadline, event))
            if keep:
                self.pending[room_id] = keep
            else:
                del self.pending[room_id]
        return found

    def waiting(self) -> int:
        return sum(len(w) for w in self.pending.values())


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
