"""``gateway check`` warns about what would hurt a running gateway though the files are valid (issue 26,
item 9): a rule that fires on everyday chat, an HTTP listener others can reach, an event log this user
cannot write (``gateway run`` stops on it with the same line); directories holding keys are 0700."""

from __future__ import annotations

import fnmatch
import os
import stat
import subprocess
import tempfile
import tomllib
from pathlib import Path

import pytest

from gateway.cli import host_warnings
from gateway.config.config_file import load_config
from gateway.detection import detector_for
from gateway.detection.evaluate import EVERYDAY_CHAT, everyday_warnings
from gateway.policy.loader import PolicyLoader

from .conftest import CONFIG, GOOD
from .test_cli import GATEWAY, run

ROOT = Path(__file__).resolve().parent.parent
CONFIG_WITH_DIR = CONFIG + "policy_dir: policies\n"


# -- a rule that fires on everyday chat --------------------------------------------------------------

def test_a_room_rule_that_fires_on_everyday_chat_is_named_with_its_line_and_share(write):
    policy = write("policies/peer.yaml", GOOD + r"""
tiers:
  imminent:
    rules:
      anything:
        regexes: ['\w']
""")
    cfg = write("gateway.yaml", CONFIG_WITH_DIR)
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    lines = len(EVERYDAY_CHAT.read_text(encoding="utf-8").splitlines())
    warned = [w for w in r.stderr.decode().splitlines() if "everyday chat" in w]
    assert len(warned) == 1
    share = warned[0].split(" fires on ")[1].split("%")[0]
    assert warned[0] == (
        f"warning: {policy}:10: rule imminent.anything fires on {share}% of everyday chat "
        f"({warned[0].split('(')[1].split(' of the')[0]} of the {lines} ordinary lines shipped to test this), "
        f"more than 1%: a phrase or regex in it is too broad; try it with gateway scan --policy {policy}")
    assert int(share) > 50


def test_an_inherited_rule_widened_by_a_room_is_told_at_the_room_policys_line(write):
    policy = write("p.yaml", GOOD + """
tiers:
  concern:
    rules:
      wish_dead:
        phrases: ["the"]
""")
    r = run("check", "--policy", str(policy))
    assert r.returncode == 0, r.stderr
    warned = [w for w in r.stderr.decode().splitlines() if "everyday chat" in w]
    assert len(warned) == 1 and warned[0].startswith(f"warning: {policy}:10: rule concern.wish_dead fires on ")


def test_the_shipped_default_policy_fires_no_rule_on_everyday_chat():
    default = PolicyLoader().load("default")
    assert everyday_warnings(default, detector_for(default).own) == []  # its cost: bench, not a timed test
    r = run("check", "--policy", "default")
    assert r.returncode == 0 and r.stderr.decode() == ""


def test_the_everyday_sample_ships_with_the_package():
    lines = EVERYDAY_CHAT.read_text(encoding="utf-8").splitlines()
    assert 500 <= len(lines) <= 1000 and all(line.strip() for line in lines)
    assert len(set(lines)) == len(lines)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    inside = EVERYDAY_CHAT.relative_to(ROOT / "gateway" / "detection").as_posix()
    assert any(fnmatch.fnmatch(inside, pattern) for pattern in package_data["gateway.detection"])


# -- the HTTP listener -------------------------------------------------------------------------------

@pytest.mark.parametrize("listen, who", [
    ("0.0.0.0:9464", "anyone who can reach this machine on port 9464 (it listens on every network interface)"),
    ("192.0.2.10:9100", "anyone who can reach 192.0.2.10 on port 9100"),
    ("127.0.0.1:9464", None), ("localhost:9464", None), ("'[::1]:9464'", None),
])
def test_an_http_listener_off_loopback_is_warned_about_saying_who_can_reach_it(write, listen, who):
    write("policies/peer.yaml", GOOD)
    cfg = write("gateway.yaml", CONFIG_WITH_DIR + f"http:\n  listen: {listen}\n")
    warned = [w for w in host_warnings(load_config(cfg)) if "http.listen" in w]
    if who is None:
        assert warned == []
        return
    host_port = listen.strip("'")
    port = host_port.rsplit(":", 1)[1]
    assert warned == [f"{cfg}:14: http.listen: {host_port} is not loopback: {who} can read /metrics "
                      f"(case counts by room and tier) and /healthz, /readyz, without a password; listen on "
                      f"127.0.0.1:{port} and put a reverse proxy with authentication or a firewall in front"]
    r = run("check", "--config", str(cfg))  # as gateway check prints it
    assert r.returncode == 0 and f"warning: {warned[0]}" in r.stderr.decode().splitlines()


# -- an event log this user cannot write -------------------------------------------------------------

def _as_someone_else() -> tuple[list[str], str]:
    """How to run a command as a user the permissions apply to (root writes anywhere: then as nobody, with
    util-linux's setpriv), and that user as the gateway names it."""
    import pwd

    if os.geteuid() != 0:
        return [], f"user {pwd.getpwuid(os.geteuid()).pw_name} (uid {os.geteuid()})"
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], "user nobody (uid 65534)"


def _reachable_by_everyone(path: Path) -> list[tuple[Path, int]]:
    """Let any user pass through the directories above ``path`` (a clone in a 0700 temporary directory is
    root's alone, and nobody could not start the gateway); the modes changed, to put back."""
    changed = []
    for d in path.parents:
        mode = d.stat().st_mode & 0o7777
        if not mode & 0o001:
            os.chmod(d, mode | 0o001)
            changed.append((d, mode))
    return changed


def test_an_event_log_directory_nobody_may_write_is_one_line_from_check_and_from_run():
    as_user, who = _as_someone_else()
    opened = _reachable_by_everyone(ROOT) if as_user else []
    try:
        _nobody_may_write(as_user, who)
    finally:
        for d, mode in opened:
            os.chmod(d, mode)


def _nobody_may_write(as_user, who):
    with tempfile.TemporaryDirectory(dir="/tmp") as top:  # (pytest's tmp_path is root's alone)
        top = Path(top)
        os.chmod(top, 0o755)
        data = top / "data"
        data.mkdir(mode=0o755)
        if not as_user:
            os.chmod(data, 0o500)
        (top / "policies").mkdir(mode=0o755)
        (top / "policies" / "peer.yaml").write_text(GOOD.lstrip())
        cfg = top / "gateway.yaml"
        cfg.write_text(CONFIG_WITH_DIR.lstrip().replace("event_log: gateway.db", "event_log: data/gateway.db"))
        for f in (cfg, top / "policies" / "peer.yaml"):
            os.chmod(f, 0o644)
        env = {**os.environ, "GATEWAY_MX_PASSWORD": "not-used"}

        def gateway(*args):
            return subprocess.run([*as_user, GATEWAY, *args], capture_output=True, timeout=60, env=env, cwd=top)

        problem = (f"the event log's directory {data} is not writable by {who}: chown it to that user, or set "
                   f"event_log to a directory it can write")
        check = gateway("check", "--config", str(cfg))
        assert check.returncode == 0, check.stderr
        assert f"warning: {cfg}:1: event_log: {problem}; gateway run as this user would stop at start" \
            in check.stderr.decode().splitlines()
        started = gateway("run", "--config", str(cfg))
        assert (started.returncode, started.stderr.decode().splitlines()) == (1, [f"error: {problem}"])
        assert list(data.iterdir()) == []


# -- directories that hold keys and tokens -----------------------------------------------------------

def test_directories_made_for_keys_and_tokens_are_0700_whatever_the_umask(tmp_path):
    from adapters.matrix.crypto import Crypto, CryptoSettings, pickle_key_from_file
    from gateway.store.eventlog import EventLog

    (tmp_path / "elsewhere").mkdir(mode=0o755)
    os.chmod(tmp_path / "elsewhere", 0o755)
    old = os.umask(0o000)
    try:
        log = EventLog(tmp_path / "data" / "gateway.db")
        log.close()
        pickle_key_from_file(tmp_path / "data" / "crypto" / "mx.key")
        Crypto(CryptoSettings(tmp_path / "data" / "crypto" / "mx", "k"), "mx")
        Crypto(CryptoSettings(tmp_path / "elsewhere" / "store" / "mx", "k"), "mx")
    finally:
        os.umask(old)
    for d in ("data", "data/crypto", "data/crypto/mx", "elsewhere/store", "elsewhere/store/mx"):
        assert stat.S_IMODE((tmp_path / d).stat().st_mode) == 0o700, d
    assert stat.S_IMODE((tmp_path / "elsewhere").stat().st_mode) == 0o755  # one that was there is left as it is
