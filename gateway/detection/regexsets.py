"""Which of a policy's many RE2 patterns match a message: for the composer's lazily found parts, and for the rules
of a language that identification adds to a room (``rules.CompiledRules``'s ``small``; a room's own rules keep
FilteredRE2, about four times faster on a message judged alone).

Why RE2 sets and not RE2's FilteredRE2 (``re2.Filter``), which answered this before: the filter's prefilter tree
cost 5 to 15 MB for each language (a third of what loading German, French or Spanish cost a scan of mixed chat,
issue 27's 150 MB), sets of the same patterns under 1 MB, for about 10 microseconds more on each message
judged (a few in a hundred). The answers are the same: every pattern that matches somewhere in the text.
"""

from __future__ import annotations

import re2

__all__ = ["PatternSets"]

SET_SIZE = 100  # patterns in one RE2 set: its lazy DFA's states grow with the product of its patterns' positions


class PatternSets:
    """``Match(text)``: the sorted indexes of the patterns (in the order given) that match somewhere in ``text``, or
    None if none does, as ``re2.Filter.Match`` answers."""

    __slots__ = ("_sets",)

    def __init__(self, patterns: list[str] | tuple[str, ...]):
        self._sets = []
        for start in range(0, len(patterns), SET_SIZE):
            regex_set = re2.Set.SearchSet()  # RE2's default budget: a set's DFA that fills it starts again, never fails
            for pattern in patterns[start:start + SET_SIZE]:
                regex_set.Add(pattern)
            regex_set.Compile()
            self._sets.append((start, regex_set._set))  # the binding's own set: the text is encoded once, here

    def Match(self, text: str) -> list[int] | None:
        raw = text.encode("utf-8")
        found = [start + i for start, regex_set in self._sets for i in regex_set.Match(raw)]
        if not found:
            return None
        found.sort()
        return found
