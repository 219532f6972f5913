"""Output formats: ``text`` (the default, with source excerpts), ``concise``, ``json``,
``github``, ``sarif`` and ``gitlab``, plus ``--statistics``.

The JSON schema is a public interface, documented in the README and tested.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import IO, TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Set, Tuple, TypedDict

from . import __version__
from .engine import EditOut, Finding, fixable
from .files import FileResult

if TYPE_CHECKING:
    from rich.console import Console

    from .rules import Rule

FORMATS = ("text", "concise", "json", "github", "sarif", "gitlab")
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def location(path: str, f: Finding) -> str:
    """``path:line:col``; in a notebook ``path:cell N:line L:col C``."""
    if f.cell is not None:
        return f"{path}:{cell_location(f.cell, f.line, f.column)}"
    return f"{path}:{f.line}:{f.column}"


def cell_location(cell: int, line: int, column: int) -> str:
    """Where in a notebook, the same way in every format: ``cell 3:line 2:col 5``."""
    return f"cell {cell}:line {line}:col {column}"


def _pairs(results: Sequence[FileResult]) -> List[Tuple[FileResult, Finding]]:
    return [(r, f) for r in results for f in r.findings]


# --- json ----------------------------------------------------------------------------------


def finding_to_json(path: str, f: Finding) -> Dict[str, Any]:
    first, details = split_message(f.message)
    fix = None
    if f.fix is not None:
        fix = {
            "applicability": f.fix.applicability,
            "message": f.fix.message,
            "edits": [
                {"content": e.content, "line": e.line, "column": e.column,
                 "end_line": e.end_line, "end_column": e.end_column}
                for e in f.fix.edits
            ],
        }
    out: Dict[str, Any] = {
        "path": path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "message": first,
        "details": "\n".join(details),
        "fix": fix,
    }
    if f.cell is not None:
        out["cell"] = f.cell
    return out


def write_json(results: Sequence[FileResult], out: IO[str]) -> None:
    items = [finding_to_json(r.path, f) for r, f in _pairs(results)]
    json.dump(items, out, indent=2, ensure_ascii=False)
    out.write("\n")


# --- text and concise ----------------------------------------------------------------------


def console(out: IO[str], color: Optional[bool], **kwargs: Any) -> Console:
    """A rich console on ``out``. ``color=False`` (``NO_COLOR``, a report file) means no styling
    at all, bold included; ``None`` leaves it to the terminal. Emoji codes are never expanded."""
    from rich.console import Console

    if color is False:
        kwargs["color_system"] = None
    return Console(file=out, force_terminal=color if color else None, no_color=color is False,
                   highlight=False, soft_wrap=True, emoji=False, **kwargs)


#: What initlint's own messages use beyond ASCII, for a stream that cannot encode it.
_ASCII = {"√": "sqrt", "≈": "~", "·": "*", "×": "x", "→": "->", "←": "<-", "–": "-", "—": "-",
          "…": "...", "≤": "<=", "≥": ">=", "±": "+-", "‘": "'", "’": "'", "“": '"', "”": '"',
          "²": "^2", "⁻": "^-", "¹": "1", "½": "1/2"}


def _degrade(exc: UnicodeError) -> Tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(_ASCII.get(ch, "?") for ch in text), exc.end


def degrade_unencodable(stream: Any) -> None:
    """Make ``stream`` write ``?`` (or an ASCII spelling) for what its encoding cannot encode,
    instead of raising ``UnicodeEncodeError`` (``PYTHONIOENCODING=ascii``, a legacy console)."""
    import codecs

    try:
        codecs.lookup_error("initlint.degrade")
    except LookupError:
        codecs.register_error("initlint.degrade", _degrade)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "√≈·×→".encode(encoding)
        return
    except (UnicodeEncodeError, LookupError):
        pass
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="initlint.degrade")
        except (ValueError, OSError):
            pass


def write_text(results: Sequence[FileResult], out: IO[str], *, color: Optional[bool],
               fix_level: Optional[str], fixing: bool, concise: bool = False,
               show_fixes: bool = False, show_details: bool = False, n_failed: int = 0) -> None:
    from rich.markup import escape

    con = console(out, color)
    offer = fix_level or "safe"
    for r, f in _pairs(results):
        can = fixable(f, offer)
        mark = "[*] " if can else ""
        style = SEVERITY_STYLE.get(f.severity, "")
        first, details = split_message(f.message)
        con.print(f"[bold]{escape(location(r.path, f))}[/bold]: "
                  f"[{style}]{f.code}[/{style}] {escape(mark)}{escape(first)}")
        if concise:
            continue
        if show_details:
            for line in details:
                con.print("  " + escape(line))
        _excerpt(con, r, f, style)
        if f.fix is not None:
            con.print(f"  [cyan]= help[/cyan]: {escape(f.fix.message)}"
                      + ("" if can else f" ({f.fix.applicability} fix"
                         f"{', with --unsafe-fixes' if f.fix.applicability == 'unsafe' else ''})"))
            if show_fixes:
                _fix_diff(con, r, f)
        con.print()
    _summary(con, results, fix_level, fixing, show_fixes, n_failed)


def split_message(message: str) -> Tuple[str, List[str]]:
    """A finding's message is one short line, then details (figures, reasoning) on more lines."""
    lines = [line for line in message.splitlines() if line.strip()] or [""]
    return lines[0], lines[1:]


def _excerpt(con: Console, r: FileResult, f: Finding, style: str) -> None:
    from rich.markup import escape

    last = min(f.end_line, f.line + 4)
    lines = [(n, r.lines.get((f.cell, n))) for n in range(f.line, last + 1)]
    if any(text is None for _, text in lines):
        return
    width = len(str(last))
    pad = " " * width
    con.print(f"{pad} [blue]|[/blue]")
    for n, text in lines:
        assert text is not None
        con.print(f"[blue]{n:>{width}} |[/blue] {escape(text.expandtabs(1))}")
        start = f.column - 1 if n == f.line else len(text) - len(text.lstrip())
        end = f.end_column - 1 if n == f.end_line else len(text)
        if end <= start:
            end = start + 1
        marks = " " * start + "^" * (end - start)
        tail = f" {f.code}" if n == last else ""
        con.print(f"{pad} [blue]|[/blue] [{style}]{marks}{tail}[/{style}]")
    con.print(f"{pad} [blue]|[/blue]")


def apply_to_lines(lines: Dict[int, str], edits: Sequence[EditOut]
                   ) -> Tuple[List[int], List[str]]:
    """Apply fix edits (1-based line/column, end exclusive) to the lines they touch; returns
    the old line numbers and the new lines."""
    lo = min(e.line for e in edits)
    hi = max(e.end_line for e in edits)
    numbers = list(range(lo, hi + 1))
    text = "\n".join(lines[n] for n in numbers)
    starts: Dict[int, int] = {}
    off = 0
    for n in numbers:
        starts[n] = off
        off += len(lines[n]) + 1
    spans = sorted(((starts[e.line] + e.column - 1, starts[e.end_line] + e.end_column - 1,
                     e.content) for e in edits), reverse=True)
    for s, t, content in spans:
        text = text[:s] + content + text[t:]
    return numbers, text.split("\n")


def _fix_diff(con: Console, r: FileResult, f: Finding) -> None:
    from rich.markup import escape

    assert f.fix is not None
    lines = {n: t for (cell, n), t in r.lines.items() if cell == f.cell}
    if not f.fix.edits:
        return
    lo = min(e.line for e in f.fix.edits)
    hi = max(e.end_line for e in f.fix.edits)
    if any(n not in lines for n in range(lo, hi + 1)):
        return  # the lines between two edits were not kept (too far apart to show)
    numbers, new = apply_to_lines(lines, f.fix.edits)
    label = "Safe fix" if f.fix.applicability == "safe" else "Unsafe fix"
    con.print(f"  [cyan]{label}[/cyan]")
    width = len(str(numbers[-1] + max(0, len(new) - len(numbers))))
    for old_part, new_part in _hunks(numbers, [lines[n] for n in numbers], new):
        for n, text in old_part:
            con.print(f"  [red]{n:>{width}} - {escape(text)}[/red]")
        for n, text in new_part:
            con.print(f"  [green]{n:>{width}} + {escape(text)}[/green]")


Numbered = List[Tuple[int, str]]


def _hunks(numbers: List[int], old: List[str], new: List[str]) -> List[Tuple[Numbered, Numbered]]:
    """The changed lines of a fix: line by line when it keeps the line count (edits on lines
    apart show only those lines), else the whole span."""
    if len(old) != len(new):
        return [(list(zip(numbers, old)), [(numbers[0] + i, t) for i, t in enumerate(new)])]
    return [([(n, a)], [(n, b)]) for n, a, b in zip(numbers, old, new) if a != b]


def _summary(con: Console, results: Sequence[FileResult], fix_level: Optional[str],
             fixing: bool, show_fixes: bool, n_failed: int = 0) -> None:
    """The lines after the findings: what was fixed, what was found, what could be fixed."""
    found = [f for _, f in _pairs(results)]
    n_fixed = sum(r.fixed for r in results) if fixing else 0
    if show_fixes and n_fixed:
        _fixed_per_file(con, results, n_fixed)
    _outcome(con, found, n_fixed, n_failed)
    if not fixing:
        _fix_hint(con, found, fix_level)
    _unsafe_hint(con, found, fix_level)


def _fixed_per_file(con: Console, results: Sequence[FileResult], n_fixed: int) -> None:
    """``--show-fixes`` while fixing: how many findings were fixed in each file."""
    con.print(f"Fixed {_plural(n_fixed, 'finding')}:", markup=False)
    for r in results:
        if r.fixed:
            con.print(f"  - {r.path}: {r.fixed} fixed", markup=False)


def _outcome(con: Console, found: Sequence[Finding], n_fixed: int, n_failed: int) -> None:
    """What was fixed and what remains, or what was found, or that all checks passed; then
    the files that could not be linted."""
    total = len(found)
    counts = _severity_counts(found)
    if n_fixed:
        con.print(f"Fixed {_plural(n_fixed, 'finding')}, {total} remaining"
                  f"{' (' + counts + ')' if counts else ''}.")
    elif total:
        con.print(f"Found {_plural(total, 'finding')} ({counts}).")
    else:
        con.print(_clean_line(n_failed), markup=False)
    if n_failed and total:
        con.print(_failed_line(n_failed), markup=False)


def _fix_hint(con: Console, found: Sequence[Finding], fix_level: Optional[str]) -> None:
    """How many findings ``--fix`` would fix (when not fixing)."""
    n_fixable = sum(1 for f in found if fixable(f, fix_level or "safe"))
    if n_fixable:
        con.print(f"[*] {n_fixable} fixable with `initlint --fix"
                  f"{' --unsafe-fixes' if fix_level == 'unsafe' else ''}`.", markup=False)


def _unsafe_hint(con: Console, found: Sequence[Finding], fix_level: Optional[str]) -> None:
    """How many more fixes ``--unsafe-fixes`` would offer."""
    if fix_level == "unsafe":
        return
    offer = fix_level or "safe"
    n_hidden = sum(1 for f in found if f.fix is not None and not fixable(f, offer))
    if n_hidden:
        con.print(f"({n_hidden} more fix{'es' if n_hidden != 1 else ''} "
                  f"available with `--unsafe-fixes`.)", markup=False)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _severity_counts(found: Sequence[Finding]) -> str:
    """"1 error, 2 warnings, 3 info" (info has no plural)."""
    parts = []
    for level in ("error", "warning", "info"):
        n = sum(1 for f in found if f.severity == level)
        if n:
            parts.append(f"{n} {level}" if level == "info" else _plural(n, level))
    return ", ".join(parts)


def _failed_line(n_failed: int) -> str:
    return (f"{n_failed} file{'s' if n_failed != 1 else ''} could not be linted "
            f"(see the errors above).")


def _clean_line(n_failed: int) -> str:
    """The summary of a run without findings; never "All checks passed!" when a file could
    not be linted."""
    if n_failed:
        return "No findings in the files that were linted; " + _failed_line(n_failed)
    return "All checks passed!"


class StatisticsRow(TypedDict):
    """One rule's line in ``--statistics`` (and an item of its JSON)."""

    code: str
    name: str
    count: int
    fixable: bool


def statistics(results: Sequence[FileResult], fix_level: Optional[str]
               ) -> List[StatisticsRow]:
    rows: Dict[str, StatisticsRow] = {}
    for _, f in _pairs(results):
        row = rows.setdefault(f.code, {"code": f.code, "name": f.name, "count": 0,
                                       "fixable": False})
        row["count"] += 1
        row["fixable"] = row["fixable"] or fixable(f, fix_level or "safe")
    return sorted(rows.values(), key=lambda r: (-r["count"], r["code"]))


def write_statistics(results: Sequence[FileResult], out: IO[str], fmt: str,
                     fix_level: Optional[str], n_failed: int = 0) -> None:
    rows = statistics(results, fix_level)
    if fmt == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    width = max((len(str(r["count"])) for r in rows), default=1)
    for r in rows:
        out.write(f"{r['count']:>{width}}\t{r['code']}\t{'[*]' if r['fixable'] else '[ ]'}\t"
                  f"{r['name']}\n")
    total = sum(r["count"] for r in rows)
    out.write(f"Found {total} finding{'s' if total != 1 else ''}.\n" if total
              else _clean_line(n_failed) + "\n")


# --- CI formats ----------------------------------------------------------------------------


def project_root(env_var: Optional[str] = None) -> str:
    """Where CI paths are relative to: the CI's checkout variable, else the git work tree
    around the working directory, else the working directory."""
    if env_var and os.environ.get(env_var):
        return os.path.abspath(os.environ[env_var])
    d = os.path.abspath(os.getcwd())
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return os.path.abspath(os.getcwd())
        d = parent


def relative(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), root)
    return rel.replace(os.sep, "/")


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _by_severity(pairs: List[Tuple[FileResult, Finding]]) -> List[Tuple[FileResult, Finding]]:
    return sorted(pairs, key=lambda p: SEVERITY_RANK.get(p[1].severity, 3))


def write_github(results: Sequence[FileResult], out: IO[str]) -> None:
    """GitHub workflow commands, most severe first (GitHub keeps only 10 of each kind per
    step), and a Markdown table of every finding in ``$GITHUB_STEP_SUMMARY`` when set."""
    root = project_root("GITHUB_WORKSPACE")
    pairs = _by_severity(_pairs(results))
    for r, f in pairs:
        path = relative(r.path, root)
        props = [f"file={_escape_property(path)}"]
        message = f.message
        if f.cell is not None:
            message = f"{cell_location(f.cell, f.line, f.column)}: {message}"
        else:
            props.append(f"line={f.line}")
            props.append(f"endLine={f.end_line}")
            if f.line == f.end_line:
                props.append(f"col={f.column}")
                props.append(f"endColumn={f.end_column}")
        props.append(f"title={_escape_property(f'{f.code} {f.name}')}")
        out.write(f"::{GITHUB_LEVEL.get(f.severity, 'warning')} {','.join(props)}::"
                  f"{_escape_data(message)}\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(step_summary(pairs, root))


def _md_cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def step_summary(pairs: List[Tuple[FileResult, Finding]], root: str) -> str:
    if not pairs:
        return "### initlint\n\nAll checks passed!\n\n"
    lines = ["### initlint", "",
             f"{len(pairs)} finding{'s' if len(pairs) != 1 else ''} "
             "(GitHub shows at most 10 annotations of each severity per step).", "",
             "| severity | location | code | message |", "|---|---|---|---|"]
    for r, f in pairs:
        loc = location(relative(r.path, root), f)
        lines.append(f"| {f.severity} | `{_md_cell(loc)}` | {f.code} {f.name} | "
                     f"{_md_cell(f.message)} |")
    return "\n".join(lines) + "\n\n"


def _line_text(r: FileResult, f: Finding) -> str:
    return (r.lines.get((f.cell, f.line)) or "").strip()


def _fingerprints(pairs: List[Tuple[FileResult, Finding]], root: str) -> List[str]:
    """Stable across runs and line moves: the code, the file and the flagged line's text,
    plus an occurrence count for identical lines."""
    seen: Dict[str, int] = {}
    out: List[str] = []
    for r, f in pairs:
        key = "\0".join([f.code, relative(r.path, root), str(f.cell or ""), _line_text(r, f)])
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        n = seen.get(digest, 0) + 1
        seen[digest] = n
        out.append(f"{digest}:{n}")
    return out


SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _doc_section(doc: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    return " ".join(m.group(1).split()) if m else ""


def sarif(results: Sequence[FileResult], rules: Sequence[Rule]) -> Dict[str, Any]:
    root = project_root("GITHUB_WORKSPACE")
    index = {rule.code: i for i, rule in enumerate(rules)}
    pairs = _pairs(results)
    out_results = [_sarif_result(r, f, fp, root, index)
                   for (r, f), fp in zip(pairs, _fingerprints(pairs, root))]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "initlint", "version": __version__,
                                "semanticVersion": __version__,
                                "rules": [_sarif_rule(rule) for rule in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": _root_uri(root)}},
            "columnKind": "unicodeCodePoints",
            "results": out_results,
        }],
    }


def _sarif_rule(rule: Rule) -> Dict[str, Any]:
    """A rule's ``reportingDescriptor``: its summary, documentation and default level."""
    full = " ".join(x for x in (_doc_section(rule.doc, "What it does"),
                                _doc_section(rule.doc, "Why is this bad?")) if x) or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": full},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": SARIF_LEVEL.get(rule.severity, "warning"),
                                 "enabled": bool(rule.default_enabled)},
        "properties": {"tags": ["initialization", "neural-networks"],
                       "fix": rule.fix or "none"},
    }


def _sarif_result(r: FileResult, f: Finding, fingerprint: str, root: str,
                  index: Dict[str, int]) -> Dict[str, Any]:
    """A finding as a SARIF ``result``; in a notebook the region is the file's first line
    and the message says where in which cell."""
    message = f.message
    region: Dict[str, int]
    if f.cell is not None:
        message = f"{cell_location(f.cell, f.line, f.column)}: {message}"
        region = {"startLine": 1}
    else:
        region = {"startLine": f.line, "startColumn": f.column, "endLine": f.end_line,
                  "endColumn": f.end_column}
    item: Dict[str, Any] = {
        "ruleId": f.code,
        "level": SARIF_LEVEL.get(f.severity, "warning"),
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(relative(r.path, root)),
                                 "uriBaseId": "%SRCROOT%"},
            "region": region}}],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
    }
    if f.code in index:
        item["ruleIndex"] = index[f.code]
    return item


def _uri(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/")


def _root_uri(root: str) -> str:
    from pathlib import Path

    uri = Path(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def write_sarif(results: Sequence[FileResult], out: IO[str], rules: Sequence[Rule]) -> None:
    json.dump(sarif(results, rules), out, indent=2, ensure_ascii=False)
    out.write("\n")


GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def gitlab(results: Sequence[FileResult]) -> List[Dict[str, Any]]:
    root = project_root("CI_PROJECT_DIR")
    pairs = _pairs(results)
    items: List[Dict[str, Any]] = []
    used: Set[str] = set()
    for (r, f), fp in zip(pairs, _fingerprints(pairs, root)):
        digest = hashlib.md5(fp.encode("utf-8")).hexdigest()  # noqa: S324 - an id, not security
        salt = 0
        while digest in used:
            salt += 1
            digest = hashlib.md5(f"{fp}:{salt}".encode("utf-8")).hexdigest()  # noqa: S324
        used.add(digest)
        message = f.message
        lines = {"begin": f.line, "end": f.end_line}
        if f.cell is not None:
            message = f"{cell_location(f.cell, f.line, f.column)}: {message}"
            lines = {"begin": 1, "end": 1}
        items.append({
            "description": f"{f.code} {split_message(message)[0]}",
            "check_name": f.code,
            "fingerprint": digest,
            "severity": GITLAB_SEVERITY.get(f.severity, "minor"),
            "location": {"path": relative(r.path, root), "lines": lines},
        })
    return items


def write_gitlab(results: Sequence[FileResult], out: IO[str]) -> None:
    json.dump(gitlab(results), out, indent=2, ensure_ascii=False)
    out.write("\n")


def rules_table(rules: Sequence[Rule], out: IO[str], color: Optional[bool]) -> None:
    from rich.table import Table

    con = console(out, color, width=200 if not out.isatty() else None)
    table = Table(box=None, show_edge=False, pad_edge=False)
    for col in ("code", "name", "default", "severity", "fix", "summary"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.code, r.name, "on" if r.default_enabled else "off", r.severity_range,
                      r.fix or "-", r.summary)
    con.print(table)
