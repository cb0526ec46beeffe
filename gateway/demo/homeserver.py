"""A throwaway local Synapse homeserver, for the demo and the tests.

Synapse (the ``matrix-synapse`` package) runs on a free loopback port with SQLite, no federation and
raised rate limits (with Synapse's defaults the third invite in a loop waits 60 s), and users are
registered through the shared-secret admin API, as real deployments' test rigs do. Nothing here is
used by a production gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, SyncError

__all__ = ["Homeserver", "HomeserverUnavailable", "Person", "synapse_available"]

SERVER_NAME = "localhost"
_LIMIT = {"per_second": 1000, "burst_count": 1000}


class HomeserverUnavailable(RuntimeError):
    """Synapse is not installed or did not start."""


def synapse_available() -> bool:
    try:
        import synapse  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class User:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Homeserver:
    """``with Homeserver(tmpdir) as hs: hs.register("alice")`` -- stopped and removed on exit."""

    def __init__(self, directory: str | Path, *, port: int | None = None, keep: bool = False,
                 rate_limits: dict | None = None):
        self.dir = Path(directory)
        self.rate_limits = rate_limits or {}  # rc_* overrides, e.g. to test 429 handling
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keep = keep
        self.process: subprocess.Popen | None = None
        self.shared_secret = secrets.token_hex(16)
        self.log_path = self.dir / "synapse.log"

    # -- lifecycle ----------------------------------------------------------------------------

    def _config(self) -> dict:
        d = self.dir
        return {
            "server_name": SERVER_NAME,
            "pid_file": str(d / "homeserver.pid"),
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                           "tls": False, "x_forwarded": False,
                           "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "media_store_path": str(d / "media"),
            "signing_key_path": str(d / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "enable_registration": False,
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "rc_message": _LIMIT,
            "rc_registration": _LIMIT,
            "rc_login": {"address": _LIMIT, "account": _LIMIT, "failed_attempts": _LIMIT},
            "rc_joins": {"local": _LIMIT, "remote": _LIMIT},
            "rc_joins_per_room": _LIMIT,
            "rc_invites": {"per_room": _LIMIT, "per_user": _LIMIT, "per_issuer": _LIMIT},
            "rc_room_creation": _LIMIT,
            "rc_admin_redaction": _LIMIT,
            "rc_3pid_validation": _LIMIT,
            "rc_presence": {"per_user": _LIMIT},
            "rc_delayed_event_mgmt": _LIMIT,
            "rc_reports": _LIMIT,
            **self.rate_limits,
        }

    def start(self, timeout: float = 60.0) -> "Homeserver":
        if not synapse_available():
            raise HomeserverUnavailable("the matrix-synapse package is not installed "
                                        "(pip install -e '.[demo]', or '.[test]' for the tests)")
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self.dir / "homeserver.yaml"
        if not config.exists():
            config.write_text(yaml.safe_dump(self._config()))
            subprocess.run([sys.executable, "-m", "synapse.app.homeserver", "-c", str(config),
                            "--generate-keys"], check=True, capture_output=True, timeout=120)
        else:
            self.shared_secret = yaml.safe_load(config.read_text())["registration_shared_secret"]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HomeserverUnavailable(f"Synapse exited with {self.process.returncode}; see "
                                            f"{self.log_path}")
            try:
                self._request("GET", "/_matrix/client/versions")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise HomeserverUnavailable(f"Synapse did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        p = self.process
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.process = None

    def __enter__(self) -> "Homeserver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- HTTP helpers ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def register(self, localpart: str, password: str | None = None, *, admin: bool = False) -> User:
        """Register a user with the shared-secret admin API; returns its id, password and a token."""
        password = password or secrets.token_hex(12)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        out = self._request("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin,
            "mac": mac.hexdigest()})
        return User(out["user_id"], password, out["access_token"], out["device_id"])


ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class Person:
    """A real Matrix client, logged in as a registered user, that remembers what it has seen.

    With ``store`` (a directory), an end-to-end encrypting client, as Element is: it publishes its
    device keys, decrypts what it receives (``events`` then hold the decrypted events) and encrypts
    what it sends to encrypted rooms for every device there."""

    def __init__(self, hs: "Homeserver", localpart: str, password: str | None = None, *,
                 store: Path | None = None):
        self.user = hs.register(localpart, password)
        self.id = self.user.user_id
        self.encrypted = store is not None
        if store is not None:
            store.mkdir(parents=True, exist_ok=True)
            self.client = AsyncClient(hs.url, self.id, store_path=str(store),
                                      config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False))
            self.client.restore_login(self.id, self.user.device_id, self.user.access_token)
        else:
            self.client = AsyncClient(hs.url, self.id, device_id=self.user.device_id,
                                      config=AsyncClientConfig(encryption_enabled=False))
            self.client.access_token = self.user.access_token
            self.client.user_id = self.id
        self.events: list[tuple[str, dict]] = []  # (room id, raw or decrypted event) in arrival order
        self._seen: set[str] = set()  # event ids already in ``events``: a client shows an event once
        self.undecrypted: list[tuple[str, str]] = []  # (room id, event id) of what it could not decrypt
        self.to_device: list[Any] = []  # to-device events it received (key requests among them)
        self.invites: dict[str, list[dict]] = {}

    async def keys(self) -> None:
        """Publish, fetch and claim keys as a client does after each sync."""
        c = self.client
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            users = c.get_users_for_key_claiming()
            if users:
                await c.keys_claim(users)
        await c.send_to_device_messages()

    async def sync(self) -> None:
        resp = await self.client.sync(timeout=500, since=self.client.next_batch)
        if isinstance(resp, SyncError):
            return
        if self.encrypted:
            await self.keys()
            self.to_device.extend(resp.to_device_events)
        for room_id, info in resp.rooms.join.items():
            for ev in info.timeline.events:
                if ev.event_id in self._seen:
                    continue  # delivered again (a sync retried after a timeout): one event, counted once
                self._seen.add(ev.event_id)
                if ev.source.get("type") == "m.room.encrypted" and not getattr(ev, "decrypted", False):
                    self.undecrypted.append((room_id, ev.event_id))
                self.events.append((room_id, ev.source))
        for room_id, info in resp.rooms.invite.items():
            self.invites[room_id] = [{"type": "m.room.member", "state_key": e.state_key, "content": e.content}
                                     for e in info.invite_state if isinstance(e, InviteMemberEvent)]

    async def wait_for(self, what: str, found: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = found()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.id} never saw {what}")
            await self.sync()

    def messages(self, room_id: str, sender: str | None = None) -> list[dict]:
        return [e for r, e in self.events if r == room_id and e.get("type") == "m.room.message"
                and (sender is None or e.get("sender") == sender)]

    async def say(self, room_id: str, text: str) -> str:
        resp = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": text},
                                           ignore_unverified_devices=True)
        if not hasattr(resp, "event_id"):  # refused (a person removed from the room, rate limits): why, never the text
            raise RuntimeError(f"{self.id} could not send to {room_id}: {getattr(resp, 'status_code', None)} "
                               f"{getattr(resp, 'message', '')}")
        return resp.event_id

    async def close(self) -> None:
        await self.client.close()
        if self.client.store is not None:
            self.client.store.database.close()
