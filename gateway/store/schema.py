"""The event log's tables, and what a value in them may look like: every text column is short and refuses
whitespace, so no sentence of chat fits in any of them. One database holds the log (``events``, ``cases``),
the journal of open cases and the ``meta`` rows (the key check, adapter state, the resend ledger)."""

from __future__ import annotations

import re

__all__ = ["SCHEMA", "JOURNAL_ADDED", "CASES_ADDED", "KEY_CHECK", "EXPORT_COLUMNS", "REF_DIGEST", "LEDGER_PREFIX",
           "EventLogError", "safe_code"]

_NO_SPACE = "NOT ({c} GLOB '*[ \t\r\n]*')"
REF_DIGEST = re.compile(r"r_[0-9a-f]{32}")  # a keyed digest (``EventLog.ref_digest``), never a network id


def _text(col: str, max_len: int, charset: str | None = None) -> str:
    check = f"length({col}) <= {max_len} AND " + _NO_SPACE.format(c=col)
    if charset:
        check += f" AND NOT ({col} GLOB '*[^{charset}]*')"
    return f"{col} TEXT CHECK ({check})"


# Columns added since the first release, for databases created before them (``_migrate``).
JOURNAL_ADDED = {
    "sealed_ref": _text('sealed_ref', 600, '0-9a-f'),
    "ref_digest": _text('ref_digest', 34, 'r_0-9a-f'),
    "moderator": "moderator INTEGER NOT NULL DEFAULT 0 CHECK (moderator IN (0, 1))",
    "raid": "raid INTEGER NOT NULL DEFAULT 0 CHECK (raid IN (0, 1))",
    # a finished case's state, so that it outlives a restart until a moderator closes it (``journal_case``)
    "outreach": _text('outreach', 16, 'a-z_'),
    "removal_state": _text('removal_state', 16, 'a-z_'),
    "alerting": _text('alerting', 16, 'a-z_'),
    "handling": _text('handling', 16, 'a-z_'),
    "dm_detail": _text('dm_detail', 32, 'A-Za-z0-9_.'),
    "removal_detail": _text('removal_detail', 32, 'A-Za-z0-9_.'),
    "priority": _text('priority', 16, 'a-z'),
    "alerted_ts": "alerted_ts INTEGER",
    "escalations": "escalations INTEGER NOT NULL DEFAULT 0",
    "followup_due": "followup_due INTEGER",
    "sealed_acked": _text('sealed_acked', 1100, '0-9a-f'),
    "forced": "forced INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1))",
    "closed": "closed INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1))",
    # a "talk" request joined the case; how many private messages and alerts it sent (resend keys)
    "talk": "talk INTEGER NOT NULL DEFAULT 0 CHECK (talk IN (0, 1))",
    "dm_sends": "dm_sends INTEGER NOT NULL DEFAULT 0",
    "alert_sends": "alert_sends INTEGER NOT NULL DEFAULT 0",
    # a detection that joined while a step of the case was under way: its tier and rules, never the line
    "waiting_tier": _text('waiting_tier', 16, 'a-z'),
    "waiting_rules": _text('waiting_rules', 512, 'a-z0-9_.,'),
    # keyed digests (``ref_digest``) of the case's alerts' network ids: a ✅ on one acknowledges the case
    "alert_digests": _text('alert_digests', 300, 'r_0-9a-f,'),
}
# Columns of the cases table added since the first release: a case's kind (risk, talk, thirdparty).
CASES_ADDED = {"kind": _text('kind', 16, 'a-z')}

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
  {_text('key', 96)} PRIMARY KEY,
  {_text('value', 255)} NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  {_text('kind', 32, 'a-z_')} NOT NULL,
  {_text('network', 64)} NOT NULL,
  {_text('room', 255)},
  {_text('subject', 18, 'p_0-9a-f')},
  {_text('case_id', 16, 'a-z0-9')},
  tier TEXT CHECK (tier IN ('none', 'concern', 'high', 'imminent')),
  {_text('rules', 512, 'a-z0-9_.,')},
  {_text('outcome', 16, 'a-z_')},
  {_text('code', 32, 'A-Za-z0-9_.')},
  {_text('command', 32, 'a-z_')},
  authorised INTEGER CHECK (authorised IN (0, 1))
) STRICT;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject);
CREATE INDEX IF NOT EXISTS events_case ON events (case_id);
CREATE TABLE IF NOT EXISTS cases (
  {_text('id', 16, 'a-z0-9')} PRIMARY KEY,
  opened_ts INTEGER NOT NULL,
  updated_ts INTEGER NOT NULL,
  {_text('network', 64)} NOT NULL,
  {_text('room', 255)} NOT NULL,
  {_text('subject', 18, 'p_0-9a-f')} NOT NULL,
  tier TEXT NOT NULL CHECK (tier IN ('concern', 'high', 'imminent')),
  {_text('rules', 512, 'a-z0-9_.,')} NOT NULL,
  {_text('status', 32, 'a-z_')} NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS cases_subject ON cases (subject);
CREATE TABLE IF NOT EXISTS journal (
  {_text('case_id', 16, 'a-z0-9')} PRIMARY KEY,
  {_text('network', 64)} NOT NULL,
  {_text('room', 255)} NOT NULL,
  {_text('sealed', 1100, '0-9a-f')},
  {_text('subject', 18, 'p_0-9a-f')} NOT NULL,
  {JOURNAL_ADDED['sealed_ref']},
  {JOURNAL_ADDED['ref_digest']},
  {JOURNAL_ADDED['moderator']},
  {JOURNAL_ADDED['raid']},
  tier TEXT NOT NULL CHECK (tier IN ('concern', 'high', 'imminent')),
  {_text('rules', 512, 'a-z0-9_.,')} NOT NULL,
  {_text('kind', 16, 'a-z')} NOT NULL,
  opened_ts INTEGER NOT NULL,
  {_text('dm', 16, 'a-z_')} NOT NULL,
  {_text('removal', 16, 'a-z_')} NOT NULL,
  {_text('alert', 16, 'a-z_')} NOT NULL,
  observe INTEGER NOT NULL CHECK (observe IN (0, 1)),
  finished INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1))
) STRICT;
"""
KEY_CHECK = "key_check"  # meta row: proves which key file belongs to this database


EXPORT_COLUMNS = ("id", "time", "kind", "network", "room", "subject", "case_id", "tier", "rules",
                  "outcome", "code", "command", "authorised")
_CODE_OK = re.compile(r"^[A-Za-z0-9_.]{1,32}$")


LEDGER_PREFIX = "sent:"  # meta keys of the resend ledger: sent:CASE.STEP -> parts already sent


class EventLogError(Exception):
    """The log could not be written; carries no row content."""


def safe_code(code: str | None) -> str | None:
    """Adapter codes are short machine codes; anything else is replaced rather than stored."""
    if code is None:
        return None
    return code if _CODE_OK.match(code) else "other"
