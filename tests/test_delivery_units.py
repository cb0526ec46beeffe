"""Issue 24, findings 2 and 3 without a server: the IRC adapter's outgoing queue (lanes, no starvation,
accounting), confirmation waits sized to the queue ahead, and the engine's retries of actions refused
while the network was away (in order, within a deadline, alerts never dropped). The same behaviour on a
real ngircd is in tests/test_delivery_irc.py."""

from __future__ import annotations

import asyncio
import types

import pytest

from adapters.contract import ActionFailed, ResendKey
from adapters.irc import IrcAdapter
from adapters.irc.lines import FloodBudget, OutLine, OutQueue
from gateway.core import actions as A
from gateway.policy.crisis_lines import load_directory
from gateway.core.engine import Engine
from gateway.core.events import ActionOutcome, RoomReady, Tick
from gateway.policy.loader import PolicyLoader

from .conftest import MODS, NET, ROOM, make_binding, say

T0 = 1_800_000_000.0


# -- the outgoing queue ---------------------------------------------------------------------------

def line(text: str, priority: int) -> OutLine:
    return OutLine(text, priority, 0)


def test_protective_lines_go_first_but_a_reply_is_never_starved():
    q = OutQueue()
    for i in range(8):
        q.put(line(f"u{i}", 0))
    q.put(line("r0", 1))
    q.put(line("r1", 1))
    q.put(line("greeting", 2))
    order = [q.pop().line for _ in range(11)]
    assert order == ["u0", "u1", "u2", "r0", "u3", "u4", "u5", "r1", "u6", "u7", "greeting"]
    assert q.pop() is None and q.queued == 11


def test_lines_ahead_count_the_other_lanes_share():
    q = OutQueue()
    assert q.ahead(0) == q.ahead(1) == q.ahead(2) == 0
    for i in range(6):
        q.put(line(f"u{i}", 0))
    assert q.ahead(0) == 6 and q.ahead(1) == 3 and q.ahead(2) == 6  # a reply goes after 3 protective lines
    q.put(line("r", 1))
    assert q.ahead(0) == 6 + 1 and q.ahead(2) == 7
    popped = []
    while (item := q.pop()) is not None:
        popped.append(item.line)
    assert popped.index("r") == 3


# -- confirmation waits ---------------------------------------------------------------------------

class Store:
    def __init__(self):
        self.kv, self.parts = {}, {}

    def get(self, key):
        return self.kv.get(key)

    def set(self, key, value):
        self.kv[key] = value

    def parts_sent(self, key):
        return self.parts.get(str(key), 0)

    def record_parts_sent(self, key, parts):
        self.parts[str(key)] = max(parts, self.parts.get(str(key), 0))


class FakeServer:
    """What the adapter writes; answers each PING with its PONG a moment later, as a server does."""

    def __init__(self, adapter: IrcAdapter):
        self.adapter, self.written, self.connected = adapter, [], True

    def send_raw(self, text: str) -> None:
        if not self.connected:
            raise OSError("gone")
        self.written.append(text)
        if text.startswith("PING :"):
            token = text[len("PING :"):]
            asyncio.get_running_loop().call_later(
                0.01, self.adapter._on_pong, types.SimpleNamespace(arguments=[token], target=None))


async def adapter_with_queue(rate: float, action_wait: float) -> tuple[IrcAdapter, FakeServer]:
    adapter = IrcAdapter("irc", "127.0.0.1", 1, "bot", store=Store(), rooms=["#a"], action_wait=action_wait)
    adapter.budget = FloodBudget(1, rate)
    adapter._out = OutQueue()
    server = FakeServer(adapter)
    adapter._conn = server
    adapter._registered.set()
    adapter._tasks = [asyncio.create_task(adapter._sender())]
    return adapter, server


async def test_a_message_that_queued_behind_many_lines_is_confirmed_not_timed_out():
    """Finding 2: the wait starts when the PING is written, not when the lines were queued. 40 lines
    ahead at 100 a second take 0.4 s; the confirmation wait is 0.2 s."""
    adapter, server = await adapter_with_queue(rate=100, action_wait=0.2)
    try:
        for i in range(40):
            adapter._send(f"PRIVMSG #a :filler {i}", priority=adapter.URGENT)
        key = ResendKey("case1", "dm")
        await asyncio.wait_for(adapter.send_private("kit", "one\ntwo\nthree", key=key), 10)
        assert [w for w in server.written if w.startswith("PRIVMSG kit")] == [
            "PRIVMSG kit :one", "PRIVMSG kit :two", "PRIVMSG kit :three"]
        assert adapter.store.parts_sent(key) == 3
        assert adapter._out.sent == 44 and adapter._out.qsize() == 0  # queued -> sent, the PING included
    finally:
        for t in adapter._tasks:
            t.cancel()


async def test_a_pong_that_never_comes_after_the_ping_left_is_a_timeout():
    adapter, server = await adapter_with_queue(rate=1000, action_wait=0.2)
    server.send_raw = lambda text: server.written.append(text)  # a server that never answers
    try:
        with pytest.raises(ActionFailed) as failed:
            await asyncio.wait_for(adapter.send_private("kit", "one", key=ResendKey("c", "dm")), 10)
        assert failed.value.code == "timeout" and not failed.value.definitive
    finally:
        for t in adapter._tasks:
            t.cancel()


async def test_a_disconnect_fails_the_wait_at_once_and_the_rest_is_not_written_on_the_next_connection():
    """Finding 3: cut after line 1; the lines still queued are never written on the next connection
    (the action failed as ``disconnected``); the resend with the same key writes lines 2 and 3 only. (At 20 lines a
    second line 2 waits 50 ms: the loop below, polling every 10 ms, is always due before it.)"""
    adapter, server = await adapter_with_queue(rate=20, action_wait=5)
    key = ResendKey("case1", "dm")
    try:
        sending = asyncio.create_task(adapter.send_private("kit", "one\ntwo\nthree", key=key))
        while not server.written:
            await asyncio.sleep(0.01)
        adapter._on_disconnect(None)  # the connection dropped after line 1
        with pytest.raises(ActionFailed) as failed:
            await asyncio.wait_for(sending, 5)
        assert failed.value.code == "disconnected" and not failed.value.definitive
        assert adapter.store.parts_sent(key) == 1
        adapter._registered.set()  # reconnected
        await asyncio.wait_for(adapter.send_private("kit", "one\ntwo\nthree", key=key), 10)
        assert [w for w in server.written if w.startswith("PRIVMSG kit")] == [
            "PRIVMSG kit :one", "PRIVMSG kit :two", "PRIVMSG kit :three"]
        assert adapter._out.dropped >= 2  # the old connection's line 2 and PING
    finally:
        for t in adapter._tasks:
            t.cancel()


async def test_a_line_that_cannot_be_written_fails_its_action_instead_of_waiting():
    adapter, server = await adapter_with_queue(rate=1000, action_wait=30)
    server.connected = False
    adapter.op_wait = 0  # (not waiting for operator status here)
    try:
        with pytest.raises(ActionFailed) as failed:
            await asyncio.wait_for(adapter.remove_from_room("#a", "kit", "reason"), 5)
        assert failed.value.code == "disconnected"
    finally:
        for t in adapter._tasks:
            t.cancel()


# -- compact crisis messages on IRC ----------------------------------------------------------------

@pytest.fixture(scope="module")
def irc_engine(shipped_policy):
    policy = shipped_policy("default")
    counter = iter(range(1, 10_000))
    return Engine([make_binding(policy, network_type="irc")], load_directory(), bot_ids={NET: "bot"},
                  case_id=lambda: f"case{next(counter)}")


@pytest.mark.parametrize("text", ["i took all my pills", "i want to kill myself", "i wish i was dead",
                                  "i cut myself again tonight"])
def test_crisis_messages_on_irc_are_a_few_lines_with_the_lines_and_the_emergency_number(irc_engine, text):
    dms = [a for a in irc_engine.handle(say(text, sender=f"kit{len(text)}")) if isinstance(a, A.SendPrivate)]
    assert dms, text
    body = dms[0].text
    lines = IrcAdapter._text_lines(types.SimpleNamespace(), "PRIVMSG", "somebody_long_nick", body)
    assert len(lines) <= 3
    assert "116 123" in body and "999" in body and "not a person" in body and '"talk"' in body


def test_a_policy_that_rewrites_the_crisis_message_gets_its_own_on_irc_too(write):
    write("mine.yaml", """\
        extends: default
        name: mine
        templates:
          crisis_dm: "Our own words. {crisis_lines} {emergency} {removal_note}"
        """)
    policy = PolicyLoader([write("x.txt", "").parent]).load("mine")
    assert policy.variant("crisis_dm", "irc") == "crisis_dm"
    assert policy.variant("concern_dm", "irc") == "concern_dm_irc"
    assert policy.variant("crisis_dm", "matrix") == "crisis_dm"


# -- retries after a reconnect ---------------------------------------------------------------------

def only(actions, kind):
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, [type(a).__name__ for a in actions]
    return found[0]


def kinds(actions):
    return [a.kind for a in actions if isinstance(a, A.RecordEvent)]


def out(action, ts, ok=True, code=None):
    """An outcome as the adapters give it: "the network was away" is not definitive, a refusal is."""
    definitive = code not in ("disconnected", "not_connected", "timeout")
    return ActionOutcome(action.network, ts, action.id, ok=ok, code=code, definitive=definitive)


def test_refused_while_away_message_removal_and_alert_are_emitted_again_in_order(engine):
    dm = only(engine.handle(say("i took all my pills")), A.SendPrivate)
    waiting = engine.handle(out(dm, T0 + 1, ok=False, code="disconnected"))
    assert kinds(waiting) == ["dm_deferred"]
    assert not [a for a in waiting if isinstance(a, (A.RemoveFromRoom, A.AlertModerators))]  # no removal yet
    case = engine.case(dm.case)
    assert case.outreach.value == "sending"
    assert engine.handle(Tick(NET, T0 + 2)) == []  # not due yet, and no ready room
    again = only(engine.handle(RoomReady(NET, T0 + 3, room=ROOM)), A.SendPrivate)
    assert (again.text, again.case, again.step, again.user) == (dm.text, dm.case, dm.step, dm.user)
    assert again.id != dm.id  # the same resend key (case, step): IRC skips the lines already written
    remove = only(engine.handle(out(again, T0 + 4)), A.RemoveFromRoom)
    assert kinds(engine.handle(out(remove, T0 + 5, ok=False, code="not_connected"))) == ["removal_deferred"]
    remove2 = only(engine.handle(Tick(NET, T0 + 5 + engine.RETRY_EVERY)), A.RemoveFromRoom)  # on a tick too
    alert = only(engine.handle(out(remove2, T0 + 40)), A.AlertModerators)
    assert "Private message: delivered. Removal: done." in alert.text
    assert kinds(engine.handle(out(alert, T0 + 41, ok=False, code="disconnected"))) == ["alert_deferred"]
    assert not [a for a in engine.handle(RoomReady(NET, T0 + 42, room=ROOM)) if isinstance(a, A.AlertModerators)]
    alert2 = only(engine.handle(RoomReady(NET, T0 + 43, room=MODS)), A.AlertModerators)
    assert alert2.text == alert.text
    assert kinds(engine.handle(out(alert2, T0 + 44))) == ["alerted"]
    assert engine.state.waiting == {} and engine.state.retry_since == {}


def test_a_message_not_sent_by_the_deadline_is_told_to_the_moderators(engine):
    dm = only(engine.handle(say("i took all my pills")), A.SendPrivate)
    engine.handle(out(dm, T0 + 1, ok=False, code="disconnected"))
    for t in (60, 180):
        again = only(engine.handle(Tick(NET, T0 + t)), A.SendPrivate)  # tried on ticks meanwhile
        engine.handle(out(again, T0 + t + 1, ok=False, code="not_connected"))
    late = engine.handle(Tick(NET, T0 + 1 + engine.RETRY_DEADLINE))
    assert "dm_failed" in kinds(late)
    assert not [a for a in late if isinstance(a, A.RemoveFromRoom)]  # the policy keeps them: no message
    alert = only(late, A.AlertModerators)
    assert "Private message: not delivered (not_connected)" in alert.text and alert.priority == "urgent"


def test_an_alert_is_never_dropped(engine):
    dm = only(engine.handle(say("i took all my pills")), A.SendPrivate)
    remove = only(engine.handle(out(dm, T0 + 1)), A.RemoveFromRoom)
    alert = only(engine.handle(out(remove, T0 + 2)), A.AlertModerators)
    ts = T0 + 3
    for _ in range(8):  # the moderators' room refuses for hours: tried again, later and later
        assert kinds(engine.handle(out(alert, ts, ok=False, code="404"))) == ["alert_deferred"]
        ts += engine.RETRY_MOST
        alert = only(engine.handle(Tick(NET, ts)), A.AlertModerators)
    assert kinds(engine.handle(out(alert, ts + 1))) == ["alerted"]


def test_a_definitive_refusal_of_the_message_is_not_retried(engine):
    dm = only(engine.handle(say("i took all my pills")), A.SendPrivate)
    after = engine.handle(out(dm, T0 + 1, ok=False, code="401"))
    assert kinds(after)[0] == "dm_failed" and engine.state.waiting == {}


async def test_a_connection_error_of_any_adapter_is_retried_after_the_next_tick(engine, clock):
    """Matrix too: an aiohttp connection error while sending is "disconnected" for the engine, and the
    message goes out on a later tick (Matrix sends no RoomReady when its sync comes back)."""
    import aiohttp

    from gateway.runner import Runner

    from .memory_adapter import MemoryAdapter

    adapter = MemoryAdapter(NET)
    adapter.fail["send_private"] = [aiohttp.ServerDisconnectedError()]  # type: ignore[list-item]
    runner = Runner(engine, {NET: adapter}, None, clock=clock)
    await runner.handle(say("i took all my pills", ts=clock.now))
    assert adapter.methods() == ["send_private"]
    await runner.handle(Tick(NET, clock.advance(engine.RETRY_EVERY)))
    assert adapter.methods() == ["send_private", "send_private", "remove_from_room", "alert_moderators"]
    assert adapter.calls[0]["text"] == adapter.calls[1]["text"]


async def test_an_adapters_bug_is_not_taken_for_a_disconnect(engine, clock):
    from gateway.runner import Runner

    from .memory_adapter import MemoryAdapter

    adapter = MemoryAdapter(NET)
    adapter.fail["send_private"] = [RuntimeError("boom")]  # type: ignore[list-item]
    await Runner(engine, {NET: adapter}, None, clock=clock).handle(say("i took all my pills", ts=clock.now))
    assert adapter.methods() == ["send_private", "alert_moderators"]
    assert "not delivered (RuntimeError)" in adapter.calls[1]["text"]


async def test_a_stalled_sender_ends_the_wait_after_twice_the_time_the_queue_ahead_takes():
    """Only a safety net: the wait's bound is sized to the lines ahead at the flood rate (here 2 x 0.1 s + 0.1 s)."""
    adapter, server = await adapter_with_queue(rate=400, action_wait=0.1)
    for t in adapter._tasks:
        t.cancel()  # nothing is written any more
    for i in range(20):
        adapter._send(f"PRIVMSG #a :filler {i}", priority=adapter.URGENT)
    started = asyncio.get_running_loop().time()
    with pytest.raises(ActionFailed) as failed:
        await asyncio.wait_for(adapter.send_private("kit", "one", key=ResendKey("c", "dm")), 10)
    assert failed.value.code == "timeout"
    assert asyncio.get_running_loop().time() - started < 5
