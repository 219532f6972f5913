from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def expected_markers(path: Path) -> Dict[int, Set[str]]:
    """``# expect: IL001, IL002`` markers: line -> codes."""
    out: Dict[int, Set[str]] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            out[i] = {c.strip() for c in m.group(1).split(",") if c.strip()}
    return out


def run_cli(*args: str, input: bytes = None, cwd=None, env=None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("FORCE_COLOR", None)
    e["NO_COLOR"] = "1"
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "initlint", *args], input=input,
                          capture_output=True, cwd=cwd, env=e, timeout=120)


def require(module: str):
    """Import a real framework for the tests that check initlint against it.

    CI sets INITLINT_REQUIRE_FRAMEWORKS=1 so that a missing framework fails instead of skipping.
    """
    if os.environ.get("INITLINT_REQUIRE_FRAMEWORKS"):
        return __import__(module)
    return pytest.importorskip(module)


def lint(src: str, select=("ALL",)) -> List[Tuple[int, str, str]]:
    from initlint import engine

    opts = engine.Options(select=list(select))
    findings = engine.lint_text(src, opts.enabled(), None, opts.explicit())
    return [(f.line, f.code, f.message) for f in findings]
