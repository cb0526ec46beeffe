"""The interface every network adapter implements for the runner.

An adapter executes one action at a time and either returns (the server accepted it, optionally with
the server's id for what was created) or raises :class:`ActionFailed` with a short machine code. It
retries transient faults itself (bounded, honouring rate-limit delays); what reaches the runner is
final, or a timeout the runner imposes.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gateway.core.events import Event

__all__ = ["Adapter", "ActionFailed", "CredentialsRefused", "Delivered", "EventSink", "KeyValueStore",
           "ModeratorsRoomRule", "NetworkSettings", "ResendKey", "ResendLedger", "AdapterStore", "EXPOSURES"]


@dataclass(frozen=True)
class Delivered:
    """What an action may return instead of a bare id: the id, and the person's id if it changed while
    the action ran (IRC: they changed nick, and the message or KICK followed them to the new one)."""

    ref: str | None = None
    user: str | None = None


class ActionFailed(Exception):
    """The server refused or could not deliver. ``code``: e.g. ``M_FORBIDDEN``, ``401``, ``482``.

    ``definitive=False`` means the outcome is unknown (the request may have been carried out).
    The exception carries no text beyond the code, so it is safe to log.
    """

    def __init__(self, code: str, *, definitive: bool = True):
        super().__init__(code)
        self.code, self.definitive = code, definitive


class KeyValueStore(Protocol):
    """Where an adapter keeps what must survive a restart (sync token, device id, lines already sent).
    The event log implements it; an adapter never sees the database behind it."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class ResendKey:
    """Names one protective message (a case's private message or alert) across restarts, so that a
    resend after a crash is de-duplicated: Matrix uses it as the transaction id (``str(key)``), IRC
    counts in the ledger how many lines of it already left."""

    case: str
    step: str

    def __str__(self) -> str:
        return f"{self.case}.{self.step}"


class ResendLedger(Protocol):
    """How much of a message already left (the event log implements it, beside the case's journal, and
    forgets a case's entries when the case is finished)."""

    def parts_sent(self, key: ResendKey) -> int: ...

    def record_parts_sent(self, key: ResendKey, parts: int) -> None: ...


class AdapterStore(KeyValueStore, ResendLedger, Protocol):
    """What the gateway gives an adapter to keep (the event log): its own state and the resend ledger."""


class EventSink(Protocol):
    """Where an adapter hands the events it reads (the runner implements it): one at a time, or a batch
    that arrived together (a sync response, IRC lines read at once)."""

    async def handle(self, event: "Event") -> None: ...

    async def handle_many(self, events: list["Event"]) -> None: ...


class NetworkSettings(Protocol):
    """What ``create(net, ...)`` reads of a network's validated config (gateway/config/config_file.py builds it)."""

    name: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class ModeratorsRoomRule:
    """What a moderators' room must be, since alerts name the person at risk: invite-only (``open``
    otherwise) and, when a watched room it serves is encrypted, encrypted (``unencrypted`` otherwise).
    ``allow_*``: the policy accepts that exposure on purpose (moderators.allow_open_room,
    allow_unencrypted_room): the adapter posts anyway and start-up warns instead of refusing.
    ``watched``: the watched rooms on the same network whose alerts come here."""

    allow_open: bool = False
    allow_unencrypted: bool = False
    watched: tuple[str, ...] = ()

    def allows(self, exposure: str) -> bool:
        return (exposure == "open" and self.allow_open) or (exposure == "unencrypted" and self.allow_unencrypted)


# exposure code -> what it means, for logs, start-up refusals and the notice in the room
EXPOSURES = {"open": "anyone can join it and read the alerts, which name people at risk",
             "unencrypted": "it is not end-to-end encrypted, but a room it serves is: alerts about that room "
                            "would be readable by the server"}


class CredentialsRefused(Exception):
    """The network refused the bot's credentials (a wrong password, a revoked token). Retrying cannot
    help, so the gateway stops with a message saying what to fix; the message names no secret."""


class Adapter(ABC):
    network: str
    ready: "asyncio.Event"  # set once the adapter joined its rooms and announced them to the core

    async def run(self, runner) -> None:
        """Connect and hand every network event to ``runner`` until stopped."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Disconnect."""

    def health(self) -> dict:
        """What ``/readyz`` and the metrics show of this network: ``ready`` (connected, in its rooms and
        reading), plus what the network has (Matrix: ``sync_lag_seconds``; IRC: ``reconnects``). Names and
        numbers only."""
        return {"ready": self.ready.is_set()}

    @abstractmethod
    async def post_notice(self, room: str, text: str) -> str | None:
        """Post a notice in a room; return the server's id for it (needed to pin it)."""

    async def post_reply(self, room: str, text: str) -> None:
        """A reply to a command in a room. Nothing waits on its outcome, so an adapter may queue it behind
        protective actions without confirming it (IRC does)."""
        await self.post_notice(room, text)

    @abstractmethod
    async def pin_notice(self, room: str, ref: str, replaces: str | None) -> str | None:
        """Pin ``ref``, unpinning the bot's own ``replaces``; keep everyone else's pins."""

    @abstractmethod
    async def set_topic(self, room: str, text: str) -> None: ...

    @abstractmethod
    async def send_private(self, user: str, text: str, key: str | None = None) -> str | None:
        """Deliver a private message; raise ActionFailed unless the server accepted it. ``key`` is the
        same for a resend of the same message after a restart, for networks that can de-duplicate."""

    @abstractmethod
    async def greet_user(self, room: str, user: str, text: str) -> None: ...

    @abstractmethod
    async def remove_from_room(self, room: str, user: str, reason: str, ban_seconds: int | None = None) -> None:
        """Remove ``user``; with ``ban_seconds``, also ban them that long where the network can.
        Idempotent: someone who is no longer in the room counts as removed."""

    async def redact_message(self, room: str, ref: str, reason: str) -> None:
        """Remove a message from a room; networks without redaction refuse with ``unsupported``."""
        raise ActionFailed("unsupported")

    async def alert_moderators(self, room: str, text: str, priority: str, message_ref: str | None,
                               mention_all: bool = False, key: str | None = None) -> str | None:
        """Alert the moderators' room; ``mention_all`` notifies every moderator (escalation)."""
        return await self.post_notice(room, text)

    # Whether a resend with the same ``key`` after a crash is de-duplicated (Matrix: the server, by
    # transaction id; IRC: the adapter, by counting the lines already written). If not, a message that
    # may have gone out is never resent.
    resends_are_deduplicated: bool = False

    # Whether every action ends on its own in a bounded time once its request left (IRC: a confirmation
    # wait starts when its lines were written through the flood budget, and a disconnect ends it at
    # once), so the runner imposes no timeout of its own: one would cut an action that only queued.
    bounds_its_own_waits: bool = False

    async def readmit(self, room: str, user: str) -> None:
        """Lift a ban on ``user`` if there is one and invite them back to ``room``."""
        raise ActionFailed("unsupported")

    # -- moderators' rooms: never post what names a person into a room anyone can read ---------------

    # configured moderators' room -> what it must be; set by the service before ``run``
    moderators_rooms: dict[str, ModeratorsRoomRule] = {}

    def exposures(self, room: str) -> list[str]:
        """What is wrong with moderators' room ``room`` now, as the adapter last saw its state: a list
        of ``EXPOSURES`` codes (empty: invite-only, and encrypted where it must be)."""
        return []

    def room_encrypted(self, room: str) -> bool | None:
        """Whether ``room`` is end-to-end encrypted (None: the network has no such thing, or unknown)."""
        return None

    def refused_exposures(self, room: str) -> list[str]:
        """The exposures of ``room`` that its rule does not allow (only for moderators' rooms)."""
        rule = self.moderators_rooms.get(room)
        if rule is None:
            return []
        return [e for e in self.exposures(room) if not rule.allows(e)]
