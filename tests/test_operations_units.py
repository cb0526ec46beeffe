"""Operations pieces that need no server: when the digest is due and what it says, the metrics derived
from records (and the names they never carry), the HTTP listener's config, JSON logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest

from gateway.core import actions as A
from gateway.cli import JsonLogFormatter
from gateway.config.config_file import load_config
from gateway.core.digest import last_due
from gateway.ops.digest_text import digest_text
from gateway.core.events import Tick
from gateway.ops.insight import CaseView, Trouble
from gateway.ops.metrics import Metrics
from gateway.yamlfiles.located import ConfigErrors

from .conftest import CONFIG, GOOD, MODS, NET, ROOM

MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc).timestamp()


def test_last_due_is_the_latest_weekday_and_hour_at_or_before_now():
    assert last_due(MONDAY_9, 0, 9) == MONDAY_9
    assert last_due(MONDAY_9 - 1, 0, 9) == MONDAY_9 - 7 * 86400
    assert last_due(MONDAY_9 + 3 * 86400, 0, 9) == MONDAY_9
    assert last_due(MONDAY_9 + 3 * 86400, 3, 9) == MONDAY_9 + 3 * 86400  # Thursday


def test_the_digest_is_due_once_a_week_and_not_when_a_day_late(engine):
    def digests(ts):
        return [a for a in engine.handle(Tick(NET, ts)) if isinstance(a, A.PostDigest)]

    assert digests(MONDAY_9 - 60) == []
    first = digests(MONDAY_9 + 60)
    assert len(first) == 1 and first[0].room == MODS and first[0].rooms == ((NET, ROOM),)
    assert first[0].until == MONDAY_9
    assert digests(MONDAY_9 + 3600) == []  # once
    assert digests(MONDAY_9 + 7 * 86400 + 2 * 86400) == []  # the gateway was down all that Monday
    assert len(digests(MONDAY_9 + 14 * 86400 + 5)) == 1
    # read back from the event log after a restart: a digest written that week is not sent again
    engine.digest_sent[(NET, MODS)] = MONDAY_9 + 21 * 86400 - 3600
    assert digests(MONDAY_9 + 21 * 86400 + 5) == []


def test_a_policy_can_switch_the_digest_off(write, tmp_path):
    write("policies/peer.yaml", GOOD + "digest:\n  enabled: false\n")
    cfg = load_config(write("gateway.yaml", "policy_dir: policies\n" + CONFIG.lstrip("\n")))
    from gateway.config.config_file import build_engine

    engine = build_engine(cfg)
    assert not [a for a in engine.handle(Tick(NET, MONDAY_9 + 60)) if isinstance(a, A.PostDigest)]
    write("policies/peer.yaml", GOOD + "digest:\n  day: funday\n  hour: 25\n")
    with pytest.raises(ConfigErrors) as err:
        load_config(write("gateway.yaml", "policy_dir: policies\n" + CONFIG.lstrip("\n")))
    text = "\n".join(str(e) for e in err.value.errors)
    assert "digest.day" in text and "monday" in text and "digest.hour" in text


def view(case, tier, *, acked=None, closed=False, reminded=False, dm="sent", removal="none"):
    v = CaseView(case, NET, ROOM, "p_0123456789abcdef", tier, "closed" if closed else "alerted", MONDAY_9 - 86400,
                 dm=dm, removal=removal)
    v.acked = None if acked is None else v.opened + acked
    v.reminded = v.opened + 86400 if reminded else None
    return v


def test_the_digest_says_figures_and_case_ids_only():
    week = [view("case1", "imminent", acked=600, removal="done"), view("case2", "high", acked=1800, reminded=True),
            view("case3", "concern", dm="failed")]
    t = Trouble({"private messages not delivered": 1}, {"private messages not delivered": {"M_FORBIDDEN"}})
    text = digest_text(week, [week[1], week[2]], t, until=MONDAY_9, room_names=["Peer support"],
                       networks_down=["irc"])
    assert text.startswith("Weekly safety digest for Peer support: Mon 16 Nov 09:00 to Mon 23 Nov 09:00 UTC.")
    assert "- Cases: 3 (1 concern, 1 high, 1 imminent); private messages sent 2, not delivered 1; removals 1." in text
    assert "- Median time to acknowledge: 20 min (2 of 3 acknowledged)." in text
    assert "- Open follow-ups: case2 (overdue), case3." in text
    assert "1 private messages not delivered (M_FORBIDDEN); network irc is not connected now." in text
    assert "p_" not in text and "@" not in text
    quiet = digest_text([], [], Trouble(), until=MONDAY_9, room_names=["Peer support"], networks_down=[])
    assert "- Cases: 0;" in quiet and "Open follow-ups: none." in quiet and "Network trouble: none." in quiet


def test_the_digest_counts_talk_requests_and_cases_about_someone_else_as_what_they_are():
    """A talk request (opened at concern) and a case about someone the writer knows are not risk cases of
    that tier: the moderators read them as their own kinds."""
    week = [view("case1", "high"), view("case2", "concern"), view("case3", "concern"), view("case4", "high")]
    week[1].kind, week[2].kind, week[3].kind = "talk", "talk", "thirdparty"
    text = digest_text(week, [], Trouble(), until=MONDAY_9, room_names=["Peer support"], networks_down=[])
    assert "- Cases: 4 (1 high, 2 asked to talk, 1 about someone they know);" in text
    from gateway.policy.loader import PolicyLoader

    german = digest_text(week, [], Trouble(), until=MONDAY_9, room_names=["Raum"], networks_down=[],
                         words=PolicyLoader().load("default-de").words)
    assert "(1 hoch, 2× möchte reden, 1× über eine bekannte Person)" in german


def test_metrics_follow_the_records_and_never_carry_a_person():
    m = Metrics({(NET, ROOM): "Peer support"}, {NET: lambda: {"ready": True, "sync_lag_seconds": 1.5}})
    t = 1000.0
    m.recorded(A.OpenCase(1, NET, room=ROOM, user="@kit:test", tier="imminent", rules=("r",), case="c1"), t)
    for kind, dt_ in (("dm_sent", 0.4), ("removed", 0.9), ("alerted", 1.2), ("alerted", 900), ("acked", 600)):
        m.recorded(A.RecordEvent(2, NET, kind=kind, room=ROOM, user="@kit:test", case="c1"), t + dt_)
    m.recorded(A.RecordEvent(3, NET, kind="undecryptable", room=ROOM), t)
    m.write_failed()
    out = m.exposition().decode()
    assert 'gateway_cases_total{kind="risk",network="test",room="Peer support",tier="imminent"} 1.0' in out
    assert 'gateway_alerts_total{network="test",outcome="sent",room="Peer support"} 2.0' in out
    assert 'gateway_seconds_to_alert_count{network="test",tier="imminent"} 1.0' in out  # the first alert only
    assert 'gateway_seconds_to_alert_sum{network="test",tier="imminent"} 1.2' in out
    assert re.search(r'gateway_seconds_to_removal_sum\{network="test",tier="imminent"\} 0\.(9|8999)', out)
    assert 'gateway_seconds_to_acknowledgement_sum{network="test",tier="imminent"} 600.0' in out
    assert 'gateway_undecryptable_messages_total{network="test",room="Peer support"} 1.0' in out
    assert "gateway_event_log_write_errors_total 1.0" in out
    assert 'gateway_network_connected{network="test"} 1.0' in out
    assert 'gateway_matrix_sync_lag_seconds{network="test"} 1.5' in out
    assert "@kit" not in out and "kit" not in out and "p_" not in out


def test_the_http_listener_is_optional_and_loopback_by_default(write):
    write("policies/peer.yaml", GOOD)

    def config(extra: str):
        return load_config(write("gateway.yaml", "policy_dir: policies\n" + CONFIG.lstrip("\n") + extra))

    assert config("").http is None
    assert config("http: true\n").http == ("127.0.0.1", 9464)
    assert config("http: {listen: '[::1]:9100'}\n").http == ("::1", 9100)
    with pytest.raises(ConfigErrors) as err:
        config("http: {listen: 9464}\n")
    assert "HOST:PORT" in str(err.value.errors[0])


def test_json_logs_are_one_object_per_line():
    record = logging.LogRecord("gateway.runner", logging.WARNING, __file__, 1, "%s refused on %s: %s",
                               ("SendPrivate", "mx", "M_FORBIDDEN"), None)
    line = JsonLogFormatter().format(record)
    assert "\n" not in line
    out = json.loads(line)
    assert out["level"] == "WARNING" and out["logger"] == "gateway.runner"
    assert out["message"] == "SendPrivate refused on mx: M_FORBIDDEN" and out["ts"].endswith("Z")


def test_readiness_needs_every_network_and_a_writable_event_log():
    from gateway.ops.health import HealthServer

    state = {"irc": True, "writable": True, "failed_at": None}
    server = HealthServer("127.0.0.1", 0, Metrics(), {"mx": lambda: {"ready": True, "sync_lag_seconds": 2.0},
                                                      "irc": lambda: {"ready": state["irc"], "reconnects": 1}},
                          log_writable=lambda: state["writable"], last_log_failure=lambda: state["failed_at"],
                          clock=lambda: 10_000.0)
    ready, body = server.readiness()
    assert ready and body["networks"]["mx"] == {"ready": True, "sync_lag_seconds": 2.0}
    state["irc"] = False
    ready, body = server.readiness()
    assert not ready and body["networks"]["irc"]["ready"] is False and body["status"] == "not ready"
    state.update(irc=True, failed_at=10_000.0 - 60)  # an event-log write failed a minute ago
    ready, body = server.readiness()
    assert not ready and body["event_log"] == {"writable": False, "recent_write_failure": True}
    state.update(failed_at=None, writable=False)
    assert server.readiness()[0] is False


def test_the_event_log_says_whether_it_takes_writes(tmp_path):
    import os
    import sqlite3

    from gateway.store.eventlog import EventLog

    log = EventLog(tmp_path / "gateway.db")
    try:
        assert log.writable()
        os.chmod(tmp_path / "gateway.db", 0o400)
        reopened = EventLog.__new__(EventLog)  # (a read-only file, as a full or remounted disk makes it)
        reopened.path = tmp_path / "gateway.db"
        reopened.db = sqlite3.connect(f"file:{reopened.path}?mode=ro", uri=True, isolation_level=None)
        assert not reopened.writable()
        reopened.db.close()
    finally:
        os.chmod(tmp_path / "gateway.db", 0o600)
        log.close()
