"""Imminence by composition (gateway/detection/compose.py, policy `compose:`): an act or plan read from its
parts within a few words, and removal kept to the writer's own act or plan, now.

The lines are the developers' own, written for each part (none is from the tuning file): for each, lines
that must be removed (imminent) and near-misses that must not be (an everyday use of the same words,
someone else's act, a past told, a story, a question, a negation, a joke)."""

from __future__ import annotations

import pytest

from gateway.detection import detector_for, tier_level
from gateway.text.folding import normalise
from gateway.policy.loader import PolicyLoader
from gateway.yamlfiles.located import ConfigErrors

from .conftest import GOOD

IMMINENT = {
    "act": [
        "necked the whole packet of co-codamol about an hour ago",
        "i've swallowed every tablet in the house, starting to feel dizzy",
        "popped 30 of my sertraline just now",
        "just slit my wrist, its pouring",
        "overdosed on my antidepressants an hour ago and im scared",
        "i've taken every painkiller i could find, feeling sick now",
        "all 28 of my quetiapine are gone, swallowed them before bed",
        "ive taken all of my nortriptyline, every last one",   # a drug named by its ending
    ],
    "means": [
        "the blade is in my hand right now and im not stopping",
        "have 50 tablets lined up on the bed for tonight",
        "razor in my hand, doing it after this message",
        "im holding dads pistol right now",
        "a full bottle of oxy next to me and its happening tonight",
        "there's a noose hanging from the loft hatch and i'm standing on the stool",
        "the hosepipe is taped to the exhaust and i'm sitting in the car",
    ],
    "pronoun": [
        "found nans morphine. taking it all tonight",
        "had a stash of tramadol, swallowed the lot of them",
        "the tablets from the chemist are here. taking them all at 2am",
        "bought a rope, going to use it tonight",
        "saved up my insulin for this. injecting all of it now",
    ],
    "timing": [
        "once my flatmate goes to sleep im ending it",
        "im going to kill myself on saturday",
        "by this time tomorrow i wont exist",
        "ending my life tonight after the kids are in bed",
        "gonna end it all at midnight, nothing is stopping me",
        "doing it on sunday while the house is empty",
        "going to drive into the river tonight",
        "by the weekend i'll be dead, ive made my mind up",
        "i won't see tomorrow. i'm sorry",
    ],
    "place": [
        "standing on the edge of the multistorey now. goodbye everyone",
        "on the railway bridge, sorry for everything",
        "im on the roof of my building, legs over the edge",
        "at the top of the cliff now, ready to jump",
        "sat on the railings of the bridge, cant do this anymore, goodbye",
        "on top of the car park, ready to jump",
        "at the station, going to jump in front of the next train",
    ],
    "preparation": [
        "wrote goodbye letters to my kids last night. tomorrow is the day",
        "counted out all my pills, doing it friday",
        "gave my cat to my sister and deleted my accounts. it happens tonight",
        "ive been stockpiling my meds for months, tonight is the night",
        "i've sorted my will, given the dog away and written to mum. it's tonight",
    ],
    "farewell": [
        "tell my mum im sorry. goodbye forever",
        "thanks for trying everyone, this is goodbye for good",
        "i love you all. dont look for me. bye",
        "if anyone finds this, im sorry for everything. the pills are in me now",
    ],
    "obfuscated": [
        "ｉ　ｓｗａｌｌｏｗｅｄ　ｔｈｅｍ　ａｌｌ　ｊｕｓｔ　ｎｏｗ",   # full-width letters and spaces
        "𝐢 𝐭𝐨𝐨𝐤 𝐚𝐥𝐥 𝐦𝐲 𝐩𝐢𝐥𝐥𝐬 𝐭𝐨𝐧𝐢𝐠𝐡𝐭",               # mathematical bold
        "ɪ ꜱᴡᴀʟʟᴏᴡᴇᴅ ᴛʜᴇ ʟᴏᴛ ᴏꜰ ᴛʜᴇᴍ",                  # small capitals
        "tоnight im еnding it, bye",                     # Cyrillic о and е
        "e.n.d.i.n.g i.t t.o.n.i.g.h.t",                 # letters spaced by dots, words by spaces
        "t a k i n g   a l l   m y   p i l l s   n o w",   # letters spaced, words by a wider gap
        "sw4ll0w3d 4ll my t4bl3ts 5 m1ns ag0",           # leetspeak, a digit at the edge of a word too
        "ｇｏｎｎａ　ｔａｋｅ　ｔｈｅｍ　ａｌｌ　ｔｏｎｉｇｈｔ",
    ],
    # the issue's own examples
    "issue": [
        "swallowed the lot of them",
        "top floor of the car park. goodbye x",
        "picked it up after work, friday it is",
        "all my pills counted out on the desk and tonight is the night",
        "I have the pills right here and I am doing it tonight",
    ],
}

NOT_REMOVED = {
    "act": [
        "took two paracetamol for my headache just now",
        "i swallowed a fly on my run this morning",
        "cut my hair just now, hate it",
        "i nearly overdosed on chocolate this weekend",
        "made cookies and ate them all just now",
    ],
    "means": [
        "bought a new kitchen knife, cooking tonight",
        "have my meds ready for tomorrow morning",
        "my razor is in my hand, shaving now",
        "my car is in the garage with the engine running a diagnostic",
        "got the tablets ready for nan for tomorrow, her memory is going",
        "bought a new belt for the wedding on saturday",
        "tied the boat to the pier just now, lovely day",
        "got all my tablets sorted in the weekly box for tomorrow",
        "sitting on the pier now with chips, the tide is in",
        "got the rope lights up for christmas, tonight we switch them on",
        "at the edge of the lake now with the dog, so peaceful",
        "downed a whole bottle of water after the run",
        "took two of my painkillers for my back just now",
        "the pills the doctor gave me are working, took them an hour ago and feel better",
    ],
    "pronoun": [
        "the new tablets arrived, taking them with food tonight as prescribed",
        "found my old blades from when i used to self harm. threw them all away today, proud of myself",
        "got a new phone, gonna set it up tonight",
        "took them all back to the shop today",
        "swallowed a whole pizza just now, food coma",
    ],
    "timing": [
        "tonight is the night, first gig in ages",
        "friday it is then, pub at 8",
        "im ending it with my boyfriend tonight",
        "after i send this im going to sleep, night all",
        "i won't be here tomorrow, going camping",
        "doing it tonight! finally asking her out",
        "im done with all of it, quitting my job on monday",
    ],
    "place": [
        "on the roof of the shed fixing the felt",
        "walking over the bridge to school, see you later",
        "i want to jump off a bridge",                   # a wish, not being there: high at most
    ],
    "preparation": [
        "deleted my instagram for a week, bye for now",
        "gave my old bike to my cousin today",
        "wrote my will after the baby was born",
        "i made a plan to kill myself",                  # a plan with no time: high
        "counted out the money for the trip, leaving friday",
        "gave away all my plants before moving, sad",
        "wrote letters to my pen pals today, posting them tomorrow",
    ],
    "farewell": [
        "bye everyone, off to bed, see you tomorrow",
        "thank you for everything, leaving this job on friday",
        "love you all, see you at the party tonight",
        "goodbye forever to my old phone, new one arrived today",
        "bye everyone, deleting the app for a month, see you in june",
        "goodbye forever, old job! first day at the new place tomorrow",
    ],
    # item 4: only the writer's own act or plan, now, removes
    "someone else": [
        "my friend took all her pills last night and is in hospital",
        "she swallowed the whole bottle an hour ago, im with her",
        "he has a gun in his hand right now, im calling the police",
        "my brother is on the bridge and texted goodbye, what do i do",
        "hes got the rope and says hes going to the woods tonight",
    ],
    "past": [
        "two years ago i took an overdose. still here and doing better",
        "three years ago i wrote letters to everyone. tonight im celebrating being alive",
        "a year ago tonight i was on the bridge. today im grateful",
    ],
    "story": [
        "in the movie she stands on the ledge and says goodbye",
        "writing a story where the character swallows all her pills tonight",
        "lyrics: took all the pills tonight goodbye forever",
    ],
    "question": [
        "what if i took them all",
        "if i took all my pills tonight would anyone care",
        "how many would it take if i swallowed the whole packet",
        "if this meeting runs over again ill be dead by 5",
    ],
    "negation": [
        "i have the pills lined up but im not taking them tonight",
        "i dont have the pills ready for tonight",
        "im not going to do it tonight, promise",
    ],
    "joke": [
        "took the whole bottle of pills lol",
        "im about to kms if this printer doesnt work lmao",
    ],
}


# Round 2: each class widened after the first held-out half was read, checked on lines written here in
# other words than the held-out misses (a class, not a phrasing).
IMMINENT_CLASSES = {
    "dose said as a load or a heap": "took a load of my mums tablets. feel weird",
    "a means put up (rigged)": "the cable is up and im on the stool",
    "a farewell with a time": "last goodbye from me. no more suffering after tomorrow",
    "warm words in chat spelling, with a time": "love yall so much. after tonight please dont be sad",
    "if someone finds this": "if someone finds this in the morning, sorry for everything",
    "nice knowing you, the next life": "been good knowing you all. see u in another life",
    "not your fault, then a goodbye": "it isnt your fault dad. goodbye",
    "dont try to find me": "on top of the tower block, dont try to look for me",
    "an apology to those left, doing it now": "im doing it right now. sorry mum",
    "a will made and a time planned": "wrote out my will and left my bank details for my brother. planned it for sunday night",
    "a high place named by its level": "sat on the top deck of the car park, goodbye",
    "a fast train": "waiting for the express train that doesnt stop. love you guys",
    "not walking back from a place": "at the harbour wall now, not planning to walk back",
    "the water's state at a place": "by the weir, the current is so strong. im going in",
    "the next train due at a clock time": "sat by the level crossing. next one is due 10:15",
    "no one there, and a sorry": "on the cliff path, no one about, sorry dad",
    "heading to a place with traffic": "the railway line is near my house, trains flying past every few mins. heading there now",
    "a hose and an exhaust": "the hosepipe from the shed fits the tailpipe. when everyones asleep",
    "knowing where the means is kept": "i know where the key to the gun cabinet is. tonight",
    "a dose under the pillow, tonight's the one": "two months of sleeping tablets under my pillow, tonights the one",
    "a means in a bag, when home": "the blade is in my coat pocket, using it when i get back",
    "in a little bit": "going to take them all in a little bit",
    "having the lot at a time": "saved a tub of co-codamol. having the lot at 3am",
    "not slowing down": "taking mums car out on the motorway tonight and wont slow down for the bend",
    "where it all ends": "heres where it all ends. goodbye forever",
    "not here any more, in minutes": "in twenty minutes i won't be here any more",
    "a day chosen, a cover story told": "set the date and told everyone im going camping so nobody checks on me. saturday",
    "everything ready, as I type": "as i type this its all ready in the bathroom",
    "a thought after the act does not cap it": "on the ledge of the tower block now, ready to jump. i keep thinking about my dog",
}

NOT_REMOVED_CLASSES = {
    "standing on a bridge, nothing more": "standing on the bridge watching the boats, lovely evening",
    "warm words before exams": "love you all, going offline after tonight for my exams, dont be sad",
    "a last day at work": "last day at work tomorrow, thank you for everything, love you all",
    "a see-you with a time": "thanks for everything guys, love you all, see you at 8 tonight",
    "a chat apology": "sorry everyone, doing it now, the quiz starts in 5",
    "alone by water, at peace": "sitting by the lake, no one around, so peaceful this morning",
    "trainspotting with a clock time": "at the tracks watching the trains, next one is due at 3 15",
    "the sea on a quiet walk": "the sea is rough, no one around, love it",
    "a hose for the garden": "the hose fits the tap now, watering the garden tonight",
    "a thought before the act caps it": "i keep thinking about taking all my pills tonight",
    "a real holiday": "set the date for our holiday, going camping on saturday",
    "the burn hidden, not a plan": "burned my hand on the oven and its blistering now, how do i hide it so no one notices",
}


@pytest.mark.parametrize("name", sorted(IMMINENT_CLASSES))
def test_each_widened_class_removes_on_new_wording(detector, name):
    result = detector.detect(IMMINENT_CLASSES[name])
    assert result.tier == "imminent" and detector.would_remove(result), (name, result)


@pytest.mark.parametrize("name", sorted(NOT_REMOVED_CLASSES))
def test_each_widened_class_keeps_its_everyday_uses(detector, name):
    result = detector.detect(NOT_REMOVED_CLASSES[name])
    assert not detector.would_remove(result), (name, result)


def test_a_thought_caps_what_follows_it_a_condition_caps_either_side(detector):
    assert detector.detect("i keep thinking about taking all my pills tonight").tier == "high"
    assert detector.detect("gonna take them all tonight if nobody answers me").tier != "imminent"


@pytest.fixture(scope="module")
def detector(default_policy):
    return detector_for(default_policy)


@pytest.fixture(scope="module")
def rules_only(tmp_path_factory):
    """The default policy without the imminence score (``model.imminence``, on in the shipped default): what the rules
    alone decide, for tests that hold a tier the rules give (the score may raise some of those lines: its own tests)."""
    from gateway.policy.loader import PolicyLoader
    path = tmp_path_factory.mktemp("rules-only") / "r.yaml"
    path.write_text("extends: default\nname: r\nmodel:\n  imminence: null\n")
    found = detector_for(PolicyLoader([path.parent]).load(str(path)))
    assert found.own.imminence is None
    return found


@pytest.mark.parametrize("part, text", [(p, t) for p, lines in IMMINENT.items() for t in lines])
def test_an_act_or_plan_made_of_parts_is_imminent_and_removes(detector, part, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), (part, result)
    assert any(".compose." in r for r in result.rules) or part in ("act", "issue"), result.rules


@pytest.mark.parametrize("part, text", [(p, t) for p, lines in NOT_REMOVED.items() for t in lines])
def test_near_misses_are_never_removed(detector, part, text):
    result = detector.detect(text)
    assert not detector.would_remove(result), (part, result)


@pytest.mark.parametrize("text", [
    "what if i swallowed the whole packet tonight", "if i took all my pills tonight would anyone care",
    "i have the pills lined up but im not taking them tonight", "took the whole bottle of pills lol"])
def test_a_question_a_negation_or_a_joke_is_high_at_most(detector, text):
    """Still a private message and an alert, never a removal."""
    assert detector.detect(text).tier == "high"


def test_the_rule_id_says_which_combination_fired(detector):
    assert detector.detect("top floor of the car park. goodbye x").rules == ("imminent.compose.place_farewell",)
    assert "imminent.compose.swallowed_all" in detector.detect("swallowed the lot of them").rules
    assert "imminent.compose.obtained_chosen" in detector.detect("picked it up after work, friday it is").rules


def test_someone_elses_act_matched_by_an_imminent_rule_is_dropped(detector):
    """Strictness covers the tier's own rules too: "took an overdose" is someone else's here."""
    result = detector.detect("my brother took an overdose last night, hes in hospital now")
    assert result.tier != "imminent" and "imminent.act_under_way" in result.suppressed


def test_the_batch_path_finds_every_line_a_combination_fires_on(detector):
    lines = [t for ts in IMMINENT.values() for t in ts] + [t for ts in NOT_REMOVED.values() for t in ts]
    lines += list(IMMINENT_CLASSES.values()) + list(NOT_REMOVED_CLASSES.values())
    lines += ["just an ordinary line about lunch", "the lot of them were late again"] * 20
    assert detector.detect_many(lines) == [detector.detect(t) for t in lines]


@pytest.mark.parametrize("raw, expected", [
    ("ｉ　ｔｏｏｋ　ｔｈｅｍ", "i took them"),          # full-width letters, ideographic space
    ("𝐭𝐨𝐨𝐤 𝓽𝓱𝓮𝓶", "took them"),                   # mathematical bold and script
    ("ⓣⓞⓞⓚ ᵗʰᵉᵐ", "took them"),                   # circled and superscript
    ("ᴛᴏᴏᴋ ᴛʜᴇᴍ", "took them"),                      # small capitals (not NFKC)
    ("🆃🅾🅾🅺 🅣🅗🅔🅜", "took them"),                    # negative squared and circled (not NFKC)
    ("k.i.l.l.i.n.g m.y.s.e.l.f a.t 3", "killing myself at 3"),
    ("g o i n g   t o   j u m p", "going to jump"),
    ("e.g. this", "e g this"),                         # two letters: an abbreviation, left alone
    ("t00k 4ll th3m 10 m1ns ag0", "took all them 10 mins ago"),  # a digit at the edge of a word
    ("g00dby3 3v3ry0n3", "goodbye everyone"),
    ("at 3am on the 5th, 8mg", "at 3am on the 5th 8mg"),   # units are not leetspeak
])
def test_compatibility_letters_and_spaced_words_fold(raw, expected):
    assert normalise(raw) == expected
    assert normalise(expected) == expected


# -- the policy --------------------------------------------------------------------------------------

def load(path):
    return PolicyLoader([path.parent]).load(str(path))


def errors_of(path) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load(path)
    return [str(e) for e in info.value.errors]


def test_a_room_policy_extends_the_parts_and_removes_a_combination(write):
    path = write("peer.yaml", GOOD + """
compose:
  parts:
    means:
      phrases: ["purple cord"]
  combinations:
    place_farewell: null
""")
    d = detector_for(load(path))
    assert d.detect("holding the purple cord right now").rules == ("imminent.compose.means_at_hand",)
    assert d.detect("top floor of the car park. goodbye x").tier != "imminent"


def test_a_part_inside_an_everyday_phrase_of_another_sense_is_that_phrase_and_the_parts_beside_it_still_count(write):
    """``compose.OTHER_SENSE`` (round 19): a part's hit inside an ``other_sense`` phrase ("la fin du ramadan", "la corde
    du store") is not that part; the same part said again beside it is."""
    path = write("peer.yaml", GOOD + """
compose:
  parts:
    means:
      phrases: ["purple cord"]
    other_sense:
      phrases: ["purple cord shop"]
""")
    d = detector_for(load(path))
    assert d.detect("holding the purple cord right now").rules == ("imminent.compose.means_at_hand",)
    assert d.detect("holding a bag from the purple cord shop right now").tier == "none"
    assert d.detect("the purple cord shop bag, and holding the purple cord right now").rules == (
        "imminent.compose.means_at_hand",)


def test_a_guard_inside_an_everyday_phrase_of_another_sense_stays_a_guard(write):
    """A guard's words inside an ``other_sense`` phrase still read as the guard (the phrase says the line is ordinary; it
    must not make the rest of the message less so)."""
    path = write("peer.yaml", GOOD + """
compose:
  parts:
    means:
      phrases: ["purple cord"]
    other_sense:
      phrases: ["rope swing purple cord"]
""")
    d = detector_for(load(path))
    assert d.detect("fixing the rope swing purple cord, holding the purple cord right now").tier == "none"


def test_bad_parts_and_combinations_are_reported_at_their_line(write):
    path = write("p.yaml", GOOD + r"""
compose:
  guard:
    pasts: drop
    framing: maybe
  parts:
    Bad-Name: {phrases: [x]}
    empty: {}
    broken: {regexes: ['(a+']}
  combinations:
    mine:
      parts: [act, meens|dose]
      tier: urgent
    other:
      parts: []
      tier: high
      unless: [nothing]
""")
    errs = [e.split(": ", 1)[1] for e in errors_of(path)]
    assert f"{path}:9:5: compose.guard.pasts: no part named 'pasts' (did you mean 'past'?)" in errors_of(path)
    assert "compose.guard.framing: expected one of drop, setting, concern, high, imminent, got 'maybe'" in errs
    assert "compose.parts.Bad-Name: part names are 1-48 characters of a-z, 0-9 and _" in errs
    assert "compose.parts.empty: a part needs at least one phrase or regex" in errs
    assert any(e.startswith("compose.parts.broken.regexes[0]: bad regex") for e in errs)
    assert "compose.combinations.mine.parts[1]: no part named 'meens' (did you mean 'means'?)" in errs
    assert any(e.startswith("compose.combinations.mine.tier: no tier named 'urgent'") for e in errs)
    assert "compose.combinations.other.parts: a combination needs at least one part" in errs
    assert any(e.startswith("compose.combinations.other.unless[0]: no part named 'nothing'") for e in errs)


@pytest.mark.parametrize("text, removed", [
    ("some nights i hope i just wont be here in the morning", False),  # a wish to be dead: not a plan
    ("wish i wouldnt wake up tomorrow honestly", False),
    ("took all my pills, hope i dont wake up", True),  # the act comes first: the wish does not govern it
    ("i wish i could say bye to my mum. took the whole box of my tablets an hour ago", True),  # too far
])
def test_a_wish_governs_only_what_follows_it_closely(detector, text, removed):
    result = detector.detect(text)
    assert detector.would_remove(result) is removed, result
    assert result.level >= 1, result  # a wish to be dead still gets a message and an alert


def test_check_says_what_a_room_policy_changes_in_the_composition(tmp_path):
    """`gateway check`: a dropped combination or phrases taken from a part weaken detection."""
    from gateway.policy.diff import compare

    path = tmp_path / "room.yaml"
    path.write_text("extends: default\nname: room\ncompose:\n  parts:\n    place: {phrases: ['the old quarry']}\n"
                    "  combinations:\n    exhaust: null\n", encoding="utf-8")
    room = PolicyLoader([tmp_path]).load(str(path))
    changes = [str(c) for c in compare(PolicyLoader().load("default"), room)]
    assert "warning: compose.combinations: imminent.compose.exhaust dropped" in changes
    assert "compose.parts.place: 1 phrases added" in changes


# Round 3: the false removals of the second held-out half, made strict as classes; each class checked on
# lines written here in other words (none is a held-out line).
STRICT_CLASSES = {
    "a bare future governs an everyday task, not the means": [
        "got a new knife from the market today, gonna try carving the roast on sunday",
        "just bought a chefs knife, gonna make a stir fry tonight",
        "ordered a new blade for my craft knife, gonna finish the model tonight",
        "got my knives sharpened, gonna make a curry tonight",
    ],
    "owning a means with only a time": [
        "got the razor out, gonna shave my head tonight",
        "got a rope for the tree swing, gonna set it up saturday",
        "picked up some rope at the hardware store, gonna hang the hammock tomorrow",
    ],
    "a line quoted from a show": [
        '"tonight i end it all" - that villain monologue in the finale was insane',
        '"i have the rope, im ready now" what a scene, that actor deserves an award',
        '"i\'ll use the knife tonight" best line of the series honestly',
    ],
    "ending a streak, a challenge, a contract": [
        "im ending it at midnight... my 30 day no sugar challenge",
        "ending it tonight. my 2 year duolingo streak, rip",
        "im ending it tomorrow, three years with this phone contract and im done",
        "friday im ending it all: the group chat, everything 💅",
    ],
    "goodbye to a town, hello to the next": [
        "at the top of the tower taking in the view. goodbye paris, hello rome next week",
        "standing on the cliff at sunset, goodbye summer, hello autumn",
        "on the pier one last time, goodbye brighton, off to uni tomorrow",
    ],
    "up high for fun": [
        "sat on the edge of the cliff with my sandwiches, the view from up here is amazing",
        "sitting on top of the tower at the festival, up here with the whole crew",
        "legs dangling over the edge of the harbour wall eating chips, living my best life",
        "sitting on the edge of the pier with a pint, watching the boats",
    ],
    "a last post before moving elsewhere": [
        "this is my last post on this account, moving to a new one. thanks all",
        "this is my last message here, switching to telegram. bye all",
        "this is my last post of the year, see you all in january",
        "my last message in this chat, im leaving for the new group. bye all",
    ],
}

STILL_REMOVED = [
    "ive got the rope. tonights the night",            # owning a means, with a time chosen
    "gonna take all 40 of my tablets tonight",          # a bare future with a dose
    "this is my last message. goodbye forever",        # a last post with a farewell
    "on the bridge, legs over the railing. goodbye",   # a place with a strong position
    "the knife is here, gonna use it tonight",          # a plan that names the use of the means
]


@pytest.mark.parametrize("name, text", [(n, t) for n, lines in STRICT_CLASSES.items() for t in lines])
def test_everyday_lines_of_each_strict_class_get_nothing(detector, name, text):
    result = detector.detect(text)
    assert result.tier == "none" and not detector.would_remove(result), (name, result)


@pytest.mark.parametrize("text", STILL_REMOVED)
def test_the_strict_classes_still_remove_the_real_act(detector, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), result


# Round 3, recall: misses of the second held-out half by class, checked in other words (a class, not a line).
RECALL_CLASSES = {
    "a method named, with a time": "going to hang myself on friday night once everyone is asleep",
    "never waking up, with a time": "my insulin is in the fridge. using all of it after tea and not wake up",
    "the notes written, a time": "notes written, doing it at 2am",
}

STRICT_RECALL_NEAR_MISSES = [
    "looked up how to make sourdough, doing it tomorrow",
    "looked up how long the drive is, leaving tonight",
    "hiding in the shed so nobody finds me, hide and seek tonight",
    "got everything i need to bake the cake tomorrow",
    "the dog lead is tied to the bench outside the shop, back in a minute",
    "twisted my ankle, not going to hospital tonight, so dont bother asking",
    "gonna hang my washing out sunday morning when the house is empty",
    "got my insulin pens, gonna use both of them after dinner like always",
    "thank u all for being my friends this year, see you next term",
]


@pytest.mark.parametrize("name", sorted(RECALL_CLASSES))
def test_each_round3_recall_class_removes(detector, name):
    result = detector.detect(RECALL_CLASSES[name])
    assert result.tier == "imminent" and detector.would_remove(result), (name, result)


@pytest.mark.parametrize("text", STRICT_RECALL_NEAR_MISSES)
def test_round3_recall_parts_keep_their_everyday_uses(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result), result


ROUND3_MORE_RECALL = {
    "wrists opened, the water red": "opened up my wrists, the water is going red. no going back",
    "bleach drunk, a sorry to the room": "drank bleach about ten minutes ago. sorry all",
    "help refused is not a negation": "took 50 of my sertraline an hour ago. not going to a and e so dont bother",
    "a time marked by a song": "60 tablets lined up here. when this song ends im swallowing all of them",
    "over the railing, thanks for being my friends": "on the wrong side of the barrier now. thank you all for being my friends",
}

ROUND3_MORE_NEAR_MISSES = [
    "accidentally drank bleach water from the mop bucket, sorry everyone",
    "sat on the wall with my legs over the edge, thanks for being such good mates tonight",
    "after this song finishes im taking my meds like always",
    "took 2 ibuprofen for my ankle, not going to hospital for a sprain so dont bother",
    "sorry everyone, doing it now, the quiz starts in 5",
]


@pytest.mark.parametrize("name", sorted(ROUND3_MORE_RECALL))
def test_round3_act_and_place_classes_remove(detector, name):
    result = detector.detect(ROUND3_MORE_RECALL[name])
    assert result.tier == "imminent" and detector.would_remove(result), (name, result)


@pytest.mark.parametrize("text", ROUND3_MORE_NEAR_MISSES)
def test_round3_act_and_place_classes_keep_their_everyday_uses(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result), result


# Round 4 (issue 25): the misses of the third held-out half read by class, each class written here in other
# words (tests/data/parts-own-r4.csv has more), with the near misses that share its words.
ROUND4_CLASSES = {
    "a time that is when": (
        ["the blades are in my pencil case. friday night is when"],
        ["friday night is when the new episode drops", "decided saturday is when i do it, the big spring clean"]),
    "nobody around, a meal time": (
        ["20 of my mums tramadol in my pocket, taking them at lunchtime when nobody is around"],
        ["once no ones home im gonna blast music so loud", "taking my lunch at lunchtime when nobody is around"]),
    "a method chosen, the steps worked out": (
        ["figured out how and where. sunday", "planned out every step of it. thursday at 6"],
        ["figured out how to get to the venue, see you sunday", "planned out every step of the hike, thursday at 6"]),
    "everything got, the day ending the message": (
        ["got everything i need. friday night"],
        ["already got everything i need tonight for the sleepover"]),
    "an amount worked out is no question": (
        ["got my dads heart pills and i know how many it would take. taking them when he leaves at 8"],
        ["i know how many scoops it would take, feeding her at midnight"]),
    "a will changed, given to keep, a day chosen": (
        ["changed my will and gave my bike to my cousin to keep forever. tmrw night is when"],
        ["changed my will after the wedding, the solicitor says its all in order for monday"]),
    "a note left, a last post": (
        ["last post from me. leaving notes for my brothers and heading out now"],
        ["leaving a note for the plumber and heading to the gym now"]),
    "a farewell read later": (
        ["mum if you ever find this please dont blame yourself. tonight is my last night"],
        ["if you ever read this book the ending will wreck you", "when you read this text me back, im outside"]),
    "a goodbye said properly, then the act": (
        ["needed to say goodbye properly. doing it once this is sent"],
        ["wanted to say goodbye properly to everyone before i move to leeds on friday"]),
    "obfuscated verbs with a time": (
        ["self deleting tonight, everything is set", "unaliving at 3am"],
        ["that video about unaliving got taken down again"]),
    "all or both of a means": (
        ["the codeine is in my bag, downing all of them after tea"],
        ["the cupcakes are on the side, having all of them later tonight"]),
    "a ligature on a hanging point": (
        ["tied the dog lead to the curtain rail, using it when they go out"],
        ["the dog lead is tied to the banister so he cant get upstairs, right now hes whining",
         "the dog lead is tied to the banister, im ready for our walk"]),
    "not coming down from a high place": (
        ["sat on top of the multi storey and im not coming down"],
        ["up on the roof fixing the aerial, not coming down till its sorted"]),
    "woods and forests only with no one around": (
        ["in the middle of the woods, nobody will find me here. goodbye"],
        ["the woods behind my house are so pretty tonight, love you all", "in the forest for the weekend, goodbye wifi"]),
    "a car running in a shut garage": (
        ["garage door shut, engine on, im sitting in the car"],
        ["the car is running in the garage, im sitting in it till the windscreen defrosts"]),
    "a whole insulin pen": (
        ["injecting a whole pen of insulin at midnight"],
        ["injecting the whole pen tonight, the nurse taught me how"]),
    "part of a container": (
        ["downed most of the bottle, feel so sick"],
        ["i swallowed most of the bottle of wine lol", "took half the box of cereal"]),
    "a poison drunk": (
        ["drank some of the weedkiller half an hour ago"],
        ["drank bleach by accident, going to a and e"]),
    "on the railway itself": (
        ["kneeling on the railway line, next train is due"],
        ["standing on the train tracks for a photo, no trains on sunday", "sat on the motorway in traffic for two hours"]),
    "warm thanks with an absence": (
        ["thanks for everything. i wont be here anymore after today"],
        ["thanks for everything guys, im gone, see you monday", "love you all, im gone for the weekend"]),
    "if anyone cares, then gone": (
        ["not that anyone cares but ill be gone by sunrise"],
        ["if anyone cares, im going to be gone by 10 tomorrow for the dentist"]),
    "a means saved up for weeks": (
        ["been hoarding my codeine for two weeks. tonights the night"],
        ["going away for two weeks, took all my tablets with me"]),
    "the night named for an everyday plan": (
        ["ive decided. tonights the night"],
        ["ive decided, tonight is the night i ask him out", "ive decided, tonights the night i tell her how i feel"]),
    "a swim or a season from a high place": (
        ["standing on the edge of the pier, im going in. goodbye"],
        ["on the edge of the harbour wall, jumping in for the sponsored swim",
         "sat on the railway bridge waiting for the steam train, goodbye summer"]),
    "absence made sure of": (
        ["im not going to be here tomorrow. ive made sure of it"],
        ["no going back now, i wont be here tomorrow, moved to manchester"]),
}
ROUND4_NEAR_MISSES = [
    "my nans heart tablets got left here, taking them over to her after tea",   # delivered, not taken
    "picked up dads prescription for him, taking it round to his flat tonight",
    "took all my meds this morning like a good girl",                           # the day's doses
    "took all my medication with breakfast, feeling alright",
    "doing it tonight!!! dyeing my hair at 8 after dad goes out",              # "it" named after
]
# an act done beside an everyday setting ("in the shower", "at the festival"): high, never nothing, not a removal
ROUND4_ACT_IN_A_SETTING = [
    "swallowed all 30 of my citalopram in the shower",
    "necked the whole box of co-codamol at the festival",
]


def _removes_and_keeps(detector, name, removed, kept):
    """A class's risk lines are imminent and removed; its near misses are never removed."""
    for text in removed:
        result = detector.detect(text)
        assert result.tier == "imminent" and detector.would_remove(result), (name, "removed", result)
    for text in kept:
        result = detector.detect(text)
        assert not detector.would_remove(result), (name, "kept", result)


@pytest.mark.parametrize("name", sorted(ROUND4_CLASSES))
def test_each_round4_class_removes_and_keeps_its_near_misses(detector, name):
    removed, kept = ROUND4_CLASSES[name]
    _removes_and_keeps(detector, name, removed, kept)


@pytest.mark.parametrize("text", ROUND4_NEAR_MISSES)
def test_round4_near_misses_are_not_removed(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result), result


@pytest.mark.parametrize("text", ROUND4_ACT_IN_A_SETTING)
def test_an_act_done_beside_an_everyday_setting_is_high(rules_only, text):
    """The rules' own tier (the imminence score raises some of these scenes: tests/test_model_imminence.py)."""
    detector = rules_only
    result = detector.detect(text)
    assert result.tier == "high" and not detector.would_remove(result), result


def test_a_person_spoken_to_is_not_the_subject_someone_at_risk_still_is(detector):
    assert detector.detect("dad if you ever read this please dont blame yourself, im doing it tonight").tier == "imminent"
    for text in ("im scared for my mum, took all her tablets an hour ago",
                 "i told my brother to stop, took all his meds"):
        assert not detector.would_remove(detector.detect(text)), text


@pytest.mark.parametrize("text", [
    "my gf has the car running in the closed garage and shes sat in it, help",
    "he tied the dog lead to the banister and said hes using it tonight",
    "my brother has a blade in his hand right now and says hes using it tonight",
])
def test_someone_elses_composed_act_is_a_third_party_case(detector, text):
    """Someone else's act or plan, read by composition: the writer gets a third-party case, never a removal."""
    result = detector.detect(text)
    assert result.tier == "none" and result.someone_else and "third_party.compose" in result.third_party, result


@pytest.mark.parametrize("text", [
    "she swallowed the whole box of pills in the film",                # a story: nothing
    "he took all his meds this morning like always",                   # the day's doses: no case from composition
])
def test_someone_elses_everyday_or_story_act_is_no_composed_case(detector, text):
    assert "third_party.compose" not in detector.detect(text).third_party


def test_the_writers_own_farewell_beside_someone_is_still_theirs(detector):
    result = detector.detect("love you all, this is the end for me. at 10 im going. please someone feed my cat")
    assert "third_party.compose" not in result.third_party


# Round 5 (issue 25): the misses of the fourth held-out half read by class, each class written here in other
# words (tests/data/parts-own-r5.csv has more), with the near misses that share its words.
ROUND5_CLASSES = {
    "a dose and the body failing": (
        ["took the lot of my sleeping tablets, everythings spinning now",
         "necked a box of co codamol and my ears are ringing"],
        ["two glasses of prosecco and the rooms spinning lol", "took the kids to the fair, everythings spinning after the waltzer"]),
    "fumes shut in, and the body failing": (
        ["engine running with the garage door shut, i cant keep my eyes open",
         "lit the charcoal and taped the door, getting so sleepy"],
        ["engine running in the drive to defrost the windscreen, so cold", "lit the charcoal for the bbq, burgers on in 10"]),
    "a cut that goes on bleeding": (
        ["the cut on my thigh wont stop bleeding and i dont care"],
        ["cut my thumb on a tin lid and it wont stop bleeding, plasters anyone", "he cut his knee and it keeps bleeding"]),
    "in the water and going further": (
        ["waist deep in the canal and walking further out. sorry mum"],
        ["waist deep in the lake for the charity swim, so cold", "knee deep in the river with my fishing rod"]),
    "a ligature on the neck": (
        ["the cable is looped round my neck and tied to the bunk bed"],
        ["my scarf is round my neck, its so cold out", "the dog lead is round my neck so i dont lose it, walkies"]),
    "means made ready with a time or a goodbye": (
        ["the tablets are popped out and on the side. once mum is asleep",
         "guns loaded, sat in the woods with it on my lap"],
        ["the cupcakes are out and on the side, once mum is asleep we eat them", "the dishwasher is loaded, off to bed"]),
    "all of it used up": (
        ["had every last one of my quetiapine, no undoing it now",
         "downing them one after the other, halfway through the packet"],
        ["had every last one of the cookies, no regrets", "finished the lot of the lasagne, so full"]),
    "a list put in order with a time": (
        ["rehomed my hamster and wiped my phone. sunday night when theyre at church"],
        ["rehomed my hamster and wiped my old phone before i move to york on sunday",
         "cancelled my gym and deleted snapchat for exam season, its time to study"]),
    "a preparation then its time": (
        ["counted out all my tablets on the bed. its time now"],
        ["counted out the raffle tickets, its time for the draw"]),
    "a place with a farewell, the place named first": (
        ["at the viaduct now. please someone feed my rabbits"],
        ["at the viaduct now for the steam train photos, please someone feed my rabbits at 6"]),
    "a farewell and no return": (
        ["tell my brother i love him. im not coming back home"],
        ["tell my brother i love him, im not coming back home till late, staying at sams"]),
}
# The probe written after the first rules of round 5 (tests/data/parts-own-r5b.csv), its misses by class in other words
ROUND5_PROBE_CLASSES = {
    "fumes, shut in, the body failing (three signs, not two)": (
        ["motor running with the shutter down and my chest feels so heavy"],
        ["engine running, sat in the car outside school, so tired today", "in the tent after the hike, cant get up lol"]),
    "pills eaten like food": (
        ["ate them all like smarties, feeling woozy already"],
        ["ate them all, the mince pies, cant move my legs lol"]),
    "in the water and still going": (
        ["up to my neck in the estuary and still walking"],
        ["walking in the woods, still walking, no one around", "up to my neck in the bay on the paddleboard, so cold"]),
    "a ligature on a rail round the neck": (
        ["the lead is on the rail and around my throat now"],
        ["tied my scarf around my neck, its freezing", "hung my coat on the rail, scarf round my neck, off to work"]),
    "pills pressed out with a time": (
        ["the tablets are all pushed out on my pillow. soon as mums snoring"],
        ["the tablets are pushed out into nans dosette for the week, she snores through her 8pm ones"]),
    "off a high place, a time": (
        ["once this sends im walking off the viaduct"],
        ["once this sends im walking off the viaduct path towards the station to meet dad"]),
    "an apology to the family from a high place": (
        ["on the edge of the flyover, traffic right below. tell dad im sorry"],
        ["on the flyover in traffic, tell dad im sorry im late"]),
}
# The second probe (tests/data/parts-own-r5c.csv): the shapes its misses had, in other words
ROUND5_PROBE2_CLASSES = {
    "the body failing, said as a body part and what it does": (
        ["necked my mums zopiclone, my lips are going blue"],
        ["necked an energy drink, my hands are tingling lol", "swallowed a fly on my run and the room is spinning"]),
    "an engine said any way, in a shut garage": (
        ["van is ticking over in the closed garage and my eyes are closing"],
        ["van is ticking over in the closed garage while dad fixes the door"]),
    "in the water, the current taking the writer": (
        ["im in the canal and the water is dragging me, im letting it"],
        ["standing in the river in my waders, the current pulling at my legs, trout everywhere"]),
    "a noose on and the chair going": (
        ["noose is on and the stool is tipping under me"],
        ["the noose is on the scarecrow for halloween"]),
    "a gun loaded across the lap": (
        ["rounds in, the rifle across my lap. sorry mum"],
        ["rifle across my lap on the range, one in the chamber, waiting for the whistle"]),
    "pill packets emptied, then waiting": (
        ["pill bottles are empty on the bed and now i wait"],
        ["the pill bottles are empty so im picking up my prescription now"]),
    "a means put aside for weeks": (
        ["been setting my diazepam aside for weeks. friday"],
        ["been setting money aside for weeks, friday is payday"]),
}
# everyday lines that share the round's new words, each found by a spot check after the rules (not removed)
ROUND5_NEAR_MISSES = [
    "love you mum, im at the bridge club, back at 9",                               # a place that is a club, a return
    "thank you for everything, the meds are ready on the side for the morning",     # the day's doses laid out
    "the engine is running in the garage with the door shut, mechanic is checking the exhaust",
]
# no means named, or no act: a crisis message (high), never a removal
ROUND5_HIGH = [
    "its in my hand and im doing it right now",                       # a means unnamed
    "blood is soaking through my sleeve and im feeling faint",       # bleeding, no act named
]


@pytest.mark.parametrize("name", sorted(ROUND5_CLASSES))
def test_each_round5_class_removes_and_keeps_its_near_misses(detector, name):
    removed, kept = ROUND5_CLASSES[name]
    _removes_and_keeps(detector, name, removed, kept)


@pytest.mark.parametrize("name", sorted(ROUND5_PROBE_CLASSES))
def test_each_round5_probe_class_removes_and_keeps_its_near_misses(detector, name):
    removed, kept = ROUND5_PROBE_CLASSES[name]
    _removes_and_keeps(detector, name, removed, kept)


@pytest.mark.parametrize("name", sorted(ROUND5_PROBE2_CLASSES))
def test_each_round5_second_probe_class_removes_and_keeps_its_near_misses(detector, name):
    removed, kept = ROUND5_PROBE2_CLASSES[name]
    _removes_and_keeps(detector, name, removed, kept)


@pytest.mark.parametrize("text", ROUND5_NEAR_MISSES)
def test_round5_near_misses_are_not_removed(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result), result


@pytest.mark.parametrize("text", ROUND5_HIGH)
def test_a_scene_without_its_means_is_high_not_nothing(rules_only, text):
    """The rules' own tier (the imminence score raises some of these scenes: tests/test_model_imminence.py)."""
    detector = rules_only
    result = detector.detect(text)
    assert result.tier == "high" and not detector.would_remove(result), result


@pytest.mark.parametrize("name, missed", [("parts-own-r5.csv", 2), ("parts-own-r5b.csv", 1), ("parts-own-r5c.csv", 1)])
def test_round5_own_lines_keep_what_round5_reached_on_them(detector, name, missed):
    """Round 5's own lines and its two probes (each committed before the rules it measured, then tuned on): 46 of 48,
    23 of 24 and 23 of 24 imminent lines removed, none of their near misses (a regression floor; failures name CSV lines, never
    the text)."""
    import csv
    from pathlib import Path
    path = Path(__file__).resolve().parent / "data" / name
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.would_remove(detector.detect(row["text"]))) for i, row in enumerate(rows)]
    kept = [n for n, label, removed in judged if label == "imminent" and not removed]
    wrong = [n for n, label, removed in judged if label != "imminent" and removed]
    assert len(kept) <= missed and not wrong, f"not removed (CSV lines): {kept}; removed wrongly: {wrong}"


def test_someone_asked_to_look_after_something_is_not_the_one_acting(detector):
    """"someone please feed my cat": the one asked, not the subject of the act that follows; someone who acts is."""
    for text in ("someone please feed my rabbits. the belt is fixed to the beam and im standing on the chair now",
                 "can someone look after my cat. im at the top of the multi storey with my legs over the side"):
        result = detector.detect(text)
        assert result.tier == "imminent" and detector.would_remove(result), (text, result)
    result = detector.detect("someone please help, my friend took all her pills an hour ago")
    assert not detector.would_remove(result) and result.someone_else, result


# Round 8 (issue 25): half of held-out set 7's imminent lines got no tier at all. Two signals of the writer's own
# scene where nothing more precise fired are high (the crisis message, never a removal: combinations marked
# ``fallback``); the removal stays with an act, a means with a time, a place with a goodbye. In other words than
# tests/data/parts-own-r8.csv, each with near misses that share its words.
ROUND8_HIGH = [
    "its in my hand and its heavier than i thought",
    "got it pressed to my throat right now",
    "picked them up from the shop at lunch. tonight then",
    "in an hour its over for me. nobody try",
    "dropped the cat at my sisters, returned my keys. sunday",
    "twenty minutes left. weirdly calm",
    "a handful of codeine tonight",
]
ROUND8_REMOVED = [
    "walked deep into the forest with the rope. goodbye",
    "bye all. ropes up in the loft",
    "stood on the platform, the next one doesnt stop here. sorry everyone",
    "a handful of my tramadol tonight and no ones home till monday",
    "on the roof of the tower block, one leg over the barrier. so sorry",
    "the knife is resting on my wrist right now",
    "drank the weedkiller from the garage ten minutes ago, throat is on fire",
]
ROUND8_NOTHING = [
    "its in my hand right now!! front row tickets",
    "got it in my hand now, the new phone",
    "picked them up from the shop at lunch, see you tonight",
    "bought it online, arriving tomorrow",
    "walk by the canal this afternoon with the dog",
    "its over for me, tonight i'm going to bed early",
    "twenty minutes left of the match, so tense",
    "bye all, tent's up in the garden for the kids",
    "on the roof of the tower block fixing the aerial. sorry",
    "a handful of sweets tonight at the cinema",
    "the knife is resting on the chopping board right now",
    "stood by the sea wall at sunset, goodbye summer",
    "id rather drink bleach than go to that meeting",
]


def test_a_fallback_never_sits_beside_a_precise_match(detector):
    """A fallback is looked for only where nothing else matched: a high beside an imminent combination would make
    the line's someone named ("sorry mum") a third party, and cap the writer's own act at high."""
    result = detector.detect("sorry for everything mum. the rope is up and im standing on the chair")
    assert detector.would_remove(result) and not any(".scene_" in r for r in result.rules), result
    assert not any(".scene_" in r for r in detector.detect("i'm so done. with everything. i don't want to wake up tomorrow").rules)


def test_someone_the_room_is_asked_to_tell_is_not_the_subject(detector):
    result = detector.detect("tell my nan it wasnt her fault. the pills are already kicking in")
    assert detector.would_remove(result) and not result.someone_else, result
    result = detector.detect("my nan says the pills are already kicking in")
    assert not detector.would_remove(result)


def test_round8_own_lines_keep_what_round8_reached_on_them(detector):
    """Round 8's own lines (tests/data/parts-own-r8.csv, committed before the rules it measured, then tuned on):
    22 of 40 imminent lines removed and 33 of 40 given a tier (16 and 19 before), no near miss removed (one before).
    A regression floor; failures name CSV lines, never the text."""
    import csv
    from pathlib import Path
    path = Path(__file__).resolve().parent / "data" / "parts-own-r8.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    kept = [n for n, label, d in judged if label == "imminent" and not detector.would_remove(d)]
    untiered = [n for n, label, d in judged if label == "imminent" and d.tier == "none"]
    wrong = [n for n, label, d in judged if label != "imminent" and detector.would_remove(d)]
    assert len(kept) <= 18 and len(untiered) <= 7 and not wrong, \
        f"not removed (CSV lines): {kept}; no tier: {untiered}; removed wrongly: {wrong}"


# Round 10 (issue 25): set 9's imminent lines that got no tier at all, by class. Two signals of the writer's own scene
# where nothing more precise fired are high; the removals stay strict. In other words than tests/data/parts-own-r10*.csv,
# each with near misses that share its words.
ROUND10_HIGH = [
    "thank you for everything. ive already taken them",
    "in twenty minutes im finishing everything",
    "the whole lot is going down my throat once the house is quiet",
    "got it pressed against my throat and im counting down from five",
    "jumping in ten mins 🌉",
    "on the flyover waiting for the 7 15 to come through",
]
ROUND10_REMOVED = [
    "gulped down the drain unblocker, belly is burning",
    "walked straight into the river, water up to my chest now, not stopping",
    "sat on the parapet of the motorway bridge, no ones noticed me",
    "brought the tablets with me to the woods, not going home",
    "belt is on the hook on the door, just have to lean forward",
    "the whole packet went down with a bottle of gin, visions going weird",
    "cheers for everything lads, im on the roof of the car park",
    "by the morning i wont be a problem for anyone",
]
ROUND10_NOTHING = [
    "the lot went down well at the party 20 mins ago",
    "walked into the sea for a wild swim, up to my chest",
    "waiting for the 9 15 to come through with my camera ready",
    "thanks for putting up with me at the meeting lol",
    "tell my sister shed love it here",
    "signed the lease and paid the rent up. moving abroad tomorrow",
    "the hose runs from the tap into the pool, the kids are inside",
    "my last message tonight, sorry for the spam",
    "pockets full of sweets at the end of the pier",
    "id rather drink bleach than sit through that again",
]


# An amount of the writer's own medicine beside the body failing, with no act of taking it: lost, run out, stopped,
# spilled. A review found round 10's first exemption removed every one of these (no act at all): never again.
OWN_MEDICINE_WITHOUT_AN_ACT = [
    "left all my insulin at home and im getting shaky", "the pharmacy lost all my insulin, getting shaky",
    "ran out of all my insulin, feeling dizzy", "all my meds are gone, feeling dizzy",
    "all my tablets are gone and im getting shaky", "doctor stopped all my meds, feeling dizzy",
    "coming off all my antidepressants, feeling dizzy", "weaning off all my meds, room is spinning",
    "my dog chewed all my pills, feeling faint", "spilled all my pills on the floor, room is spinning",
    "dropped all my meds down the drain, heart racing", "need all my insulin today, getting shaky",
    "had all my morning meds and feeling dizzy",
]


@pytest.mark.parametrize("text", OWN_MEDICINE_WITHOUT_AN_ACT)
def test_the_writers_own_medicine_with_the_body_failing_and_no_act_is_never_removed(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result), (text, result)


def test_the_writers_own_medicine_inside_a_dose_with_the_body_failing_is_no_routine(detector):
    """"my insulin" is the writer's own medicine (``own_meds``: ordinary); all of it taken with the body failing is a
    dose taking effect, and "all my pills before bed" still a regimen."""
    result = detector.detect("took all my insulin an hour ago, getting shaky and sweaty")
    assert result.tier == "imminent" and detector.would_remove(result), result
    assert detector.detect("need to take all my pills before bed, doctors orders").tier == "none"
    assert detector.detect("took my insulin before tea, getting shaky so had a biscuit").tier == "none"


# Round 11 (issue 25): imminent lines of set 10 that got no tier, by class, in other words than tests/data/parts-own-r11*.csv.
# Two signals without an act are high (a means a few words from a near time, a dose with a time just gone, a sorry to the
# family with a near time, a place of danger with nobody there); the swallowing verbs in chat spellings remove.
ROUND11_HIGH = [
    "got the blade out rn, not for the usual",
    "please tell my missus im sorry. after tonight",
    "sorry grandad. tonite is it",
    "at the cliff edge, nobody knows im here",
    "all of the tablets about an hour back, nobody knows",
]
ROUND11_REMOVED = [
    "swallowd all of the amitriptyline like 15 mins ago",
    "tuk every last one of my sleepers half hour ago",
    "gulpin down my nans morphine rn. bye",
    "antifreeze under my bed. tonite",
]
ROUND11_NOTHING = [
    "sorry mum, home late tonight",
    "at the cliff edge for the sunset photos, no one about",
    "got a hosepipe in the boot for the allotment, parked up now",
    "sorry grandad, tonite is quiz night so cant come",
    "final msg of the night, love u all, sleep well",
    "got the cable for my monitor in my backpack, setting it up tonight",
    "the knife is out rn for the roast",
    "running 10 mins late, sorry!",
    "fishing at the lake, no one around, bliss",
    "tell my ma im sorry i forgot her birthday, its tonite we celebrate",
]


def test_round11_a_fallback_made_only_of_common_parts_is_found_in_a_batch(detector):
    """A sorry and a near time are both words the batch path does not look for in every line: the sorry is found
    in the rules pass, so ``detect_many`` gives what ``detect`` gives."""
    texts = ["sorry grandad. tonite is it", "sorry mum, home late tonight", "nice weather today"]
    assert detector.detect_many(texts) == [detector.detect(t) for t in texts]
    assert detector.detect_many(texts)[0].tier == "high"


# Round 12 (issue 25): set 11's imminent lines with no tier, by class, in other words than tests/data/parts-own-r12.csv:
# over the side or the very edge with a second signal, a means that names no act beside a goodbye, the end said with a
# time ("tonight thats me"), pills with a settled time or a span that opens the message, all of it taken a while ago
# with a goodbye. High (or a removal where an older class removes), never nothing.
ROUND12_ANY_TIER = [
    "on the footbridge with my legs over the side now, nobody about",
    "feet dangling over the parapet, the river is so high tonight",
    "when the house is empty tonight thats me, wont be on here again",
    "in the woods with the dressing gown cord. thanks for everything all of you",
    "five boxes of paracetamol on the bed. tonights the night",
    "twenty mins. thats it. then the tablets",
    "this is my last post. took them all about an hour ago. love you",
    "at the very edge of the cliff now, no one knows im here",
]
ROUND12_NOTHING = [
    "feet dangling over the edge of the pool, water is lovely",
    "thats me finished work for the week, not going in monday either lol",
    "thats me off to bed, night all",
    "in the woods with the dog, love this weather",
    "twenty mins. thats how long the cake needs. then the icing",
    "sitting at the very edge of my seat watching the final",
    "three years ago i stood at the very edge of the bridge. today im doing well",
    "the weedkiller is in the shed, doing the patio later",
    "belt is on the hook behind the door, ready for tomorrow",
]


# The others' whereabouts said as the writer's time ("while theyre at the bingo") and "to know you" name no one else
# acting: the writer's own scene is removed as before (these got nothing when "theyre", "you" read as someone acting).
ROUND12_REMOVED = [
    "got my uncles rifle out the safe while theyre all at mass, its lying next to me now",
    "got my uncles rifle out the safe while theyre at the bingo, its on the bed beside me now",
    "farewell everyone. it has been an honour to know you. the belt is ready and i wont be online after today",
    "goodbye all, great to have known you. the cord is ready",
    # the one movement left said as what remains ("only the stool left"), at a hang point
    "the cord is over the bannister now. only the stool left",
]
ROUND12_NOTHING += [
    "got my uncles rifle out the safe while theyre all out, cleaning it for the season",
    "farewell everyone. it has been an honour to know you. im off to a new job and wont be online after today",
    # a poison put down for pests; a past told in chat spelling ("2 yrs ago")
    "ive got the weedkiller from the shed, tonight im putting it down for the slugs",
    "2 yrs ago i swallowed a whole box of tablets and woke up on a ward. doing fine these days",
]


@pytest.mark.parametrize("text", ROUND12_ANY_TIER)
def test_round12_scenes_get_a_tier(detector, text):
    assert detector.detect(text).tier in ("high", "imminent")

# Rounds 8, 10 and 11, each by class: two signals of a scene without an act are high, never a removal; the removal
# classes remove; the near misses beside them get nothing.
@pytest.mark.parametrize("text", ROUND8_HIGH + ROUND10_HIGH + ROUND11_HIGH)
def test_two_signals_of_a_scene_are_high_never_a_removal(rules_only, text):
    """The rules' own tier (the imminence score raises some of these scenes: tests/test_model_imminence.py)."""
    detector = rules_only
    result = detector.detect(text)
    assert result.tier == "high" and not detector.would_remove(result), result
    assert any(r.startswith("high.compose.scene_") for r in result.rules), result.rules


@pytest.mark.parametrize("text", ROUND8_REMOVED + ROUND10_REMOVED + ROUND11_REMOVED + ROUND12_REMOVED)
def test_the_rounds_removal_classes_remove(detector, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), result


@pytest.mark.parametrize("text", ROUND8_NOTHING + ROUND10_NOTHING + ROUND11_NOTHING + ROUND12_NOTHING)
def test_the_rounds_near_misses_get_nothing(detector, text):
    assert detector.detect(text).tier == "none"


@pytest.mark.parametrize("name, removed, tiered", [
    ("parts-own-r10.csv", 32, 37), ("parts-own-r10b.csv", 11, 18), ("parts-own-r10c.csv", 11, 14),
    ("parts-own-r10d.csv", 7, 8), ("parts-own-r11.csv", 21, 31), ("parts-own-r11b.csv", 6, 14),
    ("parts-own-r12.csv", 16, 21), ("parts-own-r12b.csv", 6, 12)])
def test_the_rounds_own_lines_keep_what_their_round_reached_on_them(detector, name, removed, tiered):
    """Rounds 10 and 11's own lines and blind batches (each committed before the rules it measured, then tuned on).
    Round 10: 32 of 40, 11 of 20, 11 of 15 and 7 of 10 imminent lines removed, 37, 18, 14 and 8 given a tier (before: 18
    and 23 of 40, 6 and 10 of 20, 6 and 8 of 15, 3 and 4 of 10). Round 11: 21 of 40 and 6 of 15 removed, 31 and 14 given a
    tier (before: 18 and 26 of 40, 4 and 13 of 15). Round 12: 16 of 30 and 6 of 20 removed, 21 and 12 given a
    tier (before: 15 and 17 of 30; batch b 6 and 12 of 20, one near miss removed, since fixed).
    No near miss removed. A regression floor; failures name CSV lines,
    never the text."""
    import csv
    from pathlib import Path
    path = Path(__file__).resolve().parent / "data" / name
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    imminent = [(n, d) for n, label, d in judged if label == "imminent"]
    kept = [n for n, d in imminent if not detector.would_remove(d)]
    untiered = [n for n, d in imminent if d.tier == "none"]
    wrong = [n for n, label, d in judged if label != "imminent" and detector.would_remove(d)]
    assert len(imminent) - len(kept) >= removed and len(imminent) - len(untiered) >= tiered and not wrong, \
        f"not removed (CSV lines): {kept}; no tier: {untiered}; removed wrongly: {wrong}"


def test_a_room_policy_fallback_is_looked_for_only_where_nothing_else_matched(write):
    path = write("peer.yaml", GOOD + """
compose:
  parts:
    kite: {phrases: ["purple kite"]}
  combinations:
    kite_soon:
      parts: [kite, soon]
      tier: concern
      fallback: true
""")
    d = detector_for(load(path))
    assert d.detect("flying the purple kite tomorrow").rules == ("concern.compose.kite_soon",)
    # beside a match of its own tier or higher it is not looked for
    assert "concern.compose.kite_soon" not in d.detect("holding the rope right now, purple kite tomorrow").rules


def test_a_fallback_that_is_no_boolean_is_reported(write):
    path = write("p.yaml", GOOD + """
compose:
  combinations:
    mine:
      parts: [means, soon]
      tier: high
      fallback: maybe
""")
    assert any("compose.combinations.mine.fallback" in e for e in errors_of(path)), errors_of(path)


def test_a_fallback_made_only_of_common_parts_is_refused(write):
    """Round 12: a fallback whose every group has a ``compose.common`` part would be tried on nearly every message
    and make a batch pick lines by common words; the loader refuses it (not a combination that is no fallback)."""
    path = write("p.yaml", GOOD + """
compose:
  combinations:
    mine:
      parts: [self, soon|now]
      tier: high
      fallback: true
""")
    assert any("compose.combinations.mine.parts" in e and "common" in e for e in errors_of(path)), errors_of(path)
    for parts, fallback in (("[self, soon|now]", "false"), ("[means, soon|now]", "true")):
        path = write("q.yaml", GOOD + f"""
compose:
  combinations:
    mine:
      parts: {parts}
      tier: high
      fallback: {fallback}
""")
        assert any(c.id == "high.compose.mine" for c in load(path).compose.combinations)


# Round 13: a guard reads only the sentences of an act or plan that names its means, dose or place
# (``compose.stands_alone``); sentence ends are read from the text as written (folding drops punctuation).
# Each line: the guard's word in another sentence than the scene (removed; none was before round 13).
ROUND13_GUARD_IN_ANOTHER_SENTENCE = {
    "routine": "had a headache all day. took every tablet in the house twenty minutes ago",
    "routine (a meal)": "boring dinner. swallowed the whole lot of my sertraline about an hour ago and im getting dizzy",
    "homecoming": "sorry im late replying. im standing on the edge of the multistorey and im jumping in ten minutes",
    "something_else": "left the group chat. im at the top of the cliff now and im going to jump",
    "purpose": "made a cake for mum. once shes asleep im taking the whole box of pills",
    "hyperbole": "nearly forgot to feed the cat. fed her now. im on the roof and im jumping in five minutes",
    "question": "what if nobody even notices. the pills are in my hand and im taking them all tonight",
    "thought": "been thinking about my nan today. the rope is tied and im standing on the chair now",
    "wish": "i wish i was taller. the rope is tied and im standing on the chair now",
    "a line break": "lost my job today\nthe pills are lined up and im taking them all at midnight",
    "an emoji between clauses": "boring dinner 🙄 swallowed the whole lot of my sertraline about an hour ago and im getting dizzy",
    "a pattern across a full stop": "took a pill. pills are all gone now, swallowed every one",
    "screen (a screen named, not a story)": "cancelled netflix. the blade is in my hand right now and im not stopping",
}
# ... and the same guard inside the scene's sentence, or one that reads the whole message (a past told, a story or
# a song framing it), or a scene that names no means or place (read with the sentences around it): not removed
ROUND13_GUARD_APPLIES = {
    "routine": "took two ibuprofen for this headache an hour ago",
    "homecoming": "on the roof fixing the aerial, back for tea at six",
    "something_else": "ending it with my boyfriend tonight, cant do this anymore",
    "question": "what if i took all the pills tonight, would anyone notice",
    "thought": "keep thinking about taking every tablet in the house tonight",
    "past (whole message)": "3 yrs ago. pills lined up on the bed, note written, that was my night. im so glad im still here",
    "framing (whole message)": "new song lyrics. the rope is tied and im standing on the chair tonight. the chorus goes after that",
    "no means named": "there's one slice of cake left in the fridge. i'm going to end it tonight",
    "a farewell": "my last day at this job! thanks for everything, i'll miss you all",
}


@pytest.mark.parametrize("guard", sorted(ROUND13_GUARD_IN_ANOTHER_SENTENCE))
def test_a_guard_in_another_sentence_than_a_named_means_or_place_does_not_drop_it(detector, guard):
    text = ROUND13_GUARD_IN_ANOTHER_SENTENCE[guard]
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), (guard, result)
    assert detector.detect_many([text]) == [result]  # the batch path reads the same sentences


@pytest.mark.parametrize("guard", sorted(ROUND13_GUARD_APPLIES))
def test_a_guard_in_the_scenes_sentence_or_framing_the_message_still_applies(detector, guard):
    result = detector.detect(ROUND13_GUARD_APPLIES[guard])
    assert not detector.would_remove(result), (guard, result)


@pytest.mark.parametrize("policy, text", [
    ("default-de", "hab kopfschmerzen. hab grad alle meine tabletten geschluckt, mir wird schon schwindelig"),
    ("default-de", "langweiliges abendessen. stehe jetzt auf der brücke und springe gleich"),
    ("default-fr", "j'ai mal à la tête. j'ai avalé toutes mes pilules il y a une heure"),
])
def test_every_languages_guards_stop_at_a_sentence_end(shipped_policy, policy, text):
    detector = detector_for(shipped_policy(policy))
    assert detector.would_remove(detector.detect(text)), policy


def test_where_a_sentence_ends_in_chat():
    from gateway.detection.compose import Sentences

    def starts(text):
        return Sentences(text, normalise(text)).starts()

    assert starts("no full stop at all in this one") == [0]
    assert starts("boring dinner. swallowed the lot") == [0, 2]
    assert starts("boring dinner! swallowed the lot") == starts("boring dinner? swallowed the lot") == [0, 2]
    assert starts("boring dinner... swallowed the lot") == [0, 2]
    assert starts("boring dinner\nswallowed the lot") == starts("boring dinner - swallowed the lot") == [0, 2]
    assert starts("boring dinner 🙄 swallowed the lot") == [0, 3]  # the emoji is a word of the sentence it ends
    assert starts("took all my 💊 now") == [0]  # a means said as an emoji ends nothing
    assert starts("swallowed the lot. lol. x") == [0]  # a word alone ("lol.") belongs to the sentence before it
    assert starts("took 2.5 mg, nothing: fine, ok") == [0]  # no space after the dot, a comma, a colon: no end
    assert Sentences(None, "boring dinner swallowed the lot").starts() == [0]  # no text as written: one sentence


def test_a_guard_may_read_the_whole_message_and_a_part_stand_alone_only_if_the_policy_has_it(write):
    path = write("p.yaml", GOOD + """
compose:
  whole_message: [past, nosuchpart]
  stands_alone: [means, nosuchother]
""")
    errors = errors_of(path)
    assert any("compose.whole_message" in e and "nosuchpart" in e for e in errors), errors
    assert any("compose.stands_alone" in e and "nosuchother" in e for e in errors), errors
    policy = load(write("q.yaml", GOOD + "compose:\n  whole_message: [routine]\n  stands_alone: [own_meds]\n"))
    assert policy.compose.whole_message == frozenset({"past", "framing", "routine"})  # a list extends the default's
    assert {"means", "place", "own_meds"} <= policy.compose.stands_alone


def test_round13_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 13's own lines (parts-own-r13.csv, committed before the change): 30 imminent scenes with a guard's word in
    another sentence, 30 near misses where the guard applies. Before: 5 of 30 removed; after: 26. One near miss was
    removed before the round and still is (CSV line 40: a rule's own match with a past told in a sentence before it,
    which the decision stage reads); any other is a failure. Failures name CSV lines, never the text."""
    import csv
    from pathlib import Path
    with open(Path(__file__).resolve().parent / "data" / "parts-own-r13.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    kept = [n for n, label, d in judged if label == "imminent" and not detector.would_remove(d)]
    wrong = [n for n, label, d in judged if label != "imminent" and detector.would_remove(d)]
    assert len(kept) <= 4 and set(wrong) <= {40}, f"not removed (CSV lines): {kept}; removed wrongly: {wrong}"


# Round 14: a joke marker and a past cue read by sentence (decision.py). A laugh in an earlier sentence is not
# about a risk said after it; one in the risk's sentence, or after it, still is. A past story then a present plan:
# the plan counts; a story that goes on in its tense ("i had the rope ready") stays past.
LAUGH_BEFORE = [
    ("default", "lol. anyway the rope is tied to the loft hatch and im doing it tonight"),
    ("default", "haha that meme was funny. anyway 40 paracetamol lined up on the bed, tonight is the night"),
    ("default", "lol ok. im going to kill myself tonight"),
    ("default-de", "haha der clip war gut 😂 naja. das messer liegt hier neben mir und ich mach das jetzt"),
    ("default-es", "jaja qué partido. en fin, ya tengo la cuerda atada a la viga y lo hago esta noche"),
    ("default-fr", "mdr. je suis sur le pont et je saute ce soir"),
]
LAUGH_WITH = [
    ("default", "im going to kill myself tonight lol"),
    ("default", "the rope is tied to the loft hatch and im doing it tonight. jk lol"),
    ("default", "im on the bridge now and im jumping. lol"),
    ("default", "im gonna jump off this bridge lol. anyway see u tmrw"),
    ("default-de", "das messer liegt hier neben mir und ich mach das jetzt lol"),
    ("default-es", "ya tengo la cuerda atada a la viga y lo hago esta noche jaja"),
    ("default-fr", "je suis sur le pont et je saute ce soir mdr"),
]
PLAN_AFTER_PAST = [
    "used to cut. the pills are in my hand and im taking them all tonight",
    "two years ago i tried. tonight i am going to kill myself",
    "in high school i used to self harm. the blade is in my hand right now and im cutting deep tonight",
]
PAST_GOES_ON = [
    "two years ago i tried to hang myself. i had the rope ready",
    "used to cut every night. i had the blade in my hand all the time back then",
    "years ago after my dad left and everything fell apart i was going to jump off the bridge",
    "3 yrs ago. pills lined up on the bed, note written, that was my night. im so glad im still here",
]


@pytest.mark.parametrize("policy,text", LAUGH_BEFORE)
def test_a_laugh_in_an_earlier_sentence_does_not_lower_a_risk_said_after_it(shipped_policy, policy, text):
    d = detector_for(shipped_policy(policy))
    assert d.detect(text).tier == "imminent"


@pytest.mark.parametrize("policy,text", LAUGH_WITH)
def test_a_laugh_in_the_risks_sentence_or_after_it_still_keeps_it_from_removal(shipped_policy, policy, text):
    d = detector_for(shipped_policy(policy))
    assert tier_level(d.detect(text).tier) <= tier_level("high")


@pytest.mark.parametrize("text", PLAN_AFTER_PAST)
def test_a_present_plan_after_a_past_story_counts(detector, text):
    assert detector.detect(text).tier == "imminent"


@pytest.mark.parametrize("text", PAST_GOES_ON)
def test_a_story_told_on_in_its_tense_stays_past(detector, text):
    assert not detector.would_remove(detector.detect(text))


def test_round14_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 14's own lines (parts-own-r14.csv, committed before the change): 20 imminent lines with a laugh or a past
    cue in an earlier sentence, 20 near misses (the laugh in the risk's sentence or after it, a past story that goes
    on). Before: 6 of 20 removed, 2 near misses removed; after: 18 removed, none wrongly. Failures name CSV lines."""
    import csv
    from pathlib import Path
    with open(Path(__file__).resolve().parent / "data" / "parts-own-r14.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    kept = [n for n, label, d in judged if label == "imminent" and not detector.would_remove(d)]
    wrong = [n for n, label, d in judged if label != "imminent" and detector.would_remove(d)]
    assert len(kept) <= 2 and not wrong, f"not removed (CSV lines): {kept}; removed wrongly: {wrong}"


def test_an_engine_running_in_a_garage_not_said_shut_removes_only_with_a_farewell_or_the_body_failing(detector):
    """Round 14, set 12's class of a car running in a garage not said to be shut (parts-own-r14b.csv): with a
    farewell or the body failing it is removed (before: 2 of 5); warming it up, a mechanic, an oil check, or a
    goodbye with a return is not. Failures name CSV lines."""
    import csv
    from pathlib import Path
    with open(Path(__file__).resolve().parent / "data" / "parts-own-r14b.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    kept = [n for n, label, d in judged if label == "imminent" and not detector.would_remove(d)]
    wrong = [n for n, label, d in judged if label != "imminent" and detector.would_remove(d)]
    assert not kept and not wrong, f"not removed (CSV lines): {kept}; removed wrongly: {wrong}"


CAR_WASHING_NEAR_MISSES = [
    "holding the hose with the engine running, washing the car",
    "hosing down the patio with the engine running so the car warms up",
    "watering the garden with the hose, engine running in the drive",
]
EXHAUST_STILL_REMOVED = [
    "hose is on the exhaust and the engine running, goodbye everyone",
    "hose taped to the exhaust and into the car, engine running. washed the car one last time, goodbye",
]


def test_a_hose_and_a_running_engine_while_washing_the_car_is_no_removal(default_policy):
    """A garden hose and a car warming up are an everyday scene (a round's helper found it removed by
    ``means_at_hand``); the exhaust with a farewell, even beside a last wash in another sentence, still removes."""
    d = detector_for(default_policy)
    removed = [t for t in CAR_WASHING_NEAR_MISSES if d.would_remove(d.detect(t))]
    assert not removed, removed
    kept = [t for t in EXHAUST_STILL_REMOVED if not d.would_remove(d.detect(t))]
    assert not kept, kept


# Round 15 (issue 25), the classes of held-out set 13 that the shared code read wrong, each in other words than set 13:
# a negation does not reach across a sentence's end ("are you ok? no im not. <the scene>"), "not just" says more, not
# less, "tell mum" (no "my") names the one given last words and not someone at risk, and a shorter name inside a name
# that is an object ("told my flatmate") is no subject either. Their near sides: a negation in the scene's own sentence,
# "not just now", someone else's act.
ROUND15_CODE_REMOVED = [
    "no im not. pills in my hand and im taking them now",
    "the rope is tied to the banister. not just a threat this time, tonight",
    "the pills are lined up on my desk. tonights the night, not just thinking about it anymore",
    "tell mum it wasnt her fault. on the multi storey roof now",
    "told my flatmate its a work trip. the rope is in my car and im going tonight",
]
ROUND15_CODE_NOT_REMOVED = [
    "no im not taking the pills tonight",
    "the pills are lined up but im not taking them tonight",
    "not just now, the pills can wait",
    "my flatmate told me the rope is in her car and shes going tonight, what do i do",
    "tell mum my brother is on the multi storey roof now, he says its not her fault",
]


@pytest.mark.parametrize("text", ROUND15_CODE_REMOVED)
def test_round15_a_negation_or_a_name_outside_the_scene_does_not_unmake_it(detector, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), result


@pytest.mark.parametrize("text", ROUND15_CODE_NOT_REMOVED)
def test_round15_a_negation_in_the_scenes_sentence_or_someone_elses_act_is_no_removal(detector, text):
    assert not detector.would_remove(detector.detect(text))


# The convention decided this session for all four languages (issue 25 lists "a weekday" as imminence timing): a
# first-person plan or act with means or a place and a time named only by a weekday or a clock time is imminent, like
# "tonight"; a weekday or a clock time about something ordinary, "since monday", "every friday" or "last saturday" never
# is; someone else's plan, a past, a negation or a joke with a weekday is never a removal.
WEEKDAY_REMOVED = [
    "taking all my tablets on friday",
    "jumping off the viaduct at 11",
    "thursday is the day. the pills are saved up",
    "the date i set is monday, the belt is in my drawer",
    "2am friday. top floor of the car park. minds made up",
    "on saturday at 4am im swallowing the whole box",
    "rope's in the boot of my car. saturday's the day, all sorted",
]
WEEKDAY_ORDINARY = [
    "my shift on the bridge starts friday at 6",
    "been on these tablets since monday and they make me sleepy",
    "the pills are in the cupboard, been taking them since tuesday for my chest",
    "every friday i take my meds at 9",
    "last saturday i swallowed a fly on the bridge lol",
    "the rope course is booked for saturday at 11",
    "friday is the day i get my cast off, no more painkillers",
    "paid every bill before payday for once, friday is the day i treat myself",
    "the doctor says take two tablets at 8 and two at 8pm",
]
# away for as long as a time: how long, not when (session 17: "ill be gone all weekend" was removed)
WEEKDAY_ORDINARY += [
    "ill be gone all weekend, text me if u need anything",
    "offline the whole weekend lol, camping with no signal",
    "ill be gone over the weekend for my cousins wedding",
    "away all week for work so ill be quiet in here",
    # away at a time: a trip, not a plan made for it (session 18: "ill be gone this weekend" was removed)
    "ill be gone this weekend",
    "im gone next week, visiting my mum",
    "away this weekend, back monday night",
]
WEEKDAY_REMOVED_TOO = [  # the same words with a plan stay removed
    "ill be gone by the weekend, the pills are ready",
    "pills are saved up. ill be gone all weekend and nobody will find me",
    "ill be gone this weekend. for good this time",
    "said goodbye to everyone, ill be gone this weekend",
    "pills are ready, ill be gone this weekend",
    "this weekend ill be gone",
]
WEEKDAY_NOT_REMOVED = WEEKDAY_ORDINARY + [
    "my mate said hes taking all his pills on friday, what do i do",
    "two years ago on a friday i took all my pills. im doing fine now",
    "im not taking all my pills on friday, i promise",
    "gonna jump off the bridge at 11 if arsenal lose lol",
]


@pytest.mark.parametrize("text", WEEKDAY_REMOVED + WEEKDAY_REMOVED_TOO)
def test_a_plan_with_means_or_a_place_and_a_weekday_or_a_clock_time_is_removed(detector, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), result


@pytest.mark.parametrize("text", WEEKDAY_ORDINARY)
def test_a_weekday_or_a_clock_time_about_something_ordinary_gets_nothing(detector, text):
    result = detector.detect(text)  # from the rules: the chat model's concern alone is its own (test_model_en_chat.py)
    assert result.tier == "none" or result.rules == ("model.chat",), result


@pytest.mark.parametrize("text", WEEKDAY_NOT_REMOVED)
def test_a_weekday_never_removes_someone_elses_plan_a_past_a_negation_or_a_joke(detector, text):
    assert not detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("name, removed, near_tiered", [("parts-own-r15.csv", 70, 3), ("parts-own-r15b.csv", 18, 1)])
def test_round15_own_lines_keep_what_the_round_reached_on_them(detector, name, removed, near_tiered):
    """Round 15's own lines (parts-own-r15.csv: 76 imminent lines and 76 near misses by class; parts-own-r15b.csv: 20 and
    20), each committed before the rules they measured (the second after three of its five classes were drafted).
    Before: 25 of 76 and 3 of 20 removed, 4 near misses removed (goodbyes to a workplace read as a farewell, pills
    "since tuesday" read as a time); after: 70 and 18 removed, no near miss removed; near misses at a tier below
    removal: three and one, all but one at the same tier before the round (the one raised: a joke about a boat told
    with "tell dad ... lol", high). Failures name CSV lines."""
    import csv
    from pathlib import Path
    with open(Path(__file__).resolve().parent / "data" / name, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    kept = [n for n, label, d in judged if label == "imminent" and not detector.would_remove(d)]
    wrong = [n for n, label, d in judged if label != "imminent" and detector.would_remove(d)]
    # a tier from the rules (the chat model, on since session 17, lifts one more of them to concern alone)
    tiered = [n for n, label, d in judged if label != "imminent" and d.tier != "none" and d.rules != ("model.chat",)]
    assert len(kept) <= len(rows) // 2 - removed and not wrong and len(tiered) <= near_tiered, (
        f"not removed (CSV lines): {kept}; removed wrongly: {wrong}; near misses with a tier: {tiered}")


# A home or a venue placed by a river or a bridge is an address, not where the writer stands (session 18: "thanks for
# everything, the flat by the river is lovely", a thank-you after a stay, was removed as a place with a farewell).
ADDRESS_BY_A_PLACE = [
    "thanks for everything, the flat by the river is lovely",
    "thanks for everything, the hotel by the bridge was perfect",
    "bye everyone, meeting the girls at the pub by the river",
]
PLACE_WITH_A_FAREWELL_STILL = [
    "thank you for everything. standing by the river now",
    "thanks for everything. im on the bridge by the hotel, goodbye",
    "sorry for everything. walking to the bridge by our old flat now",
]


@pytest.mark.parametrize("text", ADDRESS_BY_A_PLACE)
def test_a_home_or_venue_by_a_river_or_bridge_with_thanks_is_no_risk(detector, text):
    result = detector.detect(text)  # from the rules: the chat model's concern alone is its own (test_model_en_chat.py)
    assert result.tier == "none" or result.rules == ("model.chat",), result


@pytest.mark.parametrize("text", PLACE_WITH_A_FAREWELL_STILL)
def test_the_writer_at_the_place_with_a_farewell_is_still_removed(detector, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), result


# Absent tomorrow is not a farewell: session 18 tried reading "wont be back tomorrow" as a denied return (to catch "ive
# got the pills, i wont be back tomorrow") and it removed these; reverted. Held here so that the next try keeps them.
ABSENT_TOMORROW = [
    "wont be back tomorrow, off sick",
    "i wont be back tomorrow, got a dentist appointment",
    "im not coming back tomorrow, the course is rubbish",
]


@pytest.mark.parametrize("text", ABSENT_TOMORROW)
def test_not_being_back_tomorrow_for_an_everyday_reason_is_no_removal(detector, text):
    assert not detector.would_remove(detector.detect(text))


# Round 16 (session 19) read held-out sets 14 and 15's false removals: an overdose told with its years after it, or
# years before it further than the past window, and climbing gear or a ferry beside a rope or pills with "tonight".
# The lines here are the round's own, worded apart from the sets'. A past time in the act's own sentence makes the
# act contested: lowered to high, never a removal (an act told with its time now, or "tonight" between, keeps it).
PAST_OR_GEAR_NEVER_REMOVED = [
    "i overdosed on my meds about six years ago and spent a week in hospital",
    "i took an overdose three years ago, that was my lowest point",
    "packed the rope and my harness, belaying for my sister at the wall tonight",
    "got the rope and quickdraws in the car for tonight",
    "seasick tablets are in my bag for the ferry crossing tonight",
]
STILL_REMOVED_R16 = [
    "took all my pills an hour ago",
    "i took an overdose tonight, like i did five years ago",
    "took all my pills. years ago i promised i wouldnt",
    "got my travel sickness pills, taking them all tonight",
    "im at the top of the climbing wall with the rope round my neck",
]


@pytest.mark.parametrize("text", PAST_OR_GEAR_NEVER_REMOVED)
def test_an_overdose_years_ago_or_climbing_gear_or_a_ferry_is_no_removal(detector, text):
    assert not detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", STILL_REMOVED_R16)
def test_an_act_now_beside_a_past_or_a_hobby_is_still_removed(detector, text):
    result = detector.detect(text)
    assert result.tier == "imminent" and detector.would_remove(result), result


# A ligature on the writer's neck with nothing else said had no tier at all (session 19): high now (a crisis message),
# a removal only with a second part (a hanging point, a position, a time) as before. Near misses stay quiet.
ON_THE_NECK_ALONE = ["the rope is round my neck", "got the belt round my neck", "the cord is tight around my neck"]
ROUND_THE_NECK_EVERYDAY = ["the scarf is round my neck", "put my lanyard round my neck", "my necklace is round my neck",
                           "my headphones are round my neck", "the rope round my neck for my halloween costume",
                           "the rope round my neck in the play tonight", "my mum put the rope round her neck for the photo"]


@pytest.mark.parametrize("text", ON_THE_NECK_ALONE)
def test_a_ligature_on_the_writers_neck_alone_is_high_and_no_removal(rules_only, text):
    """The rules' own tier (the imminence score raises some of these scenes: tests/test_model_imminence.py)."""
    detector = rules_only
    result = detector.detect(text)
    assert result.tier == "high" and not detector.would_remove(result), result


@pytest.mark.parametrize("text", ROUND_THE_NECK_EVERYDAY)
def test_everyday_things_round_the_neck_are_no_risk(detector, text):
    assert detector.detect(text).tier in ("none",) or detector.detect(text).rules == ("model.chat",)


def _own_lines_judged(detector, name: str) -> tuple[list[int], list[int], list[int]]:
    """A round's own lines (``tests/data/NAME``) by CSV line: imminent lines not removed, high and concern lines below
    their tier, near misses removed or given a tier by the rules (the word models' own concern not counted)."""
    import csv
    from pathlib import Path
    with open(Path(__file__).resolve().parent / "data" / name, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    judged = [(i + 2, row["label"], detector.detect(row["text"])) for i, row in enumerate(rows)]
    kept = [n for n, label, d in judged if label == "imminent" and not detector.would_remove(d)]
    low = [n for n, label, d in judged if label in ("high", "concern") and d.level < {"high": 2, "concern": 1}[label]]
    wrong = [n for n, label, d in judged if label == "none" and (detector.would_remove(d) or d.rules not in ((), ("model.chat",), ("model.risk",)))]
    return kept, low, wrong


# Round 17 (session 20; read the English held-out set 16): the writer's own death said with a near time ("ill be dead by
# morning", "midnight is when i die"); figures, a game, someone else's words and a condition stay quiet.
OWN_DEATH_TIMED = [
    "ill be dead by morning. its sorted",
    "thats the plan, i die tonight",
    "sunday morning is when i die, its all arranged",
    "gonna be dead by sunrise",
]
OWN_DEATH_FIGURES = [
    "ill be dead tired by friday, three night shifts in a row",
    "this time tomorrow ill be dead on my feet, 14 hour shift",
    "midnight is when i die in the game, the boss one-shots everyone",
    "if i have to sit through another of his meetings ill be dead by lunch",
    "my fav line is when the knight says i die tonight so the village may live",
    "i'll be dead chuffed if we win on saturday",
    "my phone will be dead by lunchtime, anyone got a charger",
]


@pytest.mark.parametrize("text", OWN_DEATH_TIMED)
def test_the_writers_own_death_said_with_a_near_time_is_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", OWN_DEATH_FIGURES)
def test_a_death_said_as_a_figure_a_game_or_someone_elses_words_is_not(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.level < 2, result


def test_round17_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 17's own lines (parts-own-r17.csv, committed before the rules: 16 imminent lines of the writer's death with a
    near time and 16 near misses; 10 self-harm and eating acts said short and 8 near misses; 6 plans without a day and 6
    near misses; 6 passive wishes and 4 near misses). Before: 2 of 16 removed, 3 of 10, 1 of 6 and 2 of 6 with their
    tier; after: 14 of 16 removed, every self-harm, plan and passive line at its tier or above, no near miss removed
    and none with a tier from the rules. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r17.csv")
    assert len(kept) <= 2 and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


# Round 17: a time inside the intent ("tonight it ends") is imminent alone; exams a writer cannot face are no homecoming.
@pytest.mark.parametrize("text", ["ｔｏｎｉｇｈｔ ｉｔ ｅｎｄｓ", "deleted all my accounts. tonight it all ends",
                                  "on the roof of the uni rn, cant face these exams. about to jump"])
def test_round17_an_end_with_its_time_or_a_jump_from_exams_is_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", ["the series finale is on, tonight it all ends", "tonight it ends, last shift at the pub",
                                  "this is my last message b4 exams, deleting discord til june. cya guys gl everyone",
                                  "good luck with exams everyone, on the roof terrace about to jump in the pool"])
def test_round17_a_finale_a_last_shift_or_a_break_for_exams_is_not(detector, text):
    assert not detector.would_remove(detector.detect(text))


def test_round18_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 18's own lines (parts-own-r18.csv, 62, committed before the rules; read set 17's misses by class: an absence
    said to last with a goodbye, a parent's love passed on, Irish and Indian English forms, a place with no return, purging
    passed off or asked about a blood test, cuts kept from sight, plans with how and where, why go on). Before: 5 of 19
    imminent lines removed, 4 of 14 high and concern lines at their tier, 2 near misses removed (a sunset walk back by
    taxi, a bridge and "that job"); after: 18 of 19 removed (left: the team told, read as a team's ending), every high and
    concern line at its tier, no near miss removed or given a tier by the rules. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r18.csv")
    assert len(kept) <= 1 and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


# Round 19 (session 21; read the English everyday tuning set's false alarms by class): a hobby, a class, a journey or a job on
# the car named beside the rope, the roof, the knife or the car (``pastime``: only an ``unless`` of the scenes it misfired in,
# never a guard, and outweighed by a goodbye near it). The everyday lines go quiet; the same words with a goodbye or a plan of
# the writer's own keep their removal.
PASTIME_EVERYDAY = [
    "rope's in my car, we're going for a climb at the quarry tomorrow",
    "climbing tomorrow, rope's in the car, meet at the crag at 9",
    "knife sharpening class tonight",
    "up on the roof this weekend replacing the flashing",
    "cars in the garage till friday, brakes gone",
    "bridge jumping tonight at the quarry lake with everyone",
]
PASTIME_WITH_A_GOODBYE = [
    "climbing tonight. the rope is in my car, goodbye everyone",
    "rope's in my car, going climbing one last time, thanks for everything",
    "on the bridge, jumping tonight. goodbye",
    "standing on the cliff, jumping tomorrow, sorry mum",
    "up on the roof now doing the flashing. no, im done. jumping tonight, goodbye",
    "going climbing tomorrow, not coming back, the rope is for me",
    "diy all weekend then the rope goes over the beam tonight",
    "we missed the ferry, doesnt matter, im on the bridge and jumping tonight",
    "we missed it, im by the tracks now, next one at 11 and thats mine",
]


@pytest.mark.parametrize("text", PASTIME_EVERYDAY)
def test_round19_a_pastime_beside_the_rope_the_roof_or_the_car_is_no_plan(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", PASTIME_WITH_A_GOODBYE)
def test_round19_a_goodbye_outweighs_a_pastime_named_near_it(detector, text):
    assert detector.would_remove(detector.detect(text))


def test_round19_a_pastime_guard_with_a_goodbye_near_keeps_a_car_left_running_at_its_tier(detector):
    # "in the garage till monday" is the mechanic's, but not with the engine running and a goodbye
    assert detector.detect("car's in the garage till monday with the engine running, goodbye").level >= 2


# Round 19: one tablet taken at bedtime or a meal, the sleep it gave, pills as a tip's topic (``as_taken``), and things
# given away for a move (``moving_house``): only an ``unless`` of the combinations they misfired in, never a guard, so a
# dose beside them is still removed.
AS_TAKEN_OR_MOVING_EVERYDAY = [
    "thanks for the pills advice, took my allergy tablet before bed and woke up fine",
    "giving away everything in the garage tomorrow, moving next week",
    "clearing the flat, giving everything away by friday, the van comes monday",
    "anyone wanna take my old desk, giving it away, pick up by tuesday",
]
AS_TAKEN_WITH_A_DOSE = [
    "took the pill before bed tonight, all of them, goodbye",
    "took every sleeping pill i had before bed, slept like a baby forever hopefully, bye",
    "pills tip: take them all at once. doing it tonight",
    "took all the pills before bed tonight, goodbye",
]


@pytest.mark.parametrize("text", AS_TAKEN_OR_MOVING_EVERYDAY)
def test_round19_a_tablet_at_bedtime_or_things_given_away_for_a_move_are_no_plan(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", AS_TAKEN_WITH_A_DOSE)
def test_round19_a_dose_beside_a_bedtime_tablet_is_still_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


# Round 19: a goodbye to a subject or school said forever is an idiom ("goodbye chemistry forever"), and a shop's or a team's
# sign-off no farewell of the writer's; a goodbye to everyone after it is still a farewell (high.farewell_to_all).
@pytest.mark.parametrize("text", ["last exam done, goodbye physics forever", "handed in my dissertation, goodbye uni forever",
                                  "goodbye from the whole team, thanks for everything, the shop has new owners from monday"])
def test_round19_a_goodbye_to_a_subject_or_from_a_team_is_no_farewell(detector, text):
    result = detector.detect(text)
    assert result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", ["goodbye uni forever. bye all, thanks for everything", "bye all, thanks for everything. im done",
                                  "goodbye school forever. bye everyone, love you all"])
def test_round19_a_goodbye_to_everyone_after_one_to_a_subject_is_still_a_farewell(detector, text):
    assert detector.detect(text).level >= 2


def test_round19_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 19's own lines (parts-own-r19.csv, 81, committed before the rules; read the English everyday tuning set's false
    alarms by class: a return said, a venue that closes, a pastime beside the means or the place, the car at the mechanic's,
    a tablet at bedtime, giving away for a move, a goodbye to a subject). Before: 13 of 50 ordinary lines removed and 30 given
    a tier by the rules; 20 of 25 imminent lines removed, 5 of 6 high lines at their tier. After: no ordinary line removed or
    given a tier by the rules, the same 20 imminent lines removed and 5 high lines at their tier (the lines left are misses
    the round did not touch: a car left running, a tablet swallowed whole, things given away with a goodbye). Failures name
    CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r19.csv")
    assert len(kept) <= 5 and len(low) <= 1 and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


def test_round19b_a_connection_missed_by_a_group_is_no_scene(detector):
    """Round 19's second batch (parts-own-r19b.csv, 9, committed before its rule): a connection missed by a group beside a
    bridge with the next one's time ("we missed the boat, next one at 5"; a pastime, so a goodbye near it outweighs it), and
    at-risk lines with a bridge, the tracks or a platform and the next one's time. Before: 4 of 5 ordinary lines removed, 5
    given a tier; after: none; the 4 at-risk lines removed before and after. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r19b.csv")
    assert not kept and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


# Round 19, the guards' near side: a venue's closing taken as the writer's own, a tablet at bedtime and then the rest
@pytest.mark.parametrize("text", ["the pub closes for good tonight and so do i. goodbye everyone",
                                  "our local is closing for good and im going with it, thanks for everything, the pills are ready",
                                  "took my sleeping tablet before bed and then the other 40, goodbye",
                                  "ill be gone this weekend. for good this time. thanks for everything",
                                  "im gone till sunday and then im gone for good, thanks for everything"])
def test_round19_the_same_words_with_the_writers_own_end_are_still_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


# Round 19, the ordinary anchors are unless words, never guards: the same words with the writer's own means, plan or end
# beside them keep their removal (a guard would drop every combination near it).
@pytest.mark.parametrize("text", ["parents are away till sunday, im gone from friday to sunday, the pills are ready",
                                  "im away till the weekend, the rope is in the car and tonight is the night",
                                  "the shop closes its doors for good saturday, the rope is ready for tonight",
                                  "im gone from friday to sunday and then forever, goodbye",
                                  "ill be back monday to drop the keys, then im gone for good tonight"])
def test_round19_an_ordinary_anchor_beside_the_writers_own_plan_does_not_hide_it(detector, text):
    assert detector.would_remove(detector.detect(text))


# Round 19c (session 21): opening the veins, slitting or cutting the wrists or the throat (``vein_act``: the suicidal act on
# the body, not the arms or the thighs) said with a near time, now or bleeding is imminent (``vein_act_time``); alone it is
# high by the self-harm tier rules, never a removal; a strap or a band round the wrist is no act (``wrist_wear``, an unless).
VEIN_ACT_TIMED = [
    "slitting my wrists in the bath right now",
    "gonna open up my veins at midnight",
    "opening my veins tonight when the house is asleep",
    "cutting my wrists open now, its already bleeding",
]
VEIN_ACT_ORDINARY = [
    "cutting my wristband off now, the festival is over",
    "slitting the fish open tonight for the curry, the fishmonger showed me how",
    "the nurse is opening a vein in my arm tomorrow for the blood test",
    "reading open veins of latin america tonight for my seminar",
]
VEIN_ACT_NOT_REMOVED = [
    "im not going to slit my wrists tonight, i promised my sister",
    "two years ago tonight i slit my wrists. two years clean today",
    "my friend says shes slitting her wrists tonight, what do i do",
    "what happens if you cut your wrists tonight",
    "he sang i'll open my veins tonight in that song, such a sad lyric",
    "lol if they play that song again im slitting my wrists tonight",
    "i used to think about opening my veins but now im doing ok",
    "never again will i cut my wrists, 3 years free tonight",   # removed before round 19c (a negation three words back)
]


@pytest.mark.parametrize("text", VEIN_ACT_TIMED)
def test_round19c_veins_opened_or_wrists_slit_with_a_near_time_are_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", VEIN_ACT_ORDINARY)
def test_round19c_a_wristband_a_fish_or_a_blood_test_is_no_act(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", VEIN_ACT_NOT_REMOVED)
def test_round19c_a_negation_a_past_a_friend_a_question_a_lyric_or_a_joke_is_never_removed(detector, text):
    assert not detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", ["i keep thinking about opening my veins", "cut my thighs again, cant stop", "cut my arms again"])
def test_round19c_veins_alone_or_self_harm_without_a_time_is_high_not_removed(detector, text):
    result = detector.detect(text)
    assert result.level >= 2 and not detector.would_remove(result), result


def test_round19c_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 19c's own lines (parts-own-r19c.csv, 26, committed before the rules): veins opened, wrists or a throat slit
    with a near time or under way (class a), a pastime in one clause and the same means turned on the writer in a later
    one (class b). Before: 10 of 14 at-risk lines below their tier (4 of 6 class a, 6 of 6 class b), no ordinary line
    raised. After class a: the 6 class b lines left; after class b: all 26 right. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r19c.csv")
    assert not kept and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


# Round 19c, class b: a pastime or an ordinary purpose named in one clause does not make ordinary a later clause that turns
# the same means on the writer ("then the knife is for my wrists", "after that the rope is mine": compose part ``plain``, so
# an everyday guard of another clause does not drop it, and no ``pastime`` in its unless); with a near time, imminent.
TURNED_ON_ME = [
    "knife sharpening class tonight and afterwards the blade is for me",
    "cooking class this evening, after that the knife is for my throat",
    "diy all day saturday, after that the rope is mine",
    "climbing session today, then tonight the rope is for me",
]
TURNED_ELSEWHERE = [
    "knife skills class tonight, then the knife is for my sister, her birthday present",
    "going climbing tomorrow, then the rope is mine to keep, my brother is giving it me",
    "cooking class tonight, after that the knife is for the veg box",
    "climbing tonight, then the rope is for me to carry, im the strongest",
    "diy all weekend, after that the ladder is mine again",
]
TURNED_NOT_REMOVED = [
    "my mate has a cooking class tonight and says after that the knife is for his wrists, how do i help him",
    "cooking class tonight, then the knife is not for me, im keeping safe",
    "last year: cooking class at night, then the knife was for my wrists. im better now",
    "what if after the climb tonight the rope is for my neck",
    "in the film the chef has a class tonight and then the knife is for his throat",
    "the song goes climbing tonight and then the rope is for my neck",
]


@pytest.mark.parametrize("text", TURNED_ON_ME)
def test_round19c_a_means_turned_on_the_writer_after_a_pastime_is_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", TURNED_ELSEWHERE)
def test_round19c_a_means_for_someone_or_something_else_after_a_pastime_is_no_plan(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", TURNED_NOT_REMOVED)
def test_round19c_a_friend_a_negation_a_past_a_question_a_film_or_a_song_is_never_removed(detector, text):
    assert not detector.would_remove(detector.detect(text))


def test_round20_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 20's own lines (parts-own-r20.csv, 79, committed before the rules): second-language English in international
    rooms, by class: (a) an act under way or just done in second-language grammar, (b) a plan with a near time said
    another way, (c) a word of the writer's own language for the means, (d) farewells with an act sign; near misses in
    the same voices. Before: 19 of 41 imminent lines removed, 3 high lines below their tier, 3 near misses raised. After:
    41 of 41 removed, 1 high line left at none (CSV line 71: a game account left with a goodbye), no near miss raised.
    Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r20.csv")
    assert not kept and len(low) <= 1 and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


# Round 20: second-language English, written after the rules (regression, not evidence): a reflexive calqued from the writer's
# language ("i go to hang me"), a present or a moved adverb for an act done, a time said another way ("this night", "after
# 30 minutes", "23h"), a medicine named in the writer's own language, last words as second-language English says them.
SECOND_LANGUAGE_AT_RISK = [
    "i am taking now all my pastillas, is enough",
    "tonight 23h i take all the comprimidos, forgive me all",
    "i already drink the bleach, my throat burn very much",
    "now i cut me the wrists, sorry for all",
    "i go to hang me this night, the rope is prepared",
    "after 30 minutes i jump from the roof of my building",
    "i made an overdose 20 minutes before, i feel very dizzy",
    "today in the evening i will suicide me with the tabletki of my mother",
    "thank you for all my friends, today in the night i kill me",
    "i swallow already all the schlaftabletten of my father",
    "i have drinked all the tablets of my grandma, now i wait",
    "i have cutted me the veins in the bath, the blood dont stop",
    "goodbye, this night i will end my days, i have the pills",
    "take care of my dog please, i go to die tonight",
    "after the dinner i will take all the pastillas, i dont want live more",
    "after dinner i will take all the pills",
]
SECOND_LANGUAGE_ORDINARY = [
    "this night i take 1 tablette for the sleep, the doctor give me",
    "after one hour i go to the gym, bye all",
    "22h we watch the film about the girl who kill herself, who come?",
    "i say goodbye to all, today is my last day in the office, thank you for all",
    "sorry for all the spam, my keyboard is broken",
    "forgive me all, i forget the meeting again",
    "in the evening of today i buy new pastillas for my allergy at the farmacia",
    "thanks for all the help with my cv, tomorrow i fly home, bye",
    "tomorrow i go back to brazil, thank you for all, it was nice to know you",
    "bought 6 beers and drank all of them lol",
    "i drank all the beer and now all my meds are at home",
    "we go on the roof for smoke now, bye",
    "sorry, family stuff tonight",
    "i will throw me on the sofa and sleep",
    "my exchange is finish, it was nice to know you all, goodbye",
    "this night i will end my days of student, tomorrow i start to work!",
    "i take all the pills tomorrow to my grandma, she forget them at my house",
    "taking all the tablets to my nan tomorrow",
]
SECOND_LANGUAGE_NOT_REMOVED = [
    "my brother write me he will suicide him this night, what i do??",
    "three years before i make an overdose, now i help others",
    "i will kill me if i eat one more pizza haha",
    "i will not kill me, dont worry, i call the helpline",
    "my boss will kill me, i am late again",
]


@pytest.mark.parametrize("text", SECOND_LANGUAGE_AT_RISK)
def test_round20_second_language_acts_and_plans_are_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", SECOND_LANGUAGE_ORDINARY)
def test_round20_second_language_travel_jobs_and_medicine_are_no_plan(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", SECOND_LANGUAGE_NOT_REMOVED)
def test_round20_a_friend_a_past_a_joke_or_a_negation_is_never_removed(detector, text):
    assert not detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", ["i want to kill me, every day i think only this", "one day i will suicide me, i know it",
                                  "i go to end with my life one day", "i will throw me from the window one day"])
def test_round20_a_calqued_reflexive_without_a_time_is_high_not_removed(detector, text):
    result = detector.detect(text)
    assert result.level >= 2 and not detector.would_remove(result), result


def test_round20_probe_keeps_what_the_round_reached_on_it(detector):
    """Round 20's probe (parts-own-r20b.csv, 40, written after the first rules in other words, committed before being run):
    measured once: 8 of 20 imminent lines removed, 2 near misses raised (the rules before the round: 4 of 20, 2 raised);
    then tuned on: 18 of 20, none raised. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r20b.csv")
    assert len(kept) <= 2 and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


def test_round20_second_probe_keeps_what_it_was_measured_at(detector):
    """Round 20's second probe (parts-own-r20c.csv, 32, written after all of the round's rules, committed before being run,
    measured once and not tuned on: the round's closing evidence): 7 of 16 imminent lines removed, no near miss raised (the
    rules before round 20: 5 of 16, 1 near miss raised). A floor, not a target. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r20c.csv")
    assert len(kept) <= 9 and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


# Round 21 (session 26; read the English held-out sets 18 to 20): the writer's own death said plainly as where, how or when
# it happens ("this is where i die", "thursday is the day i die", "until im dead", "done with being alive", "dont want to
# be alive by sunrise") with a scene (a place, a means, an act under way, a note, a time): compose part ``own_end``,
# combination ``own_end_scene``; a time named by where the others will be ("once the kids are at school", "before my dad
# gets back": ``chosen_time``, and ``aside`` so their subject is no one acting); photos and the view from a height are a
# pastime. Written before the rules, in other words than the read lines.
OWN_END_AT_A_SCENE = [
    "top of the multistorey now. this is where i end it",
    "pills counted out on the bedside table, saturday is the day i die",
    "cutting deeper and deeper and im not stopping till im dead",
    "in the river up to my chest, done with being alive",
    "once my partner is at work tomorrow im going to hang myself",
]
OWN_END_ORDINARY = [
    "this is where i die in every run, the second boss is unfair",
    "my nan says the cottage is where she wants to die, its her happy place",
    "the day i die i want a party, not a funeral",
    "sat on the cliff edge with my camera for the sunset pics, the view is unreal",
    "once my partner is at work tomorrow im going to tidy the garage",
]
OWN_END_NOT_REMOVED = [
    "this is how i die lol, a wasp is in my car",
    "two years ago i was on the bridge thinking this is where i die. im glad i walked away",
    "my friend texted me from the bridge saying this is where she dies, what do i do",
    "what if the roof is where i die",
]


@pytest.mark.parametrize("text", OWN_END_AT_A_SCENE)
def test_round21_the_writers_own_death_said_plainly_at_a_scene_is_removed(detector, text):
    assert detector.would_remove(detector.detect(text))


@pytest.mark.parametrize("text", OWN_END_ORDINARY)
def test_round21_a_game_someone_elses_wish_a_will_or_a_view_is_no_plan(detector, text):
    result = detector.detect(text)
    assert not detector.would_remove(result) and result.rules in ((), ("model.chat",), ("model.risk",)), result


@pytest.mark.parametrize("text", OWN_END_NOT_REMOVED)
def test_round21_a_joke_a_past_a_friend_or_a_question_is_never_removed(detector, text):
    assert not detector.would_remove(detector.detect(text))


def test_round21_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 21's own lines (parts-own-r21.csv, 71, committed before the rules), by class: (a) the writer's own death said
    plainly with a scene, (b) a time named by where the others will be, (c) ordinary heights, nights, servers, a past age
    and ordeals joked about, with at-risk lines sharing their words, (d) self-harm and eating acts. Before: 18 of 34 at-risk
    lines at their tier (a 7 of 14, b 4 of 6, c 4 of 6, d 3 of 8), 4 near misses raised. After: 27 of 34 (a 14, b 6), 3
    near misses raised, all left as they were (CSV lines 47, 49, 50: a past age, two ordeals joked about), 7 at-risk lines
    left (54, 55: a group left with the rope ready, a relapse after an age; 59, 61 to 64: class d). Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r21.csv")
    assert set(kept) <= {54, 55} and set(low) <= {59, 61, 62, 63, 64} and set(wrong) <= {47, 49, 50}, (
        f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}")


# Round 22 (session 26; English self-harm and eating acts and intents, the class rounds 21 left in every language):
# a tool taken to the body or named after it, cutting said bare with a place or a time, an urge to cut said bare, an act
# for relief, where to hurt unseen, marks covered in the heat or at pe, wounds kept from a doctor, blades bought unasked
# or kept for bad days; purging said as food brought back up with a habit or hidden, restriction counted with a goal or
# a push, tomorrow nothing, weighed heavier on purpose, food binned and lied about, more laxatives, "should i keep going
# with not eating": high with the self-harm message (``high.self_harm_acts``, ``high.eating_acts``), never a removal.
SH_ED_R22_ACTS = [
    "dragged a bit of broken glass across my forearm in the bath earlier",
    "cut during my break today, first time since march",
    "counting the hours till i can get home and cut",
    "good spot to hurt yourself where parents wont see? asking for me",
    "keeping my sleeves down all through pe so no one sees my wrists",
    "do steri strips hold if its really deep? i cant have a nurse seeing my arm",
    "threw up my lunch in the bathroom at school so i can keep losing",
    "on day six of just tea, want to see how far i get before i faint",
    "put coins in my pockets before the clinic weighs me so the number looks higher",
    "should i keep going with not eating, im so close to my goal",
]
# near misses that share their words (some written after the rules, in self-checks): cooking, hair, a garden, a fast for
# health or faith, an illness, a medical test, files and clothes purged, someone else
SH_ED_R22_ORDINARY = [
    "i cut in front of him at the lights",
    "cut my hair in the bathroom last night, looks awful",
    "im cutting back on sugar, been feeling better",
    "gonna cut when the track drops, dj life",
    "scratched my arms to bits on the rose bush again",
    "hit my head off the door frame so hard this morning, ouch",
    "used a razor on my stomach before the surgery, nurse told me to",
    "how do i hide the scars from my surgery in summer",
    "brought my lunch back up since the food poisoning",
    "been bringing up every meal since chemo started",
    "day 2 of water fasting, aiming for 3 like my doctor said",
    "day 4 on tea only, going for a week, feel amazing",
    "1 apple in 3 days? no wonder youre hungry",
    "ate a big lunch, tomorrow nothing at all planned, lazy day",
    "skipping dinner tonight, mum thinks i eat too much junk anyway",
    "put coins in my pocket before the bus, weigh the bag later",
    "laxatives before the op, have to take more tonight",
    "should i keep fasting on my blood test days or is water ok",
    "the cat scratched my arm till it bled, evil thing",
]


@pytest.mark.parametrize("text", SH_ED_R22_ACTS)
def test_round22_self_harm_and_eating_acts_are_high_with_the_self_harm_message_never_removed(detector, text):
    result = detector.detect(text)
    assert result.tier == "high" and not detector.would_remove(result), result
    assert set(result.rules) & {"high.self_harm_acts", "high.eating_acts"}, result


@pytest.mark.parametrize("text", SH_ED_R22_ORDINARY)
def test_round22_cooking_hair_a_fast_an_illness_or_a_pet_is_no_self_harm(detector, text):
    result = detector.detect(text)
    assert not set(result.rules) & {"high.self_harm_acts", "high.eating_acts"}, result


def test_round22_own_lines_keep_what_the_round_reached_on_them(detector):
    """Round 22's own lines (parts-own-r22.csv, 88, committed before the rules): 43 self-harm and eating acts and intents
    (high), 45 near misses sharing their words. Before: 7 of 43 at high, 1 near miss given a tier by the rules (a cat's
    scratch). After (tuned): 40 of 43, none; left: CSV lines 9 (skin scraped with nails, no second sign), 30 (dinner down
    the toilet with the shower running), 33 (sick after every meal with the tap running). No line removed. Failures name
    CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r22.csv")
    assert not kept and set(low) <= {9, 30, 33} and not wrong, (
        f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}")
    import csv
    from pathlib import Path
    with open(Path(__file__).resolve().parent / "data" / "parts-own-r22.csv", newline="", encoding="utf-8") as fh:
        removed = [i + 2 for i, row in enumerate(csv.DictReader(fh)) if detector.would_remove(detector.detect(row["text"]))]
    assert not removed, f"removed (CSV lines): {removed}"


def test_round22_probe_keeps_what_the_round_reached_on_it(detector):
    """Round 22's probe (parts-own-r22b.csv, 30: 16 self-harm and eating acts, 14 near misses), written after the round's
    rules in other words and committed before being run. Measured once: 11 of 16 at high, no near miss raised (the rules
    before round 22: 6 of 16, none raised); then tuned on (a tool over old lines, a fleece or a coat worn so nobody sees,
    a clinic that would ask how, food made to come back up, more laxatives to work quicker): 16 of 16, none raised, none
    removed. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r22b.csv")
    assert not kept and not low and not wrong, f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}"


def test_round22_self_harm_told_with_a_laugh_is_left_as_designed(detector):
    """Round 22's third batch (parts-own-r22c.csv, 12, committed before its rule): self-harm told with a laugh beside its
    concealment (clothes in the heat, a school or work toilet), 6 high, and 6 jokes and everyday lines sharing their
    words. Before: 1 of 6 at high (a laugh beside "long sleeves"), none raised. A rule was tried (those concealments as
    ``concealed`` cues, which keep a laughed-off match) and not kept: the cue reads the whole message, so "i want to die
    lol" beside a toilet or a jumper in the heat stayed high; a laugh still drops self-harm below imminent (README, "Where
    it is weak"). Left: CSV lines 2, 3, 4, 6, 7. Failures name CSV lines."""
    kept, low, wrong = _own_lines_judged(detector, "parts-own-r22c.csv")
    assert not kept and set(low) <= {2, 3, 4, 6, 7} and not wrong, (
        f"not removed: {kept}; below their tier: {low}; near misses raised: {wrong}")
