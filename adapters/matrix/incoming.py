"""Matrix events in: the sync's timeline events (and those whose keys arrived since) translated to
core events: messages of every type with the text to scan, reactions, joins and leaves, invites to
configured rooms accepted, and ciphertext the bot cannot read yet as ``Undecryptable``. Authority is
the sender's power level; from room version 12 on, room creators outrank every level (read from
``m.room.create``: nio does not know this). Part of ``MatrixAdapter`` (uses its state).
"""

from __future__ import annotations

import html.parser
import logging
import urllib.parse
from typing import Any

from nio import MegolmEvent

from gateway.core.events import (
    Authority,
    Join,
    Leave,
    Message,
    PrivateMessage,
    Reaction,
    RoomReady,
    Undecryptable,
)
from gateway.core.quotes import pasted_names

from adapters.contract import EventSink

__all__ = ["MatrixIncoming", "message_text", "strip_reply_fallback", "CREATOR_LEVEL"]

log = logging.getLogger("gateway.matrix")


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


# Room versions whose creators have no special power (before MSC4289, room version 12).
_LEGACY_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
CREATOR_LEVEL = 2**53  # "infinite": above any power level a room can set


class MatrixIncoming:
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
