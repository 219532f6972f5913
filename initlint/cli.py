"""The command line: ``initlint [PATHS]...``.

Exit codes: 0 nothing reported, 1 findings (or files that could not be linted), 2 usage,
configuration or internal errors, a missing path, or nothing could be linted at all.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence, TextIO, Tuple

import click

from . import __version__, config, engine, files, report
from . import rules as rules_mod

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SEVERITIES = ("info", "warning", "error")


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
@click.option("--show-fixes", is_flag=True, help="Show each fix as a small diff (text format).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Comma-separated codes or prefixes to enable (replaces the defaults); ALL for all.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Codes to enable in addition.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Codes to disable.")
@click.option("--exclude", multiple=True, metavar="GLOBS",
              help="Comma-separated globs to skip (replaces the default excludes).")
@click.option("--extend-exclude", multiple=True, metavar="GLOBS", help="Globs to skip in addition.")
@click.option("--force-exclude", is_flag=True,
              help="Apply the excludes to files named on the command line too (for pre-commit).")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip files that .gitignore, .git/info/exclude and .ignore exclude "
                   "(default: on).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Use this config file for every path (pyproject.toml or initlint.toml).")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings for a file and exit.")
@click.option("--format", "--output-format", "fmt", default="text", show_default=True,
              envvar="INITLINT_OUTPUT_FORMAT", metavar="FORMAT[:FILE],...",
              help=f"Output format: {', '.join(report.FORMATS)}. Several reports from one run: "
                   "a comma-separated list where each but one names its file, e.g. "
                   "github,sarif:initlint.sarif.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False, writable=True),
              metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--add-noqa", is_flag=True,
              help="Add `# noqa: CODE` to every line with a finding (to adopt initlint today).")
@click.option("--ignore-noqa", is_flag=True, help="Report findings even where `# noqa` says not to.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="The lowest severity whose findings make the exit code 1 (default: warning; "
                   "info findings are shown but do not fail).")
@click.option("--show-details", is_flag=True,
              help="Print each finding's figures and reasoning under its message (text format).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores).")
@click.option("--verbose", "-v", is_flag=True,
              help="Also say which files were analysed only in part (past a time or size limit).")
@click.option("--stdin-filename", metavar="PATH",
              help="Lint standard input under this name (with no PATHS, or with '-').")
@click.option("--explain", metavar="CODE", help="Print a rule's documentation and exit.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.version_option(__version__, "--version", prog_name="initlint")
def cli(paths: Tuple[str, ...], fix: bool, unsafe_fixes: bool, diff: bool, show_fixes: bool,
        select: Tuple[str, ...], extend_select: Tuple[str, ...], ignore: Tuple[str, ...],
        exclude: Tuple[str, ...], extend_exclude: Tuple[str, ...], force_exclude: bool,
        respect_gitignore: Optional[bool], config_path: Optional[str], isolated: bool,
        show_settings: bool, fmt: str, output_file: Optional[str], statistics: bool,
        add_noqa: bool, ignore_noqa: bool, exit_zero: bool, fail_on: Optional[str],
        show_details: bool, jobs: Optional[int], verbose: bool, stdin_filename: Optional[str],
        explain: Optional[str], list_rules: bool) -> None:
    """Lint weight-initializer choices in Keras and PyTorch code.

    PATHS are files, directories or notebooks (default: the current directory); '-' reads
    standard input, and so does --stdin-filename without PATHS.

    \b
    Commands:
      initlint simulate PATH...   the signal std of every stack, layer by layer,
                                  with your initializers and with initlint's
                                  (see `initlint simulate --help`)
      initlint inspect PATH[:LINE]...
                                  the network model the rules see: each
                                  layer's activation, fans and initializers
                                  and where they came from
                                  (see `initlint inspect --help`)

    \b
    Exit codes:
      0  nothing reported at or above --fail-on (or --exit-zero)
      1  findings at or above --fail-on, or a file that could not be linted
      2  usage, configuration or internal error, or no file could be linted
    """
    global _VERBOSE
    _VERBOSE = verbose
    color = _color()
    if list_rules:
        report.rules_table(rules_mod.all_rules(), sys.stdout, color)
        sys.exit(EXIT_CLEAN)
    if explain:
        sys.exit(_explain(explain, color))
    if add_noqa and (fix or diff):
        _error("--add-noqa cannot be combined with --fix or --diff")
        sys.exit(EXIT_ERROR)
    resolver = _resolver(select, extend_select, ignore, exclude, extend_exclude,
                         respect_gitignore, fail_on, config_path, isolated)
    level = "unsafe" if unsafe_fixes else "safe"
    options = engine.Options(fix=level if (fix or diff) else None,
                             respect_noqa=not ignore_noqa, add_noqa=add_noqa)
    out_opts = _output_options(fmt, output_file, color, statistics, show_fixes, show_details)

    targets = list(paths) or (["-"] if stdin_filename else ["."])
    if show_settings:
        sys.exit(_show_settings(resolver, stdin_filename if targets == ["-"] else targets[0]))
    if "-" in targets:
        if len(targets) > 1:
            _error("'-' (standard input) cannot be combined with other paths")
            sys.exit(EXIT_ERROR)
        sys.exit(_stdin(stdin_filename or "-", resolver, options, out_opts, fix, diff,
                        exit_zero, level))
    sys.exit(_lint_files(targets, resolver, options, out_opts, _Run(fix, diff, exit_zero, level),
                         force_exclude, jobs))


def _resolver(select: Sequence[str], extend_select: Sequence[str], ignore: Sequence[str],
              exclude: Sequence[str], extend_exclude: Sequence[str],
              respect_gitignore: Optional[bool], fail_on: Optional[str],
              config_path: Optional[str], isolated: bool) -> config.Resolver:
    """The settings resolver from the command line's selection and file options; exits 2
    on a bad selector or configuration."""
    overrides = config.Overrides(
        selection=config.Selection(select=_split(select) or None,
                                   extend_select=_split(extend_select), ignore=_split(ignore)),
        exclude=_split_globs(exclude) or None,
        extend_exclude=_split_globs(extend_exclude),
        respect_gitignore=respect_gitignore,
        fail_on=fail_on,
        cwd=os.getcwd(),
    )
    try:
        rules_mod.validate_selectors(overrides.selection.select or [])
        rules_mod.validate_selectors(overrides.selection.extend_select)
        rules_mod.validate_selectors(overrides.selection.ignore)
        return config.Resolver(overrides, config_path, isolated)
    except (rules_mod.SelectionError, config.ConfigError) as e:
        _error(str(e))
        sys.exit(EXIT_ERROR)


def _output_options(fmt: str, output_file: Optional[str], color: Optional[bool],
                    statistics: bool, show_fixes: bool, show_details: bool) -> "_Output":
    """The reports to write; exits 2 on a bad ``--format``/``-o``."""
    try:
        outputs = _outputs(fmt, output_file)
    except ValueError as e:
        _error(str(e))
        sys.exit(EXIT_ERROR)
    return _Output(outputs, color, statistics, show_fixes, show_details)


class _Run:
    """What the run does with the findings: fix or show the diff, and how it exits."""

    def __init__(self, fix: bool, diff: bool, exit_zero: bool, level: str) -> None:
        self.fix = fix
        self.diff = diff
        self.exit_zero = exit_zero
        self.level = level


def _lint_files(paths: List[str], resolver: config.Resolver, options: engine.Options,
                out_opts: "_Output", run: _Run, force_exclude: bool,
                jobs: Optional[int]) -> int:
    """Lint the files under ``paths`` (missing ones are reported), and report."""
    missing = [p for p in paths if not os.path.exists(p)]
    for p in missing:
        _error(f"{p}: no such file or directory")
    present = [p for p in paths if os.path.exists(p)]
    try:
        found = files.collect(present, resolver, force_exclude)
    except files.MissingPath as e:  # raced with deletion
        _error(f"{e}: no such file or directory")
        return EXIT_ERROR
    except config.ConfigError as e:
        _error(str(e))
        return EXIT_ERROR
    n_jobs = jobs or os.cpu_count() or 1
    write = (run.fix or options.add_noqa) and not run.diff
    results = list(files.lint_paths(found, options, write=write, want_diff=run.diff,
                                    jobs=n_jobs))
    if options.add_noqa:
        return _added(results, missing=bool(missing))
    return _finish(results, out_opts, options, run.fix, run.diff, run.exit_zero, run.level,
                   missing=bool(missing), n_files=len(found))


class _Output:
    def __init__(self, outputs: List[Tuple[str, Optional[str]]], color: Optional[bool],
                 statistics: bool, show_fixes: bool, show_details: bool = False) -> None:
        #: (format, file or None for standard output), the main report first
        self.outputs = outputs
        self.fmt = outputs[0][0]
        self.color = color
        self.statistics = statistics
        self.show_fixes = show_fixes
        self.show_details = show_details


def _outputs(spec: str, output_file: Optional[str]) -> List[Tuple[str, Optional[str]]]:
    """``--format``: ``FORMAT`` or ``FORMAT[:FILE],...``, where at most one report has no
    file of its own (it goes to ``-o`` or standard output)."""
    out: List[Tuple[str, Optional[str]]] = []
    for item in (part.strip() for part in spec.split(",")):
        name, sep, path = item.partition(":")
        name = name.strip().lower()
        if name not in report.FORMATS:
            raise ValueError(f"--format: unknown format {name!r}; choose from "
                             f"{', '.join(report.FORMATS)}")
        if sep and not path:
            raise ValueError(f"--format: {item!r} names no file")
        out.append((name, path or None))
    bare = [o for o in out if o[1] is None]
    if len(bare) > 1:
        raise ValueError("--format: at most one report may go to standard output; give the "
                         "others a file (FORMAT:FILE)")
    if not bare and output_file is not None:
        raise ValueError("--output-file: every --format report already names its file")
    # The report without a file of its own first: it goes to -o or standard output.
    return [(n, output_file) for n, _ in bare] + [o for o in out if o[1] is not None]


def _show_settings(resolver: config.Resolver, path: Optional[str]) -> int:
    if not path or path == "-":
        _error("--show-settings needs a file (or --stdin-filename)")
        return EXIT_ERROR
    try:
        resolved = resolver.for_path(path)
    except config.ConfigError as e:
        _error(str(e))
        return EXIT_ERROR
    sys.stdout.write(config.show(resolved, path))
    return EXIT_CLEAN


def _report_errors(results: List[files.FileResult]) -> None:
    for r in results:
        if r.error:
            if r.error_line is not None:
                # A syntax error: located like a finding, so editors and CI can jump to it.
                click.echo(f"{_where(r, r.error_line)}: {r.error}", err=True)
            else:
                _error(f"{r.path}: {r.error}")
        for problem in r.problems:
            _error(f"{r.path}: {problem}")
        if _VERBOSE:
            for note in r.notes:
                click.echo(f"initlint: note: {r.path}: {note}", err=True)


#: ``-v``: notes on files analysed only in part are printed.
_VERBOSE = False


def _where(r: files.FileResult, line: int) -> str:
    """Where a syntax error is, on ``line`` (the result's ``error_line``)."""
    if r.error_cell is not None:
        return f"{r.path}:{report.cell_location(r.error_cell, line, r.error_column or 1)}"
    return f"{r.path}:{line}:{r.error_column or 1}"


def _added(results: List[files.FileResult], missing: bool) -> int:
    _report_errors(results)
    errors = [r for r in results if r.error]
    n = sum(r.noqa_added for r in results)
    click.echo(f"Added {n} noqa directive{'s' if n != 1 else ''}.", err=True)
    if missing or any(r.internal for r in errors) or any(r.problems for r in results):
        return EXIT_ERROR
    return EXIT_FINDINGS if errors else EXIT_CLEAN


def _split_globs(values: Sequence[str]) -> List[str]:
    return [s.strip() for v in values for s in v.split(",") if s.strip()]


def _finish(results: List[files.FileResult], o: _Output, options: engine.Options, fix: bool,
            diff: bool, exit_zero: bool, level: str, missing: bool, n_files: int,
            out: Optional[TextIO] = None) -> int:
    _report_errors(results)
    errors = [r for r in results if r.error]
    linted = [r for r in results if not r.error]
    if diff:
        changed = _write_diff(linted, out or sys.stdout)
        return _exit_code(results, missing, bool(changed), exit_zero)
    if n_files == 0 and not missing and o.fmt in ("text", "concise"):
        click.echo("initlint: warning: no Python files found", err=True)
    if not _write_reports(linted, o, options, fix, level, out, len(errors)):
        return EXIT_ERROR
    failing = any(_fails(f.severity, r.fail_on) for r in linted for f in r.findings)
    return _exit_code(results, missing, failing, exit_zero)


def _write_diff(linted: List[files.FileResult], out: TextIO) -> int:
    """``--diff``: every linted file's diff, and a summary on stderr; returns how many files
    would change."""
    for r in linted:
        if r.diff:
            out.write(r.diff)
    changed = sum(1 for r in linted if r.diff)
    click.echo(f"Would fix {sum(r.fixed for r in linted)} finding(s) in {changed} file(s).",
               err=True)
    return changed


def _write_reports(linted: List[files.FileResult], o: _Output, options: engine.Options,
                   fix: bool, level: str, out: Optional[TextIO], n_failed: int) -> bool:
    """Every ``--format`` report, to its file or to ``out`` (standard output); False (after
    saying so) when a report file cannot be written."""
    for fmt, path in o.outputs:
        try:
            if path:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                with open(path, "w", encoding="utf-8", newline="\n") as fh:
                    _write(linted, o, fmt, False, options, fix, level, fh, n_failed)
            else:
                _write(linted, o, fmt, o.color, options, fix, level, out or sys.stdout,
                       n_failed)
        except OSError as e:
            _error(f"{path}: cannot write the report: {e.strerror or e}")
            return False
    return True


def _fails(severity: str, fail_on: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(fail_on)


def _write(linted: List[files.FileResult], o: _Output, fmt: str, color: Optional[bool],
           options: engine.Options, fix: bool, level: str, out: TextIO, n_failed: int = 0
           ) -> None:
    fix_level = options.fix or ("unsafe" if level == "unsafe" else None)
    if o.statistics:
        report.write_statistics(linted, out, fmt, fix_level, n_failed)
    elif fmt == "json":
        report.write_json(linted, out)
    elif fmt == "github":
        report.write_github(linted, out)
    elif fmt == "sarif":
        report.write_sarif(linted, out, rules_mod.all_rules())
    elif fmt == "gitlab":
        report.write_gitlab(linted, out)
    else:
        report.write_text(linted, out, color=color, fix_level=fix_level, fixing=fix,
                          concise=fmt == "concise", show_fixes=o.show_fixes,
                          show_details=o.show_details, n_failed=n_failed)


def _exit_code(results: List[files.FileResult], missing: bool, failing: bool,
               exit_zero: bool) -> int:
    """2 for a missing path, an internal error, or when nothing could be linted; 1 for failing
    findings or a file that could not be linted; --exit-zero turns 1 (and a dropped fix,
    initlint's own bug in an otherwise linted file) into 0."""
    errors = [r for r in results if r.error]
    linted = [r for r in results if not r.error]
    if missing or (errors and not linted) or any(r.internal for r in errors):
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if any(r.problems for r in results):
        return EXIT_ERROR
    return EXIT_FINDINGS if failing or errors else EXIT_CLEAN


def _stdin(name: str, resolver: config.Resolver, options: engine.Options, o: _Output,
           fix: bool, diff: bool, exit_zero: bool, level: str) -> int:
    data = sys.stdin.buffer.read()
    try:
        target = files.Target(name, resolver.for_path(name if name != "-" else "."))
    except config.ConfigError as e:
        _error(str(e))
        return EXIT_ERROR
    res = files.lint_bytes(name, data, files.options_for(target, options), want_diff=diff)
    if (fix or options.add_noqa) and not diff:
        # Like ruff: the fixed source goes to stdout, the report to stderr; no file is written.
        sys.stdout.buffer.write(res.new_data if res.new_data is not None else data)
        sys.stdout.flush()
        if options.add_noqa:
            return _added([res], missing=False)
        return _finish([res], o, options, fix, diff, exit_zero, level, missing=False,
                       n_files=1, out=sys.stderr)
    return _finish([res], o, options, fix, diff, exit_zero, level, missing=False, n_files=1)


def _explain(code: str, color: Optional[bool]) -> int:
    r = rules_mod.get(code)
    if r is None:
        _error(f"unknown rule code {code!r}; see `initlint --list-rules`")
        return EXIT_ERROR
    fix = {"safe": "Fix is always available (safe).",
           "unsafe": "Fix is available with `--unsafe-fixes` (unsafe).",
           None: "No fix."}[r.fix]
    default = "on by default" if r.default_enabled else "off by default (select it to enable)"
    severity = " or ".join(r.severities) if len(r.severities) < 3 else (
        ", ".join(r.severities[:-1]) + " or " + r.severities[-1])
    text = f"# {r.name} ({r.code})\n\nSeverity: {severity}; {default}. {fix}\n\n{r.doc}\n"
    if sys.stdout.isatty() and color is not False:
        from rich.markdown import Markdown

        report.console(sys.stdout, color).print(Markdown(text))
    else:
        sys.stdout.write(text)
    return EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = list(argv) if argv is not None else sys.argv[1:]
    report.degrade_unencodable(sys.stdout)
    report.degrade_unencodable(sys.stderr)
    try:
        if args[:1] == ["simulate"]:
            from .simulate import simulate_cmd

            simulate_cmd.main(args=args[1:], prog_name="initlint simulate",
                              standalone_mode=True)
        if args[:1] == ["inspect"]:
            from .inspect import inspect_cmd

            inspect_cmd.main(args=args[1:], prog_name="initlint inspect", standalone_mode=True)
        cli.main(args=args, prog_name="initlint", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
