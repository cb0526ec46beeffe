"""Room guidelines: posted and pinned when the bot is ready in a room, re-posted on schedule, and sent
privately to people who join (once per grace period). Part of the sans-I/O engine (``Engine`` mixes
it in): it returns actions and reads no clock.

In an end-to-end encrypted room a newcomer cannot decrypt anything sent before they joined, the pinned
guidelines included (Matrix shares message keys with the members present at the time). So when people
join such a room, the guidelines are posted again for them: at once, then at most every
``NEWCOMER_POST_INTERVAL`` while more keep joining (a flood of joins gets a few posts, not one each).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import actions as A
from .cases import Step
from .events import ActionOutcome, Join, RoomReady, guidelines_digest
from .rooms import RoomBinding

__all__ = ["GuidelinesState", "RoomGuidelines"]


@dataclass
class GuidelinesState:
    digest: str | None = None
    ref: str | None = None
    posted: float | None = None
    for_newcomers: float | None = None  # when they were last posted for people who could not read the pin
    newcomers_waiting: bool = False  # people joined since, and cannot read them yet


NEWCOMER_POST_INTERVAL = 300.0


class RoomGuidelines:
    """The engine's guidelines part (uses the engine's ``state``, ``rooms`` and action helpers)."""

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
        gs = self.state.guidelines.setdefault((ev.network, ev.room), GuidelinesState())
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
        gs = self.state.guidelines.setdefault((b.network, b.room), GuidelinesState())
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
        if ev.history_hidden and g.text and g.pin and not g.greet_on_join:
            return self.guidelines_for_newcomers(b, ev.ts)
        if not g.greet_on_join:
            return []
        key = (ev.network, ev.room, ev.user)
        seen = self.state.last_seen.get(key)
        self.state.last_seen[key] = ev.ts
        if seen is not None and ev.ts - seen < g.greet_grace:
            return []  # a rejoin within the grace period is not greeted again
        text = b.policy.render("greeting", **self.render_fields(b))
        if (b.network_type == "irc" or ev.history_hidden) and g.text:
            text += "\n" + g.text  # IRC cannot pin, an encrypted pin is unreadable: they come with the greeting
        return [A.GreetUser(self._id(), ev.network, room=ev.room, user=ev.user, text=text),
                self.record(ev.network, "greeted", room=ev.room, user=ev.user)]

    def guidelines_for_newcomers(self, b: RoomBinding, ts: float, *, waiting_only: bool = False) -> list[A.Action]:
        """The guidelines again, for people who joined an encrypted room (see the module's docstring)."""
        if waiting_only:  # (every tick, for every room: nothing is created for rooms nobody joined)
            waiting = self.state.guidelines.get((b.network, b.room))
            if waiting is None or not waiting.newcomers_waiting:
                return []
        gs = self.state.guidelines.setdefault((b.network, b.room), GuidelinesState())
        if self.is_paused(b) or (gs.for_newcomers is not None and ts - gs.for_newcomers < NEWCOMER_POST_INTERVAL):
            gs.newcomers_waiting = True
            return []
        gs.for_newcomers, gs.newcomers_waiting = ts, False
        return [A.PostNotice(self._id(), b.network, room=b.room, text=b.policy.guidelines.text or "",
                             purpose="guidelines"),
                self.record(b.network, "guidelines_for_newcomers", room=b.room)]
