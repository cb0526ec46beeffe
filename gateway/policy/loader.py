"""Reading policies: finding a policy by name or path, layering it over the one it ``extends``, and
validating everything with a ``file:line:col: key`` for each mistake.

``extends: NAME`` layers a policy over another (normally the shipped ``default``): mappings merge key by
key, lists extend the inherited ones (``{remove: [...]}`` and ``{replace: [...]}`` shrink them,
explicitly), any other value replaces the inherited one, and a rule set to ``null`` is removed (see
``merge``). Templates come from ``policies/templates/LANG.yaml`` with the policy's own ``templates:``
on top. The whole chain is validated before anything is used; a file with any error is refused whole,
so a reload never swaps a good policy for a bad one. Phrases are folded here (``gateway.detection.
folding``) so that a phrase that folds to nothing is reported at its line.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import string
from pathlib import Path
from typing import Any

import re2

from .crisis_lines import INTERNATIONAL, ISO_REGIONS, region_hint
from ..text.folding import normalise
from .shipped import MODELS
from .model import (ALERT_PRIORITIES, ASKED_TEMPLATES, MODERATOR_TEMPLATES, REQUIRED_TEMPLATES, SHIPPED_DIR, TEMPLATE_FIELDS, TIERS, WEEKDAYS,
                     ChatModelSettings, Combination, Composition, Context, Digest, Escalation, Guidelines, Limits, ModelSettings,
                     Moderators, Part, Policy, Rule, Tier, TierAction)
from .moderator_text import SECTION
from ..yamlfiles.checker import MISSING, Checker, did_you_mean
from ..yamlfiles.located import (ConfigError, copy_located, ConfigErrors, KeyPath, Located, Mark, load_located,
                                 load_located_text)

__all__ = ["PolicyLoader", "merge", "LIST_EDITS"]

_RULE_ID = re.compile(r"^[a-z0-9_]{1,48}$")
_ANY_ROOM = re.compile(r"[!#&][^\s,]{1,254}")  # a room of some network; the config checks it against its network's
_MAX_REGEX = 1000
_QUIET = re2.Options()
_QUIET.log_errors = False  # RE2 would print its own copy of each error to stderr


LIST_EDITS = ("add", "remove", "replace")
VARIANT_SUFFIXES = ("_irc",)  # per network type: NAME_irc is used on IRC instead of NAME (Policy.variant)


def _fields(text: str) -> set[str]:
    """The placeholders of a template ("{room}" -> "room"; a bare "{}" is the empty name, never allowed).
    Raises ValueError on an unbalanced brace."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def merge(base: Located, over: Located) -> Located:
    """Layer ``over`` on ``base``: mappings merge key by key; a list *extends* the inherited list (new
    items appended), so an extending policy cannot weaken its parent by accident; ``{replace: [...]}``
    replaces an inherited list and ``{remove: [...]}`` drops items from it (``add`` may go with
    ``remove``); other values replace. Positions follow the values. Raises ``ConfigErrors`` for a
    ``remove`` of an item the parent does not have (a typo would otherwise change nothing, silently)."""
    out = Located(over.file, None, {}, {})
    errors: list[ConfigError] = []

    # each table's paths grouped by their next key under a prefix, worked out once per prefix a merge asks about
    # and from the paths under that prefix only: copying a subtree's marks then costs its own size, not the whole
    # file's (a thousand-line policy has tens of thousands of marks, and a merge copies hundreds of subtrees)
    groups: dict[tuple[int, KeyPath], dict[Any, list[KeyPath]]] = {}

    def paths_under(table: dict[KeyPath, Mark], prefix: KeyPath) -> list[KeyPath]:
        if not prefix:
            return list(table)
        parent, n = prefix[:-1], len(prefix) - 1
        grouped = groups.get((id(table), parent))
        if grouped is None:
            grouped = groups[(id(table), parent)] = {}
            for p in paths_under(table, parent):
                if len(p) > n:
                    grouped.setdefault(p[n], []).append(p)
        return grouped.get(prefix[-1], [])

    def copy_marks(src: Located, prefix: KeyPath, to: KeyPath | None = None) -> None:
        n = len(prefix)
        to = prefix if to is None else to
        for table, dest in ((src.marks, out.marks), (src.key_marks, out.key_marks)):
            for p in paths_under(table, prefix):
                dest[to + p[n:]] = table[p]

    def items_of(src: Located, value: list, path: KeyPath, into: list, at: KeyPath) -> None:
        for i, item in enumerate(value):
            if item not in into:  # (a repeated item would only be matched twice)
                copy_marks(src, path + (i,), at + (len(into),))
                into.append(item)

    def edit_list(bv: list, ov: dict, path: KeyPath) -> list:
        result: list = []
        if "replace" in ov:
            items_of(over, ov["replace"] or [], path + ("replace",), result, path)
            return result
        removed = ov.get("remove") or []
        for j, item in enumerate(removed):
            if item not in bv:
                errors.append(over.error(path + ("remove", j), f"{item!r} is not in the inherited list"))
        kept = [(i, item) for i, item in enumerate(bv) if item not in removed]
        for i, item in kept:
            copy_marks(base, path + (i,), path + (len(result),))
            result.append(item)
        items_of(over, ov.get("add") or [], path + ("add",), result, path)
        return result

    def is_edit(bv: Any, ov: Any) -> bool:
        return (isinstance(bv, list) and isinstance(ov, dict) and bool(ov)
                and set(ov) <= set(LIST_EDITS) and all(isinstance(v, list) or v is None for v in ov.values())
                and not ("replace" in ov and len(ov) > 1))

    def rec(bv: Any, ov: Any, path: KeyPath) -> Any:
        if isinstance(bv, dict) and isinstance(ov, dict):
            result = {}
            for k, v in bv.items():
                if k not in ov:
                    result[k] = v
                    copy_marks(base, path + (k,))
            for k, v in ov.items():
                if k in bv:
                    result[k] = rec(bv[k], v, path + (k,))
                    if path + (k,) in over.key_marks:
                        out.key_marks[path + (k,)] = over.key_marks[path + (k,)]
                else:
                    result[k] = v
                    copy_marks(over, path + (k,))
            out.marks[path] = over.marks.get(path) or base.marks.get(path) or Mark(over.file, 1, 1)
            return result
        if isinstance(bv, list) and isinstance(ov, list):
            result = []
            for i, item in enumerate(bv):
                copy_marks(base, path + (i,))
                result.append(item)
            items_of(over, ov, path, result, path)
            out.marks[path] = over.marks.get(path) or base.marks.get(path) or Mark(over.file, 1, 1)
            return result
        if is_edit(bv, ov):
            out.marks[path] = over.marks.get(path) or Mark(over.file, 1, 1)
            return edit_list(bv, ov, path)
        copy_marks(over, path)
        return ov

    out.value = rec(base.value, over.value, ())
    if errors:
        raise ConfigErrors(errors)
    return out


# A phrase's folded form, kept by its text: ``normalise`` is a pure function, and every load of a policy extending
# a shipped default folds its thousands of phrases again (the unit suite loads a policy a few hundred times).
_fold_phrase = functools.lru_cache(maxsize=1 << 16)(normalise)


@functools.lru_cache(maxsize=8192)
def _regex_problem(pattern: str) -> str | None:
    """Why a policy regex is refused, or None (the same pattern gives the same answer: a load compiles
    hundreds of the shipped ones, and every load of a policy extending them compiled them again)."""
    try:
        compiled = re2.compile(pattern, _QUIET)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) \
            else str(exc)
        return f"bad regex: {reason} (RE2 syntax, linear time: no backreferences or lookaround)"
    if compiled.search("") is not None:
        return "regex matches an empty message, so it would fire on everything"
    return None


# The last few policies built, each with what it was built from: where each name was found and the bytes of
# every file read. A load that would find and read the same gets the same (frozen) policy, with the detector
# already compiled on it (``detector_for``). For the test suite, which loads the same few policies hundreds of
# times (tests/conftest.py turns it on); off in a gateway and the CLI, which load once and at ``!reload``.
_CACHE_SIZE = 0
_built: dict[tuple, tuple[tuple, Policy]] = {}


def _same_as_read(looked: tuple, loader: "PolicyLoader") -> bool:
    """Whether every lookup and file read of an earlier load would give the same answer now."""
    for kind, where, answer in looked:
        if kind == "resolve":
            if loader.resolve(*where) != answer:
                return False
        else:
            try:
                now = Path(where).read_bytes()
            except OSError:
                now = None
            if now != answer:
                return False
    return True


# ... and by what they were built from wherever the policy's own file was: the tests write the same room policy into
# a new folder hundreds of times. The same files read (the policy's own by its bytes, every file it extends by path
# and bytes) merge into the same document, so the policy built before is handed out with the new file's name in
# place of the old one's (``_moved``: ``Policy.file`` and the marks are the only places a policy names its file);
# the files the build itself read (the templates) must still read the same.
_by_content: dict[tuple, tuple[str, tuple, Policy]] = {}


def _moved(policy: Policy, old: str, new: str) -> Policy:
    """``policy`` as if read from ``new`` instead of ``old``."""
    if old == new:
        return policy
    marks = {k: dataclasses.replace(m, file=new) if m is not None and m.file == old else m
             for k, m in policy.marks.items()}
    return dataclasses.replace(policy, file=new, marks=marks)


def _respelt(pattern: str, spellings: dict[str, str]) -> str:
    """``pattern`` with each word of ``spellings`` that stands whole in it (after "(", "|", "(?:", a space or "\\b", and
    before ")", "|", a space, "\\" or the end) as an alternation of both spellings: "(?:hang|heng)" reads "haeng" too."""
    return _word_in_regex(spellings).sub(lambda m: f"(?:{m.group(1)}|{spellings[m.group(1)]})", pattern)


# The regexes and phrases already respelt, for each ``spellings`` table: every load of a policy that extends one with
# ``spellings`` rewrote its thousands of regexes and phrases again, a third of that load's time (both are pure functions)
_RESPELT: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], dict[str, str]]] = {}


def _respelt_memo(spellings: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The (regexes, phrases) memo for ``spellings``: each maps what a policy wrote to it respelt."""
    key = tuple(spellings.items())
    memo = _RESPELT.get(key)
    if memo is None:
        if len(_RESPELT) >= 8:
            _RESPELT.clear()
        memo = _RESPELT[key] = ({}, {})
    return memo


@functools.lru_cache(maxsize=8)
def _spelling_words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?:(?<=[(|: ])|(?<=\\b)|^)(" + "|".join(map(re.escape, words)) + r")(?=[)| \\$]|$)")


def _word_in_regex(spellings: dict[str, str]) -> re.Pattern[str]:
    return _spelling_words(tuple(sorted(spellings, key=len, reverse=True)))


class PolicyLoader:
    """Finds, merges, validates and compiles policies by name or path.

    ``search_dirs`` are tried in order for a bare name, then the shipped ``policies/`` directory.
    """

    def __init__(self, search_dirs: list[Path] | None = None, *, shipped_dir: Path = SHIPPED_DIR):
        self.shipped_dir = shipped_dir
        self.search_dirs = [Path(d) for d in (search_dirs or [])] + [shipped_dir]
        self._stated_language: dict[str, Any] = {}
        self._template_files: dict[str, Located | None] = {}
        self._looked: list[tuple] = []  # this load's lookups and reads, for the cache (``_CACHE_SIZE``)
        # the policy's ``spellings`` while it is built: every phrase and regex that holds one of the words also reads it
        # spelt the other way ("brucke" typed "bruecke" on a keyboard without umlauts: round 20)
        self._spelt: dict[str, str] = {}
        # what ``_spelt`` made of each regex and each phrase, shared by every load with the same spellings (``_respelt_memo``)
        self._spelt_done: tuple[dict[str, str], dict[str, str]] = ({}, {})

    def candidates(self, name_or_path: str, relative_to: Path | None = None) -> list[Path]:
        """Where a policy of this name or path may be, in the order tried."""
        if "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
            p = Path(name_or_path)
            return [relative_to / p if not p.is_absolute() and relative_to is not None else p]
        return [d / f"{name_or_path}{suffix}" for d in self.search_dirs for suffix in (".yaml", ".yml")]

    def resolve(self, name_or_path: str, relative_to: Path | None = None) -> Path | None:
        return next((p for p in self.candidates(name_or_path, relative_to) if p.is_file()), None)

    def _resolve(self, name_or_path: str, relative_to: Path | None) -> Path | None:
        found = self.resolve(name_or_path, relative_to)
        self._looked.append(("resolve", (name_or_path, relative_to), found))
        return found

    def _read(self, path: Path | str, *, shared: bool = False) -> Located:
        """``load_located``, remembering the bytes read (a file that cannot be read raises as there).
        ``shared``: only read, never changed (``load_located_text``)."""
        try:
            raw = Path(path).read_bytes()
        except OSError:
            self._looked.append(("file", str(path), None))
            return load_located(path)
        self._looked.append(("file", str(path), raw))
        return load_located_text(raw, str(path), shared=shared)

    def where_looked(self, name_or_path: str, relative_to: Path | None = None) -> str:
        """``looked for x.yaml or x.yml in DIR, DIR`` or ``no file PATH``: said when a policy is not found."""
        tried = self.candidates(name_or_path, relative_to)
        if len(tried) == 1:
            return f"no file {tried[0]}"
        dirs = ", ".join(str(d) for d in dict.fromkeys(p.parent for p in tried))
        return f"looked for {name_or_path}.yaml or {name_or_path}.yml in {dirs}"

    def names(self) -> list[str]:
        """Every policy name a config can use (for did-you-mean)."""
        return sorted({f.stem for d in self.search_dirs if d.is_dir() for f in d.iterdir()
                       if f.suffix in (".yaml", ".yml")})

    def load(self, name_or_path: str) -> Policy:
        key = (name_or_path, Path.cwd(), tuple(self.search_dirs), self.shipped_dir)
        if _CACHE_SIZE > 0 and key in _built and _same_as_read(_built[key][0], self):
            return _built[key][1]
        self._looked = []
        policy = self._load(name_or_path)
        if _CACHE_SIZE > 0:
            while len(_built) >= _CACHE_SIZE:
                _built.pop(next(iter(_built)), None)
            _built[key] = (tuple(self._looked), policy)
        return policy

    def _load(self, name_or_path: str) -> Policy:
        path = self._resolve(name_or_path, Path.cwd())
        if path is None:
            raise ConfigErrors([ConfigError(Mark(name_or_path, 1, 1), (),
                                            f"no such policy: {self.where_looked(name_or_path, Path.cwd())}; "
                                            f"give a name from the policy directory or a path"
                                            + did_you_mean(name_or_path, self.names()))])
        # files read during this load only: a later load (``!reload``) reads them again
        self._stated_language: dict[str, Any] = {}
        self._template_files: dict[str, Located | None] = {}
        chain = self._read_chain(path, [])
        content = self._files_read(path) if _CACHE_SIZE > 0 else None
        hit = _by_content.get(content) if content is not None else None
        if hit is not None and _same_as_read(hit[1], self):  # (before merging: the same files merge the same)
            self._looked.extend(hit[1])
            return _moved(hit[2], hit[0], str(path))
        doc, parent = self._merge_chain(chain)
        before = len(self._looked)
        policy = self._build(doc, path)
        policy = dataclasses.replace(policy, extends=str(parent)) if parent else policy
        if content is not None:
            while len(_by_content) >= _CACHE_SIZE:
                _by_content.pop(next(iter(_by_content)), None)
            _by_content[content] = (str(path), tuple(self._looked[before:]), policy)
        return policy

    def _files_read(self, path: Path) -> tuple:
        """What this load has read so far, the policy's own file by its bytes only (``_by_content``)."""
        return tuple((None if where == str(path) else where, answer)
                     for kind, where, answer in self._looked if kind == "file")

    def _read_chain(self, path: Path, seen: list[Path]) -> list[tuple[Path, Located]]:
        """The policy at ``path`` and every file it extends, read (not merged), the policy's own first."""
        doc = self._read(path, shared=True)  # (merged into a new document, or copied, before it is built)
        # the language each file of the chain is written in, for ``_inherited_text`` (no second read)
        self._stated_language[str(path)] = doc.value.get("language") if isinstance(doc.value, dict) else None
        parent_name = doc.value.get("extends") if isinstance(doc.value, dict) else None
        if parent_name is None:
            return [(path, doc)]
        if not isinstance(parent_name, str) or not parent_name.strip():
            raise ConfigErrors([doc.error(("extends",), "expected a policy name or path")])
        parent = self._resolve(parent_name, path.parent)
        if parent is None:
            raise ConfigErrors([doc.error(("extends",), f"no policy named {parent_name!r} to extend: "
                                                        f"{self.where_looked(parent_name, path.parent)}"
                                                        f"{did_you_mean(parent_name, self.names())}")])
        if parent.resolve() in seen + [path.resolve()]:
            raise ConfigErrors([doc.error(("extends",), "policies extend each other in a cycle")])
        return [(path, doc)] + self._read_chain(parent, seen + [path.resolve()])

    @staticmethod
    def _merge_chain(chain: list[tuple[Path, Located]]) -> tuple[Located, Path | None]:
        """The chain's files merged, each over what it extends, and the file the policy extends directly."""
        merged = chain[-1][1]
        for _, doc in reversed(chain[:-1]):
            merged = merge(merged, doc)
            merged.value.pop("extends", None)
        # the files as read may be the parse cache's own documents, and merging shares their lists and mappings:
        # the policy is built from a copy
        return copy_located(merged), chain[1][0] if len(chain) > 1 else None

    def _templates(self, language: str) -> Located | None:
        """policies/templates/LANG.yaml, read once per loader (a load asks for it several times)."""
        if language not in self._template_files:
            p = self.shipped_dir / "templates" / f"{language}.yaml"
            if p.is_file():
                self._template_files[language] = self._read(p)
            else:  # none for this language: the cache must see one appear
                self._template_files[language] = None
                self._looked.append(("file", str(p), None))
        return self._template_files[language]

    def _build(self, doc: Located, path: Path) -> Policy:
        c = Checker(doc)
        top = c.mapping((), doc.value, required=("name", "tiers", "moderators"), optional=(
            "description", "language", "region", "mode", "command_prefix", "followup_after",
            "guidelines", "templates", "exceptions", "escalation", "outreach_interval", "abuse", "limits", "model", "context", "third_party", "digest",
            "compose", "spellings"))
        if top is None:
            c.raise_if_errors()
        self._spelt = self._spellings(c, top.get("spellings"))
        self._spelt_done = _respelt_memo(self._spelt)
        return self._build_top(c, doc, path, top)

    @staticmethod
    def _spellings(c: Checker, raw: Any) -> dict[str, str]:
        """``spellings:`` {word: another spelling of it} (folded; one word each: "brucke: bruecke")."""
        spellings: dict[str, str] = {}
        for word, other in (c.mapping(("spellings",), raw or {}, any_keys=True) or {}).items():
            sp = ("spellings", word)
            folded = _fold_phrase(word) if isinstance(word, str) else ""
            if not folded or " " in folded:
                c.error(sp, "a spelling names one word", key=True)
            elif c.string(sp, other, max_len=80) is not MISSING:
                variant = _fold_phrase(other)
                if not variant or " " in variant:
                    c.error(sp, "a spelling is one word")
                elif variant != folded:
                    spellings[folded] = variant
        return spellings

    def _build_top(self, c: Checker, doc: Located, path: Path, top: dict) -> Policy:
        name = c.string(("name",), top["name"], max_len=80) if "name" in top else MISSING
        language = c.string(("language",), top.get("language", "en"), max_len=16)
        region = top.get("region", INTERNATIONAL)
        if not isinstance(region, str) or (region != INTERNATIONAL and region not in ISO_REGIONS):
            c.error(("region",), f"unknown region code {region!r} (ISO 3166-1 alpha-2 such as GB, or INTL)"
                                 f"{region_hint(region)}")
        mode = c.choice(("mode",), top.get("mode", "act"), ("act", "observe"))
        prefix = c.string(("command_prefix",), top.get("command_prefix", "!"), max_len=3)
        if isinstance(prefix, str) and any(ch.isspace() or ch.isalnum() for ch in prefix):
            c.error(("command_prefix",), "must be 1-3 punctuation characters, such as !")
        followup = c.duration(("followup_after",), top.get("followup_after", "24h"), allow_null=True)

        guidelines = self._guidelines_in(language, doc, self._guidelines(c, top.get("guidelines", {})))
        moderators = self._guidance_in(language, doc, self._moderators(c, top.get("moderators")))
        exc = c.mapping(("exceptions",), top.get("exceptions", {}),
                        optional=("idioms", "negations", "negation_window", "reported", "reported_window",
                                  "jokes", "recovery", "past", "past_window", "relapse", "supportive",
                                  "concealed")) or {}
        recovery = self._phrases(c, ("exceptions", "recovery"), exc.get("recovery"))
        past = self._phrases(c, ("exceptions", "past"), exc.get("past"))
        past_window = c.integer(("exceptions", "past_window"), exc.get("past_window", 3), lo=0, hi=20)
        relapse = self._phrases(c, ("exceptions", "relapse"), exc.get("relapse"))
        supportive = self._phrases(c, ("exceptions", "supportive"), exc.get("supportive"))
        concealed = self._phrases(c, ("exceptions", "concealed"), exc.get("concealed"))
        jokes = self._phrases(c, ("exceptions", "jokes"), exc.get("jokes"))
        reported = self._phrases(c, ("exceptions", "reported"), exc.get("reported"))
        reported_window = c.integer(("exceptions", "reported_window"), exc.get("reported_window", 6), lo=0, hi=20)
        abuse_rules, abuse_alert = self._abuse(c, top.get("abuse"))
        third_rules, third_alert = self._abuse(c, top.get("third_party"), "third_party", "high")
        reports, helping, people = self._whose_words(c, top.get("third_party"))
        idioms = self._phrases(c, ("exceptions", "idioms"), exc.get("idioms"))
        negations = self._phrases(c, ("exceptions", "negations"), exc.get("negations"))
        window = c.integer(("exceptions", "negation_window"), exc.get("negation_window", 2), lo=0, hi=10)
        tiers = self._tiers(c, top.get("tiers"))
        ep = ("escalation",)
        esc = c.mapping(ep, top.get("escalation", {}), optional=("repeat_after", "widen_after",
                                                              "min_priority")) or {}
        escalation = Escalation(
            c.duration(ep + ("repeat_after",), esc.get("repeat_after", "15m"), allow_null=True),
            c.duration(ep + ("widen_after",), esc.get("widen_after", "30m"), allow_null=True),
            c.choice(ep + ("min_priority",), esc.get("min_priority", "high"), ALERT_PRIORITIES[1:]))
        outreach = c.duration(("outreach_interval",), top.get("outreach_interval", "24h"))
        limits = self._limits(c, top.get("limits", {}))
        model = self._model(c, top.get("model", {}))
        compose = self._compose(c, top.get("compose"), tiers, top.get("tiers"))
        context = self._context(c, top.get("context", {}), tiers, compose)
        digest = self._digest(c, top.get("digest", {}))
        templates = self._template_table(c, doc, language, top.get("templates", {}), tiers)
        moderator_templates = self._moderator_templates(c, doc, language, moderators, templates)
        moderator_text = self._moderator_text(c, moderators.language if moderators and moderators.language
                                              else language)

        c.raise_if_errors()
        return Policy(
            marks=self._marks(doc, tiers, compose),
            name=name, file=str(path), language=language, region=region, mode=mode,
            command_prefix=prefix, followup_after=followup, guidelines=guidelines,
            moderators=moderators, tiers=tiers, idioms=idioms, negations=negations,
            negation_window=window, templates=templates, moderator_templates=moderator_templates,
            statuses=self._statuses(moderators.language if moderators and moderators.language else language),
            moderator_text=moderator_text,
            escalation=escalation,
            outreach_interval=outreach, reported=reported, reported_window=reported_window,
            jokes=jokes, abuse=abuse_rules, abuse_alert=abuse_alert, third_party=third_rules,
            third_party_alert=third_alert, third_party_reports=reports, third_party_helping=helping,
            third_party_people=people, recovery=recovery, past=past, past_window=past_window,
            relapse=relapse, supportive=supportive, concealed=concealed, limits=limits, model=model,
            context=context, digest=digest, compose=compose)

    @staticmethod
    def _marks(doc: Located, tiers: dict[str, Tier], compose: Composition) -> dict[str, Mark]:
        """Where each rule and the moderators' room and network were written (``Policy.marks``)."""
        where: dict[str, KeyPath] = {"moderators.room": ("moderators", "room"),
                                     "moderators.network": ("moderators", "network")}
        for t in tiers.values():
            where.update({r.id: ("tiers", t.name, "rules", r.id.split(".", 1)[1]) for r in t.rules})
        for group in ("abuse", "third_party"):
            rules = doc.value.get(group, {}).get("rules") if isinstance(doc.value.get(group), dict) else None
            where.update({f"{group}.{rid}": (group, "rules", rid) for rid in (rules or {})})
        where.update({k.id: ("compose", "combinations", k.id.split(".", 2)[2]) for k in compose.combinations})
        found = {name: doc.marks.get(path) if name.startswith("moderators.") else doc.key_marks.get(path)
                 for name, path in where.items()}
        model = next((("model", k) for k in ("concern", "high") if ("model", k) in doc.marks), ("model",))
        found["model.risk"] = doc.marks.get(model)
        chat = next((("model", "chat", k) for k in ("concern",) if ("model", "chat", k) in doc.marks), ("model", "chat"))
        found["model.chat"] = doc.marks.get(chat)
        return {name: mark for name, mark in found.items() if mark is not None}

    # -- sections -------------------------------------------------------------------------------

    def _context(self, c: Checker, raw: Any, tiers: dict, compose: Composition = Composition()) -> Context:
        p, d = ("context",), Context()
        m = c.mapping(p, raw, optional=("window", "max_people", "farewell_rules", "followups")) or {}
        window = c.duration(p + ("window",), m.get("window", d.window), allow_null=True)
        people = c.integer(p + ("max_people",), m.get("max_people", d.max_people), lo=1, hi=10_000_000)
        rules = c.string_list(p + ("farewell_rules",), m.get("farewell_rules", list(d.farewell_rules)))
        known = {r.id for t in tiers.values() for r in t.rules} | {k.id for k in compose.combinations}
        for i, rule in enumerate(rules):
            if known and rule not in known:
                hint = difflib.get_close_matches(rule, sorted(known), n=1)
                c.error(p + ("farewell_rules", i), f"no rule {rule!r} in this policy"
                        + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        followups = tuple(self._regexes(c, p + ("followups",), m.get("followups", list(d.followups))))
        return Context(window, people, tuple(rules), followups)

    def _compose(self, c: Checker, raw: Any, tiers: dict, raw_tiers: Any) -> Composition:
        """``compose:``: parts (``{name: {phrases, regexes}}``), pronouns that refer back (``refer``), guards
        and combinations; a part or combination set to null is removed (by an extending policy)."""
        if raw is None:
            return Composition()
        p = ("compose",)
        m = c.mapping(p, raw, optional=("window", "refer_window", "refer", "guard", "parts", "combinations",
                                        "common", "whole_message", "stands_alone", "outweighs", "loanwords")) or {}
        window = c.integer(p + ("window",), m.get("window", 12), lo=1, hi=60)
        refer_window = c.integer(p + ("refer_window",), m.get("refer_window", 12), lo=1, hi=60)
        parts: dict[str, Part] = {}
        empty: list[str] = []
        for name, part_raw in (c.mapping(p + ("parts",), m.get("parts", {}), any_keys=True) or {}).items():
            pp = p + ("parts", name)
            if part_raw is None:
                continue
            if not isinstance(name, str) or not _RULE_ID.match(name):
                c.error(pp, "part names are 1-48 characters of a-z, 0-9 and _", key=True)
                continue
            r = c.mapping(pp, part_raw, optional=("phrases", "regexes"))
            if r is None:
                continue
            errors_before = len(c.errors)
            phrases = self._phrases(c, pp + ("phrases",), r.get("phrases"))
            regexes = tuple(self._regexes(c, pp + ("regexes",), r.get("regexes")))
            if not phrases and not regexes and len(c.errors) == errors_before:
                empty.append(name)  # (unless ``loanwords`` gives it its words: then it is another language's only)
            parts[name] = Part(phrases, regexes)

        def part_name(path: KeyPath, name: Any, key: bool = False) -> str | None:
            if not isinstance(name, str) or name not in parts:
                c.error(path, f"no part named {name!r}{did_you_mean(name, parts)}", key=key)
                return None
            return name

        # another language's words for a part, in a line mostly in this one (``loanwords``: "tonight", "pills"): read
        # as the part's own phrases, except in a line identified as that other language (its own policy reads it)
        loanwords: dict[str, frozenset[str]] = {}
        for name, raw_words in (c.mapping(p + ("loanwords",), m.get("loanwords", {}), any_keys=True) or {}).items():
            lp = p + ("loanwords", name)
            if part_name(lp, name, key=True) is None:
                continue
            own = parts[name]
            added = tuple(w for w in self._phrases(c, lp, raw_words) if w not in own.phrases)
            parts[name] = Part(own.phrases + added, own.regexes)
            loanwords[name] = frozenset(added)
        for name in empty:
            if not parts[name].phrases:
                c.error(p + ("parts", name), "a part needs at least one phrase or regex")
        refer: dict[str, tuple[tuple[str, ...], str | None]] = {}
        for name, spec in (c.mapping(p + ("refer",), m.get("refer", {}), any_keys=True) or {}).items():
            rp = p + ("refer", name)
            if part_name(rp, name, key=True) is None:
                continue
            counts_as = None  # a list: the pronoun counts as the part of the nearest of them before it
            if isinstance(spec, dict):
                spec = c.mapping(rp, spec, required=("after", "as")) or {}
                counts_as = part_name(rp + ("as",), spec.get("as")) if "as" in spec else None
                rp, spec = rp + ("after",), spec.get("after")
            named = [part_name(rp + (i,), t) for i, t in enumerate(c.string_list(rp, spec))]
            if None not in named:
                refer[name] = (tuple(named), counts_as)
        guard: dict[str, str] = {}
        for name, action in (c.mapping(p + ("guard",), m.get("guard", {}), any_keys=True) or {}).items():
            gp = p + ("guard", name)
            if part_name(gp, name, key=True) is not None and c.choice(gp, action, ("drop", "setting") + TIERS) is not MISSING:
                guard[name] = action
        common = frozenset(n for i, n in enumerate(c.string_list(p + ("common",), m.get("common")))
                           if part_name(p + ("common", i), n) is not None)
        # guards that read the whole message (a past told, a story or a lyric framing what follows); every other
        # guard applies only within the sentence of the act or plan
        whole_message = frozenset(n for i, n in enumerate(c.string_list(p + ("whole_message",), m.get("whole_message")))
                                  if part_name(p + ("whole_message", i), n) is not None)
        # parts that name an act or plan on their own (a means, a dose, a place): only such a one is kept from the
        # guards of other sentences; a farewell or "end it tonight" is read with the sentences around it
        stands_alone = frozenset(n for i, n in enumerate(c.string_list(p + ("stands_alone",), m.get("stands_alone")))
                                 if part_name(p + ("stands_alone", i), n) is not None)
        # parts that outweigh a guard word inside them ("geh ins bett und wach nicht mehr auf": no evening routine)
        outweighs = frozenset(n for i, n in enumerate(c.string_list(p + ("outweighs",), m.get("outweighs")))
                              if part_name(p + ("outweighs", i), n) is not None)
        combinations = []
        raw_combinations = c.mapping(p + ("combinations",), m.get("combinations", {}), any_keys=True) or {}
        for cid, combo_raw in raw_combinations.items():
            cp = p + ("combinations", cid)
            if combo_raw is None:
                continue
            if not isinstance(cid, str) or not _RULE_ID.match(cid):
                c.error(cp, "combination names are 1-48 characters of a-z, 0-9 and _", key=True)
                continue
            k = c.mapping(cp, combo_raw, required=("parts", "tier"), optional=("window", "unless", "fallback"))
            if k is None or "parts" not in k or "tier" not in k:
                continue
            entries = c.string_list(cp + ("parts",), k["parts"])
            if not entries and isinstance(k["parts"], list):
                c.error(cp + ("parts",), "a combination needs at least one part")
            alternatives = []
            for i, entry in enumerate(entries):
                names = tuple(n.strip() for n in entry.split("|"))
                if all(part_name(cp + ("parts", i), n) is not None for n in names):
                    alternatives.append(names)
            unless = [part_name(cp + ("unless", i), n)
                      for i, n in enumerate(c.string_list(cp + ("unless",), k.get("unless")))]
            tier = k["tier"]
            if tier not in tiers and (tier not in TIERS or tier not in (raw_tiers or {})):  # (else: its own error)
                c.error(cp + ("tier",), f"no tier named {tier!r} in this policy{did_you_mean(tier, tiers or TIERS)}")
            own_window = c.integer(cp + ("window",), k.get("window", window if window is not MISSING else 12),
                                   lo=1, hi=60)
            fallback = c.boolean(cp + ("fallback",), k.get("fallback", False))
            if fallback is True and alternatives and all(set(g) & common for g in alternatives):
                # looked for wherever nothing else matched, it would be tried on nearly every message, and a batch
                # would pick lines by its common words (``Composer.trigger_parts``)
                c.error(cp + ("parts",), "a fallback combination needs one group of parts none of which is in "
                        "compose.common")
                continue
            if len(alternatives) == len(entries) and entries and None not in unless and tier in tiers \
                    and own_window is not MISSING:
                combinations.append(Combination(f"{tier}.compose.{cid}", tier, tuple(alternatives), own_window,
                                                tuple(unless), fallback is True))
        if MISSING in (window, refer_window) or not isinstance(raw_tiers, dict):
            return Composition()
        return Composition(window, parts, tuple(combinations), refer, refer_window, guard, common, whole_message,
                           stands_alone, outweighs, loanwords)

    def _digest(self, c: Checker, raw: Any) -> Digest:
        p = ("digest",)
        m = c.mapping(p, raw, optional=("enabled", "day", "hour")) or {}
        enabled = c.boolean(p + ("enabled",), m.get("enabled", True))
        day = c.choice(p + ("day",), m.get("day", "monday"), WEEKDAYS)
        hour = c.integer(p + ("hour",), m.get("hour", 9), lo=0, hi=23)
        return Digest(enabled is not False, WEEKDAYS.index(day) if day in WEEKDAYS else 0,
                      hour if isinstance(hour, int) else 9)

    def _model(self, c: Checker, raw: Any) -> ModelSettings:
        p = ("model",)
        m = c.mapping(p, raw, optional=("enabled", "file", "concern", "high", "chat", "imminence")) or {}
        enabled = c.boolean(p + ("enabled",), m.get("enabled", False))
        # a chat-lines model (risk-LANG-chat.bin) is a second score only (model.chat), never the main one, and an
        # imminence score (risk-LANG-imminent.bin) is read only as model.imminence
        files = sorted(f.name for f in MODELS.glob("risk-*.bin"))
        chat_files = [f for f in files if f.endswith("-chat.bin")]
        imminence_files = [f for f in files if f.endswith("-imminent.bin")]
        shipped = [f for f in files if f not in chat_files and f not in imminence_files]
        imminence = m.get("imminence")
        if imminence is not None:
            imminence = c.choice(p + ("imminence",), imminence, imminence_files)
        file = c.choice(p + ("file",), m.get("file", ModelSettings.file), shipped)
        thresholds = {}
        for key in ("concern", "high"):
            value = m.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not 0 < value < 1):
                c.error(p + (key,), f"expected a score between 0 and 1 (exclusive), or null, got {value!r}")
                value = None
            thresholds[key] = float(value) if value is not None else None
        if thresholds["concern"] is not None and thresholds["high"] is not None \
                and thresholds["high"] < thresholds["concern"]:
            c.error(p + ("high",), "must not be below model.concern")
        return ModelSettings(enabled is True, thresholds["concern"], thresholds["high"],
                             file if isinstance(file, str) else ModelSettings.file,
                             self._chat_model(c, m.get("chat"), chat_files),
                             imminence if isinstance(imminence, str) else None)

    def _chat_model(self, c: Checker, raw: Any, shipped: list[str]) -> ChatModelSettings:
        """``model.chat``: null or a mapping (``enabled``, default true once the mapping is there; ``file``;
        ``concern``; ``max_words``). A room policy switches it off with ``chat: {enabled: false}``."""
        if raw is None:
            return ChatModelSettings()
        p = ("model", "chat")
        d = ChatModelSettings()
        m = c.mapping(p, raw, optional=("enabled", "file", "concern", "max_words")) or {}
        enabled = c.boolean(p + ("enabled",), m.get("enabled", True))
        file = c.choice(p + ("file",), m.get("file", d.file), shipped)
        concern = m.get("concern")
        if concern is not None and (isinstance(concern, bool) or not isinstance(concern, (int, float))
                                    or not 0 < concern < 1):
            c.error(p + ("concern",), f"expected a score between 0 and 1 (exclusive), or null, got {concern!r}")
            concern = None
        max_words = c.integer(p + ("max_words",), m.get("max_words", d.max_words), lo=1, hi=10_000)
        return ChatModelSettings(enabled is True, file if isinstance(file, str) else d.file,
                                 float(concern) if concern is not None else None,
                                 max_words if isinstance(max_words, int) else d.max_words)

    def _limits(self, c: Checker, raw: Any) -> Limits:
        p = ("limits",)
        d = Limits()
        m = c.mapping(p, raw, optional=("window", "cases_per_room", "private_messages_per_room",
                                        "mention_all_every", "replies_per_person")) or {}
        return Limits(
            window=c.duration(p + ("window",), m.get("window", d.window)),
            cases_per_room=c.integer(p + ("cases_per_room",), m.get("cases_per_room", d.cases_per_room),
                                     lo=1, hi=100_000),
            private_messages_per_room=c.integer(p + ("private_messages_per_room",), m.get(
                "private_messages_per_room", d.private_messages_per_room), lo=0, hi=100_000),
            mention_all_every=c.duration(p + ("mention_all_every",), m.get("mention_all_every",
                                                                           d.mention_all_every)),
            replies_per_person=c.integer(p + ("replies_per_person",), m.get("replies_per_person",
                                                                            d.replies_per_person),
                                         lo=1, hi=100_000))

    def _guidelines(self, c: Checker, raw: Any) -> Guidelines | None:
        p = ("guidelines",)
        g = c.mapping(p, raw, optional=("text", "pin", "repost_every", "topic", "greet_on_join",
                                        "greet_grace"))
        if g is None:
            return None
        text = c.string(p + ("text",), g["text"], max_len=4000) if g.get("text") is not None else None
        topic = c.string(p + ("topic",), g["topic"], max_len=300) if g.get("topic") is not None else None
        pin = c.boolean(p + ("pin",), g.get("pin", True))
        greet = c.boolean(p + ("greet_on_join",), g.get("greet_on_join", False))
        if text is None and (pin is True or g.get("repost_every")):
            if "pin" in g or "repost_every" in g:
                c.error(p, "pinning or re-posting guidelines needs 'text'")
            pin = False
        return Guidelines(
            text=text, pin=pin, topic=topic, greet_on_join=greet,
            repost_every=c.duration(p + ("repost_every",), g.get("repost_every"), allow_null=True),
            greet_grace=c.duration(p + ("greet_grace",), g.get("greet_grace", "30m")))

    def _inherited_text(self, doc: Located, path: KeyPath, language: Any, key: str) -> str | None:
        """A text this policy inherited from a policy written in another language (a German room extending the
        English default), in ``language`` instead: ``key`` of policies/templates/LANG.yaml. None: keep the
        policy's own (text a room policy writes itself is never replaced)."""
        if not isinstance(language, str):
            return None
        file = doc.mark(path).file
        if file in self._stated_language:
            stated = self._stated_language[file]
        else:
            try:
                source = self._read(file).value
            except (ConfigError, ConfigErrors, OSError):
                return None
            stated = source.get("language") if isinstance(source, dict) else None
        own = self._templates(language)
        text = own.value.get(key) if own is not None and isinstance(own.value, dict) else None
        return text if stated is not None and stated != language and isinstance(text, str) else None

    def _guidelines_in(self, language: Any, doc: Located, guidelines: Guidelines | None) -> Guidelines | None:
        """The group room never reads the English default's guidelines in a room of another language."""
        if guidelines is None or guidelines.text is None:
            return guidelines
        text = self._inherited_text(doc, ("guidelines", "text"), language, "guidelines")
        return guidelines if text is None else dataclasses.replace(guidelines, text=text)

    def _guidance_in(self, language: Any, doc: Located, moderators: Moderators | None) -> Moderators | None:
        """The moderators read the default's guidance in their own language (``moderators.language``)."""
        if moderators is None or not isinstance(doc.value.get("moderators"), dict):
            return moderators
        heard_in = moderators.language or language
        if "guidance" in doc.value["moderators"]:
            text = self._inherited_text(doc, ("moderators", "guidance"), heard_in, "guidance")
        else:  # none written anywhere (a full policy such as default-de): the language file's, not the code's English
            own = self._templates(heard_in) if isinstance(heard_in, str) else None
            text = own.value.get("guidance") if own is not None and isinstance(own.value, dict) else None
            text = text if isinstance(text, str) else None
        return moderators if text is None else dataclasses.replace(moderators, guidance=text.strip())

    def _moderators(self, c: Checker, raw: Any) -> Moderators | None:
        p = ("moderators",)
        m = c.mapping(p, raw, optional=("room", "network", "power_level", "accounts", "guidance",
                                                   "allow_open_room", "allow_unencrypted_room", "language"))
        if m is None:
            return None
        room = c.matching(p + ("room",), m["room"], _ANY_ROOM, "a Matrix room id (!abc:example.org) or alias "
                          "(#name:example.org), or an IRC channel (#name)") if m.get("room") is not None else None
        network = c.string(p + ("network",), m["network"], max_len=64) if m.get("network") else None
        return Moderators(
            room=room, network=network,
            power_level=c.integer(p + ("power_level",), m.get("power_level", 50), lo=0, hi=1_000_000),
            accounts=tuple(c.string_list(p + ("accounts",), m.get("accounts"))),
            guidance=c.string(p + ("guidance",), m.get("guidance", "Do not counsel. If you believe "
                              "someone is in immediate danger, contact local emergency services."),
                              max_len=1000),
            allow_open_room=c.boolean(p + ("allow_open_room",), m.get("allow_open_room", False)) is True,
            allow_unencrypted_room=c.boolean(p + ("allow_unencrypted_room",),
                                             m.get("allow_unencrypted_room", False)) is True,
            language=c.string(p + ("language",), m["language"], max_len=16) if m.get("language") else None)

    def _phrases(self, c: Checker, path: KeyPath, raw: Any) -> tuple[str, ...]:
        folded = [_fold_phrase(phrase) for phrase in c.string_list(path, raw)]
        for i, norm in enumerate(folded):
            if not norm:
                c.error(path + (i,), "phrase is empty after normalisation")
        spellings = self._spelt
        if spellings:  # each phrase, and then the same phrase with its words in their other spellings
            done = self._spelt_done[1]
            for norm in folded:
                if norm not in done:
                    done[norm] = " ".join(spellings.get(w, w) for w in norm.split())
            folded = [v for norm in folded for v in (norm, done[norm])]
        return tuple(dict.fromkeys(norm for norm in folded if norm))

    def _tiers(self, c: Checker, raw: Any) -> dict[str, Tier]:
        p = ("tiers",)
        t = c.mapping(p, raw, optional=TIERS)
        tiers: dict[str, Tier] = {}
        if t is None:
            return tiers
        if not t:
            c.error(p, "a policy needs at least one tier")
        for name in TIERS:
            if name not in t:
                continue
            tp = p + (name,)
            tier = c.mapping(tp, t[name], required=("rules", "action"), optional=("exceptions",))
            if tier is None:
                continue
            rules = self._rules(c, tp + ("rules",), tier.get("rules"), name)
            exc = c.mapping(tp + ("exceptions",), tier.get("exceptions", {}),
                            optional=("idioms", "negations")) or {}
            action = self._action(c, tp + ("action",), tier.get("action"))
            if action is not None:
                tiers[name] = Tier(
                    name, rules,
                    idioms=self._phrases(c, tp + ("exceptions", "idioms"), exc.get("idioms")),
                    negations=self._phrases(c, tp + ("exceptions", "negations"), exc.get("negations")),
                    action=action)
        return tiers

    def _abuse(self, c: Checker, raw: Any, group: str = "abuse",
               default: str = "normal") -> tuple[tuple[Rule, ...], str]:
        """``abuse`` or ``third_party``: ``{rules: {id: {phrases, regexes}}, alert: PRIORITY}``: words about
        someone else (aimed at them, or telling that they are at risk)."""
        if raw is None:
            return (), default
        p = (group,)
        extra = ("reports", "helping", "people") if group == "third_party" else ()
        a = c.mapping(p, raw, required=("rules",), optional=("alert",) + extra) or {}
        rules = self._rules(c, p + ("rules",), a.get("rules"), group)
        alert = c.choice(p + ("alert",), a.get("alert", default), ALERT_PRIORITIES[1:])
        return rules, alert if alert is not MISSING else default

    def _whose_words(self, c: Checker, raw: Any) -> tuple[tuple[Rule, ...], tuple[str, ...], tuple[str, ...]]:
        """``third_party``'s ``reports`` (rules), ``helping`` and ``people`` (phrases): what tells that risk
        words in a message are someone else's (see ``gateway/detection/decision.py``)."""
        if not isinstance(raw, dict):
            return (), (), ()
        p = ("third_party",)
        reports = self._rules(c, p + ("reports",), raw.get("reports"), "third_party") if raw.get("reports") else ()
        return (reports, self._phrases(c, p + ("helping",), raw.get("helping")),
                self._phrases(c, p + ("people",), raw.get("people")))

    def _rules(self, c: Checker, path: KeyPath, raw: Any, group: str) -> tuple[Rule, ...]:
        """``{id: {phrases, regexes}}``; a rule set to null is removed (by an extending policy)."""
        rules = []
        for rid, rule_raw in (c.mapping(path, raw, any_keys=True) or {}).items():
            rp = path + (rid,)
            if rule_raw is None:
                continue
            if not isinstance(rid, str) or not _RULE_ID.match(rid):
                c.error(rp, "rule ids are 1-48 characters of a-z, 0-9 and _", key=True)
                continue
            r = c.mapping(rp, rule_raw, optional=("phrases", "regexes", "message"))
            if r is None:
                continue
            message = c.string(rp + ("message",), r["message"], max_len=64) if r.get("message") else None
            errors_before = len(c.errors)
            phrases = self._phrases(c, rp + ("phrases",), r.get("phrases"))
            regexes = tuple(self._regexes(c, rp + ("regexes",), r.get("regexes")))
            if not phrases and not regexes and len(c.errors) == errors_before:  # (else: already said why)
                c.error(rp, "a rule needs at least one phrase or regex")
            rules.append(Rule(f"{group}.{rid}", group, phrases, regexes,
                              message if isinstance(message, str) else None))
        return tuple(rules)

    def _regexes(self, c: Checker, path: KeyPath, raw: Any):
        spellings, done = self._spelt, self._spelt_done[0]
        for i, pattern in enumerate(c.string_list(path, raw)):
            if spellings:
                if pattern not in done:
                    done[pattern] = _respelt(pattern, spellings)
                pattern = done[pattern]
            if len(pattern) > _MAX_REGEX:
                c.error(path + (i,), f"regex longer than {_MAX_REGEX} characters")
                continue
            problem = _regex_problem(pattern)
            if problem:
                c.error(path + (i,), problem)
                continue
            yield pattern

    def _action(self, c: Checker, p: KeyPath, raw: Any) -> TierAction | None:
        a = c.mapping(p, raw, required=("remove",),
                      optional=("message", "alert", "cooldown", "if_message_fails", "redact", "ban_for"))
        if a is None:
            return None
        message = a.get("message")
        if message is not None:
            message = c.string(p + ("message",), message, max_len=64)
        values = dict(
            message=message,
            remove=c.boolean(p + ("remove",), a.get("remove")),
            alert=c.choice(p + ("alert",), a.get("alert", "normal"), ALERT_PRIORITIES),
            cooldown=c.duration(p + ("cooldown",), a.get("cooldown", "1h")),
            if_message_fails=c.choice(p + ("if_message_fails",), a.get("if_message_fails", "keep"),
                                      ("keep", "remove")),
            redact=c.boolean(p + ("redact",), a.get("redact", False)),
            ban_for=c.duration(p + ("ban_for",), a.get("ban_for"), allow_null=True),
        )
        if MISSING in values.values():
            return None
        if values["remove"] and message is None:
            c.error(p + ("message",), "a tier that removes must send a private message first")
        return TierAction(**values)

    def _languages(self) -> list[str]:
        return sorted(p.stem for p in (self.shipped_dir / "templates").glob("*.yaml"))

    def _statuses(self, language: Any) -> dict[str, str]:
        """``statuses:`` of the moderators' language file: how an alert says what happened to a case."""
        shipped = self._templates(language) if isinstance(language, str) else None
        words = shipped.value.get("statuses") if shipped is not None and isinstance(shipped.value, dict) else None
        return {str(k): str(v) for k, v in words.items()} if isinstance(words, dict) else {}

    def _moderator_text(self, c: Checker, language: Any) -> dict[str, str]:
        """``moderator_text:`` of the moderators' language file (gateway/policy/moderator_text.py), checked against English's:
        every key, each with the same ``{fields}``, so no moderator meets a missing or broken line."""
        shipped = self._templates(language) if isinstance(language, str) else None
        english = self._templates("en")
        if shipped is None or english is None:
            return {}  # an unknown language is reported where it is named
        reference = (english.value or {}).get(SECTION) if isinstance(english.value, dict) else None
        if not isinstance(reference, dict) or shipped is english:
            reference = None  # English is the reference: it is checked as a mapping of strings only
        sc = Checker(shipped)
        if reference is not None and SECTION not in (shipped.value or {}):
            c.errors.append(shipped.error((), f"no {SECTION}: section (the moderators' words; en.yaml has every key)"))
            return {}
        table = sc.mapping((SECTION,), (shipped.value or {}).get(SECTION), any_keys=True) or {}
        for key, text in (reference or {}).items():
            if key not in table:
                sc.error((SECTION,), f"missing {key!r} (English: {text!r})")
                continue
            if sc.string((SECTION, key), table[key], max_len=1000) is MISSING:
                continue
            try:
                fields = _fields(table[key])
            except ValueError as exc:
                sc.errors.append(shipped.error((SECTION, key), f"bad text: {exc} (write {{{{ and }}}} for braces)"))
                continue
            wanted = _fields(text)
            if fields != wanted:
                sc.errors.append(shipped.error((SECTION, key), f"placeholders {sorted(fields)}, English has "
                                                               f"{sorted(wanted)}"))
        for key in table:
            if reference is not None and key not in reference:
                sc.error((SECTION, key), f"unknown key {key!r}{did_you_mean(key, reference)}", key=True)
        c.errors.extend(sc.errors)
        return {str(k): str(v) for k, v in table.items()}

    def _moderator_templates(self, c: Checker, doc: Located, language: Any, moderators: Moderators | None,
                             templates: dict[str, str]) -> dict[str, str]:
        """What the moderators read, from ``moderators.language``'s file when it is not the room's language:
        the policy's own overrides (in ``templates``, already checked) still win."""
        wanted = moderators.language if moderators is not None else None
        if not isinstance(wanted, str) or wanted == language:
            return {}
        shipped = self._templates(wanted)
        if shipped is None:
            c.error(("moderators", "language"), f"no templates for language {wanted!r}; shipped: "
                                                f"{', '.join(self._languages())}{did_you_mean(wanted, self._languages())}")
            return {}
        entries = (shipped.value or {}).get("templates") or {}
        own = doc.value.get("templates") if isinstance(doc.value, dict) else None
        own = own if isinstance(own, dict) else {}
        names = MODERATOR_TEMPLATES | ASKED_TEMPLATES
        return {k: (own[k] if k in own else entries[k]) for k in names if k in own or k in entries}

    def _template_table(self, c: Checker, doc: Located, language: Any, own: Any,
                        tiers: dict[str, Tier]) -> dict[str, str]:
        table: dict[str, str] = {}
        located: dict[str, tuple[Located, KeyPath]] = {}
        if isinstance(language, str):
            shipped = self._templates(language)
            if shipped is None:
                c.error(("language",), f"no templates for language {language!r} in "
                                       f"{self.shipped_dir / 'templates'} (shipped: {', '.join(self._languages())})"
                                       f"{did_you_mean(language, self._languages())}")
            else:
                sc = Checker(shipped)
                body = sc.mapping((), shipped.value, required=("templates",), optional=("language", "guidelines", "guidance", "statuses", SECTION))
                entries = sc.mapping(("templates",), (body or {}).get("templates"), any_keys=True) or {}
                c.errors.extend(sc.errors)
                for k, v in entries.items():
                    table[k], located[k] = v, (shipped, ("templates", k))
        shipped_names = set(table)
        referenced = {t.action.message for t in tiers.values()} | {r.message for t in tiers.values() for r in t.rules}
        own_names = set()
        for k, v in (c.mapping(("templates",), own, any_keys=True) or {}).items():
            table[k], located[k] = v, (doc, ("templates", k))
            own_names.add(k)
            base = k.rsplit("_", 1)[0] if k.endswith(VARIANT_SUFFIXES) else None
            if shipped_names and k not in shipped_names and k not in referenced \
                    and not (base and (base in shipped_names or base in referenced)):
                # a misspelt override would otherwise be a new template nobody uses, silently
                c.error(("templates", k), f"no template named {k!r} to override, and no tier or rule uses it"
                                          f"{did_you_mean(k, shipped_names)}", key=True)
        for k in own_names:  # a policy that rewrites NAME but not NAME_irc gets its own NAME on IRC too
            for suffix in VARIANT_SUFFIXES:
                if k + suffix not in own_names and located.get(k + suffix, (doc,))[0] is not doc:
                    table.pop(k + suffix, None)
                    located.pop(k + suffix, None)
        for k, v in table.items():
            src, path = located[k]
            checker = c if src is doc else Checker(src)
            if checker.string(path, v, max_len=4000) is MISSING:
                c.errors.extend(checker.errors if checker is not c else [])
                continue
            try:
                used = _fields(v)
            except ValueError as exc:
                c.errors.append(src.error(path, f"bad template: {exc} (write {{{{ and }}}} for braces)"))
                continue
            unknown = sorted(u for u in used if u not in TEMPLATE_FIELDS)
            if unknown:
                c.errors.append(src.error(path, f"unknown placeholder {{{unknown[0]}}}; known: "
                                                f"{', '.join(sorted(TEMPLATE_FIELDS))}"))
        for name in REQUIRED_TEMPLATES:
            if name not in table:
                c.error(("templates",), f"missing template '{name}'")
        for tier in tiers.values():
            m = tier.action.message
            if m is not None and m not in table:
                c.error(("tiers", tier.name, "action", "message"),
                        f"no template named {m!r}{did_you_mean(m, table)}")
            for rule in tier.rules:
                if rule.message is not None and rule.message not in table:
                    c.error(("tiers", tier.name, "rules", rule.id.split(".", 1)[1], "message"),
                            f"no template named {rule.message!r}{did_you_mean(rule.message, table)}")
        return table
