"""Which part of a message is the sender's own words, and who they are about.

Why: people quote each other when they reply, and a kind reply to someone at risk carries the at-risk
words along (Matrix's reply fallback ``> <@kit:example.org> ...``, a pasted IRC line ``<kit> ...``, a
Markdown quote ``> ...``). Scanning those lines as the replier's words sends the replier crisis lines
and removes them from the room. Quoted lines are someone else's words: the person who wrote them was
already screened when they wrote them, so they are dropped before detection.

A line is a quote only when it looks like one, so a person at risk is never skipped for an emoticon:

- ``>`` (or ``>>`` ...) followed by a space, or alone on its line; ``>_< ...``, ``>:( ...``, ``>.< ...`` are faces.
- ``<name> text`` (optionally after a ``[12:34]`` time stamp, the name after a ``@``/``+`` mode sign) where
  ``name`` is a Matrix user id, or a nick the adapter says is (or the engine saw recently) in the room.
  ``<3``, ``<_<``, ``<sigh>``, ``<hugs>`` are not: not nick-like, or words people write between brackets,
  which never count as a quote even if someone took that word as a nick (a troll named ``sigh`` must not
  blind the bot to ``<sigh> i want to die``). Where nobody says who is present (``present`` is ``None``:
  the command-line evaluator, a core driven without an adapter), any other nick-like name counts.

An action (``/me``, Matrix ``m.emote``) is the writer speaking of themselves in the third person:
``first_person`` reads "* kit is going to kill himself" as "I am going to kill myself".
"""

from __future__ import annotations

import re
from typing import Callable

__all__ = ["own_words", "pasted_names", "first_person"]

_MARKDOWN_QUOTE = re.compile(r"[ \t]*>+(?:[ \t]|$)")
# "<name> text", maybe after a time stamp as clients log it: "[12:34] <kit> ...", "12:34:56 <kit> ..."
_PASTED = re.compile(r"[ \t]*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?[ \t]+)?<(?:[~&@%+](?![^<>\s]*:))?([^<>\s]{1,64})>[ \t]")
_NICK = re.compile(r"[A-Za-z_\[\]\\^{}|`][A-Za-z0-9_\-\[\]\\^{}|`.]*\Z")
_MATRIX_ID = re.compile(r"@[^:\s]+:\S+\Z")
# Words people put between brackets as an aside, and HTML-ish tags: never a nick being quoted.
_ASIDES = frozenset("""
sigh sighs sob sobs sobbing cry cries crying tears weep weeps shrug shrugs facepalm headdesk hug hugs grin
grins smile smiles laugh laughs lol lmao rofl ugh yawn yawns groan groans scream screams screaming rant
venting vent sarcasm sarcastic sad happy angry blush blushes wave waves nod nods wink winks cough coughs
snort gasp gasps whisper whispers mumble mumbles sniff sniffs sniffle sniffles eyeroll pout pouts frown
frowns hmm hm meh ok okay tw cw trigger warning spoiler joke serious s b i u em br p del strike sup sub
me myself self mood thoughts brain honest truth confession edit update
""".split())


def _looks_like_name(name: str) -> bool:
    return bool(_MATRIX_ID.match(name) or (_NICK.match(name) and name.casefold() not in _ASIDES))


def pasted_names(text: str) -> list[str]:
    """The names that open a line as ``<name> ...`` (what adapters check against the room's members)."""
    if "<" not in text:
        return []
    names = []
    for line in text.split("\n"):
        m = _PASTED.match(line)
        if m and _looks_like_name(m.group(1)) and not _MATRIX_ID.match(m.group(1)):
            names.append(m.group(1))
    return names


def _is_quote(line: str, present: Callable[[str], bool] | None) -> bool:
    if _MARKDOWN_QUOTE.match(line):
        return True
    m = _PASTED.match(line)
    if m is None:
        return False
    name = m.group(1)
    if _MATRIX_ID.match(name):
        return True
    if not _looks_like_name(name):
        return False
    return present is None or present(name)


def own_words(text: str, present: Callable[[str], bool] | None = None) -> str:
    """``text`` without its quoted lines (see module docstring); the same string when nothing is quoted.
    ``present(name)``: whether someone called ``name`` is (or recently was) in the room."""
    if ">" not in text:
        return text  # the common case costs one scan in C
    lines = text.split("\n")
    kept = [line for line in lines if not _is_quote(line, present)]
    if len(kept) == len(lines):
        return text
    return "\n".join(kept)


# -- actions: the writer in the third person -----------------------------------------------------------

_FIRST = frozenset({"i", "im", "i'm", "ive", "i've", "id", "i'd", "ill", "i'll", "my", "me", "myself"})
_REFLEXIVE = frozenset({"himself", "herself", "themself", "themselves", "hisself", "theirself", "xemself",
                        "hirself", "zirself"})
_POSSESSIVE = frozenset({"his", "her", "their", "hir", "zir", "xyr"})
_OBJECT = frozenset({"him", "them", "xem", "zir"})
_VERBS = {"is": "am", "isn't": "am not", "isnt": "am not", "'s": "am", "was": "was", "wasn't": "wasn't",
          "has": "have", "hasn't": "haven't", "hasnt": "havent", "does": "do", "doesn't": "don't",
          "doesnt": "dont", "goes": "go"}
# Words after which the writer is no longer the subject ("* kit hugs ana who wants to kill herself").
_NEW_SUBJECT = frozenset("""
he she they it you we i who whom whose which that because since if when while though although unless
until whether someone somebody everyone everybody nobody people friend friends
""".split())
_ADVERBS = frozenset("""
just really still honestly seriously literally actually kinda kind of so now finally quietly always also
almost definitely totally truly genuinely then sadly slowly simply probably
""".split())
_JOINERS = frozenset({"and", "then", "but", "or", "&"})
_WORD_END = re.compile(r"([^\w']*)$")


def _base_verb(word: str) -> str:
    low = word.lower()
    if low in _VERBS:
        return _VERBS[low]
    if len(low) > 3 and low.endswith("ies"):
        return low[:-3] + "y"  # tries -> try, cries -> cry
    if len(low) > 3 and low.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return low[:-2]  # wishes -> wish, goes -> go
    if len(low) > 2 and low.endswith("s") and not low.endswith("ss"):
        return low[:-1]  # wants -> want, takes -> take
    return word


def first_person(text: str) -> str:
    """An action's text read as the writer's own first-person words: "is going to kill himself tonight"
    becomes "I am going to kill myself tonight". Only the writer's own clause is changed: it ends at a
    sentence mark or a word that brings in someone else ("who", "she", "because" ...), so "hugs ana who
    wants to kill herself" stays about ana (and reads as someone else's risk, as it is). Each line on
    its own (a Matrix emote's body and its formatted text)."""
    if "\n" in text:
        return "\n".join(first_person(line) for line in text.split("\n"))
    words = text.split()
    if not words:
        return text
    if words[0].lower().rstrip(",.!?;:") in _FIRST:
        return text  # already in the first person ("/me i am so tired")
    out = ["I"]
    verb_next = True
    for i, word in enumerate(words):
        m = _WORD_END.search(word)
        core, tail = word[: m.start()], m.group(1)
        low = core.lower()
        if low in _NEW_SUBJECT:
            out += words[i:]
            break
        if verb_next and low in _ADVERBS:
            pass
        elif verb_next and core:
            core = _base_verb(core)
            verb_next = False
        elif low in _REFLEXIVE:
            core = "myself"
        elif low in _POSSESSIVE:
            core = "my"
        elif low in _OBJECT:
            core = "me"
        elif low in _JOINERS:
            verb_next = True
        out.append(core + tail)
        if any(c in tail for c in ".;!?:,"):
            out += words[i + 1:]
            break
    return " ".join(out)
