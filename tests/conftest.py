"""Shared fixtures and factories.

CI rule: when the environment variable CI is set (as .ci/run does), a skipped test is reported as a
failure, so a run that could not start a real server cannot pass as green.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import textwrap
from pathlib import Path

# The suite keeps its compiled test modules (pytest's assertion rewriting) and the gateway's bytecode in
# __pycache__ even where PYTHONDONTWRITEBYTECODE is set, as on this project's Debian machines: without them every
# run, in every worker, rewrote and compiled about 150 modules again (6 s of CPU per worker instead of 2).
sys.dont_write_bytecode = False

import pytest  # noqa: E402

from gateway.policy.crisis_lines import load_directory
from gateway.core.engine import Engine
from gateway.core.rooms import RoomBinding
from gateway.core.events import Authority, Message
from gateway.policy import loader as policy_loader
from gateway.policy.loader import PolicyLoader
from gateway.yamlfiles import located as yamlsrc

# The suite loads the shipped policies thousands of times: keep the parsed large files (a copy is handed out
# each time; off in a running gateway, where it would only hold memory: gateway/yamlfiles/located.py).
yamlsrc._CACHE_SIZE = 16
# ... and the policies built from them, with their compiled detectors: the same name, found in the same place
# from the same bytes, gives the same frozen policy (gateway/policy/loader.py; off in a running gateway).
policy_loader._CACHE_SIZE = 64

ROOM, MODS, NET = "!group:test", "!mods:test", "test"

# A room policy extending the default, and a config whose one room uses it (line numbers matter to tests).
GOOD = """
extends: default
name: peer
region: GB
moderators:
  room: "!mods:test"
"""

CONFIG = """
event_log: gateway.db
networks:
  mx:
    type: matrix
    homeserver: http://127.0.0.1:8008
    user_id: "@bot:test"
    password_env: GATEWAY_MX_PASSWORD
rooms:
  - network: mx
    room: "!group:test"
    policy: peer
"""




LIVE_FIXTURES = {"homeserver", "ngircd", "inspircd", "any_ircd", "ircd", "plain_ngircd"}


def pytest_configure(config):
    """Import the ``irc`` package before the test modules are collected. Why: its ``irc.events`` asks
    ``importlib_resources.files()`` for its caller's package, which walks ``inspect.stack()`` reading every frame's
    source; under collection's deep stack and a thousand more loaded modules that took 0.4 s a worker, here 0.1 s."""
    import irc.events  # noqa: F401

    if os.environ.get("PYTEST_XDIST_WORKER"):
        atexit.register(_end_worker_now)


def pytest_runtest_teardown(item, nextitem):
    """After a test module's last test, what the run holds so far (the shipped policies compiled, the loader's caches,
    the models) moves out of the garbage collector's sight (``gc.freeze``). Why: a run keeps hundreds of megabytes of
    objects for the session, and each full collection walked all of them again: 2.0 of the 2.7 s the collector took in
    one process, 0.3 s this way (for 40 MB more at the peak: what was garbage at a module's end stays)."""
    if nextitem is None or nextitem.module is not item.module:
        gc.freeze()


def _end_worker_now() -> None:
    """An xdist worker ends without freeing its heap object by object. Why: by the time the interpreter exits, the
    worker has sent every report (the controller waits for that before it ends the workers), and freeing a worker's
    800 MB of compiled policies, models and caches one object at a time took 1.5 s that the controller waited for,
    at the end of every ``-n 2`` run. Registered at configure: the exit handlers registered later (pytest's temporary
    directories', anything a test starts) run before it, as handlers run last registered first."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def pytest_collection_modifyitems(config, items):
    """Every test that needs a real server is marked ``live`` (by the server fixtures it uses, or by hand),
    so ``python -m pytest -m "not live"`` runs the unit tests alone, without any server installed."""
    for item in items:
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
    _fewer_examples_outside_ci(items)


# Property tests: each test's own ``@settings(max_examples=N)`` is what CI runs (CI set, as .ci/run does, or
# GATEWAY_ALL_EXAMPLES=1 to run them all here); any other run tries a quarter of them (never fewer than 25),
# so the unit suite stays quick while working. The properties and their explicit examples are the same.
EXAMPLES_SHARE = 4


def _all_examples() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("GATEWAY_ALL_EXAMPLES"))


def _fewer_examples_outside_ci(items) -> None:
    if _all_examples():
        return
    from hypothesis import settings

    done = set()
    for item in items:
        test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        given = getattr(test, "_hypothesis_internal_use_settings", None)  # where @settings and @seed keep theirs
        if given is None or not getattr(test, "is_hypothesis_test", False) or id(test) in done:
            continue
        done.add(id(test))
        fewer = min(given.max_examples, max(25, given.max_examples // EXAMPLES_SHARE))
        test._hypothesis_internal_use_settings = settings(given, max_examples=fewer)


def pytest_report_header(config):
    if not _all_examples():
        return (f"hypothesis: a 1/{EXAMPLES_SHARE} share of each property test's examples "
                "(CI=1 or GATEWAY_ALL_EXAMPLES=1 runs them all)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under CI (every test must run in CI): {reason}"


@pytest.fixture(scope="session")
def directory():
    return load_directory()


_SHIPPED_POLICIES: dict = {}


@pytest.fixture(scope="session")
def shipped_policy():
    """A shipped policy by name ("default", "default-de", ...), loaded once for the whole session; its detector
    comes with it (``detector_for`` keeps it on the policy). Never change one: ``dataclasses.replace`` copies."""

    def load(name: str):
        if name not in _SHIPPED_POLICIES:
            _SHIPPED_POLICIES[name] = PolicyLoader().load(name)
        return _SHIPPED_POLICIES[name]

    return load


@pytest.fixture(scope="session")
def default_policy(shipped_policy):
    return shipped_policy("default")


@pytest.fixture
def write(tmp_path):
    """Write a dedented text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return p

    return _write


def make_binding(policy, *, room=ROOM, mods=MODS, region="GB", network=NET, network_type="generic"):
    return RoomBinding(network, room, policy, region, network, mods, network_type=network_type)


class Clock:
    """A controllable clock for the engine's timestamps and timers."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def engine(default_policy, directory):
    counter = iter(range(1, 10_000))
    return Engine([make_binding(default_policy)], directory, bot_ids={NET: "@bot:test"},
                  case_id=lambda: f"case{next(counter)}")


_refs = iter(range(1, 1 << 30))


def say(text: str, *, sender="@kit:test", room=ROOM, ts=1_800_000_000.0, power=0, ref=None,
        operator=False, account=None) -> Message:
    """A chat message as an adapter would deliver it (each with its own message id)."""
    return Message(NET, ts, room=room, sender=sender, text=text, ref=ref or f"$m{next(_refs)}",
                   authority=Authority(power_level=power, operator=operator, account=account))


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory):
    # imported here, not at the top: it brings matrix-nio, a second of start-up that xdist's controller (which loads
    # this file too, before any worker starts) would spend with nothing to use it for
    from gateway.demo.homeserver import Homeserver, HomeserverUnavailable, synapse_available

    if not synapse_available():
        pytest.skip("matrix-synapse is not installed: pip install -e '.[test]'")
    hs = Homeserver(tmp_path_factory.mktemp("synapse"))
    try:
        hs.start()
    except HomeserverUnavailable as exc:
        pytest.skip(str(exc))
    yield hs
    hs.stop()
