"""The systemd unit in contrib/: it passes ``systemd-analyze verify`` (no warning at all), keeps the
sandboxing docs/production.md promises, and does not restart into a failure that only a person can fix."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.cli import EXIT_INVALID, EXIT_REFUSED

from .test_cli import GATEWAY

UNIT = Path(__file__).resolve().parent.parent / "contrib" / "safeguarding-gateway.service"
INSTALLED = "/opt/safeguarding-gateway/.venv/bin/gateway"


def settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_the_unit_sandboxes_the_gateway_and_runs_it_as_the_readme_says():
    s = settings()
    assert s["DynamicUser"] == ["yes"] and s["StateDirectory"] == ["safeguarding-gateway"]  # a user of its own
    assert s["ProtectSystem"] == ["strict"] and s["ProtectHome"] == ["yes"] and s["NoNewPrivileges"] == ["yes"]
    assert s["CapabilityBoundingSet"] == [""] and s["UMask"] == ["0077"] and s["StateDirectoryMode"] == ["0700"]
    assert s["ExecStart"] == [f"{INSTALLED} run --config /etc/safeguarding-gateway/gateway.yaml --log-format json"]
    assert s["KillSignal"] == ["SIGTERM"]  # `gateway run` stops cleanly on it
    assert s["RestartPreventExitStatus"] == [f"{EXIT_INVALID} {EXIT_REFUSED}"]


def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian: the systemd package)")
    return tool


def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    tool = analyze()
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(INSTALLED, GATEWAY))  # where this checkout's gateway is
    r = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and UNIT.name not in r.stdout + r.stderr, r.stdout + r.stderr
    # the check can fail: a misspelt key or a bad value is reported
    bad = tmp_path / "bad.service"
    bad.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=sometimes"))
    r = subprocess.run([tool, "verify", str(bad)], capture_output=True, text=True, timeout=120)
    assert "protect system value" in r.stdout + r.stderr


def test_its_exposure_is_low(tmp_path):
    tool = analyze()
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(INSTALLED, GATEWAY))
    r = subprocess.run([tool, "security", "--offline=yes", str(unit)], capture_output=True, text=True, timeout=120)
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout).group(1))
    assert level <= 2.0, r.stdout[-2000:]
