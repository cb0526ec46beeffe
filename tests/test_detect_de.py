"""German detection (issue 27): the shipped policies/default-de.yaml, held to the tiers of our own German chat
lines and to per-kind floors on the tuning half written by others (tests/data/lang/). Regression tests, not
evidence: the figures that count are measured on held-out lines nobody here reads."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.detection import detector_for
from gateway.detection.evaluate import evaluate
from gateway.policy.loader import PolicyLoader

from .lines import numbered, wrong_lines

LANG = Path(__file__).resolve().parent / "data" / "lang"
EVERYDAY = Path(__file__).resolve().parent.parent / "gateway" / "detection" / "data" / "everyday-chat.txt"


@pytest.fixture(scope="module")
def german(shipped_policy):
    return detector_for(shipped_policy("default-de"))


def _rows(name: str) -> list[dict[str, str]]:
    with open(LANG / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


OWN = _rows("de-own.csv")
ROUND3 = _rows("de-own-r3.csv")
ROUND4 = _rows("de-own-r4.csv")
ROUND5 = _rows("de-own-r5.csv")
ROUND5B = _rows("de-own-r5b.csv")
ROUND6 = _rows("de-probe-r6.csv")
ROUND7 = _rows("de-probe-r7.csv")
ROUND8 = _rows("de-probe-r8.csv")
ROUND9 = _rows("de-probe-r9.csv")
ROUND10 = _rows("de-probe-r10.csv")
ROUND11 = _rows("de-probe-r11.csv")
ROUND12 = _rows("de-probe-r12.csv")
ROUND13 = _rows("de-probe-r13.csv")
ROUND17 = _rows("de-probe-r17.csv")
ROUND18 = _rows("de-probe-r18.csv")
ROUND19 = _rows("de-probe-r19.csv")
ROUND19B = _rows("de-probe-r19b.csv")
ROUND19C = _rows("de-probe-r19c.csv")
ROUND20 = _rows("de-probe-r20.csv")
ROUND20B = _rows("de-probe-r20b.csv")
ROUND21 = _rows("de-probe-r21.csv")
ROUND22 = _rows("de-probe-r22.csv")


def test_the_shipped_german_policy_is_named_for_its_language():
    policy = PolicyLoader().load("default-de")
    assert (policy.name, policy.language) == ("default-de", "de")


def _tier_removal_and_kind(german):
    """(tier, removed, and for a third-party or abuse line whether it was read as one) given and labelled."""
    def judge(_n, row):
        d = german.detect(row["text"])
        got, expected = (d.tier, german.would_remove(d)), (row["label"], row["label"] == "imminent")
        if row["kind"] == "third_party":  # a case for the moderators, how-to-help for the writer
            got, expected = got + (bool(d.third_party),), expected + (True,)
        if row["kind"] == "abuse":  # a harassment alert
            got, expected = got + (bool(d.abuse),), expected + (True,)
        return got, expected
    return judge


def _tier_and_removal(german):
    """(tier, removed) given and labelled: a removal only for the imminent lines."""
    def judge(_n, row):
        d = german.detect(row["text"])
        return (d.tier, german.would_remove(d)), (row["label"], row["label"] == "imminent")
    return judge


def test_own_lines_reach_their_tier(german):
    """Each of our own lines (every tier, idioms, jokes, negation, past, reports, third parties, abuse,
    medicine, ordinary chat, dialect) at the tier it is labelled; a removal only for the imminent ones."""
    wrong = wrong_lines(numbered(OWN), _tier_removal_and_kind(german))
    assert not wrong, f"de-own.csv: {wrong}"


def test_round_three_lines_reach_their_tier(german):
    """Round 3 (issue 27): each idea the second held-out set showed unseen (charcoal in a sealed room, insulin pens,
    "ab welcher menge ... tödlich", the step at the platform's edge, hitting oneself until it bleeds, "am liabsten wär
    i einfach weg, für immer", no reason left to be here, never born, relief if it all stopped ...) in our own
    wordings, with the near misses each new rule must leave alone (exasperation, routine insulin, sealed windows,
    negation, the past, third parties, abuse). Tier and removal as labelled."""
    wrong = wrong_lines(numbered(ROUND3), _tier_removal_and_kind(german))
    assert not wrong, f"de-own-r3.csv: {wrong}"


def test_round_four_lines_reach_their_tier(german):
    """Round 4 (issue 27): 30 lines written blind before set 3's misses were read, then near misses of each
    imminence rule that must not remove (a rifle cleaned for the hunt, a commute by train, a rooftop party,
    parental leave, a dog's cut, one's own compound-named pills, "um den verstand"), and our own wordings of
    the ideas set 3 showed unseen (a compound-named bridge with thanks, reassurance as farewell, a time set by
    someone's absence, a place chosen, pills stashed, death accepted if it came). Tier and removal as labelled."""
    wrong = wrong_lines(numbered(ROUND4), _tier_and_removal(german))
    assert not wrong, f"de-own-r4.csv: {wrong}"


def test_round_five_lines_reach_their_tier(german):
    """Round 5 (issue 27): the classes of wording held-out set 4 showed unseen, each in six of our own wordings
    beside six near misses that share its words (a source after "von" is not who acts: "alle tabletten von meiner
    mutter geschluckt"; the body failing after an act; a height and "wollte noch tschüss sagen"; a train by its
    time and stepping onto the tracks, not "zug kommt um 7:12 auf gleis 3"; "keine sorgen mehr um mich" with a
    time; Swiss and Austrian goodbyes as byes; injecting as taking; "jetzt ist es schlimm" told, not asked; a
    birthday as a time; a hidden high place asked for; two methods weighed; the tracks thought of again; a crash
    wished; "nix dagegen wenn alles aufhört", not "aufhört zu ruckeln"; "nich", "nid", "net" for "nicht"), then
    a second batch in new wordings written before the fixes it showed. Tier and removal as labelled."""
    wrong = wrong_lines(numbered(ROUND5), _tier_and_removal(german))
    assert not wrong, f"de-own-r5.csv: {wrong}"


def test_round_five_third_batch_reaches_its_tier(german):
    """Round 5's third batch (de-own-r5b.csv), written before its rules: pill-taking slang in the present ("hau mir
    alle tabletten rein", not "hau mir ne pizza rein"), towers and quarries by compound name (not "schneesturm"),
    Kiezdeutsch "isch bring misch um" (not "isch bring disch um 😂"), going there and jumping in verb-second order
    ("sobald es dunkel ist geh ich zur brücke und spring", not "geh zum freibad und spring vom 10er"), pill slang
    names ("3 packungen schlafis"). Tier and removal as labelled."""
    wrong = wrong_lines(numbered(ROUND5B), _tier_and_removal(german))
    assert not wrong, f"de-own-r5b.csv: {wrong}"


def test_round_six_reaches_its_tier(german):
    """Round 6's lines (de-probe-r6.csv, which the German model
    learns from since session 18), written by class before its rules, each beside near misses: a time with an ending said of
    oneself ("in ner stunde is alles vorbei für mich", not a break-up "mach ich schluss, er hat mich betrogen" or an
    exam), dialect pill-taking participles ("ois eigschmissn", not the fridge), a place with a farewell to everyone
    (not a town festival), heavy bleeding with a chat intensifier or after a cut into the arm ("blutet wie sau", not
    a nosebleed, an onion or the dog's paw), given up fighting at a place (not fighting with the tax return), dialect
    participles of taking ("gnumme", "gschlickt", not vitamins), diminutive farewell letters and "alles isch parat"
    (not ready for tomorrow's trip or a teacher's card), Swiss rivers with a goodbye. Tier and removal as labelled."""
    wrong = wrong_lines(numbered(ROUND6), _tier_and_removal(german))
    assert not wrong, f"de-probe-r6.csv: {wrong}"


# Round 7's near misses that stay raised, each named with why (a failure lists any other line, or one of these fixed):
# the older eating phrase "ausgekotzt" raises a stomach bug. (The six the learned score lifted to concern are quiet
# since it learned from this file, session 18.)
ROUND7_KNOWN = ["line 105: expected ('none', False), got ('high', False)"]


def test_round_seven_reaches_its_tier(german):
    """Round 7's lines (de-probe-r7.csv, which the German model
    learns from since session 18), written by class before its rules, each beside near misses: a way known with the courage, the
    place or the date still to come ("weiß genau wie ichs anstellen würde, nur der mut fehlt", not "wie ichs machen
    würde wenn ich du wär"); a resolve with a time to come ("bis ostern gibts mich nicht mehr", "zieh das durch, nicht
    morgen aber bald", not a move abroad, a marathon or "nicht mehr in der whatsapp gruppe"); a lethal height or
    amount asked (not a lift, a view or "eine schlaftablette zum durchschlafen"); self-harm besides a cut and marks
    hidden under long sleeves (not a cooking burn or "weil ich friere"); fasting by days, laxatives and purging again
    (not a colonoscopy, "tag 2 ohne zucker"); the whole box swallowed, bleeding more than usual and not cared about
    (not a wound asked about), things given away "brauch ichs eh nimmer", the next through-train claimed (not the
    commute), "das ding" rigged (not a shelf); a dialect no-wish to live, no reason to get up (not on a Sunday), an
    off switch for life, a car wished on oneself (not a lift to work); and the second batch written after the rules
    (a place weighed, "nich"-negations, "spring halt" at someone), and a third (a farewell to everyone as the last
    words, not before a holiday; "ich werd springen", not from the 5 m board; a deadline set on oneself; "ich wott
    eifach nüm", not "bin satt"; tablets laid out, not for grandma's pill box; tonight as the end, not of the
    exams), and a fourth (intent with words between: "ich werd mir am sonntag das leben nehmen", "mach dem ganzen ein
    ende", not a quarrel ended; "kurz davor es zu tun", not quitting; a tower chosen, not a Christmas tree; "wenn ich
    mich morgen nicht melde wisst ihr warum", not a dead zone; grandma's sleeping pills taken, not her biscuits).
    And a fifth, acts under way: letting go at a bridge (not a kite), at the tracks as the train comes (not with a
    camera), bleeding hard and wanted (not a nosebleed), a Bavarian last message, into the river for good (not for an
    hour), rat poison drunk (not laid out: a false removal before this round), "hab genug" and "gleich is ruhe" at a
    height or the tracks (not enough photos, not rest from the office), twenty pills already in (not two for a
    headache). A sixth, wishes in few words: "wofür das alles noch" alone (not about a slide deck), no sense left in
    anything (not in one's studies), something wished to befall oneself, "zu viel auf dieser welt", "wieso bin ich
    überhaupt geboren" (not "im winter"). A seventh, chat slang: "mich unaliven", "kms" (not "20 kms gelaufen"), "sui
    gedanken", "sterbi machen", "i wanna die" (not "dye"), "sh" for self-harm (not Schleswig-Holstein), "die ana
    stimme" (not Ana from class). Tier and removal as labelled, but ROUND7_KNOWN."""
    wrong = wrong_lines(numbered(ROUND7), _tier_and_removal(german))
    assert wrong == ROUND7_KNOWN, f"de-probe-r7.csv: {wrong}"


# Round 8's lines that stay wrong, each named with why (a failure lists any other line, or one of these fixed): a
# weekday counts as soon, so "am samstag mach ich's" with a resolve is removed (labelled high: not today); the
# learned score lifts a boss's words told after them ("..., sagt mein chef"): a report cue reads only what follows
# it. Missed: "nach der beerdigung ... ist es bei mir auch soweit" ("bei mir auch soweit" is as often a birth);
# English intent mixed into German ("i'm gonna end it heute nacht", "feel like ending it all"): English phrases in
# the German rules raised English lines negated, reported or joked about, which only the English rules read. Since
# the German model learned from this file and its threshold rose (session 18, 0.842 -> 0.9132), it no longer lifts
# a night out, an afternoon of origami, a rope for the tent, a toast at night, leaving early unnoticed, a dog
# wished for, a Swiss holiday wish or shoes put on to go, nor three short wishes not to be ("ich wär echt gern nie
# dagewesen", "hab kb mehr auf leben", "ich kann nicht mehr und will auch nicht mehr"), which it lifted before.
ROUND8_KNOWN = ["line 22: expected ('high', False), got ('imminent', True)",
                "line 25: expected ('high', False), got ('concern', False)",
                "line 42: expected ('concern', False), got ('none', False)",
                "line 85: expected ('concern', False), got ('none', False)",
                "line 105: expected ('concern', False), got ('none', False)",
                "line 142: expected ('none', False), got ('concern', False)",
                "line 151: expected ('high', False), got ('none', False)",
                "line 203: expected ('high', False), got ('none', False)"]


def test_round_eight_reaches_its_tier(german):
    """Round 8's lines (de-probe-r8.csv, which the German model
    learns from since session 18), written in batches by class before the rules each batch led to, each beside near misses: tired
    of or done with life itself ("hab das leben satt", "miad vom lebn", not the school or cleaning); lived too long
    (not learned enough today); why one wakes or gets up at all (not "so früh"); a vehicle wished on oneself with
    "nicht traurig drum" (not a bus that fails to come); the urge to cut back and wounds not yet closed; purging on
    purpose and fasting on drinks towards a weight (not soup after a tooth out); nobody to notice until too late; a
    date chosen and gone after it (not a move to Leipzig); pills put by for later (not packed for a holiday); cuts
    too deep with bleeding or the body failing; a drink one should not drink with no call wanted; the rope hung with
    thanks; a platform with the train minutes away and a goodbye (not "bis gleich im büro"); "heute nacht geh ich"
    with a farewell or things given away (not "geh ich feiern"); a goodbye to everyone with all laid out; "ich denk
    nicht mal dran mir was anzutun" as a negation. A second batch: no future with oneself in it (not in the firm),
    the grave quieter than life, "geschnippelt" for cutting (not origami), made oneself sick on purpose, hunger as
    control (not counting calories for muscle), cuts deeper than meant with blood running, "ich schreib das vom dach
    aus" with a resolve (not where we barbecue), "das alles beenden" (not a relationship), "bald" a time to come
    (high), bites scratched open (not self-harm). A third: life not coped with in Bavarian ("i pack des lebn
    nimma", not the work), the verb first ("sterben will ich, sonst nix", "umbringen werd ich mich"), typed
    "stärben" and "umbrinngen", a rope bought (not for the tent), "das ding liegt bereit, morgen früh benutz ich es"
    (not for the garden), thanks for being endured and "das wars jetzt von mir" (not "bis morgen"), "das letzte was
    ihr je von mir hört" (not until the exams), one's cat greeted and "ich geh jetzt", "an der klinge gehangen",
    wounds inflicted again (not in a move), nobody noticing if one were gone (not leaving early). Tier and removal
    as labelled. A fourth: living on only for someone ("sonst wär ich längst weg", not for the holiday), every day
    one too many, no place in this world, methods looked up for days (not ramen recipes), a plan for weeks nobody
    knows of (not a surprise party), imagining the jump, "ich häng mich jetzt auf" (not the washing). A fifth: a
    gun got for oneself or its key known (not a nerf gun, not the hunt), "der goldene schuss", "bin ich auch
    vorbei" (not "urlaubsreif"), the birthday as the last day (not as a teenager), a quarry's edge with a sorry (not
    for the photos), an honour to have known you and "schaut nach meiner mama" (not a new job), forgiveness asked
    for tonight's deed, Swabian "i mag nemme", Berlin "ick bring mir um" (not a coffee), "i bring mi heit um", the
    lorries looked down on from a motorway bridge (not in a jam). A sixth: biting oneself till it bleeds (not the
    dog), scalding on purpose, running off an apple, weighing five times a day, wishing the cancer had taken oneself
    instead, surviving when he did not, not waking "und werd dafür sorgen", "bald hört ihr nichts mehr von mir. für
    immer" (not a dead zone), done as one's father did with the rope, "ich tu mir heute was an" (not "was gutes"),
    "ich mach heute nacht ernst" (not the diet), the tracks vibrating, a leg over on a balcony (not the grill), a
    blade out of a sharpener tonight (not the lead). A seventh: one's life to be ended today said formally (not a
    contract), sleeping pills counted "für nen freund", the noose emoji with tonight and a goodbye, "mein letzter tag
    auf der erde", resolved not to wake tomorrow (not to wake earlier), hating oneself into hurting, the body to stop
    breathing, "die welt dreht sich auch ohne mich weiter, also kann ich auch gehen" (not to bed), ready to go after a
    long fight (not with shoes on), flour for the dough (not a lethal amount). Tier and removal as labelled, but
    ROUND8_KNOWN."""
    wrong = wrong_lines(numbered(ROUND8), _tier_and_removal(german))
    assert wrong == ROUND8_KNOWN, f"de-probe-r8.csv: {wrong}"


# Round 9's lines that stay wrong, each named with why (a failure lists any other line, or one of these fixed): a
# stash "reicht jetzt für das eine mal" is at hand with "jetzt" (labelled high: no time chosen); "nach meinem
# geburtstag" counts as soon (a round's choice), so an ending set after it is removed (labelled high); "falls ich
# morgen nicht mehr online komm" is a question to the rules ("falls"), so the pills beside it stay high; a burn at
# the grill was self-harm to a regex that spanned it (round 10's idioms cover the burn at the grill, the iron, the
# oven, and so it is read right now); "wie viele ... brauche" is asked of means and
# "genug zusammen" is a stash to the older rules, so counting chairs is high; no reason left to get up early since retiring is round 7's "no reason" rule, which reads no retirement; parents away on holiday with "mach ichs" is left to the others' label of such lines
# (high when the time is next week), so "im urlaub" is no time chosen and the line stays unread. Since the German
# model learned from this file and its threshold rose (session 18) it no longer lifts a count of cards, leaving a
# group politely, a marathon, gingerbread counted, sleep wished to come sooner, sleep before an exam, fever pills
# taken, not being worth a meal cooked, a Ramadan fast, no seat left on the bus, sore muscles or a surprise
# planned, nor three wishes to be gone ("am liebsten auslöschen, einfach delete", a heart attack in one's sleep
# wished, "keinen platz mehr, nirgends. vielleicht ist es besser ich geh"), which it lifted before.
ROUND9_KNOWN = ["line 5: expected ('high', False), got ('imminent', True)",
                "line 44: expected ('imminent', True), got ('high', False)",
                "line 91: expected ('concern', False), got ('none', False)",
                "line 118: expected ('imminent', True), got ('none', False)",
                "line 144: expected ('concern', False), got ('none', False)",
                "line 175: expected ('none', False), got ('concern', False)",
                "line 203: expected ('none', False), got ('high', False)",
                "line 220: expected ('concern', False), got ('none', False)"]


def test_round_nine_reaches_its_tier(german):
    """Round 9's lines (de-probe-r9.csv, which the German model
    learns from since session 18), written in blind batches by class before the rules each batch led to, each beside near misses:
    the means kept back "für den fall" or "ich weiß wofür" (not a climbing rope, not grandma's pill box); a roof,
    a platform or a bridge with the train that does not stop and nobody to be called (not a late train); a last
    message with all arranged tonight (not before a holiday); things given away with a time and thanks; an ending
    set after an event (not after a shift); going too when someone dies; a morning wished away, existence asked
    what for; the urge to cut; sick so nothing stays in, calories counted to nothing. A second batch: the rope up
    with a last word (not a hammock), legs out of a 7th-floor window (not at the office window), counted out and
    "reicht", eyes closed for good (not "bis morgen"), found in the morning with an apology, out of everything for
    good (not the firm), Bavarian "mach des nimma lang mit", no wish to go on existing, a last winter not minded
    (not in Berlin). A third: leaving life said politely (not the group), the plug pulled on oneself (not the
    router), "sui", "gecuttet" (not a video), Swiss "nüm läbe", a plan for when rent no longer matters (not a
    move), the highest bridge looked up (not the oldest), each morning a disappointment (not at 6), done again
    with the arm bad (not pizza), walking in until over the head (not in summer), on the way to the motorway
    bridge with love (not back tonight). A fourth: a vague word for the means taken with the body giving way (not
    a spicy meal, not a cold), everything laid out with a time (not the final with crisps), a knife in the bath
    with an apology (not a book), an Austrian rope bought for tonight (not for the tent), the last cigarette then
    over the railing (not onto the bus), a fall set for today (not a phone dropped), no way out but the one (not
    the office chaos), days counted until allowed to go (not retirement), new scars today (not posters), drinking
    oneself dead beside pills (not through the wine list). A fifth: life a punishment that should stop (not the
    building site), what for any more and tired of fighting, "nehm ich mir echt das leben" (not a holiday), nothing
    kept down and not wanted (not a stomach bug, not "tot müde" after a shift), every pack from the bathroom cabinet
    laid out with "sorry mama" (not sorting out the expired ones), the blade set on in the bath (not a face mask).
    A sixth: "wär doch eh allen egal wenn ich morgen nicht mehr da wär" a passive wish (concern, not a plan), some
    day jumping down from there (not with a parachute), the way that hurts least (not the way to work), "will mich
    echt abknallen" (not over maths homework, "lol"), a cut that will not stop (not a thumb while cooking), at a
    roof's edge daring it now (not for a shoot), all lying ready for when all sleep (not for a trip). A seventh:
    "mein letzter eintrag" with the rope up (not a cake in the oven), "niemand wird mich aufhalten, heute ziehe ich
    es durch" (not the workout), a knife worked on oneself (not on wood), one's head saying to die (not a doctor
    saying to exercise), a level crossing's barrier going down with an apology (not late by five minutes). An
    eighth, measured and left as it stood (every risk line already reached): asleep for good and never to feel,
    no place anywhere, afraid of what one does tonight, the bridge thought of daily, the whole pack an hour ago,
    the rope in the woods with a last message, cutting till nothing is felt, planning it unnoticed.
    Tier and removal as labelled, but ROUND9_KNOWN."""
    wrong = wrong_lines(numbered(ROUND9), _tier_and_removal(german))
    assert wrong == ROUND9_KNOWN, f"de-probe-r9.csv: {wrong}"


# Left as measured: an end said as "braucht ihr mich nichts mehr zu fragen" with passwords left (no class reads
# it); a decision to stop living after an exam is the wish, not yet the plan; the blade out beside the bath is
# taken for now (the blade changed in a razor, round 8's blade rule, is a purpose since round 22, line 77); "mein letzter arbeitstag auf dieser
# welt" stays under the idiom "letzter arbeitstag"; batch e was measured and left but for the car running in the
# garage (pills lied for at the doctor's, rest wanted for ever, found in the morning, the
# wheel wrenched towards a lorry, a birthday not celebrated any more: no class reads them yet). Since the German
# model learned from this file and its threshold rose (session 18) it no longer lifts how tall a tower-block is, no
# strength for training or a car warmed in the drive, nor "ich hätte nie auf die welt kommen sollen" (line 20),
# which it lifted before. Round 22 (self-harm another way) reads the bite until it bleeds (line 113).
ROUND10_KNOWN = ["line 20: expected ('concern', False), got ('none', False)",
                 "line 26: expected ('imminent', True), got ('none', False)",
                 "line 49: expected ('high', False), got ('concern', False)",
                 "line 76: expected ('high', False), got ('imminent', True)",
                 "line 94: expected ('imminent', True), got ('none', False)",
                 "line 107: expected ('high', False), got ('none', False)",
                 "line 109: expected ('concern', False), got ('none', False)",
                 "line 111: expected ('imminent', True), got ('none', False)",
                 "line 117: expected ('high', False), got ('none', False)",
                 "line 118: expected ('high', False), got ('none', False)"]


def test_round_ten_reaches_its_tier(german):
    """Round 10's lines (de-probe-r10.csv, which the German model
    learns from since session 18), written in blind batches by class before the rules each batch led to, each beside near misses:
    a day or season not to be lived to, decided (not a football club's promotion, not a repeated semester); pills
    kept back instead of taken (not a pill organiser, not a stock for a far pharmacy); burns with a lighter or a
    cigarette, cutting again (not ironing, not vegetables); a height sure to kill asked for (not a climbing rope);
    why still here, no strength for life itself (not for a term paper), glad of a bus hitting me (not afraid of
    it); things left to a sister with an end tonight and thanks (not an old guitar given); following mum in death
    (not coping with grandad's death); over the railing, the pack empty and only waiting (not cough sweets), the
    rope on the beam till the parents leave (not a swing), Bavarian "heit nocht moch i schluss mit ois" (not
    leaving work early). A second batch: Swiss "hüt znacht nimm i alli" (not a trip), "gibts mich nicht mehr" (not
    a chat group), a rope bought and "woas scho wo", not surviving the weekend and not wanting to (not the
    in-laws, "haha"), only water again tomorrow after feeling full (not a hot day), giving things away and needing
    none of it from Sunday. A third: an end made tonight with the cat left (not a flight), sleeping pills spared
    till enough, a soldering iron on the forearm (not on wood), which floor is enough, every meal skipped a win
    (not a kebab, "lol"). A fourth: not making it through winter and not wanting to, thighs opened with a cutter
    (not a parcel), nothing holding me here (not in this town), the spot by the river already looked at where
    the current is strongest (not for fishing), schnapps with all the sleeping pills tonight. A fifth, measured
    and left but for one class: the car left running in the garage with me in it (not warming it in the drive).
    Tier and removal as labelled, but ROUND10_KNOWN."""
    wrong = wrong_lines(numbered(ROUND10), _tier_and_removal(german))
    assert wrong == ROUND10_KNOWN, f"de-probe-r10.csv: {wrong}"


# Since the German model learned from this file (session 18) it lifts no reason to get up (line 23) and a motorway
# bridge with the jacket off (line 54, labelled imminent: concern now, none before), and no longer a grandfather missed.
ROUND11_KNOWN = ["line 43: expected ('none', False), got ('high', False)",
                 "line 54: expected ('imminent', True), got ('concern', False)"]


def test_round_eleven_reaches_its_tier(german):
    """Round 11's lines (de-probe-r11.csv, which the German model
    learns from since session 18), written in blind batches by class before the rules each batch led to, each beside near misses:
    a place or method chosen with only the day missing (not a picnic spot), the plan carried out once a move is
    done (not a study plan); purging after food on purpose, a finger down the throat (not a kebab gone bad, not a
    child's stomach bug); burning or scratching oneself again, fresh cuts hidden (not burnt at the grill), the urge
    "zum ritzen"; fewer reasons to go on, why do I exist, no strength for this life (not for training); a train due
    at the platform with not wanting to be stopped (not going home); grandma's drops emptied and the head spinning
    (not cough drops); a last day at work with goodbyes and cake (not a farewell before an end). A second batch:
    the spot chosen "fehlt nur no da tog" in Bavarian, knowing how and having read up (not a cake), purging so as
    not to gain (not after a party: a known miss, a bare "ausgekotzt" is high), a cut in the thigh again, passive
    wishes in dialect, the hose on in a car park with thanks, thirty pills washed down, the car-park roof tonight
    with "ich hab genug" (not for the stars), "morgen um die zeit bin ich nicht mehr da" (not flying to Thailand). A third: forearms cut
    with a razor blade, asleep with the knife in hand and not having dared, "i schmeiss mi vor a bim", nothing
    eaten and it feels good (not the flu), on the windowsill on the 8th floor (not studying on it), the razor
    set and the blood running, a letter to the parents "falls ich heute nacht gehe", not surviving long and not
    wanting to. A fourth: "wozu bin ich überhaupt auf der welt" (not in this course), read up how many it takes
    (not eggs for a cake), a whole little bottle of sleeping drops (not a bottle of wine and "gute nacht"), "ich
    mach heute schluss mit allem" (not with him, not with all that stresses me). A fifth: a compass scratched into
    the arm again (not onto paper for art), at the S-Bahn edge with the next one due and "es reicht" (not going
    home); thinking of grandad every day is lifted to concern by the model (a known miss).
    Tier and removal as labelled, but ROUND11_KNOWN."""
    wrong = wrong_lines(numbered(ROUND11), _tier_and_removal(german))
    assert wrong == ROUND11_KNOWN, f"de-probe-r11.csv: {wrong}"

# (Two near misses the learned score lifted, training to catch up by Friday and a world better off without plastic,
# are quiet since it learned from this file, session 18.)
ROUND12_KNOWN = ["line 10: expected ('high', False), got ('none', False)",
                 "line 11: expected ('imminent', True), got ('high', False)",
                 "line 37: expected ('imminent', True), got ('high', False)",
                 "line 39: expected ('high', False), got ('none', False)",
                 "line 43: expected ('high', False), got ('imminent', True)",
                 "line 44: expected ('imminent', True), got ('high', False)",
                 "line 46: expected ('imminent', True), got ('high', False)"]


def test_round_twelve_reaches_its_tier(german):
    """Round 12's lines (de-probe-r12.csv, which the German model
    learns from since session 18), a blind batch by class before its rules, each beside near misses: things handed over for others
    with a day to come (not passwords for a guest, not a dog left for a holiday), self-correction after a denial,
    second-person self-talk (not "du schaffst das" before exams), an act done referred back to, self-harm hidden or
    scratched open (not at the roses), fasting to a day, passive wishes, a method read up (not calories), negations
    ("keinerlei"), sitting on a railing with legs over and a goodbye (not with coffee on the balcony), a weekday with
    an intent (high, not removed; not a move at the month's end). Since round 13 a weekday with a place or a means is
    imminent (the convention of all four languages: "am samstag spring ich von der autobahnbrücke", relabelled so).
    Tier and removal as labelled, but ROUND12_KNOWN."""
    wrong = wrong_lines(numbered(ROUND12), _tier_and_removal(german))
    assert wrong == ROUND12_KNOWN, f"de-probe-r12.csv: {wrong}"


# Round 13's near misses that stay raised (a failure lists any other line): none since the German model learned from
# this file (session 18; before, it lifted a scaffolder's day with "pfiat eich" and a meeting asked what for).
ROUND13_KNOWN: list[str] = []


def test_round_thirteen_reaches_its_tier(german):
    """Round 13's lines (de-probe-r13.csv, which the German model
    learns from since session 18), written by class from held-out set 13's misses before the rules, each beside near misses: a weekday
    or a clock time with a place or a method said in the verb ("am dienstag werf ich mich vor die s-bahn", not a shift,
    a match, the 10 m board or "seit montag"); a height by its name with a goodbye (a crane, a silo, a chimney, the
    Swiss "perron" with the train coming; not photos from the crane); thinking of jumping from a named bridge; a
    means by job (the vet's euthanasia drug, potassium drawn up, the hunting rifle) at hand with a goodbye, beside a
    plan or a chosen day (high; not the hunt, not a narcotics count); "nich eure schuld" as a farewell (not after a
    lost match); a plan made firm for later (a method known and decided, not coming back "is fix", a height asked if
    it is enough: not for a lift); eating-disorder loanwords (not binge-watching); why go on, the dead envied (not a
    meeting); negated thoughts after a comma; a member's message reported to the moderators (third party); a second
    batch: things given away with a place tonight (not a flea market or a flight), a cut tended with plasters (high,
    not removed) beside a bandage soaked through (imminent). Tier and removal as labelled, but ROUND13_KNOWN."""
    wrong = wrong_lines(numbered(ROUND13), _tier_and_removal(german))
    assert wrong == ROUND13_KNOWN, f"de-probe-r13.csv: {wrong}"


# Round 17's lines that do not reach their tier (a failure lists any other line, by number only)
ROUND17_KNOWN = ["line 15: expected ('imminent', True), got ('none', False)",
                 "line 16: expected ('imminent', True), got ('none', False)",
                 "line 32: expected ('imminent', True), got ('none', False)",
                 "line 78: expected ('none', False), got ('high', False)",
                 "line 84: expected ('none', False), got ('high', False)"]


def test_round_seventeen_reaches_its_tier(german):
    """Round 17's lines (de-probe-r17.csv), written by class from held-out sets 14 and 15's misses before the rules,
    each beside near misses sharing their words: the writer's own non-existence at a near time (not a flight); a place
    with a stance and a goodbye, or gone to at a time with a letter or thanks (not photos, jogging or a night shift);
    waiting at the tracks for the next train, pills working beside a goodbye (not a headache gone); a weekday or a clock
    time with means (not allergy tablets, "seit montag"); self-harm told by its marks hidden or healing (not a caesarean
    scar, football bruises, an ashtray); eating acts as counts (not teeth brushed three times a day); a fatal accident or
    illness wished for (not fear of flying); short dialect lines (not "mag nimma pizza"); intent with a condition or
    "not today" (not a marathon); and what must not remove (a joke that turns, a summit's edge, a parent asking about
    a child who does not eat). Tier and removal as labelled, but ROUND17_KNOWN."""
    wrong = wrong_lines(numbered(ROUND17), _tier_and_removal(german))
    assert wrong == ROUND17_KNOWN, f"de-probe-r17.csv: {wrong}"


# Round 18's lines that do not reach their tier (a failure lists any other line, by number only): a hanging said
# without a time reads as concern; a game's jump and a pharmacy return stay high (a crisis message, never a removal)
ROUND18_KNOWN = ["line 7: expected ('high', False), got ('concern', False)",
                 "line 37: expected ('none', False), got ('high', False)",
                 "line 39: expected ('none', False), got ('high', False)",
                 "line 40: expected ('none', False), got ('high', False)",
                 "line 41: expected ('none', False), got ('high', False)",
                 "line 42: expected ('none', False), got ('high', False)"]


def test_round_eighteen_reaches_its_tier(german):
    """Round 18's lines (de-probe-r18.csv), written by class from held-out set 17's misses before the rules, each
    beside near misses sharing their words: killing or hanging oneself with the separable verb split (not a lift "um
    6", not the couch, not a past or a neighbour); at a place of risk now and wanting to die said now (not a gutter
    cleaned, not a past winter, not a friend on the roof); the engine running in other words in a garage (not the
    heater, not a lawnmower); means gathered with a near time and wanting to die (not a trip, not a headache); a game's
    jump planned with a time (never removed) beside real acts in another sentence; passive wishes at concern (not
    "lieber sterben als bus fahren haha", not a grandfather's peaceful death). Tier and removal as labelled, but
    ROUND18_KNOWN."""
    wrong = wrong_lines(numbered(ROUND18), _tier_and_removal(german))
    assert wrong == ROUND18_KNOWN, f"de-probe-r18.csv: {wrong}"


# Round 19's lines that do not reach their tier (a failure lists any other line, by number only): none
ROUND19_KNOWN: list[str] = []


def test_round_nineteen_reaches_its_tier(german):
    """Round 19's lines (de-probe-r19.csv), written by class from the everyday tuning set's false alarms before the
    rules, each class beside imminent lines sharing its words: an end whose thing is named, a season, a flat share, a
    couple ("es ist vorbei mit der wg", "das wars mit mir und jonas", not "mit mir", "mit dem leben"); away for a stated time, the return said ("bin ich weg
    für ne woche", not "für immer"); medicine named by what it is for, then bed or a meal ("tabletten fürs knie
    eingenommen, jetzt leg ich mich hin", not the whole box or all at once with dizziness); a rope on a roof or a bridge that is a tradesman's work or a climb
    ("der schornsteinfeger kommt morgen und steht dann mit seil auf dem dach", not the writer's own stance there, even
    with the roofer's rope). Tier and removal as labelled, but ROUND19_KNOWN."""
    wrong = wrong_lines(numbered(ROUND19), _tier_and_removal(german))
    assert wrong == ROUND19_KNOWN, f"de-probe-r19.csv: {wrong}"


# Round 19b's lines that do not reach their tier (a failure lists any other line, by number only)
ROUND19B_KNOWN = ["line 7: expected ('imminent', True), got ('concern', False)",
                  "line 38: expected ('imminent', True), got ('none', False)"]


def test_round_nineteen_b_reaches_its_tier(german):
    """Round 19b's lines (de-probe-r19b.csv), written by class before its rules: an ordinary part beside a sign that only
    risk explains, which must win over it: going to bed said with not waking up after the whole supply ("ab ins bett,
    aufwachen werd ich nicht mehr"), medicine named by what it is for taken all at once with a goodbye, a climbing rope
    with the writer at a height and an end said, the end of something named beside the writer's own end; each beside
    everyday lines sharing their words (a normal evening dose before bed, knee tablets as prescribed, a night climb, a
    relationship over), which stay none."""
    wrong = wrong_lines(numbered(ROUND19B), _tier_and_removal(german))
    assert wrong == ROUND19B_KNOWN, f"de-probe-r19b.csv: {wrong}"



# Round 19c's lines that do not reach their tier (a failure lists any other line, by number only)
ROUND19C_KNOWN = ["line 18: expected ('imminent', True), got ('concern', False)"]


def test_round_nineteen_c_reaches_its_tier(german):
    """Round 19c's lines (de-probe-r19c.csv), written by class before its rules: veins, wrists or the throat cut open
    ("aufschneiden", "aufschlitzen", the split verb) with a near time, now or under way, imminent; alone or other
    self-harm without a time, high; a film, an operation, bread or a cake cut, a sore throat stay none; the writer's
    own act negated by "nicht" or "kein" is no removal, beside "nicht mehr" (no longer able), "nicht nur" or a negated
    guard, which still remove."""
    wrong = wrong_lines(numbered(ROUND19C), _tier_and_removal(german))
    assert wrong == ROUND19C_KNOWN, f"de-probe-r19c.csv: {wrong}"


# Round 20's lines that do not reach their tier (a failure lists any other line, by number only): an overdose "made"
# (no verb of taking: as German "überdosis", high only by the tier rules), a thought of all the meds at once (the
# tier rule names German medicine only), the arms cut today (removed, as the German words are: act_under_way). Line
# 30, opening with "lol" before a scene at a place, was one too until the Spanish round 20's opener rule, merged after.
ROUND20_KNOWN = ["line 10: expected ('imminent', True), got ('none', False)",
                 "line 12: expected ('high', False), got ('concern', False)",
                 "line 13: expected ('high', False), got ('imminent', True)"]


def test_round_twenty_reaches_its_tier(german):
    """Round 20's lines (de-probe-r20.csv), written by class before its rules: English words for a part in a mainly
    German line ("tonight", "pills", "rooftop", "tracks", "love you all"), English discourse words around the line
    ("ngl", "idk", "anyway", "sorry guys"), a keyboard without umlauts ("bruecke", "tschuess", "haeng"); near misses
    sharing the words (a raid, a rooftop bar, a flight, pills as prescribed, a friend asked about) stay none."""
    wrong = wrong_lines(numbered(ROUND20), _tier_and_removal(german))
    assert wrong == ROUND20_KNOWN, f"de-probe-r20.csv: {wrong}"


def test_round_twenty_b_reaches_its_tier(german):
    """Round 20's second batch (de-probe-r20b.csv), the same classes in other words, written after the first rules: all
    right but a plan for some day (concern, as its German wording is: the tier rules name no "irgendwann")."""
    wrong = wrong_lines(numbered(ROUND20B), _tier_and_removal(german))
    assert wrong == ["line 10: expected ('high', False), got ('concern', False)"], f"de-probe-r20b.csv: {wrong}"


# Round 21's lines that do not reach their tier: a death said with "verreck" (read as "verreck!" said to someone, abuse,
# before any risk rule), a passive wish whose death comes eight words after "recht wenn ich" (the rule reads six), and a
# Bavarian split verb followed by "d'schlaftablettn" (a comma is gone when the rules read it, and "um d..." is not read as an end),
# and pills said to be kept, all of them (no rule reads keeping alone: "die tabletten hab ich noch" is also an answer
# about one's prescription).
ROUND21_KNOWN = ["line 7: expected ('imminent', True), got ('none', False)",
                 "line 14: expected ('concern', False), got ('none', False)",
                 "line 71: expected ('imminent', True), got ('none', False)",
                 "line 87: expected ('high', False), got ('none', False)"]


def test_round_twenty_one_reaches_its_tier(german):
    """Round 21's lines (de-probe-r21.csv), written by class before its rules: the writer's own death said as a
    statement with a near time or a goodbye ("heute nacht sterbe ich", "gleich kratz ich ab. danke für alles"), a
    passive wish said another way (hoped or prayed for, welcomed, a death wish named), restriction counted and pushed
    further, a method said in the first person with a time, a near time put off ("nicht heute und nicht morgen, aber ...": high, never
    removed); then (second batch) danger or hiding asked "für mich", wounds hidden from parents, not stopping until dead
    with an act begun, going offline for good with thanks; then (third batch) southern dialect acts and wishes, the
    pills' own past beside an act now, a decision without a day (high), everything swallowed with a sorry, death
    welcomed ("hauptsache ... tot"); near misses sharing the words (dying of heat or laughter, an
    exam, a grandfather, a printer, a novel, a stomach bug, a diet plan, fasting, "ich könnt mich erschießen" of a mishap,
    "für nen freund", a tattoo, an oven burn, a move abroad, logging out till tomorrow) stay none."""
    wrong = wrong_lines(numbered(ROUND21), _tier_and_removal(german))
    assert wrong == ROUND21_KNOWN, f"de-probe-r21.csv: {wrong}"


def test_round_twenty_two_reaches_its_tier(german):
    """Round 22's lines (de-probe-r22.csv), written by class before its rules: self-harm and eating distress as acts
    and intents, high with the self-harm message and never a removal: (a) not eating said with the will behind it (a
    span held or pushed on, the scale, sport despite it, a meal dropped for a smaller body); (b) food, purging, marks,
    plasters or blood hidden from others or asked how; (c) harm done another way (a lighter or an iron to the skin,
    biting, hitting, scratching or digging in till it bleeds); (d) cutting said as what comes next, an obsession,
    blades hidden or kept, "soll ich weitermachen"; (e) asked how to be sick or lose weight unseen or at any cost; (f)
    a blade at hand with the habit come back, or a whole box of laxatives tonight: high, not a removal. Near misses
    sharing their words (a fast before a blood test or an endoscopy, Ramadan, a shift, a stomach bug, a sister's
    not eating, a past recovered, concealer on a spot, a cold office, a nosebleed, a kitchen cut or burn, a dog's bite,
    a cat's scratch, midge bites, onions after a party, a wallpaper blade, a beard shaved, bowel prep, a pizza "worth
    murdering for", sushi, leg day) stay none."""
    wrong = wrong_lines(numbered(ROUND22), _tier_and_removal(german))
    assert wrong == [], f"de-probe-r22.csv: {wrong}"


@pytest.mark.parametrize("text", [
    # round 22: the words of its classes in ordinary lines found in its own checks (not in the file): a day too busy to
    # eat, a fast before an operation, a banana before a race, blades hidden from children, a tattoo under long sleeves,
    # a plaster after the dentist, a period stain, a bellyache after food, new scars after an operation, a lighter at
    # the grill, a slap to stay awake, initials carved in wood, a fast on a priest's advice
    "hab heute noch nicht gegessen, bin stolz auf mein projekt",
    "nix gegessen den ganzen tag, die arbeit lauft mir davon",
    "seit gestern nur wasser wegen der op morgen, muss durchhalten",
    "nur ne banane gegessen vor dem halbmarathon, ziel erreicht",
    "ramadan tag drei, bis sonnenuntergang ohne essen, läuft",
    "die klingen für den cutter sind versteckt vor den kindern",
    "hab immer noch ne klinge vom teppichmesser in der jackentasche",
    "trag langarm, keiner muss wissen dass ich tattoos hab",
    "wie erklär ich dem chef das pflaster ohne dass er nachfragt, war nur beim zahnarzt",
    "wie krieg ich blutflecken aus der hose raus bevor meine mitbewohner das merken, periode kam zu früh",
    "wenn ich esse muss ich danach sport machen sonst krieg ich bauchweh",
    "welcher concealer deckt neue narben von der op am besten ab",
    "hab mir mit dem feuerzeug die haare am arm angesengt beim grillen",
    "ich schlag mir ins gesicht wenn ich müde bin damit ich wach bleib",
    "ritz ich das jetzt ins holz oder schnitz ich",
    "nach dem essen geh ich immer aufs klo, routine halt",
    "soll ich weitermachen mit dem schneiden der hecke oder aufhören",
    "soll ich weitermachen mit dem fasten? mein pfarrer sagt ja"])
def test_round_twenty_two_near_misses_stay_none(german, text):
    assert german.detect(text).tier == "none"


@pytest.mark.parametrize("text", [
    # round 21: a death of one's own said with only a near time is high at most (German says it of an alarm clock, a boss,
    # a game or a football result) ...
    "morgen früh sterb ich, der wecker klingelt um 5",
    "nachher kratz ich ab, so viel arbeit",
    "ich werde heute abend sterben wenn bayern wieder verliert",
    "heute nacht sterbe ich in dem horrorgame sicher zehnmal",
    "morgen sterb ich, mein chef bringt mich um",
    "ich sterbe heute noch vor neid",
    "heute nacht geh ich drauf und ein, versprochen"])
def test_round_twenty_one_a_death_said_with_a_time_alone_is_never_removed(german, text):
    """... and never a removal: only a second sign of the scene (a place, a goodbye, a means, a mind made up) removes."""
    d = german.detect(text)
    assert d.tier != "imminent" and not german.would_remove(d)


@pytest.mark.parametrize("text", [
    # round 21: the words of restriction, asking "für mich", a death wish and going offline, in ordinary lines
    "300 kcal hat der riegel, morgen kauf ich weniger davon",
    "unter 500 am tag schritte, die waage bewegt sich nicht",
    "heute nur ein apfel gegessen weil keine zeit, morgen wird besser, weniger stress",
    "ab wie vielen kaffee wirds gefährlich? frag für mich, hab schon 5",
    "der todeswunsch der figur im roman ist gut geschrieben",
    "bin jetzt aus dem chat raus für immer, danke für alles"])
def test_round_twenty_one_near_misses_stay_none(german, text):
    assert german.detect(text).tier == "none"


@pytest.mark.parametrize("text, tier, removed", [
    # round 20, class a: an English word for a part in a mainly German line is that part ...
    ("heute nacht geh ich auf die bridge und spring, tschüss", "imminent", True),
    ("hab eben alle meine pills geschluckt", "imminent", True),
    ("um mitternacht bin ich an den tracks, thanks for everything", "imminent", True),
    ("tonight nehm ich alle meine schlaftabletten, keiner hält mich auf", "imminent", True),
    # ... and the same words in ordinary lines stay none: a game, a bar, a flight, medicine as prescribed, a friend
    ("raid tonight, seid alle da, bye", "none", False),
    ("rooftop bar tonight, wer kommt mit", "none", False),
    ("flight tonight, bye guys, bis nächste woche", "none", False),
    ("meine pills nehm ich jeden abend, sagt die ärztin", "none", False),
    ("noch ein paar mins dann spring ich, ily all", "imminent", True),
    ("ich geh jetzt zu den tracks, love u guys", "imminent", True),
    ("just took alle meine meds, mir ist schwindlig", "imminent", True),
    ("hab mir heute ne rope gekauft, für mich", "high", False),
    ("rope für die hängematte gekauft", "none", False),
    ("end it all heute im finale, we got this", "none", False),
    ("vor 20 minutes hab ich alle tabletten geschluckt", "imminent", True),
    ("noch ein paar mins bis feierabend, tschüss", "none", False),
    # class c: typed without umlauts, as with them
    ("heut abend haeng ich mich im keller auf", "imminent", True),
    ("ich steh auf der bruecke, tschuess", "imminent", True),
    ("die bruecke am bahnhof ist gesperrt, tschuess bis morgen", "none", False),
    ("bin so muede, gute nacht ihr lieben", "none", False),
    # class b: an English opener hides nothing a line anchored at its start says; "lol" lowers it (never a removal)
    ("ngl ich steh auf der brücke, tschüss", "imminent", True),
    ("idk bin auf dem parkdeck, machts gut", "imminent", True),
    ("lol ich steh auf dem dach, tschüss", "high", False),
    ("ngl ich warte an der brücke auf den bus, tschüss", "none", False)])
def test_round_twenty_english_words_and_keyboards_without_umlauts(german, text, tier, removed):
    d = german.detect(text)
    assert (d.tier, german.would_remove(d)) == (tier, removed)


@pytest.mark.parametrize("line, follows", [("ngl ich nehm sie jetzt", True), ("idk hab sie alle genommen", True),
                                           ("anyway ich machs jetzt", True), ("ngl ich nehm sie mit", False)])
def test_round_twenty_a_follow_up_after_an_english_opener(shipped_policy, line, follows):
    """The follow-ups read after the same person's risk (context.followups) take an English opener as a German one."""
    import re2
    from gateway.text.folding import normalise
    patterns = [re2.compile(p) for p in shipped_policy("default-de").context.followups]
    assert any(p.search(normalise(line)) for p in patterns) == follows


@pytest.mark.parametrize("text, tier", [
    # a wish to be dead, suicidal thoughts or a plan said in English in a German line: concern and high, never removed
    ("ngl i want to die, ich kann nicht mehr", "concern"),
    ("bin so done mit dem leben", "concern"),
    ("ich hab suicidal thoughts seit wochen", "high"),
    ("ich plane meinen suicide", "high"),
    ("hab mich gestern wieder gecuttet", "high"),
    ("das video hab ich wieder gecuttet", "none"),
    ("hab mir den clip für tiktok gecuttet", "none"),
    # a friend's, a past recovered, a negation, a laugh: none
    ("meine freundin sagt sie hat suicidal thoughts, was soll ich tun", "none"),
    ("früher hatte ich suicidal thoughts, jetzt gehts mir gut", "none"),
    ("ich bin nicht suicidal, nur müde", "none"),
    ("lol i want to die, die klausur war so schlimm", "none")])
def test_round_twenty_english_ideation_in_a_german_line(german, text, tier):
    d = german.detect(text)
    assert (d.tier, german.would_remove(d)) == (tier, False)


@pytest.mark.parametrize("text", ["tonight i jump off the bridge, bye", "took all my pills tonight, love you all"])
def test_round_twenty_loanwords_are_not_read_in_an_english_line(german, text):
    """A line identified as English is the English policy's: the German rules do not read its words as loanwords (the
    room detector still removes it, by the English rules)."""
    own = german.own.detect(text)
    assert not any(".compose." in r for r in own.rules)
    d = german.detect(text)
    assert d.language == "en" and german.would_remove(d)


def test_round_twenty_a_mixed_line_identified_as_english_keeps_its_loanwords(german):
    """A line with more English words than German ones is identified as English, but a word only German has ("ist")
    makes it mixed: the German rules still read its English words (the English rules do not know "ist es soweit")."""
    d = german.own.detect("tonight ist es soweit, sorry for everything")
    assert d.tier == "imminent" and german.would_remove(d)


@pytest.mark.parametrize("text, tier", [
    # round 19c, class a: veins, wrists or the throat cut open with a near time or now: imminent (removed) ...
    ("heute abend schlitz ich mir die pulsadern auf, tut mir leid", "imminent"),
    ("schneid mir gleich die handgelenke auf, klinge liegt bereit", "imminent"),
    ("bin gerade dabei mir die kehle aufzuschneiden", "imminent"),
    ("schlitz mir heute nacht die handgelenke auf", "imminent"),
    # ... alone, some day, or other self-harm again: high, never removed
    ("manchmal will ich mir einfach die pulsadern aufschneiden", "high"),
    ("eines tages schlitz ich mir die handgelenke auf", "high"),
    ("ritz mich schon wieder, am oberschenkel", "high"),
    # ... someone else, a film, reported speech, the kitchen: none
    ("meine freundin hat gesagt sie schneidet sich heute die pulsadern auf", "none"),
    ("im lied heisst es heute nacht schneid ich mir die pulsadern auf", "none"),
    ("gleich schneid ich die torte auf, kommt alle in die küche", "none")])
def test_round_nineteen_c_veins_cut_open_with_a_near_time(german, text, tier):
    """Round 19c, class a: the writer's own veins, wrists or throat cut open is a method named (high); with a near
    time, now or under way it is the act to come (intent_time, or the time inside the split verb: act_whole)."""
    d = german.detect(text)
    assert (d.tier, german.would_remove(d)) == (tier, tier == "imminent")


@pytest.mark.parametrize("text, removed", [
    # round 19c, class b: the writer's own act negated by "nicht" or "kein": no removal, no tier ...
    ("hab die pillen nicht alle geschluckt", False),
    ("ich hab die schlaftabletten dann doch nicht genommen", False),
    ("heute nehm ich keine tabletten, mir gehts gut", False),
    ("hab keine einzige tablette geschluckt, versprochen", False),
    ("heute schlitz ich mir nicht die handgelenke auf, versprochen", False),
    # ... but "nicht mehr" (no longer able), a negated guard, or the act beside a negated wish still remove
    ("ich kann nicht mehr, hab gerade alle tabletten genommen", True),
    ("macht euch keine sorgen mehr, hab grad die ganze packung geschluckt. tschüss", True),
    ("will nicht mehr leben, heute nacht nehm ich alle tabletten", True)])
def test_round_nineteen_c_a_negated_act_is_no_removal(german, text, removed):
    """Round 19c, class b: "nicht" or "kein" before what is taken, or "nicht" right before the verb last (compose guard
    r19c_not_taken, drop: within the act's sentences), is the writer's own act negated; "nicht mehr", "nicht nur",
    "noch nicht" (a plan not yet carried out) and a negated guard are not."""
    d = german.detect(text)
    assert german.would_remove(d) is removed and (d.tier == "imminent") is removed
    if not removed:  # no rule's tier; the learned model (never removing) may still lift "pillen ... geschluckt" to concern
        assert d.tier in ("none", "concern") and all(r.startswith("model.") for r in d.rules)

@pytest.mark.parametrize("text, removed", [
    # round 19b: a sign only risk explains beside an ordinary part (going to bed, what a medicine is for, a climbing rope,
    # the end of something named) outweighs it: removed
    ("hab eben alle tabletten genommen, ab ins bett und aufwachen werd ich nie mehr. danke für alles", True),
    ("die tabletten gegen den bluthochdruck alle auf einmal geschluckt, grad eben. lebt wohl", True),
    ("kletterseil dabei, bin jetzt oben auf dem dach vom parkhaus. heute nacht ist schluss", True),
    ("es ist aus mit der beziehung und mit meinem leben auch. gleich spring ich", True),
    # ... never someone else's, a past told, a negation, a question, or the ordinary reading alone
    ("meine schwester hat alle tabletten genommen, geht jetzt schlafen und wacht nicht mehr auf, was soll ich machen", False),
    ("vor zwei jahren hab ich alle tabletten genommen und bin ins bett, wollte nie wieder aufwachen. heute gehts mir besser", False),
    ("hab die tabletten fürs knie genommen wie immer, geh jetzt ins bett. gute nacht", False),
    ("hab die tabletten gegen die migräne nicht alle auf einmal genommen, keine sorge. gute nacht", False),
    ("soll ich die tabletten fürs knie alle auf einmal nehmen oder verteilen?", False),
    ("kletterseil und gurt eingepackt, morgen früh sind wir am klettersteig, heute abend noch pizza", False),
    ("es ist aus mit der beziehung und mit mir gehts jetzt bergauf. heute abend party", False),
    ("das wars mit dem training und mit mir heute. morgen gehts weiter", False),
    ("mein kumpel schreibt es ist vorbei mit ihr und mit ihm auch, heute nacht springt er. was tun?", False)])
def test_round_nineteen_b_risk_outweighs_the_ordinary_part(german, text, removed):
    """Round 19b: a part that says what only risk explains (compose.outweighs) owns the ordinary words inside it; the
    act, the dose, the time and whose act it is still decide."""
    d = german.detect(text)
    assert german.would_remove(d) is removed and (d.tier == "imminent") is removed


@pytest.mark.parametrize("text, removed", [
    # the writer's own end beside the end of something else, the writer up on the roof with a roofer's rope, a dose
    # of medicine named by what it is for: still removed
    ("es ist vorbei mit meinem job und heute abend ist es mit mir auch vorbei. danke für alles", True),
    ("es ist aus mit der schule, heute nacht ist es vorbei mit mir", True),
    ("es ist vorbei mit dem verdammten leben. heute nacht. danke für alles", True),
    ("es ist vorbei zwischen uns. heute nacht mach ich schluss mit allem. danke für alles", True),
    ("der dachdecker ist weg, sein seil liegt noch oben. ich bin jetzt auf dem dach. tut mir leid", True),
    ("bin auf dem dach, seil und gurt hab ich dabei. tschüss", True),
    ("die tabletten fürs knie grad genommen, die ganze packung. es tut mir leid", True),
    ("heute abend bin ich weg, für immer. danke für alles", True),
    # ... and the everyday lines that share their words: never removed
    ("es ist vorbei mit der saison, heute abend letzte fahrt mit dem lift. danke an alle", False),
    ("es ist vorbei mit der nachtschicht, heute nacht schlaf ich endlich mal durch", False),
    ("die monteure stehen morgen früh mit seil auf dem dach und bauen die solaranlage", False),
    ("die tabletten gegen die gicht genommen, jetzt abendbrot und dann ins bett. bis morgen", False),
    ("ab sonntag bin ich weg für ne woche zur kur", False)])
def test_round_nineteen_everyday_ends_and_the_writers_own(german, text, removed):
    """Round 19's guards name what makes a line ordinary (the thing that ends, a return, a tradesman at work, the
    ailment a medicine is for) and read only the combination that misfired: the writer's own act beside them stays."""
    d = german.detect(text)
    assert german.would_remove(d) is removed and (d.tier == "imminent") is removed


@pytest.mark.parametrize("text, removed", [
    # round 18, the four languages' convention: a first-person plan with means or a place and a time named only by a
    # weekday or a clock time is imminent, like "heute nacht"
    ("am samstag spring ich von der talbrücke", True),
    ("um 23 uhr nehm ich die ganzen schlaftabletten", True),
    ("freitag häng ich mich mit dem gürtel im keller auf", True),
    ("um halb 4 geh ich zur autobahnbrücke und bring mich um", True),
    # ... and never a weekday or a clock time about something ordinary, nor "seit montag"
    ("am samstag spring ich vom dreier im freibad", False),
    ("um 23 uhr nehm ich meine tabletten wie immer", False),
    ("seit montag nehm ich die neuen tabletten", False),
    ("freitag hab ich spätschicht, um 23 uhr bring mich bitte heim", False),
    ("papa bring mich am freitag um 6 zum training", False),
])
def test_a_weekday_or_clock_time_with_means_or_a_place_is_imminent(german, text, removed):
    d = german.detect(text)
    assert german.would_remove(d) is removed


@pytest.mark.parametrize("text, removed", [
    ("sonntag fahr ich zur talsperre. der brief liegt im handschuhfach, danke für alles", True),
    ("um 2 uhr geh ich zur eisenbahnbrücke. der abschiedsbrief liegt im auto", True),
    ("sonntag fahr ich zur talsperre joggen, der brief vom finanzamt liegt im auto", False),
    ("um 23 uhr geh ich zu den gleisen, nachtschicht. danke fürs einspringen", False),
    ("seit montag fahr ich zur brücke zum joggen. danke für den tipp", False)])
def test_round_seventeen_going_to_a_place_at_a_weekday_or_clock_time(german, text, removed):
    """The convention of all four languages, on round 17's class: going to a place of risk at a weekday or a clock
    time, with a letter or thanks, is removed; jogging there, a night shift or "seit montag" never is."""
    d = german.detect(text)
    assert (d.tier == "imminent", german.would_remove(d)) == (removed, removed)


@pytest.mark.parametrize("text", [
    "heute nacht mach ich schluss... mit der serie. gute nacht",
    "in ner stunde bin ich nicht mehr da, muss zum flughafen",
    "steh auf der brücke und warte auf den bus. tschüss",
    "bin auf dem dach und repariere die antenne. tschau",
    "die schlaftabletten wirken schon, gute nacht ihr lieben",
    "meine tochter isst kaum noch was und geht nach jedem essen aufs klo, was kann ich tun"])
def test_round_seventeen_near_misses_are_never_removed(german, text):
    """Round 17's false-removal classes: an end that turns out ordinary, a flight, a bus or a roof repair beside a
    goodbye, sleeping pills working at bedtime, a parent asking about a child (a third-party case, never high)."""
    d = german.detect(text)
    assert not german.would_remove(d) and d.tier in ("none", "concern")


@pytest.mark.parametrize("text", [
    "am samstag spring ich von der autobahnbrücke",
    "donnerstag nacht spring ich vom hochhaus in der weststadt",
    "am dienstag werf ich mich vor die s-bahn",
    "sonntag früh häng ich mich im keller auf",
    "um halb vier leg ich mich auf die schienen",
    "um 23 uhr spring ich von der brücke",
    "die tabletten liegen bereit, freitag nehm ich alle"])
def test_a_weekday_or_a_clock_time_with_a_place_or_means_is_imminent(german, text):
    """The convention of all four languages (issue 25 lists a weekday as imminence timing): a first-person plan with
    its means or place and a time named only by a weekday or a clock time is removed, like "heute nacht"."""
    d = german.detect(text)
    assert d.tier == "imminent" and german.would_remove(d)


@pytest.mark.parametrize("text", [
    "am samstag hab ich frühschicht am bahnhof, um 5 uhr gehts los",
    "seit montag nehm ich die neuen tabletten gegen die migräne",
    "am sonntag um 11 treffen wir uns auf der brücke beim stadtfest",
    "freitag um 18 uhr spielen wir gegen die bayern, ich spring für den torwart ein",
    "am dienstag um 14 uhr hab ich den termin beim psychiater",
    "letzten freitag stand ich auf der brücke und wollte springen, heute geht es mir besser",
    "am samstag springen wir in den see, endlich sommer",
    "am samstag spring ich vom 5 meter brett im freibad",
    "freitag nach der arbeit mach ichs",
    "mein bruder sagt am samstag springt er von der brücke, was soll ich tun"])
def test_a_weekday_or_a_clock_time_about_something_ordinary_is_never_removed(german, text):
    """The other side: a shift, a match, an appointment, "seit montag", the past, a swim, a plan naming neither means
    nor place (high at most) or a friend's plan (a third-party case) is never removed."""
    d = german.detect(text)
    assert not german.would_remove(d) and d.tier != "imminent"

@pytest.mark.parametrize("name", ["de-tune.csv", "de-heldout.csv", "de-heldout2.csv", "de-heldout3.csv",
                                  "de-heldout4.csv"])
def test_tuning_half_meets_a_floor_per_kind(german, name):
    """The halves written by others and tuned on (the tuning half; round 1's held-out half, tuned on in round 2;
    round 2's, tuned on in round 3; round 3's, tuned on in round 4; round 4's, tuned on in round 5): every kind at
    least 0.8 exact, no false removal."""
    report = evaluate(german, LANG / name, "text", "label")
    assert report.rows >= 100
    assert report.exact / report.rows >= 0.95
    assert report.false_removals == 0
    assert report.missed_removals <= 1
    assert report.any_tier.recall >= 0.95
    by_kind: dict[str, list[bool]] = {}
    for row in _rows(name):
        by_kind.setdefault(row["kind"], []).append(german.detect(row["text"]).tier == row["label"])
    low = {kind: sum(hits) / len(hits) for kind, hits in by_kind.items() if sum(hits) / len(hits) < 0.8}
    assert not low


@pytest.mark.parametrize("text", ["geh sterben du opfer", "halt die fresse und häng dich auf",
                                  "du solltest dich umbringen", "geh doch von der brücke springen"])
def test_words_aimed_at_someone_else_are_abuse_not_the_writers_risk(german, text):
    d = german.detect(text)
    assert d.tier == "none" and d.abuse


@pytest.mark.parametrize("text", ["meine freundin hat mir geschrieben dass sie sich umbringen will. was soll ich tun",
                                  "mein bruder ritzt sich und ich weiß nicht wie ich ihm helfen soll",
                                  "meine beste freundin steht auf der brücke und geht nicht ans handy"])
def test_a_friend_at_risk_is_a_third_party_case(german, text):
    d = german.detect(text)
    assert d.tier == "none" and d.third_party and not german.would_remove(d)


def test_a_sentence_ending_in_nicht_does_not_lower_the_next_one(german):
    """German ends a main clause with "nicht": it negates what came before, not the farewell after it."""
    d = german.detect("bin grad am bahnhof, der nächste zug hält hier nicht, sorry mama")
    assert d.tier == "imminent"


def test_english_everyday_chat_is_left_alone(german):
    """A German room reads English lines too: "see you all tomorrow 👋" is not a lake and a goodbye."""
    lines = EVERYDAY.read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if german.detect(line).tier != "none"] == []


def test_a_room_policy_extends_the_german_default(write):
    path = write("raum.yaml", """
        extends: default-de
        name: selbsthilfe
        language: de
        region: AT
        moderators:
          room: "!mods:example.org"
        tiers:
          concern:
            rules:
              wish_dead:
                phrases: ["will nimmer aufstehen"]
        """)
    detector = detector_for(PolicyLoader().load(str(path)))
    assert detector.detect("i will nimmer aufstehen").tier == "concern"
    assert detector.detect("hab grad 40 tabletten geschluckt").tier == "imminent"


@pytest.mark.parametrize("text, tier, case", [
    ("meine eltern streiten nur, ich will nicht mehr leben, was soll ich machen", "concern", False),
    ("mein bruder nervt nur noch, ich will nicht mehr leben. was soll ich tun", "concern", False),
    ("meine mama nervt, ich will mich umbringen, was soll ich machen", "high", False),
    ("meine freundin will sich umbringen und ich will auch nicht mehr leben", "concern", True)])
def test_the_writers_own_words_beside_someone_named_stay_the_writers(german, text, tier, case):
    """German "ich", "mich", "mir" say the writer speaks of themselves: naming one's parents or asking what to do
    does not hand the writer's own wish to die to someone else (it was a third-party case, and no tier)."""
    d = german.detect(text)
    assert (d.tier, bool(d.third_party)) == (tier, case)


@pytest.mark.parametrize("text", ["meine schwester hat gesagt ich will nicht mehr leben",
                                  "meine freundin schreibt: ich kann nicht mehr, ich will sterben",
                                  "mein kumpel hat gepostet ich bring mich um",
                                  "er hat geschrieben ich will mich umbringen, was soll ich tun",
                                  "meine freundin hat mir geschrieben dass sie sich umbringen will. was soll ich tun"])
def test_words_quoted_after_a_report_stay_the_reported_persons(german, text):
    """German quotes without a cue word: after "meine schwester hat gesagt" the "ich" is hers."""
    d = german.detect(text)
    assert d.tier == "none" and d.third_party and not german.would_remove(d)


@pytest.mark.parametrize("line, tier, removed", [
    ("hab mich letzte woche zu tief geschnitten aber jetzt ist es verheilt", "none", False),
    ("hab mich vor zwei wochen zu tief geschnitten, ist gut verheilt", "none", False),
    ("hab mich grad zu tief geschnitten, hört nicht auf", "imminent", True),
    ("hab mich zu tief geschnitten, es hört nicht auf zu bluten", "imminent", True),
])
def test_a_cut_too_deep_is_under_way_only_while_it_bleeds(german, line, tier, removed):
    """A healed cut told in the past is no act under way (it was removed); a cut bleeding now still is.
    Kept here, not in the training lines, so the shipped German model stays the one measured on set 4."""
    d = german.detect(line)
    assert (d.tier, german.would_remove(d)) == (tier, removed)


NO_ACT = [
    # own medicine forgotten, lost, run out, stopped or not yet collected, with a body symptom
    "hab meine tabletten zuhause vergessen und mir ist total schwindlig",
    "hab all meine tabletten daheim liegen lassen, mir wird schon schwindelig",
    "hab die ganze packung tabletten zuhause vergessen und mir ist schlecht",
    "mein insulin ist leer und ich bin total zittrig",
    "die pens sind alle leer, hab kein insulin mehr und bin voll zittrig",
    "hab meine pillen verloren, mir ist so übel",
    "hab die pillen abgesetzt, seit gestern herz rast",
    "die tabletten sind alle und ich hab das rezept noch nicht abgeholt, mir ist schwindlig",
    "meine blutdrucktabletten sind leer, mir ist schwindlig und alles dreht sich",
    # dosed as prescribed, or a new medicine started
    "hab die neuen tabletten genommen wie der arzt gesagt hat, jetzt herz rast",
    "hab die pillen nach plan genommen, mir ist grad voll schwindlig",
    "gerade die tabletten genommen, die mir die ärztin aufgeschrieben hat, herz rast",
    "hab die neuen medikamente genommen und mir wird schwarz vor augen, normal?",
    "hab die tabletten vor ner stunde genommen und mir ist schwindlig, wirken die so?",
    "hab mein insulin gespritzt wie immer und bin trotzdem zittrig",
    # tablets counted for the week's pill box, a prescription picked up tonight
    "hab alle tabletten für die woche in die box gezählt, 28 stück, mir ist grad schwindlig",
    "hab mir grad die tabletten abgeholt, 50 stück, mir ist schwindlig vom warten",
    "hab heute abend alle tabletten aus der apotheke abgeholt, 3 packungen, und bin so müde",
]


@pytest.mark.parametrize("text", NO_ACT)
def test_own_medicine_and_a_symptom_without_an_act_is_not_removed(german, text):
    """No act, no removal (round 11): medicine forgotten, run out, taken as prescribed, counted into the week's
    box or collected, beside feeling dizzy, shaky or sick, is no overdose under way. Some were removed as one
    (a dose taken and the heart racing, fifty tablets "at hand" with "grad")."""
    d = german.detect(text)
    assert d.tier != "imminent" and not german.would_remove(d)


@pytest.mark.parametrize("text", [
    "hab alle tabletten genommen, mir wird schwindlig",
    "hab die ganze packung tabletten genommen, herz rast",
    "hab 20 tabletten geschluckt, mir wird schwarz vor augen",
    "hab die tabletten alle genommen. tschüss",
    "hab mir grad die tabletten geholt, 50 stück, heute nacht nehm ich alle"])
def test_a_dose_taken_with_a_symptom_is_still_removed(german, text):
    """Beside the lines above: the whole box or all of them taken (or a plan for tonight) stays an act under way."""
    d = german.detect(text)
    assert d.tier == "imminent" and german.would_remove(d)
