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
           "ack_histogram", "duration_text"]

TIERS = ("concern", "high", "imminent")
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

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked is None else self.acked - self.opened

    @property
    def followup(self) -> str:
        """done (closed by a moderator), overdue (the reminder came and it is still open) or open."""
        if self.closed is not None or self.status.startswith("closed"):
            return "done"
        return "overdue" if self.reminded is not None else "open"


def cases_from_log(cases: Iterable[dict], events: Iterable[dict]) -> list[CaseView]:
    views = {c["case"]: CaseView(c["case"], c["network"], c["room"], c["subject"], c["tier"], c["status"],
                                 c["opened"]) for c in cases}
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
    return list(views.values())


def week_start(ts: float) -> dt.date:
    day = dt.datetime.fromtimestamp(ts, dt.timezone.utc).date()
    return day - dt.timedelta(days=day.weekday())


def weekly_by_tier(views: list[CaseView], since: float, until: float) -> list[tuple[dt.date, dict[str, int]]]:
    """Cases opened per week (Monday to Sunday, UTC), by tier; every week of the window, empty ones too."""
    weeks: dict[dt.date, dict[str, int]] = {}
    w, last = week_start(since), week_start(until)
    while w <= last:
        weeks[w] = {t: 0 for t in TIERS}
        w += dt.timedelta(days=7)
    for v in views:
        weeks.setdefault(week_start(v.opened), {t: 0 for t in TIERS})[v.tier] += 1
    return sorted(weeks.items())


ACK_BUCKETS = ((300, "< 5 min"), (900, "5-15 min"), (3600, "15-60 min"), (4 * 3600, "1-4 h"),
               (24 * 3600, "4-24 h"), (float("inf"), "> 1 day"))


def ack_histogram(views: list[CaseView]) -> list[tuple[str, int]]:
    """How long moderators took to acknowledge, in buckets, and how many cases nobody acknowledged."""
    counts = {label: 0 for _, label in ACK_BUCKETS}
    missing = 0
    for v in views:
        s = v.ack_seconds
        if s is None:
            missing += 1
            continue
        counts[next(label for limit, label in ACK_BUCKETS if s < limit)] += 1
    return list(counts.items()) + [("never", missing)]


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
