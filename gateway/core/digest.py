"""The weekly digest in each moderators' room: when it is due (the engine's part, sans-I/O). What it says
is built from event-log figures when it is carried out (``gateway/ops/digest_text.py``).

Due at the day and hour (UTC) the room's policy sets (``digest:``; Monday 09:00 by default), once a
week per moderators' room, covering every group room whose alerts go there. A gateway that was down at
that hour sends it within the next day, or not that week. When it was last sent is read back from the
event log at start (``Engine.digest_sent``), so a restart does not send it twice.
"""

from __future__ import annotations

import datetime as dt

from . import actions as A
from .cases import Step
from .events import ActionOutcome
from .rooms import RoomBinding

__all__ = ["WeeklyDigest", "last_due"]

LATE_BY_AT_MOST = 86400.0


def last_due(ts: float, day: int, hour: int) -> float:
    """The latest digest time (weekday ``day``, ``hour`` UTC) at or before ``ts``."""
    now = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    due = now.replace(hour=hour, minute=0, second=0, microsecond=0) - dt.timedelta(days=(now.weekday() - day) % 7)
    if due > now:
        due -= dt.timedelta(days=7)
    return due.timestamp()


class WeeklyDigest:
    """The engine's digest part (uses the engine's ``rooms``, ``digest_sent`` and action helpers)."""

    def _digests_due(self, ts: float) -> list[A.Action]:
        groups: dict[tuple[str, str], list[RoomBinding]] = {}
        for b in self.rooms.values():
            if b.moderators_room and b.policy.digest.enabled:
                groups.setdefault((b.moderators_network, b.moderators_room), []).append(b)
        out: list[A.Action] = []
        for key, bindings in sorted(groups.items()):
            d = bindings[0].policy.digest  # the first room's policy sets the time for its moderators
            due = last_due(ts, d.day, d.hour)
            # sent already: at or after its time, or (read back from the event log, whose rows carry the
            # time of writing) within the day before it; last week's was sent about 7 days before
            if ts - due > LATE_BY_AT_MOST or self.digest_sent.get(key, 0.0) >= due - LATE_BY_AT_MOST:
                continue
            self.digest_sent[key] = due  # one attempt per week: a failure is recorded, not repeated
            post = A.PostDigest(self._id(), key[0], room=key[1], until=due,
                                rooms=tuple(sorted((b.network, b.room) for b in bindings)))
            out.append(self._expect(post, Step.DIGEST, key))
        return out

    def _after_digest(self, key: tuple[str, str], out: ActionOutcome) -> list[A.Action]:
        return [self.record(key[0], "digest_sent" if out.ok else "digest_failed", room=key[1],
                            outcome="ok" if out.ok else "failed", code=out.code)]

