"""A restart rebuilds what the engine keeps in memory from the event log, so nothing a moderator or a
person relies on is lost with the process: every case no moderator closed yet (its states, who took it,
its escalation and follow-up timers), each person's outreach interval, cooldown and recent detections
(a follow-up line after a restart still follows the risk said before it), the budgets against raids and
floods, and the raid state. Part of the sans-I/O engine (mixed into ``Engine``): the service
reads the rows (``restore_from_log``) and hands them in; nothing here reads a file or a clock.

What goes into the journal for that is a case's state after each change (``JournalCase``: enum values,
times and counts; the person's and the acknowledging moderator's ids sealed with the key file, wiped
when the case is closed or ages out, see ``EventLog.journal_age_out``); the runner asks
``journal_changes`` after each event and writes them before any action of that event runs. So an
escalation is journalled as sent before it is sent (never twice; a kill in that instant loses it, the
first alert having reached the moderators already), and a follow-up reminder stays due in the journal
until its outcome (a kill while it is on its way sends it again rather than never). A timer that fell
due while the gateway was down fires once at start, saying so (``late_note``).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Protocol

from . import actions as A
from .cases import Alerting, Case, Handling, Outreach, Removal
from ..policy.moderator_text import ModeratorText, english
from ..detection import Detection, tier_level
from .history import entries_from_rows

__all__ = ["Restore", "restore_from_log", "restore_counts", "JournalReader"]


class JournalReader(Protocol):
    """What a restart reads of the event log (``gateway.store.eventlog.EventLog`` is one): named here, so the
    core depends on the rows it needs, not on the store."""

    def pseudonym(self, network: str, user: str) -> str: ...
    def journal_age_out(self, now: float) -> int: ...
    def journal_open_cases(self) -> Iterable[dict[str, Any]]: ...
    def events_of_open_cases(self) -> Iterable[dict[str, Any]]: ...
    def events_since(self, since: float) -> list[dict[str, Any]]: ...
    def cases_since(self, since: float) -> list[dict[str, Any]]: ...
    def journal_raid_cases(self, since: float) -> list[dict[str, Any]]: ...

ALERTS_KEPT = 8  # the journal keeps the digests of a case's last eight alerts (an escalated case has several)
_DM_FROM_STEP = {"done": Outreach.DELIVERED, "failed": Outreach.FAILED, "started": Outreach.UNKNOWN,
                 "unknown": Outreach.UNKNOWN}
_REMOVAL_FROM_STEP = {"done": Removal.DONE, "failed": Removal.FAILED}
_ALERT_FROM_STEP = {"done": Alerting.SENT, "failed": Alerting.FAILED, "skipped": Alerting.NOT_NEEDED}


class Restore:
    """The engine's restart part (uses the engine's ``state``, ``rooms``, ``limits`` and ``person_key``)."""

    # -- what the journal keeps of a case -------------------------------------------------------------

    def _person(self, network: str, user: str) -> tuple[str, str]:
        """A person's key in the budgets, cooldowns and outreach intervals (see ``Engine.person_key``)."""
        return (network, self.person_key(network, user))

    def _snapshot(self, case: Case) -> A.JournalCase:
        return A.JournalCase(
            0, case.binding.network, case=case.id, user=case.user, outreach=case.outreach.value,
            removal=case.removal.value, alerting=case.alerting.value, handling=case.handling.value,
            dm_detail=case.details.get(case.outreach), removal_detail=case.details.get(case.removal),
            priority=case.priority, alerted_at=case.alerted_at, escalations=case.escalations,
            followup_due=case.followup_due, acked_by=case.acked_by, forced=case.forced_remove,
            observe=case.observe, raid=case.raid, tier=case.tier, rules=tuple(case.detection.rules),
            kind=case.kind, talk=case.asked_to_talk, dm_sends=case.sends.get("dm", 0),
            alert_sends=case.sends.get("alert", 0),
            waiting_tier=case.waiting_join[0].tier if case.waiting_join else None,
            waiting_rules=tuple(case.waiting_join[0].rules) if case.waiting_join else (),
            alert_digests=tuple(d for (*_, d), cid in self.state.alert_refs.items() if cid == case.id)[-ALERTS_KEPT:])

    def _remember_alerts(self, case: Case, row: dict[str, Any]) -> None:
        """The journalled digests of the case's alerts, so a ✅ on an alert sent before the restart still
        acknowledges it (in the case's moderators' room as the config names it now)."""
        b = case.binding
        if b.moderators_room is not None:
            for digest in row.get("alert_digests") or ():
                self.state.alert_refs[(b.moderators_network, b.moderators_room, digest)] = case.id

    def journal_changes(self, actions: list[A.Action]) -> list[A.JournalCase]:
        """The journal's copy of each case that ``actions`` (the engine's answer to one event) changed,
        if it changed: the runner writes them with those actions, before any of them is carried out."""
        ids = {a.case for a in actions if a.case is not None and not isinstance(a, A.JournalCase)}
        ids |= self._touched
        self._touched = set()
        out: list[A.JournalCase] = []
        for cid in sorted(ids):
            case = self.state.cases.get(cid)
            if case is None:
                continue
            snap = self._snapshot(case)
            if self._journalled.get(cid) != snap:
                self._journalled[cid] = snap
                out.append(A.JournalCase(self._id(), snap.network, **{
                    k: getattr(snap, k) for k in snap.__dataclass_fields__ if k not in ("id", "network")}))
        return out

    def late_note(self, due: float, now: float, words: "ModeratorText | None" = None) -> str:
        """For a reminder that fell due while the gateway was down: how late it is, in ``words``' language."""
        if self.restarted_at is None or due >= self.restarted_at:
            return ""
        words = words or english()
        return words("late", age=words.age(now - due))

    # -- rebuilding at start --------------------------------------------------------------------------

    def restore(self, rows: list[dict[str, Any]], now: float) -> int:
        """Rebuild the cases whose actions are all settled but that no moderator closed (from
        ``EventLog.journal_open_cases``). Returns how many; a case whose room or tier is gone from the
        config stays in the log only."""
        self.restarted_at = now
        n = 0
        for row in rows:
            b = self.rooms.get((row["network"], row["room"]))
            if b is None or row["tier"] not in b.policy.tiers or row["case_id"] in self.state.cases:
                continue
            case = Case(row["case_id"], b, row["user"], Detection(row["tier"], tuple(row["rules"])), None,
                        row["opened_ts"], observe=row["observe"], kind=row["kind"],
                        moderator=row.get("moderator", False), raid=row.get("raid", False))
            case.outreach = _enum(Outreach, row.get("outreach")) or _DM_FROM_STEP.get(row["dm"]) \
                or self._not_messaged(case)
            case.removal = _enum(Removal, row.get("removal_state")) or _REMOVAL_FROM_STEP.get(row["removal"]) \
                or Removal.NOT_NEEDED
            case.alerting = _enum(Alerting, row.get("alerting")) or _ALERT_FROM_STEP.get(row["alert"]) \
                or Alerting.FAILED
            case.handling = _enum(Handling, row.get("handling")) or Handling.OPEN
            # an action of the case that was under way when the gateway stopped: its fate is unknown
            if case.outreach is Outreach.SENDING:
                case.outreach = Outreach.UNKNOWN
            if case.removal is Removal.REMOVING:
                case.removal = Removal.FAILED
                case.details[Removal.FAILED] = "restart"
            if case.alerting is Alerting.SENDING:
                case.alerting = Alerting.SENT if row.get("alerted_ts") else Alerting.FAILED
            if row.get("dm_detail"):
                case.details[case.outreach] = row["dm_detail"]
            if row.get("removal_detail"):
                case.details.setdefault(case.removal, row["removal_detail"])
            case.priority = row.get("priority") or "normal"
            case.alerted_at, case.followup_due = row.get("alerted_ts"), row.get("followup_due")
            case.escalations = row.get("escalations") or 0
            case.acked_by, case.forced_remove = row.get("acked_by"), bool(row.get("forced"))
            restore_counts(case, row)
            self._remember_alerts(case, row)
            self.state.cases[case.id] = case
            self._journalled[case.id] = self._snapshot(case)
            n += 1
        return n

    def restore_history(self, events: list[dict[str, Any]]) -> None:
        """Each open case's history from its event-log rows (``EventLog.events_of_open_cases``), so ``!case``
        after a restart still shows what happened before it; the acknowledgement names the moderator the
        journal kept. A case that resumes later (``resume``) takes its history then."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            rows.setdefault(e["case"], []).append(e)
        for cid, mine in rows.items():
            case = self.state.cases.get(cid)
            if case is None:
                self._history_backlog[cid] = entries_from_rows(mine)
            else:
                self._with_history(case, entries_from_rows(mine))

    def _with_history(self, case: Case, entries: list) -> None:
        acked = next((e for e in entries if e.kind == "acked"), None)
        if acked is not None and acked.by is None:
            acked.by = case.acked_by
        case.history[:0] = entries

    def restore_people(self, events: list[dict[str, Any]], tiers: dict[str, str]) -> None:
        """Each person's outreach interval (the last crisis message accepted for them, and its level) and
        cooldown, from ``dm_sent`` and ``risk_detected`` rows (people appear there as pseudonyms: this
        needs ``person_key`` to be ``EventLog.pseudonym``). ``tiers``: case id -> tier."""
        st = self.state
        for e in events:
            if e["subject"] is None:
                continue
            key = (e["network"], e["subject"])
            if e["kind"] == "dm_sent" and e["outcome"] == "ok" and tiers.get(e["case"]):
                st.outreach[key] = (e["ts"], tier_level(tiers[e["case"]]))
            elif e["kind"] == "risk_detected" and e["case"] and e["tier"]:
                b = self.rooms.get((e["network"], e["room"]))
                if b is not None and e["tier"] in b.policy.tiers:
                    st.cooldowns[key] = (tier_level(e["tier"]), e["ts"] + b.policy.tiers[e["tier"]].action.cooldown)

    def restore_context(self, events: list[dict[str, Any]], now: float) -> None:
        """Each person's recent detections (stage 5 of detection, ``gateway/detection/context.py``), from
        the ``risk_detected`` rows of the rooms' context windows: so that "taking them now" a minute after a
        restart still follows the risk said before it. Times and tiers only, as the memory keeps them."""
        recent = self.state.recent
        for e in events:
            b = self.rooms.get((e["network"], e["room"]))
            if (e["kind"] != "risk_detected" or e["subject"] is None or b is None or e["tier"] not in b.policy.tiers
                    or b.policy.context.window is None or now - e["ts"] >= b.policy.context.window):
                continue
            key = (e["network"], e["room"], e["subject"])
            recent[key] = (recent.pop(key, []) + [(e["ts"], tier_level(e["tier"]))])[-8:]
            while len(recent) > b.policy.context.max_people:
                recent.popitem(last=False)

    def restore_budgets(self, events: list[dict[str, Any]], raid_cases: list[dict[str, Any]],
                        moderator_commands: frozenset[str]) -> None:
        """The budgets ``_take`` counts, from the rows each use leaves: cases opened (``risk_detected``
        with a case), crisis messages sent in a raid (the journal's raid cases with a message attempted),
        replies to non-moderators' commands (a refused ✅ reaction gets none), "talk" requests, and @room
        pings (``alert_widened``). Old uses drop out of their windows on the next ``_take`` as they always do."""
        uses: dict[tuple, list[float]] = {}

        def use(key: tuple, ts: float) -> None:
            uses.setdefault(key, []).append(ts)

        pings: set[tuple] = set()
        for e in events:
            kind, net, room, ts = e["kind"], e["network"], e["room"], e["ts"]
            if kind == "risk_detected" and e["case"] and e["outcome"] in ("act", "observe"):
                use(("cases", net, room), ts)
                use(("cases",), ts)
            elif kind == "command" and e["subject"] and e["outcome"] not in ("rate_limited", "reaction") \
                    and (e["authorised"] == 0 or e["command"] not in moderator_commands):
                use(("reply", net, e["subject"]), ts)
            elif kind == "raid_case" and e["outcome"] == "distinct":
                use(("raid_distinct", net, room), ts)  # cases unlike the raid's: their own budget
                use(("raid_distinct",), ts)
            elif kind == "talk_requested":
                use(("talk",), ts)
            elif kind == "alert_widened":
                b = self.rooms.get((net, room))
                if b is not None and b.moderators_room and (b.moderators_room, ts) not in pings:
                    pings.add((b.moderators_room, ts))  # one ping for the escalations grouped at one tick
                    use(("mention_all", b.moderators_network, b.moderators_room), ts)
        for c in raid_cases:
            if c["dm"] in ("started", "done", "failed", "unknown"):
                use(("raid_dm", c["network"], c["room"]), c["opened"])
                use(("raid_dm",), c["opened"])
        for key, times in uses.items():
            self.state.budgets[key] = deque(sorted(times))

    def restore_raids(self, events: list[dict[str, Any]], raid_cases: list[dict[str, Any]], now: float) -> None:
        """The raids still under way: a room whose latest raid row is not ``raid_ended``, alerted at its
        latest alert or update, with the raid cases opened since then waiting for the next update. (Call it
        after ``restore_budgets``: the raid ends after a quiet window of the rebuilt case budget.)"""
        from .raids import Raid

        last: dict[tuple[str, str], dict[str, Any]] = {}
        started: dict[tuple[str, str], float] = {}
        for e in events:
            if e["kind"] in ("raid_started", "raid_detected", "raid_update", "raid_ended") and e["room"]:
                key = (e["network"], e["room"])
                last[key] = e
                if e["kind"] == "raid_started":
                    started[key] = e["ts"]
        for key, e in last.items():
            if e["kind"] == "raid_ended" or key not in self.rooms or key in self.state.raids:
                continue
            alerted = None if e["kind"] == "raid_started" else e["ts"]  # started, first alert not sent yet
            # the cases not in an alert yet: since the latest alert, or every one since the raid started
            new = [c["case"] for c in raid_cases if (c["network"], c["room"]) == key and c["alert"] == "skipped"
                   and (c["opened"] > alerted if alerted is not None else c["opened"] >= started[key])]
            self.state.raids[key] = Raid(started=started.get(key, e["ts"]), alerted=alerted, new=new,
                                         count=len(self.state.budgets.get(("cases", *key), ())))

    def due_timers(self, now: float) -> list[A.Action]:
        """The escalations and follow-ups that are due now (at start: the ones that fell due while the
        gateway was down, each saying it is late)."""
        self.now = now
        return self._case_timers(now)


def restore_counts(case: Case, row: dict[str, Any]) -> None:
    """What the journal keeps beyond the states: whether the person asked to talk, and how many private
    messages and alerts the case sent (their resend keys go on from there)."""
    case.asked_to_talk = bool(row.get("talk")) or case.kind == "talk"
    case.sends = {step: n for step in ("dm", "alert") if (n := row.get(f"{step}_sends") or 0)}


def _enum(kind, value):
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def restore_from_log(engine, log: JournalReader, now: float) -> dict[str, int]:
    """Rebuild ``engine``'s memory from ``log`` at start (before any event is handled): open cases first,
    then people's intervals, cooldowns and recent detections, then budgets, then the raid state. Returns counts for the log."""
    from .commands import COMMANDS

    engine.person_key = log.pseudonym
    expired = log.journal_age_out(now)
    restored = engine.restore(log.journal_open_cases(), now)
    engine.restore_history(log.events_of_open_cases())
    rooms = list(engine.rooms.values())
    horizon = max([engine.limits.window, engine.PRIVATE_REPLY_INTERVAL]
                  + [b.policy.outreach_interval for b in rooms] + [b.policy.limits.window for b in rooms]
                  + [t.action.cooldown for b in rooms for t in b.policy.tiers.values()]
                  + [b.policy.context.window or 0 for b in rooms])
    since = now - horizon
    events = log.events_since(since)
    tiers = {c["case"]: c["tier"] for c in log.cases_since(since - 86400)}
    engine.restore_people(events, tiers)
    engine.restore_context(events, now)
    windows = max([engine.limits.window] + [b.policy.limits.window for b in rooms])
    day = [e for e in events if e["ts"] >= now - 86400]  # no budget window or raid outlasts a day
    raid_cases = log.journal_raid_cases(now - 86400)
    engine.restore_budgets(day, [c for c in raid_cases if c["opened"] >= now - windows],
                           frozenset(n for n, c in COMMANDS.items() if c.moderator))
    engine.restore_raids(day, raid_cases, now)
    return {"restored": restored, "expired": expired}
