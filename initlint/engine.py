"""Lint one source text: parse once, run the readers, run the rules, resolve ranges, fix.

Everything here works on text; files, processes and output live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from . import noqa
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
    #: In a notebook: the 1-based cell number; lines are then lines of that cell.
    cell: Optional[int] = None

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
    #: Already resolved (from a config and the command line); then the selectors are unused.
    enabled_codes: Optional[List[str]] = None
    explicit_codes: Optional[List[str]] = None
    #: Honour suppression comments, line and file ones (``--ignore-noqa`` turns this off).
    respect_noqa: bool = True
    #: ``--add-noqa``: add a directive for every finding instead of fixing.
    add_noqa: bool = False

    def enabled(self) -> List[str]:
        if self.enabled_codes is not None:
            return list(self.enabled_codes)
        return rules_mod.resolve_selection(self.select, self.extend_select, self.ignore)

    def explicit(self) -> List[str]:
        """Enabled codes the user selected by name, prefix or ALL (not merely by default)."""
        if self.explicit_codes is not None:
            return list(self.explicit_codes)
        return rules_mod.explicit_codes(self.select, self.extend_select, self.ignore)


@dataclass
class TextResult:
    findings: List[Finding]
    text: str  # the text after fixes (the input when nothing was fixed)
    fixed: int = 0  # findings fixed
    noqa_added: int = 0  # directives added by --add-noqa


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


UNUSED_NOQA = "IL900"


def lint_source(text: str, enabled: Sequence[str], settings: Optional[Dict[str, float]] = None,
                explicit: Sequence[str] = (), respect_noqa: bool = True) -> List[Finding]:
    """:func:`lint_text`, then suppression comments and IL900 (unused suppressions)."""
    findings = lint_text(text, enabled, settings, explicit)
    want_unused = UNUSED_NOQA in enabled
    if not respect_noqa or not noqa.might_have(text) or not (findings or want_unused):
        return findings
    directives = noqa.scan(text)
    findings = noqa.suppress(findings, directives)
    if want_unused and directives.file_codes != set():
        known = {r.code for r in rules_mod.all_rules()}
        findings.extend(_unused_noqa(text, directives, enabled, known))
        findings.sort(key=Finding.sort_key)
    return findings


def _unused_noqa(text: str, directives: noqa.Directives, enabled: Sequence[str],
                 known: set) -> List[Finding]:
    rule = rules_mod.get(UNUSED_NOQA)
    assert rule is not None
    index = LineIndex(text)
    out = []
    for d, bad, why in noqa.unused(directives, enabled, known):
        if directives.file_codes and all(c in directives.file_codes for c, _, _ in bad):
            continue
        start, end, content = noqa.removal(text, d, bad)
        sl, sc = index.position(d.start)
        el, ec = index.position(d.end)
        es_l, es_c = index.position(start)
        ee_l, ee_c = index.position(end)
        edit = EditOut(start, end, content, es_l, es_c + 1, ee_l, ee_c + 1)
        what = "directive" if len(bad) == len(d.codes or []) else "codes"
        fix = FixOut("safe", f"Remove the unused noqa {what}", [edit])
        out.append(Finding(UNUSED_NOQA, rule.name, rule.severity,
                           f"Unused `noqa` directive ({why})", sl, sc + 1, el, ec + 1, fix))
    return out


def add_noqa(text: str, findings: Sequence[Finding]) -> Tuple[str, int]:
    """``--add-noqa``: the text with a ``# noqa: CODE`` on every line that has a finding."""
    if not findings:
        return text, 0
    directives = noqa.scan(text)
    edits = noqa.add_edits(text, findings, directives)
    out = text
    for start, end, content in sorted(edits, reverse=True):
        out = out[:start] + content + out[end:]
    return out, len(edits)


def lint_and_fix(text: str, options: Options) -> TextResult:
    enabled = options.enabled()
    explicit = options.explicit()

    def lint(t: str) -> List[Finding]:
        return lint_source(t, enabled, options.settings, explicit, options.respect_noqa)

    findings = lint(text)
    if options.add_noqa:
        new, n = add_noqa(text, findings)
        if n:
            try:
                parse(new)
            except ParseError:
                return TextResult(findings, text)
            return TextResult(lint(new), new, noqa_added=n)
        return TextResult(findings, text)
    if options.fix is None:
        return TextResult(findings, text)
    fixed_total = 0
    current = text
    for _ in range(MAX_FIX_PASSES):
        new, n = apply_fixes(current, findings, options.fix)
        if n == 0 or new == current:
            break
        try:
            new_findings = lint(new)
        except ParseError:
            # Never write code that does not parse: keep what we had before this pass.
            break
        current, findings = new, new_findings
        fixed_total += n
    return TextResult(findings, current, fixed_total)
