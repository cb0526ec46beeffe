"""The sans-I/O core: ``Engine.handle(event) -> [actions]``.

The engine never performs I/O and never reads a clock: adapters feed it events (with timestamps) and
the runner feeds back the outcome of every action it executed, as an :class:`ActionOutcome`. That is
how ordering is expressed: the at-risk flow is a small state machine per case, and the removal of a
person is only *emitted* once the outcome of their private message is known.

    message at risk -> OpenCase, RecordEvent, SendPrivate   (gateway/core/cases.py: the case's states)
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
from .cases import Case, Handling, Step, case_list
from .commands import COMMANDS, SAMPLE_TEXT_COMMANDS, after_reload, dispatch, group_commands, react
from ..policy.crisis_lines import INTERNATIONAL, ISO_REGIONS, CrisisDirectory
from ..detection import Detection, Detector, detector_for
from ..detection.language import is_supported
from .events import (
    ActionOutcome,
    Event,
    Join,
    Leave,
    Message,
    NickChange,
    PrivateMessage,
    Reaction,
    ReloadResult,
    RoomReady,
    RoomUnavailable,
    BotNick,
    Tick,
    Undecryptable,
    guidelines_digest,
)
from ..policy.model import ALERT_PRIORITIES, GatewayLimits
from .quotes import first_person, own_words
from .casework import CASE_STEPS, CaseWork, Waiting
from .digest import WeeklyDigest
from .guidelines import GuidelinesState, RoomGuidelines
from .history import Entry, note
from .raids import LinePrint, Raid, RaidLimits
from .restore import Restore
from .rooms import RoomBinding

__all__ = ["Engine", "guidelines_digest"]

_CASE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud by moderators


def _random_case_id() -> str:
    return "".join(secrets.choice(_CASE_ALPHABET) for _ in range(6))


# A private message starting with one of these asks for a moderator: "talk" in every room, and the word each
# language's templates tell the person to reply (policies/templates/LANG.yaml).
TALK_WORDS = frozenset({"talk", "reden", "parler", "hablar"})
QUOTES = "\"'„“”«»‘’‚ "  # the word copied with the quotes the message put around it: „reden“, « parler »


@dataclass
class EngineState:
    next_action_id: int = 1
    pending: dict[int, tuple[Step, str | tuple[str, str]]] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    cooldowns: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    paused: set[tuple[str, str]] = field(default_factory=set)
    guidelines: dict[tuple[str, str], GuidelinesState] = field(default_factory=dict)
    last_seen: dict[tuple[str, str, str], float] = field(default_factory=dict)  # leave/greet times
    once_until: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (what, network, who) -> quiet until
    nick_taken: set[tuple[str, str]] = field(default_factory=set)  # (network, nick): moderators told it is taken
    outreach: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)  # person -> (when, level)
    budgets: dict[tuple, deque] = field(default_factory=dict)  # what -> times it happened (see ``_take``)
    raids: dict[tuple[str, str], Raid] = field(default_factory=dict)
    # fingerprints of recent at-risk lines (gateway/core/raids.py): keyed hashes, never text; in memory only
    # and never rebuilt (after a restart a raid's pattern is learnt again from its next lines)
    prints: "deque[LinePrint]" = field(default_factory=lambda: deque(maxlen=512))
    # (network, room, person's pseudonym) -> times and levels of their recent detections (policy ``context``);
    # kept in insertion order so the longest quiet are forgotten first; rebuilt at a restart from the event
    # log (``Restore.restore_context``). Never text.
    recent: "OrderedDict[tuple[str, str, str], list[tuple[float, int]]]" = field(default_factory=OrderedDict)
    talk_flood: list[str] = field(default_factory=list)  # "talk" cases beyond the budget, not alerted yet
    talk_flood_alerted: float | None = None
    # (network, room, casefolded name) -> when they last wrote or joined there: a ``<name> ...`` line quotes
    # someone only if they are or recently were in the room (gateway/core/quotes.py). Memory only, bounded.
    speakers: "OrderedDict[tuple[str, str, str], float]" = field(default_factory=OrderedDict)
    # Retries (gateway/core/casework.py ``_defer``): an action of a case that could not be done because the
    # network was away, as emitted (action id -> action, while in flight), waiting to be emitted again
    # ((case, step) -> Waiting), and since when each has been trying ((case, step) -> time).
    in_flight: dict[int, A.Action] = field(default_factory=dict)
    waiting: dict[tuple[str, Step], "Waiting"] = field(default_factory=dict)
    retry_since: dict[tuple[str, Step], float] = field(default_factory=dict)
    # (moderators' network, moderators' room, the alert's network id) -> its case, while the case is open:
    # a moderator's ✅ on the alert acknowledges it. Memory only (after a restart, !ack ID still works).
    alert_refs: dict[tuple[str, str, str], str] = field(default_factory=dict)


class Engine(CaseWork, RaidLimits, RoomGuidelines, WeeklyDigest, Restore):
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
        # the key of the raid check's line fingerprints: made at start, never stored, never logged
        self.print_key = secrets.token_bytes(32)
        # Messages that already have a case, as ``ref_key(network, message id)``: the service makes that a
        # keyed digest (EventLog.ref_digest), so what the journal keeps cannot fetch the message.
        self.ref_key: Callable[[str, str], str] = lambda network, ref: f"{network}\0{ref}"
        self.seen_refs: set[str] = set()
        # A person in the budgets, cooldowns and outreach intervals, as ``person_key(network, user)``: the
        # service makes that the event log's pseudonym (EventLog.pseudonym), so a restart can rebuild them
        # from the log's rows (gateway/core/restore.py).
        self.person_key: Callable[[str, str], str] = lambda network, user: user
        self.restarted_at: float | None = None  # when this run rebuilt its state (``Restore.restore``)
        self.now = 0.0  # the time of the event being handled (the engine reads no clock): for case histories
        self._history_backlog: dict[str, list] = {}  # case id -> its history from the log, until it resumes
        self._journalled: dict[str, A.JournalCase] = {}  # case id -> the state last sent to the journal
        self._touched: set[str] = set()  # cases changed without an action naming them (a nick change)
        # moderators' room (network, room) -> the digest time last handled (the service reads it back
        # from the event log at start, so a restart does not send a week's digest twice)
        self.digest_sent: dict[tuple[str, str], float] = {}

    # -- entry point ----------------------------------------------------------------------------

    def handle_many(self, events: Sequence[Event]) -> Iterator[list[A.Action]]:
        """Each event's actions, in order, as ``handle`` gives them; risk in every message is detected
        first in one batch (``Detector.detect_many``), which costs far less for a burst (a sync response,
        IRC lines queued under load) and gives the same answers. A policy reloaded between two events
        of the batch judges the later ones itself."""
        screened: dict[int, tuple[Detector, Detection, str]] = {}  # index in events -> batch answer
        groups: dict[int, tuple[Detector, list[int], list[str]]] = {}
        for i, ev in enumerate(events):
            if type(ev) is Message:
                binding = self.rooms.get((ev.network, ev.room))
                if binding is not None:
                    detector = detector_for(binding.policy)
                    group = groups.setdefault(id(detector), (detector, [], []))
                    group[1].append(i)
                    group[2].append(self._words_to_read(binding, ev))
        for detector, indices, texts in groups.values():
            if len(indices) > 1:
                try:
                    found = detector.detect_many(texts)
                except Exception:  # the batch is only a shortcut: each message is then detected on its own
                    continue
                screened.update((i, (detector, d, t)) for i, d, t in zip(indices, found, texts))
        for i, ev in enumerate(events):
            yield self._on_message(ev, screened.get(i)) if type(ev) is Message else self.handle(ev)

    def _detect(self, binding: RoomBinding, ev: Message,
                screened: tuple[Detector, Detection, str] | None = None) -> Detection:
        text = self._words_to_read(binding, ev)
        if screened is not None and screened[0] is detector_for(binding.policy) and screened[2] == text:
            return screened[1]  # the policy was not reloaded since the batch was screened
        return detector_for(binding.policy).detect(text)

    def _words_to_read(self, binding: RoomBinding, ev: Message) -> str:
        """What of a group room's message is read for risk: the writer's own words (not the lines they
        quote), after the command if the line is one (``!resources please, i'm going to kill myself``:
        the command runs and its words are read; the command's name is not), and an action (``/me``)
        with the writer as its subject."""
        text = ev.text
        if self._is_command(binding, ev):
            rest = text[len(binding.policy.command_prefix):].split(None, 1)
            text = rest[1] if len(rest) > 1 and rest[0].lower() not in SAMPLE_TEXT_COMMANDS else ""
        if ">" in text:
            text = own_words(text, self._presence(ev))
        return first_person(text) if ev.emote else text

    def _is_command(self, binding: RoomBinding, ev: Message) -> bool:
        prefix = binding.policy.command_prefix
        if not ev.text.startswith(prefix) or ev.edit or ev.notice or ev.emote:
            return False
        words = ev.text[len(prefix):].split(None, 1)
        return bool(words) and words[0].lower() in COMMANDS

    def _presence(self, ev: Message) -> Callable[[str], bool] | None:
        """Whether a ``<name>`` opening a line names someone in the room: the adapter's word for who is
        there now, or someone the engine saw write or join there recently (a person at risk who was just
        removed is quoted by the people answering them). ``None`` if the adapter did not say."""
        if ev.present is None:
            return None
        present = {n.casefold() for n in ev.present}
        speakers = self.state.speakers
        return lambda name: name.casefold() in present or (ev.network, ev.room, name.casefold()) in speakers

    SPEAKERS_KEPT = 20_000  # (network, room, name) entries remembered for quotes, the longest quiet forgotten first
    SPEAKER_MEMORY = 86_400.0

    def _saw(self, network: str, room: str, who: str, ts: float) -> None:
        key = (network, room, who.casefold())
        speakers = self.state.speakers
        speakers[key] = ts
        speakers.move_to_end(key)
        if len(speakers) > self.SPEAKERS_KEPT:
            speakers.popitem(last=False)

    def handle(self, event: Event) -> list[A.Action]:
        self.now = event.ts
        if isinstance(event, ActionOutcome):
            return self._on_outcome(event)
        if isinstance(event, Message):
            return self._on_message(event)
        if isinstance(event, RoomReady):
            return self._on_room_ready(event) + self._retry_waiting(event.ts, (event.network, event.room))
        if isinstance(event, Join):
            self._saw(event.network, event.room, event.user, event.ts)
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
        if isinstance(event, Undecryptable):
            return self._on_undecryptable(event)
        if isinstance(event, BotNick):
            return self._on_bot_nick(event)
        if isinstance(event, ReloadResult):
            return after_reload(self, event)
        if isinstance(event, Reaction):
            return self._on_reaction(event)
        raise TypeError(f"unknown event type {type(event).__name__}")

    # -- the public surface commands use (gateway/core/commands.py) -----------------------------------
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

    def screens(self, event: Event) -> bool:
        """Whether ``event`` is a message read for risk: in a watched group room, not the bot's own. A
        moderators' room is never screened (moderators discuss cases there), nor counted as screened."""
        return (type(event) is Message and (event.network, event.room) in self.rooms
                and not self._is_self(event.network, event.sender))

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
        self._forget_alerts({case.id})
        return [A.UpdateCase(self._id(), case.binding.network, status="closed", case=case.id)]


    # -- helpers --------------------------------------------------------------------------------

    def _id(self) -> int:
        n = self.state.next_action_id
        self.state.next_action_id += 1
        return n

    def _expect(self, action: A.Action, step: Step, key: str | tuple[str, str]) -> A.Action:
        """Wait for ``action``'s outcome: it goes to the handler for ``step`` (``_CASE_STEPS``, ``_ROOM_STEPS``)."""
        self.state.pending[action.id] = (step, key)
        if step.journalled:
            case = self.state.cases.get(key) if isinstance(key, str) else None
            seq = action.seq or (case.next_send(step.value) if case is not None else 1)  # a resend keeps its own
            action = dataclasses.replace(action, step=step.value, seq=seq)
        if step in self.RETRIED:
            self.state.in_flight[action.id] = action
        return action

    def _journal(self, case: Case, step: str, state: str) -> A.JournalStep:
        return A.JournalStep(self._id(), case.binding.network, name=step, state=state, case=case.id)

    def _finish(self, case: Case) -> A.FinishCase:
        return A.FinishCase(self._id(), case.binding.network, case=case.id)

    def record(self, network: str, kind: str, *, by: str | None = None, **fields) -> A.RecordEvent:
        """A row for the event log. One with a case id also goes into that case's history (``!case ID``),
        with ``by``, the moderator who did it: in memory only, since the event log keeps no names."""
        rec = A.RecordEvent(self._id(), network, kind=kind, **fields)
        case = self.state.cases.get(rec.case) if rec.case is not None else None
        if case is not None:
            note(case.history, Entry(self.now, kind, rec.tier, rec.outcome, rec.code, by))
        return rec

    def alert_case(self, network: str, room: str, ref: str) -> Case | None:
        """The open case whose alert in moderators' room ``room`` has the network id ``ref``, if any."""
        cid = self.state.alert_refs.get((network, room, self.ref_key(network, ref)))
        case = self.state.cases.get(cid) if cid is not None else None
        return case if case is not None and case.open else None

    def _forget_alerts(self, case_ids: set[str]) -> None:
        refs = self.state.alert_refs
        for key in [k for k, cid in refs.items() if cid in case_ids]:
            del refs[key]

    def is_paused(self, binding: RoomBinding) -> bool:
        return (binding.network, binding.room) in self.state.paused

    def render_fields(self, binding: RoomBinding, region: str | None = None) -> dict[str, str]:
        region, language = region or binding.region, binding.policy.language
        return {"room": binding.display_name, "network": binding.network,
                "crisis_lines": self.directory.lines_text(region, language),
                "crisis_lines_inline": self.directory.lines_inline(region, language),
                "emergency": self.directory.emergency(region, language)}

    def _is_self(self, network: str, user: str) -> bool:
        """The bot itself, or another bot the config names (``ignore_bots``): never read, never answered."""
        return self.bot_ids.get(network) == user or user in self.other_bots.get(network, ())

    # -- messages and commands ------------------------------------------------------------------

    def _on_message(self, ev: Message, screened: tuple[Detector, Detection, str] | None = None) -> list[A.Action]:
        self.now = ev.ts
        if self._is_self(ev.network, ev.sender):
            return []  # never react to our own lines (no loops on our own alerts)
        key = (ev.network, ev.room)
        binding = self.rooms.get(key)
        in_moderator_room = binding is None
        if binding is None:
            binding = self.moderator_rooms.get(key)
            if binding is None:
                return []
        handled: list[A.Action] = []
        if self._is_command(binding, ev):
            handled = dispatch(self, binding, ev, in_moderator_room) or []
        if in_moderator_room:
            return handled  # moderators discuss cases there; never scan it for risk
        # a command's own words are read too (the command still runs): the person's case comes first
        read = self._read(binding, ev, screened)
        self._saw(ev.network, ev.room, ev.sender, ev.ts)
        return read + handled

    def _on_reaction(self, ev: Reaction) -> list[A.Action]:
        """A reaction: in a moderators' room, a moderator's ✅ on an alert acknowledges its case (decided
        in gateway/core/commands.py with the same authority check as a command)."""
        if self._is_self(ev.network, ev.sender):
            return []
        key = (ev.network, ev.room)
        mods = self.moderator_rooms.get(key)
        return react(self, mods or self.rooms.get(key), ev, mods is not None)

    def _read(self, binding: RoomBinding, ev: Message,
              screened: tuple[Detector, Detection, str] | None) -> list[A.Action]:
        detection = self._in_context(binding, ev, self._detect(binding, ev, screened))
        counted = self._without_rules(ev, detection)
        if detection.level == 0:
            if detection.third_party:
                return counted + self._third_party(binding, ev, detection)
            return counted + (self._abuse(binding, ev, detection) if detection.abuse else [])
        return counted + self._open_case(binding, ev, detection)

    def _without_rules(self, ev: Message, detection: Detection) -> list[A.Action]:
        """A line identified as a language with no shipped rules (Italian, Cyrillic...) is counted: one row
        with the room and the language's code, never the text or who wrote it (``gateway status``)."""
        language = detection.identified
        if language is None or is_supported(language):
            return []
        return [self.record(ev.network, "no_rules_language", room=ev.room, code=language)]









    # -- budgets against raids and floods -------------------------------------------------------









    # -- resuming after a crash ------------------------------------------------------------------





    # -- the at-risk flow after each outcome ----------------------------------------------------

    def _on_outcome(self, out: ActionOutcome) -> list[A.Action]:
        step, key = self.state.pending.pop(out.action_id, (None, None))
        action = self.state.in_flight.pop(out.action_id, None)
        if step in _CASE_STEPS:
            case = self.state.cases.get(key)  # type: ignore[arg-type]
            if case is None:
                return []
            deferred = self._defer(case, step, action, out)  # the network was away: again after it is back
            if deferred is not None:
                return deferred
            return _CASE_STEPS[step](self, case, out)
        if step in _ROOM_STEPS:
            return _ROOM_STEPS[step](self, key, out)
        return []

    # -- guidelines, greetings, timers ----------------------------------------------------------

    def _on_private(self, ev: PrivateMessage) -> list[A.Action]:
        """Crisis lines for anyone who writes to the bot, and ``talk`` to ask for a moderator.

        A private conversation belongs to the rooms the person shares with the bot, as the network says
        (``PrivateMessage.rooms``; ``_bindings_for_person``): their region's lines, their moderators.
        Someone in several watched rooms is asked which community ("talk #b"); someone in none gets the
        international directory and no moderators are told. What they wrote is read for those words only,
        and never stored."""
        if self._is_self(ev.network, ev.sender):
            return []
        shared = self._bindings_for_person(ev.network, ev.sender, ev.rooms)
        wording = shared[0] if shared else next((b for b in self.rooms.values() if b.network == ev.network), None)
        if wording is None:
            return []  # no watched room on this network at all
        words = ev.text.strip().lower().lstrip("!./" + QUOTES).split()
        if words and words[0].strip(QUOTES) in TALK_WORDS:
            if len(shared) > 1 and len(words) > 1:
                named = words[1].casefold()
                shared = [b for b in shared if named in (b.room.casefold(), b.display_name.casefold())] or shared
            if len(shared) == 1:
                return self._talk(shared[0], ev)
            return self._talk_where(shared, wording, ev)
        if words and words[0] == "resources" and len(words) > 1 and words[1].upper() in ISO_REGIONS:
            if not self.reply_allowed(wording, ev.network, ev.sender, ev.ts):
                return [self.record(ev.network, "private_reply", user=ev.sender, outcome="rate_limited")]
            text = wording.policy.render("resources", **self.render_fields(wording, words[1].upper()))
            return [A.SendPrivate(self._id(), ev.network, user=ev.sender, text=text, purpose="resources"),
                    self.record(ev.network, "private_reply", user=ev.sender)]
        if not self._once("private_reply", ev.network, ev.sender, ev.ts):
            return []
        fields = self.render_fields(wording, None if shared else INTERNATIONAL)
        if len({b.region for b in shared}) > 1:  # rooms in different regions: each region's lines
            regions = sorted({b.region for b in shared})
            language = wording.policy.language
            fields["crisis_lines"] = "\n".join(self.directory.lines_text(r, language) for r in regions)
            fields["emergency"] = " / ".join(f"{self.directory.emergency(r, language)} ({r})" for r in regions)
        text = wording.policy.render("private_reply", **fields)
        if len(shared) > 1:
            text += "\n" + self._which_community(shared, wording)
        return [A.SendPrivate(self._id(), ev.network, user=ev.sender, text=text, purpose="resources"),
                self.record(ev.network, "private_reply", user=ev.sender,
                            outcome=None if len(shared) == 1 else "ask_room" if shared else "no_room")]

    def _which_community(self, shared: list[RoomBinding], wording: RoomBinding) -> str:
        """Someone in several watched rooms is asked which (in the language of the first)."""
        return wording.policy.render("which_room", **self.render_fields(shared[-1]),
                                     rooms=", ".join(b.display_name for b in shared))

    def _talk_where(self, shared: list[RoomBinding], wording: RoomBinding, ev: PrivateMessage) -> list[A.Action]:
        """``talk`` from someone the bot cannot tie to one community: in several rooms, they are asked
        which; in none, no moderators are told (a request must never reach a community the person is not
        in), and they are told how to get help."""
        if not self._once("talk_where", ev.network, ev.sender, ev.ts, 60.0):
            return []
        if shared:
            text = self._which_community(shared, wording)
        else:
            text = wording.policy.render("talk_no_room", **self.render_fields(wording, INTERNATIONAL))
        return [A.SendPrivate(self._id(), ev.network, user=ev.sender, text=text, purpose="reply"),
                self.record(ev.network, "private_reply", user=ev.sender,
                            outcome="ask_room" if shared else "no_room")]

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
                self._touched.add(case.id)
        old_key, new_key = self._person(network, old), self._person(network, new)
        for table in (st.outreach, st.cooldowns):
            if old_key in table:
                table[new_key] = table.pop(old_key)

    def _on_room_unavailable(self, ev: RoomUnavailable) -> list[A.Action]:
        """The bot could not join a watched room: nobody at risk there will be noticed. Tell its
        moderators (once every 10 minutes at most), with what to do."""
        b = self.rooms.get((ev.network, ev.room))
        rec = self.record(ev.network, "room_unavailable", room=ev.room, code=ev.code)
        if b is None or b.moderators_room is None or not self._once("blind", ev.network, ev.room, ev.ts):
            return [rec]
        words = b.policy.words
        why = words(f"cannot_join_{ev.code}" if ev.code in ("471", "473", "474", "475", "477") else "cannot_join_other")
        text = words("cannot_join", room=b.display_name, network=ev.network, why=why, code=ev.code)
        return [rec, A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                       priority="high")]

    NICK_NOTICE_INTERVAL = 1800.0  # the bot's nick held by someone else: the moderators told this often

    def _on_bot_nick(self, ev: BotNick) -> list[A.Action]:
        """Someone else holds the bot's nick: people who write to that nick privately reach them. Each
        moderators' room of that network's rooms is told, again every NICK_NOTICE_INTERVAL while it
        lasts, and once when the bot has its nick back."""
        taken = ev.current.lower() != ev.wanted.lower()
        key = (ev.network, ev.wanted)
        if taken:
            if not self._once("nick_taken", ev.network, ev.wanted, ev.ts, self.NICK_NOTICE_INTERVAL):
                return []
            self.state.nick_taken.add(key)
            priority = "high"
        else:
            if key not in self.state.nick_taken:
                return []
            self.state.nick_taken.discard(key)
            self.state.once_until.pop(("nick_taken", ev.network, ev.wanted), None)
            priority = "low"

        def notice(words) -> str:  # in each moderators' room's language
            if not taken:
                return words("nick_back", wanted=ev.wanted, network=ev.network)
            how = words("nick_reclaiming" if ev.reclaiming == "services" else "nick_retrying")
            return words("nick_taken", current=ev.current, network=ev.network, wanted=ev.wanted, how=how)

        rec = self.record(ev.network, "bot_nick_taken" if taken else "bot_nick_regained")
        targets: dict[tuple[str, str], RoomBinding] = {}
        for b in self.rooms.values():
            if b.network == ev.network and b.moderators_room:
                targets.setdefault((b.moderators_network, b.moderators_room), b)
        return [rec] + [A.AlertModerators(self._id(), net, room=room, text=notice(b.policy.words), priority=priority)
                        for (net, room), b in targets.items()]

    BLIND_NOTICE_INTERVAL = 86_400.0  # unreadable encrypted messages: one notice per room and day

    def _on_undecryptable(self, ev: Undecryptable) -> list[A.Action]:
        """An encrypted message the bot cannot read yet: counted in the event log (``gateway status``
        shows the count), and the room's moderators told once a day, so that blindness is never silent."""
        rec = self.record(ev.network, "undecryptable", room=ev.room)
        b = self.rooms.get((ev.network, ev.room)) if ev.room is not None else None
        if b is None or b.moderators_room is None or not self._once("undecryptable", ev.network, ev.room, ev.ts,
                                                                     self.BLIND_NOTICE_INTERVAL):
            return [rec]
        text = b.policy.words("undecryptable", room=b.display_name, network=ev.network)
        return [rec, A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room, text=text,
                                       priority="low")]

    def _bindings_for_person(self, network: str, user: str, rooms: tuple[str, ...]) -> list[RoomBinding]:
        """The rooms whose moderators look after a private conversation: the room of the person's latest
        open case (they may have been removed from it), else the watched rooms the network says they are
        in with the bot, else the room of their latest closed case (still in memory). Never a room they
        have nothing to do with: what they write cannot choose one."""
        mine = [c for c in self.state.cases.values() if c.binding.network == network and c.user == user]
        for case in reversed(mine):
            if case.open:
                return [case.binding]
        shared = [self.rooms[(network, r)] for r in dict.fromkeys(rooms) if (network, r) in self.rooms]
        return shared or ([mine[-1].binding] if mine else [])



    def _on_tick(self, ev: Tick) -> list[A.Action]:
        out: list[A.Action] = []
        for key, b in self.rooms.items():
            every = b.policy.guidelines.repost_every
            gs = self.state.guidelines.get(key)
            if every and gs is not None and gs.posted is not None and ev.ts - gs.posted >= every \
                    and not self.is_paused(b):
                out += self.post_guidelines(b, ev.ts)
            out += self.guidelines_for_newcomers(b, ev.ts, waiting_only=True)
        out += self._case_timers(ev.ts)
        out += self._digests_due(ev.ts)
        out += self._raid_ticks(ev.ts)
        out += self._talk_flood_tick(ev.ts)
        out += self._retry_waiting(ev.ts)
        self._prune(ev.ts)
        return out

    def _case_timers(self, now: float) -> list[A.Action]:
        """Escalations and follow-up reminders that are due (each case's timers fire once: the journal
        keeps what was sent, see ``Restore``)."""
        out: list[A.Action] = []
        escalations: dict[tuple[str, str], list[tuple[Case, list[A.Action]]]] = {}
        for case in self.state.cases.values():
            step = self._escalate(case, now)
            if step:
                b = case.binding
                escalations.setdefault((b.moderators_network, b.moderators_room or ""), []).append((case, step))
            if case.followup_due is not None and case.followup_due <= now and case.open \
                    and not case.followup_sending:
                # it stays due (in the journal too) until its outcome: a restart in between sends it again
                due, case.followup_sending = case.followup_due, True
                b = case.binding
                text = b.policy.render("followup", **self.render_fields(b), user=case.user, case=case.id)
                alert = A.AlertModerators(self._id(), b.moderators_network, room=b.moderators_room or "",
                                          text=text + self.late_note(due, now, b.policy.words) + self.next_steps(case),
                                          priority="normal", case=case.id)
                out.append(self._expect(alert, Step.FOLLOWUP, case.id))
        for (net, room), steps in sorted(escalations.items()):
            out += self._send_escalations(net, room, steps, now)
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
                    self.state.in_flight.pop(a.id, None)
        ids = [case.id for case, _ in steps]
        priority = max((a.priority for _, acts in steps for a in acts if isinstance(a, A.AlertModerators)),
                       key=ALERT_PRIORITIES.index)
        shown = case_list(ids, words=b.policy.words)
        text = b.policy.render("escalation_group", **self.render_fields(b), count=str(len(ids)), cases=shown,
                               priority=b.policy.words.priority(priority)) + "\n" + group_commands(b.policy)
        return out + [A.AlertModerators(self._id(), net, room=room, text=text, priority=priority, mention_all=ping)]

    def event_log_failing(self, network: str, room: str | None) -> list[A.Action]:
        """Alerts for the moderators of the room involved (or of every room) that logging fails."""
        bindings = [b for b in self.rooms.values() if (b.network, b.room) == (network, room)] \
            or list(self.rooms.values())
        targets: dict[tuple[str, str], RoomBinding] = {}
        for b in bindings:
            if b.moderators_room:
                targets.setdefault((b.moderators_network, b.moderators_room), b)
        return [A.AlertModerators(self._id(), net, room=mods, text=b.policy.words("event_log_failing"),
                                  priority="high") for (net, mods), b in sorted(targets.items(), key=lambda t: t[0])]

    def _prune(self, now: float) -> None:
        """Forget timers that can no longer matter, so memory stays bounded on a long run."""
        st = self.state
        horizon = max((b.policy.guidelines.greet_grace for b in self.rooms.values()), default=0)
        for k in [k for k, t in st.last_seen.items() if now - t > horizon]:
            del st.last_seen[k]
        for k in [k for k, (_, until) in st.cooldowns.items() if until <= now]:
            del st.cooldowns[k]
        for k in [k for k, until in st.once_until.items() if until <= now]:
            del st.once_until[k]
        while st.speakers and now - next(iter(st.speakers.values())) >= self.SPEAKER_MEMORY:
            st.speakers.popitem(last=False)
        window = max((b.policy.context.window or 0 for b in self.rooms.values()), default=0)
        for k in [k for k, seen in st.recent.items() if now - seen[-1][0] >= window]:
            del st.recent[k]
        self._prune_prints(now)
        for k in [k for k, times in st.budgets.items() if not times or now - times[-1] >= 86400]:
            del st.budgets[k]  # no budget window is longer than a day
        longest = max((b.policy.outreach_interval for b in self.rooms.values()), default=0)
        for k in [k for k, (t, _) in st.outreach.items() if now - t >= longest]:
            del st.outreach[k]
        in_flight = {entry[1] for entry in st.pending.values()} | {w.case for w in st.waiting.values()}
        for cid in [cid for cid, c in st.cases.items() if c.closed is not None
                    and now - c.opened >= self.CLOSED_CASE_MEMORY and cid not in in_flight]:
            del st.cases[cid]  # open cases stay however old: a moderator has to close them
            self._journalled.pop(cid, None)
        self._forget_alerts({cid for cid in set(st.alert_refs.values())
                             if cid not in st.cases or not st.cases[cid].open})

    def _once(self, what: str, network: str, who: str, now: float, interval: float | None = None) -> bool:
        """True at most once per ``interval`` (default PRIVATE_REPLY_INTERVAL) for (what, network, who):
        automatic replies and alerts that repeated events must not multiply (and bots must not loop on)."""
        key = (what, network, who)
        until = self.state.once_until.get(key)
        if until is not None and now < until:
            return False
        self.state.once_until[key] = now + (self.PRIVATE_REPLY_INTERVAL if interval is None else interval)
        return True

    def set_rooms(self, rooms: Iterable[RoomBinding]) -> None:
        """Swap in newly loaded room bindings (after a successful reload); open cases keep theirs."""
        self.rooms = {(b.network, b.room): b for b in rooms}
        self.moderator_rooms = {}
        for b in self.rooms.values():
            detector_for(b.policy)  # compile now: the first at-risk message must not wait for it
            if (b.moderators_network, b.moderators_room) in self.rooms:
                raise ValueError(f"the moderators' room of {b.room} is a watched group room: alerts name "
                                 f"people at risk and must never be posted there")
            if b.moderators_room is not None:
                self.moderator_rooms.setdefault((b.moderators_network, b.moderators_room), b)


# What each awaited step's outcome goes to (``Engine._expect``): a case's steps (gateway/core/casework.py's
# ``CASE_STEPS``) and a room's, typed, from a table, never from a name.
_CASE_STEPS = CASE_STEPS
_ROOM_STEPS: dict[Step, Callable[[Engine, tuple[str, str], ActionOutcome], list[A.Action]]] = {
    Step.GUIDELINES_POST: Engine._after_guidelines_post, Step.GUIDELINES_PIN: Engine._after_guidelines_pin,
    Step.DIGEST: Engine._after_digest,
}
