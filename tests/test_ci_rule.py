"""The CI rule itself: with CI set, a skipped test fails the run; without it, a skip is a skip."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).resolve().parent / "conftest.py").read_text()


def _run(pytester, monkeypatch, ci: str | None):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_server="""
        import pytest

        def test_needs_a_server():
            pytest.skip("no homeserver on this machine")
    """)
    # in this process: the rule is a hook, not a process (the same conftest, run as pytest runs it)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")


def test_skip_is_a_failure_under_ci(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skipped under CI*no homeserver on this machine*"])


def test_skip_is_a_skip_locally(pytester, monkeypatch):
    _run(pytester, monkeypatch, None).assert_outcomes(skipped=1)
