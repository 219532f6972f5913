"""Every rule's own VALID and INVALID cases (``@rule(valid=..., invalid=...)``), as Fixit runs
its rules' cases: one test per case, ``IL002-valid-1``, ``IL002-invalid-3``."""

from __future__ import annotations

import sys
import textwrap

import pytest

from initlint import engine, rules

RULES = rules.all_rules()
CASES = [(r, kind, i, case) for r in RULES
         for kind, cases in (("valid", r.valid), ("invalid", r.invalid))
         for i, case in enumerate(cases, 1)]


def _options(rule: rules.Rule, case: rules.Case, fix=None, named=True) -> engine.Options:
    """The rule enabled with the codes the case asks for; named by the user (``--select``),
    as ``conftest.lint`` does, or enabled as a default without being named."""
    codes = [rule.code, *case.also]
    return engine.Options(enabled_codes=codes, explicit_codes=codes if named else [], fix=fix)


def _findings(rule: rules.Rule, case: rules.Case, named=True):
    opts = _options(rule, case, named=named)
    found = engine.lint_source(case.source, opts.enabled(), opts.settings, opts.explicit())
    return [(f.line, f.column, f.code, f.severity, f.message)
            for f in found if f.code == rule.code]


@pytest.mark.parametrize("rule, kind, i, case", CASES,
                         ids=[f"{r.code}-{kind}-{i}" for r, kind, i, _ in CASES])
def test_rule_case(rule, kind, i, case):
    found = _findings(rule, case)
    where = "\n" + textwrap.indent(case.source, "    | ")
    if rule.default_enabled:
        # Naming a rule (``--select ALL``) never changes or hides what the defaults report.
        assert _findings(rule, case, named=False) == found, where
    if kind == "valid":
        assert found == [], f"{rule.code} reported a valid case:{where}\n{found}"
        return
    assert found, f"{rule.code} did not report an invalid case:{where}"
    assert all(sev in rule.severities for _, _, _, sev, _ in found)
    if case.line is not None:
        assert [line for line, *_ in found] == [case.line], where
    if case.severity is not None:
        assert {sev for _, _, _, sev, _ in found} == {case.severity}, where
    if case.fixed is not None:
        opts = _options(rule, case)
        fixes = [f.fix for f in engine.lint_source(case.source, opts.enabled(), opts.settings,
                                                   opts.explicit()) if f.code == rule.code]
        assert all(f is not None and f.applicability == rule.fix for f in fixes)
        out = engine.lint_and_fix(case.source, _options(rule, case, fix="unsafe"))
        assert out.problems == []
        assert out.text == case.fixed, where
        assert [f for f in out.findings if f.code == rule.code] == []


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_rule_has_its_cases(rule):
    """At least three of each; a rule with a fix shows it on at least one case."""
    assert len(rule.valid) >= 3 and len(rule.invalid) >= 3, rule.code
    if rule.fix is not None:
        assert any(c.fixed is not None for c in rule.invalid), rule.code


def test_case_sources_are_dedented_and_fixes_are_only_for_findings():
    case = rules.Case("""
        import torch.nn as nn
        net = nn.Linear(2, 2)
        """, fixed="""
        x = 1
        """, line=2)
    assert case.source == "import torch.nn as nn\nnet = nn.Linear(2, 2)\n"
    assert case.fixed == "x = 1\n"
    with pytest.raises(ValueError):
        rules.rule("IL998", "probe", "warning", summary="s", valid=[case])


PROBE = '''
from initlint.model import Diagnostic
from initlint.rules import rule


@rule("IL990", "probe-rule", "info", default=False, summary="A rule in a file of its own",
      valid=["x = 1\\n"], invalid=["y = 2\\n"])
def check(layer, ctx):
    return iter(())
'''


def test_a_rule_module_is_found_without_being_listed(tmp_path, monkeypatch):
    """Registration is automatic: every module of the rules package is imported, so a new
    rule is one file with a ``@rule`` in it."""
    (tmp_path / "il990_probe.py").write_text(PROBE, encoding="utf-8")
    monkeypatch.setattr(rules, "__path__", [*rules.__path__, str(tmp_path)])
    monkeypatch.setattr(rules, "REGISTRY", dict(rules.REGISTRY))
    monkeypatch.setattr(rules, "_loaded", False)
    try:
        found = rules.get("IL990")
        assert found is not None and found.name == "probe-rule"
        assert found.valid == (rules.Case("x = 1\n"),)
        assert found.invalid == (rules.Case("y = 2\n"),)
        assert "IL990" in [r.code for r in rules.all_rules()]
    finally:
        sys.modules.pop("initlint.rules.il990_probe", None)
