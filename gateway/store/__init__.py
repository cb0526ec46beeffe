"""What the gateway keeps on disk, in one SQLite database (WAL): the transcript-free event log (``eventlog``),
the journal of open cases, timers and budgets that a restart reads back (``journal``), and the tables and
value rules both write under (``schema``). No message text is ever written; people appear only as keyed
pseudonyms; a network message id is kept sealed only while its case needs it.

May import: the standard library, ``gateway.core``'s actions (what it records) and ``gateway.files``.
"""
