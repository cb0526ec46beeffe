"""The transcript-free event log (SQLite, WAL); its tables are ``schema.py``'s, the journal of open cases
``journal.py``'s (one database, one key).

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
import secrets
import sqlite3
import time
from pathlib import Path
from typing import IO, Any, Iterator

from ..core import actions as A
from ..files import private_dir
from .journal import Journal
from .schema import CASES_ADDED, JOURNAL_ADDED, KEY_CHECK, EXPORT_COLUMNS, SCHEMA, EventLogError, safe_code

__all__ = ["EventLog", "EventLogError", "key_path_for"]

def key_path_for(db_path: Path) -> Path:
    return db_path.with_suffix(".key")


def _user() -> str:
    import pwd

    uid = os.geteuid()
    try:
        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def unwritable(path: Path) -> str | None:
    """Why the event log at ``path`` cannot be created or written by this process, in one line; ``None``
    if it can. Said before anything is opened, so that ``gateway run`` stops with this line instead of a
    traceback, and ``gateway check`` can warn."""
    path = Path(path).absolute()
    d = path.parent
    while not d.exists() and d != d.parent:
        d = d.parent
    if not d.is_dir():
        return f"the event log's directory {path.parent} cannot be made: {d} is a file, not a directory"
    what = f"the event log's directory {d}" if d == path.parent else f"{d} (where its directory {path.parent} " \
                                                                       f"would be made)"
    if not os.access(d, os.W_OK | os.X_OK):
        if os.statvfs(d).f_flag & os.ST_RDONLY:
            return (f"{what} is on a read-only file system: set event_log to a path in a writable directory (under "
                    f"the systemd unit, /var/lib/safeguarding-gateway)")
        return (f"{what} is not writable by {_user()}: chown it to that user, or set event_log to a "
                f"directory it can write")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"the event log {path} is not writable by {_user()}: chown it to that user"
    return None


def _create_private(path: Path) -> None:
    """Create ``path`` empty with 0600 permissions if it does not exist (no window with wider ones)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        pass


class EventLog(Journal):
    """``new_log``: the database exists but its key file is lost (or is another database's): move the old
    database aside (``NAME.orphaned-TIMESTAMP``, nothing deleted) and start a new log with a new key.
    Without it, such a database is refused: a new key would silently make ``forget`` miss the person's
    old rows, which keep their old pseudonyms."""

    checkpoint_busy_ms = 200  # how long each checkpoint attempt waits on another reader (``_checkpoint``)

    def __init__(self, path: str | Path, *, new_log: bool = False):
        self.path = Path(path)
        problem = unwritable(self.path)
        if problem:
            raise EventLogError(problem)
        private_dir(self.path.parent)
        kp = key_path_for(self.path)
        existing = self.path.exists() and self.path.stat().st_size > 0
        if new_log and existing:
            self._set_aside()
            existing = False
        if existing and not kp.exists():
            raise EventLogError(
                f"event log {self.path} exists but its pseudonym key {kp} is missing: restore the key file "
                f"(a new key would leave everyone's old rows under pseudonyms nobody can find), or start a "
                f"new log with --new-log (the old database is kept aside, not deleted)")
        self._key = self._load_key()
        _create_private(self.path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout=2000")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.executescript(SCHEMA)
            self._migrate()
            self._check_key()
        except sqlite3.Error as exc:
            if hasattr(self, "db"):
                self.db.close()
            raise EventLogError(f"event log {self.path} cannot be opened: it is not a readable SQLite "
                                f"database ({type(exc).__name__}); the file was left as it is") from None

    def _set_aside(self) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.rename(Path(f"{self.path}.orphaned-{stamp}{suffix}"))
        kp = key_path_for(self.path)
        if kp.exists():
            kp.rename(Path(f"{kp}.orphaned-{stamp}"))

    def _migrate(self) -> None:
        for table, added in (("journal", JOURNAL_ADDED), ("cases", CASES_ADDED)):
            cols = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for col, decl in added.items():
                if col not in cols:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {decl}")
        have = {row[1] for row in self.db.execute("PRAGMA table_info(journal)")}
        if "ref" in have:  # before: message ids kept in the clear for ever; now sealed while a case runs
            for case_id, network, ref, finished in self.db.execute(
                    "SELECT case_id, network, ref, finished FROM journal WHERE ref IS NOT NULL").fetchall():
                self.db.execute("UPDATE journal SET ref = NULL, ref_digest = ?, sealed_ref = ? WHERE case_id = ?",
                                (self.ref_digest(network, ref), None if finished else self.seal(ref), case_id))
        self.db.execute("CREATE INDEX IF NOT EXISTS journal_ref_digest ON journal (ref_digest)")

    def _check_key(self) -> None:
        check = hmac.new(self._key, b"key-check", hashlib.sha256).hexdigest()[:32]
        stored = self.get(KEY_CHECK)
        if stored is None:
            self.set(KEY_CHECK, check)
        elif not hmac.compare_digest(stored, check):
            self.db.close()
            raise EventLogError(
                f"pseudonym key {key_path_for(self.path)} does not belong to event log {self.path}: restore "
                f"the right key file, or start a new log with --new-log (the old database is kept aside)")

    def _load_key(self) -> bytes:
        kp = key_path_for(self.path)
        if not kp.exists():
            _create_private(kp)
            with open(kp, "w") as fh:
                fh.write(secrets.token_hex(32))
        os.chmod(kp, 0o600)
        try:
            key = bytes.fromhex(kp.read_text().strip())
        except (ValueError, UnicodeDecodeError):
            key = b""
        if len(key) < 16:
            raise EventLogError(f"pseudonym key {kp} is damaged (not 32 hex bytes); the file was left as it "
                                f"is: restore it from a backup")
        return key

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
                                  action.observe, action.moderator, action.raid)
        except sqlite3.Error as exc:
            raise EventLogError(f"event log write failed: {type(exc).__name__}") from None

    def ref_digest(self, network: str, ref: str) -> str:
        """A keyed digest of a network's message id: equal for the same message, useless for fetching it."""
        data = f"ref\0{network}\0{ref}".encode("utf-8")
        return "r_" + hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32]

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
                     safe_code(action.code), action.command,
                     None if action.authorised is None else int(action.authorised)))
            elif isinstance(action, A.OpenCase):
                self.db.execute(
                    "INSERT INTO cases (id, opened_ts, updated_ts, network, room, subject, tier, rules,"
                    " status, kind) VALUES (?,?,?,?,?,?,?,?, 'open', ?)",
                    (action.case, ms, ms, action.network, action.room,
                     self.pseudonym(action.network, action.user), action.tier, ",".join(action.rules),
                     action.kind))
            elif isinstance(action, A.UpdateCase):
                self.db.execute("UPDATE cases SET status = coalesce(?, status), tier = coalesce(?, tier),"
                                " kind = coalesce(?, kind), updated_ts = ? WHERE id = ?",
                                (action.status, action.tier, action.kind, ms, action.case))
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

    def last_of(self, kind: str) -> dict[tuple[str, str | None], float]:
        """(network, room) -> when the latest row of ``kind`` there was written (seconds)."""
        cur = self.db.execute("SELECT network, room, max(ts) FROM events WHERE kind = ? GROUP BY network, room",
                              (kind,))
        return {(r[0], r[1]): r[2] / 1000 for r in cur}

    def cases_since(self, since: float) -> list[dict[str, Any]]:
        """Cases opened at or after ``since`` (seconds), oldest first: ids, times (s), rooms, tiers,
        pseudonyms and status, for the report and the digest."""
        cur = self.db.execute("SELECT id, opened_ts, updated_ts, network, room, subject, tier, status, kind, rules"
                              " FROM cases WHERE opened_ts >= ? ORDER BY opened_ts", (int(since * 1000),))
        # a log from before the kind column: a "talk" case is the one whose only rule is the request
        return [{"case": r[0], "opened": r[1] / 1000, "updated": r[2] / 1000, "network": r[3], "room": r[4],
                 "subject": r[5], "tier": r[6], "status": r[7],
                 "kind": r[8] or ("talk" if r[9] == "request.talk" else "risk")} for r in cur]

    def events_since(self, since: float) -> list[dict[str, Any]]:
        """Events at or after ``since`` (seconds), in order: kind, time (s), network, room, case, outcome, code."""
        return self._events("ts >= ?", (int(since * 1000),))

    def case_events(self, case_id: str) -> list[dict[str, Any]]:
        """The events of one case, in order (its history: ``gateway case ID``)."""
        return self._events("case_id = ?", (case_id,))

    def events_of_open_cases(self) -> list[dict[str, Any]]:
        """The events of every case no moderator closed yet, in order: a restart rebuilds their histories."""
        return self._events("case_id IN (SELECT case_id FROM journal WHERE closed = 0)", ())

    def _events(self, where: str, params: tuple) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT ts, kind, network, room, case_id, outcome, code, subject, tier, command,"
                              f" authorised FROM events WHERE {where} ORDER BY id", params)
        return [{"ts": r[0] / 1000, "kind": r[1], "network": r[2], "room": r[3], "case": r[4], "outcome": r[5],
                 "code": r[6], "subject": r[7], "tier": r[8], "command": r[9], "authorised": r[10]} for r in cur]

    def case_row(self, case_id: str) -> dict[str, Any] | None:
        """One case as the log has it (``gateway case ID``): times (s), room, pseudonym, tier, rules, status,
        and, while it is open, when its follow-up reminder is due. ``None`` if the log has no such case."""
        r = self.db.execute("SELECT c.id, c.opened_ts, c.network, c.room, c.subject, c.tier, c.rules, c.status,"
                            " j.followup_due, j.closed FROM cases c LEFT JOIN journal j ON j.case_id = c.id"
                            " WHERE c.id = ?", (case_id,)).fetchone()
        if r is None:
            return None
        return {"case": r[0], "opened": r[1] / 1000, "network": r[2], "room": r[3], "subject": r[4], "tier": r[5],
                "rules": tuple(r[6].split(",")) if r[6] else (), "status": r[7],
                "followup_due": r[8] / 1000 if r[8] is not None and not r[9] else None}

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

    def counts_by_room(self, kind: str, since: float | None = None) -> dict[str | None, int]:
        """How many rows of ``kind`` each room has (since ``since``, seconds since the epoch)."""
        cutoff = int(since * 1000) if since is not None else 0
        return dict(self.db.execute("SELECT room, count(*) FROM events WHERE kind = ? AND ts >= ? GROUP BY room "
                                    "ORDER BY room", (kind, cutoff)))

    def counts_by_room_and_code(self, kind: str, since: float | None = None) -> dict[tuple[str | None, str | None], int]:
        """How many rows of ``kind`` each (room, code) has (since ``since``, seconds since the epoch)."""
        cutoff = int(since * 1000) if since is not None else 0
        return {(room, code): n for room, code, n in self.db.execute(
            "SELECT room, code, count(*) FROM events WHERE kind = ? AND ts >= ? GROUP BY room, code "
            "ORDER BY room, code", (kind, cutoff))}

    def purge(self, older_than_seconds: int, now: float | None = None) -> int:
        cutoff = int(((now if now is not None else time.time()) - older_than_seconds) * 1000)
        with self._transaction():
            n = self.db.execute("DELETE FROM events WHERE ts < ?", (cutoff,)).rowcount
            n += self.db.execute("DELETE FROM cases WHERE updated_ts < ?", (cutoff,)).rowcount
            self.db.execute("DELETE FROM journal WHERE finished = 1 AND opened_ts < ?", (cutoff,))
        self._checkpoint()
        return n

    def forget(self, user: str, network: str | None = None) -> tuple[int, bool]:
        """Delete every row about ``user`` (on ``network``, or on every network the log has seen).

        Returns (rows deleted, erased): ``erased`` is False while older copies of those pages still sit in
        the write-ahead log because another connection is reading; they are gone once the WAL is
        checkpointed (run ``forget`` again, or stop the other reader)."""
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
        return n, self._checkpoint()

    def writable(self) -> bool:
        """Whether a write could happen now (not read-only, not locked away, the file still there): a row
        is written and rolled back, so nothing stays."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('write_probe', '1')")
            finally:
                self.db.execute("ROLLBACK")
            return self.path.exists()
        except sqlite3.Error:
            return False

    def _transaction(self):
        db = self.db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    def _checkpoint(self, attempts: int = 5) -> bool:
        """Copy the WAL into the database and truncate it, so deleted rows (overwritten in place by
        ``secure_delete``) leave no older copy in the WAL. False if a reader kept it from completing."""
        self.db.execute(f"PRAGMA busy_timeout={self.checkpoint_busy_ms}")
        try:
            for i in range(attempts):
                busy, frames, done = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy == 0 and frames <= 0 and done <= 0:
                    return True  # TRUNCATE leaves an empty WAL: nothing older remains anywhere
                time.sleep(0.1 * (i + 1))
            return False
        finally:
            self.db.execute("PRAGMA busy_timeout=2000")
