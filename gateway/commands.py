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
from .cases import Step, age_text
from .crisis import ISO_REGIONS
from .detection import detector_for, tier_level
from .detection.language import SUPPORTED
from .history import SHOWN_IN_CHAT, case_text

if TYPE_CHECKING:
    from .cases import Case
    from .events import Message, Reaction
    from .rooms import RoomBinding


class Engine(Protocol):
    """All that commands may use of the engine (``gateway/engine.py`` implements it): they never touch its
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


def case_commands(prefix: str, case: "Case") -> str:
    """The line that ends every alert about one case: the commands a moderator may want next, with the
    case's id (``!readmit`` only once the person was removed; ``!ack`` until someone has)."""
    cid = case.id
    steps = [] if case.acked_by else [f"{prefix}ack {cid}"]
    steps.append(f"{prefix}case {cid}")
    if case.removed:
        steps.append(f"{prefix}readmit {cid}")
    steps.append(f"{prefix}close {cid} OUTCOME")
    return "Next: " + " · ".join(steps) + f", OUTCOME one of: {_OUTCOMES_TEXT}"


def group_commands(prefix: str) -> str:
    """The line that ends an alert listing several cases: the same commands, for any of their ids."""
    return (f"Next: {prefix}cases lists them · {prefix}case ID · {prefix}ack ID · {prefix}close ID OUTCOME, "
            f"OUTCOME one of: {_OUTCOMES_TEXT}")


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
    help: str
    moderators_room_only: bool = False  # shows or changes cases: never answered in a group room
    args: str = ""  # what follows the name, as !help shows it: "ID", "ID [outcome]", "[PAGE]"

    def usage(self, prefix: str) -> str:
        return f"{prefix}{self.name}{' ' + self.args if self.args else ''} - {self.help}"


COMMANDS: dict[str, Command] = {}


def command(name: str, *, moderator: bool, help: str, moderators_room_only: bool = False,
            args: str = "") -> Callable[[Handler], Handler]:
    """Register a command. ``moderator=True`` commands are refused to everyone else;
    ``moderators_room_only`` ones are answered only in a moderators' room, so a group room never
    learns who is at risk."""

    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(name, fn, moderator, help, moderators_room_only, args)
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


@command("help", moderator=False, help="this list")
def _help(ctx: Context) -> list[A.Action]:
    """One command a line with its arguments, only those the asker may use; in a group room, a moderator's
    case commands come last, under the room where they work."""
    is_mod = ctx.binding.is_moderator(ctx.event.authority)
    prefix = ctx.binding.policy.command_prefix
    mine = [c for c in COMMANDS.values() if is_mod or not c.moderator]
    here = [c for c in mine if ctx.in_moderator_room or not c.moderators_room_only]
    elsewhere = [c for c in mine if c not in here]
    policy, asked_there = ctx.binding.policy, ctx.in_moderator_room

    def usage(c: Command) -> str:  # everyone's commands in the reader's language; a moderator's as the code says
        name = f"usage_{c.name}"
        return policy.render(name, moderators=asked_there) if name in policy.templates else c.usage(prefix)

    lines = [usage(c) for c in here]
    if elsewhere:
        lines += ["In the moderators' room:"] + [usage(c) for c in elsewhere]
    return [ctx.reply(policy.render("help", moderators=asked_there, commands="\n".join(lines)))]


@command("resources", moderator=False, help="free crisis lines, sent to you privately", args="[COUNTRY]")
def _resources(ctx: Context) -> list[A.Action]:
    region = ctx.args[0].upper() if ctx.args else None
    if region is not None and region not in ISO_REGIONS:
        region = None
    fields = ctx.engine.render_fields(ctx.binding, region)
    return [ctx.reply_private(ctx.binding.policy.render("resources", **fields))]


@command("status", moderator=True, help="what the bot is doing")
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
    cases = e.cases()  # open ones from before a restart too (gateway/restore.py)
    lines = []
    for b in rooms:
        mine = [c for c in cases if (c.binding.network, c.binding.room) == (b.network, b.room)]
        lines.append(f"{b.display_name} ({b.network}): {sum(c.open for c in mine)} open case(s), "
                     f"{sum(c.awaiting_alert for c in mine)} awaiting an alert; mode: {b.policy.mode}; "
                     f"{'paused' if (b.network, b.room) in paused else 'not paused'}.")
    if not ctx.in_moderator_room:
        return [ctx.reply("Watching this room, " + lines[0])]
    return [ctx.reply(f"Watching {len(rooms)} room(s) for this moderators' room:\n" + "\n".join(lines))]


def _set_paused(ctx: Context, paused: bool) -> list[A.Action]:
    b = _target(ctx)
    prefix = ctx.binding.policy.command_prefix
    if b is None:
        return [ctx.reply(f"Which room? Use {prefix}{'pause' if paused else 'resume'} ROOM.")]
    ctx.engine.set_paused(b, paused)
    state = ("paused: it will alert moderators but not message or remove anyone" if paused
             else "resumed: acting again")
    return [ctx.engine.record(b.network, "paused" if paused else "resumed", room=b.room),
            ctx.reply(f"The bot is {state} in {b.room}.")]


@command("pause", moderator=True, help="stop messaging and removing people in a room", args="[ROOM]")
def _pause(ctx: Context) -> list[A.Action]:
    return _set_paused(ctx, True)


@command("resume", moderator=True, help="start acting again in a paused room", args="[ROOM]")
def _resume(ctx: Context) -> list[A.Action]:
    return _set_paused(ctx, False)


@command("guidelines", moderator=True, help="post and pin the room guidelines again", args="[ROOM]")
def _guidelines(ctx: Context) -> list[A.Action]:
    b = _target(ctx)
    if b is None:
        return [ctx.reply(f"Which room? Use {ctx.binding.policy.command_prefix}guidelines ROOM.")]
    return ctx.engine.post_guidelines(b, ctx.event.ts)


# -- cases (moderators' room only) -------------------------------------------------------------

def _case(ctx: Context):
    """The case named by the first argument, if it belongs to a room this moderators' room looks after."""
    if not ctx.args:
        return None, [ctx.reply("Which case? Give its id, e.g. " + ctx.binding.policy.command_prefix
                                + "case abc234.")]
    case = ctx.engine.case(ctx.args[0].lower())
    net, room = ctx.event.network, ctx.event.room
    if case is None or (case.binding.moderators_network, case.binding.moderators_room) != (net, room):
        return None, [ctx.reply(f"No case {ctx.args[0][:16]!r} here. {ctx.binding.policy.command_prefix}cases "
                                "lists the open ones.")]
    return case, []


def _status_of(case) -> str:
    if case.closed:
        return f"closed ({case.closed})"
    if case.acked_by:
        return f"acknowledged by {case.acked_by}"
    return "NOT acknowledged"


def _kind_of(case) -> str:
    """What a case is about, as ``!cases`` lists it: a talk request, someone they know, or the tier of
    their own risk (and whether they also asked to talk)."""
    if case.kind == "talk":
        return "talk request"
    if case.kind == "thirdparty":
        return f"{case.tier}, about someone they know"
    return case.tier + (", asked to talk" if case.asked_to_talk else "")


CASES_PAGE = 20  # cases per page of !cases


@command("cases", moderator=True, help="open cases, highest tier first, 20 a page", moderators_room_only=True,
         args="[PAGE]")
def _cases(ctx: Context) -> list[A.Action]:
    """Every open case, in pages: highest tier first, and within a tier the cases handled on their own
    before those listed in a raid alert, so a genuine case is never behind a raid's."""
    e, net, room = ctx.engine, ctx.event.network, ctx.event.room
    prefix = ctx.binding.policy.command_prefix
    page = 1
    if ctx.args:
        if not ctx.args[0].isdigit() or int(ctx.args[0]) < 1:
            return [ctx.reply(f"Usage: {prefix}cases [PAGE], e.g. {prefix}cases 2.")]
        page = int(ctx.args[0])
    mine = [c for c in e.cases() if c.open
            and (c.binding.moderators_network, c.binding.moderators_room) == (net, room)]
    if not mine:
        return [ctx.reply("No open cases.")]
    mine.sort(key=lambda c: (-tier_level(c.tier), c.raid, c.opened))
    pages = -(-len(mine) // CASES_PAGE)
    if page > pages:
        return [ctx.reply(f"There {'is' if pages == 1 else 'are'} only {pages} page(s) of open cases.")]
    shown = mine[(page - 1) * CASES_PAGE:page * CASES_PAGE]
    lines = [f"{c.id}: {_kind_of(c)}, {c.user} in {c.binding.display_name}, {age_text(ctx.event.ts - c.opened)} ago, "
             f"{_status_of(c)}{', in the raid alert' if c.raid else ''}" for c in shown]
    head = f"{len(mine)} open case(s)" + (f", page {page} of {pages}" if pages > 1 else "") + ":\n"
    more = f"\nMore: {prefix}cases {page + 1}" if page < pages else ""
    return [ctx.reply(head + "\n".join(lines) + more)]


@command("case", moderator=True, help="one case and its history", moderators_room_only=True, args="ID")
def _case_detail(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    rules = ", ".join(case.detection.rules)
    followup = (f"; follow-up reminder in {age_text(case.followup_due - ctx.event.ts)}"
                if case.followup_due and case.open else "")
    summary = (f"Case {case.id}: {case.tier} ({rules}) for {case.user} in {case.binding.display_name} "
               f"({case.binding.network}), opened {age_text(ctx.event.ts - case.opened)} ago. Private message: "
               f"{case.dm_text}. Removal: {case.removal_text}. Alert: {case.alert_text}. Status: "
               f"{_status_of(case)}{followup}.")
    due = case.followup_due if case.open else None
    return [ctx.reply(case_text(summary, case.history, followup_due=due, now=ctx.event.ts, most=SHOWN_IN_CHAT))]


@command("ack", moderator=True, help="you are on it: stops repeated alerts; a ✅ on the alert does the same on Matrix",
         moderators_room_only=True, args="ID")
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
    how = " with ✅" if reaction else ""
    return record, f"Case {case.id} acknowledged by {moderator}{how}. No more repeated alerts for it."


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


@command("close", moderator=True, help=f"close it; outcome one of {_OUTCOMES_TEXT}; resolved if none given",
         moderators_room_only=True, args="ID [outcome]")
def _close(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    outcome = ctx.args[1].lower() if len(ctx.args) > 1 else "resolved"
    if outcome not in CLOSE_OUTCOMES:
        return [ctx.reply(f"Close with one of: {', '.join(CLOSE_OUTCOMES)}.")]
    b = case.binding
    return [ctx.engine.record(b.network, "closed", room=b.room, user=case.user, outcome=outcome, case=case.id,
                              by=ctx.event.sender),
            *ctx.engine.close(case, outcome, ctx.event.sender),
            ctx.reply(f"Case {case.id} closed ({outcome}). No follow-up reminder will be sent.")]


@command("escalated", moderator=True, help="record that a moderator contacted emergency services",
         moderators_room_only=True, args="ID")
def _escalated(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    ctx.engine.acknowledge(case, ctx.event.sender)
    b = case.binding
    return [ctx.engine.record(b.network, "escalated_external", room=b.room, user=case.user, case=case.id,
                              by=ctx.event.sender),
            ctx.reply(f"Recorded for case {case.id}: a moderator contacted emergency services. "
                      "(The bot never contacts emergency services itself.)")]


@command("readmit", moderator=True, help="let a removed person back: lift a ban, invite them",
         moderators_room_only=True, args="ID")
def _readmit(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    b = case.binding
    action = A.Readmit(ctx.engine.new_id(), b.network, room=b.room, user=case.user, case=case.id)
    return [ctx.engine.expect(action, Step.READMIT, case.id)]


@command("remove", moderator=True, help="remove the person of a case whose tier did not; messages them first",
         moderators_room_only=True, args="ID")
def _remove(ctx: Context) -> list[A.Action]:
    case, refusal = _case(ctx)
    if case is None:
        return refusal
    if case.removed:
        return [ctx.reply(f"Case {case.id}: {case.user} was already removed.")]
    actions = ctx.engine.force_removal(case, ctx.event.ts)
    if not actions:
        return [ctx.reply(f"Case {case.id}: already under way; {case.user} will be removed once their private "
                          f"message is accepted.")]
    # never held to a budget (a raid's is for automatic messages): the alert of the case follows
    first = "removing them" if case.dm_accepted else "messaging them first, then removing them"
    return [ctx.reply(f"Case {case.id}: {first}; an alert follows when it is done."), *actions]


@command("scan", moderator=True, help="dry-run detection on TEXT; opens nothing, the text is not logged",
         moderators_room_only=True, args="TEXT")
def _scan(ctx: Context) -> list[A.Action]:
    prefix = ctx.binding.policy.command_prefix
    text = ctx.event.text[len(prefix):].split(None, 1)
    if len(text) < 2:
        return [ctx.reply(f"Usage: {prefix}scan TEXT")]
    detector = detector_for(ctx.binding.policy)
    d = detector.detect(text[1])
    parts = [f"tier {d.tier}", f"would remove: {'yes' if detector.would_remove(d) else 'no'}",
             f"rules: {', '.join(d.rules) or 'none'}"]
    if d.lowered:
        parts.append(f"lowered by a negation: {', '.join(d.lowered)}")
    if d.suppressed:
        parts.append(f"dropped as an idiom: {', '.join(d.suppressed)}")
    if d.score is not None:
        high = f", high from {detector.model_high:.2f}" if detector.model_high <= 1 else ""
        parts.append(f"model score {d.score:.2f} (concern from {detector.model_concern:.2f}{high})")
    if len(d.languages) > 1:  # identified as another language with rules: they judged it too
        whose = "theirs" if d.language != d.languages[0] else "the room's"
        parts.append(f"reads as {d.identified}: the {d.identified} rules judged it too ({whose} decided)")
    elif d.identified is not None and d.identified not in SUPPORTED:
        parts.append(f"reads as {d.identified}: no rules for that language")
    return [ctx.reply(f"Scan ({ctx.binding.policy.name}): " + "; ".join(parts) + ".")]


@command("reload", moderator=True, help="validate and apply the policies; the old ones stay on any error")
def _reload(ctx: Context) -> list[A.Action]:
    action = A.ReloadPolicies(ctx.engine.new_id(), ctx.event.network, room=ctx.event.room)
    return [ctx.engine.expect(action, Step.RELOAD, (ctx.event.network, ctx.event.room))]


def after_reload(engine: "Engine", result) -> list[A.Action]:
    """Report a reload's result in the room where it was asked for."""
    action = engine.take_pending(result.action_id)
    if action is None:
        return []
    _, (network, room) = action
    if result.errors:
        shown = "\n".join(result.errors[:5])
        more = f"\n(and {len(result.errors) - 5} more)" if len(result.errors) > 5 else ""
        text = f"Reload refused; the old policies stay in force:\n{shown}{more}"
    else:
        text = f"Policies reloaded: {len(engine.rooms)} room(s)."
    return [engine.record(network, "reloaded" if not result.errors else "reload_refused", room=room),
            A.PostNotice(engine.new_id(), network, room=room, text=text, purpose="reply")]
