"""Lint one source text: parse once, run the readers, run the rules, resolve ranges, fix.

Everything here works on text; files, processes and output live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from . import rules as rules_mod
from .model import Diagnostic
from .readers import READERS
from .source import LineIndex

#: How many times ``--fix`` re-lints and re-fixes a file before it stops.
MAX_FIX_PASSES = 10


@dataclass
class EditOut:
    start: int  # string offsets in the text the finding was made on
    end: int
    content: str
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive


@dataclass
class FixOut:
    applicability: str
    message: str
    edits: List[EditOut]


@dataclass
class Finding:
    code: str
    name: str
    severity: str
    message: str
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive
    fix: Optional[FixOut] = None

    def sort_key(self) -> Tuple[int, int, str]:
        return (self.line, self.column, self.code)


@dataclass
class Options:
    select: Optional[Sequence[str]] = None
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    settings: Dict[str, float] = field(default_factory=dict)
    #: None (report only), "safe" or "unsafe" (apply fixes up to that applicability)
    fix: Optional[str] = None

    def enabled(self) -> List[str]:
        return rules_mod.resolve_selection(self.select, self.extend_select, self.ignore)

    def explicit(self) -> List[str]:
        """Enabled codes the user selected by name, prefix or ALL (not merely by default)."""
        return rules_mod.explicit_codes(self.select, self.extend_select, self.ignore)


@dataclass
class TextResult:
    findings: List[Finding]
    text: str  # the text after fixes (the input when nothing was fixed)
    fixed: int = 0  # findings fixed


class ParseError(Exception):
    pass


def parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else "invalid syntax"
        raise ParseError(f"syntax error at line {e.raw_line}, column {e.raw_column + 1}: "
                         f"{msg}") from None
    except (RecursionError, MemoryError):
        raise ParseError("file too deeply nested to parse") from None


def wants(data: bytes) -> bool:
    """Cheap prefilter: can this file contain a model any reader understands?"""
    return any(t in data for r in READERS for t in r.triggers)


def lint_text(text: str, enabled: Sequence[str], settings: Optional[Dict[str, float]] = None,
              explicit: Sequence[str] = ()) -> List[Finding]:
    module = parse(text)
    diagnostics: List[Diagnostic] = []
    for reader in READERS:
        if not any(t.decode() in text for t in reader.triggers):
            continue
        network = reader.read(module, text)
        diagnostics.extend(rules_mod.run_rules(network, enabled, settings, explicit))
    if not diagnostics:
        return []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    index = LineIndex(text)
    findings = [_resolve(d, positions, index) for d in diagnostics]
    findings = _dedupe(findings)
    findings.sort(key=Finding.sort_key)
    return findings


def _dedupe(findings: List[Finding]) -> List[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.line, f.column, f.end_line, f.end_column, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _resolve(d: Diagnostic, positions, index: LineIndex) -> Finding:
    r = positions[d.node]
    rule = rules_mod.get(d.code)
    fix = None
    if d.fix is not None:
        edits = []
        for e in d.fix.edits:
            er = positions[e.node]
            start = index.offset(er.start.line, er.start.column)
            end = index.offset(er.end.line, er.end.column)
            if e.where == "after":
                start = end
            elif e.where == "before":
                end = start
            sl, sc = index.position(start)
            el, ec = index.position(end)
            edits.append(EditOut(start, end, e.text, sl, sc + 1, el, ec + 1))
        fix = FixOut(d.fix.applicability, d.fix.message, edits)
    return Finding(
        code=d.code,
        name=rule.name if rule else d.code,
        severity=d.severity,
        message=d.message,
        line=r.start.line,
        column=r.start.column + 1,
        end_line=r.end.line,
        end_column=r.end.column + 1,
        fix=fix,
    )


def fixable(f: Finding, level: Optional[str]) -> bool:
    if f.fix is None or level is None:
        return False
    return f.fix.applicability == "safe" or level == "unsafe"


def apply_fixes(text: str, findings: Sequence[Finding], level: str) -> Tuple[str, int]:
    """Apply the fixes allowed at ``level``; a fix whose edits overlap an earlier one waits for
    the next pass. Returns the new text and how many findings were fixed."""
    chosen: List[EditOut] = []
    taken: List[Tuple[int, int]] = []
    count = 0
    for f in findings:
        if not fixable(f, level):
            continue
        assert f.fix is not None
        new = [e for e in f.fix.edits if (e.start, e.end, e.content) not in
               {(c.start, c.end, c.content) for c in chosen}]
        if any(_overlaps(e, taken) for e in new):
            continue
        chosen.extend(new)
        taken.extend((e.start, e.end) for e in new)
        count += 1
    if not chosen:
        return text, 0
    out = text
    for e in sorted(chosen, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: e.start] + e.content + out[e.end:]
    return out, count


def _overlaps(e: EditOut, taken: List[Tuple[int, int]]) -> bool:
    for s, t in taken:
        if e.start < t and s < e.end:
            return True
        if e.start == e.end and s < e.start < t:
            return True
        if s == t and e.start < s < e.end:
            return True
    return False


def lint_and_fix(text: str, options: Options) -> TextResult:
    enabled = options.enabled()
    explicit = options.explicit()
    findings = lint_text(text, enabled, options.settings, explicit)
    if options.fix is None:
        return TextResult(findings, text)
    fixed_total = 0
    current = text
    for _ in range(MAX_FIX_PASSES):
        new, n = apply_fixes(current, findings, options.fix)
        if n == 0 or new == current:
            break
        try:
            new_findings = lint_text(new, enabled, options.settings, explicit)
        except ParseError:
            # Never write code that does not parse: keep what we had before this pass.
            break
        current, findings = new, new_findings
        fixed_total += n
    return TextResult(findings, current, fixed_total)
