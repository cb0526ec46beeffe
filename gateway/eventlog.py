"""The transcript-free event log (SQLite, WAL).

What the gateway did, never what anyone wrote. The schema enforces it: every text column is short and
refuses whitespace, so no sentence of chat can be stored in any of them, and people appear only as keyed
pseudonyms (HMAC-SHA256 with a secret generated on first run, kept beside the database with 0600
permissions). ``forget`` deletes one person's rows; ``secure_delete`` makes SQLite overwrite them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import time
from pathlib import Path
from typing import IO, Any, Iterator

from . import actions as A

__all__ = ["EventLog", "EventLogError", "key_path_for"]

_NO_SPACE = "NOT ({c} GLOB '*[ \t\r\n]*')"


def _text(col: str, max_len: int, charset: str | None = None) -> str:
    check = f"length({col}) <= {max_len} AND " + _NO_SPACE.format(c=col)
    if charset:
        check += f" AND NOT ({col} GLOB '*[^{charset}]*')"
    return f"{col} TEXT CHECK ({check})"


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
  {_text('ref', 255)},
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
CREATE INDEX IF NOT EXISTS journal_ref ON journal (network, ref);
"""

EXPORT_COLUMNS = ("id", "time", "kind", "network", "room", "subject", "case_id", "tier", "rules",
                  "outcome", "code", "command", "authorised")
_CODE_OK = re.compile(r"^[A-Za-z0-9_.]{1,32}$")


class EventLogError(Exception):
    """The log could not be written; carries no row content."""


def key_path_for(db_path: Path) -> Path:
    return db_path.with_suffix(".key")


def _create_private(path: Path) -> None:
    """Create ``path`` empty with 0600 permissions if it does not exist (no window with wider ones)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        pass


class EventLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = self._load_key()
        _create_private(self.path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.execute("PRAGMA busy_timeout=2000")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise EventLogError(f"cannot open event log {self.path}: {type(exc).__name__}") from None

    def _load_key(self) -> bytes:
        kp = key_path_for(self.path)
        if not kp.exists():
            _create_private(kp)
            with open(kp, "w") as fh:
                fh.write(secrets.token_hex(32))
        os.chmod(kp, 0o600)
        key = kp.read_text().strip()
        if len(key) < 32:
            raise EventLogError(f"pseudonym key {kp} is damaged (too short)")
        return bytes.fromhex(key)

    def close(self) -> None:
        self.db.close()

    # -- the action journal: unfinished cases survive a crash ----------------------------------
    #
    # A case's steps are recorded before they run and after; on start-up, unfinished cases resume.
    # The person's id is kept only while the case runs, sealed with the key file (an HMAC-SHA256
    # keystream), and wiped when the case finishes, so the database alone names no one.

    def seal(self, text: str) -> str:
        nonce = secrets.token_bytes(12)
        data = text.encode("utf-8")
        return (nonce + bytes(a ^ b for a, b in zip(data, self._keystream(nonce, len(data))))).hex()

    def unseal(self, sealed: str) -> str:
        raw = bytes.fromhex(sealed)
        nonce, body = raw[:12], raw[12:]
        return bytes(a ^ b for a, b in zip(body, self._keystream(nonce, len(body)))).decode("utf-8")

    def _keystream(self, nonce: bytes, n: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < n:
            out += hmac.new(self._key, b"seal" + nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            counter += 1
        return out[:n]

    def open_case(self, action: A.OpenCase, ts: float) -> None:
        """The case row and its journal entry in one transaction: a crash between two separate writes
        would leave a case that nothing resumes."""
        try:
            with self._transaction():
                self.write(action, ts)
                self.journal_open(action.case, action.network, action.room, action.user, action.ref,
                                  action.tier, action.rules, action.kind, ts, "pending", "pending", "pending",
                                  action.observe)
        except sqlite3.Error as exc:
            raise EventLogError(f"event log write failed: {type(exc).__name__}") from None

    def journal_open(self, case: str, network: str, room: str, user: str, ref: str | None, tier: str,
                     rules: tuple[str, ...], kind: str, ts: float, dm: str, removal: str, alert: str,
                     observe: bool) -> None:
        try:
            self.db.execute(
                "INSERT OR IGNORE INTO journal (case_id, network, room, sealed, subject, ref, tier, rules, kind,"
                " opened_ts, dm, removal, alert, observe) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (case, network, room, self.seal(user), self.pseudonym(network, user), ref, tier,
                 ",".join(rules), kind, int(ts * 1000), dm, removal, alert, int(observe)))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_step(self, case: str, step: str, state: str) -> None:
        if step not in ("dm", "removal", "alert"):
            return
        try:
            self.db.execute(f"UPDATE journal SET {step} = ? WHERE case_id = ?", (state, case))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_finish(self, case: str) -> None:
        try:
            self.db.execute("UPDATE journal SET finished = 1, sealed = NULL WHERE case_id = ?", (case,))
            self.db.execute("DELETE FROM meta WHERE key LIKE ?", (f"sent:{case}.%",))  # adapters' markers
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_unfinished(self) -> list[dict[str, Any]]:
        cols = ("case_id", "network", "room", "sealed", "ref", "tier", "rules", "kind", "opened_ts", "dm",
                "removal", "alert", "observe")
        rows = self.db.execute(f"SELECT {', '.join(cols)} FROM journal WHERE finished = 0 AND sealed IS NOT"
                               " NULL ORDER BY opened_ts").fetchall()
        out = []
        for row in rows:
            d = dict(zip(cols, row))
            d["user"] = self.unseal(d.pop("sealed"))
            d["rules"] = tuple(r for r in d["rules"].split(",") if r)
            d["opened_ts"] = d["opened_ts"] / 1000
            d["observe"] = bool(d["observe"])
            out.append(d)
        return out

    def journal_refs(self, network: str) -> set[str]:
        """Message ids that already have a case, so a message delivered again is not handled twice."""
        return {r[0] for r in self.db.execute("SELECT ref FROM journal WHERE network = ? AND ref IS NOT NULL",
                                              (network,))}

    # -- adapter state (the KeyValueStore an adapter is given: sync token, device id) ----------

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        try:
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                            "SET value = excluded.value", (key, value))
        except sqlite3.Error as exc:
            raise EventLogError(f"event log state write failed: {type(exc).__name__}") from None

    def pseudonym(self, network: str, user: str) -> str:
        digest = hmac.new(self._key, f"{network}\0{user}".encode("utf-8"), hashlib.sha256).hexdigest()
        return "p_" + digest[:16]

    # -- writing ------------------------------------------------------------------------------

    def write(self, action: A.Action, ts: float) -> None:
        """Store an :class:`OpenCase`, :class:`UpdateCase` or :class:`RecordEvent`."""
        ms = int(ts * 1000)
        try:
            if isinstance(action, A.RecordEvent):
                self.db.execute(
                    "INSERT INTO events (ts, kind, network, room, subject, case_id, tier, rules, outcome,"
                    " code, command, authorised) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (ms, action.kind, action.network, action.room,
                     self.pseudonym(action.network, action.user) if action.user else None,
                     action.case, action.tier, ",".join(action.rules) or None, action.outcome,
                     _safe_code(action.code), action.command,
                     None if action.authorised is None else int(action.authorised)))
            elif isinstance(action, A.OpenCase):
                self.db.execute(
                    "INSERT INTO cases (id, opened_ts, updated_ts, network, room, subject, tier, rules,"
                    " status) VALUES (?,?,?,?,?,?,?,?, 'open')",
                    (action.case, ms, ms, action.network, action.room,
                     self.pseudonym(action.network, action.user), action.tier, ",".join(action.rules)))
            elif isinstance(action, A.UpdateCase):
                self.db.execute("UPDATE cases SET status = ?, updated_ts = ? WHERE id = ?",
                                (action.status, ms, action.case))
            else:
                raise TypeError(f"not an event-log action: {type(action).__name__}")
        except sqlite3.Error as exc:
            raise EventLogError(f"event log write failed: {type(exc).__name__}") from None

    # -- reading and maintenance ----------------------------------------------------------------

    def rows(self) -> Iterator[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT id, ts, kind, network, room, subject, case_id, tier, rules, outcome, code, command,"
            " authorised FROM events ORDER BY id")
        for row in cur:
            out = dict(zip(EXPORT_COLUMNS, row))
            out["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row[1] / 1000))
            if out["authorised"] is not None:
                out["authorised"] = bool(out["authorised"])
            yield out

    def export(self, fmt: str, out: IO[str]) -> int:
        n = 0
        if fmt == "jsonl":
            for row in self.rows():
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        elif fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in self.rows():
                writer.writerow(row)
                n += 1
        else:
            raise ValueError(f"unknown export format {fmt!r} (jsonl or csv)")
        return n

    def stats(self) -> dict[str, Any]:
        q = self.db.execute
        first, last, total = q("SELECT min(ts), max(ts), count(*) FROM events").fetchone()
        fmt = (lambda ms: None if ms is None
               else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000)))
        return {
            "events": total,
            "first": fmt(first),
            "last": fmt(last),
            "by_kind": dict(q("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind")),
            "cases": q("SELECT count(*) FROM cases").fetchone()[0],
            "cases_by_tier": dict(q("SELECT tier, count(*) FROM cases GROUP BY tier ORDER BY tier")),
            "cases_by_status": dict(q("SELECT status, count(*) FROM cases GROUP BY status ORDER BY status")),
            "commands_refused": q("SELECT count(*) FROM events WHERE kind = 'command' AND authorised = 0"
                                  ).fetchone()[0],
            "people": q("SELECT count(DISTINCT subject) FROM events WHERE subject IS NOT NULL").fetchone()[0],
        }

    def purge(self, older_than_seconds: int, now: float | None = None) -> int:
        cutoff = int(((now if now is not None else time.time()) - older_than_seconds) * 1000)
        with self._transaction():
            n = self.db.execute("DELETE FROM events WHERE ts < ?", (cutoff,)).rowcount
            n += self.db.execute("DELETE FROM cases WHERE updated_ts < ?", (cutoff,)).rowcount
            self.db.execute("DELETE FROM journal WHERE finished = 1 AND opened_ts < ?", (cutoff,))
        self._checkpoint()
        return n

    def forget(self, user: str, network: str | None = None) -> int:
        """Delete every row about ``user`` (on ``network``, or on every network the log has seen)."""
        if network is None:
            networks = {r[0] for r in self.db.execute(
                "SELECT network FROM events UNION SELECT network FROM cases")}
        else:
            networks = {network}
        subjects = [self.pseudonym(n, user) for n in sorted(networks)]
        n = 0
        with self._transaction():
            for s in subjects:
                n += self.db.execute("DELETE FROM events WHERE subject = ?", (s,)).rowcount
                n += self.db.execute("DELETE FROM cases WHERE subject = ?", (s,)).rowcount
                self.db.execute("DELETE FROM journal WHERE subject = ?", (s,))
        self._checkpoint()
        return n

    def _transaction(self):
        db = self.db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    def _checkpoint(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _safe_code(code: str | None) -> str | None:
    """Adapter codes are short machine codes; anything else is replaced rather than stored."""
    if code is None:
        return None
    return code if _CODE_OK.match(code) else "other"
