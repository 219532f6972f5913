"""Finding files, and linting one file end to end (read, prefilter, decode, lint, fix)."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

import pathspec

from . import engine, notebook
from .analysis.context import reading
from .analysis.modules import PARSED, ModuleIndex, TreeResolver
from .parsing import run_collector, start_worker_collector
from .source import SourceError, atomic_write, decode, encode

from .config import DEFAULT_EXCLUDE, Overrides, Resolved, Resolver

PY_SUFFIXES = (".py", ".pyi", ".ipynb")


class MissingPath(Exception):
    pass


class GitIgnore:
    """``.gitignore`` (inside a git work tree), ``.git/info/exclude`` and ``.ignore`` files,
    matched with pathspec's implementation of git's rules: the deepest file with a matching
    pattern decides, and its last matching pattern wins."""

    def __init__(self) -> None:
        self._specs: Dict[str, List[Tuple[str, "pathspec.GitIgnoreSpec"]]] = {}
        self._in_git: Dict[str, bool] = {}

    def _spec(self, path: str) -> Optional["pathspec.GitIgnoreSpec"]:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        return pathspec.GitIgnoreSpec.from_lines(lines)

    def in_git(self, d: str) -> bool:
        if d not in self._in_git:
            parent = os.path.dirname(d)
            self._in_git[d] = os.path.exists(os.path.join(d, ".git")) or (
                parent != d and self.in_git(parent))
        return self._in_git[d]

    def specs(self, d: str) -> List[Tuple[str, "pathspec.GitIgnoreSpec"]]:
        if d in self._specs:
            return self._specs[d]
        parent = os.path.dirname(d)
        is_root = os.path.exists(os.path.join(d, ".git"))
        out = [] if is_root or parent == d else list(self.specs(parent))
        names = [".ignore"]
        if self.in_git(d):
            names.insert(0, ".gitignore")
        if is_root:
            names.insert(0, os.path.join(".git", "info", "exclude"))
        for name in names:
            full = os.path.join(d, name)
            if os.path.isfile(full):
                spec = self._spec(full)
                if spec is not None:
                    out.append((d, spec))
        self._specs[d] = out
        return out

    def ignored(self, path: str, is_dir: bool) -> bool:
        path = os.path.abspath(path)
        for base, spec in reversed(self.specs(os.path.dirname(path))):
            rel = os.path.relpath(path, base).replace(os.sep, "/") + ("/" if is_dir else "")
            r = spec.check_file(rel)
            if r.include is not None:
                return bool(r.include)
        return False


@dataclass
class Target:
    path: str
    resolved: Resolved


def collect(paths: Sequence[str], resolver: Resolver, force_exclude: bool = False
            ) -> List[Target]:
    """The files to lint under ``paths``, each with the settings of its closest config.
    Files named on the command line are always linted unless ``force_exclude`` is set."""
    gitignore = GitIgnore()

    def skip(path: str, res: Resolved, is_dir: bool) -> bool:
        return res.excluded(path) or (res.respect_gitignore and gitignore.ignored(path, is_dir))

    out: List[Target] = []
    seen: Set[str] = set()

    def add(path: str, res: Resolved) -> None:
        key = os.path.normpath(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.append(Target(os.path.normpath(path), res))

    for p in paths:
        if not os.path.exists(p):
            raise MissingPath(p)
        if os.path.isfile(p):
            res = resolver.for_path(p)
            if force_exclude and (skip(p, res, False) or _ancestor_excluded(p, res)):
                continue
            add(p, res)
            continue
        if force_exclude and _ancestor_excluded(os.path.join(p, "x"), resolver.for_path(p)):
            continue
        for root, dirs, names in os.walk(p):
            res = resolver.for_path(root)
            keep = []
            for d in sorted(dirs):
                full = os.path.join(root, d)
                sub = resolver.for_path(full)
                if skip(full, sub, True):
                    continue
                if os.path.exists(os.path.join(full, "pyvenv.cfg")):  # a virtualenv
                    continue
                keep.append(d)
            dirs[:] = keep
            for f in sorted(names):
                if not f.endswith(PY_SUFFIXES):
                    continue
                full = os.path.join(root, f)
                if skip(full, res, False):
                    continue
                add(full, res)
    return out


def _ancestor_excluded(path: str, res: Resolved) -> bool:
    """Is a directory between the project root (the config's directory, or the working
    directory) and ``path`` excluded? Directories above the project never are."""
    top = os.path.abspath(res.config.root if res.config.path else os.getcwd())
    d = os.path.dirname(os.path.abspath(path))
    while d.startswith(top + os.sep):
        if res.excluded(d):
            return True
        d = os.path.dirname(d)
    return False


def discover(paths: Sequence[str], exclude: Sequence[str] = DEFAULT_EXCLUDE,
             extend_exclude: Sequence[str] = ()) -> List[str]:
    """Python files and notebooks under ``paths``, without reading any config."""
    resolver = Resolver(Overrides(exclude=list(exclude), extend_exclude=list(extend_exclude),
                                  cwd=os.getcwd()), isolated=True)
    return [t.path for t in collect(paths, resolver)]


@dataclass
class FileResult:
    path: str
    findings: List[engine.Finding] = field(default_factory=list)
    error: Optional[str] = None
    #: Where in the file the error is (a syntax error): 1-based line and column, and the
    #: 1-based cell in a notebook.
    error_line: Optional[int] = None
    error_column: Optional[int] = None
    error_cell: Optional[int] = None
    #: The error is a bug in initlint, not a problem with the file (exit code 2).
    internal: bool = False
    #: initlint's own bugs met while linting a file that was otherwise linted (a fix that would
    #: not parse, dropped): one line each; they make the exit code 2.
    problems: List[str] = field(default_factory=list)
    #: Notes for ``-v``: the analysis stopped at its limits on this file.
    notes: List[str] = field(default_factory=list)
    skipped: bool = False  # prefiltered: cannot contain a model
    fixed: int = 0
    noqa_added: int = 0
    diff: Optional[str] = None
    #: The fixed bytes, when fixing in memory (stdin) or the file changed.
    new_data: Optional[bytes] = None
    notebook: bool = False
    #: The lowest severity whose findings fail the run, from the file's settings.
    fail_on: str = "warning"
    #: The source lines the findings and their fixes touch, for excerpts:
    #: (cell or None, 1-based line) -> the line's text without its newline.
    lines: Dict[Tuple[Optional[int], int], str] = field(default_factory=dict)


def options_for(target: Target, base: engine.Options) -> engine.Options:
    """The engine options for one file: its config's selection minus its per-file-ignores."""
    enabled, explicit, _ = target.resolved.for_file(target.path)
    return engine.Options(settings=dict(target.resolved.settings), fix=base.fix,
                          enabled_codes=enabled, explicit_codes=explicit,
                          respect_noqa=base.respect_noqa, add_noqa=base.add_noqa,
                          fail_on=target.resolved.fail_on)


def _wanted(data: bytes, options: engine.Options) -> bool:
    if engine.wants(data):
        return True
    # IL900 judges suppressions wherever they are.
    return engine.UNUSED_NOQA in options.enabled() and _OWN_NOQA.search(data) is not None


_OWN_NOQA = re.compile(rb"noqa:[^\n]*IL[0-9]", re.IGNORECASE)


def lint_bytes(path: str, data: bytes, options: engine.Options, want_diff: bool = False
               ) -> FileResult:
    res = FileResult(path, notebook=notebook.is_notebook(path), fail_on=options.fail_on)
    if not _wanted(data, options):
        res.skipped = True
        return res
    if res.notebook:
        return _lint_notebook(res, data, options, want_diff)
    try:
        decoded = decode(data)
        out = engine.lint_and_fix(decoded.text, options)
    except SourceError as e:
        res.error = str(e)
        return res
    except engine.ParseError as e:
        res.error, res.error_line, res.error_column = str(e), e.line, e.column
        return res
    res.findings = out.findings
    res.problems = out.problems
    res.fixed = out.fixed
    res.noqa_added = out.noqa_added
    res.lines = _excerpt(out.text, out.findings)
    if out.text != decoded.text:
        res.new_data = encode(out.text, decoded)
        if want_diff:
            res.diff = unified_diff(path, decoded.text, out.text)
    return res


def _touched(findings: Sequence[engine.Finding]) -> List[int]:
    lines: Set[int] = set()
    for f in findings:
        lines.update(range(f.line, min(f.end_line, f.line + 8) + 1))
        if f.fix is not None and f.fix.edits:
            # A fix's diff shows every line from its first edit to its last (an import
            # extended at the top and a call changed further down: the lines between too),
            # unless that is too long to be worth showing.
            lo = min(e.line for e in f.fix.edits)
            hi = max(e.end_line for e in f.fix.edits)
            if hi - lo <= _FIX_DIFF_LINES:
                lines.update(range(lo, hi + 1))
    return sorted(lines)


#: A fix whose edits span more lines than this is shown without its diff.
_FIX_DIFF_LINES = 30


def _excerpt(text: str, findings: Sequence[engine.Finding]
             ) -> Dict[Tuple[Optional[int], int], str]:
    if not findings:
        return {}
    all_lines = text.splitlines()
    return {(None, n): all_lines[n - 1] for n in _touched(findings) if n <= len(all_lines)}


def _lint_notebook(res: FileResult, data: bytes, options: engine.Options,
                   want_diff: bool) -> FileResult:
    try:
        nb = notebook.load(data)
    except SourceError as e:
        res.error = str(e)
        return res
    lang = notebook.language(nb)
    if not nb.cells or (lang is not None and lang != "python"):
        res.skipped = True
        return res
    try:
        out = engine.lint_and_fix(nb.joined, options)
    except engine.ParseError as e:
        res.error = str(e)
        if e.line is not None:
            res.error_cell, res.error_line = nb.locate(e.line)
            res.error_column = e.column
        return res
    final = nb
    if out.text != nb.joined:
        sources = notebook.split(nb, out.text)
        new = notebook.render(nb, sources) if sources is not None else None
        if new is None:
            # The cells could not be told apart after the fix: report, change nothing.
            out = engine.lint_and_fix(nb.joined, dataclasses.replace(options, fix=None,
                                                                      add_noqa=False))
        else:
            res.new_data = new
            final = notebook.load(new)
            if want_diff:
                res.diff = "".join(
                    unified_diff(f"{res.path}:cell {c.number}", notebook.source_of(nb, c),
                                 notebook.source_of(final, n))
                    for c, n in zip(nb.cells, final.cells) if c.text != n.text)
    res.fixed = out.fixed
    res.noqa_added = out.noqa_added
    res.problems = out.problems
    text = final.joined
    all_lines = text.splitlines()
    for n in _touched(out.findings):
        if n <= len(all_lines):
            cell, line = final.locate(n)
            res.lines[(cell, line)] = all_lines[n - 1]
    res.findings = [_to_cell(final, f) for f in out.findings]
    return res


def _to_cell(nb: notebook.Notebook, f: engine.Finding) -> engine.Finding:
    cell, line = nb.locate(f.line)
    end_cell, end_line = nb.locate(f.end_line)
    f.cell = cell
    f.line = line
    if end_cell != cell:
        end_line, f.end_column = line, f.column + 1
    f.end_line = end_line
    if f.fix is not None:
        for e in f.fix.edits:
            _, e.line = nb.locate(e.line)
            _, e.end_line = nb.locate(e.end_line)
    return f


def unified_diff(path: str, before: str, after: str) -> str:
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, fromfile=path, tofile=path)
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


#: The modules of the current run (set in each worker), for imports of the tree's own code.
_INDEX: Optional[ModuleIndex] = None


def _set_index(index: Optional[ModuleIndex]) -> None:
    """Start (or end) a run in this process: its modules, and nothing parsed yet, so that a
    run in a long-lived process neither sees nor keeps another run's trees."""
    global _INDEX
    _INDEX = index
    PARSED.clear()


def lint_path(path: str, options: engine.Options, write: bool, want_diff: bool) -> FileResult:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return FileResult(path, error=f"cannot read: {e.strerror or e}")
    with reading(path, TreeResolver(_INDEX) if _INDEX is not None else None) as ctx:
        res = lint_bytes(path, data, options, want_diff)
    res.notes = list(dict.fromkeys(ctx.notes))
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
    except RecursionError as e:
        return FileResult(path, error=f"internal error: {_too_deep(e)} recursed past Python's "
                                      f"limit on this file (please report this with the file)",
                          internal=True)
    except Exception as e:  # noqa: BLE001 - a bug must name the file, not kill the run
        return FileResult(path, error=f"internal error: {type(e).__name__}: {e} (please report "
                                      f"this with the file)", internal=True)


def _too_deep(e: BaseException) -> str:
    """What recursed: the function that repeats most in the traceback."""
    import collections
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return "the analysis"
    (filename, name), _ = collections.Counter((f.filename, f.name)
                                              for f in frames).most_common(1)[0]
    marker = f"{os.sep}initlint{os.sep}"
    if marker in filename:
        module = os.path.splitext(filename.split(marker)[-1])[0].replace(os.sep, ".")
        return f"initlint.{module}.{name}()"
    return f"{os.path.basename(filename)}: {name}()"


#: Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 24


def lint_paths(files: Sequence[Union[str, Target]], options: engine.Options, write: bool,
               want_diff: bool, jobs: int) -> Iterator[FileResult]:
    """Lint ``files`` (paths, or :class:`Target` s that carry their own config) in order."""
    work = [(f.path, options_for(f, options), write, want_diff) if isinstance(f, Target)
            else (f, options, write, want_diff) for f in files]
    index = ModuleIndex.build([w[0] for w in work])
    if jobs <= 1 or len(files) < POOL_THRESHOLD:
        _set_index(index)
        try:
            with run_collector():
                for w in work:
                    yield _work(w)
        finally:
            _set_index(None)
        return
    chunk = max(1, min(32, len(work) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker,
                             initargs=(index,)) as pool:
        yield from pool.map(_work, work, chunksize=chunk)


def _start_worker(index: ModuleIndex) -> None:
    start_worker_collector()
    _set_index(index)
