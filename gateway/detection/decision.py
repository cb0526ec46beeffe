"""Detection, stage 4: the decision. What the rules matched becomes a tier: an idiom or reported speech
drops an overlapping match, a negation just before it (in its sentence) lowers it one tier, a joke marker drops the
lower tiers and lowers the top one; what is left gives the tier and the rule ids that explain it.
(The learned model, stage 3, may raise the result afterwards; see ``detector.py``.)

Speaker before topic. Risk words are the writer's only if the writer says them of themselves:

- Someone else's (``_whose``): with a third-party rule, a report ("my friend just texted me", "he sent
  me"), or a question for help ("what do i do") about someone named, a match without "i", "me", "my"
  in or just before it is theirs; with a report or third-party rule *and* a question for help, every
  match is theirs; with only someone named ("my brother is standing on the roof"), a match whose
  subject just before it is that person is theirs. Someone else's risk makes a third-party case (the
  writer is told how to help), never the writer's tier; if the writer's own risk is in the same
  message, the writer's tier stops at high (``speaker_first``): a helper is never the one removed.
  ``speaker_first`` is applied last, after every stage that can raise a tier.
- Told as past: a past-time cue at most ``past_window`` words before a match ("two years ago I tried",
  "used to cut") drops it, whatever its tier (an act years ago is not under way); so does one anywhere before a
  match told on in a story's tense ("years ago, after dad left, i was going to jump", "... i had the rope
  ready"). A past told in an earlier sentence does not reach a plan whose own sentence says it is now ("two
  years ago i tried. tonight i am going to kill myself": the plan counts). Told as recovered
  anywhere in the message ("still here and", "clean for") unless a cue says it is back ("again",
  "lately", "tonight"), or written to someone else in support ("please reach out", "you matter"):
  matches below the top tier are dropped (an act under way or a plan with a time never is). Either
  way the model stays out.
- A joke marker drops the lower tiers and lowers the top one, for a risk said in its sentence or before it
  ("im going to kill myself tonight lol", "... doing it tonight. jk lol"; a one-word "lol." is the sentence
  before it's), not for one said in a later sentence ("lol. anyway the rope is tied ..."); when the message says the act is hidden
  from others ("so no one sees", "mum thinks im just cold"), it drops nothing (laughing off a cover story
  is deflection, not hyperbole) but still lowers the top tier. One thing outranks a laugh: an act under
  way told with its time or its effect on the body (``Matches.under_way``, marked by the composer: "took
  all 40 pills half an hour ago lol", "jaja me corté las venas y no para de salir sangre"). Nervous
  laughter does not make that a joke; "took all my pills lol" (no time, no effect) is still lowered. Nor is a lone
  "lol" that opens the line a joke frame for an imminent act or plan after it (a discourse word, as "ngl" is: round 20).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Detection", "Matches", "NO_RISK", "MODEL_RULE", "CHAT_RULE", "HELPING_RULE", "NAMED_RULE", "decide",
           "speaker_first", "tier_level", "TIER_NAMES"]

_LEVEL = {"none": 0, "concern": 1, "high": 2, "imminent": 3}
_NAME = {v: k for k, v in _LEVEL.items()}

_TOP = max(_LEVEL.values())  # a joke marker lowers this tier instead of dropping it


def tier_level(tier: str) -> int:
    return _LEVEL[tier]


@dataclass(frozen=True)
class Detection:
    tier: str  # "none", "concern", "high" or "imminent"
    rules: tuple[str, ...]  # rule ids that contributed, sorted
    lowered: tuple[str, ...] = ()  # rule ids lowered one tier by a negation
    suppressed: tuple[str, ...] = ()  # rule ids dropped because an idiom covered them
    abuse: tuple[str, ...] = ()  # abuse rule ids: words aimed at someone else (not the writer's risk)
    score: float | None = None  # the learned model's score, when the policy uses it and something fired
    chat_score: float | None = None  # the chat model's (``model.chat``), when it read the line and something fired
    third_party: tuple[str, ...] = ()  # someone the writer knows is at risk ("my friend wants to die")
    someone_else: bool = False  # every risk word was someone else's: the writer gets the third-party case
    # set by a room's detector (``multilingual.py``): the language whose rules gave this answer, every
    # language whose rules judged the line (the room's first), and what language identification said
    language: str | None = None
    languages: tuple[str, ...] = ()
    identified: str | None = None

    @property
    def level(self) -> int:
        return _LEVEL[self.tier]


NO_RISK = Detection("none", ())
MODEL_RULE = "model.risk"
CHAT_RULE = "model.chat"  # the chat-lines model (``model.chat``) gave the concern
HELPING_RULE = "third_party.asking_how_to_help"  # "what do i do" with someone else named
NAMED_RULE = "third_party.named_subject"  # "my brother is standing on the roof"
TIER_NAMES = _NAME
_HIGH = _LEVEL["high"]

# The writer speaking of themselves, in each language with rules (folded: "j'ai" is "jai"), and a pronoun
# joined to a Spanish verb ("matarme"): a line naming "ma mere", "mi hermano" or "meine freundin" beside the
# writer's own words is still the writer's own
_FIRST_PERSON = frozenset(("i", "im", "ive", "id", "ill", "myself", "me", "my", "mine",
                           "je", "jai", "jsuis", "chui", "jme", "jvais", "jveux", "jles", "moi", "mon", "ma", "mes",
                           # French verbs with "je" elided and joined ("ils seraient soulages si j'etais plus la")
                           "jetais", "jexistais", "jserais", "jaurais", "javais", "jaimerais", "jvoudrais", "jpeux",
                           "jsais", "jpense", "jdois", "jfais", "jen", "jy", "chuis",
                           "yo", "mi", "mis", "conmigo"))
# German's, apart: German reports quote without a cue word ("meine schwester hat gesagt ich will nicht mehr
# leben" is hers), so after a report they do not count; elsewhere ("mein bruder nervt nur noch, ich will nicht
# mehr leben. was soll ich tun") the writer's own words stay the writer's. The possessives ("mein", "meine")
# are not here: "meine schwester" names someone else.
_FIRST_PERSON_DE = frozenset(("ich", "mich", "mir", "ichs"))
# before someone named: not the writer ("my brother", "mi hermano", "ma mere", "meine freundin")
_POSSESSIVE = frozenset(("my", "our", "mon", "ma", "mes", "notre", "nos", "mi", "mis", "nuestro", "nuestra"))
_ENCLITIC_ME = ("arme", "erme", "irme")  # "matarme", "hacerme", "morirme"
_PAST_TENSE = frozenset(("tried", "attempted", "was", "were", "did", "had", "took", "overdosed", "wanted",
                         "felt", "used",
                         # French (folded): "j'ai fait une TS il y a 5 ans", "je voulais mourir au lycee"
                         "fait", "voulu", "essaye", "tente", "voulais", "pensais", "javais", "jetais"))
# a story's tense (not an act done: "took", "overdosed", "did" may be minutes ago)
_STORY_TENSE = frozenset(("was", "were", "had", "tried", "attempted", "wanted", "felt", "planned", "used",
                          "voulais", "pensais", "javais", "jetais"))
# after "il": the French impersonal ("il faut", "il y a", "il parait", "il vaut mieux"), nobody named
_IMPERSONAL_AFTER = frozenset(("faut", "faudrait", "fallait", "y", "parait", "paraitrait", "semble", "suffit",
                               "suffirait", "vaut", "vaudrait", "sagit", "pleut", "neige"))
# German names an owner or a source after a preposition ("alle tabletten von meiner mutter geschluckt", "die
# pistole von meinem vater"): someone named there is not who acts, so not the subject before a match
# the English laugh that the chat of every language opens a line with as a discourse word ("lol idk", "lol anyway",
# "lol ya tengo ..."): see ``_opened_with_laugh``; not a laugh of the room's own language ("mdr", "jaja")
_OPENERS = frozenset(("lol", "lool", "loool", "lolll", "lmao", "lmfao"))
_PREPOSITION_DE = frozenset(("von", "vom", "bei", "beim", "aus", "mit", "zu", "zur", "zum", "fur", "gegen", "ohne"))
_QUOTING = frozenset(("saying", "said", "says", "that", "wrote", "posted", "texted", "messaged", "told"))
# before someone named (past a determiner): the person owns something, is not a subject: "les anxiolytiques
# de ma mere", "le fusil du voisin", "las pastillas de mi madre" (French and Spanish "de", French "du")
_GENITIVE = frozenset(("de", "du"))
_DETERMINER = frozenset(("mon", "ma", "mes", "notre", "nos", "le", "la", "les", "l", "son", "sa", "ses",
                         "mi", "mis", "el", "su", "sus", "nuestro", "nuestra"))


@dataclass
class Matches:
    """Everything the rules found in one normalised message (positions are character offsets)."""

    risks: list = field(default_factory=list)  # (start, end, level, rule id)
    idioms: list = field(default_factory=list)  # (start, end, level; 0 = every tier)
    negations: list = field(default_factory=list)  # (end, level)
    reported: list = field(default_factory=list)  # (start, end) of reported-speech cues
    joking: bool = False
    jokes: list = field(default_factory=list)  # (start, end) of joke markers not denied
    abuse: set = field(default_factory=set)  # abuse rule ids (``decide`` fills it from ``abuse_at``)
    abuse_at: list = field(default_factory=list)  # (start, rule id) of words aimed at someone else
    third: set = field(default_factory=set)
    reports: list = field(default_factory=list)  # (start, end, rule id): someone told or sent the writer
    helping: bool = False  # the writer asks how to help ("what do i do")
    people: list = field(default_factory=list)  # (start, end) of words naming someone else
    recovery: bool = False  # told as recovered ("still here and", "clean for")
    past: list = field(default_factory=list)  # (start, end) of past-time cues ("years ago", "used to")
    relapse: list = field(default_factory=list)  # starts of cues that it is back ("again", "lately")
    supportive: bool = False  # written to someone else in support ("please reach out")
    concealed: bool = False  # hidden from others ("so no one sees", "thinks im just clumsy")
    # (start, end, rule id) of top-tier combinations that are an act under way with its time or its effect
    # on the body ("took them all an hour ago", "cant feel my legs"): a joke marker does not lower them
    under_way: set = field(default_factory=set)
    # which sentence each word is in (``compose.Sentences``, read from the text as written); None: one sentence
    sentences: object = None

    def sentence(self, norm: str, at: int) -> int:
        """The sentence of the word at character offset ``at`` (0 when the text is not known)."""
        return 0 if self.sentences is None else self.sentences.of(norm.count(" ", 0, at))


def _whose(m: Matches, norm: str) -> tuple[list, set[str]]:
    """The risk matches that are the writer's own, and the third-party rule ids for those that are
    someone else's (see the module's docstring)."""
    reports = {rule for _, _, rule in m.reports}
    named = [(s, e) for s, e in m.people if not _impersonal(norm, s, e)]
    # someone named as an owner ("les cachets de ma mere") is no subject, but "ma" there is still not the writer
    people = [(s, e) for s, e in named if not _owner(norm, s)]
    helping = m.helping and bool(m.third or reports or people)
    if not (m.third or reports or people):
        return m.risks, set()
    everything = helping and bool(m.third or reports)
    strong = bool(m.third or reports or helping)
    own, theirs = [], False
    for risk in m.risks:
        start, end = risk[0], risk[1]
        before = norm[:start].split()[-3:]
        reach = start - len(" ".join(before)) - 1
        # the report's own words ("she told me") are not the writer speaking of themselves
        told = max((e for s, e, _ in m.reports if e <= start), default=0)
        first = _says_first_person(norm, max(reach, told), end, named, after_report=told > 0)
        if everything:
            mine = False
        elif strong:
            mine = first and _QUOTING.isdisjoint(before)
        else:  # only someone named: theirs if they are the subject just before the match
            mine = first or not any(reach <= s < start and not _after_preposition(norm, s) for s, _ in people)
        if mine:
            own.append(risk)
        elif strong or risk[2] >= _HIGH:  # only named, and only concern ("she wishes she was gone"): no case
            theirs = True
    if not theirs:
        return own, set()
    return own, reports | ({HELPING_RULE} if helping else set()) | ({NAMED_RULE} if not strong else set())


def _told_as_past(m: Matches, norm: str, start: int, end: int, level: int, window: int,
                  under_way: bool = False) -> int:
    """2 if the match is told as past: a past-time cue at most ``window`` words before it with no cue
    that it is back in between ("used to cut, last night i cut again" is not), or, for a past-tense
    match below the top tier, a past-time cue just after it ("i tried to overdose in 2016"). 1 if
    contested: the only cue that it is back is inside the match ("a year ago tonight i'd planned to end
    it. tonight im eating pizza" reads the same as "years ago i tried to, and tonight i'll finish it"
    once folded), or a top-tier match not under way with a past-time cue in its own sentence, just after it or
    further before it than ``window`` ("i took an overdose five years ago"): a top-tier match is lowered, never a
    removal on a reading that may be the past. 0 otherwise."""
    told = 0
    for cue_start, cue_end in m.past:
        # a past story, then a present plan in a sentence of its own: "two years ago i tried. tonight i am
        # going to kill myself" (a cue that it is back in the match's sentence: the plan counts)
        if cue_end <= start and m.relapse and m.sentence(norm, cue_start) < m.sentence(norm, start) and any(
                m.sentence(norm, back) == m.sentence(norm, start) for back in m.relapse):
            continue
        if cue_end <= start and norm.count(" ", cue_end, start) - 1 <= window:
            if not any(cue_end + 1 < back < start for back in m.relapse):
                if not any(start <= back < end for back in m.relapse):
                    return 2
                told = 1
        elif (cue_end <= start and _story_told(m, norm, start, end, window)
              and not any(cue_end < back < end for back in m.relapse)):
            return 2  # the story goes on: "years ago, after dad left, i was going to jump" ("i had the rope ready")
        elif (cue_start >= end and level < _TOP and norm.count(" ", end, cue_start) - 1 <= window
              and _past_tense_in(norm[max(0, start - 8):end].split())
              and not any(end <= back < cue_start for back in m.relapse)):
            return 2
        elif (level == _TOP and not under_way and m.sentence(norm, cue_start) == m.sentence(norm, start)
              and (cue_end <= start or (cue_start >= end and norm.count(" ", end, cue_start) - 1 <= window))
              and not any(min(cue_end, start) <= back < max(cue_start, end) for back in m.relapse)):
            # a top-tier act with a past time in its own sentence, just after it ("i took an overdose five years
            # ago") or further before it than the window ("five years ago i was in an ambulance after i took an
            # overdose"): contested, never a removal; an act told with its time now (``under_way``) or a cue
            # that it is back between the two ("tonight", "again") keeps it
            told = 1
    return told


def _story_told(m: Matches, norm: str, start: int, end: int, window: int) -> bool:
    """Whether the match at ``start`` is told in a story's tense: "was", "had", "tried" in it or at most
    ``window`` words before it, in its own sentence ("i was going to jump", "i had the rope ready"); not an act
    done ("took", "overdosed": "took them all an hour ago" is now)."""
    words = norm.split()
    first, last = norm.count(" ", 0, start), norm.count(" ", 0, end)
    if m.sentences is not None:
        begins = m.sentences.starts()
        window = min(window, first - begins[m.sentences.of(first)])
    return any(w in _STORY_TENSE for w in words[max(0, first - window):last + 1])


def _laughed_off(m: Matches, norm: str, start: int) -> bool:
    """Whether a joke marker is about the risk said at ``start``: one in its sentence, or in a later one
    ("... and im doing it tonight. jk lol"); a one-word piece ("lol.") is the sentence before it's
    (``Sentences``). A laugh in an earlier sentence is not: "lol. anyway the rope is tied ..." """
    if not m.jokes:
        return m.joking  # matches built without positions: the whole message, as before
    if m.sentences is None or len(m.sentences.starts()) == 1:
        return True
    at = m.sentence(norm, start)
    return any(m.sentence(norm, j) >= at for j, _ in m.jokes)


def _opened_with_laugh(m: Matches, norm: str, start: int) -> bool:
    """Whether the message's only joke marker is a chat opener ("lol", "lmao") that is its first word, before the risk
    said at ``start``: a discourse word as "ngl" or "anyway" are ("lol ya tengo la soga atada y esta noche me cuelgo",
    "lol same re the meds ... im finishing them off tonight"), not a joke frame for the act said plainly after it, so
    it does not lower the top tier (round 20). A marker after the risk, or a second one ("... jk obviously"), still
    does; and it still drops the lower tiers ("lol me quiero morir")."""
    return (len(m.jokes) == 1 and m.jokes[0][0] == 0 and m.jokes[0][1] < start
            and norm[:m.jokes[0][1]] in _OPENERS)


def _after_preposition(norm: str, start: int) -> bool:
    """Whether the word naming someone that starts at ``start`` follows a German preposition: an owner or a
    source ("von meiner mutter"), not the one who acts."""
    return norm[:start].rstrip().rsplit(" ", 1)[-1] in _PREPOSITION_DE


def _impersonal(norm: str, start: int, end: int) -> bool:
    """Whether the word naming someone that ends at ``end`` is French impersonal "il" ("il faut combien de
    cachets", "il y a des jours ou je veux mourir"): nobody is named."""
    return norm[start:end] == "il" and norm[end + 1:].split(" ", 1)[0] in _IMPERSONAL_AFTER


def _owner(norm: str, start: int) -> bool:
    """Whether the word naming someone that starts at ``start`` follows a genitive "de"/"du" (past one
    determiner): "toute la boite de doliprane de ma mere" names whose pills, not who took them."""
    before = norm[:start].split()[-2:]
    if before and before[-1] in _DETERMINER:
        before = before[:-1]
    return bool(before) and before[-1] in _GENITIVE


def _past_tense_in(words: list[str]) -> bool:
    """Whether a past-tense word is among ``words``; a French imperfect after "si" is a hypothesis, not
    the past: "ce serait mieux si j'etais mort dans mon accident l'an dernier" is a wish told now."""
    return any(word in _PAST_TENSE and (i == 0 or words[i - 1] != "si") for i, word in enumerate(words))


def _says_first_person(norm: str, start: int, end: int, people: list, after_report: bool = False) -> bool:
    """Whether ``norm[start:end]`` has "i", "me", "my"...; "my" before a word naming someone ("my
    brother") is not the writer speaking of themselves; German "ich", "mich", "mir" count unless the
    words come after a report (``after_report``: they may be the one reported, quoted)."""
    at = max(start, 0)
    named = {s for s, _ in people}
    for word in norm[at:end].split():
        at = norm.index(word, at)
        if word in _FIRST_PERSON and not (word in _POSSESSIVE and at + len(word) + 1 in named):
            return True
        if not after_report and word in _FIRST_PERSON_DE:
            return True
        if len(word) > 5 and word.endswith(_ENCLITIC_ME):
            return True
        at += len(word)
    return False


def speaker_first(d: Detection) -> Detection:
    """Someone else's risk outranks every tier the writer's words reached: when every risk word was
    someone else's, the writer's tier is none (a third-party case); when the writer's own risk is in a
    message about someone else at risk, it stops at high (a helper is never the one removed). Applied
    last, after every stage that can raise a tier."""
    if not d.third_party:
        return d
    if d.someone_else:
        if not d.level:
            return d
        return Detection("none", (), suppressed=tuple(sorted(set(d.suppressed) | set(d.rules))), abuse=d.abuse,
                         third_party=d.third_party, someone_else=True)
    if d.level > _HIGH:
        return Detection(_NAME[_HIGH], d.rules, tuple(sorted(set(d.lowered) | set(d.rules))), d.suppressed,
                         d.abuse, d.score, d.third_party)
    return d


def decide(m: Matches, norm: str, negation_window: int, reported_window: int,
           past_window: int = 4) -> tuple[Detection, bool]:
    """The rules' answer, and whether the model must stay out: the rules saw an idiom, a joke marker,
    reported speech, words aimed at someone else, someone else's risk, a recovery or a supportive reply,
    or lowered a match for a negation."""
    idioms, negations, reported, joking = m.idioms, m.negations, m.reported, m.joking
    # "please don't kill yourself" is not aimed at anyone: a negation right before drops an abuse match
    # ("why don't you go jump off a bridge" keeps it: a word between)
    abuse = m.abuse | {rule for start, rule in m.abuse_at
                       if not any(lv == 0 and neg_end == start - 1 for neg_end, lv in negations)}
    risks, theirs = _whose(m, norm)
    if abuse:  # "that guy should jump off a bridge": aimed at someone, not telling of their risk
        risks, theirs = m.risks, set()
    third = m.third | theirs
    recovered = m.recovery and not m.relapse
    # a laugh before a risk said in a later sentence is not about it ("lol. anyway the rope is tied ..."): a joke
    # marker keeps the model out only if it laughs off some risk of the message (or there is none)
    joking = joking and (not m.risks or any(_laughed_off(m, norm, r[0]) for r in m.risks))
    exempt = bool(idioms or reported or (joking and not m.concealed) or abuse or third or recovered or m.supportive)
    if not risks:
        if abuse or third:
            return Detection("none", (), suppressed=tuple(sorted({r[3] for r in m.risks})),
                             abuse=tuple(sorted(abuse)), third_party=tuple(sorted(third)),
                             someone_else=bool(third)), exempt
        return NO_RISK, exempt

    best: dict[str, int] = {}
    lowered: set[str] = set()
    suppressed: set[str] = {r[3] for r in m.risks} if theirs else set()
    for start, end, level, rule in risks:
        if any(s < end and start < e and lv in (0, level) for s, e, lv in idioms) or any(
                cue_start < start and norm.count(" ", cue_end, start) - 1 <= reported_window
                for cue_start, cue_end in reported):
            suppressed.add(rule)  # an idiom, or words reported about someone else
            continue
        past = _told_as_past(m, norm, start, end, level, past_window, (start, end, rule) in m.under_way)
        if (level < _TOP and (recovered or m.supportive)) or past == 2:
            suppressed.add(rule)  # told as past or recovered, or written to someone else in support
            exempt = True
            continue
        if past == 1 and level == _TOP:
            lowered.add(rule)
            level -= 1
        if joking and (level == _TOP or not m.concealed) and _laughed_off(m, norm, start) and not (
                level == _TOP and _opened_with_laugh(m, norm, start)):  # a cover story
            # laughed off is not a joke, but
            if level < _TOP:  # never a removal on a joke marker either
                suppressed.add(rule)
                continue
            # an act under way with its time outranks a laugh
            if (start, end, rule) not in m.under_way:
                lowered.add(rule)
                level -= 1
        elif level > 1 and any(  # a cue in its sentence: "non ca va pas. je suis sur le pont" denies no act
                neg_end <= start and lv in (0, level)
                and norm.count(" ", neg_end, start) - 1 <= negation_window
                and m.sentence(norm, neg_end - 1) == m.sentence(norm, start)  # "no im not. its in my hand": not its
                for neg_end, lv in negations):
            lowered.add(rule)
            level -= 1
        if level > best.get(rule, 0):
            best[rule] = level
    exempt = exempt or bool(lowered)
    if not best:
        return Detection("none", (), suppressed=tuple(sorted(suppressed)), abuse=tuple(sorted(abuse)),
                         third_party=tuple(sorted(third)), someone_else=bool(third)), exempt
    top = max(best.values())
    return speaker_first(Detection(_NAME[top], tuple(sorted(best)), tuple(sorted(lowered & best.keys())),
                                   tuple(sorted(suppressed - best.keys())), tuple(sorted(abuse)),
                                   third_party=tuple(sorted(third)))), exempt
