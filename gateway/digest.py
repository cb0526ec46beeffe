"""The weekly digest in each moderators' room: when it is due (the engine's part, sans-I/O) and what it
says (built from event-log figures when it is carried out, ``digest_text``).

Due at the day and hour (UTC) the room's policy sets (``digest:``; Monday 09:00 by default), once a
week per moderators' room, covering every group room whose alerts go there. A gateway that was down at
that hour sends it within the next day, or not that week. When it was last sent is read back from the
event log at start (``Engine.digest_sent``), so a restart does not send it twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from . import actions as A
from .cases import Step
from .events import ActionOutcome
from .insight import TIERS, TROUBLE, CaseView, Trouble, duration_text, median
from .modtext import ModeratorText, english
from .rooms import RoomBinding

__all__ = ["WeeklyDigest", "digest_text", "last_due"]

WEEK = 7 * 86400.0
KINDS_APART = ("talk", "thirdparty")  # cases the digest counts by kind, not by the tier their line carried
LATE_BY_AT_MOST = 86400.0


def last_due(ts: float, day: int, hour: int) -> float:
    """The latest digest time (weekday ``day``, ``hour`` UTC) at or before ``ts``."""
    now = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    due = now.replace(hour=hour, minute=0, second=0, microsecond=0) - dt.timedelta(days=(now.weekday() - day) % 7)
    if due > now:
        due -= dt.timedelta(days=7)
    return due.timestamp()


class WeeklyDigest:
    """The engine's digest part (uses the engine's ``rooms``, ``digest_sent`` and action helpers)."""

    def _digests_due(self, ts: float) -> list[A.Action]:
        groups: dict[tuple[str, str], list[RoomBinding]] = {}
        for b in self.rooms.values():
            if b.moderators_room and b.policy.digest.enabled:
                groups.setdefault((b.moderators_network, b.moderators_room), []).append(b)
        out: list[A.Action] = []
        for key, bindings in sorted(groups.items()):
            d = bindings[0].policy.digest  # the first room's policy sets the time for its moderators
            due = last_due(ts, d.day, d.hour)
            # sent already: at or after its time, or (read back from the event log, whose rows carry the
            # time of writing) within the day before it; last week's was sent about 7 days before
            if ts - due > LATE_BY_AT_MOST or self.digest_sent.get(key, 0.0) >= due - LATE_BY_AT_MOST:
                continue
            self.digest_sent[key] = due  # one attempt per week: a failure is recorded, not repeated
            post = A.PostDigest(self._id(), key[0], room=key[1], until=due,
                                rooms=tuple(sorted((b.network, b.room) for b in bindings)))
            out.append(self._expect(post, Step.DIGEST, key))
        return out

    def _after_digest(self, key: tuple[str, str], out: ActionOutcome) -> list[A.Action]:
        return [self.record(key[0], "digest_sent" if out.ok else "digest_failed", room=key[1],
                            outcome="ok" if out.ok else "failed", code=out.code)]


def digest_text(week: list[CaseView], open_cases: list[CaseView], trouble: Trouble, *, until: float,
                room_names: list[str], networks_down: list[str], words: ModeratorText | None = None) -> str:
    """The digest: figures and case ids only (the event log holds no text and no names), in ``words``'
    language (the moderators'; English by default)."""
    words = words or english()
    since = until - WEEK
    fmt = words("digest_date")
    head = words("digest_head", rooms=", ".join(room_names),
                 since=dt.datetime.fromtimestamp(since, dt.timezone.utc).strftime(fmt),
                 until=dt.datetime.fromtimestamp(until, dt.timezone.utc).strftime(fmt))
    # risk cases by tier; a talk request or a case about someone else is counted as what it is, never as
    # the tier its line happened to carry
    tiers = Counter(v.tier for v in week if v.kind not in KINDS_APART)
    kinds = Counter(v.kind for v in week)
    acked = [v.ack_seconds for v in week if v.ack_seconds is not None]
    counted = ", ".join([words("digest_tier", count=tiers[t], tier=words.tier(t)) for t in TIERS if tiers[t]]
                        + [words(f"digest_{k}", count=kinds[k]) for k in KINDS_APART if kinds[k]])
    median_text = duration_text(median(acked))
    if median_text.endswith(" days"):
        median_text = median_text.removesuffix("days") + words("digest_days")
    lines = [head,
             words("digest_cases", count=len(week), tiers=f" ({counted})" if week else "",
                   sent=sum(v.dm == "sent" for v in week), failed=sum(v.dm == "failed" for v in week),
                   removed=sum(v.removal == "done" for v in week)),
             words("digest_ack", median=median_text, acked=len(acked), count=len(week))]
    overdue = [v.case for v in open_cases if v.followup == "overdue"]
    waiting = [v.case for v in open_cases if v.followup == "open"]
    followups = [words("digest_overdue", case=c) for c in overdue] + waiting
    lines.append(words("digest_followups", cases=", ".join(followups) if followups else words("digest_none")))
    said = {text: kind for kind, text in TROUBLE.items()}  # Trouble counts by the English description
    problems = [f"{n} {words('trouble_' + said[what]) if what in said else what}"
                + (f" ({', '.join(sorted(trouble.codes[what]))})" if trouble.codes.get(what) else "")
                for what, n in sorted(trouble.counts.items())]
    problems += [words("digest_network_down", network=n) for n in networks_down]
    lines.append(words("digest_trouble", problems="; ".join(problems) if problems else words("digest_none")))
    lines.append(words("digest_end"))
    return "\n".join(lines)
