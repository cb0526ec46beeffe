"""The journal: each open case's state, kept so that a restart resumes or rebuilds it (``Engine.resume``,
``Engine.restore``), and the resend ledger of how much of a protective message left. Part of the event log
(``EventLog`` mixes it in: the same database, transactions and key); people's and messages' ids are sealed
while a case needs them and wiped when it settles or closes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..core import actions as A
from .schema import REF_DIGEST, LEDGER_PREFIX, EventLogError, safe_code

__all__ = ["Journal"]


class Journal:
    """The journal's writes and reads (uses the event log's ``db``, ``seal``, ``unseal``, ``pseudonym``,
    ``ref_digest``, ``get``, ``set`` and ``_transaction``)."""

    def journal_open(self, case: str, network: str, room: str, user: str, ref: str | None, tier: str,
                     rules: tuple[str, ...], kind: str, ts: float, dm: str, removal: str, alert: str,
                     observe: bool, moderator: bool = False, raid: bool = False) -> None:
        """The message id (``ref``) is kept sealed, like the person's id, only until the case finishes
        (an alert's link and a redaction need it); what stays is its keyed digest, which recognises the
        message if the network delivers it again but cannot be used to fetch it."""
        try:
            self.db.execute(
                "INSERT OR IGNORE INTO journal (case_id, network, room, sealed, subject, sealed_ref, ref_digest,"
                " moderator, raid, tier, rules, kind, opened_ts, dm, removal, alert, observe)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (case, network, room, self.seal(user), self.pseudonym(network, user),
                 self.seal(ref) if ref else None, self.ref_digest(network, ref) if ref else None,
                 int(moderator), int(raid), tier, ",".join(rules), kind, int(ts * 1000), dm, removal, alert,
                 int(observe)))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_step(self, case: str, step: str, state: str) -> None:
        if step not in ("dm", "removal", "alert"):
            return
        try:
            self.db.execute(f"UPDATE journal SET {step} = ? WHERE case_id = ?", (state, case))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_reopen(self, case: str) -> None:
        """A detection joined the case and its next round begins (a private message, a removal, an
        update alert): unfinished again, so a restart in the middle of it resumes it."""
        try:
            self.db.execute("UPDATE journal SET finished = 0, dm = 'pending', removal = 'pending',"
                            " alert = 'pending' WHERE case_id = ? AND closed = 0", (case,))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_finish(self, case: str) -> None:
        """Every action of the case is settled: the message id goes, and the resend ledger. The person's
        id stays sealed while the case is open (``!case``, ``!readmit`` and reminders need it after a
        restart) and goes when a moderator closes it or it ages out (``journal_age_out``)."""
        try:
            self.db.execute("UPDATE journal SET finished = 1, sealed_ref = NULL WHERE case_id = ?", (case,))
            self.db.execute("DELETE FROM meta WHERE key LIKE ?", (f"{LEDGER_PREFIX}{case}.%",))  # the resend ledger
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    def journal_unfinished(self) -> list[dict[str, Any]]:
        """Cases a restart interrupted in the middle of an action: ``Engine.resume`` carries them on."""
        return self._journal_rows("finished = 0")

    def journal_open_cases(self) -> list[dict[str, Any]]:
        """Cases whose actions are all settled but that no moderator closed yet (and not aged out):
        ``Engine.restore`` rebuilds them, so commands and reminders work on them after a restart."""
        return self._journal_rows("finished = 1 AND closed = 0")

    _JOURNAL_COLS = ("case_id", "network", "room", "sealed", "sealed_ref", "tier", "rules", "kind", "opened_ts",
                     "dm", "removal", "alert", "observe", "moderator", "raid", "outreach", "removal_state",
                     "alerting", "handling", "dm_detail", "removal_detail", "priority", "alerted_ts", "escalations",
                     "followup_due", "sealed_acked", "forced", "talk", "dm_sends", "alert_sends", "waiting_tier",
                     "waiting_rules", "alert_digests")

    def _journal_rows(self, where: str) -> list[dict[str, Any]]:
        cols = self._JOURNAL_COLS
        rows = self.db.execute(f"SELECT {', '.join(cols)} FROM journal WHERE {where} AND sealed IS NOT"
                               " NULL ORDER BY opened_ts").fetchall()
        out = []
        for row in rows:
            d = dict(zip(cols, row))
            d["user"] = self.unseal(d.pop("sealed"))
            sealed_ref = d.pop("sealed_ref")
            d["ref"] = self.unseal(sealed_ref) if sealed_ref else None
            acked = d.pop("sealed_acked")
            d["acked_by"] = self.unseal(acked) if acked else None
            d["moderator"], d["raid"], d["forced"] = bool(d["moderator"]), bool(d["raid"]), bool(d["forced"])
            d["talk"] = bool(d["talk"])
            d["rules"] = tuple(r for r in d["rules"].split(",") if r)
            d["waiting_rules"] = tuple(r for r in (d["waiting_rules"] or "").split(",") if r)
            d["alert_digests"] = tuple(r for r in (d["alert_digests"] or "").split(",") if r)
            d["opened_ts"] = d["opened_ts"] / 1000
            for k in ("alerted_ts", "followup_due"):
                d[k] = None if d[k] is None else d[k] / 1000
            d["observe"] = bool(d["observe"])
            out.append(d)
        return out

    def journal_case(self, snap: A.JournalCase) -> None:
        """A case's state after a change (what ``Engine.restore`` needs after a restart). Closing it
        forgets whom it was about: the sealed ids of the person and of the moderator who took it."""
        ms = (lambda t: None if t is None else int(t * 1000))
        try:
            if snap.handling == "closed":
                self.db.execute("UPDATE journal SET closed = 1, handling = 'closed', sealed = NULL,"
                                " sealed_acked = NULL, sealed_ref = NULL, alert_digests = NULL, waiting_tier = NULL,"
                                " waiting_rules = NULL WHERE case_id = ?", (snap.case,))
                return
            self.db.execute(
                "UPDATE journal SET outreach = ?, removal_state = ?, alerting = ?, handling = ?, dm_detail = ?,"
                " removal_detail = ?, priority = ?, alerted_ts = ?, escalations = ?, followup_due = ?,"
                " sealed_acked = ?, forced = ?, observe = ?, raid = ?, sealed = CASE WHEN sealed IS NULL"
                " THEN NULL ELSE ? END, subject = ?, tier = ?, rules = ?, kind = ?, talk = ?, dm_sends = ?,"
                " alert_sends = ?, waiting_tier = ?, waiting_rules = ?, alert_digests = ? WHERE case_id = ? AND closed = 0",
                (snap.outreach, snap.removal, snap.alerting, snap.handling, safe_code(snap.dm_detail),
                 safe_code(snap.removal_detail), snap.priority, ms(snap.alerted_at), snap.escalations,
                 ms(snap.followup_due), self.seal(snap.acked_by) if snap.acked_by else None, int(snap.forced),
                 int(snap.observe), int(snap.raid), self.seal(snap.user), self.pseudonym(snap.network, snap.user),
                 snap.tier, ",".join(snap.rules), snap.kind, int(snap.talk), snap.dm_sends, snap.alert_sends,
                 snap.waiting_tier, ",".join(snap.waiting_rules) or None,
                 ",".join(d for d in snap.alert_digests if REF_DIGEST.fullmatch(d)) or None, snap.case))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None

    OPEN_CASE_RETENTION = 30 * 86400  # an open case nobody closed is forgotten this long after it opened

    def journal_age_out(self, now: float, keep: float | None = None) -> int:
        """The retention rule for open cases: one that no moderator closed within ``keep`` seconds
        (``OPEN_CASE_RETENTION``, 30 days) of opening is closed as ``expired``; its sealed ids are wiped
        like a closed case's. Cases still in the middle of an action are left to resume."""
        cutoff = int((now - (self.OPEN_CASE_RETENTION if keep is None else keep)) * 1000)
        try:
            with self._transaction():
                ids = [r[0] for r in self.db.execute(
                    "SELECT case_id FROM journal WHERE finished = 1 AND closed = 0 AND opened_ts < ?", (cutoff,))]
                for cid in ids:
                    self.db.execute("UPDATE journal SET closed = 1, handling = 'closed', sealed = NULL,"
                                    " sealed_acked = NULL, sealed_ref = NULL WHERE case_id = ?", (cid,))
                    self.db.execute("UPDATE cases SET status = 'expired', updated_ts = ? WHERE id = ?",
                                    (int(now * 1000), cid))
        except sqlite3.Error as exc:
            raise EventLogError(f"journal write failed: {type(exc).__name__}") from None
        return len(ids)

    def journal_raid_cases(self, since: float) -> list[dict[str, Any]]:
        """Cases opened during a raid since ``since`` (seconds): for rebuilding the raid budgets."""
        cur = self.db.execute("SELECT case_id, network, room, opened_ts, dm, alert FROM journal WHERE raid = 1"
                              " AND opened_ts >= ? ORDER BY opened_ts", (int(since * 1000),))
        return [{"case": r[0], "network": r[1], "room": r[2], "opened": r[3] / 1000, "dm": r[4], "alert": r[5]}
                for r in cur]

    def journal_refs(self) -> set[str]:
        """Digests (``ref_digest``) of the messages that already have a case, so a message delivered again
        after a crash is not handled twice."""
        return {r[0] for r in self.db.execute("SELECT ref_digest FROM journal WHERE ref_digest IS NOT NULL")}

    # -- the resend ledger (adapters.contract.ResendLedger): how much of a protective message left ----------

    def parts_sent(self, key) -> int:
        try:
            return int(self.get(f"{LEDGER_PREFIX}{key.case}.{key.step}") or 0)
        except (ValueError, sqlite3.Error):
            return 0

    def record_parts_sent(self, key, parts: int) -> None:
        self.set(f"{LEDGER_PREFIX}{key.case}.{key.step}", str(parts))
