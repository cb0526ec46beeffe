"""Issue 25, items 3, 5, 6 and the rules' share of 1: the speaker, not the topic.

What a person would see with the shipped default policy: a helper telling of someone else at risk is
never removed and never sent the crisis message; a recovery story, a marked lyric, a supportive reply
and distress without any wish to die get nothing; self-harm and eating-distress acts and questions get
the self-harm message at high, never a removal; suicide method questions get the crisis message.
"""

from __future__ import annotations

import dataclasses

import pytest

from gateway.core import actions as A
from gateway.detection import detector_for
from gateway.detection import detector as detector_module
from gateway.detection.decision import Detection, speaker_first

from .conftest import say


def only(actions, kind):
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, f"expected one {kind.__name__}, got {[type(a).__name__ for a in actions]}"
    return found[0]


def template(policy, detection):
    """The private message a case for ``detection`` would send (``Policy.message_for``)."""
    return policy.message_for(detection.rules, policy.tiers[detection.tier].action.message)


@pytest.fixture(scope="module")
def rules_only(default_policy):
    """The default policy's rules without the learned model (the model is another part of issue 25)."""
    return dataclasses.replace(default_policy, model=dataclasses.replace(default_policy.model, enabled=False),
                               _detector=None)


# -- item 5: a helper is never the one removed -------------------------------------------------------

HELPERS = [
    "my friend just texted me she wants to end it all tonight, what do i do",
    "my sister texted me saying she's going to kill herself tonight, what do I do",
    "she's on the bridge right now and won't answer her phone",
    "my boyfriend just told me he took all his pills, what should i do",
    "he just sent me a pic of the pills lined up on his desk",
    "my mate sent me a goodbye message saying this is my last message",
    "she told me she swallowed a whole pack of paracetamol an hour ago",
    "my brother is standing on the roof, what do i do",
]


@pytest.mark.parametrize("text", HELPERS)
def test_someone_elses_imminent_risk_is_a_third_party_case_not_the_writers(default_policy, text):
    detector = detector_for(default_policy)
    d = detector.detect(text)
    assert d.tier == "none" and d.third_party and not detector.would_remove(d), d


def test_the_helper_gets_how_to_help_and_the_moderators_a_case_never_a_removal(engine):
    out = engine.handle(say("my friend just texted me she wants to end it all tonight, what do i do",
                            sender="@ana:test"))
    assert only(out, A.OpenCase).kind == "thirdparty"
    dm = only(out, A.SendPrivate)
    assert dm.user == "@ana:test" and "someone you know may be at risk" in dm.text
    assert "Something you wrote made us worried" not in dm.text  # not crisis_dm
    assert "take you out of" not in dm.text  # no removal note
    assert "nobody was removed" in only(out, A.AlertModerators).text
    assert not [a for a in out if isinstance(a, A.RemoveFromRoom)]


def test_the_writers_own_act_beside_someone_elses_risk_stops_at_high(default_policy):
    detector = detector_for(default_policy)
    d = detector.detect("my friend wants to die and honestly i took all my pills an hour ago")
    assert d.tier == "high" and not detector.would_remove(d)  # theirs: crisis message, never removal


def test_the_precedence_holds_after_any_later_stage(default_policy, monkeypatch):
    """``speaker_first`` runs last in the detector: a stage that says imminent (a compositional stage,
    the model) cannot turn a helper's message into a removal."""
    theirs = Detection("imminent", ("imminent.any_later_stage",), third_party=("third_party.told_me",),
                       someone_else=True)
    assert speaker_first(theirs).tier == "none" and speaker_first(theirs).third_party
    mixed = dataclasses.replace(theirs, someone_else=False)
    assert speaker_first(mixed).tier == "high"
    monkeypatch.setattr(detector_module, "decide", lambda *args: (theirs, True))
    detector = detector_module.Detector(default_policy)
    assert detector.detect("anything at all").tier == "none"


# -- item 5: recovery, lyrics, fiction ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "two years ago I tried to take my own life, still here and better",
    "i used to cut myself but ive been clean for 8 months now",
    "back when i was 16 i tried to overdose and therapy really helped",
    "i tried to hang myself back in 2018. therapy and meds saved me",
    "last year i was standing on a bridge ready to jump. this year im getting married",
    "3 years ago i swallowed a bottle of pills. today im at uni and actually happy",
])
def test_a_past_attempt_told_as_recovery_gets_nothing(default_policy, text):
    assert detector_for(default_policy).detect(text).tier == "none"


@pytest.mark.parametrize("text, tier", [
    ("i used to cut, and last night i cut again", "high"),
    # folded, this reads like "a year ago tonight i'd planned to end it. tonight im eating pizza": the
    # crisis message and an alert, but no removal on a reading that may be the past
    ("two years ago i tried to kill myself and tonight im going to finish it", "high"),
    ("i used to be ok but now i want to die", "high"),
])
def test_what_is_back_now_is_still_flagged(default_policy, text, tier):
    assert detector_for(default_policy).detect(text).tier == tier


def test_an_anniversary_of_a_past_plan_is_never_a_removal(default_policy):
    detector = detector_for(default_policy)
    d = detector.detect("a year ago tonight i'd planned to end it. tonight im eating pizza with my flatmates")
    assert not detector.would_remove(d)


@pytest.mark.parametrize("text", [
    "i hurt myself today to see if i still feel",
    '"i hurt myself today to see if i still feel" such a good song',
    "lyrics: i hurt myself today to see if i still feel",
    "as the song goes i want to die",
    "writing a story where my character stands on a cliff edge deciding whether to jump",
])
def test_a_marked_lyric_or_fiction_gets_nothing(default_policy, text):
    assert detector_for(default_policy).detect(text).tier == "none"


# -- item 6: a supportive reply is not the writer's risk -------------------------------------------

@pytest.mark.parametrize("text", [
    "I've been there, I tried to end it at 19, please reach out to someone you trust or a crisis line. "
    "You're not alone and it really can get better.",
    "please don't hurt yourself tonight. i know the urge to cut, i had it for years. message me or call "
    "samaritans",
    "sending love. ive been suicidal before and what got me through was telling one person. can you tell "
    "someone today?",
    "you're not alone. i tried to kill myself at 17 and i'm so glad i'm still here. please call samaritans",
])
def test_a_supportive_reply_telling_of_the_writers_past_is_not_flagged(default_policy, text):
    d = detector_for(default_policy).detect(text)
    assert d.tier == "none" and not d.abuse, d


# -- item 3: self-harm and eating distress as acts and intents ----------------------------------------

@pytest.mark.parametrize("text", [
    "how do i hide the marks on my arms",
    "best way to hurt myself without anyone knowing",
    "should I keep cutting",
    "where can you cut so nobody sees it at pe",
    "scratched till it bled again",
    "how do i make myself throw up after eating",
    "easiest way to purge without anyone hearing",
    "haven't eaten in three days and still feel disgusting",
    "skipped lunch, going to tell mum i ate at my friends",
    "how long can i go without eating before people notice",
])
def test_self_harm_and_eating_distress_acts_reach_high_with_the_self_harm_message(default_policy, text):
    detector = detector_for(default_policy)
    d = detector.detect(text)
    assert d.tier == "high" and not detector.would_remove(d), d
    assert template(default_policy, d) == "self_harm_dm", d.rules


def test_the_self_harm_message_is_what_the_person_gets(engine):
    out = engine.handle(say("best way to hurt myself without anyone knowing"))
    dm = only(out, A.SendPrivate)
    assert "may be hurting yourself" in dm.text and "take you out of" not in dm.text


@pytest.mark.parametrize("text", [
    "how many pills is too many? how many would it actually take",
    "how many paracetamol would it take to die",
    "whats the most painless way to die",
    "what dose of my antidepressants would be enough to not wake up",
])
def test_suicide_method_questions_reach_high_with_the_crisis_message(default_policy, text):
    detector = detector_for(default_policy)
    d = detector.detect(text)
    assert d.tier == "high" and not detector.would_remove(d), d
    assert template(default_policy, d) == "crisis_dm"


@pytest.mark.parametrize("text", [
    "how many ibuprofen can i take in a day", "should i keep cutting my hair short", "best way to cut onions",
    "haven't eaten all day, going to grab a pizza", "how do i hide the marks from my new tattoo",
    "i threw up after the rollercoaster", "whats the most painless way to get a tattoo",
])
def test_everyday_questions_like_them_are_not_flagged(default_policy, text):
    assert detector_for(default_policy).detect(text).tier == "none"


# -- item 1 (the rules' share): distress without a wish to die is not risk -------------------------

@pytest.mark.parametrize("text", [
    "I feel so hopeless and worthless lately", "i feel worthless", "i cant do this anymore",
    "nothing matters anymore", "everything feels pointless lately", "no way out of this debt",
    "im such a burden to everyone", "whats the point of trying anymore",
])
def test_distress_without_a_wish_to_die_gets_no_rule(rules_only, text):
    assert detector_for(rules_only).detect(text).tier == "none"


@pytest.mark.parametrize("text", [
    "i wish i was dead", "everyone would be better off without me", "i hope i dont wake up tomorrow",
    "no reason to live anymore", "i dont want to be alive anymore",
])
def test_passive_ideation_stays_concern(rules_only, text):
    assert detector_for(rules_only).detect(text).tier == "concern"


# -- item 5 (other harms): words aimed at others never give the writer a tier ------------------------

@pytest.mark.parametrize("text", [
    "that guy should jump off a bridge", "im going to kill him if he touches my bike again",
    "i want to punch my boss in the face", "send me nudes",
])
def test_harm_aimed_at_others_gives_the_writer_no_tier(default_policy, text):
    d = detector_for(default_policy).detect(text)
    assert d.tier == "none" and not d.third_party, d


def test_please_dont_kill_yourself_is_not_abuse(default_policy):
    detector = detector_for(default_policy)
    assert not detector.detect("please don't kill yourself, you matter").abuse
    assert detector.detect("why don't you just kill yourself").abuse


# -- round 2: classes the first held-out half showed missing (lines of our own, other wording) ----------

@pytest.mark.parametrize("text", [
    # concealing fresh or healing wounds, or waiting for them to fade so nobody sees
    "how can i cover up healing marks for my cousins wedding",
    "how do i get my scars to fade so people dont notice them",
    # an urge to cut with an intensifier; cutting a body part again
    "i need to cut so badly tonight",
    "been cutting my thighs again since the exams started",
    # purging asked about in any way; food chosen to bring back up; binge purge without "and"
    "any tricks to purge without my flatmates noticing",
    "which meals are easiest to get back up",
    "stuck in a binge purge loop again",
    "i force myself sick whenever i eat dinner",
    # restriction: not eaten for a week or more, water only, lying that one ate, fooling a weigh-in
    "have not eaten properly for nearly two weeks",
    "trying to survive the week drinking only water",
    "skipped breakfast again and told my dad i had something at school",
    "i pretend i ate at work so my partner doesnt worry",
    "how do i trick the scales before my clinic weigh in",
    "do diet pills show up on a drug test, my mum cant find out",
    "how long till sh scars fade enough that nobody asks",
    "told my therapist i ate breakfast when i didnt",
    "will the hospital see laxatives in my bloods",
    "lasted four days on water only",
    # a cover story laughed off is deflection, not a joke
    "burned my arm with a lighter again, told everyone i fell on the hob lol",
    "cut myself again and my mum thinks its just the cat lol",
])
def test_self_harm_and_eating_acts_by_class_reach_high_with_the_self_harm_message(default_policy, text):
    detector = detector_for(default_policy)
    d = detector.detect(text)
    assert d.tier == "high" and not detector.would_remove(d), d
    assert template(default_policy, d) == "self_harm_dm", d.rules


def test_the_risky_sentence_of_a_long_post_is_reached_past_a_joke_elsewhere(default_policy):
    detector = detector_for(default_policy)
    d = detector.detect("placement is going fine and my mentor is nice lol. been cutting my wrists again and wearing "
                        "long sleeves to hide it. anyway what is everyone reading this month?")
    assert d.tier == "high" and template(default_policy, d) == "self_harm_dm", d


def test_jumping_off_a_place_named_earlier_is_active_thoughts(default_policy):
    d = detector_for(default_policy).detect(
        "i keep driving past the multistorey and imagining throwing myself off it")
    assert d.tier == "high" and template(default_policy, d) == "crisis_dm", d


@pytest.mark.parametrize("text", [
    "it'd be easier for my family if i simply wasnt here",
    "sometimes i think things would be better if i never existed",
    "if i went to sleep and didnt wake up that would be ok",
    "part of me is praying the cancer takes me soon",
    "i just want to sleep for ever",
])
def test_passive_ideation_by_class_is_concern(rules_only, text):
    assert detector_for(rules_only).detect(text).tier == "concern"


def test_a_plan_told_years_later_while_helping_others_gets_nothing(default_policy):
    text = "i was planning to kill myself at 15. eight years on im here helping others in this group"
    assert detector_for(default_policy).detect(text).tier == "none"


@pytest.mark.parametrize("text", [
    "still scratching my head about that ending", "best way to cover acne scars for prom",
    "how to cover new scars from my surgery", "how do i stop feeling hungry on a diet",
    "i want to cut my hair so bad", "best way to purge the cache", "skipped lunch and told my boss i ate at my desk",
    "i lied about eating the last cookie", "omg im going to kill myself lol", "my gf thinks im just lazy lol",
    "fell asleep on the sofa and didnt wake up till noon", "hoping this rain takes me back to childhood",
    "my doctor wants me to do 2 days on just water before the op", "i had lunch when i didnt have time for it",
    "i want to cut ties with him so badly", "we binge watched and then purged the fridge",
    "did they find laxatives in the water supply",
])
def test_ordinary_lines_like_the_new_classes_are_not_flagged(default_policy, text):
    assert detector_for(default_policy).detect(text).tier == "none"


def test_a_cover_story_beside_a_joke_marker_never_ends_in_a_removal(default_policy):
    detector = detector_for(default_policy)
    d = detector.detect("took all my pills, mum thinks im just tired lol")
    assert d.tier == "high" and not detector.would_remove(d), d
