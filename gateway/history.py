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


def _by(e: Entry) -> str:
    return f" by {e.by}" if e.by else ""


_STEPS = {"dm": "private message", "removal": "removal", "alert": "alert", "escalation": "repeated alert",
          "followup": "follow-up reminder"}


def _opened(e: Entry) -> str:
    mode = " (observe mode or a paused room: nobody messaged or removed)" if e.outcome == "observe" else ""
    if e.outcome == "cooldown":
        return f"{e.tier} risk again, within the cooldown: not acted on"
    if e.outcome == "joined":
        return f"wrote at risk again ({e.tier}): joins this case"
    return f"opened: {e.tier} risk{mode}"


_UPDATED = {"talk": "updated: they asked to talk to a moderator",
            "raised": "updated: tier raised to {tier}",
            "again": "updated: at risk again ({tier})",
            "lower": "updated: at risk again ({tier}, lower than the case's: no new message or removal)",
            "risk": "updated: a talk request became a risk case ({tier})"}


def _dm_failed(e: Entry) -> str:
    if e.outcome == "unknown":
        return f"private message: delivery unknown{_code(e)}"
    return f"private message NOT delivered{_code(e)}"


_DM_SKIPPED = {"rate_limited": "private message not sent again: one was sent recently",
               "raid_budget": "private message not sent: the raid's budget was used up"}
_RAID = {"pattern": "part of a raid: listed in the raid alert, not removed automatically",
         "distinct": "during a raid, unlike the raid's lines: handled on its own",
         "over_budget": "during a raid: listed in the raid alert (the budget for other lines was used up)"}

# record kind -> its line (a text, or a function of the entry for what depends on its fields)
KINDS: dict[str, str | Callable[[Entry], str]] = {
    "risk_detected": _opened,
    "talk_requested": lambda e: ("they asked the bot for a moderator (talk): joins this case" if e.outcome == "joined"
                                 else "opened: they asked the bot for a moderator (talk)"),
    "case_updated": lambda e: _UPDATED.get(e.outcome or "", "updated ({outcome})").format(tier=e.tier,
                                                                                         outcome=e.outcome),
    "third_party_reported": "opened: they said someone they know may be at risk",
    "raid_case": lambda e: _RAID.get(e.outcome or "", "during a raid"),
    "dm_sent": "private message delivered",
    "dm_failed": _dm_failed,
    "dm_skipped": lambda e: _DM_SKIPPED.get(e.outcome or "", "private message not sent"),
    "removed": "removed from the room",
    "removal_failed": lambda e: f"removal FAILED{_code(e)}: still in the room",
    "redacted": "their message was removed from the room",
    "redaction_failed": lambda e: f"their message could not be removed{_code(e)}",
    "alerted": "moderators alerted",
    "alert_failed": lambda e: f"alert FAILED{_code(e)}",
    "alert_repeated": "alert repeated: nobody had acknowledged it",
    "alert_widened": "alert sent to every moderator: nobody had acknowledged it",
    "acked": lambda e: f"acknowledged{_by(e)}" + (" with a ✅ reaction" if e.outcome == "reaction" else ""),
    "escalated_external": lambda e: f"a moderator{_by(e)} contacted emergency services",
    "followup_sent": "follow-up reminder sent to the moderators",
    "followup_failed": lambda e: f"follow-up reminder FAILED{_code(e)}",
    "readmitted": "readmitted: ban lifted, invited back",
    "readmit_failed": lambda e: f"readmit FAILED{_code(e)}",
    "closed": lambda e: f"closed{_by(e)}: {e.outcome or 'resolved'}",
    "case_resumed": "carried on after a restart",
}


def entry_text(e: Entry) -> str:
    """What one entry says to a moderator. A kind not listed in KINDS reads from its own name and fields
    ("joined: high"), so a new kind shows up without more work."""
    how = KINDS.get(e.kind)
    if how is None:
        for step, name in _STEPS.items():
            if e.kind == f"{step}_deferred":
                how = f"{name} waiting: the network was away{_code(e)}"
            elif e.kind == f"{step}_retried":
                how = f"{name} tried again"
    if how is None:
        extra = [x for x in (e.tier, e.outcome) if x]
        how = e.kind.replace("_", " ") + (": " + ", ".join(extra) if extra else "") + _code(e) + _by(e)
    text = how(e) if callable(how) else how
    return text + (f" (x{e.count})" if e.count > 1 else "")


def _clock(ts: float, day: str | None) -> tuple[str, str]:
    """(the time as shown, its day): the date only when the day changes."""
    t = time.gmtime(ts)
    today = time.strftime("%Y-%m-%d", t)
    shown = time.strftime("%H:%M:%S", t)
    return (shown if today == day else f"{today} {shown}"), today


def history_lines(entries: Iterable[Entry], *, followup_due: float | None = None, now: float | None = None,
                  most: int | None = None) -> list[str]:
    """One line per entry, oldest first, each with its time (UTC; the date when the day changes); then a
    follow-up reminder still due. ``most``: at most that many lines of entries (the first few and the
    latest, with how many are left out between)."""
    from .cases import age_text

    rows = list(entries)
    lines: list[str] = []
    day = None
    for e in rows:
        shown, day = _clock(e.ts, day)
        lines.append(f"{shown} {entry_text(e)}")
    if most is not None and len(lines) > most:
        head = 3
        tail = most - head
        lines = lines[:head] + [f"... {len(lines) - most} more (`gateway case ID` prints them all) ..."] + lines[-tail:]
    if followup_due is not None:
        shown, _ = _clock(followup_due, day)
        when = f" (in {age_text(followup_due - now)})" if now is not None and followup_due > now else ""
        lines.append(f"{shown} follow-up reminder due{when}")
    return lines


def case_text(summary: str, entries: Iterable[Entry], *, followup_due: float | None = None,
              now: float | None = None, most: int | None = None) -> str:
    """A case as moderators read it: its summary line, then its history with times (UTC)."""
    lines = history_lines(entries, followup_due=followup_due, now=now, most=most)
    if not lines:
        return summary
    return summary + "\nHistory (UTC):\n" + "\n".join(lines)


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
