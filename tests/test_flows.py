"""Flow fixtures: the value that decides each finding reaches the layer through ordinary Python.

Every ``*.py`` under ``fixtures/flows`` (recursively) is a small, realistic model file whose
activation, initializer, sizes or init call travel through names, tuples, dicts, ``*args`` /
``**kwargs``, helpers, lambdas, ``functools.partial``, classes, loops, script-level calls or
other modules of a package. Its findings, with every rule selected, must be exactly its
``# expect: CODE`` markers (the convention of ``test_fixtures.py``). The markers were derived
from an "inlined twin" of each file (every value written directly at the layer), linted by
today's engine.

A line may also carry ``# expect-default: CODE``: a file with at least one such marker is also
linted with the default selection, whose findings must be exactly those markers. It is used
for loops that build deep stacks, where only the default selection (which judges a run by
its depth and drift) shows whether the loop was unrolled into the right number of layers.

Files in a package directory (``fixtures/flows/pkg_*/``) are judged with their package: the
CLI is run on the package directory (``--format json``), so that a finding whose cause is in
another module of the package can be seen once cross-module resolution exists. An
``__init__.py`` is a case only when it has markers.

Cases that today's engine gets wrong are listed in ``PENDING`` (and ``PENDING_DEFAULT`` for the
default-selection check) and marked ``xfail(strict=True)``: they need the shared static
evaluator (issue 12). A pending case that starts passing fails the run, so that it is removed
from the set.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path
from typing import Dict, List, Set

import pytest

from conftest import FIXTURES, expected_markers, run_cli
from initlint import engine

FLOWS = FIXTURES / "flows"

EXPECT_DEFAULT = re.compile(r"#\s*expect-default:\s*([A-Z0-9, ]+)")

REASON = "needs the shared evaluator (issue 12)"

#: Cases (paths relative to fixtures/flows) whose findings with every rule selected do not yet
#: match their markers.
PENDING: Set[str] = set()

#: Cases whose findings with the default selection do not yet match their
#: ``# expect-default:`` markers.
PENDING_DEFAULT: Set[str] = set()


def _rel(path: Path) -> str:
    return path.relative_to(FLOWS).as_posix()


def _package(path: Path):
    """The package directory directly under fixtures/flows that holds ``path``, or None."""
    parts = path.relative_to(FLOWS).parts
    return FLOWS / parts[0] if len(parts) > 1 else None


def default_markers(path: Path) -> Dict[int, Set[str]]:
    """``# expect-default: CODE`` markers: line -> codes."""
    out: Dict[int, Set[str]] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = EXPECT_DEFAULT.search(line)
        if m:
            out[i] = {c.strip() for c in m.group(1).split(",") if c.strip()}
    return out


ALL_FILES = sorted(FLOWS.rglob("*.py"))
CASES = [p for p in ALL_FILES if p.name != "__init__.py" or expected_markers(p)]
DEFAULT_CASES = [p for p in CASES if default_markers(p)]


def _params(paths: List[Path], pending: Set[str]):
    out = []
    for p in paths:
        marks = [pytest.mark.xfail(strict=True, reason=REASON)] if _rel(p) in pending else []
        out.append(pytest.param(p, id=_rel(p), marks=marks))
    return out


def _options(select_all: bool):
    opts = engine.Options(select=["ALL"]) if select_all else engine.Options()
    return opts.enabled(), None, opts.explicit()


@functools.lru_cache(maxsize=None)
def _package_findings(package: Path, select_all: bool) -> Dict[Path, Dict[int, Set[str]]]:
    """Lint a whole package directory through the CLI: resolved path -> line -> codes."""
    args = ["--isolated", "--exit-zero", "--format", "json"]
    if select_all:
        args += ["--select", "ALL"]
    r = run_cli(*args, str(package))
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out: Dict[Path, Dict[int, Set[str]]] = {}
    for f in json.loads(r.stdout):
        out.setdefault(Path(f["path"]).resolve(), {}).setdefault(f["line"], set()).add(f["code"])
    return out


def _findings(path: Path, select_all: bool) -> Dict[int, Set[str]]:
    package = _package(path)
    if package is not None:
        return _package_findings(package, select_all).get(path.resolve(), {})
    src = path.read_text(encoding="utf-8")
    got: Dict[int, Set[str]] = {}
    for f in engine.lint_source(src, *_options(select_all)):
        got.setdefault(f.line, set()).add(f.code)
    return got


@pytest.mark.parametrize("path", _params(CASES, PENDING))
def test_flow_findings_match_markers(path):
    assert _findings(path, select_all=True) == expected_markers(path)


@pytest.mark.parametrize("path", _params(DEFAULT_CASES, PENDING_DEFAULT))
def test_flow_default_selection_matches_markers(path):
    assert _findings(path, select_all=False) == default_markers(path)


def test_enough_flow_cases():
    assert len(CASES) >= 30, [_rel(p) for p in CASES]


@pytest.mark.parametrize("path", ALL_FILES, ids=[_rel(p) for p in ALL_FILES])
def test_flow_file_has_a_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and doc.strip(), f"{_rel(path)} has no docstring"


@pytest.mark.parametrize("path", [p for p in CASES if not expected_markers(p)],
                         ids=[_rel(p) for p in CASES if not expected_markers(p)])
def test_silent_flow_says_why(path):
    """A case with no marker says in its docstring that it must stay silent (and why)."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "silent" in doc.lower(), f"{_rel(path)}: the docstring does not say why it is silent"


def test_pending_sets_name_real_cases():
    names = {_rel(p) for p in CASES}
    assert PENDING <= names, PENDING - names
    assert PENDING_DEFAULT <= {_rel(p) for p in DEFAULT_CASES}, PENDING_DEFAULT
