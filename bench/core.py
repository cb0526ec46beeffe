"""Per-message cost of the whole core, and the event log's write cost and size.

Run: ``.venv/bin/python bench/core.py``. Prints:
1. microseconds per ordinary message through ``Engine.handle`` (event in, no actions out), one at a
   time and in batches as ``Runner.handle_many`` feeds them;
2. event-log records written per second (sustained, WAL, synchronous=NORMAL) and the database size
   per 10,000 complete cases (case row, journal entry and its steps, five records, case update);
3. what the live metrics add (``gateway/ops/metrics.py``): per screened message, and per case's records.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.matchers import messages  # noqa: E402
from gateway.detection import detector_for  # noqa: E402
from gateway.core import actions as A  # noqa: E402
from gateway.policy.crisis_lines import load_directory  # noqa: E402
from gateway.core.engine import Engine  # noqa: E402
from gateway.core.rooms import RoomBinding  # noqa: E402
from gateway.core.events import Message  # noqa: E402
from gateway.store.eventlog import EventLog  # noqa: E402
from gateway.policy.loader import PolicyLoader  # noqa: E402


def core_cost(n: int, batch: int = 1) -> float:
    """Microseconds per ordinary message; ``batch`` > 1: as ``Runner.handle_many`` feeds a burst
    (``Engine.handle_many``: the batch screened at once, then each event)."""
    policy = PolicyLoader().load("default")
    engine = Engine([RoomBinding("net", "!room", policy, "GB", "net", "!mods")], load_directory())
    msgs = [Message("net", 0.0, room="!room", sender=f"@u{i % 500}:x", text=t, ref=f"$e{i}")
            for i, t in enumerate(messages(n, risky_share=0.0))]
    detector_for(policy).detect_many([m.text for m in msgs[:1000]])  # RE2 builds DFA states on first use: warm them
    start = time.perf_counter()
    for i in range(0, n, batch):
        chunk = msgs[i:i + batch]
        if batch > 1:
            for _ in engine.handle_many(chunk):
                pass
        else:
            for m in chunk:
                engine.handle(m)  # (the learned model flags a few of these word salads: a case, as it should)
    return (time.perf_counter() - start) / n * 1e6


def log_cost(cases: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog(Path(tmp) / "gateway.db")
        writes = 0
        start = time.perf_counter()
        for i in range(cases):
            case = f"c{i:07d}"
            user = f"@user{i}:example.org"
            log.open_case(A.OpenCase(1, "matrix", room="!room:example.org", user=user, tier="imminent",
                                     rules=("imminent.act_under_way",), ref=f"$event{i}", case=case), time.time())
            for kind in ("risk_detected", "dm_sent", "removed", "alerted", "command"):
                log.write(A.RecordEvent(1, "matrix", kind=kind, room="!room:example.org", user=user,
                                        tier="imminent", rules=("imminent.act_under_way",), outcome="ok",
                                        case=case), time.time())
            for step in ("dm", "removal", "alert"):
                log.journal_step(case, step, "started")
                log.journal_step(case, step, "done")
            log.write(A.UpdateCase(1, "matrix", status="alerted", case=case), time.time())
            log.journal_finish(case)
            writes += 14
        elapsed = time.perf_counter() - start
        log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        log.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return writes / elapsed, size


def metrics_cost(n: int, batch: int = 256) -> tuple[float, float]:
    """Microseconds the metrics add per screened message (in batches, as the runner reports them) and
    per complete case (its open and five records)."""
    from gateway.ops.metrics import Metrics

    m = Metrics({("net", "!room"): "Peer support"}, {})
    msgs = [Message("net", 0.0, room="!room", sender="@u:x", text="hello", ref=None) for _ in range(batch)]
    start = time.perf_counter()
    for _ in range(n // batch):
        m.screened_batch(msgs, 0.001)
    per_message = (time.perf_counter() - start) / (n // batch * batch) * 1e6
    cases = n // 10
    start = time.perf_counter()
    for i in range(cases):
        case = f"c{i}"
        m.recorded(A.OpenCase(1, "net", room="!room", user="@u:x", tier="imminent", rules=("r",), case=case), 0.0)
        for kind in ("risk_detected", "dm_sent", "removed", "alerted", "acked"):
            m.recorded(A.RecordEvent(1, "net", kind=kind, room="!room", case=case), 1.0)
    return per_message, (time.perf_counter() - start) / cases * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"core, ordinary message, event in -> no actions: {core_cost(n):.1f} us/message one at a time, "
          f"{core_cost(n, 256):.1f} us/message in batches of 256 ({n} messages)")
    rate, size = log_cost(10_000)
    print(f"event log: {rate:,.0f} writes/s sustained; {size / 1e6:.1f} MB per 10,000 cases "
          f"(14 writes each: case and journal in one transaction, 5 records, 6 journal steps, "
          f"update, finish)")
    per_message, per_case = metrics_cost(n)
    print(f"live metrics: {per_message:.2f} us per screened message, {per_case:.1f} us per case (6 records)")


if __name__ == "__main__":
    main()
