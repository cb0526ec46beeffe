"""A case's history: what happened to it and when, one line each, for ``!case ID`` in the moderators'
room and ``gateway case ID`` on the command line. One formatter for both (``case_text``).

Why it is built from records: everything the engine does for a case it already records with the case's
id (``Engine.record(..., case=...)``: kinds, tiers, outcomes, codes; never text). The engine keeps a
copy of each of those in the case's memory (``Case.history``), and a restart rebuilds it from the event
log's rows of the same kinds (``Restore.restore_history``), so the live history and the offline one
are the same rows. Every kind has a readable name here; a kind this module does not know yet (one a
later change adds) still gets a line, from its name, outcome and code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

from ..policy.moderator_text import ModeratorText, english

__all__ = ["Entry", "note", "entry_text", "history_lines", "case_text", "entries_from_rows", "logged_case_text",
           "HISTORY_KEPT", "SHOWN_IN_CHAT", "OFFLINE_NOTE"]

HISTORY_KEPT = 200  # entries a case keeps in memory (the first, then the latest): retries cannot grow it for ever
SHOWN_IN_CHAT = 20  # lines of history a chat reply shows (the first few and the latest)

OFFLINE_NOTE = ("(The event log keeps no names: the person is shown by pseudonym, and who acknowledged or "
                "closed a case is not kept; `!case ID` in the moderators' room names them while the case is "
                "open.)")


@dataclass
class Entry:
    """One thing that happened to a case: a record's kind and fields (never text). ``by``: the moderator
    who did it, as the network names them (memory only; the event log does not keep it)."""

    ts: float
    kind: str
    tier: str | None = None
    outcome: str | None = None
    code: str | None = None
    by: str | None = None
    count: int = 1  # the same thing again right after (a retry while the network was away): one line

    def same_as(self, other: "Entry") -> bool:
        return (self.kind, self.tier, self.outcome, self.code, self.by) == \
            (other.kind, other.tier, other.outcome, other.code, other.by)


def note(history: list[Entry], entry: Entry) -> None:
    """Add ``entry`` to a case's ``history``: a repeat of the last one is counted on it; beyond
    HISTORY_KEPT entries the oldest after the first (its opening) are dropped."""
    if history and history[-1].same_as(entry):
        history[-1].count += 1
        return
    history.append(entry)
    if len(history) > HISTORY_KEPT:
        del history[1]


def entries_from_rows(rows: Iterable[dict]) -> list[Entry]:
    """A case's history from its event-log rows (``EventLog.case_events``): the same entries the engine
    kept while it ran, without who acted (the log keeps no names)."""
    history: list[Entry] = []
    for r in rows:
        note(history, Entry(r["ts"], r["kind"], r.get("tier"), r.get("outcome"), r.get("code")))
    return history


def _code(e: Entry) -> str:
    return f" ({e.code})" if e.code else ""


def _by(e: Entry, words: ModeratorText) -> str:
    return words("history_by", moderator=e.by) if e.by else ""


_STEPS = ("dm", "removal", "alert", "escalation", "followup")  # their names: ``step_NAME`` of moderator_text


def _opened(e: Entry, words: ModeratorText) -> str:
    if e.outcome == "cooldown":
        return words("h_cooldown", tier=words.tier(e.tier or ""))
    if e.outcome == "joined":
        return words("h_joined", tier=words.tier(e.tier or ""))
    mode = words("h_opened_observe") if e.outcome == "observe" else ""
    return words("h_opened", tier=words.tier(e.tier or ""), mode=mode)


_UPDATED = {"talk", "raised", "again", "lower", "risk"}  # outcomes of case_updated with a line of their own
_DM_SKIPPED = {"rate_limited", "raid_budget"}
_RAID = {"pattern", "distinct", "over_budget"}


def _with_outcome(key: str, known: set[str]) -> Callable[[Entry, ModeratorText], str]:
    """``key_OUTCOME`` for the outcomes in ``known``, else ``key`` (with the outcome and tier as fields)."""
    def line(e: Entry, words: ModeratorText) -> str:
        name = f"{key}_{e.outcome}" if e.outcome in known else key
        return words(name, tier=words.tier(e.tier or ""), outcome=e.outcome)
    return line


def _plain(key: str) -> Callable[[Entry, ModeratorText], str]:
    """A line with only the entry's code and the moderator who acted as fields."""
    return lambda e, words: words(key, code=_code(e), by=_by(e, words))


# record kind -> its line (a function of the entry and the moderators' words, ``h_KIND`` in moderator_text)
KINDS: dict[str, Callable[[Entry, ModeratorText], str]] = {
    "risk_detected": _opened,
    "talk_requested": lambda e, words: words("h_talk_joined" if e.outcome == "joined" else "h_talk"),
    "case_updated": _with_outcome("h_updated", _UPDATED),
    "third_party_reported": _plain("h_third_party"),
    "raid_case": _with_outcome("h_raid", _RAID),
    "dm_sent": _plain("h_dm_sent"),
    "dm_failed": lambda e, words: words("h_dm_unknown" if e.outcome == "unknown" else "h_dm_failed", code=_code(e)),
    "dm_skipped": _with_outcome("h_dm_skipped", _DM_SKIPPED),
    "removed": _plain("h_removed"),
    "removal_failed": _plain("h_removal_failed"),
    "redacted": _plain("h_redacted"),
    "redaction_failed": _plain("h_redaction_failed"),
    "alerted": _plain("h_alerted"),
    "alert_failed": _plain("h_alert_failed"),
    "alert_repeated": _plain("h_alert_repeated"),
    "alert_widened": _plain("h_alert_widened"),
    "acked": lambda e, words: words("h_acked_reaction" if e.outcome == "reaction" else "h_acked", by=_by(e, words)),
    "escalated_external": _plain("h_escalated_external"),
    "followup_sent": _plain("h_followup_sent"),
    "followup_failed": _plain("h_followup_failed"),
    "readmitted": _plain("h_readmitted"),
    "readmit_failed": _plain("h_readmit_failed"),
    "closed": lambda e, words: words("h_closed", by=_by(e, words), outcome=e.outcome or "resolved"),
    "case_resumed": _plain("h_case_resumed"),
}


def entry_text(e: Entry, words: ModeratorText | None = None) -> str:
    """What one entry says to a moderator, in ``words``' language (English by default). A kind not listed in
    KINDS reads from its own name and fields ("joined: high"), so a new kind shows up without more work."""
    words = words or english()
    how = KINDS.get(e.kind)
    text = how(e, words) if how is not None else None
    for step in _STEPS if text is None else ():
        if e.kind == f"{step}_deferred":
            text = words("h_waiting", step=words(f"step_{step}"), code=_code(e))
        elif e.kind == f"{step}_retried":
            text = words("h_retried", step=words(f"step_{step}"))
    if text is None:
        extra = [x for x in (e.tier, e.outcome) if x]
        text = e.kind.replace("_", " ") + (": " + ", ".join(extra) if extra else "") + _code(e) + _by(e, words)
    return text + (words("history_repeated", count=e.count) if e.count > 1 else "")


def _clock(ts: float, day: str | None) -> tuple[str, str]:
    """(the time as shown, its day): the date only when the day changes."""
    t = time.gmtime(ts)
    today = time.strftime("%Y-%m-%d", t)
    shown = time.strftime("%H:%M:%S", t)
    return (shown if today == day else f"{today} {shown}"), today


def history_lines(entries: Iterable[Entry], *, followup_due: float | None = None, now: float | None = None,
                  most: int | None = None, words: ModeratorText | None = None) -> list[str]:
    """One line per entry, oldest first, each with its time (UTC; the date when the day changes); then a
    follow-up reminder still due. ``most``: at most that many lines of entries (the first few and the
    latest, with how many are left out between). ``words``: the moderators' language (English by default)."""
    words = words or english()
    rows = list(entries)
    lines: list[str] = []
    day = None
    for e in rows:
        shown, day = _clock(e.ts, day)
        lines.append(f"{shown} {entry_text(e, words)}")
    if most is not None and len(lines) > most:
        head = 3
        tail = most - head
        lines = lines[:head] + [words("history_more", count=len(lines) - most)] + lines[-tail:]
    if followup_due is not None:
        shown, _ = _clock(followup_due, day)
        when = words("history_in", age=words.age(followup_due - now)) if now is not None and followup_due > now else ""
        lines.append(f"{shown} {words('history_followup_due', when=when)}")
    return lines


def case_text(summary: str, entries: Iterable[Entry], *, followup_due: float | None = None,
              now: float | None = None, most: int | None = None, words: ModeratorText | None = None) -> str:
    """A case as moderators read it: its summary line, then its history with times (UTC)."""
    words = words or english()
    lines = history_lines(entries, followup_due=followup_due, now=now, most=most, words=words)
    if not lines:
        return summary
    return summary + "\n" + words("history") + "\n" + "\n".join(lines)


def logged_case_text(row: dict, rows: Iterable[dict], *, room_name: str | None = None, now: float) -> str:
    """A case from the event log alone (``gateway case ID``): its summary line, its history, and a note
    on what the log does not keep. ``row``: ``EventLog.case_row``; ``rows``: ``EventLog.case_events``."""
    from .cases import age_text

    entries = entries_from_rows(rows)
    closed = [e for e in entries if e.kind == "closed"]
    if closed:
        status = f"closed ({closed[-1].outcome or 'resolved'})"
    elif row["status"] == "expired":
        status = "closed (expired: nobody closed it within 30 days)"
    elif any(e.kind == "acked" for e in entries):
        status = "acknowledged"
    else:
        status = "NOT acknowledged"
    opened = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(row["opened"]))
    summary = (f"Case {row['case']}: {row['tier']} ({', '.join(row['rules'])}) for {row['subject']} in "
               f"{room_name or row['room']} ({row['network']}), opened {opened}, {age_text(now - row['opened'])} "
               f"ago. Status: {status}.")
    return case_text(summary, entries, followup_due=row.get("followup_due"), now=now) + "\n" + OFFLINE_NOTE
