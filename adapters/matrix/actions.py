"""Matrix actions: what the adapter does for the runner (notices, pins, topics, private messages in
direct rooms it creates or reuses, greetings, removals, redactions, alerts, readmissions), each one
client-server call whose error becomes ``ActionFailed``; sends with a deterministic transaction id so a
resend after a crash is de-duplicated, encrypted in an encrypted room. Nothing naming a person goes into
a moderators' room that is open or unencrypted unless the policy allows it. Part of ``MatrixAdapter``
(uses its state).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from typing import Any

import aiohttp
from nio import (
    ErrorResponse,
    LocalProtocolError,
    OlmTrustError,
    RoomCreateError,
    RoomGetStateEventError,
    RoomPreset,
)

from gateway.failpoints import failpoint

from adapters.contract import EXPOSURES, ActionFailed, ResendKey

__all__ = ["MatrixActions"]

log = logging.getLogger("gateway.matrix")


def _fail(resp: Any) -> ActionFailed:
    code = getattr(resp, "status_code", None) or "M_UNKNOWN"
    return ActionFailed(str(code), definitive=code not in ("M_LIMIT_EXCEEDED", "M_UNKNOWN"))


class MatrixActions:
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
