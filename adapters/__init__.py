"""Network adapters: translate network events into core events and execute core actions.

- contract.py: what an adapter gives the runner (actions, outcomes, exposures) and what it is given
- matrix/: the Matrix adapter (matrix-nio)
- irc/: the IRC adapter (the ``irc`` package)

Both adapters are packages shaped alike: adapter.py (state, ``create``), connection.py, login.py,
incoming.py, actions.py, and the network's own helpers. An adapter imports only adapters.contract, its
own package, gateway.core.events, gateway.core.actions, gateway.core.quotes, gateway.files,
gateway.failpoints, the standard library and third-party packages; never another gateway module.
"""
