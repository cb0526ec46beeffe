"""Typed reading of a located YAML document that collects every error instead of stopping at the first.

Why: policies and the config are edited by volunteers; one run of ``gateway check`` should list every
mistake with its ``file:line:col: key``, and nothing half-valid may ever be applied.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Mapping

from .located import ConfigError, ConfigErrors, KeyPath, Located

__all__ = ["Checker", "parse_duration", "MISSING", "did_you_mean", "ENV_NAME"]

MISSING: Any = object()

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a shell accepts as a variable's name
_CAPITALS_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")  # how variables' names are written
_DOLLAR_NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")  # $NAME or ${NAME}, as a shell writes it


def parse_duration(value: Any) -> int | None:
    """``"90d"`` -> seconds; a bare non-negative integer is seconds. ``None`` if not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return int(m.group(1)) * _UNITS[m.group(2)]
    return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            list: "list", dict: "mapping"}.get(type(value), type(value).__name__)


class Checker:
    """Reads values out of ``doc`` by key path, recording an error for each one of the wrong shape."""

    def __init__(self, doc: Located):
        self.doc = doc
        self.errors: list[ConfigError] = []

    def error(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        self.errors.append(self.doc.error(path, message, key=key))

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ConfigErrors(self.errors)

    def mapping(self, path: KeyPath, value: Any, *, required: Iterable[str] = (),
                optional: Iterable[str] = (), any_keys: bool = False) -> dict[str, Any] | None:
        """Check ``value`` is a mapping with only known keys; return it (or ``None`` if unusable)."""
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {_type_name(value)}")
            return None
        required, optional = tuple(required), tuple(optional)
        known = set(required) | set(optional)
        for k in value:
            if not isinstance(k, str):
                self.error(path + (k,), "keys must be strings", key=True)
            elif not any_keys and k not in known:
                hint = _closest(k, known)
                self.error(path + (k,), "unknown key" + (f" (did you mean '{hint}'?)" if hint else ""),
                           key=True)
        for k in required:
            if k not in value:
                self.error(path, f"missing required key '{k}'")
        return value

    def typed(self, path: KeyPath, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float))
        if not ok:
            self.error(path, f"expected {what}, got {_type_name(value)}")
            return MISSING
        return value

    def string(self, path: KeyPath, value: Any, *, nonempty: bool = True, max_len: int = 10_000) -> Any:
        v = self.typed(path, value, str, "a string")
        if v is MISSING:
            return v
        if nonempty and not v.strip():
            self.error(path, "must not be empty")
            return MISSING
        if len(v) > max_len:
            self.error(path, f"longer than {max_len} characters")
            return MISSING
        return v

    def boolean(self, path: KeyPath, value: Any) -> Any:
        return self.typed(path, value, bool, "true or false")

    def integer(self, path: KeyPath, value: Any, *, lo: int | None = None, hi: int | None = None) -> Any:
        v = self.typed(path, value, int, "an integer")
        if v is MISSING:
            return v
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.error(path, f"must be between {lo} and {hi}")
            return MISSING
        return v

    def choice(self, path: KeyPath, value: Any, choices: Iterable[str]) -> Any:
        choices = tuple(choices)
        if value not in choices:
            self.error(path, f"expected one of {', '.join(choices)}, got {value!r}")
            return MISSING
        return value

    def number(self, path: KeyPath, value: Any, *, lo: float, hi: float) -> Any:
        v = self.typed(path, value, (int, float), "a number")
        if v is MISSING:
            return v
        if not lo <= v <= hi:
            self.error(path, f"must be between {lo:g} and {hi:g}")
            return MISSING
        return v

    def matching(self, path: KeyPath, value: Any, pattern: re.Pattern[str], what: str) -> Any:
        """A string of a given shape; ``what`` says the shape with an example."""
        v = self.string(path, value, max_len=500)
        if v is not MISSING and not pattern.fullmatch(v):
            self.error(path, f"expected {what}, got {v!r}")
            return MISSING
        return v

    def env_name(self, path: KeyPath, value: Any, example: str, environ: Mapping[str, str] | None) -> Any:
        """The name of the environment variable that holds a secret. People paste the secret itself
        here, so a value is taken as a name only if it is written as names are (capitals, digits and
        underscores) or is set in the environment at hand (``environ``, else this process's); anything
        else is refused without being repeated: not in the error, so not in a terminal or a log."""
        v = self.string(path, value, max_len=500)
        if v is MISSING:
            return v
        known = os.environ if environ is None else environ

        def is_name(text: str) -> bool:
            return bool(_CAPITALS_NAME.fullmatch(text) or (ENV_NAME.fullmatch(text) and text in known))

        if is_name(v):
            return v
        dollar = _DOLLAR_NAME.fullmatch(v)
        if dollar and is_name(dollar.group(1)):
            self.error(path, f"write the variable's name without $: {dollar.group(1)} (the gateway reads it "
                             f"from its environment; no shell expands it here)")
            return MISSING
        self.error(path, f"looks like a secret, not the name of an environment variable (not shown here): "
                         f"export the secret as, say, {example} and write that name here; if this file "
                         f"was shared, change the secret")
        return MISSING

    def duration(self, path: KeyPath, value: Any, *, allow_null: bool = False) -> Any:
        if value is None and allow_null:
            return None
        seconds = parse_duration(value)
        if seconds is None:
            self.error(path, f"expected a duration like 30s, 15m, 24h or 7d, got {value!r}")
            return MISSING
        return seconds

    def string_list(self, path: KeyPath, value: Any, *, max_items: int = 20_000) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list of strings, got {_type_name(value)}")
            return []
        if len(value) > max_items:
            self.error(path, f"more than {max_items} items")
            return []
        # the common case, checked at once: a policy's lists hold tens of thousands of phrases, each of which
        # would otherwise be checked alone (with a path made for an error that is not there)
        if all(type(item) is str and 0 < len(item) <= 500 and not item.isspace() for item in value):
            return list(value)
        out = []
        for i, item in enumerate(value):
            s = self.string(path + (i,), item, max_len=500)
            if s is not MISSING:
                out.append(s)
        return out


def _closest(word: str, candidates: Iterable[str], cutoff: float = 0.75) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: Any, candidates: Iterable[str]) -> str:
    """`` (did you mean 'default'?)`` for a near miss among ``candidates``, else an empty string."""
    hint = _closest(str(word), candidates, cutoff=0.6) if isinstance(word, str) else None
    return f" (did you mean '{hint}'?)" if hint else ""
