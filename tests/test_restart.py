"""Issue 24, finding 5: cases, timers, budgets, raids and outreach intervals outlive a restart.

In process, with a real event log: a "restart" is a new engine and runner on the same database, rebuilt
the way ``gateway run`` rebuilds them (``gateway/core/restore.py``), then resumed and caught up as
``Service.start`` does. Nothing of the old engine's memory is carried over. (On a real Synapse, with
SIGTERM and SIGKILL: tests/test_restart_matrix.py.)
"""

from __future__ import annotations

import dataclasses
import itertools

from gateway.core import actions as A
from gateway.core.engine import Engine
from gateway.store.eventlog import EventLog
from gateway.core.events import Tick
from gateway.runner import Runner
from tests.memory_adapter import MemoryAdapter

from .conftest import MODS, NET, ROOM, Clock, make_binding, say

IMMINENT = "i took all my pills"
_gen = itertools.count(1)


class Gateway:
    """One run of the gateway on ``path``: engine, event log, in-memory adapter, runner."""

    def __init__(self, policy, directory, path, clock: Clock, members=("@kit:test",)):
        gen, counter = next(_gen), itertools.count(1)
        self.clock = clock
        self.engine = Engine([make_binding(policy)], directory, bot_ids={NET: "@bot:test"},
                             case_id=lambda: f"g{gen}c{next(counter)}")
        self.log = EventLog(path)
        self.adapter = MemoryAdapter(NET, members={ROOM: set(members)})
        self.runner = Runner(self.engine, {NET: self.adapter}, self.log, clock=clock)
        # what Service.__init__ does
        self.engine.ref_key = self.log.ref_digest
        self.engine.seen_refs |= self.log.journal_refs()
        try:
            from gateway.core.restore import restore_from_log
        except ImportError:  # (the code before issue 24: nothing was rebuilt)
            return
        restore_from_log(self.engine, self.log, clock())

    async def start(self):
        """What Service.start does once the networks are up."""
        await self.runner.resume()
        if hasattr(self.runner, "catch_up"):
            await self.runner.catch_up()
        return self

    async def restart(self, policy, directory, members=("@kit:test",)) -> "Gateway":
        self.log.close()
        return await Gateway(policy, directory, self.log.path, self.clock, members).start()

    async def mod(self, command: str):
        before = len(self.adapter.calls)
        await self.runner.handle(say(command, sender="@mod:test", power=100, room=MODS, ts=self.clock()))
        return self.adapter.calls[before:]

    def alerts(self, start: int = 0):
        return [c for c in self.adapter.calls[start:] if c.method == "alert_moderators"]

    def sent(self, method: str):
        return [c for c in self.adapter.calls if c.method == method]


async def _removed_and_alerted(default_policy, directory, tmp_path, clock):
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say(IMMINENT, ts=clock()))
    assert gw.adapter.methods() == ["send_private", "remove_from_room", "alert_moderators"]
    return gw, gw.engine.cases()[0].id


async def test_an_open_case_and_every_command_on_it_outlive_a_restart(default_policy, directory, tmp_path):
    """Removed, alerted, not acknowledged: after a restart, !case, !cases, !ack, !readmit and !close all
    work on it (before: "No case ... here")."""
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    clock.advance(60)
    gw = await gw.restart(default_policy, directory)
    assert gw.adapter.calls == []  # nothing resent, nobody messaged again
    (reply,) = await gw.mod(f"!case {cid}")
    text = reply["text"]
    assert text.startswith(f"Case {cid}: imminent") and "@kit:test" in text
    assert "Private message: delivered. Removal: done. Alert: sent. Status: NOT acknowledged" in text
    assert "follow-up reminder in 23h" in text
    (listed,) = await gw.mod("!cases")
    assert f"{cid}: imminent, @kit:test" in listed["text"]
    (ack,) = await gw.mod(f"!ack {cid}")
    assert "acknowledged by @mod:test" in ack["text"]
    readmit = await gw.mod(f"!readmit {cid}")
    assert [c.method for c in readmit] == ["readmit", "post_notice"]
    assert readmit[0]["user"] == "@kit:test" and "may come back" in readmit[1]["text"]
    # and the acknowledgement itself outlives the next restart
    gw = await gw.restart(default_policy, directory)
    (shown,) = await gw.mod(f"!case {cid}")
    assert "acknowledged by @mod:test" in shown["text"]
    (closed,) = await gw.mod(f"!close {cid} safe")
    assert "closed (safe)" in closed["text"]
    gw = await gw.restart(default_policy, directory)
    (gone,) = await gw.mod(f"!case {cid}")
    assert gone["text"].startswith("No case")  # closed: forgotten, as it should be
    gw.log.close()


async def test_remove_works_on_an_old_case_after_a_restart(default_policy, directory, tmp_path):
    """A concern case (no removal by its tier): after a restart, !remove messages and then removes."""
    clock = Clock()
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say("i wish i was dead lately", ts=clock()))
    (case,) = gw.engine.cases()
    assert case.tier in ("concern", "high") and "remove_from_room" not in gw.adapter.methods()
    clock.advance(60)
    gw = await gw.restart(default_policy, directory)
    acts = await gw.mod(f"!remove {case.id}")
    assert "remove_from_room" in [c.method for c in acts]
    assert [c.method for c in acts].count("send_private") <= 1
    gw.log.close()


async def test_an_escalation_due_while_down_fires_once_at_start_saying_it_is_late(default_policy, directory,
                                                                                 tmp_path):
    """(a) between the alert and !ack: the repeat falls due while the gateway is down; it is sent once at
    start, marked late, then never again (not after another restart, not after the !ack); no second
    crisis message."""
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    clock.advance(2 * 3600)  # repeat_after 15m, widen_after 30m: both due while down
    gw = await gw.restart(default_policy, directory)
    (late,) = gw.alerts()
    assert f"Case {cid} has not been acknowledged" in late["text"]
    assert "(late: due 1h ago, the bot was down)" in late["text"]
    assert rows(gw.log, "alert_repeated") == 1
    await gw.runner.handle(Tick(NET, clock.advance(1)))  # the widening (also late), once
    (widened,) = gw.alerts(1)
    assert widened["mention_all"] and "(late: due 1h ago" in widened["text"]
    gw = await gw.restart(default_policy, directory)
    await gw.runner.handle(Tick(NET, clock.advance(60)))
    assert gw.alerts() == []  # both were sent before this restart: never again
    (ack,) = await gw.mod(f"!ack {cid}")
    for _ in range(3):
        await gw.runner.handle(Tick(NET, clock.advance(3600)))
    assert gw.alerts() == []
    assert (rows(gw.log, "alert_repeated"), rows(gw.log, "alert_widened")) == (1, 1)
    assert len([r for r in gw.log.rows() if r["kind"] == "dm_sent"]) == 1  # one crisis message in all
    gw.log.close()


async def test_an_acknowledged_case_does_not_escalate_after_a_restart(default_policy, directory, tmp_path):
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    await gw.mod(f"!ack {cid}")
    clock.advance(2 * 3600)
    gw = await gw.restart(default_policy, directory)
    assert gw.alerts() == []
    gw.log.close()


async def test_a_followup_due_while_down_fires_once_at_start_saying_it_is_late(default_policy, directory, tmp_path):
    """(c) across the follow-up's due time: the reminder is sent once, at start, saying it is late."""
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    await gw.mod(f"!ack {cid}")  # no escalations in the way
    clock.advance(26 * 3600)  # follow-up after 24h: due 2h ago
    gw = await gw.restart(default_policy, directory)
    (reminder,) = gw.alerts()
    assert reminder["text"].startswith(f"Reminder for case {cid}")
    assert "(late: due 2h ago, the bot was down)" in reminder["text"]
    await gw.runner.handle(Tick(NET, clock.advance(60)))
    gw = await gw.restart(default_policy, directory)
    await gw.runner.handle(Tick(NET, clock.advance(60)))
    assert gw.alerts() == []  # once, across both restarts
    assert rows(gw.log, "followup_sent") == 1
    gw.log.close()


async def test_a_followup_on_its_way_at_a_kill_is_sent_after_the_restart(default_policy, directory, tmp_path):
    """Killed after the reminder was handed on but before the network took it: sent at start (late), not lost."""
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    await gw.mod(f"!ack {cid}")
    actions = gw.engine.handle(Tick(NET, clock.advance(24 * 3600 + 60)))
    assert [a.text for a in actions if isinstance(a, A.AlertModerators)][0].startswith(f"Reminder for case {cid}")
    for a in [a for a in actions if isinstance(a, A.RecordEvent)] + gw.engine.journal_changes(actions):
        gw.runner._write(a)  # what the runner writes at once; the alert itself never ran (killed)
    clock.advance(60)
    gw = await gw.restart(default_policy, directory)
    (reminder,) = gw.alerts()
    assert reminder["text"].startswith(f"Reminder for case {cid}") and "(late: due 2m ago" in reminder["text"]
    gw.log.close()


async def test_a_followup_due_after_the_restart_fires_on_time_not_late(default_policy, directory, tmp_path):
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    await gw.mod(f"!ack {cid}")
    clock.advance(3600)
    gw = await gw.restart(default_policy, directory)
    assert gw.alerts() == []
    await gw.runner.handle(Tick(NET, clock.advance(23 * 3600 + 60)))
    (reminder,) = gw.alerts()
    assert reminder["text"].startswith(f"Reminder for case {cid}") and "late" not in reminder["text"]
    gw.log.close()


async def test_no_second_crisis_message_after_a_restart(default_policy, directory, tmp_path):
    """The outreach interval and the cooldown are rebuilt from the log (keyed by the pseudonym): the same
    person writing again after a restart gets no second full crisis message."""
    policy = _without_removal(default_policy)
    clock = Clock()
    gw = await Gateway(policy, directory, tmp_path / "gateway.db", clock).start()
    await gw.runner.handle(say(IMMINENT, ts=clock()))
    assert len(gw.sent("send_private")) == 1
    clock.advance(3600)
    gw = await gw.restart(policy, directory)
    await gw.runner.handle(say("i took all my pills, all of them", ts=clock()))
    assert gw.sent("send_private") == []
    gw.log.close()


async def test_a_followup_line_after_a_restart_still_follows_the_risk_before_it(default_policy, directory,
                                                                                  tmp_path):
    """Stage 5's memory (times and tiers, keyed by pseudonym) is rebuilt from the log: a high line, a restart,
    then "taking them now" from the same person is imminent and removes them; from someone else, or once
    the context window has passed, the same line draws nothing."""
    clock = Clock()
    members = ("@kit:test", "@sam:test", "@lee:test")
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock, members).start()
    await gw.runner.handle(say("i want to kill myself", ts=clock()))
    await gw.runner.handle(say("i want to kill myself", sender="@lee:test", ts=clock()))
    assert gw.sent("remove_from_room") == [] and len(gw.sent("send_private")) == 2
    clock.advance(120)
    gw = await gw.restart(default_policy, directory, members)
    await gw.runner.handle(say("taking them now", sender="@sam:test", ts=clock()))
    assert gw.adapter.calls == []  # someone with no risk before: nothing
    await gw.runner.handle(say("taking them now", ts=clock()))
    (removal,) = gw.sent("remove_from_room")
    assert removal["user"] == "@kit:test"
    assert any(e["kind"] == "risk_detected" and e["tier"] == "imminent" for e in gw.log.events_since(0))
    clock.advance(15 * 60)  # lee's risk is older than the policy's context window now
    gw = await gw.restart(default_policy, directory, members)
    await gw.runner.handle(say("taking them now", sender="@lee:test", ts=clock()))
    assert gw.sent("remove_from_room") == []
    gw.log.close()


async def test_budgets_and_the_raid_hold_across_a_restart(default_policy, directory, tmp_path):
    """(d) during a raid: 25 puppets spend the room's crisis-message budget (5 before the raid, then 20);
    after a restart, 3 more puppets do NOT get 3 messages, 3 removals and 3 separate alerts: the raid
    goes on, and they come in its next update."""
    clock = Clock()
    puppets = [f"@puppet{i}:test" for i in range(28)]
    gw = await Gateway(default_policy, directory, tmp_path / "gateway.db", clock, puppets).start()
    for p in puppets[:25]:
        await gw.runner.handle(say(IMMINENT, sender=p, ts=clock.advance(1)))
    assert len(gw.sent("send_private")) == 25 and len(gw.sent("remove_from_room")) == 5
    assert sum("Possible raid" in a["text"] for a in gw.alerts()) == 1
    clock.advance(5)
    gw = await gw.restart(default_policy, directory, puppets)
    for p in puppets[25:]:
        await gw.runner.handle(say(IMMINENT, sender=p, ts=clock.advance(1)))
    # The raid's line fingerprints live in memory only (gateway/core/raids.py: never text on disk), so the first
    # copy after the restart is unlike any line the bot remembers and is handled on its own, within the
    # rebuilt budget for such lines; it seeds the pattern again, and the copies after it are the raid's.
    assert [c.args["user"] for c in gw.sent("send_private")] == [puppets[25]]
    assert [c.args["user"] for c in gw.sent("remove_from_room")] == [puppets[25]]
    assert not any("Possible raid" in a["text"] for a in gw.alerts())  # the raid goes on: no second raid alert
    assert len(gw.alerts()) == 1  # the first copy's own alert; none for the other two
    await gw.runner.handle(Tick(NET, clock.advance(600)))
    updates = [a for a in gw.alerts() if "Still a raid" in a["text"]]
    # the raid's cases not in an alert yet: the 19 after the first raid alert, and the 2 copies
    assert len(updates) == 1 and "21 more people" in updates[0]["text"]
    gw.log.close()


async def test_an_open_case_ages_out_after_the_retention_time(default_policy, directory, tmp_path):
    """The retention rule: a case nobody closed is forgotten 30 days after it opened (sealed ids wiped,
    the case row marked expired)."""
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    await gw.mod(f"!ack {cid}")
    clock.advance(31 * 86400)
    gw = await gw.restart(default_policy, directory)
    assert gw.log.db.execute("SELECT count(*) FROM journal WHERE sealed IS NOT NULL").fetchone()[0] == 0
    assert gw.log.db.execute("SELECT status FROM cases WHERE id = ?", (cid,)).fetchone()[0] == "expired"
    (gone,) = await gw.mod(f"!case {cid}")
    assert gone["text"].startswith("No case")
    gw.log.close()


def rows(log: EventLog, kind: str) -> int:
    return sum(1 for r in log.rows() if r["kind"] == kind)


def _without_removal(policy):
    tiers = dict(policy.tiers)
    imminent = tiers["imminent"]
    tiers["imminent"] = dataclasses.replace(imminent, action=dataclasses.replace(imminent.action, remove=False))
    return dataclasses.replace(policy, tiers=tiers, _detector=None)


async def test_what_a_restart_needs_names_no_one_in_clear(default_policy, directory, tmp_path):
    """The person's and the acknowledging moderator's ids are kept sealed with the key file (which is
    separate), never in clear in the database or its write-ahead log."""
    clock = Clock()
    gw, cid = await _removed_and_alerted(default_policy, directory, tmp_path, clock)
    await gw.mod(f"!ack {cid}")
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".key")
    assert b"@kit:test" not in data and b"@mod:test" not in data
    assert [(r["user"], r["acked_by"]) for r in gw.log.journal_open_cases()] == [("@kit:test", "@mod:test")]
    gw.log.close()


async def test_a_tick_on_an_alert_sent_before_a_restart_acknowledges_its_case(default_policy, directory, tmp_path):
    """The alert's id is journalled as a keyed digest only (useless for fetching the alert, never in clear):
    a moderator's ✅ on it after a restart still acknowledges the case, and once the case is closed the
    digest is gone and the tick is nothing."""
    from gateway.core.events import Authority, Reaction

    clock = Clock()
    gw = Gateway(default_policy, directory, tmp_path / "gateway.db", clock)
    refs: list[str] = []
    send = gw.adapter.alert_moderators

    async def alert_moderators(*args, **kwargs):
        refs.append(await send(*args, **kwargs))
        return refs[-1]

    gw.adapter.alert_moderators = alert_moderators
    await gw.start()
    await gw.runner.handle(say(IMMINENT, ts=clock()))
    [cid] = [c.id for c in gw.engine.cases()]
    [ref] = refs
    gw = await gw.restart(default_policy, directory)

    def tick(by="@mod:test", power=100):
        return gw.runner.handle(Reaction(NET, clock.advance(5), room=MODS, sender=by, ref=ref, key="✅",
                                         authority=Authority(power_level=power)))

    await tick(by="@kit:test", power=0)  # not a moderator: counted, never answered
    assert gw.adapter.calls == []
    await tick()
    [reply] = [c for c in gw.adapter.calls if c.method == "post_notice"]
    assert reply["text"] == f"Case {cid} acknowledged by @mod:test with ✅. No more repeated alerts for it."
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".key")
    assert ref.encode() not in data  # the alert's network id is never on disk
    await gw.mod(f"!close {cid} safe")
    gw = await gw.restart(default_policy, directory)
    before = len(gw.adapter.calls)
    await tick()
    assert len(gw.adapter.calls) == before  # a closed case's alert is forgotten: the tick is nothing
    gw.log.close()
