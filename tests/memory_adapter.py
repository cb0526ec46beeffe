"""An in-memory adapter for unit tests of the core: no network, every call recorded in order.

It is a stand-in for tests of the engine and runner only; network behaviour is proven against real
servers in the adapter tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.contract import ActionFailed, Adapter

__all__ = ["MemoryAdapter", "Call"]


@dataclass
class Call:
    method: str
    args: dict[str, Any] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


class MemoryAdapter(Adapter):
    """``fail`` maps a method name to the ActionFailed it should raise (once per entry in a list)."""

    def __init__(self, network: str = "test", members: dict[str, set[str]] | None = None):
        self.network = network
        self.calls: list[Call] = []
        self.members = {room: set(users) for room, users in (members or {}).items()}
        self.pins: dict[str, list[str]] = {}
        self.fail: dict[str, list[ActionFailed]] = {}
        self._n = 0

    def _ref(self) -> str:
        self._n += 1
        return f"$ev{self._n}"

    def _call(self, method: str, **args: Any) -> None:
        self.calls.append(Call(method, args))
        pending = self.fail.get(method)
        if pending:
            raise pending.pop(0)

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    async def post_notice(self, room, text):
        self._call("post_notice", room=room, text=text)
        return self._ref()

    async def pin_notice(self, room, ref, replaces):
        self._call("pin_notice", room=room, ref=ref, replaces=replaces)
        pins = [p for p in self.pins.get(room, []) if p != replaces]
        self.pins[room] = pins + [ref]
        return ref

    async def set_topic(self, room, text):
        self._call("set_topic", room=room, text=text)

    async def send_private(self, user, text, key=None):
        self._call("send_private", user=user, text=text, key=key)
        return self._ref()

    async def greet_user(self, room, user, text):
        self._call("greet_user", room=room, user=user, text=text)

    async def remove_from_room(self, room, user, reason, ban_seconds=None):
        self._call("remove_from_room", room=room, user=user, reason=reason, ban_seconds=ban_seconds)
        self.members.get(room, set()).discard(user)

    async def redact_message(self, room, ref, reason):
        self._call("redact_message", room=room, ref=ref, reason=reason)

    async def alert_moderators(self, room, text, priority, message_ref, mention_all=False, key=None):
        self._call("alert_moderators", room=room, text=text, priority=priority, message_ref=message_ref,
                   mention_all=mention_all, key=key)
        return self._ref()

    async def readmit(self, room, user):
        self._call("readmit", room=room, user=user)
        self.members.setdefault(room, set()).add(user)
