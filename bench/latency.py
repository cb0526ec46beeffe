"""Reaction latency on a real Synapse on loopback, beside the floor of the same calls made back to back.

Run: ``.venv/bin/python bench/latency.py [INCIDENTS]`` (default 50; needs the test extra for Synapse).
Times come from the homeserver's own ``origin_server_ts``: from the at-risk message being accepted to
(a) the crisis message, (b) the person's membership becoming ``leave``, (c) the moderators' alert.
The floor: a bare nio client making the same requests back to back (create the direct room with the
invite, write m.direct, send the message, kick, send the alert), timed the same way. Each incident
starts on a quiet server (0.5 s apart), and nothing polls the server while the gateway works: the
benchmark waits inside the gateway's process for the alert to be accepted, then reads the timestamps.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nio import AsyncClient, RoomPreset  # noqa: E402

from gateway.demo.homeserver import Homeserver, Person  # noqa: E402
from gateway.service import Service  # noqa: E402


# The default policy with the raid limits lifted: the benchmark's incidents are independent people.
BENCH_POLICY = """extends: default
name: bench
limits:
  cases_per_room: 100000
  private_messages_per_room: 100000
"""

def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def member_leave_ts(client: AsyncClient, room: str, user: str) -> int:
    for _ in range(200):
        resp = await client.room_messages(room, start="", limit=100, direction="b")
        for ev in getattr(resp, "chunk", []):
            src = ev.source
            if src.get("type") == "m.room.member" and src.get("state_key") == user \
                    and src["content"].get("membership") == "leave":
                return src["origin_server_ts"]
        await asyncio.sleep(0.05)
    raise TimeoutError("no leave")


async def mod_view(adapter, room: str, event_id: str) -> int:
    """The homeserver's timestamp of an event the gateway sent (read once the incident is over)."""
    got = await adapter.client.room_get_event(room, event_id)
    return got.event.source["origin_server_ts"]


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        hs = Homeserver(tmp / "synapse").start()
        try:
            bot = hs.register("bot", "botpassword")
            mod = Person(hs, "mod")
            power = {"users": {bot.user_id: 100}}
            group = (await mod.client.room_create(preset=RoomPreset.public_chat, invite=[bot.user_id],
                                                  power_level_override=power)).room_id
            mods = (await mod.client.room_create(invite=[bot.user_id], power_level_override=power)).room_id
            people = [Person(hs, f"p{i}") for i in range(n)]
            floor_people = [Person(hs, f"f{i}") for i in range(n)]
            for p in people + floor_people:
                await p.client.join(group)
            os.environ["BENCH_BOT_PW"] = "botpassword"
            # Incidents here are independent people, one after another: not a raid (policy ``limits``).
            (tmp / "policies").mkdir(exist_ok=True)
            (tmp / "policies" / "bench.yaml").write_text(BENCH_POLICY)
            (tmp / "gateway.yaml").write_text(textwrap.dedent(f"""
                event_log: data/gateway.db
                policy_dir: policies
                limits: {{cases: 1000000, private_messages: 1000000}}
                networks:
                  mx: {{type: matrix, homeserver: "{hs.url}", user_id: "{bot.user_id}", password_env: BENCH_BOT_PW}}
                rooms:
                  - {{network: mx, room: "{group}", policy: bench, region: GB, moderators_room: "{mods}"}}
            """))
            service = Service(tmp / "gateway.yaml")
            await service.start()
            # where the time goes: when the message reaches the core, when each request starts
            marks: dict[str, list[float]] = {"message in": [], "dm": [], "remove": [], "alert": []}
            handle = service.runner.handle

            async def timed_handle(event):
                if type(event).__name__ == "Message" and event.room == group:
                    marks["message in"].append(time.time() * 1000)
                await handle(event)

            service.runner.handle = timed_handle
            adapter = next(iter(service.adapters.values()))
            results: dict[str, str] = {}  # what each step returned (event ids), for the timestamps
            done = asyncio.Event()
            for name, key in (("send_private", "dm"), ("remove_from_room", "remove"), ("alert_moderators", "alert")):
                def wrap(original, key=key):
                    async def timed(*a, **k):
                        marks[key].append(time.time() * 1000)
                        results[key] = await original(*a, **k)
                        if key == "alert":
                            done.set()
                        return results[key]
                    return timed
                setattr(adapter, name, wrap(getattr(adapter, name)))
            sent_all: list[int] = []
            gw = {"dm": [], "leave": [], "alert": []}
            for p in people:
                await asyncio.sleep(0.5)  # incidents are rare: each starts on a quiet server, as the floor's do
                done.clear()
                t0 = await p.say(group, "i took all my pills")
                # wait inside the process for the alert to be accepted: polling the server while the
                # gateway works would slow the homeserver it is racing (the floor is not polled either)
                await asyncio.wait_for(done.wait(), 60)
                sent = (await p.client.room_get_event(group, t0)).event.source["origin_server_ts"]
                sent_all.append(sent)
                dm_room = adapter.direct[p.id][-1]
                dm_ts = (await mod_view(adapter, dm_room, results["dm"]))
                alert_ts = (await mod_view(adapter, mods, results["alert"]))
                leave_ts = await member_leave_ts(mod.client, group, p.id)
                await p.sync()
                assert dm_room in p.invites  # the person was invited to the DM room (they see it)
                gw["dm"].append(dm_ts - sent)
                gw["leave"].append(leave_ts - sent)
                gw["alert"].append(alert_ts - sent)
            await service.stop()

            # the floor: the same requests back to back from a bare client
            bare = AsyncClient(hs.url, bot.user_id)
            await bare.login("botpassword")
            floor = {"dm": [], "leave": [], "alert": []}
            direct: dict = {}
            for p in floor_people:
                await asyncio.sleep(0.5)
                start = time.time() * 1000
                room = (await bare.room_create(is_direct=True, invite=[p.id],
                                               preset=RoomPreset.trusted_private_chat)).room_id
                direct[p.id] = [room]
                await bare.send("PUT", f"/_matrix/client/v3/user/{bot.user_id}/account_data/m.direct",
                                json.dumps(direct), headers={"Authorization": f"Bearer {bare.access_token}"})
                dm = await bare.room_send(room, "m.room.message", {"msgtype": "m.text", "body": "x"})
                await bare.room_kick(group, p.id, "reason")
                alert = await bare.room_send(mods, "m.room.message", {"msgtype": "m.text", "body": "y"})
                dm_ts = (await bare.room_get_event(room, dm.event_id)).event.source["origin_server_ts"]
                alert_ts = (await bare.room_get_event(mods, alert.event_id)).event.source["origin_server_ts"]
                leave_ts = await member_leave_ts(bare, group, p.id)
                floor["dm"].append(dm_ts - start)
                floor["leave"].append(leave_ts - start)
                floor["alert"].append(alert_ts - start)
            await bare.close()
            n_marked = min(len(v) for v in marks.values())
            med = lambda xs: pct(xs, 50)  # noqa: E731
            print(f"where the gateway's time goes (median over {n_marked} incidents, ms):")
            print(f"  message accepted -> in the core (sync delivery)  "
                  f"{med([m - s for m, s in zip(marks['message in'], sent_all)]):6.0f}")
            print(f"  in the core -> DM request starts (detect, journal) "
                  f"{med([d - m for d, m in zip(marks['dm'], marks['message in'])]):6.0f}")
            print(f"  DM request starts -> DM accepted (create room, m.direct, send) "
                  f"{med([g - (d - s) for g, d, s in zip(gw['dm'], marks['dm'], sent_all)]):6.0f}")
            print(f"  DM accepted -> removal request starts (outcome recorded) "
                  f"{med([r - s - g for r, s, g in zip(marks['remove'], sent_all, gw['dm'])]):6.0f}")
            print(f"  removal accepted -> alert request starts "
                  f"{med([a - s - g for a, s, g in zip(marks['alert'], sent_all, gw['leave'])]):6.0f}")
            print(f"{n} incidents, real Synapse on loopback; milliseconds from the at-risk message accepted")
            print(f"{'':8s} {'gateway p50':>12s} {'gateway p95':>12s} {'floor p50':>10s} {'floor p95':>10s} {'p95 ratio':>10s}")
            for k, label in (("dm", "DM"), ("leave", "removal"), ("alert", "alert")):
                g50, g95, f50, f95 = pct(gw[k], 50), pct(gw[k], 95), pct(floor[k], 50), pct(floor[k], 95)
                print(f"{label:8s} {g50:12.0f} {g95:12.0f} {f50:10.0f} {f95:10.0f} {g95 / f95:10.2f}")
            for p in [mod, *people, *floor_people]:
                await p.close()
        finally:
            hs.stop()


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
