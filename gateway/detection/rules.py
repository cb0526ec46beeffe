"""Detection, stage 2: the rules. Every phrase, idiom, negation cue, reported-speech cue and joke marker
of a policy goes into one Aho-Corasick automaton (one linear pass per message, whatever the lexicon's
size); the policy's regexes run on RE2 (linear time: no policy can hang the bot), behind one filter.
Matching is on word boundaries of the folded text (stage 1, ``folding.py``).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import re
import weakref
from typing import Any, Protocol

import ahocorasick
import re2

from .compose import Composer, Sentences
from .decision import _LEVEL, Matches
from .regexsets import PatternSets

__all__ = ["CompiledRules", "RulesSource", "compiled_rules"]

_RISK, _IDIOM, _NEGATION, _REPORTED, _ABUSE, _JOKE, _THIRD = 0, 1, 2, 3, 4, 5, 6
# whose words and when (see decision.py): only read when a risk phrase or regex matched too
_REPORT, _HELPING, _PEOPLE, _RECOVERY, _PAST, _RELAPSE, _SUPPORTIVE = 7, 8, 9, 10, 11, 12, 13
_PART = 14  # a part of an act or plan (compose.py)
_CONCEALED = 15  # the act is hidden from others ("so no one sees"): a joke marker is then deflection
_ABUSE_LEVEL, _THIRD_LEVEL, _REPORT_LEVEL, _PART_LEVEL = -1, -2, -3, -4  # how these regexes are told apart from risk ones
# a laugh ("hahaha", "jajaja", "ahahah"), never a joke said in words that a negation could deny (``_denied``)
_LAUGH = re.compile(r"(?:[hjkx]+[aeiou]+|[aeiou]+[hjkx]+)+[hjkx]?")
_VOWELS = frozenset("aeiouy")


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str):
    """One compiled RE2 per pattern for the process: policies that extend the default share its
    patterns, and compiling them again for every policy (and every test) costs more than matching."""
    return re2.compile(pattern)


@functools.lru_cache(maxsize=64)
def _filter(patterns: tuple[str, ...]):
    """The rules' regexes in one RE2 filter (FilteredRE2), not in sets (``regexsets.py``, as the composer has them): its
    prefilter tree costs 5 to 15 MB a language, but it answers a message judged one at a time, as a room's messages
    arrive, in about half the time of the sets on lines that hold risk words (the unit suite's CPU grew by a tenth
    with sets here: session 22)."""
    regex_filter = re2.Filter()
    for pattern in patterns:
        regex_filter.Add(pattern)
    regex_filter.Compile()
    return regex_filter


_PASS_SIZE = 25  # patterns in one RE2 alternation of the batch pass (see ``CompiledRules``)


@functools.lru_cache(maxsize=256)  # the four shipped languages' passes (about 120) and a few policies' own
def _trigger(pattern: str):
    options = re2.Options()
    options.max_mem = 64 << 20  # the lazy DFA of a large alternation wants more than the default
    return re2.compile(pattern, options)


class RulesSource(Protocol):
    """What detection reads of a policy (``gateway/policy/model.py``'s ``Policy`` is one): detection depends on
    this shape, not on the policy module, so the two do not import each other."""

    tiers: dict[str, Any]
    idioms: tuple[str, ...]
    negations: tuple[str, ...]
    negation_window: int
    reported: tuple[str, ...]
    reported_window: int
    jokes: tuple[str, ...]
    abuse: tuple[Any, ...]
    third_party: tuple[Any, ...]
    third_party_reports: tuple[Any, ...]
    third_party_helping: tuple[str, ...]
    third_party_people: tuple[str, ...]
    recovery: tuple[str, ...]
    past: tuple[str, ...]
    past_window: int
    relapse: tuple[str, ...]
    supportive: tuple[str, ...]
    concealed: tuple[str, ...]
    model: Any
    compose: Any  # parts and combinations (``compose.py``); no combinations: off


class _AnyOf:
    """Several RE2 patterns searched as one: ``finditer`` yields the matches of all, in text order."""

    def __init__(self, patterns: list):
        self.patterns = patterns

    def finditer(self, text):
        return heapq.merge(*(p.finditer(text) for p in self.patterns), key=lambda m: m.start())

    def search(self, text):
        """A match of any of the patterns, or None."""
        return next((m for m in (p.search(text) for p in self.patterns) if m is not None), None)


class CompiledRules:
    """A policy's rules, compiled once; ``match`` finds them in a message, ``any_trigger`` finds which
    messages of a batch can match at all."""

    def __init__(self, policy: RulesSource, small: bool = False):
        automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[int, int, str]]] = {}

        def add(key: str, entry: tuple[int, int, str]) -> None:
            entries.setdefault(key, []).append(entry)

        # (pattern, level, rule id); a pattern is compiled on its own (``_compiled``) only the first time the
        # filter below says it matches a message: most never do, and each compiled one costs memory
        self.regexes: list[tuple[str, int, str]] = []
        for tier in policy.tiers.values():
            level = _LEVEL[tier.name]
            for rule in tier.rules:
                for phrase in rule.phrases:
                    add(phrase, (_RISK, level, rule.id))
                    if " " in phrase:  # "k i l l m y s e l f" normalises to one token, and so
                        joined = phrase.replace(" ", "")  # does "i t o o k a l l m y p i l l s"
                        add(joined, (_RISK, level, rule.id))
                        if not phrase.startswith(("i ", "im ")):
                            add("i" + joined, (_RISK, level, rule.id))
                            add("im" + joined, (_RISK, level, rule.id))
                for pattern in rule.regexes:
                    self.regexes.append((pattern, level, rule.id))
            for idiom in tier.idioms:
                add(idiom, (_IDIOM, level, ""))
        for idiom in policy.idioms:
            add(idiom, (_IDIOM, 0, ""))  # level 0: applies to every tier
        for cue in policy.negations:
            add(cue, (_NEGATION, 0, ""))
        self.negation_words = frozenset(cue for cue in policy.negations if " " not in cue)
        for cue in policy.reported:
            add(cue, (_REPORTED, 0, ""))
        for cue in policy.jokes:
            add(cue, (_JOKE, 0, ""))
        for rule in policy.abuse:
            for phrase in rule.phrases:
                add(phrase, (_ABUSE, 0, rule.id))
            for pattern in rule.regexes:
                self.regexes.append((pattern, _ABUSE_LEVEL, rule.id))
        for rule in policy.third_party:
            for phrase in rule.phrases:
                add(phrase, (_THIRD, 0, rule.id))
            for pattern in rule.regexes:
                self.regexes.append((pattern, _THIRD_LEVEL, rule.id))
        for rule in policy.third_party_reports:
            for phrase in rule.phrases:
                add(phrase, (_REPORT, 0, rule.id))
            for pattern in rule.regexes:
                self.regexes.append((pattern, _REPORT_LEVEL, rule.id))
        for kind, cues in ((_HELPING, policy.third_party_helping), (_PEOPLE, policy.third_party_people),
                           (_RECOVERY, policy.recovery), (_PAST, policy.past), (_RELAPSE, policy.relapse),
                           (_SUPPORTIVE, policy.supportive), (_CONCEALED, getattr(policy, "concealed", ()))):
            for cue in cues:
                add(cue, (kind, 0, ""))
        for tier in policy.tiers.values():
            for cue in tier.negations:
                add(cue, (_NEGATION, _LEVEL[tier.name], ""))
        # Parts of acts and plans (compose.py): those that can make a combination possible are found in
        # the same pass, as (start, end, part name); the composer looks for the rest when it needs them.
        compose = getattr(policy, "compose", None)
        object_part = compose.parts.get("object_of") if compose is not None else None
        self.object_words = frozenset(object_part.phrases) if object_part is not None else frozenset()
        self.composer = None
        trigger_parts: frozenset[str] = frozenset()
        if compose is not None and (compose.combinations or compose.guard):
            self.composer = Composer(compose, frozenset(
                _LEVEL[t.name] for t in policy.tiers.values() if t.action.remove))
            trigger_parts = self.composer.trigger_parts()
            eager = self.composer.eager_parts()
            for name, part in compose.parts.items():
                if name not in eager:
                    continue
                for phrase in part.phrases:
                    add(phrase, (_PART, 0, name))
                for pattern in part.regexes:
                    self.regexes.append((pattern, _PART_LEVEL, name))
        # All regexes in one RE2 filter (``_filter``): it answers which patterns match. Those are run again to find
        # where (needed for idioms, negation and reported speech). Most messages match none. ``small`` rules (a
        # language that identification adds to a room: it judges only the lines in that language) find them with
        # RE2 sets instead, as the composer does: under 1 MB a language instead of the filter's 5 to 15 MB, for
        # about 8 microseconds more on each line they judge
        self.regex_filter = None
        if self.regexes:
            patterns = tuple(pattern for pattern, _, _ in self.regexes)
            self.regex_filter = PatternSets(patterns) if small else _filter(patterns)
        # Each key between two spaces, searched in the message between two spaces: only a match on word boundaries is
        # reported (why: a long post has hundreds of matches inside words, "i" in "time", that a Python loop
        # checked and threw away one by one)
        for key, values in entries.items():
            automaton.add_word(f" {key} ", (len(key), tuple(values)))
        automaton.make_automaton()
        self.automaton = automaton
        self.phrase_count = len(entries)
        # For many messages at once (``detect_many``): only risk and abuse phrases and the regexes can
        # make a message's answer anything but NO_RISK, so one RE2 pass over all messages (one per line)
        # finds the few that need the full judgement. Multi-line mode keeps ``^`` and ``$`` meaning the
        # start and end of a message; a phrase needs a space or a line edge on both sides.
        # A combination needs one part of a group that is not `common` (compose.py's trigger_parts), so
        # those parts are triggers too; the others are not ("now" and "just" would send most lines to the
        # full judgement). Their regexes ("\w+" and "(?:\w+ ){0,4}" in them) go in an alternation of their
        # own: in the large one, RE2's lazy DFA outgrows its memory and runs ten times slower.
        triggers = sorted(key for key, values in entries.items()
                          if any(kind in (_RISK, _ABUSE, _THIRD) or (kind == _PART and rule in trigger_parts)
                                 for kind, _, rule in values))
        alternatives = [f"(?:{p})" for p, level, _ in self.regexes if level not in (_REPORT_LEVEL, _PART_LEVEL)]
        if triggers:
            alternatives.insert(0, "(?:^| )(?:" + "|".join(map(re2.escape, triggers)) + ")(?: |$)")
        part_alternatives = [f"(?:{p})" for p, level, rule in self.regexes
                             if level == _PART_LEVEL and rule in trigger_parts]
        # At most _PASS_SIZE patterns a pass, for the same reason: German's rules (round 3 of issue 27) made one
        # alternation of 330 patterns whose DFA outgrew its memory (that pass four times slower). Why 25 and not 200:
        # the states of one lazy DFA grow with the product of its patterns' positions (each "(?:\w+ ){0,4}" counts
        # words), of several small passes with their sum; over 100,000 mixed lines the four languages' passes built
        # 53 MB of states in 1.6 CPU seconds at 200, 12 MB in 0.8 s at 25 (the lines each pass finds are the same;
        # once warm, the more passes over the text cost about 3 microseconds a line more). The regexes of parts too.
        chunks = [group[i:i + _PASS_SIZE] for group in (alternatives, part_alternatives)
                  for i in range(0, len(group), _PASS_SIZE)]
        passes = [_trigger("(?m)" + "|".join(alts)) for alts in chunks]
        self.any_trigger = None if not passes else passes[0] if len(passes) == 1 else _AnyOf(passes)

    _DETERMINERS = frozenset(("my", "our", "the", "a", "his", "her", "their"))

    def _object_at(self, norm: str, start: int) -> bool:
        """Whether the person a third-party rule starts with is an object ("tell my mum", "to her"):
        the word before them (past a determiner) is one of the policy's ``compose.parts.object_of``."""
        if not self.object_words:
            return False
        before = norm[:start].split()[-2:]
        if before and before[-1] in self._DETERMINERS:
            before = before[:-1]
        return bool(before) and before[-1] in self.object_words

    _TELL = frozenset(("tell", "let"))  # "tell my mum ...", "let my brother know": the one given last words

    def _asked_to_tell(self, norm: str, start: int) -> bool:
        """Whether the person named at ``start`` is the one the room is asked to tell ("tell my mum", "tell mum",
        "let my brother know"): an object, never the subject of what follows. English words; only where the policy lists
        ``object_of``."""
        if not self.object_words:
            return False
        before = norm[:start].split()[-2:]
        if before and before[-1] in self._TELL:  # "tell mum it wasnt her fault", "tell dad im sorry" (round 15)
            return True
        return len(before) == 2 and before[0] in self._TELL and before[1] in self._DETERMINERS

    _ADDRESS = ("you ", "u ", "if you ", "if u ", "when you ", "please ")
    _PRONOUNS = frozenset(("her", "him", "them"))  # after "told", "gave": the object ("told her to keep it")

    def _addressed(self, norm: str, end: int) -> bool:
        """Whether the person named just before ``end`` is spoken to ("dad if you ever read this", "mum please
        dont"): a name followed by "you" or "please" is the one addressed, not the subject. English, as the
        policy's ``object_of`` words: only with them."""
        return bool(self.object_words) and norm.startswith(self._ADDRESS, end + 1)

    def _denied(self, norm: str, start: int, end: int) -> bool:
        """Whether a joke marker said in words is denied by the negation cue right after it ("je rigole
        pas") or right before it ("pas pour rire", "not kidding"). A laugh or an abbreviation ("mdr",
        "haha") never is: "ce code marche pas ptdr" negates the clause before it."""
        cue = norm[start:end]
        if len(cue) < 5 or not set(cue) & _VOWELS or _LAUGH.fullmatch(cue):
            return False
        after = norm[end + 1:].split(" ", 1)[0]
        before = norm[:start].rsplit(" ", 2)[-2] if start else ""
        return after in self.negation_words or before in self.negation_words

    def match(self, norm: str, text: str | None = None) -> Matches:
        """Every phrase, idiom, cue and regex of the policy found in ``norm`` (already normalised); ``text``, the
        message as written, tells the composition where its sentences end."""
        m = Matches()
        risks, idioms, negations, reported, third = m.risks, m.idioms, m.negations, m.reported, m.third
        joking = False
        parts: list[tuple[int, int, str]] = []
        for tail, (length, values) in self.automaton.iter(f" {norm} "):  # ``tail``: the space after the key
            end = tail - 1
            start = end - length
            for kind, level, rule in values:
                if kind == _RISK:
                    risks.append((start, end, level, rule))
                elif kind == _IDIOM:
                    idioms.append((start, end, level))
                elif kind == _NEGATION:
                    negations.append((end, level))
                elif kind == _REPORTED:
                    reported.append((start, end))
                elif kind == _JOKE:
                    # "je rigole pas", "no joke", "pas pour rire": a joke marker denied says it is meant
                    if not self._denied(norm, start, end):
                        joking = True
                        m.jokes.append((start, end))
                elif kind == _THIRD:
                    third.add(rule)  # someone else's risk: decision.py tells which matches are theirs
                elif kind == _REPORT:
                    m.reports.append((start, end, rule))
                elif kind == _HELPING:
                    m.helping = True
                elif kind == _PEOPLE:
                    if not self._addressed(norm, end) and not (norm[start:end] in self._PRONOUNS
                                                               and self._object_at(norm, start)) \
                            and not self._asked_to_tell(norm, start):
                        m.people.append((start, end))  # not "dad, if you read this", not "told her to keep it",
                        # not "tell my mum it wasnt her fault"
                elif kind == _RECOVERY:
                    m.recovery = True
                elif kind == _PAST:
                    m.past.append((start, end))
                elif kind == _RELAPSE:
                    m.relapse.append(start)
                elif kind == _SUPPORTIVE:
                    m.supportive = True
                elif kind == _CONCEALED:
                    m.concealed = True
                elif kind == _PART:
                    parts.append((start, end, rule))
                else:
                    m.abuse_at.append((start, rule))
                    idioms.append((start, end, 0))  # words aimed at someone else are not the writer's risk
        hits = self.regex_filter.Match(norm) if self.regex_filter is not None else None
        for index in hits or ():
            source, level, rule = self.regexes[index]
            pattern = _compiled(source)
            if level == _PART_LEVEL:
                parts.extend((f.start(), f.end(), rule) for f in pattern.finditer(norm))
                continue
            found = pattern.search(norm)
            if found is not None:
                if level == _ABUSE_LEVEL:
                    m.abuse_at.append((found.start(), rule))
                    idioms.append((found.start(), found.end(), 0))
                elif level == _THIRD_LEVEL:
                    if any(not self._object_at(norm, f.start()) for f in pattern.finditer(norm)):
                        third.add(rule)  # "tell my mum im sorry": the person is spoken to, not at risk
                elif level == _REPORT_LEVEL:
                    m.reports.append((found.start(), found.end(), rule))
                else:
                    risks.append((found.start(), found.end(), level, rule))
        m.joking = joking
        m.sentences = Sentences(text, norm)  # worked out only if a guard, a joke or a past cue asks
        if self.composer is not None and (parts or risks):
            self.composer.apply(norm, m, parts)
        return m


# What ``CompiledRules`` reads of a policy: two policies equal in these compile to the same thing.
_RULE_FIELDS = ("tiers", "idioms", "negations", "reported", "jokes", "abuse", "third_party", "third_party_reports",
                "third_party_helping", "third_party_people", "recovery", "past", "relapse", "supportive",
                "concealed", "compose")
_shared: "weakref.WeakValueDictionary[bytes, CompiledRules]" = weakref.WeakValueDictionary()


def compiled_rules(policy: RulesSource, small: bool = False) -> CompiledRules:
    """The policy's rules compiled, shared with every live policy whose rules are the same. Most rooms' policies
    extend the shipped default with their own moderators, region and templates, and each compiled copy of the
    default costs tens of milliseconds and megabytes (its automaton and RE2 passes). Kept only while a
    detector uses it: a reload that changes the rules compiles anew, and the old copy goes with its policy."""
    fields = repr((small, *(getattr(policy, name, None) for name in _RULE_FIELDS)))
    key = hashlib.blake2b(fields.encode("utf-8", "surrogatepass"), digest_size=20).digest()
    rules = _shared.get(key)
    if rules is None:
        rules = _shared[key] = CompiledRules(policy, small)
    return rules
