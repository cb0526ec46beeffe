"""``gateway report``: one self-contained HTML file moderators can open in a browser.

Charts are inline SVG drawn here (no scripts, no fonts or styles fetched from anywhere, so it opens
offline and can be mailed around a moderators' team): cases per week by tier, time to acknowledgement,
follow-ups done and overdue, and what happened to private messages and removals; then a table per room
and the list of cases. Every figure comes from the event log (``gateway/ops/insight.py``), and the page
shows case ids and keyed pseudonyms only, never a message, a name or a network id.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from collections import Counter
from typing import Iterable

from .insight import (KINDS, NOT_YET_WINDOW, TIERS, CaseView, ack_histogram, duration_text, median, trouble,
                      weekly_by_tier)

__all__ = ["render_report"]

COLORS = {"concern": "#e0a526", "high": "#e8743b", "imminent": "#c0392b", "talk request": "#148f77",
          "done": "#2e86ab", "overdue": "#c0392b", "open": "#e0a526",
          "acknowledged": "#2e86ab", "not yet": "#f7dc6f", "never": "#8e8e8e"}
# Private messages and removals each have their own colours, so a reader never takes one for the other.
OUTCOME_COLORS = {"message sent": "#2e86ab", "message failed": "#c0392b", "message skipped": "#8e8e8e",
                  "message none": "#cfcfcf", "removal done": "#7d3c98", "removal failed": "#d35400",
                  "removal none": "#e8daef"}
KIND_TEXT = {"talk": "talk request", "thirdparty": "about someone they know"}
W, H, PAD = 560, 220, 36


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def bar_chart(title: str, labels: list[str], series: dict[str, list[int]], *, stacked_colors: dict[str, str],
              chart_id: str) -> str:
    """A (stacked) bar chart as SVG: one bar per label, one segment per series."""
    legend, lx, ly = [], PAD, H + 14
    for name in series:
        width = 14 + 7 * len(name) + 18
        if lx + width > W - 8 and lx > PAD:
            lx, ly = PAD, ly + 18
        legend.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{stacked_colors[name]}"/>'
                      f'<text x="{lx + 14}" y="{ly + 9}" font-size="11">{_e(name)}</text>')
        lx += width
    height = ly + 22
    n = max(len(labels), 1)
    top = max([sum(vals[i] for vals in series.values()) for i in range(len(labels))] + [1])
    step = (W - 2 * PAD) / n
    bar = max(step * 0.7, 2)
    parts = [f'<svg id="{_e(chart_id)}" class="chart" role="img" aria-label="{_e(title)}" width="{W}" '
             f'height="{height}" viewBox="0 0 {W} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{_e(title)}</title>',
             f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#444"/>',
             f'<text x="{PAD - 6}" y="{PAD}" text-anchor="end" font-size="11">{top}</text>',
             f'<text x="{PAD - 6}" y="{H - PAD}" text-anchor="end" font-size="11">0</text>']
    scale = (H - 2 * PAD) / top
    for i, label in enumerate(labels):
        x = PAD + i * step + (step - bar) / 2
        y = H - PAD
        for name, vals in series.items():
            v = vals[i]
            if not v:
                continue
            h = v * scale
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{stacked_colors[name]}" data-series="{_e(name)}" data-value="{v}">'
                         f'<title>{_e(label)}: {v} {_e(name)}</title></rect>')
        if n <= 16 or i % max(n // 8, 1) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{H - PAD + 14}" text-anchor="middle" '
                         f'font-size="10">{_e(label)}</text>')
    parts += legend
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: Iterable[list[object]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return ('<div class="wide"><table><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>"
            f"<tbody>{body or '<tr><td colspan=' + str(len(head)) + '>none</td></tr>'}</tbody></table></div>")


def _kind_text(v: CaseView) -> str:
    """risk, talk request or about someone they know; whether a request to talk joined the case, and
    whether a later line raised its tier."""
    text = KIND_TEXT.get(v.kind, v.kind)
    return text + (", asked to talk" if v.talk and v.kind != "talk" else "") + (", tier raised" if v.raised else "")


def _ack_text(v: CaseView, until: float) -> str:
    state = v.ack_state(until)
    return duration_text(v.ack_seconds) if state == "acknowledged" else state


def _escalation_text(v: CaseView) -> str:
    parts = [f"{v.escalations} repeated or widened"] if v.escalations else []
    if v.external:
        parts.append("emergency services contacted by a moderator")
    return "; ".join(parts) or "-"


def _date(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def render_report(views: list[CaseView], events: list[dict], *, since: float, until: float,
                  room_names: dict[tuple[str, str], str] | None = None, source: str = "") -> str:
    names = room_names or {}

    def room_label(net: str, room: str) -> str:
        return f"{names.get((net, room), room)} ({net})"

    weeks = weekly_by_tier(views, since, until)
    week_labels = [w.strftime("%d %b") for w, _ in weeks]
    per_week = bar_chart("Cases per week by tier", week_labels,
                         {k: [counts[k] for _, counts in weeks] for k in KINDS},
                         stacked_colors=COLORS, chart_id="cases-per-week")
    acks = ack_histogram(views, until)
    unacked = ("not yet", "never")
    ack_chart = bar_chart("Time to acknowledgement", [label for label, _ in acks],
                          {"acknowledged": [n if label not in unacked else 0 for label, n in acks],
                           **{u: [n if label == u else 0 for label, n in acks] for u in unacked}},
                          stacked_colors=COLORS, chart_id="time-to-ack")
    follow = Counter(v.followup for v in views)
    follow_chart = bar_chart("Follow-ups", ["done", "overdue", "open"],
                             {k: [follow[k] if k == label else 0 for label in ("done", "overdue", "open")]
                              for k in ("done", "overdue", "open")}, stacked_colors=COLORS, chart_id="follow-ups")
    dm = Counter(v.dm for v in views)
    rm = Counter(v.removal for v in views)
    dm_keys, rm_keys = ("sent", "failed", "skipped", "none"), ("done", "failed", "none")
    outcome_chart = bar_chart(
        "Private messages and removals", ["private messages", "removals"],
        {**{f"message {k}": [dm[k], 0] for k in dm_keys}, **{f"removal {k}": [0, rm[k]] for k in rm_keys}},
        stacked_colors=OUTCOME_COLORS, chart_id="outcomes")

    rooms: dict[tuple[str, str], list[CaseView]] = {}
    for v in views:
        rooms.setdefault((v.network, v.room), []).append(v)
    room_rows = []
    for key, vs in sorted(rooms.items()):
        by_kind = Counter(v.chart_kind for v in vs)
        room_rows.append([room_label(*key), len(vs), *(by_kind[k] for k in TIERS),
                          duration_text(median(v.ack_seconds for v in vs)),
                          f'{sum(v.dm == "sent" for v in vs)} / {sum(v.dm == "failed" for v in vs)}',
                          f'{sum(v.removal == "done" for v in vs)} / {sum(v.removal == "failed" for v in vs)}',
                          f'{sum(v.talk for v in vs)} ({by_kind["talk request"]})', sum(v.escalations for v in vs),
                          sum(v.readmitted is not None for v in vs),
                          " ".join(v.case for v in vs if v.followup == "overdue") or "-"])
    case_rows = [[v.case, _date(v.opened), room_label(v.network, v.room), _kind_text(v), v.tier, v.subject, v.dm,
                  v.removal, _ack_text(v, until), _escalation_text(v), _date(v.readmitted) if v.readmitted else "-",
                  v.followup, v.status] for v in sorted(views, key=lambda v: v.opened)]
    t = trouble(events)
    trouble_rows = [[what, n, ", ".join(sorted(t.codes.get(what, ()))) or "-"] for what, n in sorted(t.counts.items())]
    window = f"{_date(since)} to {_date(until)} (UTC)"
    total = Counter(v.chart_kind for v in views)
    summary = (f"{len(views)} case(s): " + ", ".join(f"{total[k]} {k}" for k in TIERS)
               + f", {total['talk request']} talk request(s) of their own"
               + f"; {sum(v.talk for v in views)} request(s) to talk in all"
               + f"; median time to acknowledgement {duration_text(median(v.ack_seconds for v in views))}; "
               f"{sum(v.ack_state(until) == 'not yet' for v in views)} not acknowledged yet; "
               f"{sum(v.escalations for v in views)} escalated alert(s); "
               f"{sum(v.readmitted is not None for v in views)} readmission(s); "
               f"{follow['overdue']} follow-up(s) overdue.")
    generated = dt.datetime.fromtimestamp(until, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Safeguarding report {_e(window)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; padding: 0 1em; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 2em; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .6em; background: #fff; }}
figcaption {{ font-weight: 600; margin-bottom: .3em; }}
table {{ border-collapse: collapse; font-size: .85em; margin-top: .5em; }}
.wide {{ overflow-x: auto; }}
th, td {{ border: 1px solid #ddd; padding: .3em .6em; text-align: left; }}
th {{ background: #f4f4f4; }}
.note {{ color: #555; font-size: .9em; }}
</style></head>
<body>
<h1>Safeguarding report</h1>
<p>{_e(window)}. {_e(summary)}</p>
<p class="note">From the gateway's event log{(" " + _e(source)) if source else ""}, generated {_e(generated)}.
People appear only as keyed pseudonyms (p_...) and cases by their ids: the event log holds no message text
and no names. Follow-ups: <em>done</em> means a moderator closed the case; <em>overdue</em> means the
follow-up reminder went out and the case is still open. Acknowledgement: <em>not yet</em> means the case
is open and was opened less than {duration_text(NOT_YET_WINDOW)} before this report (the default escalation
window, within which its alert may simply not have been read); <em>never</em> means nobody acknowledged
it within that time, or it was closed without. Private messages: <em>sent</em> (accepted by the server),
<em>failed</em>, <em>skipped</em> (one was sent recently, or a raid's budget was used up), <em>none</em>
(the tier sends none); removals: <em>done</em>, <em>failed</em>, <em>none</em> (not needed, or held back:
never without the private message). A talk request is a person asking the bot for a moderator: its own case,
or added to their open case. Escalations are alerts nobody acknowledged, repeated or sent to every
moderator.</p>
<div class="charts">
<figure><figcaption>Cases per week by tier</figcaption>{per_week}</figure>
<figure><figcaption>Time to acknowledgement</figcaption>{ack_chart}</figure>
<figure><figcaption>Follow-ups</figcaption>{follow_chart}</figure>
<figure><figcaption>Private messages and removals</figcaption>{outcome_chart}</figure>
</div>
<h2>Per room</h2>
{_table(["room", "cases", *TIERS, "median time to ack", "messages sent / failed", "removals done / failed",
         "talk requests (own cases)", "escalated alerts", "readmissions", "overdue follow-ups"], room_rows)}
<h2>Network trouble</h2>
{_table(["what", "how often", "codes"], trouble_rows)}
<h2>Cases</h2>
{_table(["case", "opened (UTC)", "room", "kind", "tier", "person (pseudonym)", "private message", "removal",
         "time to ack", "escalations", "readmitted (UTC)", "follow-up", "status"], case_rows)}
</body></html>
"""
