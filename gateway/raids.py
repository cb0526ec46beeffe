"""Budgets against raids and floods: a room with more cases than its policy allows in a window is raided
(nobody there is removed automatically; one raid alert lists the cases), and replies and "talk"
requests a person or the gateway can draw are bounded. Part of the sans-I/O engine (mixed into
``Engine``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from . import actions as A
from .cases import Alerting, Case, age_text, case_list
from .rooms import RoomBinding

__all__ = ["Raid", "RaidLimits"]


@dataclass
class Raid:
    """A room with more cases than its policy's ``limits.cases_per_room`` within the window."""

    alerted: float | None = None  # the raid alert or the latest update
    new: list[str] = field(default_factory=list)  # case ids not in an alert yet
    count: int = 0  # cases in the window when it started


class RaidLimits:
    """The engine's budgets part (uses the engine's ``state``, ``limits`` and action helpers)."""

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
            self.state.raids[key] = Raid(count=in_room)
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

    def _raid_alert(self, b: RoomBinding, raid: Raid, now: float, *, first: bool) -> list[A.Action]:
        ids, raid.new = raid.new, []
        raid.alerted = now
        if b.moderators_room is None:
            return []
        shown = case_list(ids)
        text = b.policy.render("raid_alert" if first else "raid_update", **self.render_fields(b),
                               count=str(raid.count if first else len(ids)), cases=shown,
                               age=age_text(b.policy.limits.window))
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
            shown = case_list(ids)
            text = b.policy.render("talk_flood_alert", **self.render_fields(b), count=str(len(ids)), cases=shown,
                                   age=age_text(self.limits.window))
            out.append(A.AlertModerators(self._id(), net, room=room, text=text, priority="high"))
        return out

    def reply_allowed(self, b: RoomBinding, network: str, who: str, now: float) -> bool:
        """At most ``limits.replies_per_person`` replies and refusals per person and window: a flood of
        commands from sock puppets must not turn the bot into a megaphone (or delay a crisis message)."""
        lim = b.policy.limits
        return self._take(("reply", *self._person(network, who)), lim.replies_per_person, lim.window, now)
