"""Which part of a message is the sender's own words.

Why: people quote each other when they reply, and a kind reply to someone at risk carries the at-risk
words along (Matrix's reply fallback ``> <@kit:example.org> ...``, a pasted IRC line ``<kit> ...``, a
Markdown quote ``> ...``). Scanning those lines as the replier's words sends the replier crisis lines
and removes them from the room. Quoted lines are someone else's words: the person who wrote them was
already screened when they wrote them, so they are dropped before detection.
"""

from __future__ import annotations

import re

__all__ = ["own_words"]

# A line that quotes: "> text" (Markdown, Matrix reply fallback, e-mail style) or "<nick> text" (a pasted
# IRC line; "<3" and other text with no closing bracket right after a nick-like word is not a quote).
_QUOTED_LINE = re.compile(r"^[ \t]*(?:>|<[^<>\s]{1,64}>[ \t])")


def own_words(text: str) -> str:
    """``text`` without its quoted lines (see module docstring); the same string when nothing is quoted."""
    if ">" not in text:
        return text  # the common case costs one scan in C
    lines = text.split("\n")
    kept = [line for line in lines if not _QUOTED_LINE.match(line)]
    if len(kept) == len(lines):
        return text
    return "\n".join(kept)
