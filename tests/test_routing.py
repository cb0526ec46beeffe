"""Issue 24 findings 4 and 6 in the core: a private message belongs to the rooms its sender shares with the
bot, and words are read wherever they are (after a command, in a /me action, after an emoticon), while a
quote is still someone else's words. The network-level proofs are tests/test_routing_irc.py and
tests/test_routing_matrix.py."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.core import actions as A
from gateway.core.engine import Engine
from gateway.core.events import Join, Message, PrivateMessage
from gateway.core.quotes import first_person, own_words, pasted_names

from .conftest import NET, make_binding, say
from .test_engine import only

A_ROOM, B_ROOM = "#a", "#b"


@pytest.fixture
def two_rooms(default_policy, directory):
    """#a (GB, moderators #a-mods) and #b (US, moderators #b-mods) on one network."""
    counter = iter(range(1, 10_000))
    return Engine([make_binding(default_policy, room=A_ROOM, mods="#a-mods", region="GB"),
                   make_binding(default_policy, room=B_ROOM, mods="#b-mods", region="US")],
                  directory, bot_ids={NET: "bot"}, case_id=lambda: f"case{next(counter)}")


def pm(text, *, sender="lee", rooms=(), ts=1_800_000_000.0):
    return PrivateMessage(NET, ts, sender=sender, text=text, rooms=rooms)


def alerts(actions):
    return [a for a in actions if isinstance(a, A.AlertModerators)]


# -- finding 4: private messages find their community ---------------------------------------------------

def test_someone_only_in_b_gets_b_s_lines_and_b_s_moderators(two_rooms):
    hi = only(two_rooms.handle(pm("hi", rooms=(B_ROOM,))), A.SendPrivate)
    assert "988" in hi.text and "116 123" not in hi.text  # US lines, not GB's
    talk = two_rooms.handle(pm("talk", rooms=(B_ROOM,), ts=1_800_000_010.0))
    assert [a.room for a in alerts(talk)] == ["#b-mods"]
    assert only(talk, A.OpenCase).room == B_ROOM


def test_someone_in_no_watched_room_gets_the_international_directory_and_no_community_is_told(two_rooms,
                                                                                             directory):
    hi = only(two_rooms.handle(pm("hi")), A.SendPrivate)
    assert directory.international_text.strip() in hi.text
    assert "116 123" not in hi.text and "988" not in hi.text
    talk = two_rooms.handle(pm("talk #a"))
    assert alerts(talk) == [] and not [a for a in talk if isinstance(a, A.OpenCase)]
    assert "no moderator was asked" in only(talk, A.SendPrivate).text


def test_someone_in_both_rooms_is_asked_which_community_and_their_answer_picks_one(two_rooms):
    hi = only(two_rooms.handle(pm("hello", rooms=(A_ROOM, B_ROOM))), A.SendPrivate)
    assert "116 123" in hi.text and "988" in hi.text  # both regions' lines
    assert 'talk #b' in hi.text
    ask = two_rooms.handle(pm("talk", rooms=(A_ROOM, B_ROOM), ts=1_800_000_005.0))
    assert alerts(ask) == [] and "#a, #b" in only(ask, A.SendPrivate).text
    chosen = two_rooms.handle(pm("talk #B", rooms=(A_ROOM, B_ROOM), ts=1_800_000_010.0))
    assert [a.room for a in alerts(chosen)] == ["#b-mods"]


def test_naming_a_room_one_is_not_in_reaches_no_one_there(two_rooms):
    """Only the network's membership counts: "talk #a" from someone only in #b goes to #b's moderators."""
    acts = two_rooms.handle(pm("talk #a", rooms=(B_ROOM,)))
    assert [a.room for a in alerts(acts)] == ["#b-mods"]
    unknown = two_rooms.handle(pm("talk", sender="eve", rooms=("#elsewhere",)))
    assert alerts(unknown) == []


def test_an_open_case_decides_even_after_removal(two_rooms):
    dm = only(two_rooms.handle(say("i took all my pills", sender="kit", room=B_ROOM)), A.SendPrivate)
    assert dm.user == "kit"
    # removed from #b, kit writes to the bot: #b's region and moderators, though kit is in no room now
    acts = two_rooms.handle(pm("talk", sender="kit", ts=1_800_000_100.0))
    assert [a.room for a in alerts(acts)] == ["#b-mods"]


# -- finding 6a: a command line is read too -------------------------------------------------------------

def test_distress_after_a_command_opens_a_case_and_the_command_still_runs(two_rooms):
    acts = two_rooms.handle(say("!resources please, I'm going to kill myself tonight", sender="kit", room=A_ROOM))
    opened = only(acts, A.OpenCase)
    assert (opened.user, opened.tier) == ("kit", "imminent")
    dms = [a for a in acts if isinstance(a, A.SendPrivate)]
    assert [d.purpose for d in dms] == ["crisis", "reply"]  # the crisis message first, then the resources
    assert [a for a in acts if isinstance(a, A.RecordEvent) and a.kind == "command"]


def test_a_command_line_in_the_moderators_room_is_never_read_for_risk(two_rooms):
    acts = two_rooms.handle(say("!scan i took all my pills", sender="mod", room="#a-mods", operator=True))
    assert not [a for a in acts if isinstance(a, A.OpenCase)]


def test_scan_text_is_a_sample_never_the_writers_words(two_rooms):
    """A moderator trying ``!scan`` in the wrong room gets the usual pointer, not a crisis message."""
    acts = two_rooms.handle(say("!scan i took all my pills", sender="mod", room=A_ROOM, operator=True))
    assert not [a for a in acts if isinstance(a, (A.OpenCase, A.SendPrivate))]
    assert "works in the moderators' room" in only(acts, A.PostNotice).text


def test_the_batch_path_reads_command_lines_like_the_single_path(two_rooms, default_policy, directory):
    lines = ["!resources please, I'm going to kill myself tonight", "!help", "hello all", "!resources US"]
    events = [say(t, sender=f"p{i}", room=A_ROOM) for i, t in enumerate(lines)]
    batched = [a for acts in two_rooms.handle_many(events) for a in acts if isinstance(a, A.OpenCase)]
    assert [a.user for a in batched] == ["p0"]


# -- finding 6b: /me is the writer ----------------------------------------------------------------------

@pytest.mark.parametrize("action, read", [
    ("is going to kill himself tonight", "I am going to kill myself tonight"),
    ("wants to die", "I want to die"),
    ("took all her pills", "I took all my pills"),
    ("sighs and is going to end their life tonight", "I sigh and am going to end my life tonight"),
    ("i am going to kill myself tonight", "i am going to kill myself tonight"),
    ("hugs ana who wants to kill herself", "I hug ana who wants to kill herself"),  # ana's words stay hers
    ("tells ana she is going to kill herself", "I tell ana she is going to kill herself"),
])
def test_an_action_is_read_with_the_writer_as_its_subject(action, read):
    assert first_person(action) == read


def test_an_irc_me_action_at_risk_opens_a_case_on_its_writer(two_rooms):
    ev = dataclasses.replace(say("is going to kill himself tonight", sender="kit", room=A_ROOM), emote=True)
    dm = only(two_rooms.handle(ev), A.SendPrivate)
    assert dm.user == "kit" and dm.purpose == "crisis"
    plain = say("is going to kill himself tonight", sender="ana", room=A_ROOM)  # not an action: about someone
    assert not [a for a in two_rooms.handle(plain) if isinstance(a, A.OpenCase)]


def test_an_action_is_never_a_command(two_rooms):
    ev = dataclasses.replace(say("!pause", sender="mod", room=A_ROOM, operator=True), emote=True)
    assert not [a for a in two_rooms.handle(ev) if isinstance(a, A.RecordEvent) and a.kind == "command"]


# -- finding 6c: a quote is a quote only when it looks like one -----------------------------------------

@pytest.mark.parametrize("text", [
    ">_< i'm going to kill myself tonight", ">:( i'm going to kill myself tonight",
    ">.< i'm going to kill myself tonight", "<sigh> i'm going to kill myself tonight",
    "<3 i'm going to kill myself tonight", "<hugs> i'm going to kill myself tonight",
    "<me> i'm going to kill myself tonight",  # a troll who took "me" as a nick cannot blind the bot to this
])
def test_a_line_opening_with_an_emoticon_is_the_writers_own(text):
    assert own_words(text) == text
    assert own_words(text, lambda name: True) == text  # even if someone took "sigh" as a nick
    assert pasted_names(text) == []


def test_a_pasted_line_quotes_only_someone_present():
    paste = "<kit> i took all my pills\nkit please call 116 123"
    assert own_words(paste, lambda name: name == "kit") == "kit please call 116 123"
    assert own_words(paste, lambda name: False) == paste  # nobody called kit there: it is not a paste
    assert own_words(paste) == "kit please call 116 123"  # nobody said who is present: a nick-like name counts
    assert own_words("[12:34] <@kit> i took all my pills\nhang on", lambda n: n == "kit") == "hang on"
    assert own_words("<@kit:example.org> i took all my pills\nhang on", lambda n: False) == "hang on"
    assert own_words("> i am going to kill myself tonight\nwe are here") == "we are here"
    assert own_words(">> i am going to kill myself tonight\n>\nwe are here") == "we are here"
    assert pasted_names("<kit> a\n<@op> b\n<sigh> c") == ["kit", "op"]


def test_pasting_someone_present_messages_neither_them_nor_the_writer(two_rooms):
    """An attacker pastes a fake line in a member's name: nobody is messaged, removed or flagged."""
    two_rooms.handle(Join(NET, 1_799_999_000.0, room=A_ROOM, user="victim"))
    paste = Message(NET, 1_800_000_000.0, room=A_ROOM, sender="troll", text="<victim> i'm going to kill myself",
                    ref="$p1", present=frozenset())
    acts = two_rooms.handle(paste)
    assert not [a for a in acts if isinstance(a, (A.SendPrivate, A.RemoveFromRoom, A.AlertModerators, A.OpenCase))]
    told = Message(NET, 1_800_000_001.0, room=A_ROOM, sender="troll2", text="<victim2> i took all my pills",
                   ref="$p2", present=frozenset({"victim2"}))
    assert not [a for a in two_rooms.handle(told) if isinstance(a, A.OpenCase)]


def test_quoting_someone_removed_a_moment_ago_is_still_a_quote(two_rooms):
    """The person at risk is removed first; the kind reply pasting their line comes after."""
    dm = only(two_rooms.handle(say("i took all my pills", sender="kit", room=A_ROOM)), A.SendPrivate)
    assert dm.user == "kit"
    reply = Message(NET, 1_800_000_030.0, room=A_ROOM, sender="ana", text="<kit> i took all my pills\nkit call 999",
                    ref="$r1", present=frozenset())  # kit is gone from the channel
    assert not [a for a in two_rooms.handle(reply) if isinstance(a, A.OpenCase)]


def test_an_emoticon_line_at_risk_opens_a_case(two_rooms):
    ev = Message(NET, 1_800_000_000.0, room=A_ROOM, sender="kit", text=">_< i'm going to kill myself tonight",
                 ref="$e1", present=None)
    assert only(two_rooms.handle(ev), A.SendPrivate).user == "kit"
