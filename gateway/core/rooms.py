"""A room the gateway watches, bound to its policy, crisis region and moderators' room.

Why its own module: the engine, the case lifecycle and the commands all need to know what a room is and
who moderates it; none of them should have to import another to learn it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import Authority
from ..policy.model import Policy

__all__ = ["RoomBinding"]


@dataclass(frozen=True)
class RoomBinding:
    """A room the gateway watches: its policy, crisis region and where its moderators are."""

    network: str
    room: str
    policy: Policy
    region: str
    moderators_network: str
    moderators_room: str | None
    network_type: str = "generic"  # "matrix" lets alerts carry a matrix.to link
    name: str | None = None  # how messages name the room to people; default: the room as configured

    @property
    def display_name(self) -> str:
        return self.name or self.room

    def is_moderator(self, authority: Authority) -> bool:
        mods = self.policy.moderators
        return bool(
            (authority.power_level is not None and authority.power_level >= mods.power_level)
            or authority.operator
            or (authority.account is not None  # services accounts are case-insensitive (Anope, Atheme)
                and authority.account.casefold() in {a.casefold() for a in mods.accounts})
        )
