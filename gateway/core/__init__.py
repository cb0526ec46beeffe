"""The sans-I/O core: ``Engine.handle(event) -> [actions]`` and the parts the engine is made of.

What lives here: the events adapters feed in and the actions they carry out (the vocabulary both sides
share), rooms, cases and their state machines, the at-risk flow (casework), commands, raids and budgets,
guidelines, the weekly digest's schedule, a case's history, quotes, and the rebuild after a restart.

May import: the standard library (no networking, no files, no clocks), ``gateway.text``,
``gateway.detection`` and ``gateway.policy``. Never ``asyncio`` networking, aiohttp, nio, irc or sqlite3, and nothing above it
(store, ops, config, runner, service, adapters); the event log is named for types only.
"""
