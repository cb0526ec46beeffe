"""``gateway report``: a month of casework, made by the real engine and runner into a real event log,
becomes one self-contained HTML page; rendered in headless Chromium (Debian's ``chromium``) its charts
are drawn, and neither the page nor anything in it holds a message, a user id or a name."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from adapters.contract import ActionFailed
from gateway.store.eventlog import EventLog
from gateway.core.events import PrivateMessage, Tick
from gateway.ops.insight import cases_from_log
from gateway.runner import Runner
from tests.memory_adapter import MemoryAdapter

from .conftest import MODS, NET, ROOM, Clock, say
from .test_cli import GATEWAY

MARK = "CANARYrep0rt"
DAY = 86400.0


async def a_month_of_casework(engine, path: Path) -> tuple[EventLog, Clock]:
    """Five cases over four weeks: removed, acknowledged, readmitted and closed; acknowledged, overdue
    for follow-up, then the person asked to talk (it joins the case); a private message that failed,
    nobody acknowledged, escalated twice; a concern check-in; a talk request of its own minutes ago."""
    clock = Clock(time.time() - 26 * DAY)
    log = EventLog(path)
    adapter = MemoryAdapter(NET, members={ROOM: {"@kit:test", "@ana:test", "@lee:test", "@sam:test"}})
    runner = Runner(engine, {NET: adapter}, log, clock=clock)

    async def person(text: str, who: str) -> None:
        await runner.handle(say(f"{text} {MARK}", sender=who, ts=clock.now))

    async def mod(command: str) -> None:
        await runner.handle(say(command, sender="@mod:test", room=MODS, power=100, ts=clock.now))

    await person("i took all my pills", "@kit:test")  # case1: imminent
    clock.advance(600)
    await mod("!ack case1")
    clock.advance(DAY)
    await mod("!readmit case1")
    await mod("!close case1 safe")
    clock.advance(7 * DAY)
    await person("i want to kill myself", "@ana:test")  # case2: high, acked, never closed
    clock.advance(2 * 3600)
    await mod("!ack case2")
    clock.advance(DAY)
    await runner.handle(Tick(NET, clock.now))  # the follow-up reminder: overdue from now on
    await runner.handle(PrivateMessage(NET, clock.advance(60), sender="@ana:test", text="talk", rooms=(ROOM,)))
    clock.advance(7 * DAY)
    adapter.fail["send_private"] = [ActionFailed("M_FORBIDDEN")]
    await person("i took all my pills", "@lee:test")  # case3: the message failed, nobody acked...
    for _ in range(2):
        await runner.handle(Tick(NET, clock.advance(16 * 60)))  # ...repeated, then widened to everyone
    clock.advance(5 * DAY)
    await person("I keep thinking it would be easier to just not be here anymore", "@sam:test")  # case4: concern
    clock.now = time.time() - 5 * 60  # case5, five minutes before the report: "not yet" acknowledged
    await runner.handle(PrivateMessage(NET, clock.now, sender="@max:test", text="talk", rooms=(ROOM,)))
    clock.advance(5 * 60)
    return log, clock


async def test_the_figures_come_from_the_event_log(engine, tmp_path):
    log, clock = await a_month_of_casework(engine, tmp_path / "gateway.db")
    try:
        views = {v.case: v for v in cases_from_log(log.cases_since(0), log.events_since(0))}
    finally:
        log.close()
    assert [v.tier for v in views.values()] == ["imminent", "high", "imminent", "concern", "concern"]
    assert [v.kind for v in views.values()] == ["risk", "risk", "risk", "risk", "talk"]
    one, two, three, four, five = views.values()
    assert (one.dm, one.removal, one.followup) == ("sent", "done", "done") and one.ack_seconds == 600
    assert one.readmitted is not None and one.ack_state(clock.now) == "acknowledged"
    assert (two.followup, two.ack_seconds, two.talk) == ("overdue", 7200, 1)
    assert (three.dm, three.removal, three.ack_seconds, three.escalations) == ("failed", "none", None, 2)
    assert three.ack_state(clock.now) == "never" and five.ack_state(clock.now) == "not yet"
    assert (four.dm, four.removal, four.followup) == ("sent", "none", "open")
    assert (five.talk, five.chart_kind) == (1, "talk request")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.live
async def test_a_moderator_opens_a_month_of_casework_in_a_browser(engine, tmp_path):
    if chromium() is None:
        pytest.skip("chromium is not installed: apt-get install chromium")
    db = tmp_path / "gateway.db"
    log, _ = await a_month_of_casework(engine, db)
    log.close()
    page = tmp_path / "report.html"
    r = subprocess.run([GATEWAY, "report", "--db", str(db), "--since", "30d", "-o", str(page)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "5 case(s)" in r.stdout
    text = page.read_text()

    # self-contained: nothing fetched from anywhere, no scripts
    assert "<script" not in text and not re.search(r'(src|href)="(https?:)?//', text)
    # the canary: no message text, no user id, no name; pseudonyms and case ids only
    for secret in (MARK, "@kit", "@ana", "@lee", "@sam", "@mod", "pills"):
        assert secret not in text, secret
    assert re.search(r"p_[0-9a-f]{16}", text) and "case2" in text

    # rendered by a real browser: the DOM has the four charts with their bars...
    profile = tmp_path / "chromium-profile"
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--window-size=1280,1400"]
    dom = subprocess.run(base + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert len(re.findall(r'<svg id="[a-z-]+" class="chart"', dom)) == 4
    week_bars = re.findall(r'data-series="(concern|high|imminent|talk request)" data-value="(\d+)"', dom)
    assert sorted(week_bars) == [("concern", "1"), ("high", "1"), ("imminent", "1"), ("imminent", "1"),
                                 ("talk request", "1")]

    # ...and reads as a moderator would read it: the summary, then each case's row
    words = " ".join(re.sub(r"<[^>]+>", " ", dom).split())
    assert ("5 case(s): 1 concern, 1 high, 2 imminent, 1 talk request(s) of their own; 2 request(s) to talk in "
            "all;") in words
    assert "1 not acknowledged yet; 2 escalated alert(s); 1 readmission(s); 1 follow-up(s) overdue." in words
    rows = {cells[0]: cells for cells in (re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", dom))
            if cells and cells[0].startswith("case")}
    head = re.findall(r"<th>(.*?)</th>", dom.split("<h2>Cases</h2>")[1])
    row = {case: dict(zip(head, cells)) for case, cells in rows.items()}
    assert row["case5"]["kind"] == "talk request" and row["case5"]["time to ack"] == "not yet"  # minutes old
    assert row["case3"]["time to ack"] == "never" and row["case3"]["escalations"] == "2 repeated or widened"
    assert row["case2"]["kind"] == "risk, asked to talk" and row["case2"]["time to ack"] == "2.0 h"
    assert row["case1"]["readmitted (UTC)"] != "-" and row["case4"]["readmitted (UTC)"] == "-"
    # message and removal outcomes: each its own colour, named in the chart's legend
    outcomes = dom.split('<svg id="outcomes"')[1].split("</svg>")[0]
    legend = dict((name, colour) for colour, name in re.findall(r'fill="(#[0-9a-f]{6})"(?:/>|></rect>)<text[^>]*>([^<]+)</text>',
                                                                outcomes))
    assert set(legend) == {"message sent", "message failed", "message skipped", "message none", "removal done",
                           "removal failed", "removal none"}
    assert len(set(legend.values())) == 7, legend
    ack_legend = re.findall(r'<text[^>]*>([^<]+)</text>', dom.split('<svg id="time-to-ack"')[1].split("</svg>")[0])
    assert {"acknowledged", "not yet", "never"} <= set(ack_legend)
    # ...and a screenshot shows them drawn: the tier colours are on screen, the page is not blank
    shot = tmp_path / "report.png"
    subprocess.run(base + [f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20, "a blank page"
    counts = {c: n for n, c in colours}
    for tier_colour in ((0xc0, 0x39, 0x2b), (0xe8, 0x74, 0x3b), (0xe0, 0xa5, 0x26)):  # imminent, high, concern
        assert counts.get(tier_colour, 0) > 100, tier_colour
    for drawn in ((0x14, 0x8f, 0x77), (0x7d, 0x3c, 0x98), (0x2e, 0x86, 0xab), (0xf7, 0xdc, 0x6f)):
        assert counts.get(drawn, 0) > 500, drawn  # talk requests, removals done, messages sent, "not yet"
