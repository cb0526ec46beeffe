"""Live counters for operators: what the gateway screened and did, how fast, and how its networks are.

The runner reports every record it writes (the same rows the event log keeps) and every batch of
messages it screened; the metrics are derived from those, so a figure here and a row in the event log
never disagree. Labels are the network, the room (its configured name or alias, or id: a room, never a
person), the tier and the outcome. Never user ids, pseudonyms or text: a record's ``user`` is not read.

Exposed in Prometheus' text format by ``gateway/ops/health.py`` (``/metrics``); the network gauges are read
from the adapters at scrape time.
"""

from __future__ import annotations

import time
from collections import Counter as Counter_, OrderedDict
from typing import Any, Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..core import actions as A
from ..core.events import Message

__all__ = ["Metrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds from the at-risk message to the private message, removal and alert: most within a second,
# a slow or rate-limited server up to minutes.
FLOW_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)
ACK_BUCKETS = (60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400)
SCREEN_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1)
OUTCOMES = {  # record kind -> (counter, outcome label)
    "dm_sent": ("private_messages", "sent"), "dm_failed": ("private_messages", "failed"),
    "dm_skipped": ("private_messages", "skipped"),
    "removed": ("removals", "done"), "removal_failed": ("removals", "failed"),
    "alerted": ("alerts", "sent"), "alert_failed": ("alerts", "failed"),
    "alert_repeated": ("alerts", "repeated"), "alert_widened": ("alerts", "widened"),
}
OPEN_CASES_KEPT = 10_000  # cases whose times are still being measured (the oldest are let go)


class Metrics:
    """``room_labels``: (network, room) -> the label to show; ``health``: network -> a callable giving
    the adapter's health (see ``Adapter.health``)."""

    def __init__(self, room_labels: Mapping[tuple[str, str], str] | None = None,
                 health: Mapping[str, Callable[[], dict]] | None = None, clock: Callable[[], float] = time.time):
        self.room_labels = dict(room_labels or {})
        self.health = dict(health or {})
        self.clock = clock
        self.registry = r = CollectorRegistry()
        self.screened = Counter("gateway_messages_screened", "Messages screened for risk", ["network", "room"],
                                registry=r)
        self.screening = Histogram("gateway_screening_seconds", "Detection and decision time per message "
                                   "(the average of each batch read together)",
                                   ["network"], buckets=SCREEN_BUCKETS, registry=r)
        self.cases = Counter("gateway_cases", "Cases opened (kind: risk, talk, thirdparty)",
                             ["network", "room", "tier", "kind"], registry=r)
        self.case_updates = Counter("gateway_case_updates", "Requests and detections that joined an open case "
                                    "(change: talk, raised, again, lower, risk)", ["network", "room", "change"], registry=r)
        self.talk_requests = Counter("gateway_talk_requests", "People who asked to talk to a moderator "
                                     "(outcome: opened a case, or joined their open one)",
                                     ["network", "room", "outcome"], registry=r)
        self.private_messages = Counter("gateway_private_messages", "Crisis and check-in messages to people",
                                        ["network", "room", "outcome"], registry=r)
        self.removals = Counter("gateway_removals", "Removals from group rooms", ["network", "room", "outcome"],
                                registry=r)
        self.alerts = Counter("gateway_alerts", "Alerts to moderators", ["network", "room", "outcome"], registry=r)
        self.acknowledgements = Counter("gateway_acknowledgements", "Cases a moderator acknowledged",
                                        ["network", "room"], registry=r)
        self.closed = Counter("gateway_cases_closed", "Cases a moderator closed", ["network", "room", "outcome"],
                              registry=r)
        self.undecryptable = Counter("gateway_undecryptable_messages", "Encrypted messages the bot could not read",
                                     ["network", "room"], registry=r)
        self.no_rules_language = Counter("gateway_messages_without_rules", "Messages in a language with no shipped "
                                         "rules (language: a code such as it, or a script such as cyrillic)",
                                         ["network", "room", "language"], registry=r)
        self.log_write_errors = Counter("gateway_event_log_write_errors", "Event-log writes that failed",
                                        registry=r)
        self.to_private_message = Histogram("gateway_seconds_to_private_message",
                                            "From the at-risk message to the private message accepted",
                                            ["network", "tier"], buckets=FLOW_BUCKETS, registry=r)
        self.to_removal = Histogram("gateway_seconds_to_removal", "From the at-risk message to the removal",
                                    ["network", "tier"], buckets=FLOW_BUCKETS, registry=r)
        self.to_alert = Histogram("gateway_seconds_to_alert", "From the at-risk message to the first alert",
                                  ["network", "tier"], buckets=FLOW_BUCKETS, registry=r)
        self.to_ack = Histogram("gateway_seconds_to_acknowledgement", "From the at-risk message to a moderator's ack",
                                ["network", "tier"], buckets=ACK_BUCKETS, registry=r)
        r.register(_NetworkCollector(self))
        self._open: OrderedDict[str, tuple[float, str, bool]] = OrderedDict()  # case -> (opened, tier, alerted)
        self._screened: dict[tuple[str, str | None], Any] = {}  # (network, room) -> its counter

    def room(self, network: str, room: str | None) -> str:
        if room is None:
            return "direct"
        return self.room_labels.get((network, room), room)

    # -- what the runner reports --------------------------------------------------------------------

    def screened_batch(self, events: Iterable, seconds: float) -> None:
        """Messages screened together in ``seconds`` (a sync response, IRC lines read at once): counted
        per room, and the time per message observed once per batch (its average over the batch), so the
        metrics cost a fraction of a microsecond per message, not a histogram update each."""
        per_room: Counter_[tuple[str, str | None]] = Counter_()
        for e in events:
            if isinstance(e, Message):
                per_room[(e.network, e.room)] += 1
        if not per_room:
            return
        for (network, room), n in per_room.items():
            child = self._screened.get((network, room))
            if child is None:
                child = self._screened[(network, room)] = self.screened.labels(network, self.room(network, room))
            child.inc(n)
        total = sum(per_room.values())
        for network in {net for net, _ in per_room}:
            self.screening.labels(network).observe(seconds / total)

    def recorded(self, action: A.Action, ts: float) -> None:
        """A row for the event log (written or not: what happened, happened)."""
        if isinstance(action, A.OpenCase):
            self.cases.labels(action.network, self.room(action.network, action.room), action.tier, action.kind).inc()
            self._open[action.case] = (ts, action.tier, False)
            while len(self._open) > OPEN_CASES_KEPT:
                self._open.popitem(last=False)
            return
        if not isinstance(action, A.RecordEvent):
            return
        net, room, kind = action.network, self.room(action.network, action.room), action.kind
        if kind in OUTCOMES:
            counter, outcome = OUTCOMES[kind]
            getattr(self, counter).labels(net, room, outcome).inc()
        elif kind == "acked":
            self.acknowledgements.labels(net, room).inc()
        elif kind == "closed":
            self.closed.labels(net, room, action.outcome or "closed").inc()
        elif kind == "undecryptable":
            self.undecryptable.labels(net, room).inc()
        elif kind == "no_rules_language":
            self.no_rules_language.labels(net, room, action.code or "unknown").inc()
        elif kind == "case_updated":
            self.case_updates.labels(net, room, action.outcome or "other").inc()
        elif kind == "talk_requested":
            self.talk_requests.labels(net, room, action.outcome or "opened").inc()
        opened = self._open.get(action.case) if action.case else None
        if opened is None:
            return
        since, tier, alerted = opened
        elapsed = max(ts - since, 0.0)
        if kind == "dm_sent":
            self.to_private_message.labels(net, tier).observe(elapsed)
        elif kind == "removed":
            self.to_removal.labels(net, tier).observe(elapsed)
        elif kind == "alerted" and not alerted:
            self.to_alert.labels(net, tier).observe(elapsed)
            self._open[action.case] = (since, tier, True)
        elif kind == "acked":
            self.to_ack.labels(net, tier).observe(elapsed)
        elif kind == "closed":
            self._open.pop(action.case, None)

    def write_failed(self) -> None:
        self.log_write_errors.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _NetworkCollector:
    """The adapters' own state, read when Prometheus scrapes: connected, sync lag, reconnects."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self):
        connected = GaugeMetricFamily("gateway_network_connected", "1 if the network is connected and synced",
                                      labels=["network"])
        lag = GaugeMetricFamily("gateway_matrix_sync_lag_seconds", "Seconds since the last successful sync",
                                labels=["network"])
        reconnects = CounterMetricFamily("gateway_irc_reconnects", "Reconnections to the IRC server",
                                         labels=["network"])
        for network, health in sorted(self.metrics.health.items()):
            h = health()
            connected.add_metric([network], 1.0 if h.get("ready") else 0.0)
            if h.get("sync_lag_seconds") is not None:
                lag.add_metric([network], h["sync_lag_seconds"])
            if h.get("reconnects") is not None:
                reconnects.add_metric([network], h["reconnects"])
        yield connected
        yield lag
        yield reconnects
