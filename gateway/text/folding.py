"""Text normalisation, applied identically to policy phrases and to chat messages before matching.

Why: people at risk write in chat style ("im", "k i l l", "su1c1de") and people evading a filter add
invisible or look-alike characters. Folding both sides to one canonical form lets a plain phrase list
catch them, and keeps matching a simple, linear, word-boundary check on space-separated tokens.

The output is lower case, tokens separated by single spaces, no punctuation; symbols such as emoji are
kept as tokens of their own ("😂" marks a joke), except the few that name a means of harm, which become
their word (💊 is "pills").
"""

from __future__ import annotations

import re
import unicodedata

import re2

__all__ = ["normalise", "normalise_joined", "normalise_many"]

# Apostrophes join ("i'm" -> "im"); every other ASCII punctuation mark separates tokens.
_APOSTROPHES = "'\u2019\u2018\u02bc\u0060\u00b4"
_ASCII_PUNCT = "!\"#$%&()*+,-./:;<=>?@[\\]^_{|}~"
_CONTROLS = "".join(map(chr, range(0x20))) + "\x7f"
_APOSTROPHE_TABLE = str.maketrans({c: None for c in _APOSTROPHES})
_PUNCT_TABLE = str.maketrans(
    {**{c: " " for c in _ASCII_PUNCT + _CONTROLS}, **{c: None for c in _APOSTROPHES}}
)

# Leetspeak: a digit or symbol standing between two letters is read as the letter it imitates
# ("k1ll", "p!lls", "su1c1de"). Digits elsewhere are left alone so "800mg", "3am", "24h" survive.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
         "@": "a", "$": "s", "!": "i", "|": "l"}
_LEET_INNER = re.compile(r"(?<=[a-z])[0134578@$!|]+(?=[a-z])")
_LEET_START = re.compile(r"(?<![\w$])\$(?=[a-z]{2})")  # "$uicide"
_LEET_TABLE = str.maketrans(_LEET)
_MAYBE_LEET = re.compile(r"[a-z][0134578@$!|]")  # cheap pre-check: most messages have no leetspeak
# ...and a digit at the edge of a word of two or more letters ("4ll", "ag0", "g00dby3" once its inner
# digits are read): the letter it imitates, unless the letters are a unit ("3am", "5th", "8mg").
_LEET_EDGE = re.compile(r"(?<!\S)([0134578]?)([a-z]{2,})([0134578]?)(?!\S)")
_MAYBE_EDGE = re.compile(r"(?<!\S)[0134578][a-z]|[a-z][0134578](?!\S)")
_UNITS = frozenset("am pm th st nd rd mg ml kg km hr hrs min mins gb mb kb ft cm mm lb lbs oz yo yr yrs pc "
                   "ms mph bpm px hz".split())


def _fold_leet_edges(match: re.Match[str]) -> str:
    lead, letters, trail = match.groups()
    if not (lead or trail) or (letters in _UNITS and not (lead and trail)):
        return match.group()
    return lead.translate(_LEET_TABLE) + letters + trail.translate(_LEET_TABLE)

# Confusable letters (Unicode TR39 subset: Cyrillic and Greek lower case that look Latin after
# casefolding). Applied only to mixed-script tokens that become pure ASCII, so real Cyrillic or Greek
# words are kept.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g", "ı": "i", "ɩ": "i", "ʟ": "l",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ς": "s", "σ": "o",
})
# Latin letters that NFKC leaves alone but "fancy text" generators use for plain ones: small capitals
# (ᴛᴏᴏᴋ), negative circled and squared letters (🅣🅞, 🆃🅾) and regional indicators (🇹🇴).
# Fullwidth (ｔｏｏｋ), mathematical (𝐭𝐨𝐨𝐤), circled (ⓣⓞ) and superscript (ᵗᵒ) letters are folded by
# NFKC already.
_LETTERLIKE = str.maketrans({
    **dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz")),
    # ligatures NFKD leaves whole, as French phones type them ("nœud", "sœur", "cœur")
    "œ": "oe", "æ": "ae",
    **{chr(base + i): chr(97 + i) for base in (0x1F150, 0x1F170, 0x1F1E6) for i in range(26)},
})
_WORD = re.compile(r"\w+")
_HAS_LATIN = re.compile(r"[a-z]")
_NON_WORD = re.compile(r"[^\w\s]")

# ASCII fast path (most chat): lower case and apostrophes in one bytes.translate, punctuation in another;
# the leetspeak regexes run only when a leet character is present at all. Same output as the general path.
_LOWER_B = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_APOSTROPHES_B = b"'`"
_LEETISH_B = b"0134578@$!|"
_MAYBE_GROUPED_B = re2.compile(rb"[a-z][.\-_*+~][a-z][.\-_*+~][a-z]|[^ ]  +[^ ]")  # cheap: most texts have neither
_MAYBE_GROUPED = re.compile(r"[a-z][.\-_*+~][a-z][.\-_*+~][a-z]|[^ ]  +[^ ]")
_PUNCT_B = bytes.maketrans((_ASCII_PUNCT + _CONTROLS).encode(), b" " * len(_ASCII_PUNCT + _CONTROLS))

# Three or more single-character tokens in a row are a letter-spaced word: "k i l l" -> "kill".
_SPACED = re.compile(r"(?<!\S)\w(?: \w){2,}(?!\S)")
# Letters spaced within words and words kept apart by a wider gap or another mark: "g o i n g   t o
# j u m p", "k.i.l.l.i.n.g m.y.s.e.l.f a.t": each group is one word, so the words stay apart.
_DOTTED = re.compile(r"(?<![^\W_])[a-z](?:([.\-_*+~])[a-z])(?:\1[a-z])*(?![^\W_])")
_WIDE_GAP = re.compile(r"\S {2,}\S")


def _letter_groups(text: str) -> str:
    """``text`` (lower case) with letter-spaced words joined group by group (see ``_DOTTED``)."""
    if any(len(m.group()) >= 5 for m in _DOTTED.finditer(text)):
        text = _DOTTED.sub(lambda m: m.group().replace(m.group(1), ""), text)
    if _WIDE_GAP.search(text):
        groups = re.split(r" {2,}", text)
        if sum(bool(_SPACED.fullmatch(g)) for g in groups) >= 2:
            text = " ".join(g.replace(" ", "") if re.fullmatch(r"\w(?: \w)+", g) else g for g in groups)
    return text


def _fold_homoglyph_token(match: re.Match[str]) -> str:
    token = match.group()
    if token.isascii() or not _HAS_LATIN.search(token):
        return token
    folded = token.translate(_HOMOGLYPHS)
    return folded if folded.isascii() else token


# Emoji that stand for a means of harm are read as the word ("i took all my 💊" is "i took all my
# pills"), so every phrase about the means covers them too. Other symbols stay tokens of their own.
_MEANS_EMOJI = {"💊": "pills", "🔪": "knife", "🪢": "rope", "🌉": "bridge", "⚰": "coffin", "🩸": "blood"}


def _space_symbol(match: re.Match[str]) -> str:
    char = match.group()
    # Symbols (emoji, pictographs) are meaningful tokens; other punctuation only separates words.
    if char in _MEANS_EMOJI:
        return f" {_MEANS_EMOJI[char]} "
    return f" {char} " if unicodedata.category(char).startswith("S") else " "


class _MarksDropped(dict):
    """``str.translate`` table that drops combining marks and format characters (categories Mn, Me, Cf),
    filled as characters are met: a Python call per distinct character, not per character of every line.
    Bounded, so that a flood of distinct characters cannot grow it without end."""

    LIMIT = 1 << 14

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)) in ("Mn", "Me", "Cf") else code
        if len(self) < self.LIMIT:
            self[code] = kept
        return kept


_MARKS_DROPPED = _MarksDropped()


def _strip_marks(text: str) -> str:
    """NFKC with format characters, variation selectors and combining marks removed.

    Decomposing first lets accents and zalgo stacks fall away ("kïll" -> "kill"); zero-width
    characters (U+200B-U+200D, U+2060, U+FEFF) are category Cf and survive NFKC, so drop them here.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKD", text).translate(_MARKS_DROPPED))


def normalise(text: str) -> str:
    """Return the canonical matching form of ``text`` (see the module docstring)."""
    if text.isascii():
        raw = text.encode("ascii").translate(_LOWER_B, _APOSTROPHES_B)
        if (b"  " in raw or raw.count(b".") > 1 or raw.count(b"-") > 1 or b"_" in raw or b"*" in raw
                or b"+" in raw or b"~" in raw) and _MAYBE_GROUPED_B.search(raw):  # (cheap checks first)
            raw = _letter_groups(raw.decode("ascii")).encode("ascii")
        if len(raw.translate(None, _LEETISH_B)) == len(raw):  # no leetspeak possible
            return _join_spaced(raw.translate(_PUNCT_B).decode("ascii").split())
        folded = raw.decode("ascii")
    else:
        folded = _strip_marks(text).casefold().translate(_LETTERLIKE)
        if _MAYBE_GROUPED.search(folded):
            folded = _letter_groups(folded)
        # "i'm" -> "im" first: an apostrophe must not hide "0" from leet, nor split a mixed-script word
        # ("a'ά" is one token once joined, so its look-alike letters fold now, not on a second pass)
        folded = folded.translate(_APOSTROPHE_TABLE)
        folded = _WORD.sub(_fold_homoglyph_token, folded)
    if "$" in folded:
        folded = _LEET_START.sub("s", folded)
    if _MAYBE_LEET.search(folded):
        folded = _LEET_INNER.sub(lambda m: m.group().translate(_LEET_TABLE), folded)
    folded = folded.translate(_PUNCT_TABLE)
    if not folded.isascii():
        folded = _NON_WORD.sub(_space_symbol, folded)
    if _MAYBE_EDGE.search(folded):
        folded = _LEET_EDGE.sub(_fold_leet_edges, folded)
    return _join_spaced(folded.split())


def _join_spaced(tokens: list[str]) -> str:
    collapsed = " ".join(tokens)
    if list(map(len, tokens)).count(1) >= 3 and _SPACED.search(collapsed):
        collapsed = _SPACED.sub(lambda m: m.group().replace(" ", ""), collapsed)
        if not collapsed.isascii():  # "a ν" joined is a mixed-script word now: fold it like any other
            collapsed = _WORD.sub(_fold_homoglyph_token, collapsed)
        # joining can put a digit between letters ("k 1 l l" -> "k1ll"): fold it now, so the result
        # is already canonical (normalising twice changes nothing)
        collapsed = _LEET_INNER.sub(lambda m: m.group().translate(_LEET_TABLE), collapsed)
        if _MAYBE_EDGE.search(collapsed):
            collapsed = _LEET_EDGE.sub(_fold_leet_edges, collapsed)
    return collapsed


# -- many messages at once -------------------------------------------------------------------------
# The same canonical forms as ``normalise``, computed for a list of messages with a few passes over one
# joined buffer (bytes.translate, bytes.replace, RE2) instead of a dozen Python operations per message.
# Messages the buffer passes cannot handle exactly (non-ASCII, possible leetspeak, three one-character
# tokens in a row, a line break inside) are found by those passes and left to ``normalise``.
_PUNCT_KEEP_NL_B = bytes.maketrans(
    (_ASCII_PUNCT + _CONTROLS.replace("\n", "")).encode(), b" " * (len(_ASCII_PUNCT + _CONTROLS) - 1))
_MAYBE_LEET_B = re2.compile(rb"[a-z][0134578@$!|]|[0134578][a-z]|\$[a-z]{2}")  # superset of what the leet rules touch
_MAYBE_SPACED_B = re2.compile(rb"(?m)(?:^| )[^ \n] [^ \n] [^ \n](?: |$)")


# After decomposing (NFKD), what a line may hold besides ASCII and combining accents and still fold to ASCII
# exactly as ``normalise`` folds it: these, each written as an ASCII character that ``normalise`` reads the
# same way (a letter as its case folding spells it; an apostrophe as an apostrophe; other punctuation as a comma,
# which no leetspeak or letter-spacing rule reads)
_ASCII_SPELLINGS = {"ß": "ss", "ẞ": "ss", "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae",
                    "\u2019": "'", "\u2018": "'", "\u02bc": "'",
                    "¿": ",", "¡": ",", "«": ",", "»": ",", "\u201c": ",", "\u201d": ",", "\u201e": ",",
                    "\u2013": ",", "\u2014": ","}
_NOT_SIMPLE = re.compile("[^\\x00-\\x7f\\u0300-\\u036f" + "".join(_ASCII_SPELLINGS) + "]+")
# ``_MAYBE_GROUPED`` for a buffer of many lines: a wide gap never spans a line break
_MAYBE_GROUPED_LINES_B = re2.compile(rb"(?m)[a-z][.\-_*+~][a-z][.\-_*+~][a-z]|[^ \n]  +[^ \n]")


def _ascii_folded(texts: list[str]) -> list[str | None]:
    """Each text (none holding a line break) folded to ASCII, when that is exactly how ``normalise`` reads it
    ("Müde, ÇA VA" -> "Mude, CA VA"), else None. Most German, French and Spanish chat is such a line: the
    buffer passes then fold it with the ASCII lines instead of ``normalise`` taking it alone (most of a
    mixed-language batch's folding time). A line qualifies when, decomposed, it holds only ASCII, combining
    accents (dropped, as ``normalise`` drops them) and ``_ASCII_SPELLINGS``, and no letter-spacing could be read
    in it ("k.i.l.l"): ``normalise`` joins that before dropping apostrophes for a non-ASCII text and after for an
    ASCII one, so neither order may find anything to join. One pass over all of them: a line break starts no
    composition and decomposes to nothing else, so decomposing the joined texts decomposes each."""
    if not texts:
        return []
    joined = unicodedata.normalize("NFKD", "\n".join(texts))
    unsure = line_numbers(joined, [m.start() for m in _NOT_SIMPLE.finditer(joined)])
    for char, spelling in _ASCII_SPELLINGS.items():
        if char in joined:
            joined = joined.replace(char, spelling)
    raw = joined.encode("ascii", "ignore").translate(_LOWER_B)  # the accents (and the unsure lines' rest) go
    unsure |= line_numbers(raw, [m.start() for m in _MAYBE_GROUPED_LINES_B.finditer(raw)])
    bare = raw.translate(None, _APOSTROPHES_B)
    unsure |= line_numbers(bare, [m.start() for m in _MAYBE_GROUPED_LINES_B.finditer(bare)])
    folded: list[str | None] = list(raw.decode("ascii").split("\n"))
    if len(folded) != len(texts):  # (no text holds a line break, so this cannot happen; if it did, all go to ``normalise``)
        return [None] * len(texts)
    for i in unsure:
        folded[i] = None
    return folded


def normalise_joined(texts: list[str]) -> tuple[bytes, set[int]]:
    """The canonical forms of ``texts`` one per line (ASCII bytes), and the indices of the texts whose
    line was left empty because only ``normalise`` handles them exactly (see above)."""
    joined = "\n".join(texts)
    if not joined.isascii() or joined.count("\n") != len(texts) - 1:
        slow = {i for i, t in enumerate(texts) if "\n" in t}
        lines = ["" if i in slow else t for i, t in enumerate(texts)]
        accented = [i for i, t in enumerate(texts) if i not in slow and not t.isascii()]
        for i, folded in zip(accented, _ascii_folded([texts[i] for i in accented])):
            if folded is None:
                slow.add(i)
                folded = ""
            lines[i] = folded
        joined = "\n".join(lines)
    else:
        slow = set()
    raw = joined.encode("ascii").translate(_LOWER_B, _APOSTROPHES_B)
    slow |= line_numbers(raw, [m.start() for m in _MAYBE_LEET_B.finditer(raw)])
    buf = raw.translate(_PUNCT_KEEP_NL_B)
    while b"  " in buf:
        buf = buf.replace(b"  ", b" ")
    buf = buf.replace(b" \n", b"\n").replace(b"\n ", b"\n").strip(b" ")
    slow |= line_numbers(buf, [m.start() for m in _MAYBE_SPACED_B.finditer(buf)])
    if slow:  # empty their lines, so no pass after this one sees a form that is not canonical
        lines = buf.split(b"\n")
        for i in slow:
            lines[i] = b""
        buf = b"\n".join(lines)
    return buf, slow


def line_numbers(buffer: bytes | str, positions: list[int]) -> set[int]:
    """The line (message) index of each position, for positions in ascending order."""
    lines: set[int] = set()
    index, at = 0, 0
    newline = "\n" if isinstance(buffer, str) else b"\n"
    for pos in positions:
        index += buffer.count(newline, at, pos)
        at = pos
        lines.add(index)
    return lines


def normalise_many(texts: list[str]) -> list[str]:
    """``[normalise(t) for t in texts]``, several times faster when most texts are plain ASCII."""
    if not texts:
        return []
    buf, slow = normalise_joined(texts)
    out = buf.decode("ascii").split("\n")
    for i in slow:
        out[i] = normalise(texts[i])
    return out
