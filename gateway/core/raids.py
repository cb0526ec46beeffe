"""Budgets against raids and floods: a room with more cases than its policy allows in a window is raided,
and replies and "talk" requests a person or the gateway can draw are bounded. Part of the sans-I/O engine
(mixed into ``Engine``).

A raid never starves a real person. Sock puppets flood with one line (or a few), so a raid has a
*pattern*: a case whose line is a near-duplicate of another person's recent at-risk line, of the same
tier or a higher one, shares it. Only those cases are handled as the raid: listed by id in the raid
alert and its updates instead of an alert each, not removed automatically, and messaged within the
raid's budget. A case that does not share the pattern gets what it would get on a quiet day: its crisis
message, its removal per its tier and its own alert, within a budget of its own (so a flood of copies
spends nothing of it; an attacker has to write a different line for each puppet to spend it).

Lines are never stored. What is compared is a *fingerprint*: keyed hashes (BLAKE2b, with a random key
made at start that never leaves memory) of the line's folded word pairs, kept in memory only for the
window of the room's limits, never written anywhere; after a restart the pattern is learnt again from
the raid's next lines.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field

from . import actions as A
from .cases import Alerting, Case, case_list
from .commands import group_commands
from ..text.folding import normalise
from .rooms import RoomBinding

__all__ = ["Raid", "RaidLimits", "LinePrint", "line_print", "similarity", "NEAR_DUPLICATE"]

NEAR_DUPLICATE = 0.5  # the share of word pairs two lines must have in common to be one pattern
_SKETCH = 64  # at most this many hashes per line (the smallest: a bottom-k sketch of a long line)
RAID_LISTED_IDS = 100  # case ids a raid alert or update lists (then "and N more": !cases shows them all)


def line_print(text: str, key: bytes) -> frozenset[int]:
    """The fingerprint of a line: keyed hashes of its folded word pairs (one word: the word). Folding
    (``normalise``) makes homoglyph, case and leetspeak variants of a line the same line."""
    words = normalise(text).split()
    pairs = {" ".join(words[i:i + 2]) for i in range(max(1, len(words) - 1))} if words else set()
    hashes = sorted(int.from_bytes(hashlib.blake2b(p.encode(), key=key, digest_size=8).digest(), "big")
                    for p in pairs)
    return frozenset(hashes[:_SKETCH])


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two fingerprints (0 for an empty one)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class LinePrint:
    """A recent at-risk line, as the raid check remembers it: never the text (memory only)."""

    until: float  # forgotten after this time (the room's window)
    network: str
    room: str
    user: str
    level: int  # its tier's level
    print: frozenset[int]


@dataclass
class Raid:
    """A room with more cases than its policy's ``limits.cases_per_room`` within the window (or a gateway
    past its ``limits.cases``). Plain data, rebuilt from the event log's ``raid_started``, ``raid_case``
    and raid alert rows."""

    started: float = 0.0
    alerted: float | None = None  # the raid alert or the latest update
    new: list[str] = field(default_factory=list)  # ids of its pattern cases not in an alert yet
    count: int = 0  # cases in the window when it started


class RaidLimits:
    """The engine's budgets part (uses the engine's ``state``, ``limits``, ``print_key`` and action helpers)."""

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
            self.state.raids[key] = Raid(started=now, count=in_room)
            return True
        return False

    def _raid_role(self, b: RoomBinding, network: str, user: str, text: str, level: int,
                   now: float) -> tuple[str | None, list[A.Action]]:
        """Count a new case of ``user`` in ``b``'s room and remember its line's fingerprint. Returns how
        a raid handles it, with the record of a raid that starts now: ``None`` (no raid), ``"pattern"``
        (it shares the raid's pattern: listed in the raid alert), ``"distinct"`` (it does not: handled
        on its own, within its own budget) or ``"over_budget"`` (it does not, but that budget is spent:
        listed like the pattern's)."""
        key = (b.network, b.room)
        raided_before = key in self.state.raids
        raided = self._raided(b, now)
        pattern = self._shares_pattern(b, network, user, text, level, now)
        out: list[A.Action] = []
        if raided and not raided_before:
            out.append(self.record(b.network, "raid_started", room=b.room))
        if not raided:
            return None, out
        if pattern:
            return "pattern", out
        lim = b.policy.limits
        if (self._take(("raid_distinct", *key), lim.private_messages_per_room, lim.window, now)
                and self._take(("raid_distinct",), self.limits.private_messages, self.limits.window, now)):
            return "distinct", out
        return "over_budget", out

    def _shares_pattern(self, b: RoomBinding, network: str, user: str, text: str, level: int,
                        now: float) -> bool:
        """Whether ``text`` is a near-duplicate of another person's at-risk line within the window in a
        raided room, of the same tier or a higher one (a line more urgent than the one it resembles is
        never hidden in a raid). The line's fingerprint is remembered for the room's window; its text
        is not."""
        mine = line_print(text, self.print_key)
        prints, raids = self.state.prints, self.state.raids
        shared = any(p.until > now and (p.network, p.user) != (network, user) and p.level >= level
                     and (p.network, p.room) in raids and similarity(mine, p.print) >= NEAR_DUPLICATE
                     for p in prints)
        window = max(b.policy.limits.window, self.limits.window)
        if mine:
            prints.append(LinePrint(now + window, b.network, b.room, user, level, mine))
        return shared

    def _prune_prints(self, now: float) -> None:
        prints = self.state.prints
        if any(p.until <= now for p in prints):
            kept = [p for p in prints if p.until > now]
            prints.clear()
            prints.extend(kept)

    def _raid_message_budget(self, b: RoomBinding, now: float) -> bool:
        lim = b.policy.limits
        return (self._take(("raid_dm", b.network, b.room), lim.private_messages_per_room, lim.window, now)
                and self._take(("raid_dm",), self.limits.private_messages, self.limits.window, now))

    def _list_in_raid(self, case: Case) -> None:
        """A raid case is listed by id in the raid's next alert from the moment it is opened."""
        raid = self.state.raids.get((case.binding.network, case.binding.room))
        if raid is not None and case.id not in raid.new:
            raid.new.append(case.id)

    def _raid_case(self, case: Case) -> list[A.Action]:
        """A raid case: no alert of its own; listed in the raid alert or the next update (its id was put
        on the list when it was opened)."""
        b = case.binding
        case.to(Alerting.RAID_LIST)
        out: list[A.Action] = [self._journal(case, "alert", "skipped"),
                               A.UpdateCase(self._id(), b.network, status="raid", case=case.id), self._finish(case)]
        raid = self.state.raids.get((b.network, b.room))
        if raid is None:  # the raid ended while this case's message was under way: alert it on its own
            case.raid = False
            return self._alert(case)
        if raid.alerted is None:
            out += self._raid_alert(b, raid, case.opened, first=True)
        return out

    def _raid_alert(self, b: RoomBinding, raid: Raid, now: float, *, first: bool) -> list[A.Action]:
        ids, raid.new = raid.new, []
        raid.alerted = now
        if b.moderators_room is None:
            return []
        words = b.policy.words
        shown = case_list(ids, RAID_LISTED_IDS, words)
        text = b.policy.render("raid_alert" if first else "raid_update", **self.render_fields(b),
                               count=str(raid.count if first else len(ids)), cases=shown,
                               age=words.age(b.policy.limits.window)) + "\n" + group_commands(b.policy)
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
            words = b.policy.words
            text = b.policy.render("talk_flood_alert", **self.render_fields(b), count=str(len(ids)),
                                   cases=case_list(ids, words=words),
                                   age=words.age(self.limits.window)) + "\n" + group_commands(b.policy)
            out.append(A.AlertModerators(self._id(), net, room=room, text=text, priority="high"))
        return out

    def reply_allowed(self, b: RoomBinding, network: str, who: str, now: float) -> bool:
        """At most ``limits.replies_per_person`` replies and refusals per person and window: a flood of
        commands from sock puppets must not turn the bot into a megaphone (or delay a crisis message)."""
        lim = b.policy.limits
        return self._take(("reply", *self._person(network, who)), lim.replies_per_person, lim.window, now)
