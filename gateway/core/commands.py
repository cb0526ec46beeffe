"""Bot commands, declared with ``@command`` and parsed and authorised here, in the core.

Adapters only carry messages; whether a sender may run a command is decided from the network's own
notion of authority (Matrix power level, IRC channel operator or services account) through
``RoomBinding.is_moderator``, never from a display name or nick. Every use is recorded with the
command's name and whether it was authorised; arguments are never recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from . import actions as A
from .cases import Step
from ..policy.crisis_lines import ISO_REGIONS
from ..detection import detector_for, tier_level
from ..detection.language import SUPPORTED
from .history import SHOWN_IN_CHAT, case_text
from ..policy.moderator_text import english

if TYPE_CHECKING:
    from .cases import Case
    from .events import Message, Reaction
    from ..policy.moderator_text import ModeratorText
    from ..policy.model import Policy
    from .rooms import RoomBinding


class Engine(Protocol):
    """All that commands may use of the engine (``gateway/core/engine.py`` implements it): they never touch its
    state or its private methods, so the engine can change inside without breaking a command."""

    rooms: dict[tuple[str, str], "RoomBinding"]

    def new_id(self) -> int: ...
    def record(self, network: str, kind: str, **fields) -> A.RecordEvent: ...
    def expect(self, action: A.Action, step: Step, key: str | tuple[str, str]) -> A.Action: ...
    def take_pending(self, action_id: int) -> tuple[Step, object] | None: ...
    def render_fields(self, binding: "RoomBinding", region: str | None = None) -> dict[str, str]: ...
    def reply_allowed(self, b: "RoomBinding", network: str, who: str, now: float) -> bool: ...
    def post_guidelines(self, b: "RoomBinding", ts: float) -> list[A.Action]: ...
    def case(self, case_id: str) -> "Case | None": ...
    def cases(self) -> list["Case"]: ...
    def paused_rooms(self) -> list[tuple[str, str]]: ...
    def set_paused(self, binding: "RoomBinding", paused: bool) -> None: ...
    def acknowledge(self, case: "Case", moderator: str) -> None: ...
    def close(self, case: "Case", outcome: str, moderator: str) -> list[A.Action]: ...
    def force_removal(self, case: "Case", now: float) -> list[A.Action]: ...
    def alert_case(self, network: str, room: str, ref: str) -> "Case | None": ...

__all__ = ["command", "dispatch", "COMMANDS", "Context", "after_reload", "CLOSE_OUTCOMES", "SAMPLE_TEXT_COMMANDS",
           "case_commands", "group_commands", "react", "ACK_REACTIONS"]

# Commands whose argument is sample text, not the writer's own words: never read for risk (``!scan TEXT``).
# Every other command line in a group room is also read for risk after its name (issue 24 finding 6).
SAMPLE_TEXT_COMMANDS = frozenset({"scan"})

# How a moderator may close a case: a fixed vocabulary, so nothing free-form is ever stored.
CLOSE_OUTCOMES = ("resolved", "safe", "referred", "no_contact", "false_alarm", "other")
_OUTCOMES_TEXT = ", ".join(CLOSE_OUTCOMES)


def case_commands(policy: "Policy", case: "Case") -> str:
    """The line that ends every alert about one case: the commands a moderator may want next, with the
    case's id (``!readmit`` only once the person was removed; ``!ack`` until someone has), in the
    moderators' language around the command words."""
    cid, prefix, words = case.id, policy.command_prefix, policy.words
    steps = [] if case.acked_by else [f"{prefix}ack {cid}"]
    steps.append(f"{prefix}case {cid}")
    if case.removed:
        steps.append(f"{prefix}readmit {cid}")
    steps.append(words("next_close", prefix=prefix, case=cid))
    return words("next", steps=" · ".join(steps), outcomes=_OUTCOMES_TEXT)


def group_commands(policy: "Policy") -> str:
    """The line that ends an alert listing several cases: the same commands, for any of their ids."""
    return policy.words("next_group", prefix=policy.command_prefix, outcomes=_OUTCOMES_TEXT)


@dataclass(frozen=True)
class Context:
    engine: "Engine"
    binding: "RoomBinding"
    event: "Message"
    args: list[str]
    in_moderator_room: bool

    def reply(self, text: str) -> A.PostNotice:
        e = self.engine
        return A.PostNotice(e.new_id(), self.event.network, room=self.event.room, text=text, purpose="reply")

    def reply_private(self, text: str) -> A.SendPrivate:
        e = self.engine
        return A.SendPrivate(e.new_id(), self.event.network, user=self.event.sender, text=text,
                             purpose="reply")


Handler = Callable[[Context], list[A.Action]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    moderator: bool
    moderators_room_only: bool = False  # shows or changes cases: never answered in a group room

    def usage(self, policy: "Policy", moderators: bool) -> str:
        """One line of ``!help``: everyone's commands in the asker's room's language (``usage_NAME``
        templates), a moderator's in the moderators' language (``usage_NAME`` of ``moderator_text``)."""
        name = f"usage_{self.name}"
        if name in policy.templates:
            return policy.render(name, moderators=moderators)
        return policy.words(name, prefix=policy.command_prefix, outcomes=_OUTCOMES_TEXT)


COMMANDS: dict[str, Command] = {}


def command(name: str, *, moderator: bool, moderators_room_only: bool = False) -> Callable[[Handler], Handler]:
    """Register a command. ``moderator=True`` commands are refused to everyone else;
    ``moderators_room_only`` ones are answered only in a moderators' room, so a group room never
    learns who is at risk. What ``!help`` says of it is ``usage_NAME`` in policies/templates/LANG.yaml."""

    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(name, fn, moderator, moderators_room_only)
        return fn

    return register


def dispatch(engine: "Engine", binding: "RoomBinding", ev: "Message",
             in_moderator_room: bool) -> list[A.Action] | None:
    """Run the command in ``ev`` if it names one; ``None`` if the text is not a known command."""
    words = ev.text[len(binding.policy.command_prefix):].split()
    if not words:
        return None
    cmd = COMMANDS.get(words[0].lower())
    if cmd is None:
        return None
    is_moderator = binding.is_moderator(ev.authority)
    authorised = not cmd.moderator or is_moderator
    ctx = Context(engine, binding, ev, words[1:], in_moderator_room)
    if not is_moderator and not engine.reply_allowed(binding, ev.network, ev.sender, ev.ts):
        # over this person's reply budget: counted in the log, not answered (floods of !help, refusals)
        return [engine.record(ev.network, "command", room=ev.room, user=ev.sender, command=cmd.name,
                              authorised=authorised, outcome="rate_limited")]
    record = engine.record(ev.network, "command", room=ev.room, user=ev.sender, command=cmd.name,
                           authorised=authorised)
    if not authorised:
        return [record, ctx.reply(binding.policy.render("command_for_moderators", command=cmd.name))]
    if cmd.moderators_room_only and not in_moderator_room:
        return [record, ctx.reply(binding.policy.render("command_in_moderators_room", command=cmd.name))]
    return [record] + cmd.handler(ctx)


def _target(ctx: Context) -> "RoomBinding | None":
    """The group room a moderator command acts on: this room, or the sole room of a moderators' room."""
    if not ctx.in_moderator_room:
        return ctx.binding
    e = ctx.engine
    net, room = ctx.event.network, ctx.event.room
    targets = [b for b in e.rooms.values() if (b.moderators_network, b.moderators_room) == (net, room)]
    if len(ctx.args) >= 1:
        targets = [b for b in targets if b.room == ctx.args[0]]
    return targets[0] if len(targets) == 1 else None


@command("help", moderator=False)
def _help(ctx: Context) -> list[A.Action]:
    """One command a line with its arguments, only those the asker may use; in a group room, a moderator's
    case commands come last, under the room where they work."""
    is_mod = ctx.binding.is_moderator(ctx.event.authority)
    mine = [c for c in COMMANDS.values() if is_mod or not c.moderator]
    here = [c for c in mine if ctx.in_moderator_room or not c.moderators_room_only]
    elsewhere = [c for c in mine if c not in here]
    policy, asked_there = ctx.binding.policy, ctx.in_moderator_room
    lines = [c.usage(policy, asked_there) for c in here]
    if elsewhere:
        lines += [policy.words("help_moderators_room")] + [c.usage(policy, asked_there) for c in elsewhere]
    return [ctx.reply(policy.render("help", moderators=asked_there, commands="\n".join(lines)))]


@command("resources", moderator=False)
def _resources(ctx: Context) -> list[A.Action]:
    region = ctx.args[0].upper() if ctx.args else None
    if region is not None and region not in ISO_REGIONS:
        region = None
    fields = ctx.engine.render_fields(ctx.binding, region)
    return [ctx.reply_private(ctx.binding.policy.render("resources", **fields))]


@command("status", moderator=True)
def _status(ctx: Context) -> list[A.Action]:
    """In a group room, that room's figures; in a moderators' room, those of each room it looks after.
    Counts only, never who: a group room must not learn who is at risk."""
    e = ctx.engine
    if ctx.in_moderator_room:
        here = (ctx.event.network, ctx.event.room)
        rooms = [b for b in e.rooms.values() if (b.moderators_network, b.moderators_room) == here]
    else:
        rooms = [ctx.binding]
    paused = set(e.paused_rooms())
    cases = e.cases()  # open ones from before a restart too (gateway/core/restore.py)
    words = ctx.binding.policy.words
    lines = []
    for b in rooms:
        mine = [c for c in cases if (c.binding.network, c.binding.room) == (b.network, b.room)]
        lines.append(words("status_line", room=b.display_name, network=b.network, open=sum(c.open for c in mine),
                           awaiting=sum(c.awaiting_alert for c in mine), mode=b.policy.mode,
                           paused=words("status_paused" if (b.network, b.room) in paused else "status_not_paused")))
    if not ctx.in_moderator_room:
        return [ctx.reply(words("status_room", line=lines[0]))]
    return [ctx.reply(words("status_rooms", count=len(rooms), lines="\n".join(lines)))]


def _set_paused(ctx: Context, paused: bool) -> list[A.Action]:
    b = _target(ctx)
    policy = ctx.binding.policy
    if b is None:
        return [ctx.reply(policy.words("which_room", prefix=policy.command_prefix,
                                       command="pause" if paused else "resume"))]
    ctx.engine.set_paused(b, paused)
    return [ctx.engine.record(b.network, "paused" if paused else "resumed", room=b.room),
            ctx.reply(policy.words("paused" if paused else "resumed", room=b.room))]


@command("pause", moderator=True)
def _pause(ctx: Context) -> list[A.Action]:
    return _set_paused(ctx, True)


@command("resume", moderator=True)
def _resume(ctx: Context) -> list[A.Action]:
    return _set_paused(ctx, False)


@command("guidelines", moderator=True)
def _guidelines(ctx: Context) -> list[A.Action]:
    b = _target(ctx)
    if b is None:
        policy = ctx.binding.policy
        return [ctx.reply(policy.words("which_room", prefix=policy.command_prefix, command="guidelines"))]
    return ctx.engine.post_guidelines(b, ctx.event.ts)


# -- cases (moderators' room only) -------------------------------------------------------------

def _case(ctx: Context):
    """The case named by the first argument, if it belongs to a room this moderators' room looks after."""
    policy = ctx.binding.policy
    if not ctx.args:
        return None, [ctx.reply(policy.words("which_case", prefix=policy.command_prefix))]
    case = ctx.engine.case(ctx.args[0].lower())
    net, room = ctx.event.network, ctx.event.room
    if case is None or (case.binding.moderators_network, case.binding.moderators_room) != (net, room):
        return None, [ctx.reply(policy.words("no_case", case=repr(ctx.args[0][:16]), prefix=policy.command_prefix))]
    return case, []


def _status_of(case, words: "ModeratorText") -> str:
    if case.closed:
        return words("case_closed", outcome=case.closed)
    if case.acked_by:
        return words("case_acked", moderator=case.acked_by)
    return words("case_not_acked")


def _kind_of(case, words: "ModeratorText") -> str:
    """What a case is about, as ``!cases`` lists it: a talk request, someone they know, or the tier of
    their own risk (and whether they also asked to talk)."""
    if case.kind == "talk":
        return words("kind_talk")
    tier = words.tier(case.tier)
    if case.kind == "thirdparty":
        return words("kind_third_party", tier=tier)
    return words("kind_asked_to_talk", tier=tier) if case.asked_to_talk else tier


CASES_PAGE = 20  # cases per page of !cases


@command("cases", moderator=True, moderators_room_only=True)
def _cases(ctx: Context) -> list[A.Action]:
    """Every open case, in pages: highest tier first, and within a tier the cases handled on their own
    before those listed in a raid alert, so a genuine case is never behind a raid's."""
    e, net, room = ctx.engine, ctx.event.network, ctx.event.room
    prefix, words = ctx.binding.policy.command_prefix, ctx.binding.policy.words
    page = 1
    if ctx.args:
        if not ctx.args[0].isdigit() or int(ctx.args[0]) < 1:
            return [ctx.reply(words("cases_usage", prefix=prefix))]
        page = int(ctx.args[0])
    mine = [c for c in e.cases() if c.open
            and (c.binding.moderators_network, c.binding.moderators_room) == (net, room)]
    if not mine:
        return [ctx.reply(words("cases_none"))]
    mine.sort(key=lambda c: (-tier_level(c.tier), c.raid, c.opened))
    pages = -(-len(mine) // CASES_PAGE)
    if page > pages:
        return [ctx.reply(words("cases_only_one" if pages == 1 else "cases_only", pages=pages))]
    shown = mine[(page - 1) * CASES_PAGE:page * CASES_PAGE]
    lines = [words("cases_line", case=c.id, kind=_kind_of(c, words), user=c.user, room=c.binding.display_name,
                   age=words.age(ctx.event.ts - c.opened), status=_status_of(c, words),
                   raid=words("cases_in_raid") if c.raid else "") for c in shown]
    head = words("cases_head", count=len(mine), page=words("cases_page", page=page, pages=pages) if pages > 1 else "")
    more = "\n" + words("cases_more", prefix=prefix, page=page + 1) if page < pages else ""
    return [ctx.reply(head + "\n" + "\n".join(lines) + more)]


@command("case", moderator=True, moderators_room_only=True)
def _case_detail(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    words = ctx.binding.policy.words
    followup = (words("case_followup", age=words.age(case.followup_due - ctx.event.ts))
                if case.followup_due and case.open else "")
    dm, removal = case.statuses_in(ctx.binding.policy.statuses)
    summary = words("case_summary", case=case.id, tier=words.tier(case.tier), rules=", ".join(case.detection.rules),
                    user=case.user, room=case.binding.display_name, network=case.binding.network,
                    age=words.age(ctx.event.ts - case.opened), dm=dm, removal=removal,
                    alert=words(f"alert_{case.alerting.value}"), status=_status_of(case, words), followup=followup)
    due = case.followup_due if case.open else None
    return [ctx.reply(case_text(summary, case.history, followup_due=due, now=ctx.event.ts, most=SHOWN_IN_CHAT,
                                words=words))]


@command("ack", moderator=True, moderators_room_only=True)
def _ack(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    record, text = _acknowledge(ctx.engine, case, ctx.event.sender)
    return [record, ctx.reply(text)]


def _acknowledge(engine: "Engine", case: "Case", moderator: str, *,
                 reaction: bool = False) -> tuple[A.RecordEvent, str]:
    """What ``!ack`` and a ✅ reaction do alike: the case is acknowledged, recorded (``acked``; ``outcome``
    says how when it was a reaction), and the reply says by whom."""
    engine.acknowledge(case, moderator)
    b = case.binding
    record = engine.record(b.network, "acked", room=b.room, user=case.user, case=case.id, by=moderator,
                           outcome="reaction" if reaction else None)
    words = b.policy.words
    how = words("acked_with_reaction") if reaction else ""
    return record, words("acked", case=case.id, moderator=moderator, how=how)


# A moderator's tick on an alert in the moderators' room acknowledges the alert's case (Matrix m.reaction;
# with or without the emoji variation selector).
ACK_REACTIONS = frozenset({"✅", "✔", "☑"})


def react(engine: "Engine", binding: "RoomBinding | None", ev: "Reaction", in_moderator_room: bool) -> list[A.Action]:
    """A reaction: a ✅ from a moderator (the same authority check as every command) on an open case's
    alert in this moderators' room is ``!ack`` for that case. Any other ✅ (from someone who is not a
    moderator, on a message that is no alert of an open case here, in another room) is a refusal that is
    counted (``command`` ``ack``, ``outcome`` reaction, ``code`` why) and never answered: people tick
    messages all the time. Other reactions are nothing."""
    if ev.key.replace("\ufe0f", "").replace("\ufe0e", "").strip() not in ACK_REACTIONS:
        return []

    def refused(code: str, authorised: bool | None, user: str | None) -> list[A.Action]:
        return [engine.record(ev.network, "command", room=ev.room, user=user, command="ack", authorised=authorised,
                              outcome="reaction", code=code)]

    if binding is None or not in_moderator_room:
        return refused("not_moderators_room", None, None)  # a tick in a group room is chat: nobody is named
    if not binding.is_moderator(ev.authority):
        return refused("not_moderator", False, ev.sender)
    case = engine.alert_case(ev.network, ev.room, ev.ref)
    if case is None:
        return refused("not_alert", True, ev.sender)
    used = engine.record(ev.network, "command", room=ev.room, user=ev.sender, command="ack", authorised=True,
                         outcome="reaction")
    record, text = _acknowledge(engine, case, ev.sender, reaction=True)
    return [used, record, A.PostNotice(engine.new_id(), ev.network, room=ev.room, text=text, purpose="reply")]


@command("close", moderator=True, moderators_room_only=True)
def _close(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    outcome = ctx.args[1].lower() if len(ctx.args) > 1 else "resolved"
    words = ctx.binding.policy.words
    if outcome not in CLOSE_OUTCOMES:
        return [ctx.reply(words("close_usage", outcomes=_OUTCOMES_TEXT))]
    b = case.binding
    return [ctx.engine.record(b.network, "closed", room=b.room, user=case.user, outcome=outcome, case=case.id,
                              by=ctx.event.sender),
            *ctx.engine.close(case, outcome, ctx.event.sender),
            ctx.reply(words("closed", case=case.id, outcome=outcome))]


@command("escalated", moderator=True, moderators_room_only=True)
def _escalated(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    ctx.engine.acknowledge(case, ctx.event.sender)
    b = case.binding
    return [ctx.engine.record(b.network, "escalated_external", room=b.room, user=case.user, case=case.id,
                              by=ctx.event.sender),
            ctx.reply(ctx.binding.policy.words("escalated", case=case.id))]


@command("readmit", moderator=True, moderators_room_only=True)
def _readmit(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    b = case.binding
    action = A.Readmit(ctx.engine.new_id(), b.network, room=b.room, user=case.user, case=case.id)
    return [ctx.engine.expect(action, Step.READMIT, case.id)]


@command("remove", moderator=True, moderators_room_only=True)
def _remove(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    words = ctx.binding.policy.words
    if case.removed:
        return [ctx.reply(words("remove_already", case=case.id, user=case.user))]
    actions = ctx.engine.force_removal(case, ctx.event.ts)
    if not actions:
        return [ctx.reply(words("remove_under_way", case=case.id, user=case.user))]
    # never held to a budget (a raid's is for automatic messages): the alert of the case follows
    return [ctx.reply(words("remove_now" if case.dm_accepted else "remove_message_first", case=case.id)), *actions]


@command("scan", moderator=True, moderators_room_only=True)
def _scan(ctx: Context) -> list[A.Action]:
    policy = ctx.binding.policy
    prefix, words = policy.command_prefix, policy.words
    text = ctx.event.text[len(prefix):].split(None, 1)
    if len(text) < 2:
        return [ctx.reply(words("scan_usage", prefix=prefix))]
    detector = detector_for(policy)
    d = detector.detect(text[1])
    parts = [words("scan_tier", tier=words.tier(d.tier)),
             words("scan_would_remove" if detector.would_remove(d) else "scan_would_not_remove"),
             words("scan_rules", rules=", ".join(d.rules) or words("scan_no_rules"))]
    if d.lowered:
        parts.append(words("scan_lowered", rules=", ".join(d.lowered)))
    if d.suppressed:
        parts.append(words("scan_idiom", rules=", ".join(d.suppressed)))
    if d.score is not None:
        scorer = detector.scored_by(d)  # the model of the language whose rules decided
        high = words("scan_score_high", high=f"{scorer.model_high:.2f}") if scorer.model_high <= 1 else ""
        parts.append(words("scan_score", score=f"{d.score:.2f}", concern=f"{scorer.model_concern:.2f}", high=high))
    if len(d.languages) > 1:  # identified as another language with rules: they judged it too
        whose = words("scan_theirs" if d.language != d.languages[0] else "scan_the_rooms")
        parts.append(words("scan_other_language", language=d.identified, whose=whose))
    elif d.identified is not None and d.identified not in SUPPORTED:
        parts.append(words("scan_unsupported", language=d.identified))
    return [ctx.reply(words("scan", policy=policy.name, parts=words("scan_separator").join(parts)))]


@command("reload", moderator=True)
def _reload(ctx: Context) -> list[A.Action]:
    action = A.ReloadPolicies(ctx.engine.new_id(), ctx.event.network, room=ctx.event.room)
    return [ctx.engine.expect(action, Step.RELOAD, (ctx.event.network, ctx.event.room))]


def after_reload(engine: "Engine", result) -> list[A.Action]:
    """Report a reload's result in the room where it was asked for."""
    action = engine.take_pending(result.action_id)
    if action is None:
        return []
    _, (network, room) = action
    asked = [b for b in engine.rooms.values()  # the room it was asked in, or a moderators' room of it
             if (b.network, b.room) == (network, room) or (b.moderators_network, b.moderators_room) == (network, room)]
    words = asked[0].policy.words if asked else english()
    if result.errors:
        more = words("reload_more", count=len(result.errors) - 5) if len(result.errors) > 5 else ""
        text = words("reload_refused", errors="\n".join(result.errors[:5]), more=more)
    else:
        text = words("reloaded", count=len(engine.rooms))
    return [engine.record(network, "reloaded" if not result.errors else "reload_refused", room=room),
            A.PostNotice(engine.new_id(), network, room=room, text=text, purpose="reply")]
