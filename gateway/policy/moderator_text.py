"""What the moderators read that the code writes (issue 27): the line of commands that ends an alert, the
words for tiers, priorities and durations, command replies, a case's history, the weekly digest and the
bot's notices, in the moderators' language.

Why one table per language: the words live beside the templates they go with, in the ``moderator_text:``
section of policies/templates/LANG.yaml, so a translator edits one file, and the loader checks that every
language has every key with the same ``{fields}`` (``PolicyLoader``). The code asks ``Policy.words`` (the
table of ``moderators.language``, else the room's); what runs without a policy (``gateway case ID``, the
operators' CLI) reads English (``english()``). Command keywords (``!ack``, the close outcomes, ``act``)
are never translated: moderators type them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from ..yamlfiles.located import SAFE_LOADER
from .shipped import SHIPPED_DIR

__all__ = ["ModeratorText", "english", "load_table", "SECTION"]

SECTION = "moderator_text"


class ModeratorText:
    """One language's moderator text: ``words(key, **fields)`` fills a key in; a key this language lacks
    (a table built by hand in a test) is English rather than an error in front of a moderator."""

    def __init__(self, table: Mapping[str, str]):
        self.table = table

    def __call__(self, key: str, **fields: object) -> str:
        text = self.table.get(key)
        if text is None:
            text = english().table[key]
        return text.format_map(fields)

    def tier(self, tier: str) -> str:
        """A tier as alerts name it ("imminent", "akut"); a name no table knows stays as it is."""
        key = f"tier_{tier}"
        return self(key) if key in self.table or key in english().table else tier

    def priority(self, priority: str) -> str:
        """An alert priority as the brackets that open an alert show it ("URGENT", "DRINGEND")."""
        return self(f"priority_{priority}")

    def age(self, seconds: float) -> str:
        """A short human duration: 45s, 12m, 3h, 2d in English (``age_s`` ... ``age_d``)."""
        s = int(max(seconds, 0))
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if s >= size:
                return self(f"age_{unit}", n=s // size)
        return self("age_s", n=s)


def load_table(path) -> dict[str, str]:
    """The ``moderator_text:`` section of one language file (empty if it has none)."""
    doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    section = doc.get(SECTION) if isinstance(doc, dict) else None
    return {str(k): str(v) for k, v in section.items()} if isinstance(section, dict) else {}


@lru_cache(maxsize=1)
def english() -> ModeratorText:
    """English, from the shipped policies/templates/en.yaml: what runs without a policy reads it."""
    return ModeratorText(load_table(SHIPPED_DIR / "templates" / "en.yaml"))
