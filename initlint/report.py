"""Output formats. ``text`` (rich on a terminal, plain otherwise) and ``json``.

The JSON schema is a public interface, documented in the README and tested.
"""

from __future__ import annotations

import json
from typing import IO, Dict, List, Optional, Sequence

from .engine import Finding, fixable
from .files import FileResult

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def finding_to_json(path: str, f: Finding) -> Dict:
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
    return {
        "path": path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "message": f.message,
        "fix": fix,
    }


def write_json(results: Sequence[FileResult], out: IO[str]) -> None:
    items = [finding_to_json(r.path, f) for r in results for f in r.findings]
    json.dump(items, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_text(results: Sequence[FileResult], out: IO[str], *, color: Optional[bool],
               fix_level: Optional[str], fixing: bool) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=out, force_terminal=color if color else None,
                      no_color=color is False, highlight=False, soft_wrap=True)
    total = 0
    counts = {"error": 0, "warning": 0, "info": 0}
    n_fixable = 0
    n_unsafe_hidden = 0
    n_fixed = sum(r.fixed for r in results)
    offer = fix_level or "safe"
    for r in results:
        for f in r.findings:
            total += 1
            counts[f.severity] = counts.get(f.severity, 0) + 1
            can = fixable(f, offer)
            if can:
                n_fixable += 1
            elif f.fix is not None:
                n_unsafe_hidden += 1
            mark = "[*] " if can else ""
            style = SEVERITY_STYLE.get(f.severity, "")
            console.print(
                f"[bold]{escape(r.path)}[/bold]:{f.line}:{f.column}: "
                f"[{style}]{f.code}[/{style}] {escape(mark)}{escape(f.message)}"
            )
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 and s != 'info' else ''}"
             for s in ("error", "warning", "info") if counts.get(s)]
    if fixing and n_fixed:
        console.print(f"Fixed {n_fixed} finding{'s' if n_fixed != 1 else ''}, "
                      f"{total} remaining{' (' + ', '.join(parts) + ')' if parts else ''}.")
    elif total:
        console.print(f"Found {total} finding{'s' if total != 1 else ''} ({', '.join(parts)}).")
    else:
        console.print("All checks passed!")
    if not fixing and n_fixable:
        console.print(f"[*] {n_fixable} fixable with `initlint --fix"
                      f"{' --unsafe-fixes' if fix_level == 'unsafe' else ''}`.", markup=False)
    if n_unsafe_hidden and fix_level != "unsafe":
        console.print(f"({n_unsafe_hidden} more fix{'es' if n_unsafe_hidden != 1 else ''} "
                      f"available with `--unsafe-fixes`.)", markup=False)


def rules_table(rules: List, out: IO[str], color: Optional[bool]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, force_terminal=color if color else None, no_color=color is False,
                      highlight=False, width=200 if not out.isatty() else None)
    table = Table(box=None, show_edge=False, pad_edge=False)
    for col in ("code", "name", "default", "severity", "fix", "summary"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.code, r.name, "on" if r.default_enabled else "off", r.severity,
                      r.fix or "-", r.summary)
    console.print(table)
