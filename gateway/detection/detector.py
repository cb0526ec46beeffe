"""Detection: a message in, a tier and the rule ids that explain it out, in stages, one module each:

1. folding (``folding.py``): the text folded to one canonical form (case, accents, zero-width, look-alike
   letters, leetspeak, letter spacing, means emoji);
2. rules (``rules.py``): every phrase, idiom, cue and regex of the policy found in one linear pass;
3. learned model (``model.py``): a risk score that can raise a message the rules found less in;
4. decision (``decision.py``): idioms, reported speech, negations and jokes applied, whose words they are
   (someone else's risk, a past told as recovery, a supportive reply), and the tier; ``speaker_first``
   runs last, after every stage that can raise a tier, so that a helper is never the one removed;
5. per-person context (``context.py``, used by the engine): a farewell after earlier risk is imminent.

The ``Detector`` here composes stages 1 to 4 for one policy. Why this shape: phrases, idioms and cues
in one Aho-Corasick automaton cost one linear scan per message whatever the lexicon's size; policy
regexes run on RE2 (linear time, see ``bench/matchers.py``).

- An idiom ("kill me lol") that overlaps a risk match drops that match.
- A negation cue ("never", "not going to") ending at most ``negation_window`` words before a match
  lowers that match one tier (floor: concern) instead of dropping it.
- A joke marker anywhere in the message drops matches below the top tier and lowers a top-tier match
  one tier: "took all my pills lol" still gets the private message and an alert, never a removal.
- With the policy's ``model:`` on, the learned score can raise a message to concern (and to high, if
  the policy sets ``model.high``; rule id ``model.risk``) when the rules found less; never to imminent,
  and never where the rules saw an idiom, a joke marker, reported speech, words aimed at someone else
  or a negation they applied.
  The score of a long message is that of its riskiest sentence with its neighbours (the raw text is
  split, since normalising strips the punctuation that ends a sentence).
- With ``model.imminence`` naming a file (English: ``risk-en-imminent.bin``, ``imminence.py``), a line the rules put
  at concern or high as the writer's own present risk (nothing lowered, nobody else's, no idiom, joke, quote, past
  or recovery) is raised to imminent when that score reaches the threshold in its file (rule id ``model.imminent``).
  Off unless the policy names it.
- With ``model.chat`` on as well (English: ``risk-en-chat.bin``, learned from this project's own chat lines), a
  message of at most ``model.chat.max_words`` words is also scored by that model; either model reaching its
  concern threshold makes the line concern (rule id ``model.chat`` for the chat model's), under the same
  exceptions. The chat model never makes a line high.
"""

from __future__ import annotations

import dataclasses

from .decision import CHAT_RULE, MODEL_RULE, NO_RISK, TIER_NAMES, Detection, decide, speaker_first, tier_level
from .imminence import eligible, own_message_rules, promote
from ..text.folding import line_numbers, normalise, normalise_joined
from .language import identify
from .model import MODELS, shared_model
from .rules import RulesSource, compiled_rules

__all__ = ["Detector"]


class Detector:
    """One policy's detection: its compiled rules, its decision windows and, if it uses one, the model."""

    def __init__(self, policy: RulesSource, small: bool = False):
        self.negation_window = policy.negation_window
        self.reported_window = policy.reported_window
        self.past_window = policy.past_window
        self.rules = compiled_rules(policy, small)  # small: see ``CompiledRules`` (a language added to a room)
        self.phrase_count = self.rules.phrase_count
        self.remove_levels = frozenset(
            tier_level(t.name) for t in policy.tiers.values() if t.action.remove)
        self.model = None
        if policy.model.enabled:
            self.model = shared_model(str(MODELS / policy.model.file))  # one copy per process, shared by policies
            # concern from the threshold calibrated at training unless the policy sets one; high only if
            # the policy asks: the model learned "suicidal or depressed", not the tiers, so by default it
            # raises a message to a gentle check-in and no further.
            self.model_concern = policy.model.concern or self.model.meta.get("thresholds", {}).get("concern", 0.5)
            self.model_high = policy.model.high if policy.model.high is not None else float("inf")
        self.chat = self.chat_concern = None  # the second score for chat-length lines (``model.chat``), beside the model
        chat = policy.model.chat
        if self.model is not None and chat.enabled:
            self.chat = shared_model(str(MODELS / chat.file))
            self.chat_concern = chat.concern or self.chat.meta.get("thresholds", {}).get("concern", 0.5)
            self.chat_max_words = chat.max_words
            self._screen = self.model.screen_with(self.chat, self.model_concern, self.chat_concern, chat.max_words)
        elif self.model is not None:
            self._screen = self.model.screen(self.model_concern)
        # the imminence score (``model.imminence``, ``imminence.py``): off unless the policy names its file
        self.imminence = self.imminence_cut = None
        if policy.model.imminence is not None:
            self.imminence = shared_model(str(MODELS / policy.model.imminence))
            self.imminence_cut = self.imminence.meta["thresholds"]["imminent"]
            self._own_message = own_message_rules(policy)  # self-harm and eating acts: never raised
        # ``_with_model`` may skip the exact scores of a line the rules found nothing in when the screen says neither
        # model reaches its concern threshold: only if no score below concern can reach ``high`` either
        self._screen_decides = self.model is not None and self.model_high >= self.model_concern

    def scored_by(self, detection: Detection) -> "Detector":
        """The detector whose model scored ``detection``: this one (``RoomDetector`` may name another)."""
        return self

    def would_remove(self, detection: Detection) -> bool:
        return detection.level in self.remove_levels

    def detect(self, text: str) -> Detection:
        return self._judge(normalise(text), text)

    def detect_many(self, texts: list[str]) -> list[Detection]:
        """``[detect(t) for t in texts]``, several times faster: the messages are normalised together and
        scanned in one RE2 pass (every risk and abuse phrase and every policy regex); only the messages
        it touches are judged one by one. For batches: a sync response, a burst of IRC lines."""
        return self.detect_many_folded(texts)[0]

    def detect_many_folded(self, texts: list[str]) -> tuple[list[Detection], list[str]]:
        """``detect_many``, with each message's folded form (``normalise``), which language
        identification reads (``multilingual.py``) without folding the batch again."""
        buf, slow = normalise_joined(texts)
        lines = buf.split(b"\n")
        norms = [line.decode("ascii") for line in lines]
        for i in slow:
            norms[i] = normalise(texts[i])
        # A line folding had to handle alone (accents, "ß", emoji) is most often plain ASCII once folded: it
        # goes through the batch's RE2 pass like any other (``detect_folded``), not to the full judgement.
        full = {i for i in slow if not norms[i].isascii()}
        if len(full) < len(slow):
            buf = b"\n".join(b"" if i in full else norm.encode("ascii") for i, norm in enumerate(norms))
        return self._detect_folded(texts, norms, buf, full), norms

    def detect_folded(self, texts: list[str], norms: list[str]) -> list[Detection]:
        """``detect_many`` for messages already folded (``norms[i] == normalise(texts[i])``): another
        language's rules judging lines of a room's batch."""
        full = {i for i, norm in enumerate(norms) if not norm.isascii() or "\n" in norm}
        buf = b"\n".join(b"" if i in full else norm.encode("ascii") for i, norm in enumerate(norms))
        return self._detect_folded(texts, norms, buf, full)

    def _detect_folded(self, texts: list[str], norms: list[str], buf: bytes, full: set[int]) -> list[Detection]:
        """The batch's one RE2 pass over ``buf`` (one canonical line per message; the lines of ``full``
        empty), then the messages it touches judged one by one. The lines of ``full`` (their folded form is not
        ASCII: Cyrillic, Greek...) are searched by the same patterns in a UTF-8 batch of their own, on their text as
        ``match`` reads it."""
        trigger = self.rules.any_trigger
        if trigger is None:
            touched = set(full)
        else:
            touched = lines_matched(trigger, buf)
            # The lines of ``full`` in a batch of their own, UTF-8 (what RE2 reads of a str too): one pass, not every
            # pattern's search on each line (6% of a mixed-language scan's CPU when each was searched alone). A
            # line whose folded form holds a line break cannot be a line of it: searched alone.
            joined = sorted(i for i in full if "\n" not in norms[i])
            alone = [i for i in full if "\n" in norms[i]]
            if joined:
                touched.update(joined[n] for n in lines_matched(trigger, "\n".join(norms[i] for i in joined).encode()))
            touched.update(i for i in alone if trigger.search(norms[i]) is not None)
        results = [NO_RISK] * len(texts)
        for i in touched:
            results[i] = self._judge(norms[i], texts[i])
        if self.chat is not None:  # both scores, hashed once: judged if either may reach its threshold
            screen = self._screen
            for i, (text, norm) in enumerate(zip(texts, norms)):
                if i not in touched and screen(text, norm):
                    results[i] = self._judge(norm, text)
        elif self.model is not None:  # no phrase fired here, but the model may: judged if it does
            screen = self._screen
            for i, (text, norm) in enumerate(zip(texts, norms)):
                if i not in touched and screen(text, norm):
                    results[i] = self._judge(norm, text)
        return results

    def judge_folded(self, norm: str, text: str) -> Detection:
        """``detect(text)`` for ``norm == normalise(text)``: another language's rules on one line of a room.
        A line the batch's RE2 pass would not touch is not judged (``detect_many`` does the same)."""
        trigger = self.rules.any_trigger
        if self.model is None and trigger is not None and norm.isascii() and "\n" not in norm:
            if trigger.search(norm.encode("ascii")) is None:  # (``search``: any pass that matches, the first found)
                return NO_RISK
        return self._judge(norm, text)

    def _judge(self, norm: str, text: str) -> Detection:
        """Stages 2 to 4, then whose words they are (``speaker_first``, last, so that no stage that
        raises a tier can make a helper's message theirs). ``text``: as written, for the model's
        sentences."""
        if not norm:
            return NO_RISK
        detection, exempt = self.rules_answer(norm, text)
        # the one place the imminence score acts: on the rules' own answer, before any other model, and only where
        # the rules hold the writer's own present risk at concern or high (``imminence.eligible``)
        if (self.imminence is not None and eligible(detection, exempt, self._own_message)
                and self.imminence.score_text(text, norm) >= self.imminence_cut):
            detection = promote(detection)
        if self.model is not None and not exempt:
            detection = self._with_model(norm, text, detection)
        return speaker_first(detection)

    def rules_answer(self, norm: str, text: str) -> tuple[Detection, bool]:
        """Stages 2 and 4 alone (``decide`` on the rules' matches): the answer before any model, and whether a frame
        (an idiom, a quote, a past, a supportive reply...) exempts it from the models. What the imminence score's
        training script gates on, so the two read the same answer."""
        return decide(self.rules.match(norm, text), norm, self.negation_window, self.reported_window, self.past_window)

    def _in_the_models_language(self, norm: str, text: str) -> bool:
        """Whether a line may be raised by this model: any line for the English one (it learned from public
        data in many voices), for a German, French or Spanish one (learned from a few thousand lines of our
        own) only a line not identified as another language."""
        language = self.model.meta.get("language")
        return language in (None, "en") or identify(norm, text) in (None, language)

    def _with_model(self, norm: str, text: str, detection: Detection) -> Detection:
        if not detection.level and self._screen_decides and not self._screen(text, norm):
            # Why: most lines judged for a phrase that found nothing (a long post with "everything" in it) are far
            # below both thresholds; the screen bounds them for a fraction of the exact scores' cost, and a line
            # with no tier that no model raises is returned as it is (below)
            return detection
        if self.chat is None:
            score, chat = self.model.score_text(text, norm), None
        else:
            score, chat = self.model.score_with(self.chat, text, norm, self.chat_max_words)
        level = 2 if score >= self.model_high else 1 if score >= self.model_concern else 0
        by_chat = chat is not None and chat >= self.chat_concern  # concern only
        if by_chat and not level and detection.level < 1 and identify(norm, text) not in (None, "en"):
            by_chat = False  # learned from a few thousand English lines: a line in another language is outside it
        if max(level, int(by_chat)) > detection.level and not self._in_the_models_language(norm, text):
            level, by_chat = 0, False  # a German model knows German: an English line it scores high is outside what it learned
        if max(level, int(by_chat)) > detection.level:
            # the model that gave the tier: model.risk if it reached its threshold, else model.chat
            named = (MODEL_RULE,) if level else (CHAT_RULE,)
            return dataclasses.replace(detection, tier=TIER_NAMES[max(level, 1)], score=score, chat_score=chat,
                                       rules=tuple(sorted(detection.rules + named)))
        return dataclasses.replace(detection, score=score, chat_score=chat) if detection.level else detection


def lines_matched(trigger, buf: bytes) -> set[int]:
    """The lines of ``buf`` (one message a line) that a match of ``trigger`` touches; a match across lines
    touches every line in it. Several patterns' matches come ordered by where they start, so a later match can
    start inside an earlier one that spans lines: the positions are sorted before they are counted (unsorted,
    a batch counted lines twice and named a message past its end)."""
    at = []
    for m in trigger.finditer(buf):
        at.append(m.start())
        newline = buf.find(b"\n", m.start(), m.end())
        while newline >= 0:
            at.append(newline + 1)
            newline = buf.find(b"\n", newline + 1, m.end())
    at.sort()
    return line_numbers(buf, at)

