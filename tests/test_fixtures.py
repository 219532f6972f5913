"""Every fixture's findings are exactly its ``# expect:`` markers (all rules selected)."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, expected_markers
from initlint import engine

FILES = sorted(p for p in (FIXTURES / "keras").glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_fixture_findings_match_markers(path):
    src = path.read_text(encoding="utf-8")
    findings = engine.lint_text(src, engine.Options(select=["ALL"]).enabled())
    got = {}
    for f in findings:
        got.setdefault(f.line, set()).add(f.code)
    assert got == expected_markers(path)


def test_fixtures_cover_every_rule():
    from initlint import rules

    seen = set()
    for p in FILES:
        for codes in expected_markers(p).values():
            seen |= codes
    assert {r.code for r in rules.all_rules()} <= seen


def test_idiom_fixture_is_silent_under_all_rules():
    src = (FIXTURES / "keras" / "deliberate_idioms.py").read_text(encoding="utf-8")
    assert engine.lint_text(src, engine.Options(select=["ALL"]).enabled()) == []
