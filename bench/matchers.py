"""Detection throughput, and why RE2: a measurement, run with ``.venv/bin/python bench/matchers.py``.

1. Throughput over chat-length messages (mostly benign, some risky), one core, the shipped default
   policy: the gateway's detector one message at a time (``detect``: the path of a message arriving
   alone) and in batches (``detect_many``: a sync response, IRC lines queued under load), beside a
   plain Python ``re`` alternation of the same phrases with word boundaries, case-insensitive, on the
   text as it arrives (what a bot without the gateway would run). The ratio is detector / that.
2. Worst case: a backtracking-prone regex such as a policy author might write, ``(a+)+$``, against
   ``"a" * n + "b"``: Python ``re`` time doubles with each extra character; RE2 stays linear.
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import re2  # noqa: E402

from gateway.text.folding import normalise, normalise_joined  # noqa: E402
from gateway.policy.loader import PolicyLoader  # noqa: E402

WORDS = ("the a to and i you it is was for on that this with my so just but have be what are not "
         "lol ok yeah game today work tired exam coffee dog cat meeting lunch tonight weekend movie "
         "music good bad really think know want going time people love help thanks sorry morning").split()


def messages(n: int, risky_share: float = 0.02, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    risky = ["i took all my pills", "I want to die", "wanna kms tbh", "i wish i was dead",
             "gonna kill myself tonight", "kill me lol", "I would never kill myself"]
    out = []
    for _ in range(n):
        if rng.random() < risky_share:
            out.append(rng.choice(risky))
        else:
            out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 16))))
    return out


def rate_all(fn, msgs) -> float:
    start = time.perf_counter()
    fn(msgs)
    return len(msgs) / (time.perf_counter() - start)


def rate(fn, msgs) -> float:
    start = time.perf_counter()
    for m in msgs:
        fn(m)
    return len(msgs) / (time.perf_counter() - start)


def resident() -> int:
    """Resident set size of this process in bytes (C allocations of RE2 and Aho-Corasick included)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    policy = PolicyLoader().load("default")
    from gateway.detection import Detector

    Detector(policy)  # warm imports and the allocator, so the next one is measured alone
    msgs, warm = messages(n), messages(n, seed=11)
    before = resident()
    t0 = time.perf_counter()
    detector = Detector(policy)
    compile_ms = (time.perf_counter() - t0) * 1000
    compiled_mb = (resident() - before) / 1e6
    phrases = sorted({p for t in policy.tiers.values() for r in t.rules for p in r.phrases})
    plain = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE)
    on_normalised = r"(?:^| )(?:" + "|".join(re.escape(p) for p in phrases) + r")(?: |$)"
    py_re, rx2 = re.compile(on_normalised), re2.compile(on_normalised)
    batch = 1000
    print(f"{n:,} chat-length messages (2% risky), one core; default policy: {len(phrases)} phrases, "
          f"{len(detector.rules.regexes)} regexes, {detector.phrase_count} automaton keys")
    print(f"  detector compiled in {compile_ms:.1f} ms; resident memory +{compiled_mb:.1f} MB")
    many = lambda ms: [detector.detect_many(ms[i:i + batch]) for i in range(0, len(ms), batch)]  # noqa: E731
    cold = rate_all(many, msgs)  # RE2 builds its DFA states lazily, on the first text it sees
    many(warm)  # a different set of messages, so the states are built as a running gateway's are
    results = {
        "plain python re alternation (\\b, IGNORECASE)": rate(plain.search, msgs),
        "python re alternation, on normalise()d text": rate(lambda m: py_re.search(normalise(m)), msgs),
        "RE2 alternation, on normalise()d text": rate(lambda m: rx2.search(normalise(m)), msgs),
        "detector, one message at a time (detect)": rate(detector.detect, msgs),
        f"detector, batches of {batch} (detect_many), first pass": cold,
        f"detector, batches of {batch} (detect_many)": rate_all(many, msgs),
        "  of which normalise_joined()":
            rate_all(lambda ms: [normalise_joined(ms[i:i + batch]) for i in range(0, len(ms), batch)], msgs),
    }
    for name, r in results.items():
        print(f"  {name:56s} {r:>10,.0f} msg/s")
    print(f"  resident memory after these runs: +{(resident() - before) / 1e6:.1f} MB since before the detector was "
          f"compiled (RE2 builds DFA states lazily, within its 64 MB max_mem)")
    base = results["plain python re alternation (\\b, IGNORECASE)"]
    print(f"  detector / plain python re alternation: {results['detector, one message at a time (detect)'] / base:.1f}x "
          f"one at a time, {results[f'detector, batches of {batch} (detect_many)'] / base:.1f}x in batches")
    print("\nworst case: (a+)+$ against 'a'*n + 'b'")
    bad_py, bad_re2 = re.compile(r"(a+)+$"), re2.compile(r"(a+)+$")
    for k in (16, 18, 20, 22):
        s = "a" * k + "b"
        t0 = time.perf_counter(); bad_py.search(s); t_py = time.perf_counter() - t0
        t0 = time.perf_counter(); bad_re2.search(s); t_re2 = time.perf_counter() - t0
        print(f"  n={k:<7d} python re {t_py * 1000:10.1f} ms   RE2 {t_re2 * 1000:8.3f} ms")
    s = "a" * 1_000_000 + "b"
    t0 = time.perf_counter(); bad_re2.search(s); t_re2 = time.perf_counter() - t0
    print(f"  n=1000000 python re   (not attempted: doubles per character)   RE2 {t_re2 * 1000:8.3f} ms")


if __name__ == "__main__":
    main()
