"""Finding files, and linting one file end to end (read, prefilter, decode, lint, fix)."""

from __future__ import annotations

import difflib
import fnmatch
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

from . import engine
from .source import SourceError, atomic_write, decode, encode

#: Directories never descended into (ruff's defaults, plus the usual caches).
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox",
    ".venv", ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv", ".initlint_cache",
)

PY_SUFFIXES = (".py", ".pyi")


class MissingPath(Exception):
    pass


def _excluded(rel: str, name: str, patterns: Sequence[str]) -> bool:
    for p in patterns:
        if fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(rel, p):
            return True
        if fnmatch.fnmatchcase(rel, p.rstrip("/") + "/*"):
            return True
    return False


def discover(paths: Sequence[str], exclude: Sequence[str] = DEFAULT_EXCLUDE,
             extend_exclude: Sequence[str] = ()) -> List[str]:
    """Python files under ``paths``. Files named explicitly are always included."""
    patterns = list(exclude) + list(extend_exclude)
    out: List[str] = []
    for p in paths:
        if not os.path.exists(p):
            raise MissingPath(p)
        if os.path.isfile(p):
            out.append(p)
            continue
        for root, dirs, files in os.walk(p):
            rel_root = os.path.relpath(root, p)
            keep = []
            for d in sorted(dirs):
                rel = os.path.normpath(os.path.join(rel_root, d))
                full = os.path.join(root, d)
                if _excluded(rel, d, patterns):
                    continue
                if os.path.exists(os.path.join(full, "pyvenv.cfg")):  # a virtualenv
                    continue
                keep.append(d)
            dirs[:] = keep
            for f in sorted(files):
                if not f.endswith(PY_SUFFIXES):
                    continue
                rel = os.path.normpath(os.path.join(rel_root, f))
                if _excluded(rel, f, patterns):
                    continue
                out.append(os.path.normpath(os.path.join(root, f)))
    seen = set()
    uniq = []
    for f in out:
        key = os.path.normpath(f)
        if key not in seen:
            seen.add(key)
            uniq.append(f)
    return uniq


@dataclass
class FileResult:
    path: str
    findings: List[engine.Finding] = field(default_factory=list)
    error: Optional[str] = None
    #: The error is a bug in initlint, not a problem with the file (exit code 2).
    internal: bool = False
    skipped: bool = False  # prefiltered: cannot contain a model
    fixed: int = 0
    diff: Optional[str] = None
    #: The fixed bytes, when fixing in memory (stdin) or the file changed.
    new_data: Optional[bytes] = None


def lint_bytes(path: str, data: bytes, options: engine.Options, want_diff: bool = False
               ) -> FileResult:
    res = FileResult(path)
    if not engine.wants(data):
        res.skipped = True
        return res
    try:
        decoded = decode(data)
        out = engine.lint_and_fix(decoded.text, options)
    except (SourceError, engine.ParseError) as e:
        res.error = str(e)
        return res
    res.findings = out.findings
    res.fixed = out.fixed
    if out.text != decoded.text:
        res.new_data = encode(out.text, decoded)
        if want_diff:
            res.diff = unified_diff(path, decoded.text, out.text)
    return res


def unified_diff(path: str, before: str, after: str) -> str:
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, fromfile=path, tofile=path)
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def lint_path(path: str, options: engine.Options, write: bool, want_diff: bool) -> FileResult:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return FileResult(path, error=f"cannot read: {e.strerror or e}")
    res = lint_bytes(path, data, options, want_diff)
    if write and res.new_data is not None:
        try:
            atomic_write(path, res.new_data)
        except OSError as e:
            res.error = f"cannot write fixes: {e.strerror or e}"
    res.new_data = None  # do not ship file contents back from workers
    return res


def _work(args: Tuple[str, engine.Options, bool, bool]) -> FileResult:
    path, options, write, want_diff = args
    try:
        return lint_path(path, options, write, want_diff)
    except RecursionError:
        return FileResult(path, error="file too deeply nested to analyse")
    except Exception as e:  # noqa: BLE001 - a bug must name the file, not kill the run
        return FileResult(path, error=f"internal error: {type(e).__name__}: {e} (please report "
                                      f"this with the file)", internal=True)


#: Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 24


def lint_paths(files: Sequence[str], options: engine.Options, write: bool, want_diff: bool,
               jobs: int) -> Iterator[FileResult]:
    work = [(f, options, write, want_diff) for f in files]
    if jobs <= 1 or len(files) < POOL_THRESHOLD:
        for w in work:
            yield _work(w)
        return
    chunk = max(1, min(32, len(work) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_work, work, chunksize=chunk)


