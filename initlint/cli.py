"""The command line: ``initlint [PATHS]...``.

Exit codes: 0 nothing reported, 1 findings (or files that could not be linted), 2 usage,
configuration or internal errors, a missing path, or nothing could be linted at all.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence

import click

from . import __version__, engine, files, report
from . import rules as rules_mod

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: Sequence[str]) -> List[str]:
    out: List[str] = []
    for v in values:
        out.extend(s.strip().upper() if s.strip().upper() == "ALL" else s.strip()
                   for s in v.split(",") if s.strip())
    return out


def _color() -> Optional[bool]:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") or os.environ.get("CLICOLOR_FORCE"):
        return True
    return None


def _error(msg: str) -> None:
    click.echo(f"initlint: error: {msg}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Apply safe fixes (add --unsafe-fixes for all).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (with --fix/--diff) or offer unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the diff --fix would write; write nothing.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Comma-separated codes or prefixes to enable (replaces the defaults); ALL for all.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Codes to enable in addition.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Codes to disable.")
@click.option("--exclude", multiple=True, metavar="GLOBS",
              help="Comma-separated globs to skip (replaces the default excludes).")
@click.option("--extend-exclude", multiple=True, metavar="GLOBS", help="Globs to skip in addition.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores).")
@click.option("--stdin-filename", metavar="PATH", help="The name of the file read from stdin ('-').")
@click.option("--explain", metavar="CODE", help="Print a rule's documentation and exit.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.version_option(__version__, "--version", prog_name="initlint")
def cli(paths, fix, unsafe_fixes, diff, select, extend_select, ignore, exclude, extend_exclude,
        fmt, exit_zero, jobs, stdin_filename, explain, list_rules) -> None:
    """Lint weight-initializer choices in Keras and PyTorch code.

    PATHS are files or directories (default: the current directory); '-' reads standard input.
    """
    color = _color()
    if list_rules:
        report.rules_table(rules_mod.all_rules(), sys.stdout, color)
        sys.exit(EXIT_CLEAN)
    if explain:
        sys.exit(_explain(explain, color))

    try:
        options = engine.Options(
            select=_split(select) or None,
            extend_select=_split(extend_select),
            ignore=_split(ignore),
        )
        options.enabled()
    except rules_mod.SelectionError as e:
        _error(str(e))
        sys.exit(EXIT_ERROR)
    level = "unsafe" if unsafe_fixes else "safe"
    if fix or diff:
        options.fix = level

    paths = list(paths) or ["."]
    if "-" in paths:
        if len(paths) > 1:
            _error("'-' (standard input) cannot be combined with other paths")
            sys.exit(EXIT_ERROR)
        sys.exit(_stdin(stdin_filename or "-", options, fmt, color, fix, diff, exit_zero,
                        level))

    missing = [p for p in paths if not os.path.exists(p)]
    for p in missing:
        _error(f"{p}: no such file or directory")
    present = [p for p in paths if os.path.exists(p)]
    try:
        found = files.discover(present,
                               _split_globs(exclude) or files.DEFAULT_EXCLUDE,
                               _split_globs(extend_exclude))
    except files.MissingPath as e:  # raced with deletion
        _error(f"{e}: no such file or directory")
        sys.exit(EXIT_ERROR)
    n_jobs = jobs or os.cpu_count() or 1
    results = list(files.lint_paths(found, options, write=fix and not diff, want_diff=diff,
                                    jobs=n_jobs))
    sys.exit(_finish(results, fmt, color, options, fix, diff, exit_zero, level,
                     missing=bool(missing), n_files=len(found)))


def _split_globs(values: Sequence[str]) -> List[str]:
    return [s.strip() for v in values for s in v.split(",") if s.strip()]


def _finish(results: List[files.FileResult], fmt: str, color: Optional[bool],
            options: engine.Options, fix: bool, diff: bool, exit_zero: bool, level: str,
            missing: bool, n_files: int, out=None) -> int:
    out = out or sys.stdout
    errors = [r for r in results if r.error]
    for r in errors:
        _error(f"{r.path}: {r.error}")
    linted = [r for r in results if not r.error]
    if diff:
        for r in linted:
            if r.diff:
                out.write(r.diff)
        changed = sum(1 for r in linted if r.diff)
        click.echo(f"Would fix {sum(r.fixed for r in linted)} finding(s) in {changed} file(s).",
                   err=True)
        return _exit_code(errors, linted, missing, bool(changed), exit_zero)
    if fmt == "json":
        report.write_json(linted, out)
    else:
        if n_files == 0 and not missing:
            click.echo("initlint: warning: no Python files found", err=True)
        report.write_text(linted, out, color=color, fix_level=options.fix or
                          ("unsafe" if level == "unsafe" else None), fixing=fix)
    has_findings = any(r.findings for r in linted)
    return _exit_code(errors, linted, missing, has_findings or bool(errors), exit_zero)


def _exit_code(errors: List[files.FileResult], linted: List[files.FileResult], missing: bool,
               reported: bool, exit_zero: bool) -> int:
    if missing or (errors and not linted) or any(r.internal for r in errors):
        return EXIT_ERROR
    return EXIT_FINDINGS if reported and not exit_zero else EXIT_CLEAN


def _stdin(name: str, options: engine.Options, fmt: str, color: Optional[bool], fix: bool,
           diff: bool, exit_zero: bool, level: str) -> int:
    data = sys.stdin.buffer.read()
    res = files.lint_bytes(name, data, options, want_diff=diff)
    if fix and not diff:
        # Like ruff: the fixed source goes to stdout, the report to stderr.
        sys.stdout.buffer.write(res.new_data if res.new_data is not None else data)
        sys.stdout.flush()
        return _finish([res], fmt, color, options, fix, diff, exit_zero, level, missing=False,
                       n_files=1, out=sys.stderr)
    return _finish([res], fmt, color, options, fix, diff, exit_zero, level, missing=False,
                   n_files=1)


def _explain(code: str, color: Optional[bool]) -> int:
    r = rules_mod.get(code)
    if r is None:
        _error(f"unknown rule code {code!r}; see `initlint --list-rules`")
        return EXIT_ERROR
    fix = {"safe": "Fix is always available (safe).",
           "unsafe": "Fix is available with `--unsafe-fixes` (unsafe).",
           None: "No fix."}[r.fix]
    default = "on by default" if r.default_enabled else "off by default (select it to enable)"
    text = f"# {r.name} ({r.code})\n\nSeverity: {r.severity}; {default}. {fix}\n\n{r.doc}\n"
    if sys.stdout.isatty() and color is not False:
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)
    return EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        if args[:1] == ["simulate"]:
            from .simulate import simulate_cmd

            simulate_cmd.main(args=args[1:], prog_name="initlint simulate",
                              standalone_mode=True)
        cli.main(args=args, prog_name="initlint", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
