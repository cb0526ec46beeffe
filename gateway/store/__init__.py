"""What the gateway keeps on disk: the transcript-free event log and the journal of open cases, timers and
budgets that a restart reads back (``journal``), in one SQLite database in WAL mode whose tables ``schema``
sets. People appear only as keyed
pseudonyms; no message text and no network message id is ever written.

May import: the standard library, ``gateway.core``'s actions (what it records) and ``gateway.files``.
"""
