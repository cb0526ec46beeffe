"""The at-risk flow of a case, from the message that opens it to the moderators' alert and what follows:
context, abuse and third-party reports, the private message and the outreach limit, the one removal
rule, alerts and their escalation, resuming after a crash. Part of the sans-I/O engine (mixed into
``Engine``); each state change goes through ``gateway/core/cases.py``'s transition table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from . import actions as A
from .cases import Alerting, Case, Handling, Outreach, Removal, Step, age_text, message_link, raised
from .commands import case_commands
from ..detection import CHAT_RULE, MODEL_RULE, Detection, detector_for
from ..detection.context import CONTEXT_RULE, FOLLOWUP_RULE, with_context
from .events import ActionOutcome, Message, PrivateMessage
from ..policy.model import ALERT_PRIORITIES
from .quotes import own_words
from .restore import restore_counts
from .rooms import RoomBinding

__all__ = ["CaseWork", "Waiting"]

# Outcome codes that mean "the network was away" (IRC: disconnected in the middle, not connected yet;
# a confirmation that never came; the runner's code for a connection error of any adapter, e.g. Matrix):
# the action is tried again once the network is back. The resend is de-duplicated (same resend key) and a
# removal is idempotent.
RETRY_CODES = frozenset({"disconnected", "not_connected", "timeout"})


@dataclass
class Waiting:
    """A case's action waiting for its network to come back (see ``CaseWork._defer``)."""

    action: A.Action
    step: Step
    case: str
    code: str
    tried: float  # when its last attempt failed
    attempts: int = 1
    sent_again: bool = False  # emitted again, its outcome not in yet


class CaseWork:
    """The engine's case part (uses the engine's ``state``, ``rooms``, ``limits`` and action helpers)."""

    CONTEXT_RULE = CONTEXT_RULE
    # Steps tried again when the network was away. The private message and the removal give up after
    # RETRY_DEADLINE seconds (the normal failure path then tells the moderators); alerts never do.
    RETRIED = frozenset({Step.DM, Step.REMOVAL, Step.ALERT, Step.ESCALATION, Step.FOLLOWUP})
    ALERT_STEPS = frozenset({Step.ALERT, Step.ESCALATION, Step.FOLLOWUP})
    RETRY_DEADLINE = 300.0
    RETRY_EVERY = 30.0  # a waiting action is also tried this often (its network may be back already)
    RETRY_MOST = 600.0  # the longest wait between two tries of an alert that keeps failing

    # -- retries when the network was away ---------------------------------------------------------

    def _defer(self, case: Case, step: Step, action: A.Action | None, out: ActionOutcome) -> list[A.Action] | None:
        """A case's action that failed because the network was away (``RETRY_CODES``) waits, its step
        still under way (the message still "sending", so no removal comes before it), to be emitted again
        when the adapter says the room is ready (``RoomReady`` after a reconnect) or on a later tick. The
        resend is the same action with the same resend key: IRC skips the lines already written (a
        message cut after line 1 goes on from line 2), Matrix de-duplicates by transaction id. Past
        RETRY_DEADLINE, the message or removal takes its normal failure path (the moderators' alert says
        so). An alert that fails, whatever the code, is tried again until it is sent: never dropped.
        Returns None when the outcome takes its normal path."""
        st, key = self.state, (case.id, step)
        if out.ok or action is None or step not in self.RETRIED:
            st.waiting.pop(key, None)
            st.retry_since.pop(key, None)
            return None
        alert = step in self.ALERT_STEPS
        if not alert and out.code not in RETRY_CODES:
            return None  # refused (no such user, forbidden) or an adapter's bug: the normal failure path
        since = st.retry_since.setdefault(key, out.ts)
        previous = st.waiting.pop(key, None)
        if not alert and out.ts - since >= self.RETRY_DEADLINE:
            st.retry_since.pop(key, None)
            return None
        st.waiting[key] = Waiting(action, step, case.id, out.code or "unknown", out.ts,
                                  previous.attempts + 1 if previous else 1)
        b = case.binding
        return [self.record(b.network, f"{step.value}_deferred", room=b.room, user=case.user, outcome="waiting",
                            code=out.code, case=case.id)]

    def _retry_waiting(self, now: float, ready: tuple[str, str] | None = None) -> list[A.Action]:
        """Emit again the actions that wait for ``ready`` (a room that is ready again: its network is
        back), or, on a tick, those whose next try is due; give up on a message or removal past the
        deadline (what could not be done is told to the moderators by the normal failure path)."""
        st = self.state
        out: list[A.Action] = []
        for key, w in list(st.waiting.items()):
            case = st.cases.get(w.case)
            if case is None:
                st.waiting.pop(key, None)
                st.retry_since.pop(key, None)
                continue
            if w.sent_again:
                continue
            a = w.action
            network, room = a.network, getattr(a, "room", None)
            alert = w.step in self.ALERT_STEPS
            since = st.retry_since.get(key, w.tried)
            if not alert and now - since >= self.RETRY_DEADLINE:
                del st.waiting[key]
                st.retry_since.pop(key, None)
                gave_up = ActionOutcome(network, now, a.id, ok=False, code=w.code, definitive=False)
                out += CASE_STEPS[w.step](self, case, gave_up)
                continue
            if ready is not None:
                due = ready[0] == network and (room is None or ready[1] == room)
            else:
                due = now - w.tried >= min(self.RETRY_EVERY * 2 ** (w.attempts - 1), self.RETRY_MOST)
            if not due:
                continue
            w.sent_again = True
            if isinstance(a, (A.SendPrivate, A.RemoveFromRoom)):
                a = dataclasses.replace(a, user=case.user)  # they may have changed nick meanwhile
            b = case.binding
            out.append(self.record(b.network, f"{w.step.value}_retried", room=b.room, user=case.user,
                                   outcome="retry", case=case.id))
            out.append(self._expect(dataclasses.replace(a, id=self._id()), w.step, case.id))
        return out

    def _in_context(self, b: RoomBinding, ev: Message, detection: Detection) -> Detection:
        """Stage 5 of detection (``gateway/detection/context.py``), with this engine's memory of recent
        detections: times and tiers only, never text."""
        if detection.level == 0 and not self.state.recent:
            return detection  # nothing to remember and nobody's risk to follow: no pseudonym to key (most messages)
        # the person as a pseudonym, as the event log names them: a restart rebuilds this memory from its
        # ``risk_detected`` rows (``Restore.restore_context``)
        key = (ev.network, ev.room, self.person_key(ev.network, ev.sender))
        # the line's own words only where a follow-up may count: below imminent, and this person's risk recent
        text = self._words_to_read(b, ev) if detection.level < 3 and key in self.state.recent else None
        return with_context(self.state.recent, key, ev.ts, detection, b.policy.context, text)

    def _abuse(self, b: RoomBinding, ev: Message, detection: Detection) -> list[A.Action]:
        """Words aimed at someone else ("kys"): tell the moderators; never message the writer as if at risk."""
        rec = self.record(ev.network, "abuse_detected", room=ev.room, user=ev.sender, rules=detection.abuse)
        if b.moderators_room is None or not self._once("abuse_alert", ev.network, ev.sender, ev.ts):
            return [rec]
        link = message_link(b, ev.ref)
        priority = b.policy.abuse_alert
        text = b.policy.render("abuse_alert", **self.render_fields(b), user=ev.sender,
                               priority=b.policy.words.priority(priority),
                               rules=", ".join(detection.abuse), link=link)
        return [rec, A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                       priority=priority, message_ref=ev.ref)]

    def _third_party(self, b: RoomBinding, ev: Message, detection: Detection) -> list[A.Action]:
        """Someone the writer knows is at risk: a case for the moderators, and privately to the writer how
        to help (never crisis lines as if they were at risk, never a removal)."""
        rules = detection.third_party
        if not self._once("third_party", ev.network, ev.sender, ev.ts):
            return [self.record(ev.network, "third_party_reported", room=ev.room, user=ev.sender, rules=rules,
                                outcome="repeat")]
        observe = b.policy.mode == "observe" or self.is_paused(b)
        case = Case(self._unique_case_id(), b, ev.sender, Detection("concern", rules), ev.ref, ev.ts, observe,
                    kind="thirdparty", outreach=Outreach.OBSERVE if observe else Outreach.HOW_TO_HELP,
                    removal=Removal.NOT_NEEDED)
        self.state.cases[case.id] = case
        out: list[A.Action] = [
            A.OpenCase(self._id(), ev.network, room=ev.room, user=ev.sender, tier="concern", rules=rules,
                       ref=ev.ref, kind="thirdparty", observe=observe, case=case.id),
            self._journal(case, "dm", "skipped"), self._journal(case, "removal", "skipped"),
            self.record(ev.network, "third_party_reported", room=ev.room, user=ev.sender, rules=rules,
                        case=case.id)]
        if not observe:
            out.append(A.SendPrivate(self._id(), ev.network, user=ev.sender, purpose="reply", case=case.id,
                                     text=b.policy.render("third_party_dm", **self.render_fields(b))))
        return out + self._third_party_alert(case)

    def _third_party_alert(self, case: Case) -> list[A.Action]:
        b = case.binding
        if b.moderators_room is None:
            return [self._finish(case)]
        case.priority = b.policy.third_party_alert
        case.to(Alerting.SENDING)
        link = message_link(b, case.message_ref)
        text = b.policy.render("third_party_alert", **self.render_fields(b), user=case.user, case=case.id,
                               priority=b.policy.words.priority(case.priority), rules=", ".join(case.detection.rules),
                               link=link)
        text += self.next_steps(case)
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority=case.priority, message_ref=case.message_ref, case=case.id)
        return [self._expect(alert, Step.ALERT, case.id)]

    def _open_case(self, b: RoomBinding, ev: Message, detection: Detection) -> list[A.Action]:
        st = self.state
        rules = detection.rules
        level = detection.level
        person = self._person(ev.network, ev.sender)
        previous = st.cooldowns.get(person)
        if previous is not None and previous[0] >= level and previous[1] > ev.ts:
            return [self.record(ev.network, "risk_detected", room=ev.room, user=ev.sender,
                                tier=detection.tier, rules=rules, outcome="cooldown")]
        if ev.ref is not None:
            seen = self.ref_key(ev.network, ev.ref)
            if seen in self.seen_refs:
                return []  # delivered again after a restart: that case exists already
            self.seen_refs.add(seen)
        tier = b.policy.tiers[detection.tier]
        st.cooldowns[person] = (level, ev.ts + tier.action.cooldown)
        joined = self._open_case_of(b, ev.sender)
        if joined is not None:  # one case per person per room at a time
            return self._join(joined, detection, ev)
        observe = b.policy.mode == "observe" or self.is_paused(b)
        role, started = self._raid_role(b, ev.network, ev.sender, own_words(ev.text), level, ev.ts)
        case = Case(self._unique_case_id(), b, ev.sender, detection, ev.ref, ev.ts, observe,
                    moderator=b.is_moderator(ev.authority), raid=role in ("pattern", "over_budget"),
                    in_raid=role is not None)
        st.cases[case.id] = case
        out: list[A.Action] = started + [
            A.OpenCase(self._id(), ev.network, room=ev.room, user=ev.sender, tier=detection.tier,
                       rules=rules, ref=ev.ref, observe=observe, moderator=case.moderator, raid=case.raid,
                       case=case.id),
            self.record(ev.network, "risk_detected", room=ev.room, user=ev.sender, tier=detection.tier,
                        rules=rules, outcome="observe" if observe else "act", case=case.id),
        ]
        if role is not None:
            # which raid cases shared its pattern: what a restart needs to rebuild the raid (never text)
            out.append(self.record(ev.network, "raid_case", room=ev.room, user=ev.sender, outcome=role,
                                   case=case.id))
        if case.raid:
            self._list_in_raid(case)
        return out + self._act(case, ev.ts)

    def _act(self, case: Case, now: float) -> list[A.Action]:
        """What the case's tier does, from its private message on (a new case, or a joined detection's
        round): observe mode and tiers without a message alert only."""
        action = case.binding.policy.tiers[case.tier].action
        skipped = [self._journal(case, "dm", "skipped"), self._journal(case, "removal", "skipped")]
        if case.observe:
            case.to(Outreach.OBSERVE if action.message else Outreach.NONE)
            case.to(Removal.OBSERVE if action.remove else Removal.NOT_NEEDED)
            return skipped + self._alert(case)
        if action.message is None:
            case.to(Outreach.NONE)
            case.to(Removal.NOT_NEEDED)
            return skipped + self._alert(case)
        return self._message_person(case, action.message, now)

    # -- one case per person per room: a "talk" request or a new detection joins their open case ---------

    def _open_case_of(self, b: RoomBinding, user: str) -> Case | None:
        """The person's open case in this room (the latest, if a restart brought back several). Found by
        the network's id of the sender, never by anything they wrote: nobody can join another's case."""
        mine = [c for c in self.state.cases.values() if c.open and c.kind in ("risk", "talk") and c.user == user
                and (c.binding.network, c.binding.room) == (b.network, b.room)]
        return mine[-1] if mine else None

    def _join(self, case: Case, detection: Detection, ev: Message) -> list[A.Action]:
        """A new detection from someone whose case is open joins it. Its round (the higher tier's message,
        removal and an update alert) starts once no private message or removal of the case is under way,
        so a removal always follows a message of its own round (``_waiting_round``)."""
        rec = self.record(ev.network, "risk_detected", room=ev.room, user=ev.sender, tier=detection.tier,
                          rules=detection.rules, outcome="joined", case=case.id)
        if case.waiting_join is not None:
            detection = _merged(case.waiting_join[0], detection)
        if case.busy:
            case.waiting_join = (detection, ev.ref or case.waiting_join and case.waiting_join[1], ev.ts)
            return [rec]
        return [rec] + self._next_round(case, detection, ev.ref, ev.ts)

    def _waiting_round(self, case: Case) -> list[A.Action]:
        """The round of a detection that joined while a step of the case was under way, once it is not."""
        if case.waiting_join is None or case.busy:
            return []
        detection, ref, ts = case.waiting_join
        return self._next_round(case, detection, ref, ts)

    def _next_round(self, case: Case, detection: Detection, ref: str | None, now: float) -> list[A.Action]:
        """The joined detection's round: the tier's message (the outreach interval decides whether in full,
        short or not again), its removal (only after that message is accepted) and an update alert. A
        line of a lower tier than the case's is an update only: it neither messages nor removes anyone
        (the case's own tier did what it needed; the moderators read that they wrote again)."""
        b = case.binding
        before, was_talk = case.tier, case.kind == "talk"
        raised = detection.level > case.detection.level
        lower = detection.level < case.detection.level and not was_talk
        case.detection, case.waiting_join = _merged(case.detection, detection), None
        case.message_ref = ref or case.message_ref
        words = b.policy.words
        if lower:
            case.change = words("change_lower", tier=words.tier(detection.tier), case_tier=words.tier(case.tier))
            return [self.record(b.network, "case_updated", room=b.room, user=case.user, tier=detection.tier,
                                rules=detection.rules, outcome="lower", case=case.id)] \
                + self._alert(case, tier=detection.tier)
        if was_talk:
            case.kind, outcome = "risk", "risk"
            case.change = words("change_elsewhere", room=b.display_name, tier=words.tier(case.tier))
        elif raised:
            outcome, case.change = "raised", words("change_raised", before=words.tier(before), tier=words.tier(case.tier))
        else:
            outcome, case.change = "again", words("change_again", tier=words.tier(detection.tier))
        case.observe = b.policy.mode == "observe" or self.is_paused(b)
        case.to(Outreach.PENDING)
        case.to(Removal.PENDING)
        if case.raid:
            self._list_in_raid(case)
        out: list[A.Action] = [
            self.record(b.network, "case_updated", room=b.room, user=case.user, tier=case.tier,
                        rules=detection.rules, outcome=outcome, case=case.id),
            A.JournalStep(self._id(), b.network, name="round", state="pending", case=case.id)]
        if raised or was_talk:
            out.append(A.UpdateCase(self._id(), b.network, tier=case.tier, kind=case.kind, case=case.id))
        return out + self._act(case, now)

    def _message_person(self, case: Case, template: str, now: float | None = None) -> list[A.Action]:
        """The crisis message. A person who got one recently is not sent the whole message again for a
        case of the same or a lower tier that removes no one; a case that removes them, or a tighter one,
        gets a short message instead (nobody is ever removed without a message of their own case)."""
        b = case.binding
        last = self.state.outreach.get(self._person(b.network, case.user))
        now = case.opened if now is None else now
        # A message of another case still on its way to them counts as sent now: actions run
        # concurrently (gateway/runner.py), and two full crisis messages a second apart help nobody.
        sending = [c.detection.level for c in self.state.cases.values() if c is not case
                   and c.outreach is Outreach.SENDING and (c.binding.network, c.user) == (b.network, case.user)]
        if sending and (last is None or now - last[0] >= b.policy.outreach_interval or max(sending) > last[1]):
            last = (now, max(sending))
        remove = self._removes(case)
        if last is not None and now - last[0] < b.policy.outreach_interval:
            if not remove and case.detection.level <= last[1]:
                case.to(Outreach.NOT_AGAIN, age_text(now - last[0]))
                rec = self.record(b.network, "dm_skipped", room=b.room, user=case.user, outcome="rate_limited",
                                  case=case.id)
                return [rec, self._journal(case, "dm", "skipped")] + self._after_message(case)
            template = "crisis_dm_again"
        if case.raid and not case.forced_remove and not self._raid_message_budget(b, now):  # never a moderator's
            case.to(Outreach.RAID_BUDGET)
            rec = self.record(b.network, "dm_skipped", room=b.room, user=case.user, outcome="raid_budget",
                              case=case.id)
            return [rec, self._journal(case, "dm", "skipped")] + self._after_message(case)
        fields = self.render_fields(b)
        policy = b.policy
        fields["removal_note"] = policy.render(policy.variant("removal_note", b.network_type), **fields) \
            if remove else ""
        if template != "crisis_dm_again":
            template = policy.message_for(case.detection.rules, template)
        text = policy.render(policy.variant(template, b.network_type), **fields)  # IRC: compact (NAME_irc)
        dm = A.SendPrivate(self._id(), b.network, user=case.user, text=text, purpose="crisis", case=case.id)
        case.to(Outreach.SENDING)
        return [self._expect(dm, Step.DM, case.id)]

    def _removes(self, case: Case) -> bool:
        """Whether this case removes the person: the tier says so (never for a moderator of the room), or
        a moderator asked for it."""
        action = case.binding.policy.tiers[case.tier].action
        return case.forced_remove or (action.remove and not case.moderator and not case.raid)

    def resume(self, rows: list[dict], now: float) -> list[A.Action]:
        """Carry on with the unfinished cases of the journal, each from the step where it stopped.

        The private message is never sent twice: it is resent only where the adapter de-duplicates a
        resend (Matrix by transaction id, IRC by counting written lines); otherwise one that may have
        gone out is recorded as unknown and the policy's ``if_message_fails`` decides. A removal is
        repeated until done (it is idempotent). The alert is sent if it may not have been, marked as
        resent (de-duplicated the same way where the adapter can)."""
        out: list[A.Action] = []
        self.now = now
        for row in rows:
            b = self.rooms.get((row["network"], row["room"]))
            if row.get("ref"):
                self.seen_refs.add(self.ref_key(row["network"], row["ref"]))
            if b is None or row["tier"] not in b.policy.tiers:
                continue  # the room or tier is gone from the config; the event log keeps the record
            case = Case(row["case_id"], b, row["user"], Detection(row["tier"], tuple(row["rules"])), row["ref"],
                        now, observe=row["observe"], kind=row["kind"], resumed=True,
                        moderator=row.get("moderator", False), raid=row.get("raid", False))
            self.state.cases[case.id] = case
            # what a moderator did with it, and its timers once alerted (the journal's copy, ``Restore``)
            case.acked_by, case.forced_remove = row.get("acked_by"), row.get("forced", False)
            self._with_history(case, self._history_backlog.pop(case.id, []))
            restore_counts(case, row)
            self._remember_alerts(case, row)
            # a message or alert that may have gone out is resent under its own key (de-duplicated)
            case.replay = {step for step in ("dm", "alert") if row[step] in ("started", "unknown")}
            if row.get("handling") == "acknowledged":
                case.to(Handling.ACKNOWLEDGED)
            if row["alert"] == "done" and row.get("alerted_ts"):
                case.alerted_at, case.followup_due = row["alerted_ts"], row.get("followup_due")
                case.escalations, case.priority = row.get("escalations") or 0, row.get("priority") or "normal"
            if row.get("waiting_tier") in b.policy.tiers:  # a joined detection's round had not started yet
                case.waiting_join = (Detection(row["waiting_tier"], tuple(row.get("waiting_rules") or ())), None, now)
            out.append(self.record(b.network, "case_resumed", room=b.room, user=case.user, case=case.id))
            out += self._resume(case, row["dm"], row["removal"], row["alert"], row.get("dedupe", False))
            out += self._waiting_round(case)  # at once if the resumed steps left nothing under way
        self._history_backlog.clear()  # cases whose room or tier is gone: the event log keeps them
        return out

    def _resume(self, case: Case, dm: str, removal: str, alert: str, idempotent: bool) -> list[A.Action]:
        """``idempotent``: the adapter de-duplicates a resend with the same key (see Adapter)."""
        b = case.binding
        action = b.policy.tiers[case.tier].action
        if case.kind == "risk" and action.message and not case.observe:
            if dm == "pending" or (dm in ("started", "unknown") and idempotent):
                return self._message_person(case, action.message)
            if dm in ("started", "unknown"):
                case.to(Outreach.UNKNOWN)
                return [self._journal(case, "dm", "unknown")] + self._after_message(case)
        case.to({"done": Outreach.DELIVERED, "failed": Outreach.FAILED, "started": Outreach.UNKNOWN,
                 "unknown": Outreach.UNKNOWN}.get(dm) or self._not_messaged(case))
        if removal == "pending":
            return self._after_message(case)
        if removal in ("started", "unknown"):
            remove = A.RemoveFromRoom(self._id(), b.network, room=b.room, user=case.user,
                                      reason=b.policy.render("removal_reason", **self.render_fields(b)),
                                      ban_seconds=action.ban_for, case=case.id)
            case.to(Removal.REMOVING)
            return [self._expect(remove, Step.REMOVAL, case.id)]
        case.to({"done": Removal.DONE, "failed": Removal.FAILED}.get(removal, Removal.NOT_NEEDED))
        if alert in ("pending", "started", "unknown"):
            if case.kind == "talk":
                return self._talk_alert(case)
            if case.kind == "thirdparty":
                return self._third_party_alert(case)
            return self._alert(case)
        return [self._finish(case)]

    @staticmethod
    def _not_messaged(case: Case) -> Outreach:
        """A resumed case whose journal holds no crisis message: what it had instead."""
        if case.kind == "talk":
            return Outreach.ASKED
        if case.observe:
            return Outreach.OBSERVE
        return Outreach.HOW_TO_HELP if case.kind == "thirdparty" else Outreach.NOT_SENT

    def _unique_case_id(self) -> str:
        while True:
            cid = self.new_case_id()
            if cid not in self.state.cases:
                return cid

    def _follow(self, case: Case, out: ActionOutcome) -> None:
        """The network says the person's id changed while the action ran (IRC nick): follow them."""
        if out.user and out.user != case.user:
            self._rename(case.binding.network, case.user, out.user)

    def _after_dm(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        self._follow(case, out)
        if out.ok:
            case.to(Outreach.DELIVERED)
        elif out.code == "partial":
            case.to(Outreach.PARTIAL)
        else:
            case.to(Outreach.FAILED, out.code or "unknown")
        if out.ok:
            self.state.outreach[self._person(b.network, case.user)] = (out.ts, case.detection.level)
        rec = self.record(b.network, "dm_sent" if out.ok else "dm_failed", room=b.room, user=case.user,
                          outcome="ok" if out.ok else ("failed" if out.definitive else "unknown"),
                          code=out.code, case=case.id)
        return [rec] + self._after_message(case) + self._waiting_round(case)

    def _after_message(self, case: Case) -> list[A.Action]:
        """What follows the private message: redaction, removal (or keeping them), then the alert.

        The one rule every path obeys: a person is removed only if a private message of this same case
        was accepted by the server, or it really failed and the policy says ``if_message_fails: remove``."""
        b = case.binding
        action = b.policy.tiers[case.tier].action
        first: list[A.Action] = []
        reason = b.policy.render("removal_reason", **self.render_fields(b))
        if action.redact and case.message_ref and not case.moderator:
            redact = A.RedactMessage(self._id(), b.network, room=b.room, ref=case.message_ref, reason=reason,
                                     case=case.id)
            first.append(self._expect(redact, Step.REDACTION, case.id))
        if case.removed:
            return first
        if not self._removes(case):
            if action.remove and case.moderator:
                case.to(Removal.MODERATOR)
                return first + [self._journal(case, "removal", "skipped")] + self._alert(case, raise_priority=True)
            if action.remove and case.raid:
                case.to(Removal.RAID_PAUSED)
                return first + [self._journal(case, "removal", "skipped")] + self._alert(case)
            case.to(Removal.NOT_NEEDED)
            return first + [self._journal(case, "removal", "skipped")] + self._alert(case)
        if case.dm_accepted or (case.dm_attempted and action.if_message_fails == "remove"):
            remove = A.RemoveFromRoom(self._id(), b.network, room=b.room, user=case.user, reason=reason,
                                      ban_seconds=action.ban_for, case=case.id)
            case.to(Removal.REMOVING)
            return first + [self._expect(remove, Step.REMOVAL, case.id)]
        case.to(Removal.KEPT_DM_FAILED if case.dm_attempted else Removal.KEPT_NO_DM)
        return first + [self._journal(case, "removal", "skipped")] + self._alert(case, raise_priority=True)

    def _outcome_record(self, case: Case, out: ActionOutcome, done: str, failed: str) -> A.RecordEvent:
        """The event-log record of an action's outcome for a case: ``done`` or ``failed`` with its code."""
        b = case.binding
        return self.record(b.network, done if out.ok else failed, room=b.room, user=case.user,
                           outcome="ok" if out.ok else "failed", code=out.code, case=case.id)

    def _after_redaction(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        return [self._outcome_record(case, out, "redacted", "redaction_failed")]

    def _after_removal(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        self._follow(case, out)
        case.to(Removal.DONE) if out.ok else case.to(Removal.FAILED, out.code or "unknown")
        return [self._outcome_record(case, out, "removed", "removal_failed")] + self._alert(
            case, raise_priority=not out.ok) + self._waiting_round(case)

    def _alert(self, case: Case, *, raise_priority: bool = False, talk: bool = False,
               tier: str | None = None) -> list[A.Action]:
        """``talk``: the person asked to talk (a joined request): at least high, never only listed in a raid's.
        ``tier``: the priority of this tier's alert instead of the case's (a joined line of a lower tier)."""
        if case.raid and case.alerted_at is None and not case.forced_remove and not talk:
            return self._raid_case(case)  # a moderator's !remove is answered by the case's own alert
        if case.alerted_at is not None:  # an update after a moderator's command: say what changed
            raise_priority = False
        b = case.binding
        priority = b.policy.tiers[tier or case.tier].action.alert
        if talk and ALERT_PRIORITIES.index(priority) < ALERT_PRIORITIES.index("high"):
            priority = "high"
        change, case.change = case.change, None  # what a joined request or detection changed
        if priority == "none" and not raise_priority:
            case.to(Alerting.NOT_NEEDED)
            return [A.UpdateCase(self._id(), b.network, status="handled", case=case.id), self._finish(case)]
        if raise_priority:
            priority = raised(priority)
        case.priority = priority
        if b.moderators_room is None:
            case.to(Alerting.NO_ROOM)
            return [self.record(b.network, "alert_failed", room=b.room, user=case.user,
                                code="no_moderators_room", case=case.id), self._finish(case)]
        words = b.policy.words
        mode_note = ""
        if case.in_raid and not case.raid:
            mode_note = words("mode_raid_distinct")
        if case.observe:
            mode_note = words("mode_observe" if b.policy.mode == "observe" else "mode_paused")
        link = message_link(b, case.message_ref)
        dm_status, removal_status = case.statuses_in(b.policy.statuses)
        text = b.policy.render(
            "alert_update" if change else "alert", **self.render_fields(b), user=case.user, case=case.id,
            tier=words.tier(case.tier), rules=self._explain(case), dm_status=dm_status, removal_status=removal_status,
            link=link, mode_note=mode_note, change=change or "",
            priority=words.priority(priority) + (words("resent") if case.resumed else ""))
        text += self.next_steps(case)
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority=priority, message_ref=case.message_ref, case=case.id)
        case.to(Alerting.SENDING)
        return [self._expect(alert, Step.ALERT, case.id)]

    @staticmethod
    def next_steps(case: Case) -> str:
        """The line that ends every alert about a case: the commands for it, with its id and the policy's
        prefix (gateway/core/commands.py ``case_commands``)."""
        return "\n" + case_commands(case.binding.policy, case)

    def _remember_alert(self, case: Case, out: ActionOutcome) -> None:
        """An alert that was sent, as a keyed digest of its network id (``ref_key``: useless for fetching it),
        so a moderator's ✅ on it acknowledges the case; journalled with the case (so a restart still knows
        it) and forgotten when the case is closed."""
        b = case.binding
        if out.ok and out.ref and case.open and b.moderators_room is not None:
            digest = self.ref_key(b.moderators_network, out.ref)
            self.state.alert_refs[(b.moderators_network, b.moderators_room, digest)] = case.id

    def _explain(self, case: Case) -> str:
        """The rule ids, and what the model and the person's recent messages added: why, never the text."""
        d, parts, words = case.detection, [], case.binding.policy.words
        for rule in d.rules:
            if rule == MODEL_RULE and d.score is not None:
                detector = detector_for(case.binding.policy).scored_by(d)
                parts.append(words("explain_model", rule=rule, score=f"{d.score:.2f}",
                                   concern=f"{detector.model_concern:.2f}"))
            elif rule == CHAT_RULE and d.chat_score is not None:  # the chat-lines model (``model.chat``)
                detector = detector_for(case.binding.policy).scored_by(d)
                parts.append(words("explain_model", rule=rule, score=f"{d.chat_score:.2f}",
                                   concern=f"{detector.chat_concern:.2f}"))
            elif rule in (self.CONTEXT_RULE, FOLLOWUP_RULE):
                window = case.binding.policy.context.window or 0
                parts.append(words("explain_context" if rule == self.CONTEXT_RULE else "explain_followup", rule=rule,
                                   age=words.age(window)))
            else:
                parts.append(rule)
        return ", ".join(parts)

    def _after_alert(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        case.to(Alerting.SENT if out.ok else Alerting.FAILED)
        self._remember_alert(case, out)
        acts: list[A.Action] = [
            self._outcome_record(case, out, "alerted", "alert_failed"),
            A.UpdateCase(self._id(), b.network, status="alerted" if out.ok else "alert_failed",
                         case=case.id),
        ]
        if case.removal is not Removal.PENDING:  # a moderator's later removal sends an update: same case
            acts.append(self._finish(case))
        if out.ok and case.alerted_at is None:
            case.alerted_at = out.ts
            if b.policy.followup_after is not None and not case.observe:
                case.followup_due = out.ts + b.policy.followup_after
        return acts

    def _after_followup(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        case.followup_due, case.followup_sending = None, False
        self._remember_alert(case, out)
        return [self._outcome_record(case, out, "followup_sent", "followup_failed")]

    def _talk(self, b: RoomBinding, ev: PrivateMessage) -> list[A.Action]:
        if not self._once("talk", ev.network, ev.sender, ev.ts):
            return []  # one request is enough; the moderators were told
        joined = self._open_case_of(b, ev.sender)
        if joined is not None:
            return self._talk_joins(joined, ev)
        case = Case(self._unique_case_id(), b, ev.sender, Detection("concern", ("request.talk",)), None, ev.ts,
                    observe=False, kind="talk", outreach=Outreach.ASKED, removal=Removal.NOT_NEEDED,
                    asked_to_talk=True)
        self.state.cases[case.id] = case
        ack = A.SendPrivate(self._id(), ev.network, user=ev.sender, purpose="reply", case=case.id,
                            text=b.policy.render("talk_ack", **self.render_fields(b)))
        out: list[A.Action] = [
            A.OpenCase(self._id(), ev.network, room=b.room, user=ev.sender, tier="concern",
                       rules=("request.talk",), kind="talk", case=case.id),
            self._journal(case, "dm", "skipped"), self._journal(case, "removal", "skipped"),
            self.record(ev.network, "talk_requested", room=b.room, user=ev.sender, case=case.id), ack]
        if not self._take(("talk",), self.limits.talk_requests, self.limits.window, ev.ts):
            # a flood of requests (sock puppets?): listed together in one alert per window (see tick)
            self.state.talk_flood.append(case.id)
            case.to(Alerting.FLOOD_LIST)
            return out + [self._journal(case, "alert", "skipped"), self._finish(case)]
        return out + self._talk_alert(case)

    def _talk_joins(self, case: Case, ev: PrivateMessage) -> list[A.Action]:
        """A "talk" request from someone whose case is open joins it: an update alert says so (within the
        same flood budget as new requests: beyond it, the case is listed in the flood alert)."""
        b = case.binding
        again = case.asked_to_talk
        case.asked_to_talk = True
        ack = A.SendPrivate(self._id(), ev.network, user=ev.sender, purpose="reply", case=case.id,
                            text=b.policy.render("talk_ack", **self.render_fields(b)))
        out: list[A.Action] = [
            self.record(ev.network, "talk_requested", room=b.room, user=ev.sender, outcome="joined", case=case.id),
            self.record(ev.network, "case_updated", room=b.room, user=ev.sender, tier=case.tier, outcome="talk",
                        case=case.id), ack]
        if not self._take(("talk",), self.limits.talk_requests, self.limits.window, ev.ts):
            self.state.talk_flood.append(case.id)
            return out
        case.change = b.policy.words("change_talk_again" if again else "change_talk")
        return out + self._alert(case, talk=True)

    def _talk_alert(self, case: Case) -> list[A.Action]:
        b = case.binding
        if b.moderators_room is None:
            return [self._finish(case)]
        case.priority = "high"
        case.to(Alerting.SENDING)
        text = b.policy.render("talk_alert", **self.render_fields(b), user=case.user, case=case.id,
                               priority=b.policy.words.priority("high")) + self.next_steps(case)
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority="high", case=case.id)
        return [self._expect(alert, Step.ALERT, case.id)]

    def _escalate(self, case: Case, now: float) -> list[A.Action]:
        """Repeat an unacknowledged alert after ``repeat_after``, then widen it after ``widen_after``."""
        b = case.binding
        esc = b.policy.escalation
        if (case.alerted_at is None or case.acked_by or not case.open or case.observe
                or case.escalations >= 2 or b.moderators_room is None
                or ALERT_PRIORITIES.index(case.priority) < ALERT_PRIORITIES.index(esc.min_priority)):
            return []
        due = [esc.repeat_after, esc.widen_after][case.escalations]
        if due is None or now < case.alerted_at + due:
            if case.escalations == 0 and esc.repeat_after is None and esc.widen_after is not None \
                    and now >= case.alerted_at + esc.widen_after:
                case.escalations = 1  # no repeat configured: go straight to widening
                return self._escalate(case, now)
            return []
        case.escalations += 1
        widen = case.escalations == 2
        words = b.policy.words
        text = b.policy.render("escalation", **self.render_fields(b), user=case.user, case=case.id,
                               tier=words.tier(case.tier), priority=words.priority(case.priority),
                               age=words.age(now - case.alerted_at))
        text += self.late_note(case.alerted_at + due, now, words) + self.next_steps(case)
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority=raised(case.priority),
                                  mention_all=widen, case=case.id)
        return [self.record(b.network, "alert_widened" if widen else "alert_repeated", room=b.room,
                            user=case.user, case=case.id),
                self._expect(alert, Step.ESCALATION, case.id)]

    def _after_escalation(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        self._remember_alert(case, out)
        if out.ok:
            return []
        b = case.binding
        return [self.record(b.network, "alert_failed", room=b.room, user=case.user, outcome="failed",
                            code=out.code, case=case.id)]

    def _after_readmit(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        acts: list[A.Action] = [self._outcome_record(case, out, "readmitted", "readmit_failed")]
        if b.moderators_room is not None:
            words = b.policy.words
            text = (words("readmitted", case=case.id, user=case.user, room=b.display_name) if out.ok
                    else words("readmit_failed", case=case.id, user=case.user, code=out.code))
            acts.append(A.PostNotice(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                     purpose="reply"))
        return acts

    def force_removal(self, case: Case, now: float) -> list[A.Action]:
        """A moderator's ``!remove``: the person is messaged first unless a message of this case already
        reached them (the same rule as every removal), then removed, then the moderators are told."""
        case.forced_remove = True
        case.observe = False
        if case.outreach is Outreach.SENDING or case.removal is Removal.REMOVING:
            return []  # already under way: the message's outcome leads to the removal (never two at once)
        if case.dm_accepted:
            return self._after_message(case)
        tiers = case.binding.policy.tiers
        template = tiers["imminent"].action.message if "imminent" in tiers else None
        return self._message_person(case, template or "crisis_dm", now)  # the outreach check: it goes out now


RULES_KEPT = 480  # characters of a case's rule ids (the event log's column holds 512): the first found stay


def _merged(first: Detection, then: Detection) -> Detection:
    """Two detections of one case as one: the higher tier (its score and parts), the rules of both (as
    many as the event log's column holds, however many lines joined the case)."""
    top = then if then.level > first.level else first
    rules: list[str] = []
    for rule in dict.fromkeys(first.rules + then.rules):
        if len(",".join([*rules, rule])) > RULES_KEPT:
            break
        rules.append(rule)
    return dataclasses.replace(top, rules=tuple(rules))


# What each awaited step of a case goes to when its outcome is in (``Engine._expect``): typed, from a
# table, never from a name.
CASE_STEPS: dict[Step, Callable[[CaseWork, Case, ActionOutcome], list[A.Action]]] = {
    Step.DM: CaseWork._after_dm, Step.REMOVAL: CaseWork._after_removal, Step.REDACTION: CaseWork._after_redaction,
    Step.ALERT: CaseWork._after_alert, Step.FOLLOWUP: CaseWork._after_followup,
    Step.ESCALATION: CaseWork._after_escalation, Step.READMIT: CaseWork._after_readmit,
}
