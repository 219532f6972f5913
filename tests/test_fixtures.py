"""Every fixture's findings are exactly its ``# expect:`` markers (all rules selected)."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, expected_markers
from initlint import engine

FILES = sorted(p for d in ("keras", "torch", "scratch", "noqa") for p in (FIXTURES / d).glob("*.py"))
IDIOMS = sorted((FIXTURES / "torch" / "idioms").glob("*.py"))


def _all():
    """Every rule, selected explicitly (as ``--select ALL``)."""
    opts = engine.Options(select=["ALL"])
    return opts.enabled(), None, opts.explicit()


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_fixture_findings_match_markers(path):
    src = path.read_text(encoding="utf-8")
    findings = engine.lint_source(src, *_all())
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
    assert engine.lint_text(src, *_all()) == []


@pytest.mark.parametrize("path", IDIOMS, ids=[p.name for p in IDIOMS])
def test_pytorch_idiom_is_silent_under_all_rules(path):
    """Deliberate zero and small-std inits of real PyTorch code: one fixture per idiom."""
    src = path.read_text(encoding="utf-8")
    opts = engine.Options(select=["ALL"])
    assert engine.lint_text(src, opts.enabled(), None, opts.explicit()) == []
    default = engine.Options()
    assert engine.lint_text(src, default.enabled(), None, default.explicit()) == []


def test_idiom_fixtures_cover_the_known_idioms():
    names = {p.stem for p in IDIOMS}
    assert names >= {"zero_module", "lora", "adaln_zero", "residual_zero", "output_heads",
                     "norm_ones", "biases", "small_std", "embeddings", "states_labels",
                     "equalized_lr", "scaled_draws", "lora_rank_scaled", "residual_zero_loop",
                     "rl_heads", "depth_scaled_std", "checkpoint_placeholder", "constants",
                     "gates", "message_passing"}
