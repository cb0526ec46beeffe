"""What the weekly digest says: figures and case ids read from the event log, in the moderators' language.
When it is due is the engine's part (``gateway/core/digest.py``); the service builds the text when the
engine's ``PostDigest`` action is carried out."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ..policy.moderator_text import ModeratorText, english
from .insight import TIERS, TROUBLE, CaseView, Trouble, duration_text, median

__all__ = ["WEEK", "digest_text"]

WEEK = 7 * 86400.0
KINDS_APART = ("talk", "thirdparty")  # cases the digest counts by kind, not by the tier their line carried


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
