"""The compact IRC crisis messages in German, French and Spanish (issue 27): each line of a template is one IRC
line wherever the room is, so several people at once get their whole message within the flood limit.

The free lines are the longest part of a line and depend on the room's region, so every region of the shipped
directory is tried, with a long channel name, as a person in such a room would receive it."""

from __future__ import annotations

import types

import pytest

from adapters.irc import IrcAdapter
from gateway.policy.crisis_lines import load_directory
from gateway.core.engine import Engine
from gateway.core.rooms import RoomBinding

from .conftest import MODS, NET
from .test_templates import LANGUAGES, room_policy

LONG_CHANNEL = "#selbsthilfe-entraide-apoyo-mutuo-2026ab"  # 40 characters
IRC_MESSAGES = ("crisis_dm_irc", "concern_dm_irc", "self_harm_dm_irc", "crisis_dm_again_irc")


def irc_lines(text: str) -> list[str]:
    """The PRIVMSG lines the IRC adapter sends for ``text`` to a nick of the longest usual length."""
    return IrcAdapter._text_lines(types.SimpleNamespace(), "PRIVMSG", "somebody_long_nick", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_line_of_an_irc_crisis_message_is_one_irc_line_in_every_region(write, language):
    assert len(LONG_CHANNEL) == 40
    policy = room_policy(write, language)
    directory = load_directory()
    too_long = []
    for region in sorted(directory.regions):
        binding = RoomBinding(NET, LONG_CHANNEL, policy, region, NET, MODS, network_type="irc")
        fields = Engine([binding], directory).render_fields(binding)
        fields["removal_note"] = policy.render(policy.variant("removal_note", "irc"), **fields)
        for name in IRC_MESSAGES:
            text = policy.render(name, **fields)
            written = text.count("\n") + 1
            if len(irc_lines(text)) != written:
                too_long.append(f"{region} {name}: {[len(line.encode()) for line in text.splitlines()]} bytes")
    assert not too_long, too_long
