"""Bot commands, declared with ``@command`` and parsed and authorised here, in the core.

Adapters only carry messages; whether a sender may run a command is decided from the network's own
notion of authority (Matrix power level, IRC channel operator or services account) through
``RoomBinding.is_moderator``, never from a display name or nick. Every use is recorded with the
command's name and whether it was authorised; arguments are never recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import actions as A
from .crisis import ISO_REGIONS

if TYPE_CHECKING:
    from .engine import Engine, RoomBinding
    from .events import Message

__all__ = ["command", "dispatch", "COMMANDS", "Context"]


@dataclass(frozen=True)
class Context:
    engine: "Engine"
    binding: "RoomBinding"
    event: "Message"
    args: list[str]
    in_moderator_room: bool

    def reply(self, text: str) -> A.PostNotice:
        e = self.engine
        return A.PostNotice(e._id(), self.event.network, room=self.event.room, text=text, purpose="reply")

    def reply_private(self, text: str) -> A.SendPrivate:
        e = self.engine
        return A.SendPrivate(e._id(), self.event.network, user=self.event.sender, text=text,
                             purpose="reply")


Handler = Callable[[Context], list[A.Action]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    moderator: bool
    help: str


COMMANDS: dict[str, Command] = {}


def command(name: str, *, moderator: bool, help: str) -> Callable[[Handler], Handler]:
    """Register a command. ``moderator=True`` commands are refused to everyone else."""

    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(name, fn, moderator, help)
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
    authorised = not cmd.moderator or binding.is_moderator(ev.authority)
    ctx = Context(engine, binding, ev, words[1:], in_moderator_room)
    record = engine.record(ev.network, "command", room=ev.room, user=ev.sender, command=cmd.name,
                           authorised=authorised)
    if not authorised:
        return [record, ctx.reply(f"Sorry, {binding.policy.command_prefix}{cmd.name} is for moderators.")]
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


@command("help", moderator=False, help="list the commands you can use")
def _help(ctx: Context) -> list[A.Action]:
    is_mod = ctx.binding.is_moderator(ctx.event.authority)
    prefix = ctx.binding.policy.command_prefix
    names = [f"{prefix}{c.name} ({c.help})" for c in COMMANDS.values() if is_mod or not c.moderator]
    text = ctx.binding.policy.render("help", commands="; ".join(names))
    return [ctx.reply(text)]


@command("resources", moderator=False, help="free crisis lines, sent to you privately")
def _resources(ctx: Context) -> list[A.Action]:
    region = ctx.args[0].upper() if ctx.args else None
    if region is not None and region not in ISO_REGIONS:
        region = None
    fields = ctx.engine.render_fields(ctx.binding, region)
    return [ctx.reply_private(ctx.binding.policy.render("resources", **fields))]


@command("status", moderator=True, help="what the bot is doing")
def _status(ctx: Context) -> list[A.Action]:
    e = ctx.engine
    open_cases = sum(1 for c in e.state.cases.values() if c.alert in ("pending", "failed"))
    paused = sorted(f"{n}/{r}" for n, r in e.state.paused)
    modes = sorted({b.policy.mode for b in e.rooms.values()})
    text = (f"Watching {len(e.rooms)} room(s); {len(e.state.cases)} case(s) this run, {open_cases} "
            f"awaiting an alert; mode: {', '.join(modes)}; paused: {', '.join(paused) or 'none'}.")
    return [ctx.reply(text)]


def _set_paused(ctx: Context, paused: bool) -> list[A.Action]:
    b = _target(ctx)
    prefix = ctx.binding.policy.command_prefix
    if b is None:
        return [ctx.reply(f"Which room? Use {prefix}{'pause' if paused else 'resume'} ROOM.")]
    key = (b.network, b.room)
    if paused:
        ctx.engine.state.paused.add(key)
    else:
        ctx.engine.state.paused.discard(key)
    state = ("paused: it will alert moderators but not message or remove anyone" if paused
             else "resumed: acting again")
    return [ctx.engine.record(b.network, "paused" if paused else "resumed", room=b.room),
            ctx.reply(f"The bot is {state} in {b.room}.")]


@command("pause", moderator=True, help="stop messaging and removing people in a room")
def _pause(ctx: Context) -> list[A.Action]:
    return _set_paused(ctx, True)


@command("resume", moderator=True, help="start acting again in a paused room")
def _resume(ctx: Context) -> list[A.Action]:
    return _set_paused(ctx, False)


@command("guidelines", moderator=True, help="post and pin the room guidelines again")
def _guidelines(ctx: Context) -> list[A.Action]:
    b = _target(ctx)
    if b is None:
        return [ctx.reply(f"Which room? Use {ctx.binding.policy.command_prefix}guidelines ROOM.")]
    return ctx.engine.post_guidelines(b, ctx.event.ts)
