"""A case's lifecycle as explicit state machines: the private message, the removal, the alert, and the
moderators' handling, each an enum with a table of the transitions it may make.

Why: a case decides what happens to a person (may they be removed? was the alert sent?). When that
state lived in display strings, code compared prose (``case.dm.startswith("not sent again")``) and a
typo in a message could change behaviour. Here each aspect is an enum; ``Case.to`` refuses a transition
the table does not list (``IllegalTransition``), so an impossible sequence of outcomes fails loudly in
tests instead of silently reaching a person; and the text moderators read is derived from the state
(``Case.dm_text`` and friends), never compared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..policy.moderator_text import english
from ..policy.model import ALERT_PRIORITIES

if TYPE_CHECKING:
    from ..policy.moderator_text import ModeratorText
    from ..detection import Detection
    from .rooms import RoomBinding

__all__ = ["Outreach", "Removal", "Alerting", "Handling", "Step", "IllegalTransition", "Case", "TRANSITIONS",
           "age_text", "case_list", "message_link", "raised"]

def case_list(ids: list[str], most: int = 20, words: "ModeratorText | None" = None) -> str:
    """Case ids for an alert that lists many: the first ``most``, then how many more (in ``words``' language)."""
    more = (words or english())("and_more", count=len(ids) - most) if len(ids) > most else ""
    return ", ".join(ids[:most]) + more


def message_link(b: "RoomBinding", ref: str | None) -> str:
    """A link to the message for the alert (Matrix only); never its text."""
    if not ref or b.network_type != "matrix":
        return ""
    return b.policy.words("message_link", url=f"https://matrix.to/#/{b.room}/{ref}")


def raised(priority: str) -> str:
    """The next alert priority up (an alert about a failure is louder)."""
    i = ALERT_PRIORITIES.index(priority)
    return ALERT_PRIORITIES[min(i + 1, len(ALERT_PRIORITIES) - 1)]


def age_text(seconds: float) -> str:
    """A short human duration in English: 45s, 12m, 3h, 2d (``Policy.words.age`` in the moderators' language)."""
    return english().age(seconds)


class Outreach(enum.Enum):
    """The private message to the person."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"  # accepted by the server
    PARTIAL = "partial"  # IRC: they changed nick in the middle of it and the rest did not reach them
    FAILED = "failed"  # refused by the server (detail: its code)
    UNKNOWN = "unknown"  # the gateway restarted while sending it and the network cannot say
    NOT_SENT = "not_sent"  # resumed after a restart without one
    NOT_AGAIN = "not_again"  # one was sent recently (detail: how long ago)
    RAID_BUDGET = "raid_budget"  # a raid used up the private-message budget
    OBSERVE = "observe"  # observe mode or a paused room
    NONE = "none"  # the tier sends no message
    HOW_TO_HELP = "how_to_help"  # a third-party case: the writer got how to help someone
    ASKED = "asked"  # a "talk" case: the person asked for a moderator


class Removal(enum.Enum):
    PENDING = "pending"
    REMOVING = "removing"
    DONE = "done"
    FAILED = "failed"  # detail: the server's code
    NOT_NEEDED = "not_needed"
    MODERATOR = "moderator"  # they moderate the room: the bot never removes one
    RAID_PAUSED = "raid_paused"
    KEPT_DM_FAILED = "kept_dm_failed"  # the private message failed and the policy keeps them
    KEPT_NO_DM = "kept_no_dm"  # no private message of this case reached them
    OBSERVE = "observe"


class Alerting(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    NOT_NEEDED = "not_needed"  # the tier alerts nobody
    NO_ROOM = "no_room"  # no moderators' room configured
    RAID_LIST = "raid_list"  # listed in the room's raid alert
    FLOOD_LIST = "flood_list"  # listed in a flood alert of "talk" requests


class Handling(enum.Enum):
    """What the moderators did with it."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Step(enum.Enum):
    """What an action the engine waits on was for; its outcome goes to the handler for this step."""

    DM = "dm"
    REMOVAL = "removal"
    REDACTION = "redaction"
    ALERT = "alert"
    FOLLOWUP = "followup"
    ESCALATION = "escalation"
    READMIT = "readmit"
    GUIDELINES_POST = "guidelines_post"
    GUIDELINES_PIN = "guidelines_pin"
    DIGEST = "digest"
    RELOAD = "reload"

    @property
    def journalled(self) -> bool:
        """Steps the event log journals so that a restart resumes them (see ``Engine.resume``)."""
        return self in (Step.DM, Step.REMOVAL, Step.ALERT)


_O, _R, _A, _H = Outreach, Removal, Alerting, Handling
_RESUMED_DM = {_O.DELIVERED, _O.FAILED, _O.UNKNOWN, _O.NOT_SENT}  # read back from the journal
# A moderator's !remove messages a person again whom no message of this case reached.
_RETRY_DM = {_O.SENDING}
# A detection that joins an open case starts its next round (``CaseWork._join``): the raised tier's
# message and removal are decided afresh, from PENDING, once no step of the case is under way.
_ROUND = {_O.PENDING}
_NEXT_ROUND_REMOVAL = {_R.PENDING}
TRANSITIONS: dict[enum.Enum, frozenset] = {
    _O.PENDING: frozenset({_O.SENDING, _O.NOT_AGAIN, _O.RAID_BUDGET, _O.OBSERVE, _O.NONE, _O.HOW_TO_HELP,
                           _O.ASKED} | _RESUMED_DM),
    _O.SENDING: frozenset({_O.DELIVERED, _O.FAILED, _O.PARTIAL}),
    _O.DELIVERED: frozenset(_ROUND),
    _O.PARTIAL: frozenset(_RETRY_DM | _ROUND),
    _O.FAILED: frozenset(_RETRY_DM | _ROUND),
    _O.UNKNOWN: frozenset(_RETRY_DM | _ROUND),
    _O.NOT_SENT: frozenset(_RETRY_DM | _ROUND),
    _O.NOT_AGAIN: frozenset(_RETRY_DM | _ROUND),
    _O.RAID_BUDGET: frozenset(_RETRY_DM | _ROUND),
    _O.OBSERVE: frozenset(_RETRY_DM | _ROUND),
    _O.NONE: frozenset(_RETRY_DM | _ROUND),
    _O.HOW_TO_HELP: frozenset(),
    _O.ASKED: frozenset(_ROUND),  # a "talk" case the person then wrote at risk in: a risk case

    _R.PENDING: frozenset({_R.REMOVING, _R.DONE, _R.FAILED, _R.NOT_NEEDED, _R.MODERATOR, _R.RAID_PAUSED,
                           _R.KEPT_DM_FAILED, _R.KEPT_NO_DM, _R.OBSERVE}),
    _R.REMOVING: frozenset({_R.DONE, _R.FAILED}),
    # writing in the room again, they are back in it (readmitted): the next round decides afresh
    _R.DONE: frozenset(_NEXT_ROUND_REMOVAL),
    # a moderator's !remove (or, after a kept person's message got through, the rule) may remove later
    _R.FAILED: frozenset({_R.REMOVING} | _NEXT_ROUND_REMOVAL),
    _R.NOT_NEEDED: frozenset({_R.REMOVING, _R.KEPT_DM_FAILED, _R.KEPT_NO_DM} | _NEXT_ROUND_REMOVAL),
    _R.MODERATOR: frozenset({_R.REMOVING, _R.KEPT_DM_FAILED, _R.KEPT_NO_DM} | _NEXT_ROUND_REMOVAL),
    _R.RAID_PAUSED: frozenset({_R.REMOVING, _R.KEPT_DM_FAILED, _R.KEPT_NO_DM} | _NEXT_ROUND_REMOVAL),
    _R.KEPT_DM_FAILED: frozenset({_R.REMOVING, _R.KEPT_NO_DM} | _NEXT_ROUND_REMOVAL),
    _R.KEPT_NO_DM: frozenset({_R.REMOVING, _R.KEPT_DM_FAILED} | _NEXT_ROUND_REMOVAL),
    _R.OBSERVE: frozenset({_R.REMOVING, _R.KEPT_DM_FAILED, _R.KEPT_NO_DM} | _NEXT_ROUND_REMOVAL),

    _A.PENDING: frozenset({_A.SENDING, _A.NOT_NEEDED, _A.NO_ROOM, _A.RAID_LIST, _A.FLOOD_LIST}),
    _A.SENDING: frozenset({_A.SENT, _A.FAILED}),
    # later updates (after a moderator's !remove) are alerts of the same case
    # (two alerts of one case can be in flight, the first and an update: the latest outcome counts)
    _A.SENT: frozenset({_A.SENDING, _A.FAILED, _A.NOT_NEEDED, _A.NO_ROOM}),
    _A.FAILED: frozenset({_A.SENDING, _A.SENT, _A.NOT_NEEDED, _A.NO_ROOM}),
    _A.NOT_NEEDED: frozenset({_A.SENDING, _A.NO_ROOM}),
    _A.NO_ROOM: frozenset({_A.SENDING, _A.NOT_NEEDED}),
    _A.RAID_LIST: frozenset({_A.SENDING, _A.NOT_NEEDED, _A.NO_ROOM}),
    _A.FLOOD_LIST: frozenset({_A.SENDING, _A.NOT_NEEDED, _A.NO_ROOM}),

    _H.OPEN: frozenset({_H.ACKNOWLEDGED, _H.CLOSED}),
    _H.ACKNOWLEDGED: frozenset({_H.CLOSED}),
    _H.CLOSED: frozenset(),
}
_FIELD = {Outreach: "outreach", Removal: "removal", Alerting: "alerting", Handling: "handling"}


class IllegalTransition(RuntimeError):
    """A case was asked to move to a state its table does not allow from where it is (a bug)."""


_DM_TEXT = {
    _O.PENDING: "pending", _O.SENDING: "being sent", _O.DELIVERED: "delivered",
    _O.PARTIAL: "only partly delivered: they changed nick in the middle of it and the rest did not reach them",
    _O.FAILED: "not delivered ({detail})", _O.UNKNOWN: "unknown (the gateway restarted while sending it)",
    _O.NOT_SENT: "not sent", _O.NOT_AGAIN: "not sent again (one was sent {detail} ago)",
    _O.RAID_BUDGET: "not sent (raid: the private message budget for this window is used up)",
    _O.OBSERVE: "not sent (observe mode)", _O.NONE: "none", _O.HOW_TO_HELP: "sent how to help someone",
    _O.ASKED: "asked to talk",
}
_REMOVAL_TEXT = {
    _R.PENDING: "pending", _R.REMOVING: "in progress", _R.DONE: "done",
    _R.FAILED: "FAILED ({detail}): still in the room", _R.NOT_NEEDED: "not needed",
    _R.MODERATOR: "not done: they are a moderator of this room (the bot never removes one)",
    _R.RAID_PAUSED: "not done: automatic removal is paused in a raid",
    _R.KEPT_DM_FAILED: "kept in the room (private message failed; policy keeps them)",
    _R.KEPT_NO_DM: "kept in the room (no private message reached them)",
    _R.OBSERVE: "not done (observe mode)",
}
STATUS_WORDING = frozenset(_DM_TEXT.values()) | frozenset(_REMOVAL_TEXT.values())  # what LANG.yaml translates
_ALERT_TEXT = {
    _A.PENDING: "pending", _A.SENDING: "being sent", _A.SENT: "sent", _A.FAILED: "failed",
    _A.NOT_NEEDED: "not needed", _A.NO_ROOM: "no moderators room", _A.RAID_LIST: "listed in the raid alert",
    _A.FLOOD_LIST: "listed in a flood alert",
}


@dataclass
class Case:
    id: str
    binding: "RoomBinding"
    user: str
    detection: "Detection"
    message_ref: str | None
    opened: float
    observe: bool
    kind: str = "risk"  # "risk" (detected), "talk" (the person asked for a moderator), "thirdparty"
    outreach: Outreach = Outreach.PENDING
    removal: Removal = Removal.PENDING
    alerting: Alerting = Alerting.PENDING
    handling: Handling = Handling.OPEN
    details: dict = field(default_factory=dict)  # state -> short detail shown with it (a code, an age)
    followup_due: float | None = None
    followup_sending: bool = False  # the reminder is on its way: still due in the journal until its outcome
    priority: str = "normal"  # of the first alert
    alerted_at: float | None = None
    escalations: int = 0  # 1: repeated, 2: widened to every moderator
    acked_by: str | None = None
    closed: str | None = None  # the outcome a moderator closed it with
    forced_remove: bool = False  # a moderator asked for a removal the tier did not make
    resumed: bool = False  # carried on after a restart
    moderator: bool = False  # the person is a moderator of the room: messaged and reported, never removed
    raid: bool = False  # a raid case (it shares the raid's pattern, policy ``limits``): listed in the raid alert
    in_raid: bool = False  # opened while its room was raided (``raid`` or not)
    # what happened to it, from the engine's records with its id (gateway/core/history.py): kinds, times,
    # outcomes, codes and the moderators who acted; never text. Memory only, rebuilt from the event log.
    history: list = field(default_factory=list, repr=False)
    asked_to_talk: bool = False  # the person replied "talk" (a "talk" case, or one their request joined)
    change: str | None = None  # what a joined request or detection changed: the next alert is an update
    waiting_join: "tuple[Detection, str | None, float] | None" = None  # a detection waiting for a step under way
    # how many private messages and alerts of this case were sent: a later one gets its own resend key
    # (Matrix de-duplicates by transaction id: a new message under an old key would never arrive)
    sends: dict = field(default_factory=dict)
    replay: set = field(default_factory=set)  # steps whose next send repeats the last (resumed after a crash)

    def to(self, state: enum.Enum, detail: str | None = None) -> None:
        """Move one aspect of the case to ``state``; refuses what ``TRANSITIONS`` does not allow."""
        name = _FIELD[type(state)]
        current = getattr(self, name)
        if state is not current and state not in TRANSITIONS[current]:
            raise IllegalTransition(f"case {self.id}: {name} {current.value} -> {state.value}")
        setattr(self, name, state)
        if detail is not None:
            self.details[state] = detail

    def next_send(self, step: str) -> int:
        """The number of the next message of ``step`` (1 for the first), the same again for a replay."""
        if step in self.replay:
            self.replay.discard(step)
            return self.sends.get(step) or 1
        self.sends[step] = self.sends.get(step, 0) + 1
        return self.sends[step]

    @property
    def busy(self) -> bool:
        """A private message or a removal of this case is under way (its outcome is not in yet)."""
        return self.outreach is Outreach.SENDING or self.removal is Removal.REMOVING

    # -- derived facts ----------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        return self.handling is not Handling.CLOSED

    @property
    def tier(self) -> str:
        return self.detection.tier

    @property
    def dm_accepted(self) -> bool:
        """A private message of this case was accepted by the server (the condition for a removal)."""
        return self.outreach is Outreach.DELIVERED

    @property
    def dm_attempted(self) -> bool:
        """A private message of this case was sent: accepted, refused, cut short or of unknown fate."""
        return self.outreach in (Outreach.DELIVERED, Outreach.FAILED, Outreach.PARTIAL, Outreach.UNKNOWN)

    @property
    def removed(self) -> bool:
        return self.removal is Removal.DONE

    @property
    def awaiting_alert(self) -> bool:
        return self.alerting in (Alerting.PENDING, Alerting.SENDING, Alerting.FAILED)

    # -- what moderators read ---------------------------------------------------------------------

    def _text(self, table: dict, state: enum.Enum, words: dict[str, str] | None = None) -> str:
        wording = table[state]
        return (words or {}).get(wording, wording).format(detail=self.details.get(state) or "unknown")

    def statuses_in(self, words: dict[str, str]) -> tuple[str, str]:
        """(private message, removal) as an alert tells them, in the moderators' language: ``words`` maps
        this module's English wording to theirs (``statuses:`` in policies/templates/LANG.yaml)."""
        return self._text(_DM_TEXT, self.outreach, words), self._text(_REMOVAL_TEXT, self.removal, words)

    @property
    def dm_text(self) -> str:
        return self._text(_DM_TEXT, self.outreach)

    @property
    def removal_text(self) -> str:
        return self._text(_REMOVAL_TEXT, self.removal)

    @property
    def alert_text(self) -> str:
        return self._text(_ALERT_TEXT, self.alerting)
