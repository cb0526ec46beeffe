"""Detection, stage 2b: imminence read from the parts of an act or plan, and removal kept strict.

Why: a list of phrasings misses every rewording ("swallowed the lot of them", "top floor of the car park.
goodbye x", "picked it up after work, friday it is"). An act or plan is instead read from parts that the
policy lists (``compose.parts``: the act, the means, a pronoun for the means, the timing, a place, a
preparation, a farewell ...) and that combine within a few words (``compose.combinations``): an act done
with a dose, means at hand with a time, a place with a farewell. Each combination gives a tier and a rule
id that names it (``imminent.compose.means_at_hand``).

The parts are found by the rules stage in the same Aho-Corasick pass (and RE2 filter) as every other
phrase; this module only looks at the few hits, so the cost stays linear in the message.

Removal stays strict: a combination, and any match of a removing tier's own rules, counts only as the
writer's own present or future act. The nearest speaker marker before it must not be someone else
(parts ``self``: "i"; ``other``: "she", "they"; ``someone``: "my friend", unless right after an
``object_of`` word: "to my sister", or right before an ``addressed`` one: "someone please feed my cat"); a ``guard`` part near it (a past told: "two years ago"; a story,
song or the news; a question or a condition: "what if") drops it or caps its tier (an everyday setting,
guard action ``setting``: "in the shower", drops a plan but caps an act done at high), except right after
the writer's ``cover`` story ("told work im on holiday") or inside a time ("after this song finishes"); a ``thought`` ("keep thinking about") caps only
what follows it; a negation right before one of its parts, or before a part near it, lowers it one tier
(not a word inside a longer chosen part: "not planning to walk back" is itself the part, nor help refused:
"not going to hospital" is a mind made up). Reported speech, idioms and
jokes are then applied by the decision stage, as for every other match.

Guards stop at a sentence's end. Folding drops punctuation, so where sentences end is read from the text as written
(``Sentences``, only when a guard is near a match): an act or plan that names its means, dose or place (a part in
``compose.stands_alone``) is dropped or capped only by guards within its own sentences ("boring dinner. swallowed
the whole lot" is no meal), except those the policy says read the whole message (``compose.whole_message``: a past
told, a story or a song framing it; a past told in an earlier sentence not where the act's own sentences say it is
now: "used to cut. the pills are in my hand, taking them all tonight"). One that names none ("im going to end it
tonight", a farewell) takes its sense from the sentences around it, as before.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any, NamedTuple

import ahocorasick
import re2

from ..text.folding import normalise
from .decision import _LEVEL, Matches, _impersonal
from .language import wholly
from .regexsets import PatternSets

__all__ = ["Composer"]

SELF, OTHER, SOMEONE, OBJECT, PAST, COVER, THOUGHT = "self", "other", "someone", "object_of", "past", "cover", "thought"
WISH, RESOLVE, SINCE = "wish", "resolve", "since"
DOSE = "dose"  # an amount of a means ("all my insulin"): an ``unless`` word inside it does not make it ordinary
BODY = frozenset(("symptom", "taking_effect"))  # the body failing, beside a dose
ADDRESSED = "addressed"  # a word right after "someone" that makes them the one asked ("someone please feed my cat")
ASIDE = "aside"  # where the others will be, said as the writer's time ("while theyre at the game"): no subject
NO_RETURN = "no_return"  # a part that ends in its own negation ("je rentre pas"): that cue negates nothing after it
# an everyday phrase that holds words of risk in its own sense ("la fin du ramadan", "la corde du store", "mon ordi a
# rendu l'ame"): a part's hit inside it is the phrase's, not that part (round 19); other parts beside it still count
OTHER_SENSE = "other_sense"
# parts whose words a guard word inside them belongs to: a time ("after this song finishes"), a farewell ("if you
# ever read this"), a preparation, an amount worked out ("i know how many it would take"), a means saved up
# ("saving them for two weeks"), a time to come ("wenn alle im urlaub sind"), messages scheduled ("nachrichten an
# meine leute sind geplant": not the news), how far through it ("nearly there"), a place named by whose building it
# is ("la azotea de la facu", "la terraza de mi trabajo": the school or the work is the place's, not a thing ended), the
# children handed over ("les enfants sont chez leur pere": the children are the arrangement's, not an outing with them)
TIMES = ("soon", "chosen_time", "farewell", "preparation", "measured", "gathering", "later", "scheduled", "progress",
         "place", "kids_handed")
CLOCK_TIMES = ("soon", "chosen_time", "final_time")  # the parts that name a time ("depuis lundi" before one is a duration)
SETTING_ACTS = frozenset(("act", "act_whole", "ingest"))  # an act done: an everyday setting beside it caps, never drops
GOVERNING = frozenset((THOUGHT, WISH))  # guards that cap only what follows them
# An ``unless`` part by this name (a policy part: a policy without it has none) is a hobby or a chore named ("going
# climbing", "car's at the mechanic's till monday"): it makes a combination ordinary, but not beside a goodbye near it (one
# of ``FAREWELLS``): "climbing tonight. the rope is in my car, goodbye everyone" is no hobby (round 19)
PASTIME = "pastime"
FAREWELL = "farewell"  # an ``unless`` word inside a chosen farewell is that farewell's own
FAREWELLS = ("farewell", "bye", "thanks", "apology", "last_sorry")
THEIRS = -1  # ``_strict``: someone else's act or plan, now (the writer gets a third-party case)
THIRD_RULE = "third_party.compose"  # someone else's act or plan read by composition ("she has the pills, tonights the night")
WISH_REACH = 4  # words: "i hope i (just) wont be here", not a wish a sentence before an act
COVER_REACH = 3  # words from the end of a cover-story cue to a guard it covers ("told work im on holiday")
# An act under way that a joke marker does not lower (``Matches.under_way``): a combination at the top tier
# whose chosen parts are an act done and its time (minutes ago, right now) or its effect on the body. Not a
# bare "ya" (``recent``), a time to come, a dose alone ("took all the mints lol") or a goodbye.
ACTS = frozenset(("act", "ingest", "act_whole", "cutting"))
UNDER_WAY = frozenset(("now", "ago", "symptom", "bleeding", "fading", "taking_effect"))
_TOP = max(_LEVEL.values())
# a part after a negation cue that makes it "more than", not "not": "not just a threat this time" (English words)
_MORE_THAN = frozenset(("just", "only"))
# Where a sentence ends in chat, in the text as written (folding drops the punctuation): a full stop, "!", "?",
# ";" or an ellipsis before a space or the end, a line break, a dash between spaces (" - ", " -- ", " — "),
# an emoji or other symbol before a space (not one that folds to a means: "took all my 💊 now"). A comma
# or a colon is not one, and a message with none of them is one sentence.
_MEANS_SYMBOLS = "\U0001F48A\U0001F52A\U0001FAA2\U0001F309\u26B0\U0001FA78"  # folded to a word (folding.py)
_SENTENCE_END = re.compile("[.!?;\u2026\u3002\uff01\uff1f]+(?=\\s|$)|\n|\\s[-\u2013\u2014]+(?=\\s)|(?<=\\s)[\u00a1\u00bf]"
                           "|[\u2190-\u2bff\U0001F000-\U0001FAFF](?<![" + _MEANS_SYMBOLS + "])[\ufe0f\u200d\U0001F3FB-\U0001F3FF]*(?=\\s)")


class Hit(NamedTuple):
    first: int  # word index of the first word
    last: int  # word index of the last word
    start: int  # character offsets in the normalised text
    end: int
    part: str


# Where a clause ends: a sentence's end or a comma before a space (``Clauses``, read only beside a ``plain`` act)
_CLAUSE_END = re.compile(_SENTENCE_END.pattern + "|,+(?=\\s)")
# a part naming the writer's own death plainly ("je me pends", "je me suicide", "j'avale toutes mes pilules"): only risk
# explains it, so an everyday guard of ANOTHER clause ("on a perdu le match, cette nuit je me suicide") does not drop
# or cap the act or plan that holds it; a guard of its own clause still does, and a past told, a story framing it, a
# purpose, a question, a thought or a wish read as before (round 19b; a policy without the part has none)
PLAIN = "plain"
PURPOSE = "purpose"  # what a thing or a jump is for ("saut a l'elastique ce week-end, demain je saute du pont"): any clause


class Sentences:
    """Which sentence of a message each word of its folded form is in, worked out only when a guard asks
    (most messages never do): the text as written is cut at each sentence end (``_SENTENCE_END``), each piece
    folded alone, and its words counted. A piece of one word ("lol.", "x", "ok.") stays with the sentence
    before it: a joke marker or a sign-off says something of that sentence. Where the pieces' words do not add
    up to the message's (folding joined letters across a cut: "k. i. l. l"), or there is no text, the message
    is one sentence, as before sentences were read."""

    __slots__ = ("text", "norm", "_starts")
    cut = _SENTENCE_END

    def __init__(self, text: str | None, norm: str):
        self.text, self.norm, self._starts = text, norm, None

    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0]
            text = self.text
            if text and self.cut.search(text) is not None:
                counts: list[int] = []
                at = 0
                for m in self.cut.finditer(text):
                    counts.append(len(normalise(text[at:m.end()]).split()))
                    at = m.end()
                counts.append(len(normalise(text[at:]).split()))
                if sum(counts) == self.norm.count(" ") + 1:
                    starts, word = [0], 0
                    for n in counts:
                        if n > 1 and word:
                            starts.append(word)
                        word += n
                    self._starts = starts
        return self._starts

    def of(self, word: int) -> int:
        return bisect_right(self.starts(), word) - 1


class Clauses(Sentences):
    """Which clause of a message each word is in: its sentences cut again at each comma (a piece of one word stays
    with the clause before it, as a sentence's does)."""

    __slots__ = ()
    cut = _CLAUSE_END


def _shares(sentences: Sentences, h: Hit, first: int, last: int) -> bool:
    """A guard's hit ``h`` inside one sentence that is among those of words ``first`` to ``last`` (an act or plan
    may run over several: "pills in my hand. tonight"). A hit across a sentence end is no phrase of either
    ("a pill. pills": a regex over folded words cannot see the full stop)."""
    if h.first >= first and h.last <= last:
        return True  # inside the act's own span: "took two for this headache and the rest" reads it
    if len(sentences.starts()) == 1:
        return True
    at = sentences.of(h.first)
    return at == sentences.of(h.last) and sentences.of(first) <= at <= sentences.of(last)


def _by_anchor(combinations: list) -> dict[str, list[int]]:
    """The indexes of ``combinations`` (in order) by each part of their first group."""
    index: dict[str, list[int]] = {}
    for i, (_, _, parts, _, _) in enumerate(combinations):
        for name in dict.fromkeys(parts[0]):
            index.setdefault(name, []).append(i)
    return index


def _gap(a: Hit, b: Hit) -> int:
    """Words between two hits (0 when adjacent or overlapping)."""
    return max(0, b.first - a.last - 1, a.first - b.last - 1)


def _overlap(a: Hit, b: Hit) -> bool:
    """Two hits that cannot both count: one inside the other, or the same part twice over shared words.
    Different parts may share words ("on top of" a position, "top of the car park" a place)."""
    if a.start >= b.end or b.start >= a.end:
        return False
    return a.part == b.part or (b.start <= a.start and a.end <= b.end) or (a.start <= b.start and b.end <= a.end)


class Composer:
    """A policy's combinations, compiled once; ``apply`` adds what they find to a message's matches."""

    def __init__(self, compose: Any, strict_levels: frozenset[int]):
        self.window = compose.window
        self.combinations = [(c.id, _LEVEL[c.tier], c.parts, c.window, frozenset(c.unless))
                             for c in compose.combinations if not c.fallback]
        # two signals of a scene where nothing more precise fired (``fallback``): looked for last, and only then
        self.fallbacks = [(c.id, _LEVEL[c.tier], c.parts, c.window, frozenset(c.unless))
                          for c in compose.combinations if c.fallback]
        # each list's combinations by the parts of their first group (``_find`` looks only at those with a hit)
        self.combinations_by_anchor, self.fallbacks_by_anchor = (_by_anchor(self.combinations),
                                                                 _by_anchor(self.fallbacks))
        # in the policy's order: a pronoun after two means at the same word counts as the first listed (a set's
        # order would change with the hash seed, and so would the rules a line is said to match)
        self.refer = {name: (tuple(dict.fromkeys(after)), counts_as) for name, (after, counts_as) in compose.refer.items()}
        self.refer_window = compose.refer_window
        self.common = compose.common
        self.whole_message = compose.whole_message
        self.stands_alone = compose.stands_alone
        # a guard word inside a longer hit of one of these is that part's (TIMES, and the policy's ``outweighs``)
        self.outweighs = tuple(sorted(compose.outweighs))  # (and so is an ``unless`` word inside one of the policy's)
        self.times = TIMES + self.outweighs
        # English words read as a part of this policy's language ("tonight ich spring", "alle meine pills"), but not in
        # a line identified as English with no word of another language's alone: the English policy reads that one
        # (``compose.loanwords``, round 20)
        self.loanwords = {name: words for name, words in compose.loanwords.items() if words}
        self.guard = {name: (None if action in ("drop", "setting") else _LEVEL[action])
                      for name, action in compose.guard.items()}
        # guards that read an everyday setting ("in the shower", "at the festival"): they drop a plan, and cap
        # at high an act done beside them
        self.setting = frozenset(name for name, action in compose.guard.items() if action == "setting")
        self.strict_levels = strict_levels
        # Parts the rules stage finds in its own pass (``eager``: every part of a combination that is not
        # ``common``); the others (common words, speaker markers, guards) are looked for here, and only in
        # a message where some combination could fire or a removing tier matched: most messages have none.
        everything = self.combinations + self.fallbacks
        in_combinations = {n for _, _, parts, _, unless in everything for g in parts for n in g}
        # a negation right before any of these near a match lowers it ("not taking them tonight"); a pronoun only
        # through the means it refers to ("non ca va pas" denies no "ca")
        self.negatable = (frozenset(compose.parts) - {SELF, OTHER, SOMEONE, OBJECT, ADDRESSED, ASIDE}
                          - set(compose.guard) - (set(compose.refer) - in_combinations))
        self.eager = frozenset(in_combinations - self.common)
        # a combination can fire only if each of its groups made only of eager parts has a hit
        self.required = [[frozenset(g) for g in parts if set(g) <= self.eager]
                         for _, _, parts, _, _ in everything]
        self.by_part: dict[str, list[int]] = {}  # part -> the combinations it is required by
        for i, groups in enumerate(self.required):
            for name in set().union(*groups):
                self.by_part.setdefault(name, []).append(i)
        self.always = [i for i, groups in enumerate(self.required) if not groups]
        self.lazy_automaton = None
        lazy = {name: part for name, part in compose.parts.items() if name not in self.eager}
        entries: dict[str, list[str]] = {}
        for name, part in lazy.items():
            for phrase in part.phrases:
                entries.setdefault(phrase, []).append(name)
        if entries:
            self.lazy_automaton = ahocorasick.Automaton()
            for key, names in entries.items():
                self.lazy_automaton.add_word(f" {key} ", (len(key), tuple(names)))
            self.lazy_automaton.make_automaton()
        self.lazy_regexes = [(re2.compile(pattern), name) for name, part in lazy.items() for pattern in part.regexes]
        # Which of them can match a message at all (RE2 sets, ``regexsets.py``: little memory; the rules stage keeps a
        # FilteredRE2 for its own, ``rules._filter``); only those are run to find where. Most run on a long post find
        # nothing.
        self.lazy_filter = None
        if self.lazy_regexes:
            self.lazy_filter = PatternSets([pattern.pattern for pattern, _ in self.lazy_regexes])

    def trigger_parts(self) -> frozenset[str]:
        """Parts such that a message with none of them fires no combination (the batch path's filter):
        of each combination, its first group of parts none of which the policy calls ``common`` (its
        first group if every one has a common part). A pronoun stands in for a means only after one."""
        triggers: set[str] = set()
        for _, _, parts, _, _ in self.combinations + self.fallbacks:
            group = next((g for g in parts if not set(g) & self.common), parts[0])
            for name in group:
                triggers.add(name)
                triggers.update(a for pronoun, (after, counts_as) in self.refer.items()
                                if name in (counts_as, *after) for a in after)
        return frozenset(triggers)

    def eager_parts(self) -> frozenset[str]:
        """Parts the rules stage must find in its pass and hand to ``apply``."""
        return self.eager

    def apply(self, norm: str, m: Matches, found: list[tuple[int, int, str]]) -> None:
        """Add the combinations found in ``norm`` to ``m.risks``; drop or cap the strict tiers' matches
        that are not the writer's own act. ``found``: (start, end, part) of every eager part's hit. Where the
        message's sentences end: ``m.sentences`` (without it, the message is one sentence)."""
        strict = [r for r in m.risks if r[2] in self.strict_levels]
        if not found and not strict:  # most messages
            return
        names = {part for _, _, part in found}
        required = self.required
        viable = any(all(g & names for g in required[i])
                     for i in {i for n in names for i in self.by_part.get(n, ())}.union(self.always))
        if not strict and not viable:
            return
        hits: dict[str, list[Hit]] = {}
        for start, end, part in sorted(found + self._lazy_hits(norm)):
            first = norm.count(" ", 0, start)
            hits.setdefault(part, []).append(Hit(first, first + norm.count(" ", start, end), start, end, part))
        if self.loanwords and any(norm[h.start:h.end] in words for name, words in self.loanwords.items()
                                  for h in hits.get(name, ())) and wholly(
                norm, m.sentences.text if m.sentences is not None else None, "en"):
            for name, words in self.loanwords.items():
                if name in hits:
                    hits[name] = [h for h in hits[name] if norm[h.start:h.end] not in words]
        if OTHER_SENSE in hits:  # "c'est la fin du ramadan ce soir": no "c'est la fin" of the writer's; who speaks stays,
            # and so does a guard inside it ("la fin des vacances": the holiday still reads as one)
            senses = [(h.start, h.end) for h in hits.pop(OTHER_SENSE)]
            for name, found_hits in hits.items():
                if name not in (SELF, OTHER, SOMEONE, OBJECT) and name not in self.guard:
                    hits[name] = [h for h in found_hits if not any(s <= h.start and h.end <= e for s, e in senses)]
        self._refer(hits)
        if NO_RETURN in hits and m.negations:  # "je reviens jamais, j'ai avale toute la plaquette": the cue that ends a
            # no-return part is that part's own, and negates nothing after it here or in the decision stage (round 20)
            m.negations = [(end, lv) for end, lv in m.negations
                           if not any(r.start < end == r.end for r in hits[NO_RETURN])]
        if SINCE in hits:  # "depuis lundi", "since monday": how long it has lasted, not when it will be; a
            # phrase may hold its time ("gone this weekend": away for it, not a plan made for it). A time starting
            # anywhere in the phrase or right after it (a regex that takes the space before its time starts a word early)
            after = {i for h in hits[SINCE] for i in range(h.first, h.last + 2)}
            for name in CLOCK_TIMES:
                if name in hits:
                    hits[name] = [h for h in hits[name] if h.first not in after]
        # "to my sister", "thank you": someone else as the object, not the subject ("she", "they" never are); so is a
        # shorter name inside it ("told my flatmate": not "flatmate" either)
        objects = {h.last + 1 for h in hits.get(OBJECT, ())}
        objects |= {h.first for h in hits.get(SOMEONE, ()) if any(
            o.first in objects and o.first < h.first and h.last <= o.last for o in hits.get(SOMEONE, ()))}
        # "someone please look after my hamster", "someone feed my cat": the one asked, not the one acting
        asked = {h.first - 1 for h in hits.get(ADDRESSED, ())}
        # "while theyre all at the game", "once shes asleep": where the others will be is the writer's time, and
        # its "theyre" no one acting (``aside``, a policy part: a policy without it has none)
        aside = [(h.start, h.end) for h in hits.get(ASIDE, ())]

        def acting(h: Hit) -> bool:
            return not any(start <= h.start and h.end <= end for start, end in aside)

        # French impersonal "il" ("il y a du sang partout", "il faut") names nobody: not a subject
        markers = sorted(hits.get(SELF, []) + [h for h in hits.get(OTHER, [])
                                               if not _impersonal(norm, h.start, h.end) and acting(h)]
                         + [h._replace(part=OTHER) for h in hits.get(SOMEONE, [])
                            if h.first not in objects and h.last not in asked and acting(h)],
                         key=lambda h: h.start)
        sentences = m.sentences if m.sentences is not None else Sentences(None, norm)
        for risk in strict:  # a removing tier's own rules: the same strictness as a combination
            start, end, level, rule = risk
            first = norm.count(" ", 0, start)
            at = Hit(first, first + norm.count(" ", start, end), start, end, "")
            kept = self._strict(norm, m, at, [], at.first, at.last, markers, hits, level, sentences)
            if kept is None:
                m.idioms.append((start, end, level))  # dropped, and told as suppressed by the decision
            elif kept < level:
                m.risks.remove(risk)
                m.risks.append((start, end, kept, rule))
        if viable:
            self._combine(norm, m, hits, markers, sentences)

    def _lazy_hits(self, norm: str) -> list[tuple[int, int, str]]:
        """(start, end, part) of the parts not found by the rules stage, on word boundaries."""
        out: list[tuple[int, int, str]] = []
        if self.lazy_automaton is not None:  # keys between spaces (as the rules stage's): word boundaries only
            for tail, (length, names) in self.lazy_automaton.iter(f" {norm} "):
                end = tail - 1
                out.extend((end - length, end, name) for name in names)
        hits = self.lazy_filter.Match(norm) if self.lazy_filter is not None else None
        for index in hits or ():  # in any order: ``apply`` sorts the hits
            pattern, name = self.lazy_regexes[index]
            out.extend((f.start(), f.end(), name) for f in pattern.finditer(norm))
        return out

    def _refer(self, hits: dict[str, list[Hit]]) -> None:
        """A pronoun ("them", "the lot") after a means named just before it also counts as that means'
        part, or as the part the policy gives ("tablets ... the lot of them" is a dose)."""
        for pronoun, (after, counts_as) in self.refer.items():
            for h in hits.get(pronoun, ()):
                before = [t for name in after for t in hits.get(name, ())
                          if t.last < h.first and h.first - t.last <= self.refer_window]
                if before:
                    part = counts_as or max(before, key=lambda t: t.last).part
                    hits.setdefault(part, []).append(h._replace(part=part))

    def _combine(self, norm: str, m: Matches, hits: dict[str, list[Hit]], markers: list[Hit],
                 sentences: Sentences) -> None:
        theirs = self._find(norm, m, hits, markers, self.combinations, self.combinations_by_anchor, sentences)
        if self.fallbacks and not theirs and not m.risks:  # nothing else found: two signals of a scene
            theirs = self._find(norm, m, hits, markers, self.fallbacks, self.fallbacks_by_anchor, sentences)
        # someone else's act or plan is a third-party case only where the writer's own words risk nothing: "love
        # you all ... please someone look after my dog" is the writer's farewell, not a report about "someone"
        if theirs and not any(level >= _LEVEL["high"] for _, _, level, _ in m.risks):
            m.third.add(THIRD_RULE)

    def _find(self, norm: str, m: Matches, hits: dict[str, list[Hit]], markers: list[Hit],
              combinations: list, by_anchor: dict[str, list[int]], sentences: Sentences) -> bool:
        """Add each of ``combinations`` found to ``m.risks``; whether one was someone else's (``by_anchor``: their
        indexes by the parts of their first group, ``_by_anchor``)."""
        theirs = False
        present = {name for name, found in hits.items() if found}
        # only the combinations whose first group has a hit, in the policy's order; and of those, only the ones
        # with a hit in every group (most combinations, most messages, have neither)
        for i in sorted({i for name in present for i in by_anchor.get(name, ())}):
            rule, level, parts, window, unless = combinations[i]
            if any(present.isdisjoint(alternatives) for alternatives in parts[1:]):
                continue
            # each group's hits once, in the policy's order of its parts (the nearest is the first of equals)
            groups = [[h for name in alternatives for h in hits.get(name, ())] for alternatives in parts]
            for anchor in groups[0]:
                chosen = [anchor]
                for candidates in groups[1:]:
                    free = [h for h in candidates if not any(_overlap(h, c) for c in chosen)]
                    if not free:
                        break
                    chosen.append(min(free, key=lambda h: _gap(anchor, h)))
                else:
                    first = min(h.first for h in chosen)
                    last = max(h.last for h in chosen)
                    if last - first + 1 > window:
                        continue
                    # a word that would make it ordinary does not, inside an amount chosen with an act of taking it and
                    # the body failing: "my insulin" is the writer's own medicine, "jabbed all my insulin ... getting
                    # shaky" a dose taking effect (not "take all my pills before bed"; never without the act: "left all
                    # my insulin at home and im getting shaky", "all my meds are gone, feeling dizzy" stay ordinary)
                    owners = [c for c in chosen if c.part == DOSE] if (
                        any(c.part in BODY for c in chosen) and any(c.part in ACTS for c in chosen)) else []
                    # nor inside a farewell chosen that holds it ("the pub closes for good tonight and so do i": round 19)
                    owners += [c for c in chosen if c.part == FAREWELL]
                    # (an ordinary word in another sentence says nothing of this one: "cut my thumb. ..."; nor one inside
                    # a longer hit of a part the policy says outweighs it: "die tabletten für die schilddrüse alle auf einmal")
                    if any(h.last >= first - window and h.first <= last + window
                           and not any(c.start <= h.start and h.end <= c.end for c in owners)
                           and not any(o.start <= h.start and h.end <= o.end and o.end - o.start > h.end - h.start
                                       for name in self.outweighs for o in hits.get(name, ()))
                           and not (alone and not _shares(sentences, h, first, last))
                           for name in unless if name != PASTIME or not any(
                               f.last >= first - window and f.first <= last + window
                               for part in FAREWELLS for f in hits.get(part, ()))  # a goodbye outweighs a pastime
                           for h in hits.get(name, ())
                           for alone in (any(c.part in self.stands_alone for c in chosen),)):
                        continue
                    kept = self._strict(norm, m, anchor, chosen, first, last, markers, hits, level, sentences)
                    if kept == THEIRS:
                        theirs = True  # someone else's, and nothing makes it a story or a question
                        continue
                    if kept is None:
                        continue
                    span = (min(h.start for h in chosen), max(h.end for h in chosen))
                    m.risks.append((*span, kept, rule))
                    parts_chosen = {h.part for h in chosen}
                    if kept == _TOP and parts_chosen & ACTS and parts_chosen & UNDER_WAY:
                        m.under_way.add((*span, rule))
                    break
        return theirs

    def _strict(self, norm: str, m: Matches, anchor: Hit, chosen: list[Hit], first: int, last: int,
                markers: list[Hit], hits: dict[str, list[Hit]], level: int, sentences: Sentences) -> int | None:
        """``level`` if the act at ``anchor`` (with the other ``chosen`` parts, words ``first`` to ``last``)
        is the writer's own, lower if a guard caps it or a negation stands right before a part near it
        ("the pills are lined up, not doing it tonight"), ``None`` if a guard drops it or it is someone else's
        (``THEIRS`` if someone else's combination would be removed were it the writer's: a third-party case).
        Cues inside a chosen part ("thank u for trying", "this is it") belong to that part; a rule's own match
        (no ``chosen``) has none."""
        top = level

        def free(h: Hit) -> bool:
            return not any(c.start <= h.start and h.end <= c.end for c in chosen)

        def inner(h: Hit) -> bool:  # a word of a longer chosen part: "planning to" in "not planning to walk back"
            return any(c.start <= h.start and h.end <= c.end and c.end - c.start > h.end - h.start for c in chosen)

        def near(h: Hit) -> bool:
            return h.last >= first - self.window and h.first <= last + self.window

        def timed(h: Hit) -> bool:  # a guard word inside a time ("after this song finishes" is a time, not a
            # song), a farewell, an amount worked out or a place (TIMES)
            return any(t.start <= h.start and h.end <= t.end and t.end - t.start > h.end - h.start
                       for name in self.times for t in hits.get(name, ()))

        def refused(h: Hit) -> bool:  # "not going to hospital": help refused is a mind made up, not a negation
            return any(r.start <= h.start and h.end <= r.end for r in hits.get(RESOLVE, ()))

        def covered(h: Hit) -> bool:  # the writer's cover story: "told work im on holiday", "said it was for"
            return any(c.last < h.first and h.first - c.last <= COVER_REACH for c in hits.get(COVER, ()))

        # a marker that begins a chosen part is that part's subject: Spanish writes the pronoun into the
        # act ("me tiro", "me las tomé"), so "cuando mi roomie se duerma me tiro desde la azotea" is the writer's
        starts = {c.start for c in chosen} | {anchor.start}
        before = [h for h in markers if h.start <= anchor.start and anchor.first - h.last <= self.window
                  and (free(h) or h.start in starts)]
        # the writer's own death said plainly names its own subject ("il m'a quittee, ce soir je me suicide")
        plain = [h for h in hits.get(PLAIN, ()) if h.first <= last and h.last >= first]
        theirs = bool(before) and max(before, key=lambda h: h.start).part == OTHER and not plain
        if theirs and not chosen:
            return None  # no subject at all is the writer's: chat drops the "i" ("took them all")
        # an act or plan that names its means or place stands alone: only the guards of its own sentences read
        # it; one that does not ("im going to end it tonight", a farewell) takes its sense from the sentences
        # around it ("one slice of cake left. im going to end it tonight")
        # a past told in an earlier sentence does not frame a plan whose own sentences say it is now ("used to
        # cut. the pills are in my hand and im taking them all tonight"): the relapse cues ("tonight", "right now")
        span = range(sentences.of(first), sentences.of(last) + 1) if m.relapse else range(0)
        now = bool(span) and any(sentences.of(norm.count(" ", 0, back)) in span for back in m.relapse)
        alone = any(c.part in self.stands_alone for c in chosen) if chosen else any(
            h.first <= last and h.last >= first for name in self.stands_alone for h in hits.get(name, ()))
        # the writer's own death said plainly in the act's span: a drop guard of another clause does not read it
        clauses = Clauses(sentences.text, norm) if plain else None
        for name, cap in self.guard.items():
            if name == PAST and not chosen:
                continue  # a rule's own match told as past: the decision stage reads past and relapse cues
            # a thought or a wish governs what follows it: "keep thinking about taking them all", "hope i
            # wont be here in the morning", not "on the cliff now ... i keep thinking about my cat"
            # a guard applies within the sentences of the act or plan ("boring dinner. swallowed the whole lot" is
            # no meal), unless the policy says it reads the whole message (a past told, a story framing it)
            whole = name in self.whole_message
            found = [h for h in hits.get(name, ()) if near(h) and free(h) and not timed(h) and not covered(h)
                     and (whole or not alone or _shares(sentences, h, first, last))
                     and not (now and name == PAST and sentences.of(h.last) < sentences.of(first))
                     and (name not in GOVERNING or h.first <= last) and (name != WISH or 0 <= first - h.last <= WISH_REACH)]
            if found and plain and cap is None and not whole and name != PURPOSE:
                found = [h for h in found if any(clauses.of(h.first) == clauses.of(p.first) == clauses.of(h.last)
                                                 for p in plain)]
            if found:
                # "swallowed all 30 in the shower": an act done beside an everyday setting is high, not nothing;
                # a setting that is the act's own words ("taking them round to her") still drops it
                acts = [c for c in chosen if c.part in SETTING_ACTS]
                if cap is None and name in self.setting and acts and not any(c.start < h.end and h.start < c.end
                                                                     for h in found for c in acts):
                    cap = _LEVEL["high"]
                if cap is None:
                    return None
                level = min(level, cap)
        start = min((c.start for c in chosen), default=anchor.start)  # where the match will start
        # a cue inside a chosen part is that part's own word ("je m'attache pas. pardon" denies no "pardon")
        # and so is one that ends a no-return part near it ("je rentre pas, je vais aux falaises": round 18)
        cues = [end for end, lv in m.negations if lv in (0, level) and not any(c.start < end <= c.end for c in chosen)
                and not any(r.start < end == r.end for r in hits.get(NO_RETURN, ()))]
        if level > 1 and cues and any(near(h) and not inner(h) and not refused(h) and h.start != start
                                      and self._negated(norm, cues, h, sentences)
                                      for name in self.negatable for h in hits.get(name, ())):
            level -= 1  # (a cue right before the match itself is the decision stage's: not counted twice)
        if theirs:  # someone else's act: theirs if it would be removed were it the writer's, else nothing
            return THEIRS if level == top else None
        return level

    @staticmethod
    def _negated(norm: str, cue_ends: list[int], h: Hit, sentences: Sentences) -> bool:
        """A negation cue ends right before ``h`` in its sentence: "not" + "taking them" (not "no im not. its in my
        hand", "non ca va pas du tout. chu sur le toit"). Not before "just" or "only": "not just a scratch tonight" says more, not less (round 15)."""
        if norm[h.start:h.end] in _MORE_THAN:  # (but "not just now" is "not now": a part of its own)
            return False
        return any(end < h.start and " " not in norm[end + 1:h.start]
                   and sentences.of(norm.count(" ", 0, end)) == sentences.of(h.first) for end in cue_ends)
