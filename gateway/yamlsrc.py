"""Loading YAML while remembering where every key and value came from.

Why: a moderator editing a policy must be told the file, line, column and key of each mistake, and a
policy file must not be able to exhaust the bot (alias bombs, huge files, deep nesting). PyYAML's
composer gives nodes with positions; this module turns them into plain Python values plus a map from
key path to position, refusing aliases, duplicate keys and oversized input on the way.
"""

from __future__ import annotations

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


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader):
        self.file, self.loader = file, loader
        self.doc = Located(file, None)
        self.seen: set[int] = set()
        self.count = 0

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
        return self.loader.construct_object(node)


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
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_located_text(raw: bytes, file: str) -> Located:
    if len(raw) > MAX_BYTES:
        raise ConfigError(Mark(file, 1, 1), (), f"file is larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(Mark(file, 1, 1), (), f"not UTF-8 (byte {exc.start})") from None
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(file, loader)
        if node is None:
            builder.doc.value = {}
            builder.doc.marks[()] = Mark(file, 1, 1)
        else:
            builder.doc.value = builder.build(node, (), 0)
        return builder.doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError(Mark(file, line, col), (), f"YAML syntax: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(Mark(file, 1, 1), (), f"YAML error: {exc}") from None
    except RecursionError:
        raise ConfigError(Mark(file, 1, 1), (), "nesting too deep") from None
    finally:
        loader.dispose()
