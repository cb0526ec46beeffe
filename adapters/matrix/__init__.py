"""The Matrix adapter (matrix-nio ``AsyncClient``): one class, ``MatrixAdapter``, made of these parts.

- adapter.py: the adapter's state and its parts put together; ``create`` builds it from the config
- connection.py: start-up (retried with backoff), joining rooms, the sync loop with its gaps filled,
  rate limits, health
- login.py: who the bot is: the access token or password, the one device that holds the keys, the
  password checked at every start
- incoming.py: sync events -> gateway.core.events (text, reactions, membership, undecryptable), with
  power levels and room creators
- actions.py: gateway.core.actions -> client-server calls, with outcomes; direct rooms; moderators'
  rooms kept closed and encrypted
- crypto.py: end-to-end encryption (Matrix only): the crypto store, its pickle key, device trust

Imports only adapters.contract, adapters.matrix, gateway.core.events and gateway.core.quotes,
gateway.files, gateway.failpoints, the standard library, nio and aiohttp (gateway.service loads
``create`` from here).
"""

from adapters.matrix.adapter import MatrixAdapter, create

__all__ = ["MatrixAdapter", "create"]
