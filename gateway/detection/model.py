"""A learned risk score beside the lexicon: recall on phrasing nobody listed.

Why this shape: a linear model over hashed word unigrams and bigrams of the normalised text. It runs in
plain Python with no runtime dependency (a few microseconds a message: a CRC-32 per token and a sum of
weights), loads offline from a file shipped in the package (about 2 MB), and the training script
(``gateway/detection/train_model.py``) builds it again from named public data with a fixed seed. Features are
computed by this module for training and for scoring alike, so the two cannot drift apart.

The model says how likely a message shows its writer's own suicidal or self-harm risk; what the gateway
does with that is policy (``model:`` thresholds per tier). It never removes anyone on its own: imminence
stays with the rules, which explain themselves.

A long message is scored by its sentences: every sentence with its neighbours (``windows``) is scored and
the riskiest counts (``score_text``). Why: a whole long post scored at once let length and a personal
voice raise the score, so a long post about a hard week looked like risk. The model learned on the same
windows (``gateway/detection/train_model.py``), so training and scoring see the same kind of text.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path

from ..policy.shipped import MODELS  # the shipped model files
from ..text.folding import normalise, normalise_many

__all__ = ["RiskModel", "SHIPPED_MODEL", "features", "sentences", "shared_model", "windows"]

SHIPPED_MODEL = MODELS / "risk-en.bin"
MAGIC = b"GWRISK1\n"

# A sentence ends at . ! ? (closing quotes and brackets after them stay with it), at a line break, or at
# a run of dots; normalise() strips punctuation, so the raw text is split before it is normalised.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]\u201d\u2019]*\s+|\s*\n\s*")
_MAY_SPLIT = re.compile(r"[.!?][\"')\]\u201d\u2019]*\s+\S|\n\s*\S")  # cheap test: most chat is one sentence
MIN_WORDS = 3  # the model reads context; shorter fragments are left to the rules
MAX_SENTENCES = 400  # the rest of a longer message is read as one last sentence: a bound on the cost


def _may_split(text: str) -> bool:
    """``_MAY_SPLIT.search(text)``, with a cheaper test first (why: it runs on every line a scan screens, and most chat
    lines hold no ".", "!", "?" or line break, without which it cannot match)."""
    return ("." in text or "!" in text or "?" in text or "\n" in text) and _MAY_SPLIT.search(text) is not None


_FIRST_PERSON = frozenset("i im ive id ill me my myself mine imma".split())
_THIRD_PERSON = frozenset("he hes him himself his she shes her herself they theyre them themselves themself"
                          .split())


def _the_writers(words: list[str], first: frozenset = _FIRST_PERSON, third: frozenset = _THIRD_PERSON) -> bool:
    """Whether a normalised window's words may speak of its writer's own risk: at least ``MIN_WORDS``
    words, and not only of someone else (a third person named, the writer never). ``first``, ``third``:
    the model's language's pronouns (English unless its file names others)."""
    if len(words) < MIN_WORDS:
        return False
    return third.isdisjoint(words) or not first.isdisjoint(words)


def sentences(text: str) -> list[str]:
    """The raw text's sentences (non-empty, stripped); a message of one sentence is returned whole."""
    if not _may_split(text):
        return [text]
    parts = [p for p in _SENTENCE_END.split(text) if p and not p.isspace()]
    if len(parts) > MAX_SENTENCES:
        parts = parts[:MAX_SENTENCES - 1] + [" ".join(parts[MAX_SENTENCES - 1:])]
    return parts or [text]


def windows(text: str) -> list[str]:
    """Every sentence with its neighbours (one before, one after), normalised: the units the model scores.
    A message of one or two sentences is one window."""
    parts = [normalise(p) for p in sentences(text)]
    parts = [p for p in parts if p]
    if len(parts) <= 2:
        return [" ".join(parts)] if parts else []
    return [" ".join(parts[max(0, i - 1):i + 2]) for i in range(len(parts))]


def features(norm: str, bits: int, words: list[str] | None = None) -> dict[int, float]:
    """Hashed word unigrams and bigrams of an already normalised message, L2-normalised counts
    (``words``: ``norm.split()`` when the caller has it already)."""
    counts = _counts(_buckets(norm.split() if words is None else words, (1 << bits) - 1))
    if counts:
        norm2 = math.sqrt(sum(v * v for v in counts.values()))
        for k in counts:
            counts[k] /= norm2
    return counts


def _sentence_words(text: str) -> list[list[str]]:
    """The words of each non-empty sentence of a raw message, normalised (``windows``' units)."""
    return [p for p in (q.split() for q in normalise_many(sentences(text))) if p]


def _buckets(words: list[str], mask: int) -> list[int]:
    """The hashed unigram and bigram of each position, repeats kept (``features`` counts them)."""
    unigrams = list(map(_UNIGRAM.get, words))
    if None in unigrams:
        _remember(words)
        unigrams = list(map(_UNIGRAM.get, words))
    in_range = mask.__and__
    buckets = list(map(in_range, unigrams))
    if len(words) > 1:
        # = crc32(b"b" + a + b" " + c): CRC-32 runs on from the first word's prefix (``map`` over C functions
        # only: this is most of the model's time, and it runs on every message)
        buckets += map(in_range, map(zlib.crc32, map(str.encode, words[1:]), map(_PREFIX.get, words)))
    return buckets


def _hashed(parts: list[list[str]], mask: int) -> tuple[list[list[int]], list[int]]:
    """Each sentence's ``_buckets`` and the bigram across each pair of sentences (``_best_window``'s and
    ``_bound_reaches``' inputs): each sentence hashed once, whatever the windows it is in."""
    return [_buckets(p, mask) for p in parts], [_join(a[-1], b[0], mask) for a, b in zip(parts, parts[1:])]


def _join(first: str, second: str, mask: int) -> int:
    """``_buckets([first, second], mask)[2]``, the bigram alone (why: ``_hashed`` wants only that one, for each pair of
    sentences of a long post, and hashing the two unigrams again was a third of its time)."""
    if first not in _PREFIX:  # forgotten since (``_remember`` clears when full)
        _remember([first])
    return zlib.crc32(second.encode(), _PREFIX[first]) & mask


def _counts(buckets: list[int]) -> dict[int, float]:
    counts: dict[int, float] = {}
    for b in buckets:
        counts[b] = counts.get(b, 0.0) + 1.0
    return counts


# A word's unigram CRC, and the CRC of a bigram's first half ``b"b" + word + b" "``, kept: chat repeats its
# words, and hashing was most of the model's time.
_UNIGRAM: dict[str, int] = {}
_PREFIX: dict[str, int] = {}
_HASHES_MOST = 200_000  # words remembered (a few tens of MB at most); forgotten all at once when full
_BIGRAM_START = zlib.crc32(b"b")


def _remember(words: list[str]) -> None:
    """Every one of ``words`` in ``_UNIGRAM`` and ``_PREFIX``."""
    if len(_UNIGRAM) + len(words) > _HASHES_MOST:
        _UNIGRAM.clear()
        _PREFIX.clear()
    for word in words:
        if word not in _UNIGRAM:
            raw = word.encode()
            _UNIGRAM[word] = zlib.crc32(b"u" + raw)
            _PREFIX[word] = zlib.crc32(raw + b" ", _BIGRAM_START)


def _logit(c: float) -> float:
    """The logit a score must reach to be ``>= c`` (a hair lower: a bound is compared with it, never the score)."""
    return math.log(c / (1.0 - c)) - 1e-9 if 0.0 < c < 1.0 else (-math.inf if c <= 0.0 else math.inf)


def _bound_reaches(hashed: list[list[int]], joins: list[int], weights, bias: float, z: float) -> bool:
    """Whether a window of a message (``hashed``: each sentence's ``_buckets``; ``joins``: the bigram across each
    pair; windows as ``windows`` makes them) may reach the logit ``z``. A window's logit is at most its bias plus
    its weights' sum, when positive, over the square root of its bucket count: repeats only make the L2 norm
    larger. Each sentence is summed once and a window's bound is the sum of its sentences' sums; a margin keeps
    the sums' rounding (in another order than ``_score``'s) on the safe side."""
    sums = [sum(map(weights.__getitem__, h)) for h in hashed]
    sizes = list(map(len, hashed))
    joined = list(map(weights.__getitem__, joins))
    k = len(hashed)
    # each window's sums over list slices, left to right as a generator over its sentences would add them (the
    # same floats), without a generator for each window
    for a, b in [(0, k)] if k <= 2 else [(max(0, i - 1), min(k, i + 2)) for i in range(k)]:
        n = sum(sizes[a:b]) + max(0, b - a - 1)  # and the joins inside the window
        if n and bias + max(0.0, sum(sums[a:b]) + sum(joined[a:b - 1])) / math.sqrt(n) >= z - 1e-6:
            return True
    return bias >= z


@dataclass
class RiskModel:
    weights: array  # float32, 2**bits of them
    bias: float
    bits: int
    meta: dict = field(default_factory=dict)  # sources, licences, thresholds, metrics: see the data card

    def __post_init__(self):
        # whose risk a window may show: the file's language's pronouns (``first_person``, ``third_person``
        # in its header; a German, French or Spanish model names its own), else English's
        self.first_person = frozenset(self.meta.get("first_person", _FIRST_PERSON))
        self.third_person = frozenset(self.meta.get("third_person", _THIRD_PERSON))

    def score(self, norm: str, words: list[str] | None = None) -> float:
        """P(the writer shows their own suicidal risk), for one already normalised window of text."""
        return self._score(_buckets(norm.split() if words is None else words, (1 << self.bits) - 1))

    def _score(self, buckets: list[int]) -> float:
        """``score`` of a window from its buckets (``_buckets``)."""
        w = self.weights
        if not buckets:
            z = self.bias
        elif len(set(buckets)) == len(buckets):  # most windows: every count 1, so the L2 norm is sqrt(n)
            z = self.bias + sum(map(w.__getitem__, buckets)) / math.sqrt(len(buckets))
        else:  # the features' dot product, their L2 normalisation applied once to the sum
            # (``Counter`` counts in C, in the order ``_counts`` does; its whole-number counts give the same
            # products and sums as ``_counts``'s floats)
            counts = Counter(buckets)
            z = self.bias + (sum(map(mul, map(w.__getitem__, counts), counts.values()))
                             / math.sqrt(sum(map(mul, counts.values(), counts.values()))))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def score_text(self, text: str, norm: str | None = None) -> float:
        """The score of a raw message: its riskiest sentence with its neighbours. ``norm``, the whole
        message normalised, saves normalising it again when the message is one sentence. A window of
        fewer than ``MIN_WORDS`` words scores 0: one or two words carry no context ("tonight", "rope"),
        and the lexicon reads those. So does a window that speaks of him, her or them and never of the
        writer ("is going to kill himself tonight"): the model scores the writer's own risk."""
        if norm is not None and not _may_split(text):
            words = norm.split()
            return self.score(norm, words) if self.writers(words) else 0.0
        parts = _sentence_words(text)
        if len(parts) <= 2:  # one window (``windows``)
            words = [word for p in parts for word in p]
            return self.score(" ".join(words), words) if parts and self.writers(words) else 0.0
        mask = (1 << self.bits) - 1
        hashed, joins = _hashed(parts, mask)
        return self._best_window(parts, hashed, joins)

    def _best_window(self, parts: list[list[str]], hashed: list[list[int]], joins: list[int]) -> float:
        """The riskiest window of a message of three sentences or more (``parts``, each sentence's words; ``hashed``,
        each sentence's ``_buckets`` with this model's mask; ``joins``, the bigram across each pair of sentences).
        Every sentence with its neighbours, as ``windows`` makes them, each sentence hashed once (not once for
        each window it is in): a window's buckets are its sentences' unigrams, then the bigrams inside each
        and across each join, in the order ``_buckets`` gives them for the window's words."""
        unigrams = [h[:len(p)] for h, p in zip(hashed, parts)]
        bigrams = [h[len(p):] for h, p in zip(hashed, parts)]
        best = None
        for i in range(len(parts)):
            at = range(max(0, i - 1), min(len(parts), i + 2))
            if not self.writers([word for j in at for word in parts[j]]):
                continue
            buckets = [b for j in at for b in unigrams[j]]
            for j in at:
                buckets += bigrams[j]
                if j + 1 in at:
                    buckets.append(joins[j])
            score = self._score(buckets)
            if best is None or score > best:
                best = score
        return 0.0 if best is None else best

    def score_with(self, other: "RiskModel", text: str, norm: str, max_words: int) -> tuple[float, float | None]:
        """``(self.score_text(text, norm), other.score_text(text, norm))``, the second ``None`` for a message of
        more than ``max_words`` words (``norm``: the whole message normalised). A message is split into sentences,
        normalised and hashed once for both: ``_buckets`` with the wider mask, then masked again for the narrower
        model (the same buckets ``_buckets`` gives with its mask: a mask keeps the low bits of the same CRC)."""
        words = norm.split()
        if len(words) > max_words:
            return self.score_text(text, norm), None
        bits = max(self.bits, other.bits)
        if _may_split(text):  # several sentences: split, normalised and hashed once for both
            parts = _sentence_words(text)
            if len(parts) > 2:
                wide = (1 << bits) - 1
                hashed, joins = _hashed(parts, wide)

                def best(model: "RiskModel") -> float:
                    if model.bits == bits:
                        return model._best_window(parts, hashed, joins)
                    narrow = ((1 << model.bits) - 1).__and__
                    return model._best_window(parts, [list(map(narrow, h)) for h in hashed], list(map(narrow, joins)))

                return best(self), best(other)
            words = [word for p in parts for word in p]  # one window (``windows``): as a one-sentence message
            if not words:
                return 0.0, 0.0
        mine, theirs = self.writers(words), other.writers(words)
        if not (mine or theirs):
            return 0.0, 0.0
        buckets = _buckets(words, (1 << bits) - 1)
        return (self._score(buckets if self.bits == bits else list(map(((1 << self.bits) - 1).__and__, buckets)))
                if mine else 0.0,
                other._score(buckets if other.bits == bits else list(map(((1 << other.bits) - 1).__and__, buckets)))
                if theirs else 0.0)

    def screen(self, concern: float):
        """A test ``(text, norm) -> bool``: ``score_text(text, norm) >= concern``, for the many lines no rule touched
        (a German, French or Spanish model alone). A message of several sentences is bounded window by window
        first (``_bound_reaches``) and scored only where a bound reaches the threshold: the same answers, and a
        long post far below it costs one hash and one sum for each sentence."""
        z, mask, w, bias = _logit(concern), (1 << self.bits) - 1, self.weights, self.bias

        def test(text: str, norm: str) -> bool:
            if not _may_split(text):  # one sentence: ``score_text``'s own first branch
                words = norm.split()
                return self.writers(words) and self.score(norm, words) >= concern
            parts = _sentence_words(text)
            if parts:
                hashed, joins = _hashed(parts, mask)
                if not _bound_reaches(hashed, joins, w, bias, z):
                    return False
            return self.score_text(text, norm) >= concern

        return test

    def screen_with(self, other: "RiskModel", concern: float, other_concern: float, max_words: int):
        """A test ``(text, norm) -> bool``, for the many lines no rule touched: False only for a line on which neither
        this model reaches ``concern`` nor ``other`` (read on at most ``max_words`` words) ``other_concern``, as
        ``score_with`` scores them; True may still be neither (the caller then scores it with ``score_with``).
        Why: ``score_with`` on every line of a scan cost a fifth more time. For a one-sentence line this model's
        score is exact and ``other``'s is bounded from above
        by its weights read at the wider buckets' low bits (``other``'s buckets may collide where these do not: the same
        sum over a norm as large or larger, so its score lies between its bias's and this bound; a repeated word:
        the same with counts). Needs the same bucket
        width or wider here, and the same pronouns (else every line goes to ``score_with``)."""
        z_self, z_other = _logit(concern), _logit(other_concern)

        def exact(text: str, norm: str) -> bool:
            score, other_score = self.score_with(other, text, norm, max_words)
            return score >= concern or (other_score is not None and other_score >= other_concern)

        if (self.bits < other.bits or self.first_person != other.first_person
                or self.third_person != other.third_person):
            return exact

        mask, w, bias, writers, sqrt = (1 << self.bits) - 1, self.weights, self.bias, self.writers, math.sqrt
        # ``other``'s weight of a bucket of this width: its own weights at the bucket's low bits (a copy of its weights
        # tiled to this width gave the same floats for 4 MB more of a scan's memory)
        other_w, narrow = other.weights, ((1 << other.bits) - 1).__and__
        other_bias = other.bias

        def may_reach(text: str, norm: str, words: list[str]) -> bool:
            """For a long message or one of several sentences: ``exact`` only where a window's bound reaches
            either threshold (``_bound_reaches``; most long posts are far below both)."""
            parts = _sentence_words(text) if _may_split(text) else [words]
            if not parts:
                return exact(text, norm)
            hashed, joins = _hashed(parts, mask)
            if (_bound_reaches(hashed, joins, w, bias, z_self)
                    or (len(words) <= max_words
                        and _bound_reaches([list(map(narrow, h)) for h in hashed], list(map(narrow, joins)), other_w,
                                           other_bias, z_other))):
                return exact(text, norm)
            return False

        def screen(text: str, norm: str) -> bool:
            words = norm.split()
            if len(words) > max_words or _may_split(text):
                return may_reach(text, norm, words)
            if not writers(words):
                return False  # both models score 0 (the same pronouns)
            buckets = _buckets(words, mask)
            n = len(buckets)
            if not n:
                return bias >= z_self or other_bias >= z_other
            if len(set(buckets)) == n:  # most lines: every count 1 (``_score``)
                root = sqrt(n)
                if bias + sum(map(w.__getitem__, buckets)) / root >= z_self:
                    return True
                return (other_bias + sum(map(other_w.__getitem__, map(narrow, buckets))) / root >= z_other
                        or other_bias >= z_other)
            counts = Counter(buckets)  # a word repeated: counts, as ``_score`` has them
            values = counts.values()
            root = sqrt(sum(map(mul, values, values)))
            if bias + sum(map(mul, map(w.__getitem__, counts), values)) / root >= z_self:
                return True
            return (other_bias + sum(map(mul, map(other_w.__getitem__, map(narrow, counts)), values)) / root >= z_other
                    or other_bias >= z_other)

        return screen

    def writers(self, words: list[str]) -> bool:
        """Whether a window's words may be its writer's own (``_the_writers`` in the model's language)."""
        return _the_writers(words, self.first_person, self.third_person)

    # -- file ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        header = json.dumps({"bits": self.bits, "bias": self.bias, **self.meta}, sort_keys=True).encode()
        weights = array("f", self.weights)
        if sys.byteorder == "big":  # the file is little-endian float32 everywhere
            weights.byteswap()
        body = zlib.compress(weights.tobytes(), 9)
        Path(path).write_bytes(MAGIC + len(header).to_bytes(4, "little") + header + body)

    @classmethod
    def load(cls, path: str | Path = SHIPPED_MODEL) -> "RiskModel":
        data = Path(path).read_bytes()
        if not data.startswith(MAGIC):
            raise ValueError(f"{path}: not a risk model file")
        n = int.from_bytes(data[len(MAGIC):len(MAGIC) + 4], "little")
        start = len(MAGIC) + 4
        meta = json.loads(data[start:start + n])
        weights = array("f")
        weights.frombytes(zlib.decompress(data[start + n:]))
        if sys.byteorder == "big":
            weights.byteswap()
        bits, bias = meta.pop("bits"), meta.pop("bias")
        if len(weights) != 1 << bits:
            raise ValueError(f"{path}: {len(weights)} weights for {bits} bits")
        return cls(weights, bias, bits, meta)


@functools.lru_cache(maxsize=4)
def shared_model(path: str = str(SHIPPED_MODEL)) -> RiskModel:
    """One copy of a model file per process, shared by every policy that uses it."""
    return RiskModel.load(path)
