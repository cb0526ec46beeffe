"""The sans-I/O core: ``Engine.handle(event) -> [actions]``.

The engine never performs I/O and never reads a clock: adapters feed it events (with timestamps) and
the runner feeds back the outcome of every action it executed, as an :class:`ActionOutcome`. That is
how ordering is expressed: the at-risk flow is a small state machine per case, and the removal of a
person is only *emitted* once the outcome of their private message is known.

    message at risk -> OpenCase, RecordEvent, SendPrivate   (gateway/cases.py: the case's states)
    DM accepted     -> RemoveFromRoom (if the tier removes) else AlertModerators
    DM failed       -> policy ``if_message_fails``: "remove" anyway, or "keep" them and escalate
    removal outcome -> AlertModerators (priority raised if the removal failed)
    alert outcome   -> follow-up reminder scheduled; it fires on a later Tick

Observe mode (policy ``mode: observe``) and paused rooms detect, record and alert "would have acted",
without messaging or removing anyone.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

from . import actions as A
from .cases import Alerting, Case, Handling, Outreach, Removal, Step
from .cases import age_text as _age
from .commands import after_reload, dispatch
from .crisis import ISO_REGIONS, CrisisDirectory
from .detect import MODEL_RULE, Detection, Detector
from .events import (
    ActionOutcome,
    Event,
    Join,
    Leave,
    Message,
    NickChange,
    PrivateMessage,
    ReloadResult,
    RoomReady,
    RoomUnavailable,
    Tick,
    guidelines_digest,
)
from .policy import ALERT_PRIORITIES, GatewayLimits
from .quotes import own_words
from .rooms import RoomBinding

__all__ = ["Engine", "guidelines_digest"]

_CASE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud by moderators


def _random_case_id() -> str:
    return "".join(secrets.choice(_CASE_ALPHABET) for _ in range(6))


def _case_list(ids: list[str], most: int = 20) -> str:
    """Case ids for an alert that lists many: the first ``most``, then how many more."""
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _link(b: "RoomBinding", ref: str | None) -> str:
    """A link to the message for the alert (Matrix only); never its text."""
    return f" Message: https://matrix.to/#/{b.room}/{ref}" if ref and b.network_type == "matrix" else ""


def _raise(priority: str) -> str:
    i = ALERT_PRIORITIES.index(priority)
    return ALERT_PRIORITIES[min(i + 1, len(ALERT_PRIORITIES) - 1)]


@dataclass
class _GuidelinesState:
    digest: str | None = None
    ref: str | None = None
    posted: float | None = None


@dataclass
class _Raid:
    """A room with more cases than its policy's ``limits.cases_per_room`` within the window."""

    alerted: float | None = None  # the raid alert or the latest update
    new: list[str] = field(default_factory=list)  # case ids not in an alert yet
    count: int = 0  # cases in the window when it started


@dataclass
class EngineState:
    next_action_id: int = 1
    pending: dict[int, tuple[Step, str | tuple[str, str]]] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    cooldowns: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    paused: set[tuple[str, str]] = field(default_factory=set)
    guidelines: dict[tuple[str, str], _GuidelinesState] = field(default_factory=dict)
    last_seen: dict[tuple[str, str, str], float] = field(default_factory=dict)  # leave/greet times
    once_per_interval: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (what, network, who)
    outreach: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)  # person -> (when, level)
    budgets: dict[tuple, deque] = field(default_factory=dict)  # what -> times it happened (see ``_take``)
    raids: dict[tuple[str, str], _Raid] = field(default_factory=dict)
    # (network, room, person) -> times and levels of their recent detections (policy ``context``); kept in
    # insertion order so the longest quiet are forgotten first. Never text.
    recent: "OrderedDict[tuple[str, str, str], list[tuple[float, int]]]" = field(default_factory=OrderedDict)
    talk_flood: list[str] = field(default_factory=list)  # "talk" cases beyond the budget, not alerted yet
    talk_flood_alerted: float | None = None


class Engine:
    PRIVATE_REPLY_INTERVAL = 600.0  # one automatic reply per person per 10 minutes (no bot loops)
    CLOSED_CASE_MEMORY = 7 * 86400.0  # closed cases leave memory a week after they opened (the log keeps them)

    def __init__(self, rooms: Iterable[RoomBinding], directory: CrisisDirectory, *,
                 bot_ids: dict[str, str] | None = None, case_id: Callable[[], str] = _random_case_id,
                 other_bots: dict[str, frozenset[str]] | None = None, limits: GatewayLimits = GatewayLimits()):
        self.rooms: dict[tuple[str, str], RoomBinding] = {}
        self.moderator_rooms: dict[tuple[str, str], RoomBinding] = {}
        self.set_rooms(rooms)
        self.directory = directory
        self.bot_ids = dict(bot_ids or {})
        self.other_bots = dict(other_bots or {})
        self.limits = limits
        self.new_case_id = case_id
        self.state = EngineState()
        # Messages that already have a case, as ``ref_key(network, message id)``: the service makes that a
        # keyed digest (EventLog.ref_digest), so what the journal keeps cannot fetch the message.
        self.ref_key: Callable[[str, str], str] = lambda network, ref: f"{network}\0{ref}"
        self.seen_refs: set[str] = set()

    # -- entry point ----------------------------------------------------------------------------

    def handle_many(self, events: Sequence[Event]) -> Iterator[list[A.Action]]:
        """Each event's actions, in order, as ``handle`` gives them; risk in every message is detected
        first in one batch (``Detector.detect_many``), which costs far less for a burst (a sync response,
        IRC lines queued under load) and gives the same answers. A policy reloaded between two events
        of the batch judges the later ones itself."""
        screened: dict[int, tuple[Detector, Detection]] = {}  # index in events -> batch answer
        groups: dict[int, tuple[Detector, list[int]]] = {}
        for i, ev in enumerate(events):
            if type(ev) is Message:
                binding = self.rooms.get((ev.network, ev.room))
                if binding is not None:
                    detector = binding.policy.detector
                    groups.setdefault(id(detector), (detector, []))[1].append(i)
        for detector, indices in groups.values():
            if len(indices) > 1:
                try:
                    found = detector.detect_many([own_words(events[i].text) for i in indices])
                except Exception:  # the batch is only a shortcut: each message is then detected on its own
                    continue
                screened.update((i, (detector, d)) for i, d in zip(indices, found))
        for i, ev in enumerate(events):
            yield self._on_message(ev, screened.get(i)) if type(ev) is Message else self.handle(ev)

    def _detect(self, binding: RoomBinding, ev: Message,
                screened: tuple[Detector, Detection] | None = None) -> Detection:
        if screened is not None and screened[0] is binding.policy.detector:
            return screened[1]  # the policy was not reloaded since the batch was screened
        return binding.policy.detector.detect(own_words(ev.text))

    def handle(self, event: Event) -> list[A.Action]:
        if isinstance(event, ActionOutcome):
            return self._on_outcome(event)
        if isinstance(event, Message):
            return self._on_message(event)
        if isinstance(event, RoomReady):
            return self._on_room_ready(event)
        if isinstance(event, Join):
            return self._on_join(event)
        if isinstance(event, Leave):
            self.state.last_seen[(event.network, event.room, event.user)] = event.ts
            return []
        if isinstance(event, PrivateMessage):
            return self._on_private(event)
        if isinstance(event, Tick):
            return self._on_tick(event)
        if isinstance(event, NickChange):
            return self._on_nick_change(event)
        if isinstance(event, RoomUnavailable):
            return self._on_room_unavailable(event)
        if isinstance(event, ReloadResult):

            return after_reload(self, event)
        raise TypeError(f"unknown event type {type(event).__name__}")

    # -- the public surface commands use (gateway/commands.py) -----------------------------------
    # Commands read and change the engine only through these methods, never its state or private ones.

    def new_id(self) -> int:
        """A fresh action id."""
        return self._id()

    def expect(self, action: A.Action, step: Step, key: str | tuple[str, str]) -> A.Action:
        """Emit ``action`` and route its outcome to ``step``'s handler (``Step.READMIT``, ``Step.RELOAD``)."""
        return self._expect(action, step, key)

    def take_pending(self, action_id: int) -> tuple[Step, object] | None:
        """What an action was for, once its outcome is in (``None`` if nothing waits on it)."""
        return self.state.pending.pop(action_id, None)

    def case(self, case_id: str) -> Case | None:
        return self.state.cases.get(case_id)

    def cases(self) -> list[Case]:
        """Every case of this run, open or closed."""
        return list(self.state.cases.values())

    def paused_rooms(self) -> list[tuple[str, str]]:
        return sorted(self.state.paused)

    def set_paused(self, binding: RoomBinding, paused: bool) -> None:
        """A paused room is watched and alerted on, but nobody there is messaged or removed."""
        key = (binding.network, binding.room)
        if paused:
            self.state.paused.add(key)
        else:
            self.state.paused.discard(key)

    def acknowledge(self, case: Case, moderator: str) -> None:
        """A moderator took the case: no more repeated alerts."""
        case.acked_by = case.acked_by or moderator
        if case.open:
            case.to(Handling.ACKNOWLEDGED)

    def close(self, case: Case, outcome: str, moderator: str) -> list[A.Action]:
        self.acknowledge(case, moderator)
        case.closed = outcome
        case.to(Handling.CLOSED)
        return [A.UpdateCase(self._id(), case.binding.network, status="closed", case=case.id)]

    def force_removal(self, case: Case, now: float) -> list[A.Action]:
        """A moderator's ``!remove``: the person is messaged first unless a message of this case already
        reached them (the same rule as every removal), then removed, then the moderators are told."""
        case.forced_remove = True
        case.observe = False
        if case.outreach is Outreach.SENDING or case.removal is Removal.REMOVING:
            return []  # already under way: the message's outcome leads to the removal (never two at once)
        if case.dm_accepted:
            return self._after_message(case)
        case.opened = now  # for the outreach check: the message goes out now
        tiers = case.binding.policy.tiers
        template = tiers["imminent"].action.message if "imminent" in tiers else None
        return self._message_person(case, template or "crisis_dm")

    # -- helpers --------------------------------------------------------------------------------

    def _id(self) -> int:
        n = self.state.next_action_id
        self.state.next_action_id += 1
        return n

    def _expect(self, action: A.Action, step: Step, key: str | tuple[str, str]) -> A.Action:
        """Wait for ``action``'s outcome: it goes to the handler for ``step`` (``_CASE_STEPS``, ``_ROOM_STEPS``)."""
        self.state.pending[action.id] = (step, key)
        if step.journalled:
            action = dataclasses.replace(action, step=step.value)
        return action

    def _journal(self, case: Case, step: str, state: str) -> A.JournalStep:
        return A.JournalStep(self._id(), case.binding.network, name=step, state=state, case=case.id)

    def _finish(self, case: Case) -> A.FinishCase:
        return A.FinishCase(self._id(), case.binding.network, case=case.id)

    def record(self, network: str, kind: str, **fields) -> A.RecordEvent:
        return A.RecordEvent(self._id(), network, kind=kind, **fields)

    def is_paused(self, binding: RoomBinding) -> bool:
        return (binding.network, binding.room) in self.state.paused

    def render_fields(self, binding: RoomBinding, region: str | None = None) -> dict[str, str]:
        region = region or binding.region
        return {"room": binding.display_name, "network": binding.network,
                "crisis_lines": self.directory.lines_text(region),
                "emergency": self.directory.emergency(region)}

    def _is_self(self, network: str, user: str) -> bool:
        """The bot itself, or another bot the config names (``ignore_bots``): never read, never answered."""
        return self.bot_ids.get(network) == user or user in self.other_bots.get(network, ())

    # -- messages and commands ------------------------------------------------------------------

    def _on_message(self, ev: Message, screened: tuple[Detector, Detection] | None = None) -> list[A.Action]:
        if self._is_self(ev.network, ev.sender):
            return []  # never react to our own lines (no loops on our own alerts)
        key = (ev.network, ev.room)
        binding = self.rooms.get(key)
        in_moderator_room = binding is None
        if binding is None:
            binding = self.moderator_rooms.get(key)
            if binding is None:
                return []
        prefix = binding.policy.command_prefix
        if ev.text.startswith(prefix) and not ev.edit and not ev.notice:

            handled = dispatch(self, binding, ev, in_moderator_room)
            if handled is not None:
                return handled
        if in_moderator_room:
            return []  # moderators discuss cases there; never scan it for risk
        detection = self._in_context(binding, ev, self._detect(binding, ev, screened))
        if detection.level == 0:
            if detection.third_party:
                return self._third_party(binding, ev, detection)
            return self._abuse(binding, ev, detection) if detection.abuse else []
        return self._open_case(binding, ev, detection)

    CONTEXT_RULE = "context.farewell_after_risk"

    def _in_context(self, b: RoomBinding, ev: Message, detection: Detection) -> Detection:
        """A farewell after earlier risk from the same person in the same room, within the policy's
        ``context.window``, is imminent: each line alone is not, the two together are. Only the times
        and tiers of detections are remembered, in memory, for the window; never what was written."""
        ctx = b.policy.context
        if ctx.window is None or detection.level == 0:
            return detection
        key = (ev.network, ev.room, ev.sender)
        recent = self.state.recent
        earlier = [(t, lv) for t, lv in recent.pop(key, ()) if ev.ts - t < ctx.window]
        if earlier and detection.level < 3 and any(r in ctx.farewell_rules for r in detection.rules):
            detection = dataclasses.replace(detection, tier="imminent",
                                            rules=tuple(sorted(detection.rules + (self.CONTEXT_RULE,))))
        recent[key] = (earlier + [(ev.ts, detection.level)])[-8:]
        while len(recent) > ctx.max_people:
            recent.popitem(last=False)
        return detection

    def _abuse(self, b: RoomBinding, ev: Message, detection: Detection) -> list[A.Action]:
        """Words aimed at someone else ("kys"): tell the moderators; never message the writer as if at risk."""
        rec = self.record(ev.network, "abuse_detected", room=ev.room, user=ev.sender, rules=detection.abuse)
        if b.moderators_room is None or not self._once("abuse_alert", ev.network, ev.sender, ev.ts):
            return [rec]
        link = _link(b, ev.ref)
        priority = b.policy.abuse_alert
        text = b.policy.render("abuse_alert", **self.render_fields(b), user=ev.sender, priority=priority.upper(),
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
        link = _link(b, case.message_ref)
        text = b.policy.render("third_party_alert", **self.render_fields(b), user=case.user, case=case.id,
                               priority=case.priority.upper(), rules=", ".join(case.detection.rules), link=link)
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority=case.priority, message_ref=case.message_ref, case=case.id)
        return [self._expect(alert, Step.ALERT, case.id)]

    def _open_case(self, b: RoomBinding, ev: Message, detection: Detection) -> list[A.Action]:
        st = self.state
        rules = detection.rules
        level = detection.level
        previous = st.cooldowns.get((ev.network, ev.sender))
        if previous is not None and previous[0] >= level and previous[1] > ev.ts:
            return [self.record(ev.network, "risk_detected", room=ev.room, user=ev.sender,
                                tier=detection.tier, rules=rules, outcome="cooldown")]
        if ev.ref is not None:
            seen = self.ref_key(ev.network, ev.ref)
            if seen in self.seen_refs:
                return []  # delivered again after a restart: that case exists already
            self.seen_refs.add(seen)
        tier = b.policy.tiers[detection.tier]
        st.cooldowns[(ev.network, ev.sender)] = (level, ev.ts + tier.action.cooldown)
        observe = b.policy.mode == "observe" or self.is_paused(b)
        case = Case(self._unique_case_id(), b, ev.sender, detection, ev.ref, ev.ts, observe,
                    moderator=b.is_moderator(ev.authority), raid=self._raided(b, ev.ts))
        st.cases[case.id] = case
        out: list[A.Action] = [
            A.OpenCase(self._id(), ev.network, room=ev.room, user=ev.sender, tier=detection.tier,
                       rules=rules, ref=ev.ref, observe=observe, moderator=case.moderator, raid=case.raid,
                       case=case.id),
            self.record(ev.network, "risk_detected", room=ev.room, user=ev.sender, tier=detection.tier,
                        rules=rules, outcome="observe" if observe else "act", case=case.id),
        ]
        action = tier.action
        if observe:
            case.to(Outreach.OBSERVE if action.message else Outreach.NONE)
            case.to(Removal.OBSERVE if action.remove else Removal.NOT_NEEDED)
            return out + [self._journal(case, "dm", "skipped"), self._journal(case, "removal", "skipped")] \
                + self._alert(case)
        if action.message is None:
            case.to(Outreach.NONE)
            case.to(Removal.NOT_NEEDED)
            return out + [self._journal(case, "dm", "skipped"), self._journal(case, "removal", "skipped")] \
                + self._alert(case)
        return out + self._message_person(case, action.message)

    def _message_person(self, case: Case, template: str) -> list[A.Action]:
        """The crisis message. A person who got one recently is not sent the whole message again for a
        case of the same or a lower tier that removes no one; a case that removes them, or a tighter one,
        gets a short message instead (nobody is ever removed without a message of their own case)."""
        b = case.binding
        last = self.state.outreach.get((b.network, case.user))
        now = case.opened
        # A message of another case still on its way to them counts as sent now: actions run
        # concurrently (gateway/runner.py), and two full crisis messages a second apart help nobody.
        sending = [c.detection.level for c in self.state.cases.values() if c is not case
                   and c.outreach is Outreach.SENDING and (c.binding.network, c.user) == (b.network, case.user)]
        if sending and (last is None or now - last[0] >= b.policy.outreach_interval or max(sending) > last[1]):
            last = (now, max(sending))
        remove = self._removes(case)
        if last is not None and now - last[0] < b.policy.outreach_interval:
            if not remove and case.detection.level <= last[1]:
                case.to(Outreach.NOT_AGAIN, _age(now - last[0]))
                rec = self.record(b.network, "dm_skipped", room=b.room, user=case.user, outcome="rate_limited",
                                  case=case.id)
                return [rec, self._journal(case, "dm", "skipped")] + self._after_message(case)
            template = "crisis_dm_again"
        if case.raid and not self._raid_message_budget(b, now):
            case.to(Outreach.RAID_BUDGET)
            rec = self.record(b.network, "dm_skipped", room=b.room, user=case.user, outcome="raid_budget",
                              case=case.id)
            return [rec, self._journal(case, "dm", "skipped")] + self._after_message(case)
        fields = self.render_fields(b)
        fields["removal_note"] = b.policy.render("removal_note", **fields) if remove else ""
        if template != "crisis_dm_again":
            template = b.policy.message_for(case.detection.rules, template)
        text = b.policy.render(template, **fields)
        dm = A.SendPrivate(self._id(), b.network, user=case.user, text=text, purpose="crisis", case=case.id)
        case.to(Outreach.SENDING)
        return [self._expect(dm, Step.DM, case.id)]

    def _removes(self, case: Case) -> bool:
        """Whether this case removes the person: the tier says so (never for a moderator of the room), or
        a moderator asked for it."""
        action = case.binding.policy.tiers[case.tier].action
        return case.forced_remove or (action.remove and not case.moderator and not case.raid)

    # -- budgets against raids and floods -------------------------------------------------------

    def _take(self, key: tuple, limit: float, window: float, now: float) -> bool:
        """Count one use of ``key`` unless ``limit`` uses happened within ``window``; False if over."""
        times = self.state.budgets.setdefault(key, deque())
        while times and now - times[0] >= window:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        return True

    def _raided(self, b: RoomBinding, now: float) -> bool:
        """Count a new case in ``b``'s room; True if the room is (now) raided: more cases within the window
        than its policy allows, or more across the gateway than the gateway's limits allow."""
        lim = b.policy.limits
        key = (b.network, b.room)
        self._take(("cases", *key), float("inf"), lim.window, now)
        self._take(("cases",), float("inf"), self.limits.window, now)
        if key in self.state.raids:
            return True
        in_room = len(self.state.budgets[("cases", *key)])
        if in_room > lim.cases_per_room or len(self.state.budgets[("cases",)]) > self.limits.cases:
            self.state.raids[key] = _Raid(count=in_room)
            return True
        return False

    def _raid_message_budget(self, b: RoomBinding, now: float) -> bool:
        lim = b.policy.limits
        return (self._take(("raid_dm", b.network, b.room), lim.private_messages_per_room, lim.window, now)
                and self._take(("raid_dm",), self.limits.private_messages, self.limits.window, now))

    def _raid_case(self, case: Case) -> list[A.Action]:
        """A case opened during a raid: no alert of its own; listed in the raid alert or the next update."""
        b = case.binding
        case.to(Alerting.RAID_LIST)
        out: list[A.Action] = [self._journal(case, "alert", "skipped"),
                               A.UpdateCase(self._id(), b.network, status="raid", case=case.id), self._finish(case)]
        raid = self.state.raids.get((b.network, b.room))
        if raid is None:  # the raid ended while this case's message was under way: alert it on its own
            case.raid = False
            return self._alert(case)
        raid.new.append(case.id)
        if raid.alerted is None:
            out += self._raid_alert(b, raid, case.opened, first=True)
        return out

    def _raid_alert(self, b: RoomBinding, raid: _Raid, now: float, *, first: bool) -> list[A.Action]:
        ids, raid.new = raid.new, []
        raid.alerted = now
        if b.moderators_room is None:
            return []
        shown = _case_list(ids)
        text = b.policy.render("raid_alert" if first else "raid_update", **self.render_fields(b),
                               count=str(raid.count if first else len(ids)), cases=shown,
                               age=_age(b.policy.limits.window))
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority="urgent" if first else "high")
        return [self.record(b.network, "raid_detected" if first else "raid_update", room=b.room,
                            outcome="first" if first else "update"), alert]

    def _raid_ticks(self, now: float) -> list[A.Action]:
        """Once per window: an update listing a raided room's new cases; a raid ends after a quiet window."""
        out: list[A.Action] = []
        for key, raid in list(self.state.raids.items()):
            b = self.rooms.get(key)
            if b is None:
                del self.state.raids[key]
                continue
            window = b.policy.limits.window
            if raid.new and raid.alerted is not None and now - raid.alerted >= window:
                out += self._raid_alert(b, raid, now, first=False)
            times = self.state.budgets.get(("cases", *key), ())
            if not raid.new and (not times or now - times[-1] >= window):
                del self.state.raids[key]
                out.append(self.record(b.network, "raid_ended", room=b.room))
        return out

    def _talk_flood_tick(self, now: float) -> list[A.Action]:
        st = self.state
        if not st.talk_flood or (st.talk_flood_alerted is not None
                                 and now - st.talk_flood_alerted < self.limits.window):
            return []
        by_mods: dict[tuple[str, str], tuple[RoomBinding, list[str]]] = {}
        for cid in st.talk_flood:
            case = st.cases.get(cid)
            if case is not None and case.binding.moderators_room is not None:
                b = case.binding
                by_mods.setdefault((b.moderators_network, b.moderators_room), (b, []))[1].append(cid)
        st.talk_flood, st.talk_flood_alerted = [], now
        out: list[A.Action] = []
        for (net, room), (b, ids) in sorted(by_mods.items()):
            shown = _case_list(ids)
            text = b.policy.render("talk_flood_alert", **self.render_fields(b), count=str(len(ids)), cases=shown,
                                   age=_age(self.limits.window))
            out.append(A.AlertModerators(self._id(), net, room=room, text=text, priority="high"))
        return out

    def reply_allowed(self, b: RoomBinding, network: str, who: str, now: float) -> bool:
        """At most ``limits.replies_per_person`` replies and refusals per person and window: a flood of
        commands from sock puppets must not turn the bot into a megaphone (or delay a crisis message)."""
        lim = b.policy.limits
        return self._take(("reply", network, who), lim.replies_per_person, lim.window, now)

    # -- resuming after a crash ------------------------------------------------------------------

    def resume(self, rows: list[dict], now: float) -> list[A.Action]:
        """Carry on with the unfinished cases of the journal, each from the step where it stopped.

        The private message is never sent twice: it is resent only where the adapter de-duplicates a
        resend (Matrix by transaction id, IRC by counting written lines); otherwise one that may have
        gone out is recorded as unknown and the policy's ``if_message_fails`` decides. A removal is
        repeated until done (it is idempotent). The alert is sent if it may not have been, marked as
        resent (de-duplicated the same way where the adapter can)."""
        out: list[A.Action] = []
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
            out.append(self.record(b.network, "case_resumed", room=b.room, user=case.user, case=case.id))
            out += self._resume(case, row["dm"], row["removal"], row["alert"], row.get("dedupe", False))
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

    # -- the at-risk flow after each outcome ----------------------------------------------------

    def _on_outcome(self, out: ActionOutcome) -> list[A.Action]:
        step, key = self.state.pending.pop(out.action_id, (None, None))
        if step in _CASE_STEPS:
            case = self.state.cases.get(key)  # type: ignore[arg-type]
            return _CASE_STEPS[step](self, case, out) if case is not None else []
        if step in _ROOM_STEPS:
            return _ROOM_STEPS[step](self, key, out)
        return []

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
            self.state.outreach[(b.network, case.user)] = (out.ts, case.detection.level)
        rec = self.record(b.network, "dm_sent" if out.ok else "dm_failed", room=b.room, user=case.user,
                          outcome="ok" if out.ok else ("failed" if out.definitive else "unknown"),
                          code=out.code, case=case.id)
        return [rec] + self._after_message(case)

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

    def _after_redaction(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        return [self.record(b.network, "redacted" if out.ok else "redaction_failed", room=b.room,
                            user=case.user, outcome="ok" if out.ok else "failed", code=out.code,
                            case=case.id)]

    def _after_removal(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        self._follow(case, out)
        case.to(Removal.DONE) if out.ok else case.to(Removal.FAILED, out.code or "unknown")
        rec = self.record(b.network, "removed" if out.ok else "removal_failed", room=b.room,
                          user=case.user, outcome="ok" if out.ok else "failed", code=out.code,
                          case=case.id)
        return [rec] + self._alert(case, raise_priority=not out.ok)

    def _alert(self, case: Case, *, raise_priority: bool = False) -> list[A.Action]:
        if case.raid and case.alerted_at is None:
            return self._raid_case(case)
        if case.alerted_at is not None:  # an update after a moderator's command: say what changed
            raise_priority = False
        b = case.binding
        tier = b.policy.tiers[case.tier]
        priority = tier.action.alert
        if priority == "none" and not raise_priority:
            case.to(Alerting.NOT_NEEDED)
            return [A.UpdateCase(self._id(), b.network, status="handled", case=case.id), self._finish(case)]
        if raise_priority:
            priority = _raise(priority)
        case.priority = priority
        if b.moderators_room is None:
            case.to(Alerting.NO_ROOM)
            return [self.record(b.network, "alert_failed", room=b.room, user=case.user,
                                code="no_moderators_room", case=case.id), self._finish(case)]
        mode_note = ""
        if case.observe:
            mode_note = (" Observe mode: the bot did not message or remove anyone."
                         if b.policy.mode == "observe" else
                         " The room is paused: the bot did not message or remove anyone.")
        link = _link(b, case.message_ref)
        text = b.policy.render(
            "alert", **self.render_fields(b), user=case.user, case=case.id, tier=case.tier,
            rules=self._explain(case), dm_status=case.dm_text, removal_status=case.removal_text,
            link=link, mode_note=mode_note,
            priority=priority.upper() + (", RESENT AFTER A RESTART: you may have seen this case" if case.resumed else ""))
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority=priority, message_ref=case.message_ref, case=case.id)
        case.to(Alerting.SENDING)
        return [self._expect(alert, Step.ALERT, case.id)]

    def _explain(self, case: Case) -> str:
        """The rule ids, and what the model and the person's recent messages added: why, never the text."""
        d, parts = case.detection, []
        for rule in d.rules:
            if rule == MODEL_RULE and d.score is not None:
                detector = case.binding.policy.detector
                parts.append(f"{rule} (score {d.score:.2f}, concern from {detector.model_concern:.2f})")
            elif rule == self.CONTEXT_RULE:
                window = case.binding.policy.context.window or 0
                parts.append(f"{rule} (a farewell after earlier risk from them here within {_age(window)})")
            else:
                parts.append(rule)
        return ", ".join(parts)

    def _after_alert(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        case.to(Alerting.SENT if out.ok else Alerting.FAILED)
        acts: list[A.Action] = [
            self.record(b.network, "alerted" if out.ok else "alert_failed", room=b.room, user=case.user,
                        outcome="ok" if out.ok else "failed", code=out.code, case=case.id),
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
        b = case.binding
        return [self.record(b.network, "followup_sent" if out.ok else "followup_failed", room=b.room,
                            user=case.user, outcome="ok" if out.ok else "failed", code=out.code,
                            case=case.id)]

    # -- guidelines, greetings, timers ----------------------------------------------------------

    def _on_room_ready(self, ev: RoomReady) -> list[A.Action]:
        b = self.rooms.get((ev.network, ev.room))
        if b is None:
            return []
        g = b.policy.guidelines
        out: list[A.Action] = []
        if g.topic:
            out.append(A.SetTopic(self._id(), ev.network, room=ev.room, text=g.topic))
        if g.text is None:
            return out
        gs = self.state.guidelines.setdefault((ev.network, ev.room), _GuidelinesState())
        digest = guidelines_digest(g.text)
        if ev.pinned_digest == digest:
            gs.digest, gs.ref, gs.posted = digest, ev.pinned_ref, ev.ts
            return out
        if ev.pinned_ref is not None:  # the adapter saw what is pinned now: trust it
            gs.ref = ev.pinned_ref
        return out + self.post_guidelines(b, ev.ts)

    def post_guidelines(self, b: RoomBinding, ts: float) -> list[A.Action]:
        text = b.policy.guidelines.text
        if text is None:
            return []
        gs = self.state.guidelines.setdefault((b.network, b.room), _GuidelinesState())
        gs.posted = ts  # counts as posted now, so a slow server does not cause a second post
        post = A.PostNotice(self._id(), b.network, room=b.room, text=text, purpose="guidelines")
        return [self._expect(post, Step.GUIDELINES_POST, (b.network, b.room))]

    def _after_guidelines_post(self, key: tuple[str, str], out: ActionOutcome) -> list[A.Action]:
        b = self.rooms[key]
        gs = self.state.guidelines[key]
        rec = self.record(b.network, "guidelines_posted" if out.ok else "guidelines_failed", room=b.room,
                          outcome="ok" if out.ok else "failed", code=out.code)
        if not out.ok or not b.policy.guidelines.pin or out.ref is None:
            return [rec]
        pin = A.PinNotice(self._id(), b.network, room=b.room, ref=out.ref, replaces=gs.ref)
        gs.digest = guidelines_digest(b.policy.guidelines.text or "")
        return [rec, self._expect(pin, Step.GUIDELINES_PIN, key)]

    def _after_guidelines_pin(self, key: tuple[str, str], out: ActionOutcome) -> list[A.Action]:
        b = self.rooms[key]
        if out.ok and out.ref:
            self.state.guidelines[key].ref = out.ref
        return [self.record(b.network, "guidelines_pinned" if out.ok else "guidelines_pin_failed",
                            room=b.room, outcome="ok" if out.ok else "failed", code=out.code)]

    def _on_join(self, ev: Join) -> list[A.Action]:
        b = self.rooms.get((ev.network, ev.room))
        if b is None or self._is_self(ev.network, ev.user) or self.is_paused(b):
            return []
        g = b.policy.guidelines
        if not g.greet_on_join:
            return []
        key = (ev.network, ev.room, ev.user)
        seen = self.state.last_seen.get(key)
        self.state.last_seen[key] = ev.ts
        if seen is not None and ev.ts - seen < g.greet_grace:
            return []  # a rejoin within the grace period is not greeted again
        text = b.policy.render("greeting", **self.render_fields(b))
        if b.network_type == "irc" and g.text:
            text += "\n" + g.text  # IRC cannot pin: the guidelines come with the greeting
        return [A.GreetUser(self._id(), ev.network, room=ev.room, user=ev.user, text=text),
                self.record(ev.network, "greeted", room=ev.room, user=ev.user)]

    def _on_private(self, ev: PrivateMessage) -> list[A.Action]:
        """Crisis lines for anyone who writes to the bot, and ``talk`` to ask for a moderator.

        What they wrote is read for those two words only, and never stored."""
        if self._is_self(ev.network, ev.sender):
            return []
        binding = self._binding_for_person(ev.network, ev.sender)
        if binding is None:
            return []
        words = ev.text.strip().lower().lstrip("!./").split()
        if words and words[0] == "talk":
            return self._talk(binding, ev)
        if words and words[0] == "resources" and len(words) > 1 and words[1].upper() in ISO_REGIONS:
            if not self.reply_allowed(binding, ev.network, ev.sender, ev.ts):
                return [self.record(ev.network, "private_reply", user=ev.sender, outcome="rate_limited")]
            text = binding.policy.render("resources", **self.render_fields(binding, words[1].upper()))
            return [A.SendPrivate(self._id(), ev.network, user=ev.sender, text=text, purpose="resources"),
                    self.record(ev.network, "private_reply", user=ev.sender)]
        if not self._once("private_reply", ev.network, ev.sender, ev.ts):
            return []
        text = binding.policy.render("private_reply", **self.render_fields(binding))
        return [A.SendPrivate(self._id(), ev.network, user=ev.sender, text=text, purpose="resources"),
                self.record(ev.network, "private_reply", user=ev.sender)]

    def _on_nick_change(self, ev: NickChange) -> list[A.Action]:
        self._rename(ev.network, ev.old, ev.new)
        return []

    def _rename(self, network: str, old: str, new: str) -> None:
        """Open cases, the outreach limit and cooldowns follow a person who changed their id (IRC nick),
        so alerts name them as they are now and a new nick brings no second full crisis message."""
        st = self.state
        for case in st.cases.values():
            if case.open and case.binding.network == network and case.user == old:
                case.user = new
        for table in (st.outreach, st.cooldowns):
            if (network, old) in table:
                table[(network, new)] = table.pop((network, old))

    def _on_room_unavailable(self, ev: RoomUnavailable) -> list[A.Action]:
        """The bot could not join a watched room: nobody at risk there will be noticed. Tell its
        moderators (once every 10 minutes at most), with what to do."""
        b = self.rooms.get((ev.network, ev.room))
        rec = self.record(ev.network, "room_unavailable", room=ev.room, code=ev.code)
        if b is None or b.moderators_room is None or not self._once("blind", ev.network, ev.room, ev.ts):
            return [rec]
        why = {"471": "the channel is full", "473": "it is invite-only", "474": "the bot is banned",
               "475": "the channel key is wrong or missing (set `key` for this room in the config)",
               "477": "the channel needs a registered, identified account"}.get(ev.code, "the server refused")
        text = (f"[HIGH] The safety bot cannot join {b.display_name} ({ev.network}): {why} (numeric {ev.code}). "
                f"It is blind there: nobody at risk in that room will be noticed until this is fixed.")
        return [rec, A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                       priority="high")]

    def _binding_for_person(self, network: str, user: str) -> RoomBinding | None:
        """The room whose moderators look after a private conversation: the person's latest case, else
        the first room on that network."""
        for case in reversed(list(self.state.cases.values())):
            if case.binding.network == network and case.user == user:
                return case.binding
        return next((b for b in self.rooms.values() if b.network == network), None)

    def _talk(self, b: RoomBinding, ev: PrivateMessage) -> list[A.Action]:
        if not self._once("talk", ev.network, ev.sender, ev.ts):
            return []  # one request is enough; the moderators were told
        case = Case(self._unique_case_id(), b, ev.sender, Detection("concern", ("request.talk",)), None, ev.ts,
                    observe=False, kind="talk", outreach=Outreach.ASKED, removal=Removal.NOT_NEEDED)
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

    def _talk_alert(self, case: Case) -> list[A.Action]:
        b = case.binding
        if b.moderators_room is None:
            return [self._finish(case)]
        case.priority = "high"
        case.to(Alerting.SENDING)
        text = b.policy.render("talk_alert", **self.render_fields(b), user=case.user, case=case.id,
                               priority="HIGH")
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority="high", case=case.id)
        return [self._expect(alert, Step.ALERT, case.id)]

    def _on_tick(self, ev: Tick) -> list[A.Action]:
        out: list[A.Action] = []
        for key, b in self.rooms.items():
            every = b.policy.guidelines.repost_every
            gs = self.state.guidelines.get(key)
            if every and gs is not None and gs.posted is not None and ev.ts - gs.posted >= every \
                    and not self.is_paused(b):
                out += self.post_guidelines(b, ev.ts)
        escalations: dict[tuple[str, str], list[tuple[Case, list[A.Action]]]] = {}
        for case in self.state.cases.values():
            step = self._escalate(case, ev.ts)
            if step:
                b = case.binding
                escalations.setdefault((b.moderators_network, b.moderators_room or ""), []).append((case, step))
            if case.followup_due is not None and case.followup_due <= ev.ts and case.open:
                case.followup_due = None
                b = case.binding
                text = b.policy.render("followup", **self.render_fields(b), user=case.user, case=case.id)
                alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room or "",
                                          text=text, priority="normal", case=case.id)
                out.append(self._expect(alert, Step.FOLLOWUP, case.id))
        for (net, room), steps in sorted(escalations.items()):
            out += self._send_escalations(net, room, steps, ev.ts)
        out += self._raid_ticks(ev.ts)
        out += self._talk_flood_tick(ev.ts)
        self._prune(ev.ts)
        return out

    def _send_escalations(self, net: str, room: str, steps: list[tuple[Case, list[A.Action]]],
                          now: float) -> list[A.Action]:
        """The escalations due in one moderators' room: one alert each if there is one, else one alert
        listing them all; an @room ping at most once per ``limits.mention_all_every`` for that room."""
        b = steps[0][0].binding
        ping = any(a.mention_all for _, acts in steps for a in acts if isinstance(a, A.AlertModerators))
        if ping and not self._take(("mention_all", net, room), 1, b.policy.limits.mention_all_every, now):
            ping = False
        if len(steps) == 1:
            return [dataclasses.replace(a, mention_all=ping) if isinstance(a, A.AlertModerators) else a
                    for a in steps[0][1]]
        out: list[A.Action] = []
        for case, acts in steps:
            out += [a for a in acts if isinstance(a, A.RecordEvent)]
            for a in acts:
                if isinstance(a, A.AlertModerators):
                    self.state.pending.pop(a.id, None)  # replaced by the grouped alert below
        ids = [case.id for case, _ in steps]
        priority = max((a.priority for _, acts in steps for a in acts if isinstance(a, A.AlertModerators)),
                       key=ALERT_PRIORITIES.index)
        shown = _case_list(ids)
        text = b.policy.render("escalation_group", **self.render_fields(b), count=str(len(ids)), cases=shown,
                               priority=priority.upper())
        return out + [A.AlertModerators(self._id(), net, room=room, text=text, priority=priority, mention_all=ping)]

    def event_log_failing(self, network: str, room: str | None) -> list[A.Action]:
        """Alerts for the moderators of the room involved (or of every room) that logging fails."""
        bindings = [b for b in self.rooms.values() if (b.network, b.room) == (network, room)] \
            or list(self.rooms.values())
        targets = {(b.moderators_network, b.moderators_room) for b in bindings if b.moderators_room}
        text = ("The safety bot cannot write its event log (disk full, locked or unwritable). It keeps "
                "messaging, removing and alerting as its policy says, but what it does is not being "
                "recorded until this is fixed. Please tell whoever runs the bot.")
        return [A.AlertModerators(self._id(), net, room=mods, text=text, priority="high")
                for net, mods in sorted(targets)]

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
        text = b.policy.render("escalation", **self.render_fields(b), user=case.user, case=case.id,
                               tier=case.tier, priority=case.priority.upper(), age=_age(now - case.alerted_at))
        alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                  priority=_raise(case.priority),
                                  mention_all=widen, case=case.id)
        return [self.record(b.network, "alert_widened" if widen else "alert_repeated", room=b.room,
                            user=case.user, case=case.id),
                self._expect(alert, Step.ESCALATION, case.id)]

    def _after_escalation(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        if out.ok:
            return []
        b = case.binding
        return [self.record(b.network, "alert_failed", room=b.room, user=case.user, outcome="failed",
                            code=out.code, case=case.id)]

    def _after_readmit(self, case: Case, out: ActionOutcome) -> list[A.Action]:
        b = case.binding
        acts: list[A.Action] = [self.record(b.network, "readmitted" if out.ok else "readmit_failed", room=b.room,
                                            user=case.user, outcome="ok" if out.ok else "failed", code=out.code,
                                            case=case.id)]
        if b.moderators_room is not None:
            text = (f"Case {case.id}: {case.user} may come back to {b.display_name} (ban lifted, invited)."
                    if out.ok else f"Case {case.id}: could not readmit {case.user} ({out.code}).")
            acts.append(A.PostNotice(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                     purpose="reply"))
        return acts

    def _prune(self, now: float) -> None:
        """Forget timers that can no longer matter, so memory stays bounded on a long run."""
        st = self.state
        horizon = max((b.policy.guidelines.greet_grace for b in self.rooms.values()), default=0)
        for k in [k for k, t in st.last_seen.items() if now - t > horizon]:
            del st.last_seen[k]
        for k in [k for k, (_, until) in st.cooldowns.items() if until <= now]:
            del st.cooldowns[k]
        for k in [k for k, t in st.once_per_interval.items() if now - t >= self.PRIVATE_REPLY_INTERVAL]:
            del st.once_per_interval[k]
        window = max((b.policy.context.window or 0 for b in self.rooms.values()), default=0)
        for k in [k for k, seen in st.recent.items() if now - seen[-1][0] >= window]:
            del st.recent[k]
        for k in [k for k, times in st.budgets.items() if not times or now - times[-1] >= 86400]:
            del st.budgets[k]  # no budget window is longer than a day
        longest = max((b.policy.outreach_interval for b in self.rooms.values()), default=0)
        for k in [k for k, (t, _) in st.outreach.items() if now - t >= longest]:
            del st.outreach[k]
        in_flight = {entry[1] for entry in st.pending.values()}
        for cid in [cid for cid, c in st.cases.items() if c.closed is not None
                    and now - c.opened >= self.CLOSED_CASE_MEMORY and cid not in in_flight]:
            del st.cases[cid]  # open cases stay however old: a moderator has to close them

    def _once(self, what: str, network: str, who: str, now: float) -> bool:
        """True at most once per PRIVATE_REPLY_INTERVAL for (what, network, who): automatic replies and
        alerts that a person's repeated messages must not multiply (and bots must not loop on)."""
        key = (what, network, who)
        last = self.state.once_per_interval.get(key)
        if last is not None and now - last < self.PRIVATE_REPLY_INTERVAL:
            return False
        self.state.once_per_interval[key] = now
        return True

    def set_rooms(self, rooms: Iterable[RoomBinding]) -> None:
        """Swap in newly loaded room bindings (after a successful reload); open cases keep theirs."""
        self.rooms = {(b.network, b.room): b for b in rooms}
        self.moderator_rooms = {}
        for b in self.rooms.values():
            b.policy.detector  # compile now: the first at-risk message must not wait for it
            if (b.moderators_network, b.moderators_room) in self.rooms:
                raise ValueError(f"the moderators' room of {b.room} is a watched group room: alerts name "
                                 f"people at risk and must never be posted there")
            if b.moderators_room is not None:
                self.moderator_rooms.setdefault((b.moderators_network, b.moderators_room), b)


# What each awaited step's outcome goes to (``Engine._expect``): typed, from a table, never from a name.
_CASE_STEPS: dict[Step, Callable[[Engine, Case, ActionOutcome], list[A.Action]]] = {
    Step.DM: Engine._after_dm, Step.REMOVAL: Engine._after_removal, Step.REDACTION: Engine._after_redaction,
    Step.ALERT: Engine._after_alert, Step.FOLLOWUP: Engine._after_followup,
    Step.ESCALATION: Engine._after_escalation, Step.READMIT: Engine._after_readmit,
}
_ROOM_STEPS: dict[Step, Callable[[Engine, tuple[str, str], ActionOutcome], list[A.Action]]] = {
    Step.GUIDELINES_POST: Engine._after_guidelines_post, Step.GUIDELINES_PIN: Engine._after_guidelines_pin,
}
