"""The layout's import rules (issue 28), read from the code's own imports: each package imports only what its
``__init__`` says it may, so the folders keep showing the architecture. Every import counts, also one inside
a function or under ``TYPE_CHECKING``: a rule that a lazy import may break is no rule."""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# gateway's own packages and top-level modules, lowest first; a package may import only those named for it
PACKAGES = ["text", "yamlfiles", "files", "failpoints", "policy", "detection", "core", "store", "ops", "config",
            "runner", "service", "demo", "cli"]
MAY_IMPORT = {
    "text": set(),
    "yamlfiles": set(),
    "files": set(),
    "failpoints": set(),
    "policy": {"yamlfiles", "text"},
    "detection": {"text", "policy"},
    "core": {"text", "policy", "detection"},
    "store": {"core.actions", "files"},
    # the core's vocabulary (events, actions, a case's steps), the moderators' words, the store's rows
    "ops": {"core.events", "core.actions", "core.cases", "policy.moderator_text", "store"},
}
# I/O the sans-I/O core never touches (asyncio itself is not I/O; its networking is)
NO_IO = {"asyncio.streams", "aiohttp", "nio", "irc", "sqlite3", "socket", "ssl", "http", "urllib", "requests",
         "subprocess", "selectors"}
# what an adapter may take from the gateway: the core's vocabulary, the quote reading both sides share, the
# owner-only directory helper and the crash points
ADAPTERS_MAY_IMPORT = {"gateway.core.events", "gateway.core.actions", "gateway.core.quotes", "gateway.files",
                       "gateway.failpoints"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.lru_cache(maxsize=None)  # each file is read once for all the rules
def imports_of(path: Path, module: str | None = None) -> tuple[tuple[int, str], ...]:
    """Every module ``path`` (module ``module``, by default its place in the tree) imports, absolute, with its
    line: relative imports resolved, ``from X import name`` counted as ``X.name`` when that is a module of
    this tree (``from . import actions``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = (module or module_name(path)).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (ROOT / (sub.replace(".", "/") + ".py")).exists() or (ROOT / sub.replace(".", "/")).is_dir()
                found.append((node.lineno, sub if is_module else base))
    return tuple(found)


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def owner(module: str) -> str | None:
    """The gateway package (or top-level module) ``module`` belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == "gateway" and len(parts) > 1 else None


def allowed(target: str, rules: set[str]) -> bool:
    rest = target.split(".", 1)[1]
    return any(rest == r or rest.startswith(r + ".") for r in rules)


def test_every_package_and_module_of_the_gateway_is_placed_in_the_rules():
    found = {p.name.removesuffix(".py") for p in (ROOT / "gateway").iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()}
    assert found == set(PACKAGES)
    for name in found - {"files", "failpoints", "runner", "service", "cli"}:
        doc = ast.get_docstring(ast.parse((ROOT / "gateway" / name / "__init__.py").read_text()))
        assert doc and ("May import" in doc or name in {"demo"}), f"gateway/{name}/__init__.py says what it may import"


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_what_it_may(package):
    paths = sources(f"gateway/{package}") if (ROOT / "gateway" / package).is_dir() else [ROOT / f"gateway/{package}.py"]
    assert paths
    wrong = [f"{p.relative_to(ROOT)}:{line}: {target}"
             for p in paths for line, target in imports_of(p)
             if owner(target) and owner(target) != package and not allowed(target, MAY_IMPORT[package])]
    assert not wrong, "\n".join(wrong)


def test_nothing_below_the_adapters_imports_them_or_the_assembly_above():
    """Only the runner, the service, the CLI and the demo know adapters exist; nothing imports the CLI."""
    wrong = [f"{p.relative_to(ROOT)}:{line}: {target}"
             for package in MAY_IMPORT for p in (sources(f"gateway/{package}") if (ROOT / "gateway" / package).is_dir()
                                                 else [ROOT / f"gateway/{package}.py"])
             for line, target in imports_of(p) if target.split(".")[0] == "adapters"]
    wrong += [f"{p.relative_to(ROOT)}:{line}: {target}" for p in sources("gateway") + sources("adapters")
              for line, target in imports_of(p) if target == "gateway.cli" and p.name != "cli.py"]
    assert not wrong, "\n".join(wrong)


def test_the_core_does_no_io():
    wrong = [f"{p.relative_to(ROOT)}:{line}: {target}" for p in sources("gateway/core")
             for line, target in imports_of(p)
             if any(target == io or target.startswith(io + ".") for io in NO_IO)]
    assert not wrong, "\n".join(wrong)


def test_adapters_import_only_the_contract_and_the_cores_vocabulary():
    paths = sources("adapters")
    assert len(paths) >= 3
    wrong = [f"{p.relative_to(ROOT)}:{line}: {target}" for p in paths for line, target in imports_of(p)
             if target.split(".")[0] == "gateway" and target not in ADAPTERS_MAY_IMPORT]
    assert not wrong, "\n".join(wrong)


def test_the_rules_see_imports_that_break_them(tmp_path):
    """The reader finds a lazy relative import of a module name (the kind that hides a rule break), and the
    rules refuse it."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..store import eventlog\n    from .events import Message\n    import sqlite3\n",
                     encoding="utf-8")
    found = [target for _, target in imports_of(probe, "gateway.core.probe")]
    assert found == ["gateway.store.eventlog", "gateway.core.events", "sqlite3"]
    assert not allowed("gateway.store.eventlog", MAY_IMPORT["core"]) and allowed("gateway.policy.model", MAY_IMPORT["core"])


def test_the_gateway_imports_the_same_without_any_adapter_package_loaded():
    """The core imported alone pulls in no network library (checked in the interpreter that runs the tests)."""
    import importlib
    import subprocess

    code = ("import sys, gateway.core.engine, gateway.policy.loader, gateway.detection; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'nio', 'irc', 'aiohttp', 'sqlite3', 'adapters'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert importlib.util.find_spec("gateway.core.engine") is not None


def test_every_package_of_the_tree_is_installed():
    """A package missing from pyproject's list is missing from a wheel (the editable install hides it)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {module_name(p) for top in ("gateway", "adapters", "policies") for p in (ROOT / top).rglob("__init__.py")}
    assert listed == tree
