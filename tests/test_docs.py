"""The documentation holds together (issue 28): the README is the landing page and still opens with the two
commands (the demo, and the test command `.ci/run` runs); every page under docs/ is linked from it, starts
with its title, a sentence and a link back, and every relative link in them (and in DATA.md and
tests/data/README.md) reaches a file (and a heading) that exists; every docs page the program or the
systemd unit names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DEMO = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[demo]' && .venv/bin/gateway demo"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def without_code(text: str) -> str:
    """The text outside fenced blocks and inline code spans (a link shown as code is not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    """GitHub's ids for the headings of a page: lower case, punctuation dropped, spaces as hyphens."""
    heads = re.findall(r"^#{1,6} (.+)$", without_code(path.read_text(encoding="utf-8")), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def links(path: Path) -> list[str]:
    return LINK.findall(without_code(path.read_text(encoding="utf-8")))


def test_the_readme_opens_with_the_demo_and_the_test_command_ci_runs():
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip()]
    test_command = ci[-1]
    assert test_command == ("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' "
                            "&& .venv/bin/python -m pytest")
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    assert first_block and "\n## " not in text[:first_block.start()], "the README must open with the commands"
    commands = [line for line in first_block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert commands == [DEMO, test_command]


def test_every_docs_page_is_linked_from_the_readme_and_links_back():
    assert len(PAGES) >= 10
    targets = {(README.parent / link.split("#")[0]).resolve() for link in links(README)}
    assert [p.name for p in PAGES if p.resolve() not in targets] == []
    for page in PAGES:
        title, blank, sentence, *_ = page.read_text(encoding="utf-8").splitlines()
        assert title.startswith("# ") and blank == "" and sentence.endswith("."), page.name
        assert "../README.md" in links(page), page.name


def test_every_relative_link_reaches_a_file_and_heading_that_exist():
    checked, broken = 0, []
    for page in [README, *PAGES, ROOT / "DATA.md", ROOT / "tests" / "data" / "README.md"]:
        for link in links(page):
            if re.match(r"[a-z]+:", link):
                continue  # https:, mailto:
            file, _, anchor = link.partition("#")
            target = (page.parent / file).resolve() if file else page
            checked += 1
            if not target.exists():
                broken.append(f"{page.name}: {link} (no file)")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                broken.append(f"{page.name}: {link} (no heading)")
    assert checked >= 40 and broken == []


def test_every_docs_page_the_program_names_exists():
    """The README's sections moved to docs/: what `gateway init` prints and writes, and the systemd unit,
    point at the page that holds what they name."""
    sources = [*sorted((ROOT / "gateway").rglob("*.py")), *sorted((ROOT / "contrib").iterdir())]
    named = {m for f in sources for m in re.findall(r"docs/[a-z-]+\.md", f.read_text(encoding="utf-8"))}
    assert {"docs/production.md", "docs/policy-format.md"} <= named
    assert [n for n in sorted(named) if not (ROOT / n).is_file()] == []
    assert not [f.name for f in sources if re.search(r"README'?s? \(?\"|README, \"", f.read_text(encoding="utf-8"))]


def test_the_readmes_map_has_one_line_per_package_of_gateway_as_the_tree_has_them():
    """Issue 28: the map is one line per package (and top-level module) of gateway/ and adapters/, and matches
    the tree."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## The code, one line per package\n"):text.index("\n## How the core is shaped\n")]
    rows = re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)
    assert len(rows) == len(set(rows))
    gateway = ROOT / "gateway"
    tree = {"gateway/"} | {f"gateway/{p.name}/" for p in gateway.iterdir() if (p / "__init__.py").is_file()} \
        | {f"gateway/{p.name}" for p in gateway.glob("*.py") if p.name != "__init__.py"}
    assert sorted(r for r in rows if r.startswith("gateway/")) == sorted(tree)
    adapters = {"adapters/"} | {f"adapters/{p.name}/" for p in (ROOT / "adapters").iterdir() if (p / "__init__.py").is_file()}
    assert sorted(r for r in rows if r.startswith("adapters/")) == sorted(adapters)
    assert {"adapters/matrix/", "adapters/irc/", "policies/", "tests/", "bench/", "docs/"} <= set(rows)
    assert all((ROOT / r).is_dir() for r in rows if r.endswith("/"))
