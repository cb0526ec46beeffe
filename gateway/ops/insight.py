"""What the event log says about the safeguarding work, for the case report and the weekly digest.

Everything here is computed from event-log rows (ids, times, rooms, tiers, pseudonyms, outcomes), so
whatever the report or the digest shows can be checked against ``gateway log export``; nothing here
can show text or a network id of a person, because the event log holds neither.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Iterable

__all__ = ["CaseView", "cases_from_log", "weekly_by_tier", "median", "TIERS", "trouble", "ACK_BUCKETS",
           "ack_histogram", "duration_text", "NOT_YET_WINDOW", "KINDS"]

TIERS = ("concern", "high", "imminent")
# What the weekly chart stacks: the tiers of risk cases (and of reports about someone else), and
# requests to talk that opened a case of their own.
KINDS = (*TIERS, "talk request")
# An open case nobody acknowledged yet is "not yet" acknowledged for this long after it opened (the
# default escalation's ``widen_after``: until then its alert may simply not have been read yet), then
# "never"; a case closed without an acknowledgement is "never" at once.
NOT_YET_WINDOW = 1800.0
DM_KINDS = {"dm_sent": "sent", "dm_failed": "failed", "dm_skipped": "skipped"}
REMOVAL_KINDS = {"removed": "done", "removal_failed": "failed"}
# Network trouble worth a moderator's attention, by event kind.
TROUBLE = {"room_unavailable": "the bot could not join a room", "undecryptable": "encrypted messages it could not read",
           "dm_failed": "private messages not delivered", "removal_failed": "removals that failed",
           "alert_failed": "alerts that failed", "followup_failed": "follow-up reminders that failed"}


@dataclass
class CaseView:
    """One case as moderators review it: what happened to it and when (times in seconds)."""

    case: str
    network: str
    room: str
    subject: str  # the keyed pseudonym, never the person's id
    tier: str
    status: str
    opened: float
    dm: str = "none"  # sent, failed, skipped or none (no private message was due)
    removal: str = "none"  # done, failed or none (not due, or held back: no removal without the message)
    alerted: float | None = None
    acked: float | None = None
    closed: float | None = None
    reminded: float | None = None  # the follow-up reminder went to the moderators
    kind: str = "risk"  # risk, talk (asked for a moderator), thirdparty (about someone they know)
    talk: int = 0  # requests to talk: the one that opened a talk case, and those that joined the case
    raised: int = 0  # detections that raised the tier of the open case
    escalations: int = 0  # unacknowledged alerts repeated or widened to every moderator
    external: bool = False  # a moderator recorded contacting emergency services
    readmitted: float | None = None  # a moderator let the removed person back

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked is None else self.acked - self.opened

    def ack_state(self, until: float) -> str:
        """acknowledged, "not yet" (open, within NOT_YET_WINDOW of opening at ``until``) or "never"."""
        if self.acked is not None:
            return "acknowledged"
        if self.closed is None and not self.status.startswith("closed") and until - self.opened < NOT_YET_WINDOW:
            return "not yet"
        return "never"

    @property
    def chart_kind(self) -> str:
        """Where the weekly chart counts it: a talk request of its own, else its tier."""
        return "talk request" if self.kind == "talk" else self.tier

    @property
    def followup(self) -> str:
        """done (closed by a moderator), overdue (the reminder came and it is still open) or open."""
        if self.closed is not None or self.status.startswith("closed"):
            return "done"
        return "overdue" if self.reminded is not None else "open"


def cases_from_log(cases: Iterable[dict], events: Iterable[dict]) -> list[CaseView]:
    views = {c["case"]: CaseView(c["case"], c["network"], c["room"], c["subject"], c["tier"], c["status"],
                                 c["opened"], kind=c.get("kind") or "risk") for c in cases}
    for e in events:
        v = views.get(e["case"]) if e["case"] else None
        if v is None:
            continue
        kind = e["kind"]
        if kind in DM_KINDS and v.dm != "sent":
            v.dm = DM_KINDS[kind]
        elif kind in REMOVAL_KINDS and v.removal != "done":
            v.removal = REMOVAL_KINDS[kind]
        elif kind == "alerted" and v.alerted is None:
            v.alerted = e["ts"]
        elif kind == "acked" and v.acked is None:
            v.acked = e["ts"]
        elif kind == "closed":
            v.closed = e["ts"]
        elif kind == "followup_sent" and v.reminded is None:
            v.reminded = e["ts"]
        elif kind == "talk_requested":
            v.talk += 1
        elif kind == "case_updated" and e["outcome"] in ("raised", "risk"):
            v.raised += 1
        elif kind in ("alert_repeated", "alert_widened"):
            v.escalations += 1
        elif kind == "escalated_external":
            v.external = True
        elif kind == "readmitted" and v.readmitted is None:
            v.readmitted = e["ts"]
    return list(views.values())


def week_start(ts: float) -> dt.date:
    day = dt.datetime.fromtimestamp(ts, dt.timezone.utc).date()
    return day - dt.timedelta(days=day.weekday())


def weekly_by_tier(views: list[CaseView], since: float, until: float) -> list[tuple[dt.date, dict[str, int]]]:
    """Cases opened per week (Monday to Sunday, UTC), by tier, and talk requests of their own
    (``KINDS``); every week of the window, empty ones too."""
    weeks: dict[dt.date, dict[str, int]] = {}
    w, last = week_start(since), week_start(until)
    while w <= last:
        weeks[w] = {k: 0 for k in KINDS}
        w += dt.timedelta(days=7)
    for v in views:
        weeks.setdefault(week_start(v.opened), {k: 0 for k in KINDS})[v.chart_kind] += 1
    return sorted(weeks.items())


ACK_BUCKETS = ((300, "< 5 min"), (900, "5-15 min"), (3600, "15-60 min"), (4 * 3600, "1-4 h"),
               (24 * 3600, "4-24 h"), (float("inf"), "> 1 day"))


def ack_histogram(views: list[CaseView], until: float) -> list[tuple[str, int]]:
    """How long moderators took to acknowledge, in buckets; then the cases not acknowledged yet (open
    and recent, see NOT_YET_WINDOW) and those nobody acknowledged ("never")."""
    counts = {label: 0 for _, label in ACK_BUCKETS}
    counts.update({"not yet": 0, "never": 0})
    for v in views:
        s = v.ack_seconds
        if s is None:
            counts[v.ack_state(until)] += 1
            continue
        counts[next(label for limit, label in ACK_BUCKETS if s < limit)] += 1
    return list(counts.items())


def median(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass
class Trouble:
    counts: dict[str, int] = field(default_factory=dict)  # what went wrong -> how often
    codes: dict[str, set[str]] = field(default_factory=dict)  # and with which codes


def trouble(events: Iterable[dict], rooms: set[tuple[str, str]] | None = None) -> Trouble:
    """Network trouble in ``events`` (of ``rooms`` only, if given): failed deliveries, rooms the bot could
    not join, unreadable encrypted messages."""
    out = Trouble()
    for e in events:
        what = TROUBLE.get(e["kind"])
        if what is None or (rooms is not None and (e["network"], e["room"]) not in rooms):
            continue
        out.counts[what] = out.counts.get(what, 0) + 1
        if e["code"]:
            out.codes.setdefault(what, set()).add(e["code"])
    return out
