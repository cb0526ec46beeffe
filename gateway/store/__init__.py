"""What the gateway keeps on disk: the transcript-free event log and the journal of open cases, timers and
budgets that a restart reads back (``eventlog``, SQLite in WAL mode). People appear only as keyed
pseudonyms; no message text and no network message id is ever written.

May import: the standard library, ``gateway.core``'s actions (what it records) and ``gateway.files``.
"""
