"""Scale: one gateway in 1,000 Matrix rooms and 200 IRC channels under the highest load the servers take.

Run: ``.venv/bin/python bench/scale.py [--rooms 1000] [--channels 200] [--seconds 60]`` (needs the
test extra for Synapse and ngircd from Debian; set-up takes several minutes, most of it Synapse
creating rooms and the gateway joining and pinning guidelines in each).

What it does, all on loopback on this machine:
1. a real Synapse (SQLite) and a real ngircd; ``--rooms`` public rooms made by poster accounts (the
   bot gets power 100), a moderators' room, ``--channels`` IRC channels and ``#mods``;
2. the real gateway as its own process (``gateway run``, shipped default policy) joins them all;
3. Synapse's capacity is measured first (20 s closed loop, ``--matrix-senders`` requests in flight);
   then in load windows of ``--seconds`` each, poster clients send ordinary chat (Matrix: 75% of that
   capacity, offered open loop, so the homeserver sustains it instead of queueing without end, or as
   ``--matrix-rate`` says; IRC: 20 clients at each rate of ``--irc-rates``, the last ``max``: as fast
   as ngircd reads) while every 2 s a fresh person posts an at-risk message, alternating networks;
4. each case must show, within 2 s of the message, the private message, the removal and the
   moderators' alert. Matrix times are the homeserver's ``origin_server_ts``; IRC times are arrival
   times at real clients in this process (so a busy load generator can only make them look later).

It prints the load sustained, cases on time / late / missed with their latency, and the gateway
process's CPU time and memory (peak resident set, from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.matchers import messages  # noqa: E402
from gateway.demo.homeserver import Homeserver  # noqa: E402
from tests.ircd import Ngircd  # noqa: E402

RISK_TEXT = "i took all my pills"
LATE_MS = 2000


# -- Matrix over plain HTTP (the load generator must be cheaper than what it measures) ----------------

class Http:
    def __init__(self, url: str, session: aiohttp.ClientSession):
        self.url, self.session = url, session
        self.txn = itertools.count()

    async def call(self, method: str, path: str, token: str, body: dict | None = None) -> dict:
        for _ in range(20):
            async with self.session.request(method, self.url + path, json=body,
                                            headers={"Authorization": f"Bearer {token}"}) as resp:
                data = await resp.json(content_type=None)
                if resp.status == 429:
                    await asyncio.sleep(data.get("retry_after_ms", 500) / 1000)
                    continue
                if resp.status >= 400:
                    raise RuntimeError(f"{method} {path.split('?')[0]}: HTTP {resp.status} {data.get('errcode')}")
                return data
        raise RuntimeError("rate limited")

    async def send(self, token: str, room: str, text: str) -> str:
        path = f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/b{next(self.txn)}"
        return (await self.call("PUT", path, token, {"msgtype": "m.text", "body": text}))["event_id"]

    async def messages(self, token: str, room: str, limit: int = 500) -> list[dict]:
        path = f"/_matrix/client/v3/rooms/{quote(room)}/messages?dir=b&limit={limit}"
        return (await self.call("GET", path, token))["chunk"]


async def gather_limited(n: int, coros) -> list:
    sem = asyncio.Semaphore(n)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


# -- IRC: a bare client that timestamps what it receives ----------------------------------------------

class IrcClient:
    def __init__(self, port: int, nick: str, *, record: bool = False):
        self.port, self.nick, self.record = port, nick, record
        self.lines: list[tuple[float, str]] = []
        self.pongs = 0
        self.pong_event = asyncio.Event()

    async def connect(self) -> "IrcClient":
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.welcome = asyncio.Event()
        self.task = asyncio.create_task(self._read())
        self.send(f"NICK {self.nick}", f"USER {self.nick} 0 * :{self.nick}")
        await asyncio.wait_for(self.welcome.wait(), 30)
        return self

    async def _read(self) -> None:
        while raw := await self.reader.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("PING "):
                self.send("PONG " + line[5:])
            elif " PONG " in line:
                self.pong_event.set()
            elif " 001 " in line:
                self.welcome.set()
            if self.record:
                self.lines.append((time.monotonic(), line))

    def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{x}\r\n" for x in lines).encode())

    async def barrier(self) -> None:
        """Everything written so far was read by the server: it answers PING in order."""
        self.pong_event.clear()
        self.send("PING :b")
        await asyncio.wait_for(self.pong_event.wait(), 60)

    async def join(self, *channels: str) -> None:
        for i in range(0, len(channels), 20):
            self.send("JOIN " + ",".join(channels[i:i + 20]))
        await self.barrier()

    def first(self, *parts: str) -> float | None:
        return next((t for t, line in self.lines if all(p in line for p in parts)), None)


# -- the gateway as its own process ----------------------------------------------------------------------

def proc_stats(pid: int) -> tuple[float, int, int]:
    """CPU seconds (user + system), resident set now and at its peak, in bytes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    kb = lambda k: int(status[k].split()[0]) * 1024  # noqa: E731
    return cpu, kb("VmRSS"), kb("VmHWM")


@dataclass
class Rig:
    """Everything one load window needs: servers' accounts, rooms, clients, people still unused."""
    http: Http
    bot: object  # gateway.homeserver.User
    mod: object
    mods_room: str
    rooms: list[str]
    owners: list  # the poster who made (and posts in) each room
    channels: list[str]
    irc_mod: IrcClient
    irc_posters: list[IrcClient]
    mx_queue: object  # iterator of (person, room index), each used once
    irc_queue: object  # iterator of (IrcClient, channel index)
    chat: list[str]
    gateway_pid: int


async def matrix_capacity(args, rig: Rig, seconds: float = 20.0) -> float:
    """Messages/s Synapse accepts with ``--matrix-senders`` requests always in flight (saturated)."""
    count = 0
    stop_at = time.monotonic() + seconds

    async def worker(w: int) -> None:
        nonlocal count
        rng = random.Random(1000 + w)
        while time.monotonic() < stop_at:
            index = rng.randrange(len(rig.rooms))
            await rig.http.send(rig.owners[index].access_token, rig.rooms[index], rng.choice(rig.chat))
            count += 1

    t0 = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(args.matrix_senders)))
    return count / (time.monotonic() - t0)


async def phase(args, irc_rate, rig: Rig, matrix_rate: float | None) -> str:
    """One load window: Matrix at ``matrix_rate`` messages/s offered (``None``: closed loop with
    ``--matrix-senders`` requests in flight, saturating Synapse), IRC at ``irc_rate`` lines/s in total
    (``None``: as fast as ngircd reads them), an at-risk message every 2 s."""
    counts = {"mx": 0, "irc": 0}
    send_ms: list[float] = []  # how long Synapse took to accept each poster's message
    stop_at = time.monotonic() + args.seconds

    async def one_send(rng: random.Random) -> None:
        index = rng.randrange(len(rig.rooms))
        t = time.monotonic()
        await rig.http.send(rig.owners[index].access_token, rig.rooms[index], rng.choice(rig.chat))
        send_ms.append((time.monotonic() - t) * 1000)
        counts["mx"] += 1

    async def matrix_load(worker: int) -> None:
        rng = random.Random(worker)
        if matrix_rate is None:
            while time.monotonic() < stop_at:
                await one_send(rng)
            return
        if worker:
            return  # open loop: one scheduler, each message its own request
        in_flight: set[asyncio.Task] = set()
        next_at = time.monotonic()
        while time.monotonic() < stop_at:
            next_at += 1 / matrix_rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if len(in_flight) < 64:
                task = asyncio.create_task(one_send(rng))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight)

    async def irc_load(i: int, client: IrcClient) -> None:
        rng = random.Random(100 + i)
        mine = rig.channels[i::len(rig.irc_posters)]
        batch = 20 if irc_rate is None else max(1, round(irc_rate / len(rig.irc_posters) / 10))
        next_at = time.monotonic()
        while time.monotonic() < stop_at:
            client.send(*(f"PRIVMSG {rng.choice(mine)} :{rng.choice(rig.chat)}" for _ in range(batch)))
            await client.barrier()
            counts["irc"] += batch
            if irc_rate is not None:
                next_at += 0.1
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    mx_cases: list = []
    irc_cases: list = []

    async def incidents() -> None:
        turn = 0
        while time.monotonic() < stop_at - 2:
            await asyncio.sleep(2)
            if turn % 2 == 0:
                person, index = next(rig.mx_queue)
                event = await rig.http.send(person.access_token, rig.rooms[index], RISK_TEXT)
                mx_cases.append((person, rig.rooms[index], event))
            else:
                person, index = next(rig.irc_queue)
                person.send(f"PRIVMSG {rig.channels[index]} :{RISK_TEXT}")
                irc_cases.append((person, rig.channels[index], time.monotonic()))
            turn += 1

    cpu0, _, _ = proc_stats(rig.gateway_pid)
    t0 = time.monotonic()
    await asyncio.gather(*(matrix_load(w) for w in range(args.matrix_senders)),
                         *(irc_load(i, c) for i, c in enumerate(rig.irc_posters)), incidents())
    elapsed = time.monotonic() - t0
    await asyncio.sleep(5)  # stragglers count as late, not as missed
    cpu1, _, peak = proc_stats(rig.gateway_pid)

    latencies: list[tuple[str, float | None]] = []  # network, worst of DM / removal / alert in ms
    alerts = await rig.http.messages(rig.mod.access_token, rig.mods_room, 1000)
    for person, room, event in mx_cases:
        sent = (await rig.http.call("GET", f"/_matrix/client/v3/rooms/{quote(room)}/event/{quote(event)}",
                                person.access_token))["origin_server_ts"]
        alert = min((e["origin_server_ts"] for e in alerts if person.user_id in e["content"].get("body", "")),
                    default=None)
        history = await rig.http.messages(rig.owners[rig.rooms.index(room)].access_token, room, 200)
        leave = min((e["origin_server_ts"] for e in history if e["type"] == "m.room.member"
                     and e.get("state_key") == person.user_id and e["content"].get("membership") == "leave"),
                    default=None)
        sync = await rig.http.call("GET", "/_matrix/client/v3/sync?timeout=0", person.access_token)
        dm = None
        for dm_room in sync["rooms"].get("invite", {}):
            await rig.http.call("POST", f"/_matrix/client/v3/join/{quote(dm_room)}", person.access_token, {})
            dm = min((e["origin_server_ts"] for e in await rig.http.messages(person.access_token, dm_room)
                      if e["type"] == "m.room.message" and e["sender"] == rig.bot.user_id), default=None)
        steps = (dm, leave, alert)
        latencies.append(("Matrix", None if None in steps else max(steps) - sent))
    for person, channel, sent in irc_cases:
        steps = (person.first(" PRIVMSG ", person.nick + " :"), person.first(" KICK ", channel, person.nick),
                 rig.irc_mod.first(" PRIVMSG #mods ", person.nick))
        latencies.append(("IRC", None if None in steps else (max(steps) - sent) * 1000))

    def cases(network: str) -> str:
        got = [ms for n, ms in latencies if n == network]
        done = sorted(ms for ms in got if ms is not None)
        late = sum(ms > LATE_MS for ms in done)
        spread = f"{done[len(done) // 2]:.0f} / {done[-1]:.0f}" if done else "-"
        return f"{network} {len(got)}: {len(done) - late} on time, {late} late, {len(got) - len(done)} missed ({spread} ms)"

    send_ms.sort()
    offered = "saturating" if matrix_rate is None else f"{matrix_rate:.0f}/s"
    send_p95 = f"{send_ms[int(len(send_ms) * 0.95)]:.0f} ms" if send_ms else "-"
    line = (f"{'as fast as read' if irc_rate is None else f'{irc_rate:,}/s':>15s} | {offered} -> "
            f"{counts['mx'] / elapsed:4,.0f} (send p95 {send_p95}) | "
            f"{counts['irc'] / elapsed:7,.0f} | {cases('Matrix')}; {cases('IRC')} | "
            f"{(cpu1 - cpu0) / elapsed:4.0%} | {peak / 1e6:4.0f} MB")
    print(line, flush=True)
    return line


async def main(args: argparse.Namespace) -> None:
    rates = [None if r == "max" else int(r) for r in args.irc_rates.split(",")]
    cases_per_network = (args.seconds // 4 + 1) * len(rates)
    if cases_per_network > min(args.rooms, args.channels):
        raise SystemExit(f"need at least {cases_per_network} rooms and channels (one fresh person per case)")
    tmp = Path(tempfile.mkdtemp(prefix="gw-scale-"))
    hs = Homeserver(tmp / "synapse").start()
    ircd = Ngircd(tmp / "ircd", max_joins=0).start()
    gateway = None
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
    t_setup = time.monotonic()
    try:
        http = Http(hs.url, session)
        bot = hs.register("bot", "botpassword")
        mod = hs.register("mod")
        posters = [hs.register(f"poster{i}") for i in range(8)]
        mx_people = [hs.register(f"risk{i}") for i in range(cases_per_network)]
        power = {"users": {bot.user_id: 100}}

        async def create(owner) -> str:
            body = {"preset": "public_chat", "power_level_content_override": power}
            return (await http.call("POST", "/_matrix/client/v3/createRoom", owner.access_token, body))["room_id"]

        owners = [posters[i % len(posters)] for i in range(args.rooms)]
        rooms = await gather_limited(8, (create(o) for o in owners))
        mods_room = (await http.call("POST", "/_matrix/client/v3/createRoom", mod.access_token, {
            "preset": "private_chat", "invite": [bot.user_id], "power_level_content_override": power}))["room_id"]
        mx_targets = random.Random(1).sample(range(args.rooms), len(mx_people))
        for person, index in zip(mx_people, mx_targets):
            await http.call("POST", f"/_matrix/client/v3/join/{quote(rooms[index])}", person.access_token, {})
        channels = [f"#c{i}" for i in range(args.channels)]
        print(f"set-up: {args.rooms} Matrix rooms and {len(mx_people)} people in {time.monotonic() - t_setup:.0f} s",
              flush=True)

        room_lines = [f'  - {{network: mx, room: "{r}", policy: bench, region: GB, moderators_room: "{mods_room}"}}'
                      for r in rooms]
        room_lines += [f'  - {{network: irc, room: "{c}", policy: bench, region: GB, moderators_room: "#mods"}}'
                       for c in channels]
        # Cases here are independent people, one every 2 s: not a raid, so the raid limits are lifted.
        (tmp / "policies").mkdir(exist_ok=True)
        (tmp / "policies" / "bench.yaml").write_text(
            "extends: default\nname: bench\nlimits:\n  cases_per_room: 100000\n  private_messages_per_room: 100000\n")
        (tmp / "gateway.yaml").write_text("\n".join([
            "event_log: data/gateway.db",
            "policy_dir: policies",
            "limits: {cases: 1000000, private_messages: 1000000}",
            "networks:",
            f'  mx: {{type: matrix, homeserver: "{hs.url}", user_id: "{bot.user_id}", password_env: SCALE_BOT_PW}}',
            f"  irc: {{type: irc, host: 127.0.0.1, port: {ircd.port}, nick: safetybot, flood_burst: 200, "
            "flood_rate: 200}",
            "rooms:", *room_lines, ""]))
        env = {**os.environ, "SCALE_BOT_PW": "botpassword"}
        log_file = open(tmp / "gateway.log", "wb")
        t_start = time.monotonic()
        gateway = subprocess.Popen([str(ROOT / ".venv/bin/gateway"), "run", "--config", str(tmp / "gateway.yaml"),
                                    "--log-level", "INFO"], cwd=tmp, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT)
        while b"ready:" not in (tmp / "gateway.log").read_bytes():
            if gateway.poll() is not None:
                raise RuntimeError("the gateway stopped: " + (tmp / "gateway.log").read_text()[-2000:])
            await asyncio.sleep(1)
        startup = time.monotonic() - t_start
        _, rss_ready, _ = proc_stats(gateway.pid)
        print(f"gateway ready in {startup:.0f} s ({args.rooms} rooms joined and guidelines pinned, "
              f"{args.channels} channels); resident {rss_ready / 1e6:.0f} MB", flush=True)

        # IRC clients join after the gateway, so the gateway holds channel operator status everywhere
        irc_mod = await IrcClient(ircd.port, "ircmod", record=True).connect()
        await irc_mod.join("#mods")
        irc_posters = [await IrcClient(ircd.port, f"poster{i}").connect() for i in range(min(20, args.channels))]
        for i, p in enumerate(irc_posters):
            await p.join(*channels[i::len(irc_posters)])
        irc_people = [await IrcClient(ircd.port, f"risk{i}", record=True).connect()
                      for i in range(cases_per_network)]
        irc_targets = random.Random(2).sample(range(args.channels), len(irc_people))
        for person, index in zip(irc_people, irc_targets):
            await person.join(channels[index])

        rig = Rig(http, bot, mod, mods_room, rooms, owners, channels, irc_mod, irc_posters,
                  iter(zip(mx_people, mx_targets)), iter(zip(irc_people, irc_targets)),
                  messages(50_000, risky_share=0.0), gateway.pid)
        summary = []
        matrix_rate = None
        if args.matrix_rate != "saturate":
            if args.matrix_rate == "auto":
                capacity = await matrix_capacity(args, rig)
                matrix_rate = capacity * 0.75
                print(f"Synapse accepts {capacity:.1f} messages/s when saturated ({args.matrix_senders} in flight); "
                      f"the windows offer 75% of that: {matrix_rate:.1f}/s", flush=True)
            else:
                matrix_rate = float(args.matrix_rate)
        for irc_rate in rates:
            summary.append(await phase(args, irc_rate, rig, matrix_rate))
        print(f"\n{args.rooms} Matrix rooms, {args.channels} IRC channels; gateway ready in {startup:.0f} s, "
              f"resident {rss_ready / 1e6:.0f} MB after start-up")
        print("IRC offered | Matrix offered -> msg/s (poster send p95) | IRC msg/s | cases: on time (<= 2 s), late, missed (p50 / max "
              "of the last of DM, removal, alert) | gateway CPU (one core) | gateway peak memory")
        for line in summary:
            print(line)
        for c in [irc_mod, *irc_posters, *irc_people]:
            c.writer.close()
    finally:
        if gateway is not None and gateway.poll() is None:
            gateway.send_signal(signal.SIGINT)
            try:
                gateway.wait(30)
            except subprocess.TimeoutExpired:
                gateway.kill()
        await session.close()
        ircd.stop()
        hs.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60, help="length of each load window")
    parser.add_argument("--matrix-senders", type=int, default=4,
                        help="Matrix requests in flight (SQLite Synapse saturates at a few)")
    parser.add_argument("--matrix-rate", default="auto",
                        help="Matrix messages/s offered: auto (75%% of the saturated rate, measured first), "
                             "a number, or saturate (closed loop, --matrix-senders in flight)")
    parser.add_argument("--irc-rates", default="1000,4000,10000,20000,max",
                        help="IRC lines/s offered in each window, in order; max: as fast as ngircd reads")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    asyncio.run(main(parser.parse_args()))
