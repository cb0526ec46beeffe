"""The case lifecycle (gateway/core/cases.py): every listed transition is allowed, every other refused, and the
engine driven by random outcomes and moderator commands never makes an illegal one and never removes a
person before a private message of their own case was accepted."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import actions as A
from gateway.core.cases import TRANSITIONS, Alerting, Case, Handling, IllegalTransition, Outreach, Removal
from gateway.detection import Detection
from gateway.core.engine import Engine
from gateway.core.events import PrivateMessage, Tick

from .conftest import MODS, ROOM, make_binding, say
from .test_engine import outcome

ASPECTS = (Outreach, Removal, Alerting, Handling)
FIELD = {Outreach: "outreach", Removal: "removal", Alerting: "alerting", Handling: "handling"}


def a_case(binding) -> Case:
    return Case("c1", binding, "@kit:test", Detection("imminent", ("imminent.x",)), None, 0.0, False)


def test_every_state_has_a_row_in_the_table():
    assert set(TRANSITIONS) == {s for aspect in ASPECTS for s in aspect}


@pytest.mark.parametrize("aspect", ASPECTS, ids=lambda a: a.__name__)
def test_every_listed_transition_is_allowed_and_every_other_refused(aspect, default_policy):
    binding = make_binding(default_policy)
    for start in aspect:
        for end in aspect:
            case = a_case(binding)
            setattr(case, FIELD[aspect], start)
            if end is start or end in TRANSITIONS[start]:
                case.to(end)
                assert getattr(case, FIELD[aspect]) is end
            else:
                with pytest.raises(IllegalTransition):
                    case.to(end)
                assert getattr(case, FIELD[aspect]) is start  # nothing changed


def test_a_delivered_message_and_a_done_removal_are_final_within_a_round(default_policy):
    """Only a detection that joins the open case starts again, from pending (its own round)."""
    assert TRANSITIONS[Outreach.DELIVERED] == {Outreach.PENDING} and TRANSITIONS[Removal.DONE] == {Removal.PENDING}
    assert not TRANSITIONS[Handling.CLOSED]


def test_what_moderators_read_is_derived_from_the_state(default_policy):
    case = a_case(make_binding(default_policy))
    case.to(Outreach.SENDING)
    case.to(Outreach.FAILED, "M_FORBIDDEN")
    case.to(Removal.KEPT_DM_FAILED)
    assert case.dm_text == "not delivered (M_FORBIDDEN)"
    assert case.removal_text == "kept in the room (private message failed; policy keeps them)"
    assert case.dm_attempted and not case.dm_accepted and not case.removed


def test_facts_follow_the_state_not_flags(default_policy):
    case = a_case(make_binding(default_policy))
    assert not case.dm_attempted
    case.to(Outreach.SENDING)
    case.to(Outreach.DELIVERED)
    assert case.dm_accepted and case.dm_attempted
    with pytest.raises(IllegalTransition):
        case.to(Outreach.FAILED)  # an accepted message cannot become a failed one


# -- the engine under random outcomes -------------------------------------------------------------

EXPECTING = (A.SendPrivate, A.RemoveFromRoom, A.AlertModerators, A.RedactMessage, A.Readmit)
LINES = ["i took all my pills", "i want to die", "i wish i was dead"]
moves = st.lists(st.tuples(st.sampled_from(["outcome", "remove", "ack", "close", "readmit", "again", "tick", "talk"]),
                           st.booleans(), st.integers(min_value=0, max_value=50)), max_size=25)


@given(st.sampled_from(LINES), moves)
@settings(max_examples=int(__import__("os").environ.get("GATEWAY_CASE_EXAMPLES", "300")), deadline=None)
def test_random_outcomes_and_commands_never_break_the_rules(default_policy, directory, text, script):
    """Whatever the network answers, in whatever order, and whatever moderators do: no illegal
    transition (it would raise), and every RemoveFromRoom of a case comes after an accepted private
    message of that case (the policy keeps a person whose message failed)."""
    counter = iter(range(1, 10_000))
    engine = Engine([make_binding(default_policy)], directory, bot_ids={"test": "@bot:test"},
                    case_id=lambda: f"case{next(counter)}")
    waiting: list[A.Action] = []
    accepted: set[str] = set()
    ts = 1_800_000_000.0

    def take(actions):
        for a in actions:
            if isinstance(a, A.JournalStep) and a.name == "round":
                accepted.discard(a.case)  # a joined detection's round: its removal needs a message of its own
            if isinstance(a, A.RemoveFromRoom):
                assert a.case in accepted, "a removal without an accepted private message of its case"
            if isinstance(a, EXPECTING):
                waiting.append(a)

    take(engine.handle(say(text, ts=ts)))
    case_id = next((c.id for c in engine.cases()), None)
    for move, ok, pick in script:
        ts += 1
        if move == "outcome" and waiting:
            action = waiting.pop(pick % len(waiting))
            if isinstance(action, A.SendPrivate) and ok and action.purpose == "crisis":
                accepted.add(action.case)
            take(engine.handle(outcome(action, ok=ok, code=None if ok else "M_FORBIDDEN", ts=ts)))
        elif move == "again":  # a line of any tier: it joins the open case (its own round) or opens one
            take(engine.handle(say(LINES[pick % 3], ts=ts, sender="@kit:test")))
        elif move == "talk":  # a "talk" reply joins the open case
            take(engine.handle(PrivateMessage("test", ts, sender="@kit:test", text="talk", rooms=(ROOM,))))
        elif move == "tick":  # time passes: repeated and widened alerts, follow-up reminders
            ts += pick * 1000
            take(engine.handle(Tick("", ts)))
        elif move != "outcome" and case_id is not None:
            command = {"remove": "!remove", "ack": "!ack", "close": "!close", "readmit": "!readmit"}[move]
            take(engine.handle(say(f"{command} {case_id}", room=MODS, sender="@mod:test", power=100, ts=ts)))
    for case in engine.cases():
        for aspect in ASPECTS:
            assert isinstance(getattr(case, FIELD[aspect]), enum.Enum)


def test_remove_while_the_message_is_in_flight_sends_no_second_one_and_removes_once_it_is_accepted(engine):
    from .test_engine import only

    dm = only(engine.handle(say("i wish i was dead")), A.SendPrivate)  # concern: no removal by the tier
    reply = engine.handle(say(f"!remove {dm.case}", room=MODS, sender="@mod:test", power=100))
    assert not [a for a in reply if isinstance(a, (A.SendPrivate, A.RemoveFromRoom))]
    assert "already under way" in only(reply, A.PostNotice).text
    removal = only(engine.handle(outcome(dm)), A.RemoveFromRoom)
    assert removal.case == dm.case


def test_a_tighter_detection_while_the_first_message_is_on_its_way_waits_for_it_then_gets_the_short_one(engine):
    """One case per person: a tighter line while the case's message is still on its way joins the case
    and waits for that message's outcome (two full crisis messages a second apart help nobody); then it
    gets the short one, of the same case, never nothing."""
    from .test_engine import only

    first = only(engine.handle(say("i wish i was dead")), A.SendPrivate)  # concern, outcome not in yet
    same = engine.handle(say("i wish i was dead honestly", ts=1_800_000_300.0))
    assert not [a for a in same if isinstance(a, A.SendPrivate)]  # cooldown
    tighter = engine.handle(say("i want to die", ts=1_800_000_301.0))
    assert not [a for a in tighter if isinstance(a, (A.SendPrivate, A.OpenCase))]  # joined, waiting
    after = engine.handle(outcome(first, ts=1_800_000_302.0))
    short = only(after, A.SendPrivate)
    assert short.case == first.case and len(short.text) < len(first.text) and short.seq == 2  # crisis_dm_again
    assert [c.tier for c in engine.cases()] == ["high"]
