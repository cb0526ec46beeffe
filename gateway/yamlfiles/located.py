"""Loading YAML while remembering where every key and value came from.

Why: a moderator editing a policy must be told the file, line, column and key of each mistake, and a
policy file must not be able to exhaust the bot (alias bombs, huge files, deep nesting). PyYAML's
composer gives nodes with positions; this module turns them into plain Python values plus a map from
key path to position, refusing aliases, duplicate keys and oversized input on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Mark", "ConfigError", "ConfigErrors", "Located", "load_located", "format_path"]

MAX_BYTES = 1 << 20  # a policy or config file is a few KiB; 1 MiB is generous
MAX_NODES = 200_000
MAX_DEPTH = 40

KeyPath = tuple[Any, ...]


@dataclass(frozen=True)
class Mark:
    file: str
    line: int  # 1-based
    col: int  # 1-based


def format_path(path: KeyPath) -> str:
    """``("tiers", "high", "rules", "x", "phrases", 2)`` -> ``tiers.high.rules.x.phrases[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


class ConfigError(Exception):
    """One mistake in a file, with its location; ``str()`` is ``file:line:col: key: message``."""

    def __init__(self, mark: Mark, path: KeyPath, message: str):
        self.mark, self.path, self.message = mark, path, message
        super().__init__(str(self))

    def __str__(self) -> str:
        m = self.mark
        return f"{m.file}:{m.line}:{m.col}: {format_path(self.path)}: {self.message}"


class ConfigErrors(Exception):
    """All mistakes found in one load; a file with any of them is refused whole."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = sorted(errors, key=lambda e: (e.mark.file, e.mark.line, e.mark.col))
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class Located:
    """A loaded document: ``value`` is plain Python; ``marks`` and ``key_marks`` locate every path."""

    file: str
    value: Any
    marks: dict[KeyPath, Mark] = field(default_factory=dict)  # where each value starts
    key_marks: dict[KeyPath, Mark] = field(default_factory=dict)  # where each mapping key starts

    def mark(self, path: KeyPath, *, key: bool = False) -> Mark:
        """The position of ``path`` (its key if ``key``), or of its nearest located ancestor."""
        table = self.key_marks if key else self.marks
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), Mark(self.file, 1, 1))

    def error(self, path: KeyPath, message: str, *, key: bool = False) -> ConfigError:
        return ConfigError(self.mark(path, key=key), path, message)


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


# After ``key:`` or ``-``, a space then ``#`` starts a comment: ``room: #support:example.org`` (a Matrix
# alias) or ``- #chan`` (an IRC channel) leaves the value empty. A comment that is one word is caught.
_COMMENTED_VALUE = re.compile(r"\s+(#\S+)\s*(?:#.*)?$")


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader, lines: list[str]):
        self.file, self.loader, self.lines = file, loader, lines
        self.doc = Located(file, None)
        self.seen: set[int] = set()
        self.count = 0
        self.errors: list[ConfigError] = []  # mistakes that leave the document readable: all reported

    def build(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        if id(node) in self.seen:
            raise ConfigError(_mark(self.file, node), path,
                              "YAML anchors and aliases are not allowed in gateway files")
        self.seen.add(id(node))
        self.count += 1
        if self.count > MAX_NODES:
            raise ConfigError(_mark(self.file, node), path, f"file has more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise ConfigError(_mark(self.file, node), path, f"nesting deeper than {MAX_DEPTH} levels")
        self.doc.marks[path] = _mark(self.file, node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ConfigError(_mark(self.file, key_node), path, "mapping keys must be plain scalars")
                key = self.loader.construct_object(key_node)
                if key == "<<":
                    raise ConfigError(_mark(self.file, key_node), path,
                                      "YAML merge keys (<<) are not allowed; use 'extends:'")
                if key in out:
                    raise ConfigError(_mark(self.file, key_node), path + (key,), "duplicate key")
                self.doc.key_marks[path + (key,)] = _mark(self.file, key_node)
                out[key] = self.build(value_node, path + (key,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:null" and node.value == "":
            self._commented_value(node, path)
        return self.loader.construct_object(node)

    def _commented_value(self, node: yaml.ScalarNode, path: KeyPath) -> None:
        """An empty value followed by a one-word comment: almost always an unquoted room or channel."""
        mark = node.start_mark
        line = self.lines[mark.line] if mark.line < len(self.lines) else ""
        found = _COMMENTED_VALUE.match(line, mark.column)
        if found:
            word = found.group(1)
            self.errors.append(ConfigError(
                Mark(self.file, mark.line + 1, found.start(1) + 1), path,
                f"{word} is read as a comment (a # after a space starts one), so this value is empty: "
                f"quote it: \"{word}\""))


def load_located(path: str | Path, *, display_name: str | None = None) -> Located:
    """Load one YAML document from ``path``; raise :class:`ConfigError` on any problem."""
    file = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(Mark(file, 1, 1), (), f"cannot read file: {exc.strerror}") from None
    return load_located_text(raw, file)


# libyaml's parser when PyYAML was built with it (the wheels are): the shipped default policy is a
# thousand lines, and the pure-Python parser took 0.3 s to read it at every start and every check.
# Both give the same nodes and the same line and column marks.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # (also for plain reads: moderator_text)


# The last few large documents read, by name and bytes (the same bytes give the same document: a copy of the one
# parsed before is handed out). For the test suite, which loads the shipped policies (100-200 KiB each) thousands
# of times, and turns it on (tests/conftest.py); off in a gateway or a CLI command, which read a file once or
# twice and would only keep the parsed documents with their marks in memory (about 9 MB for the four shipped
# defaults). Files under _CACHE_FROM bytes are cheap to parse and never kept.
_CACHE_FROM = 8 << 10
_CACHE_SIZE = 0
_parsed: dict[tuple[str, bytes], Located] = {}


def _copy_value(value: Any) -> Any:
    """A copy of a loaded value that shares nothing mutable with it (scalars are immutable)."""
    kind = type(value)
    if kind is dict:
        return {k: _copy_value(v) for k, v in value.items()}
    if kind is list:
        return [_copy_value(v) for v in value]
    if kind is set:
        return set(value)
    return value


def load_located_text(raw: bytes, file: str, *, shared: bool = False) -> Located:
    """The document in ``raw``. ``shared``: the caller only reads it (the parse cache may then hand out the
    document it keeps instead of a copy; ``copy_located`` makes one to change)."""
    if len(raw) > MAX_BYTES:
        raise ConfigError(Mark(file, 1, 1), (), f"file is larger than {MAX_BYTES} bytes")
    if len(raw) < _CACHE_FROM or _CACHE_SIZE <= 0:
        return _load_located_text(raw, file)
    key = (file, raw)
    doc = _parsed.get(key)
    if doc is None:
        doc = _load_located_text(raw, file)  # raises on a mistake: only good documents are kept
        while len(_parsed) >= _CACHE_SIZE:
            _parsed.pop(next(iter(_parsed)), None)
        _parsed[key] = doc
    return doc if shared else copy_located(doc)


def copy_located(doc: Located) -> Located:
    """A copy of a document that shares nothing mutable with it."""
    return Located(doc.file, _copy_value(doc.value), dict(doc.marks), dict(doc.key_marks))


def _load_located_text(raw: bytes, file: str) -> Located:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(Mark(file, 1, 1), (), f"not UTF-8 (byte {exc.start})") from None
    loader = SAFE_LOADER(text)
    lines = text.splitlines()
    try:
        node = loader.get_single_node()
        builder = _Builder(file, loader, lines)
        if node is None:
            builder.doc.value = {}
            builder.doc.marks[()] = Mark(file, 1, 1)
        else:
            builder.doc.value = builder.build(node, (), 0)
        if builder.errors:
            raise ConfigErrors(builder.errors)
        return builder.doc
    except yaml.MarkedYAMLError as exc:
        # a key without its colon, a quote or bracket left open: told where it starts, not where the parser
        # gave up (often the end of the file)
        opening = exc.context_mark and exc.context and exc.context.startswith(_OPENINGS)
        mark = exc.context_mark if opening else exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        hint = syntax_hint(exc, lines)
        raise ConfigError(Mark(file, line, col), (), f"YAML syntax: {exc.problem or exc.context}"
                                                     + (f": {hint}" if hint else "")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Mark(file, 1, 1), (), f"YAML error: {exc}") from None
    except RecursionError:
        raise ConfigError(Mark(file, 1, 1), (), "nesting too deep") from None
    finally:
        loader.dispose()


# What the parser says when a line is indented wrongly (libyaml's and PyYAML's own wording).
_INDENTATION = ("did not find expected key", "did not find expected '-' indicator",
                "mapping values are not allowed", "expected <block end>", "did not find expected <block end>")


_OPENINGS = ("while scanning a simple key", "while scanning a quoted scalar", "while parsing a flow")
# A line that starts a key (``name:``, ``"a b":``) or a list item, not one that goes on with a value.
_STARTS_NODE = re.compile(r"""\s*(?:-(?:\s|$)|(?:"[^"]*"|'[^']*'|[^\s#"'\[\]{},][^:#]*?)\s*:(?:\s|$))""")
_BLOCK_TEXT = re.compile(r":\s*[|>][+-]?\d*\s*(?:#.*)?$")  # ``text: |``: the lines below are text
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _is_item(line: str) -> bool:
    stripped = line.lstrip(" ")
    return stripped == "-" or stripped.startswith("- ")


def syntax_hint(exc: yaml.MarkedYAMLError, lines: list[str]) -> str:
    """What usually causes a YAML syntax error, in the words of the lines involved (from the parser's
    marks): a tab, a quote or bracket left open, a line indented against its neighbours, a missing colon."""
    problem, context = exc.problem or "", exc.context or ""
    opened = exc.context_mark.line + 1 if exc.context_mark else None
    if "quoted scalar" in context and opened:
        return f"the quote opened on line {opened} is not closed"
    if ("flow sequence" in context or "flow mapping" in context) and opened:
        return (f"the {'[' if 'sequence' in context else '{'} opened on line {opened} is not closed, or a comma is "
                f"missing between its items")
    if "could not find expected ':'" in problem and opened:
        return f"is a ':' missing after the key on line {opened}?"
    at = exc.problem_mark.line if exc.problem_mark else None
    if at is None or at >= len(lines):
        return ""
    line, col = lines[at], exc.problem_mark.column
    if "tab" in problem or "\t" in line[:_indent(line) + 1] or line[col:col + 1] == "\t":
        return f"line {at + 1} has a tab: YAML indents with spaces only"
    if not problem.startswith(_INDENTATION):
        return ""
    earlier = [j for j in range(at - 1, -1, -1) if _content(lines[j])]
    if not earlier:
        return ""
    before = earlier[0]
    if problem.startswith("mapping values") and _indent(lines[before]) == _indent(line) \
            and ":" not in _QUOTED.sub("", lines[before]) and not _is_item(lines[before]):
        return f"is a ':' missing after the key on line {before + 1}?"
    if _is_item(line) and "expected key" in problem:
        peer = next((j for j in earlier if _is_item(lines[j])), before)
        return (f"line {at + 1} is a list item where a key was expected (a list goes indented under "
                f"its key): check the indentation of line {at + 1} against line {peer + 1}")
    peers = _likely_peers(lines, at) or [before]
    against = f"line {peers[0] + 1}" if len(peers) == 1 else f"lines {peers[0] + 1} and {peers[1] + 1}"
    if "'-' indicator" in problem:
        return (f"line {at + 1} is a key where a list item (- ...) was expected: check the indentation of "
                f"line {at + 1} against {against}")
    return f"check the indentation of line {at + 1} against {against}"


def _likely_peers(lines: list[str], at: int) -> list[int]:
    """The lines above ``at`` it was most likely meant to align with: of the keys and items still open there
    (the nearest one, then each one less indented), the one whose indentation is nearest to its own; and the
    next one up when it is as near (a key pushed right of its siblings looks like one pulled left of its
    parent's children)."""
    levels, limit = [], None
    for j in range(at - 1, -1, -1):
        if limit is None and _BLOCK_TEXT.search(lines[j]) and j < at - 1:  # in a block of text: its lines
            return [next((k for k in range(at - 1, j, -1) if _content(lines[k])), j)]
        if _STARTS_NODE.match(lines[j]) and (limit is None or _indent(lines[j]) < limit):
            levels.append(j)
            limit = _indent(lines[j])
            if limit == 0:
                break
    own = _indent(lines[at])
    off = [(abs(_indent(lines[j]) - own), j) for j in levels if _indent(lines[j]) != own]
    if not off:
        return []
    nearest = min(d for d, _ in off)
    first, *rest = [j for d, j in off if d == nearest]
    follows = levels.index(first) + 1
    return [first] + [j for j in rest[:1] if follows < len(levels) and levels[follows] == j]
