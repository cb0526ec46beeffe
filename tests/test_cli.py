"""The CLI contract, run as a user would: the installed ``gateway`` command in a subprocess."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.memory_adapter import MemoryAdapter
from gateway.store.eventlog import EventLog
from gateway.runner import Runner

from .conftest import CONFIG, GOOD, NET, say

GATEWAY = shutil.which("gateway", path=str(Path(sys.executable).parent)) or "gateway"


# Commands that read files or stdin, print and return an exit code run in this process, as ``gateway`` runs them
# (the same ``main``, stdin, stdout and stderr as bytes, working directory, environment, exit code, a traceback
# on a crash): a subprocess cost each call half a second of start-up and policy loading. ``run`` and ``demo``
# start a service, and ``--help``/``--version`` are the installed command's own words: those still run as a
# subprocess (and so do the tests of a pipe closed early and of signals).
IN_PROCESS = {"check", "log", "init", "status", "case", "eval", "scan"}


def run(*args, stdin: str | bytes = b"", cwd=None, env: dict[str, str] | None = None, text: bool = False):
    """``gateway ARGS``: stdout and stderr as bytes (as str with ``text``); ``env`` replaces the environment."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    if args and args[0] in IN_PROCESS:
        r = _run_in_process(list(args), data, cwd, env)
    else:
        r = subprocess.run([GATEWAY, *args], input=data, capture_output=True, cwd=cwd, env=env, timeout=60)
    if text:
        r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode()
    return r


def _run_in_process(args: list[str], data: bytes, cwd, env) -> subprocess.CompletedProcess:
    import contextlib
    import io
    import os
    import tempfile
    import traceback

    from gateway.cli import main

    out, err, given = io.BytesIO(), io.BytesIO(), tempfile.TemporaryFile()  # scan reads stdin's descriptor
    given.write(data)
    given.seek(0)
    streams = [io.TextIOWrapper(given, encoding="utf-8"),
               io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               io.TextIOWrapper(err, encoding="utf-8", write_through=True)]
    saved, here, environ = (sys.stdin, sys.stdout, sys.stderr), os.getcwd(), dict(os.environ)
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(args)
        except SystemExit as exc:  # argparse's usage errors, as sys.exit gives them
            code = exc.code
        except Exception:  # a crash: the traceback on stderr and exit 1, as python gives them
            traceback.print_exc()
            code = 1
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
    finally:
        with contextlib.suppress(ValueError):
            sys.stdout.flush(), sys.stderr.flush()
        sys.stdin, sys.stdout, sys.stderr = saved
        streams[0].close()
        os.chdir(here)
        if env is not None:
            os.environ.clear()
            os.environ.update(environ)
    return subprocess.CompletedProcess(["gateway", *args], code or 0, out.getvalue(), err.getvalue())


CONFIG_WITH_DIR = CONFIG + "policy_dir: policies\n"


def test_check_ok_prints_one_line_summary(write):
    write("policies/peer.yaml", GOOD)
    cfg = write("gateway.yaml", CONFIG_WITH_DIR)
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[-1].startswith("ok: ") and "1 room(s)" in lines[-1]
    assert len(lines) == 2 and lines[0].startswith("networks.mx: encryption on")  # where its keys are


def test_check_error_exit_2_with_file_line_col_key(write):
    bad = write("policies/peer.yaml", GOOD + "mode: loud\n")
    cfg = write("gateway.yaml", CONFIG_WITH_DIR)
    r = run("check", "--config", str(cfg))
    assert r.returncode == 2
    first = r.stderr.decode().splitlines()[0]
    assert first == f"{bad}:6:7: mode: expected one of act, observe, got 'loud'"


def test_check_a_single_policy(write):
    assert run("check", "--policy", "default").returncode == 0
    bad = write("p.yaml", "name: x\n")
    r = run("check", "--policy", str(bad))
    assert r.returncode == 2 and f"{bad}:1:1: (document): missing required key 'tiers'" in r.stderr.decode()


def test_scan_one_json_object_per_line_in_order_and_writes_nothing(tmp_path):
    lines = ["good morning", "i took all my pills", "I want to die", "kill me lol", "",
             "I would never kill myself"]
    r = run("scan", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [(o["tier"], o["remove"]) for o in out] == [
        ("none", False), ("imminent", True), ("high", False), ("none", False), ("none", False),
        ("concern", False)]
    assert out[1]["rules"] == ["imminent.act_frames", "imminent.act_under_way",  # phrase, frame and the
                               "imminent.compose.act_dose"]  # combination of its parts (an act and a dose)
    assert out[5]["lowered"] == ["high.active_thoughts"]
    assert list(tmp_path.iterdir()) == []
    assert b"pills" not in r.stderr


def test_scan_survives_invalid_utf8(tmp_path):
    r = run("scan", stdin=b"i took all my pills \xff\xfe\n\xc3\n", cwd=tmp_path)
    assert r.returncode == 0
    assert [json.loads(x)["tier"] for x in r.stdout.decode().splitlines()] == ["imminent", "none"]


def test_scan_with_a_policy_path(write):
    p = write("mine.yaml", GOOD + "tiers:\n  concern:\n    rules:\n      extra:\n        phrases: [\"rough week\"]\n")
    r = run("scan", "--policy", str(p), stdin="what a rough week\n")
    assert json.loads(r.stdout)["rules"] == ["concern.extra"]


async def test_log_commands(tmp_path, engine, clock):
    db = tmp_path / "gateway.db"
    clock.now = time.time() - 100 * 86400  # these events happened 100 days ago
    log = EventLog(db)
    adapter = MemoryAdapter(NET)
    runner = Runner(engine, {NET: adapter}, log, clock=clock)
    await runner.handle(say("i took all my pills", sender="@kit:test"))
    await runner.handle(say("!pause", sender="@ana:test"))
    log.close()

    stats = json.loads(run("log", "stats", "--db", str(db)).stdout)
    assert stats["cases_by_tier"] == {"imminent": 1} and stats["commands_refused"] == 1

    jsonl = run("log", "export", "--db", str(db), "--format", "jsonl").stdout.decode().splitlines()
    assert [json.loads(x)["kind"] for x in jsonl] == ["risk_detected", "dm_sent", "removed", "alerted",
                                                     "command"]
    csv = run("log", "export", "--db", str(db), "--format", "csv").stdout.decode().splitlines()
    assert len(csv) == 6

    r = run("log", "forget", "@kit:test", "--db", str(db))
    assert r.returncode == 0 and r.stdout.decode().startswith("5 rows")
    assert [json.loads(x)["kind"] for x in run("log", "export", "--db", str(db)).stdout.decode().splitlines()] \
        == ["command"]

    assert run("log", "purge", "--older-than", "soon", "--db", str(db)).returncode == 2
    assert run("log", "purge", "--older-than", "101d", "--db", str(db)).stdout.decode().startswith("0 rows")
    r = run("log", "purge", "--older-than", "90d", "--db", str(db))
    assert r.returncode == 0 and r.stdout.decode().startswith("1 rows")


def test_log_on_missing_database_is_a_clear_error(tmp_path):
    r = run("log", "stats", "--db", str(tmp_path / "nope.db"))
    assert r.returncode == 1 and "no event log at" in r.stderr.decode()
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.live
def test_demo_runs_on_a_real_synapse_and_shows_the_flow_in_order(tmp_path):
    from gateway.demo import SCRIPT
    from gateway.demo.homeserver import synapse_available

    if not synapse_available():
        pytest.skip("matrix-synapse is not installed: pip install -e '.[test]'")
    kept = tmp_path / "demo"
    r = subprocess.run([GATEWAY, "demo", "--once", "--keep", str(kept)], capture_output=True, timeout=240)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = r.stdout.decode()
    assert "kit: joins and sees the pinned guidelines" in out
    # a line no phrase of the lexicon matches: the model's concern, a private check-in, no removal
    lee = out.index("lee: reads the private message")
    stays = out.index("lee stays in the room")
    assert "call 116 123" in out[lee:stays] and "model.risk (score" in out[lee:stays]
    assert "sees lee removed" not in out and "[LOW] Case" in out[lee:stays]
    dm = out.index("kit: reads the private message")
    removed = out.index("sees kit removed")
    alert = out.index("[URGENT] Case")
    assert dm < removed < alert
    assert "call 116 123" in out[dm:removed] and "call 999" in out[dm:removed]
    assert "Removed by the room bot (automated)" in out[removed:alert]
    assert "Message text found in the files the gateway wrote: NONE" in out
    # issue 16, item 6: the silence about idioms is observed, and the evidence is where it says
    assert out.count("no action: an idiom, not a person at risk (watched for 2 s: no private message") == 2
    db = kept / "data" / "gateway.db"
    assert f"event log (transcript-free; people are keyed pseudonyms), {db}:" in out and db.exists()
    look = f"kept after the demo (--keep): look with `gateway log stats --db {db}`."
    assert look in out and run("log", "stats", "--db", str(db)).returncode == 0  # what it says works
    stored = b"".join(f.read_bytes() for f in (kept / "data").rglob("*") if f.is_file())
    assert [r["kind"] for r in EventLog(db).rows()].count("removed") == 1
    assert not [text for _, text, _ in SCRIPT if text.encode() in stored]


@pytest.mark.live
def test_the_demo_once_names_no_file_it_deletes_on_exit():
    """Issue 26, item 10: `gateway demo --once` without --keep deleted its files on exit, yet printed where
    they were and a command to look at them."""
    from gateway.demo.homeserver import synapse_available

    if not synapse_available():
        pytest.skip("matrix-synapse is not installed: pip install -e '.[test]'")
    r = subprocess.run([GATEWAY, "demo", "--once"], capture_output=True, timeout=240, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "The event log (transcript-free; people are keyed pseudonyms):\n" in r.stdout
    assert "Those files are deleted as the demo ends: run it with --keep DIR to keep them." in r.stdout
    assert "gateway-demo-" not in r.stdout + r.stderr and "gateway log" not in r.stdout  # no path, no command


@pytest.mark.live
def test_the_encrypted_demo_plays_the_flow_in_encrypted_rooms(tmp_path):
    """Issue 18: ``gateway demo --encrypted`` with encrypting clients: newcomers get the guidelines they
    cannot decrypt in the pin, the private messages and the removal happen as in the plain demo, the
    homeserver holds only ciphertext, and no text is in the gateway's files (its crypto store included)."""
    from gateway.demo import SCRIPT
    from gateway.demo.homeserver import synapse_available

    if not synapse_available():
        pytest.skip("matrix-synapse is not installed: pip install -e '.[test]'")
    kept = tmp_path / "demo"
    r = subprocess.run([GATEWAY, "demo", "--once", "--encrypted", "--keep", str(kept)], capture_output=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = r.stdout.decode()
    assert "both end-to-end encrypted" in out and "the bot posts them again for newcomers" in out
    dm, removed = out.index("kit: reads the private message"), out.index("sees kit removed")
    assert dm < removed < out.index("[URGENT] Case") and "call 116 123" in out[dm:removed]
    assert re.search(r"(\d+) of the \1 messages in #peer-support are ciphertext", out)
    assert "Message text found in the files the gateway wrote: NONE" in out
    store = list((kept / "data" / "crypto" / "demo").glob("*.db"))
    assert store, "the crypto store is among the files checked"
    stored = b"".join(f.read_bytes() for f in (kept / "data").rglob("*") if f.is_file())
    assert not [text for _, text, _ in SCRIPT if text.encode() in stored]
    assert not r.stderr.strip(), r.stderr.decode()[-2000:]  # nothing alarming printed


@pytest.mark.parametrize("args", [["run", "--config", "missing.yaml"]])
def test_run_with_missing_config_fails_cleanly(args, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2 and "cannot read file" in r.stderr.decode()


def test_check_warns_about_stale_crisis_lines_and_regions_without_an_entry(write):
    write("policies/peer.yaml", GOOD)
    write("lines.yaml", """
        version: 1
        international:
          text: "Find a free helpline in your country at https://findahelpline.com"
          emergency: "your local emergency number"
        regions:
          GB:
            name: United Kingdom
            emergency: "999"
            lines:
              - {service: "Samaritans", phone: "116 123", hours: "24/7", source: "https://www.samaritans.org", verified: 2020-01-01}
    """)
    cfg = write("gateway.yaml", "crisis_lines: lines.yaml\npolicy_dir: policies\n" + CONFIG
                + "  - network: mx\n    room: \"!iceland:test\"\n    policy: peer\n    region: IS\n")
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "GB Samaritans: last verified 2020-01-01, more than 12 months ago" in err
    assert "!iceland:test: no crisis lines for region IS" in err
    assert r.stdout.decode().splitlines()[-1].startswith("ok: ")


def test_shipped_directory_covers_the_reference_regions_with_sources_and_dates(directory):
    expected = set("US CA GB IE AU NZ DE AT CH FR BE NL IT ES SE NO DK FI PL JP KR IN SG HK PH BR MX AR ZA".split())
    assert expected <= set(directory.regions)
    for code, region in directory.regions.items():
        assert region.emergency and region.lines, code
        for line in region.lines:
            assert line.source and line.verified and (line.phone or line.text or line.chat), (code, line.service)
    assert "988" in directory.lines_text("US") and directory.emergency("US") == "911"
    assert "findahelpline.com" in directory.lines_text("INTL")


async def test_stop_ends_a_task_that_swallowed_its_cancellation(write, monkeypatch, tmp_path):
    """Python 3.11's asyncio.wait_for can swallow a cancellation that races with its result; the ticker
    then ran on and stop() waited for it forever. stop() cancels again until every task has ended."""
    import asyncio

    from gateway.service import Service

    write("policies/peer.yaml", GOOD)
    monkeypatch.setenv("GATEWAY_MX_PASSWORD", "x")
    service = Service(write("gateway.yaml", CONFIG_WITH_DIR.replace("gateway.db", str(tmp_path / "g.db"))))
    swallowed = []

    async def stubborn():
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(1)  # as wait_for does when its result arrives with the cancellation

    service.recancel_every = 0.05  # how soon it cancels again: the same steps, without a second of waiting
    service.tasks = [asyncio.create_task(stubborn())]
    service.adapters = {}
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    stopping = asyncio.create_task(service.stop())
    done, _ = await asyncio.wait([stopping], timeout=10)
    assert done, "stop() is still waiting for a task that swallowed its cancellation"
    assert swallowed and service.tasks[0].done()
    assert asyncio.get_running_loop().time() - started < 5


def _matrix_config(write, url: str, user_id: str) -> Path:
    from .factories import matrix_network, policy_yaml, room_entry, write_gateway

    directory = write("gateway.yaml", "").parent  # (the tmp dir; write_gateway writes the real one)
    return write_gateway(directory, policy=policy_yaml("!mods:localhost"),
                         networks=[matrix_network(url, user_id, "GATEWAY_TEST_PASSWORD")],
                         rooms=[room_entry("mx", "!group:localhost")])


def test_run_with_a_wrong_matrix_password_says_what_to_fix_in_one_line_and_exits_3(homeserver, write):
    """Issue 16, item 3: a refused login is permanent: no traceback, no retrying, exit code 3."""
    import os

    user = homeserver.register("wrong-password-bot")
    cfg = _matrix_config(write, homeserver.url, user.user_id)
    r = subprocess.run([GATEWAY, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "GATEWAY_TEST_PASSWORD": "not-the-password-canary"})
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr and "not-the-password-canary" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last == (f"error: network mx: {homeserver.url} refused the login of {user.user_id} (M_FORBIDDEN): "
                    f"check the password in $GATEWAY_TEST_PASSWORD and user_id")


def _run_until_ready(cfg: Path, password: str) -> subprocess.CompletedProcess:
    """``gateway run`` until it logs that it is ready, then SIGTERM; (exit code, stderr)."""
    import os
    import signal
    import threading

    proc = subprocess.Popen([GATEWAY, "run", "--config", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "GATEWAY_TEST_PASSWORD": password})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline and not any(" ready: " in line for line in list(lines)):
        time.sleep(0.1)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", "".join(lines))


def test_a_wrong_matrix_password_is_found_at_start_even_with_a_saved_token_and_leaves_no_device(homeserver,
                                                                                                  write):
    """Issue 26, item 7: with encryption on, a restart reuses the saved device's token and did not need
    the password, so a wrong one showed only when that token was revoked. Now `gateway run` exits 3 at
    start with the line to fix it, and checking the password leaves no device behind."""
    user = homeserver.register("saved-token-bot")
    cfg = _matrix_config(write, homeserver.url, user.user_id)

    def devices() -> set[str]:
        got = homeserver._request("GET", "/_matrix/client/v3/devices", token=user.access_token)
        return {d["device_id"] for d in got["devices"]}

    first = _run_until_ready(cfg, user.password)
    assert first.returncode == 0 and " ready: " in first.stderr, first.stderr[-3000:]
    from adapters.matrix.crypto import saved_device

    device = saved_device(cfg.parent / "data" / "crypto" / "mx")
    assert device and devices() == {user.device_id, device}

    wrong = _run_until_ready(cfg, "not-the-password-canary")
    assert wrong.returncode == 3 and "Traceback" not in wrong.stderr, wrong.stderr[-3000:]
    assert " ready: " not in wrong.stderr and "not-the-password-canary" not in wrong.stderr
    assert wrong.stderr.strip().splitlines()[-1] == (
        f"error: network mx: {homeserver.url} refused the login of {user.user_id} (M_FORBIDDEN): check the "
        f"password in $GATEWAY_TEST_PASSWORD and user_id")

    right = _run_until_ready(cfg, user.password)
    assert right.returncode == 0 and " ready: " in right.stderr, right.stderr[-3000:]
    assert saved_device(cfg.parent / "data" / "crypto" / "mx") == device  # the same device, its keys kept
    assert devices() == {user.device_id, device}  # the password checks left no device behind


def test_run_against_an_unreachable_homeserver_retries_with_a_line_saying_what_to_check(write):
    import os
    import signal

    from gateway.demo.homeserver import free_port

    port = free_port()  # nothing listens there
    cfg = _matrix_config(write, f"http://127.0.0.1:{port}", "@bot:localhost")
    # Ctrl-C as at a terminal: a run started in the background (``cmd &`` in a script, as a CI job may be) inherits
    # SIGINT ignored, and Python then keeps it ignored (as it should: the shell's way of sparing background jobs), so
    # the child gets the default back. PYTHONFAULTHANDLER: if it does not stop, SIGABRT prints where every thread is.
    proc = subprocess.Popen([GATEWAY, "run", "--config", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "GATEWAY_TEST_PASSWORD": "x", "PYTHONFAULTHANDLER": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # the first retry comes after 1 s: Ctrl-C once its line is out, so that it lands in the wait (start-up is slow on
    # a busy machine); how the waits grow is test_matrix_units.py's
    import threading

    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("retrying in 1 s" in line for line in list(lines)):
        time.sleep(0.1)
    waited = 60 - (deadline - time.monotonic())
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        raise AssertionError(f"no exit within 30 s of Ctrl-C (sent after {waited:.1f} s):\n" + "".join(lines)[-6000:])
    reader.join(timeout=10)
    err = "".join(lines)
    assert "Traceback" not in err, err[-3000:]
    assert "INFO gateway: stopping (SIGINT)" in err, err[-2000:]
    assert (f"mx: cannot start on http://127.0.0.1:{port}: cannot connect (Connect call failed"
            in err or f"mx: cannot start on http://127.0.0.1:{port}: cannot connect" in err), err[-2000:]
    assert "check the homeserver URL and that it is up; retrying in 1 s" in err
    assert proc.returncode == 0


def test_version_and_help_without_markup_or_repetition():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.decode().startswith("gateway 0.")
    out = run("--help").stdout.decode()
    assert "``" not in out and out.count("Safeguarding gateway for Matrix rooms and IRC channels.") == 1


def test_scan_shows_abuse_and_third_party_beside_the_tier():
    r = run("scan", stdin="kys loser\nmy friend says she wants to kill herself tonight\nhello\n")
    out = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert out[0]["tier"] == "none" and out[0]["abuse"] == ["abuse.told_to_die"]
    assert out[1]["third_party"] and out[1].get("remove") is False
    assert "abuse" not in out[2] and "third_party" not in out[2]


def test_init_writes_a_starter_config_that_checks_clean(tmp_path):
    """Issue 16, item 5: from a few flags to a config that loads, then the same check as gateway check."""
    from gateway.config.config_file import load_config

    args = ["init", "--dir", str(tmp_path), "--region", "GB",
            "--matrix-homeserver", "https://matrix.example.org", "--matrix-user", "@safety-bot:example.org",
            "--room", "#support:example.org", "--moderators-room", "#support-mods:example.org",
            "--irc-host", "irc.example.net:6697", "--irc-nick", "safety-bot", "--room", "#peer-support",
            "--moderators-room", "#peer-support-ops"]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "ok: " in out and "2 network(s), 2 room(s), policies room" in out and "\nnext:\n" in out
    cfg = load_config(tmp_path / "gateway.yaml")
    assert [(b.network, b.room, b.region, b.moderators_room) for b in cfg.rooms] == [
        ("matrix", "#support:example.org", "GB", "#support-mods:example.org"),
        ("irc", "#peer-support", "GB", "#peer-support-ops")]
    assert cfg.networks["irc"].settings["port"] == 6697 and cfg.policies["room"].model.enabled
    again = run(*args)
    assert again.returncode == 1 and "exists (use --force to overwrite it)" in again.stderr.decode()


DOCS = Path(__file__).resolve().parent.parent / "docs"


def _init_args(directory: str, *extra: str) -> list[str]:
    return ["init", "--dir", directory, "--region", "GB", "--matrix-homeserver", "https://matrix.example.org",
            "--matrix-user", "@safety-bot:example.org", "--room", "#support:example.org", "--moderators-room",
            "#support-mods:example.org", "--irc-host", "irc.example.net", "--irc-nick", "safety-bot",
            "--irc-account", "safety-bot", "--room", "#peer-support", "--moderators-room", "#peer-support-ops",
            *extra]


def _main(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from gateway.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def test_init_writes_the_data_dir_into_the_config(tmp_path, monkeypatch):
    """Issue 26, item 10: `--data-dir` is where the event log, its key, the crypto store and the saved
    login go: written relative to the config when inside its directory, else absolute."""
    from gateway.config.config_file import load_config

    monkeypatch.chdir(tmp_path)
    for data_dir, written in ((None, "data/gateway.db"), ("gw/state", "state/gateway.db"),
                              (str(tmp_path / "var"), f"{tmp_path / 'var'}/gateway.db"), ("var", f"{tmp_path / 'var'}/gateway.db")):
        rc, out, err = _main(*_init_args("gw", *(["--data-dir", data_dir] if data_dir else []), "--force"))
        assert rc == 0, err
        assert f"\nevent_log: {written}\n" in (tmp_path / "gw" / "gateway.yaml").read_text()
        cfg = load_config(tmp_path / "gw" / "gateway.yaml")
        where = tmp_path / ("gw/data" if data_dir is None else "gw/state" if data_dir == "gw/state" else "var")
        assert cfg.event_log == where / "gateway.db"
        assert cfg.networks["matrix"].settings["encryption"]["store"] == where / "crypto" / "matrix"


def test_init_next_lines_are_the_readmes_set_up_in_a_shell_and_for_the_systemd_unit(tmp_path, monkeypatch):
    """Issue 26, item 10: what init says to do next is what the docs show: docs/configuration.md for a
    shell, docs/production.md (the page init names) for a config written where the unit reads it."""
    import gateway.config.starter as starter

    monkeypatch.chdir(tmp_path)
    rc, out, _ = _main(*_init_args("mygateway"))
    assert rc == 0 and out.split("would:\n")[1].splitlines()[-3:] == [
        "next:", "  export GATEWAY_MATRIX_PASSWORD=... GATEWAY_IRC_PASSWORD=...",
        "  gateway run --config mygateway/gateway.yaml"]
    configuration = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for line in out.splitlines()[-2:]:
        assert line.strip() in configuration, line
    etc, var = tmp_path / "etc" / "safeguarding-gateway", tmp_path / "var" / "lib" / "safeguarding-gateway"
    monkeypatch.setattr(starter, "SERVICE_CONFIG", etc / "gateway.yaml")
    monkeypatch.setattr(starter, "SERVICE_DATA", var)
    monkeypatch.setattr(starter, "SERVICE_SECRETS", etc / "secrets.env")
    rc, out, err = _main(*_init_args(str(etc), "--data-dir", str(var)))
    pointer = "next, for the systemd unit (docs/production.md):\n"
    steps = out.split(pointer)[1].splitlines()
    production = (DOCS / "production.md").read_text(encoding="utf-8")  # the page the pointer names
    assert rc == 0 and not err.count("warning: the unit") and steps == [
        f"  install -m 0600 /dev/null {etc}/secrets.env  # then in it, one a line: GATEWAY_MATRIX_PASSWORD=... "
        "GATEWAY_IRC_PASSWORD=...",
        "  cp contrib/safeguarding-gateway.service /etc/systemd/system/",
        "  systemctl daemon-reload && systemctl enable --now safeguarding-gateway"]
    for line in steps:
        assert line.split("  #")[0].strip().replace(str(tmp_path), "") in production, line
    rc, out, err = _main(*_init_args(str(etc), "--force"))  # data/ in /etc: the unit cannot write there
    assert rc == 0 and f"warning: the unit may write only in {var}, not {etc}/data: run this again with " \
                       f"--data-dir {var} --force" in err


def test_the_systemd_units_paths_are_the_ones_init_knows():
    from gateway.config.starter import SERVICE_CONFIG, SERVICE_DATA, SERVICE_SECRETS

    unit = (Path(__file__).resolve().parent.parent / "contrib" / "safeguarding-gateway.service").read_text()
    assert f" run --config {SERVICE_CONFIG} " in unit and f"EnvironmentFile={SERVICE_SECRETS}\n" in unit
    assert f"StateDirectory={SERVICE_DATA.name}\n" in unit and f"WorkingDirectory={SERVICE_DATA}\n" in unit


def _quoted_command_lines(text: str) -> list[str]:
    """`gateway ...` in backquotes, and indented lines that start with one (help, "next:" lines)."""
    found = re.findall(r"`(gateway [^`]*)`", text)
    for line in text.splitlines():
        if line.startswith("  gateway "):
            found.append(re.split(r"\s{2,}|\s#", line.strip())[0])
    return found


def _cli_string_literals() -> list[str]:
    """Every string the CLI can print (docstrings aside), f-strings with X for each placeholder."""
    import ast

    import gateway.cli
    import gateway.demo
    import gateway.config.starter

    out = []
    for module in (gateway.cli, gateway.config.starter, gateway.demo):
        tree = ast.parse(Path(module.__file__).read_text())
        skip = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
        skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}  # (parts)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                out.append("".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values))
    return out


def test_every_gateway_command_line_the_cli_quotes_parses_with_the_real_parser(tmp_path, monkeypatch):
    """Issue 26, item 10: `gateway --help` named `gateway init --matrix`, which does not exist. Every
    command line in the help texts, in what the CLI prints and in init's output must parse."""
    import argparse
    import shlex

    from gateway.cli import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    pending = [parser]
    while pending:  # every sub-command's help, and theirs
        for action in pending.pop()._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    texts.append(sub.format_help())
                    pending.append(sub)
    texts += _cli_string_literals()
    monkeypatch.chdir(tmp_path)
    texts.append(_main(*_init_args("gw"))[1])
    lines = {line for text in texts for line in _quoted_command_lines(text)}
    assert "gateway run --config gateway.yaml" in lines and "gateway log stats --db X" in lines  # (found)
    assert any(line.startswith("gateway init --room") for line in lines)
    for line in sorted(lines):
        try:
            build_parser().parse_args(shlex.split(line)[1:])
        except SystemExit:
            pytest.fail(f"the CLI quotes a command line its parser refuses: {line}")


def test_init_says_what_is_missing_before_writing_anything(tmp_path):
    r = run("init", "--dir", str(tmp_path), "--room", "peer-support", "--room", "#x:example.org")
    err = r.stderr.decode()
    assert r.returncode == 2 and not list(tmp_path.iterdir())
    assert "'peer-support' is neither a Matrix room" in err
    assert "name the moderators' room" in err and "Matrix rooms need --matrix-homeserver" in err
    assert "Traceback" not in err


def test_init_refuses_a_country_name_for_the_region_before_writing_and_suggests_its_code(tmp_path):
    r = run("init", "--dir", str(tmp_path), "--room", "#peer", "--moderators-room", "#peer-ops",
            "--irc-host", "irc.example.org", "--irc-nick", "bot", "--region", "Deutschland")
    err = r.stderr.decode()
    assert r.returncode == 2 and not list(tmp_path.iterdir())
    assert err.strip() == ("error: --region Deutschland: not a country code (ISO 3166-1 alpha-2 such as GB, or INTL) "
                           "(did you mean 'DE'?)")
    r = run("init", "--dir", str(tmp_path), "--room", "#peer", "--moderators-room", "#peer-ops",
            "--irc-host", "irc.example.org", "--irc-nick", "bot", "--region", "de")
    assert r.returncode == 0, r.stderr.decode()
    assert "region: DE " in (tmp_path / "policies" / "room.yaml").read_text()
