"""Protocol-agnostic events: what adapters tell the core happened.

Message text lives only here, in memory, while one event is processed: it is excluded from ``repr``
so it cannot leak through a log line, a traceback or an assertion message, and nothing stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Authority", "Event", "RoomReady", "Message", "PrivateMessage", "Join", "Leave", "ActionOutcome",
    "ReloadResult", "Tick", "NickChange", "RoomUnavailable", "Undecryptable", "BotNick", "Reaction",
]


@dataclass(frozen=True)
class Authority:
    """What the network itself says about a sender; the core decides whether that makes a moderator.

    Matrix fills ``power_level``; IRC fills ``operator`` (+o in that channel) and ``account`` (the
    services account from account-tag or WHOIS). A display name or nick is never authority.
    """

    power_level: int | None = None
    operator: bool = False
    account: str | None = None


@dataclass(frozen=True)
class Event:
    network: str
    ts: float  # seconds since the epoch, from the adapter's clock


@dataclass(frozen=True)
class RoomReady(Event):
    """The bot is in ``room`` and can act there. ``pinned_digest`` is the digest of the guidelines the
    bot pinned earlier, if the adapter found them, so a restart does not post them again."""

    room: str
    pinned_digest: str | None = None
    pinned_ref: str | None = None


@dataclass(frozen=True)
class Message(Event):
    room: str
    sender: str
    text: str = field(repr=False)
    ref: str | None = None  # the network's id of the message (Matrix event id), for links
    authority: Authority = Authority()
    edit: bool = False  # an edited message: scanned for risk, never run as a command
    notice: bool = False  # a notice (how bots talk): scanned for risk, never run as a command
    # an action (IRC CTCP ACTION ``/me``, Matrix ``m.emote``): the writer speaking of themselves in the third
    # person ("* kit is going to kill himself"); read with the writer as its subject, never run as a command
    emote: bool = False
    # Of the names that open a line as ``<name> ...`` (what a pasted chat line looks like), those the adapter
    # knows are members of the room (gateway/core/quotes.py ``pasted_names``); ``None``: the adapter did not say.
    # A ``<name>`` line quotes someone only if that someone is (or recently was) there: ``<sigh> ...`` is not.
    present: frozenset[str] | None = field(default=None, repr=False)  # names from the text: kept out of logs


@dataclass(frozen=True)
class Reaction(Event):
    """A reaction to a message in a room (Matrix ``m.reaction``, an annotation): ``key`` (an emoji, or any
    short text: kept out of logs) on the message whose network id is ``ref``. A moderator's ✅ on an alert
    acknowledges its case (gateway/core/commands.py ``react``); ``authority`` is decided as for a command."""

    room: str
    sender: str
    ref: str
    key: str = field(repr=False)
    authority: Authority = Authority()


@dataclass(frozen=True)
class PrivateMessage(Event):
    """A message to the bot alone. ``rooms``: the watched rooms (configured names) the adapter knows the
    sender is a member of now, from the network's own membership (Matrix room members, IRC channel user
    lists), never from anything they wrote; it decides whose moderators and which region a private
    conversation belongs to (``Engine._bindings_for_person``)."""

    sender: str
    text: str = field(repr=False)
    rooms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Join(Event):
    room: str
    user: str
    history_hidden: bool = False  # they cannot read what was sent before (an encrypted room): the pin too


@dataclass(frozen=True)
class Leave(Event):
    room: str
    user: str


@dataclass(frozen=True)
class NickChange(Event):
    """A person's network id changed (IRC NICK): open cases follow the person, not the old name."""

    old: str
    new: str


@dataclass(frozen=True)
class RoomUnavailable(Event):
    """The bot cannot be in ``room`` (IRC: a JOIN refused with ``code``, e.g. 475 for a wrong key): it is
    blind there, and the moderators must know."""

    room: str
    code: str


@dataclass(frozen=True)
class BotNick(Event):
    """The bot's own nick on an IRC network: ``current`` differs from the configured ``wanted`` while
    someone else holds it, so private messages to ``wanted`` reach them, not the bot. Sent when that
    starts, again while it lasts, and once more when the bot has its nick back (``current == wanted``)."""

    wanted: str
    current: str
    reclaiming: str = "retry"  # how the bot takes it back: "services" (NickServ) or "retry" (NICK)


@dataclass(frozen=True)
class Undecryptable(Event):
    """An end-to-end encrypted message arrived that the bot cannot read yet (the sender's app shared no
    key with the bot's device). ``room`` is ``None`` in a direct room. The adapter asked for the key and
    hands the message on if it arrives; until then the bot is blind to it, and operators must know."""

    room: str | None


@dataclass(frozen=True)
class ActionOutcome(Event):
    """The result of executing one action, fed back to the engine (as h11 takes bytes back).

    ``ok``: the server accepted it. Otherwise ``definitive`` says whether the failure is final (no
    such user, forbidden) rather than unknown (timeout); ``code`` is a short machine code such as
    ``M_FORBIDDEN`` or ``482``, never free text.
    """

    action_id: int
    ok: bool
    ref: str | None = None
    code: str | None = None
    definitive: bool = True
    user: str | None = None  # the person's id now, if the network says it changed (IRC nick change)


@dataclass(frozen=True)
class ReloadResult(Event):
    """The outcome of a ReloadPolicies action: empty ``errors`` means the new policies are applied."""

    action_id: int
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tick(Event):
    """Time passed: lets the engine run timers (re-posts, follow-ups) without a clock of its own."""


def guidelines_digest(text: str) -> str:
    """A short digest of guidelines text: what the bot pinned is recognised after a restart without
    keeping the text (adapters compute it for ``RoomReady.pinned_digest``, the engine for what it posts)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
