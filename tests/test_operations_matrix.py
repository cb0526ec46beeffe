"""Operations on a real Synapse: an admin scrapes /metrics, /healthz and /readyz from a running gateway
and sees a case happen; no message text, user id or pseudonym ever reaches them."""

from __future__ import annotations

import asyncio
import re
import subprocess

import aiohttp

from .matrix_world import make_world
from .test_cli import GATEWAY

# a person's keyed pseudonym (gateway/store/eventlog.py: "p_" and 16 hex digits); a bare "p_" also occurs in
# Synapse's random room ids, which the digest and the metrics name on purpose
PSEUDONYM = re.compile(r"(?<![A-Za-z0-9])p_[0-9a-f]{16}")

MARK = "CANARYops5d1"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 if absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if m is None or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return 0.0


async def test_an_admin_sees_a_case_happen_in_metrics_and_readiness(homeserver, tmp_path):
    world = await make_world(homeserver, tmp_path)
    world.config_path.write_text(world.config_path.read_text() + "http:\n  listen: 127.0.0.1:0\n")
    kit, mod, bot = world.people["kit"], world.mod, world.bot.user_id
    try:
        gw = await world.start_gateway()
        base = f"http://127.0.0.1:{gw.http.port}"
        async with aiohttp.ClientSession() as http:
            async def get(path):
                async with http.get(base + path) as resp:
                    return resp.status, await resp.text()

            status, body = await get("/healthz")
            assert status == 200 and '"alive"' in body
            status, body = await get("/readyz")
            assert status == 200, body
            assert '"mx": {"ready": true' in body and '"writable": true' in body
            _, before = await get("/metrics")
            room = world.group
            assert sample(before, "gateway_cases_total", network="mx", room=room, tier="imminent") == 0
            assert sample(before, "gateway_network_connected", network="mx") == 1

            await kit.say(world.group, f"i took all my pills {MARK}")
            await mod.wait_for("the alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                     if kit.id in m["content"]["body"]])
            _, after = await get("/metrics")
            assert sample(after, "gateway_messages_screened_total", network="mx", room=room) >= 1
            assert sample(after, "gateway_cases_total", network="mx", room=room, tier="imminent") == 1
            assert sample(after, "gateway_private_messages_total", network="mx", room=room, outcome="sent") == 1
            assert sample(after, "gateway_removals_total", network="mx", room=room, outcome="done") == 1
            assert sample(after, "gateway_alerts_total", network="mx", room=room, outcome="sent") == 1
            for hist in ("gateway_seconds_to_private_message", "gateway_seconds_to_removal", "gateway_seconds_to_alert"):
                assert sample(after, hist + "_count", network="mx", tier="imminent") == 1, hist
                assert 0 < sample(after, hist + "_sum", network="mx", tier="imminent") < 30, hist
            assert sample(after, "gateway_screening_seconds_count", network="mx") >= 1
            assert 0 <= sample(after, "gateway_matrix_sync_lag_seconds", network="mx") < 60
            # the canary: nothing about the person, nothing they wrote
            for secret in (MARK, kit.id, mod.id, "@"):
                assert secret not in after, secret
            assert not PSEUDONYM.search(after)

            # the report a moderator would open now, from the same event log: the case, nobody's words
            page = tmp_path / "report.html"
            r = subprocess.run([GATEWAY, "report", "--config", str(world.config_path), "-o", str(page)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0 and "1 case(s)" in r.stdout, r.stderr
            text = page.read_text()
            assert "1 imminent" in text and MARK not in text and "@" not in text

            # the homeserver stops answering (every sync hangs) and an hour passes: readiness says so,
            # while the process is still alive
            async def hung(**kwargs):
                await asyncio.Event().wait()

            gw.adapter._sync = hung
            await asyncio.sleep(1.5)  # the sync in flight (500 ms in tests) comes back one last time
            gw.adapter.last_sync -= 3600
            status, body = await get("/readyz")
            assert status == 503 and '"mx": {"ready": false' in body
            status, _ = await get("/healthz")
            assert status == 200
    finally:
        await world.gateway.stop()
        for p in [mod, *world.people.values()]:
            await p.close()


async def test_the_weekly_digest_reaches_the_moderators_once_with_figures_not_names(homeserver, tmp_path):
    """Due at the next full hour (the policy sets day and hour), the digest goes to the moderators' room
    with the week's cases, time to acknowledge, open follow-ups by case id and trouble; a restart does
    not send it again; it names nobody and quotes nothing."""
    import datetime as dt

    from gateway.core.events import Tick
    from gateway.policy.model import WEEKDAYS

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    world = await make_world(homeserver, tmp_path, policy_extra=f"digest:\n  day: {WEEKDAYS[later.weekday()]}\n"
                                                                f"  hour: {later.hour}\n")
    kit, mod, bot = world.people["kit"], world.mod, world.bot.user_id
    try:
        gw = await world.start_gateway()
        await kit.say(world.group, f"i took all my pills {MARK}")
        alert = (await mod.wait_for("the alert", lambda: [m for m in mod.messages(world.mods_room, bot)
                                                          if kit.id in m["content"]["body"]]))[0]
        case = re.search(r"Case (\w+):", alert["content"]["body"]).group(1)

        def digests():
            return [m["content"]["body"] for m in mod.messages(world.mods_room, bot)
                    if m["content"]["body"].startswith("Weekly safety digest")]
        await mod.say(world.mods_room, f"!ack {case}")
        await mod.wait_for("the ack", lambda: [m for m in mod.messages(world.mods_room, bot)
                                               if "acknowledged" in m["content"]["body"].lower()])
        assert not digests()
        await gw.runner.handle(Tick("", later.timestamp()))  # the hour has come
        body = (await mod.wait_for("the digest", digests))[0]
        assert "- Cases: 1 (1 imminent); private messages sent 1, not delivered 0; removals 1." in body
        assert "(1 of 1 acknowledged)" in body and f"Open follow-ups: {case}." in body
        assert "Network trouble: none" in body
        for secret in (MARK, kit.id, "@"):
            assert secret not in body, secret
        assert not PSEUDONYM.search(body), body
        assert [r["kind"] for r in gw.log.rows()].count("digest_sent") == 1

        await gw.stop()
        world.gateway = None
        gw = await world.start_gateway()
        await gw.runner.handle(Tick("", later.timestamp() + 60))
        await gw.runner.idle()
        for _ in range(3):
            await mod.sync()
        assert len(digests()) == 1  # not sent twice in a week
    finally:
        if world.gateway is not None:
            await world.gateway.stop()
        for p in [mod, *world.people.values()]:
            await p.close()
