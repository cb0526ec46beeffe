"""Actions: what the core asks adapters (or the event log) to do.

Every action has an ``id``, unique within one engine, so its outcome can be fed back. Text in these
actions is the bot's own (rendered templates); a user's words are never put into an action.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Action", "PostNotice", "PinNotice", "SetTopic", "SendPrivate", "GreetUser", "RemoveFromRoom", "RedactMessage",
    "AlertModerators", "Readmit", "PostDigest", "ReloadPolicies", "OpenCase", "UpdateCase", "RecordEvent", "JournalStep",
    "FinishCase", "JournalCase", "ADAPTER_ACTIONS",
]


@dataclass(frozen=True)
class Action:
    id: int
    network: str
    case: str | None = field(default=None, kw_only=True)
    step: str | None = field(default=None, kw_only=True)  # dm, removal or alert of a case (journalled)
    # which message of that step of the case (1: the first; an update alert or a joined detection's
    # message is a later one): part of its resend key, so a new message is never taken for a resend
    seq: int = field(default=0, kw_only=True)


@dataclass(frozen=True)
class PostNotice(Action):
    room: str
    text: str = field(repr=False)
    purpose: str = "notice"  # guidelines, reply, ...


@dataclass(frozen=True)
class PinNotice(Action):
    """Pin ``ref`` in ``room``, replacing the bot's own earlier pin ``replaces`` (others' pins stay)."""

    room: str
    ref: str
    replaces: str | None = None


@dataclass(frozen=True)
class SetTopic(Action):
    room: str
    text: str = field(repr=False)


@dataclass(frozen=True)
class SendPrivate(Action):
    user: str
    text: str = field(repr=False)
    purpose: str = "crisis"  # crisis, reply, resources


@dataclass(frozen=True)
class GreetUser(Action):
    room: str
    user: str
    text: str = field(repr=False)


@dataclass(frozen=True)
class RemoveFromRoom(Action):
    room: str
    user: str
    reason: str  # neutral: every member of the room can read it
    ban_seconds: int | None = None  # also ban for this long, where the network supports it (IRC)


@dataclass(frozen=True)
class RedactMessage(Action):
    """Remove the at-risk message from the group room (networks that can; IRC cannot)."""

    room: str
    ref: str
    reason: str  # neutral: visible to the room


@dataclass(frozen=True)
class AlertModerators(Action):
    room: str  # the moderators' room, on ``network``
    text: str = field(repr=False)
    priority: str = "normal"
    message_ref: str | None = None  # the at-risk message, for a link the adapter knows how to make
    mention_all: bool = False  # escalation: notify every moderator (Matrix @room; IRC: the ops' nicks)


@dataclass(frozen=True)
class Readmit(Action):
    """Let a removed person back: lift a ban if there is one, and invite them."""

    room: str
    user: str


@dataclass(frozen=True)
class PostDigest(Action):
    """The weekly digest for one moderators' room, about ``rooms`` (each (network, room)) in the week up
    to ``until``. Its text is built from the event log when it is carried out (the core keeps no
    history), then posted as a notice."""

    room: str
    rooms: tuple[tuple[str, str], ...]
    until: float


@dataclass(frozen=True)
class ReloadPolicies(Action):
    """Validate the config and policies again and apply them only if all are valid (runner does the I/O)."""

    room: str  # where to report the result


@dataclass(frozen=True)
class OpenCase(Action):
    room: str
    user: str
    tier: str
    rules: tuple[str, ...]
    ref: str | None = None
    kind: str = "risk"
    observe: bool = False
    moderator: bool = False  # the person is a moderator of the room: never removed automatically
    raid: bool = False  # a raid case (shares a raid's pattern): listed in the raid alert, never removed automatically


@dataclass(frozen=True)
class JournalStep(Action):
    """A step of a case that needs no network action (skipped, or decided by policy), for the journal."""

    name: str
    state: str


@dataclass(frozen=True)
class FinishCase(Action):
    """Every step of the case is settled: the journal can forget whom it was about."""


@dataclass(frozen=True)
class JournalCase(Action):
    """A case's state after it changed, for the journal: what a restart rebuilds it from (the person's id
    and the moderator's are sealed there; closing the case wipes them). States are enum values, never text."""

    user: str
    outreach: str
    removal: str
    alerting: str
    handling: str
    dm_detail: str | None = None
    removal_detail: str | None = None
    priority: str = "normal"
    alerted_at: float | None = None
    escalations: int = 0
    followup_due: float | None = None
    acked_by: str | None = None
    forced: bool = False
    observe: bool = False
    raid: bool = False
    # what a joined "talk" request or detection changed (``CaseWork._join``); counts of messages sent
    tier: str = "concern"
    rules: tuple[str, ...] = ()
    kind: str = "risk"
    talk: bool = False
    dm_sends: int = 0
    alert_sends: int = 0
    # a detection that joined while the case's message or removal was under way: its round starts once
    # that step is settled, after a restart too (``CaseWork._join``)
    waiting_tier: str | None = None
    waiting_rules: tuple[str, ...] = ()
    # keyed digests of the case's alerts' network ids (a moderator's ✅ on one acknowledges the case)
    alert_digests: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateCase(Action):
    status: str | None = None  # None: unchanged
    tier: str | None = None  # a joined detection raised it
    kind: str | None = None  # a "talk" case the person then wrote at risk in is a risk case


@dataclass(frozen=True)
class RecordEvent(Action):
    """A row for the event log. Fields are ids, codes and names only: never text."""

    kind: str
    room: str | None = None
    user: str | None = None
    tier: str | None = None
    rules: tuple[str, ...] = ()
    outcome: str | None = None
    code: str | None = None
    command: str | None = None
    authorised: bool | None = None


# Actions that go to a network adapter; the rest are carried out by the runner against the event log.
ADAPTER_ACTIONS = (PostNotice, PinNotice, SetTopic, SendPrivate, GreetUser, RemoveFromRoom, RedactMessage,
                   AlertModerators, Readmit, PostDigest)
