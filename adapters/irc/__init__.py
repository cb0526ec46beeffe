"""The IRC adapter (the ``irc`` package's asyncio client): one class, ``IrcAdapter``, made of these parts.

- adapter.py: the adapter's state and its parts put together; ``create`` builds it from the config
- connection.py: connecting (TLS, CAP), registration, reconnects with backoff, disconnects, read backpressure
- login.py: who the bot is: SASL, NickServ (only on the services server), taking its configured nick back
- incoming.py: lines in -> gateway.core.events, handed to the runner in order
- members.py: who is in which channel, operator status, services accounts, nick changes (IRC only: on
  Matrix, nio keeps the room state)
- actions.py: gateway.core.actions -> lines, with outcomes; moderators' channels kept invite-only
- sending.py: the flood-budgeted writer and the PING barrier that confirms an action (IRC only)
- lines.py: line limits and numerics, text made safe and split, nick folding, flood budget and queue

Imports only adapters.contract, adapters.irc, gateway.core.events and gateway.core.quotes, the standard
library and the ``irc`` package (gateway.service loads ``create`` from here).
"""

from adapters.irc.adapter import IrcAdapter, create

__all__ = ["IrcAdapter", "create"]
