"""What ``--explain`` and ``--list-rules`` say about a rule is what the rule does: every
documented example is linted here, and its finding, severity, default and fix must match."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, run_cli
from initlint import engine, rules

RULES = [r for r in rules.all_rules()]


def _options(rule: rules.Rule, fix=None) -> engine.Options:
    """The rule as a user meets it: the defaults, plus the rule when it is off by default."""
    return engine.Options(extend_select=[] if rule.default_enabled else [rule.code], fix=fix)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_the_documented_example_gets_the_documented_finding(rule):
    assert rule.example and rule.fixed and rule.finding, f"{rule.code} documents no example"
    opts = _options(rule)
    found = engine.lint_source(rule.example, opts.enabled(), None, opts.explicit())
    assert [f.code for f in found] == [rule.code]
    (f,) = found
    assert f.message.splitlines()[0] == rule.finding
    assert f.severity in rule.severities
    # on by default means the defaults report it; off means they do not
    default = engine.Options()
    reported = engine.lint_source(rule.example, default.enabled(), None, default.explicit())
    assert bool(reported) == rule.default_enabled


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_the_documented_fix_is_what_the_fix_writes(rule):
    if rule.fix is None:
        # No fix: "Use instead" is written the way the rule recommends, and is clean.
        opts = _options(rule)
        assert engine.lint_source(rule.fixed, opts.enabled(), None, opts.explicit()) == []
        (f,) = engine.lint_source(rule.example, opts.enabled(), None, opts.explicit())
        assert f.fix is None
        return
    opts = _options(rule, fix=rule.fix)
    (f,) = engine.lint_source(rule.example, opts.enabled(), None, opts.explicit())
    assert f.fix is not None and f.fix.applicability == rule.fix
    out = engine.lint_and_fix(rule.example, opts)
    assert out.text == rule.fixed
    assert out.findings == [] and out.problems == []
    if rule.fix == "unsafe":  # --fix alone leaves an unsafe fix alone
        assert engine.lint_and_fix(rule.example, _options(rule, fix="safe")).text == rule.example


def test_explain_shows_the_example_the_finding_and_the_fix():
    for rule in RULES:
        out = run_cli("--explain", rule.code).stdout.decode()
        assert rule.example in out and rule.fixed in out
        assert f"{rule.code} {rule.finding}" in out
        header = out.splitlines()[2]
        assert header.startswith("Severity: ")
        for level in rule.severities:
            assert level in header
        assert ("on by default" in header) == rule.default_enabled
        assert {"safe": "(safe)", "unsafe": "(unsafe)", None: "No fix."}[rule.fix] in header


def test_list_rules_agrees_with_the_rules():
    out = run_cli("--list-rules").stdout.decode()
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.strip()}
    for rule in RULES:
        code, name, default, severity, fix = rows[rule.code][:5]
        assert name == rule.name
        assert default == ("on" if rule.default_enabled else "off")
        assert severity.split("-") == [rule.severities[0], rule.severities[-1]][
            :1 if len(rule.severities) == 1 else 2]
        assert fix == (rule.fix or "-")


def test_readme_rules_table_agrees_with_the_rules():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| (IL\d{3}) \| ([\w-]+) \| (on|off) \| ([\w /]+) \| (\w+) \|", line)
        if m:
            rows[m.group(1)] = m.groups()[1:]
    assert set(rows) == {r.code for r in RULES}
    for rule in RULES:
        name, default, severity, fix = rows[rule.code]
        assert name == rule.name
        assert default == ("on" if rule.default_enabled else "off")
        assert [s.strip() for s in severity.split("/")] == list(rule.severities)
        assert fix == (rule.fix or "none")
