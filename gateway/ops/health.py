"""The optional HTTP listener for operators: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

Set in the config (``http: {listen: 127.0.0.1:9464}``; loopback unless the operator says otherwise).
``/healthz`` answers 200 while the process serves requests (alive); ``/readyz`` answers 200 only when
every network is connected and reading and the event log takes writes, else 503, with a JSON body
saying which part is not. Nothing served here names a person or quotes a message.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

from aiohttp import web

from .metrics import CONTENT_TYPE, Metrics

__all__ = ["HealthServer"]

log = logging.getLogger("gateway.http")

RECENT_WRITE_FAILURE = 300.0  # an event-log write that failed this recently makes the gateway not ready


class HealthServer:
    """``networks``: network -> a callable giving its adapter's health; ``log_writable``: whether the
    event log takes a write now; ``last_log_failure``: when a write last failed (the runner's clock)."""

    def __init__(self, host: str, port: int, metrics: Metrics, networks: dict[str, Callable[[], dict]],
                 log_writable: Callable[[], bool], last_log_failure: Callable[[], float | None],
                 clock: Callable[[], float]):
        self.host, self.port = host, port
        self.metrics, self.networks = metrics, networks
        self.log_writable, self.last_log_failure, self.clock = log_writable, last_log_failure, clock
        self._runner: web.AppRunner | None = None

    def readiness(self) -> tuple[bool, dict]:
        nets = {name: health() for name, health in sorted(self.networks.items())}
        failed_at = self.last_log_failure()
        recent = failed_at is not None and self.clock() - failed_at < RECENT_WRITE_FAILURE
        writable = self.log_writable() and not recent
        ready = writable and all(n.get("ready") for n in nets.values())
        return ready, {"status": "ready" if ready else "not ready",
                       "networks": {k: {key: (round(v, 3) if isinstance(v, float) else v) for key, v in n.items()}
                                    for k, n in nets.items()},
                       "event_log": {"writable": writable, "recent_write_failure": recent}}

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, request: web.Request) -> web.Response:
        ready, body = self.readiness()
        return web.Response(text=json.dumps(body), status=200 if ready else 503, content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # an ephemeral port (tests): the one the system gave
            self.port = self._runner.addresses[0][1]
        log.info("serving /metrics, /healthz and /readyz on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
