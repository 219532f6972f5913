"""Lint one source text: parse once, run the readers, run the rules, resolve ranges, fix.

Everything here works on text; files, processes and output live elsewhere.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from . import noqa
from .analysis.context import current as current_file
from .analysis.modules import PARSED
from . import rules as rules_mod
from .model import Diagnostic, Edit
from .parsing import parse_module
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
    #: The lowest severity whose findings make the run fail (exit 1).
    fail_on: str = "warning"

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
    #: initlint's own bugs met on this text (a fix that would not parse), one line each.
    problems: List[str] = field(default_factory=list)


class ParseError(Exception):
    """A syntax error in the linted text: where (1-based line and column, when known) and what."""

    def __init__(self, line: Optional[int], column: Optional[int], what: str) -> None:
        super().__init__(what)
        self.line = line
        self.column = column
        self.what = what

    def __str__(self) -> str:
        return f"syntax error: {self.what}"


def parse(text: str) -> cst.Module:
    try:
        return parse_module(text)
    except cst.ParserSyntaxError as e:
        raise _syntax_error(text, e) from None
    except (RecursionError, MemoryError):
        raise ParseError(None, None, "expressions nested too deeply for the parser") from None


def _parse_shared(text: str) -> cst.Module:
    """Parse a file of a run once: a module of the tree that another file imported is
    already parsed, and one linted first is kept for the files that import it."""
    ctx = current_file()
    if ctx is None or ctx.resolver is None:
        return parse(text)
    module = PARSED.get(ctx.path, text)
    if module is None:
        module = parse(text)
        PARSED.put(ctx.path, text, module)
    return module


_AT = re.compile(r"^(?:parser|tokenizer) error: (?:error at (\d+):(\d+): )?")


def _syntax_error(text: str, e: cst.ParserSyntaxError) -> "ParseError":
    """Where and what, in Python's own words when Python's parser rejects the text too
    (libcst's messages list every token it expected, and its positions are often off)."""
    try:
        ast.parse(text)
    except SyntaxError as py:
        what = (py.msg or "invalid syntax").strip()
        return ParseError(py.lineno, py.offset, what)
    except (ValueError, RecursionError, MemoryError):
        pass
    msg = e.message.strip().splitlines()[0] if e.message.strip() else "invalid syntax"
    m = _AT.match(msg)
    line, column = e.raw_line, e.raw_column + 1
    if m and m.group(1):
        line, column = int(m.group(1)), int(m.group(2)) + 1
    what = msg[m.end():] if m else msg
    if what.startswith("expected one of") and len(what) > 60:
        what = what[:what.rfind(",", 0, 60)] + ", ..."
    return ParseError(line, column, f"{what} (a syntax this version of libcst cannot read)")


def wants(data: bytes) -> bool:
    """Cheap prefilter: can this file contain a model any reader understands?"""
    return any(t in data for r in READERS for t in r.triggers)


def lint_text(text: str, enabled: Sequence[str], settings: Optional[Dict[str, float]] = None,
              explicit: Sequence[str] = ()) -> List[Finding]:
    return _lint(text, enabled, settings, explicit, [])


def _lint(text: str, enabled: Sequence[str], settings: Optional[Dict[str, float]],
          explicit: Sequence[str], problems: List[str]) -> List[Finding]:
    """Findings on ``text``; a fix initlint got wrong is dropped and described in ``problems``."""
    module = _parse_shared(text)
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
    for d in diagnostics:
        d.message += _built_by(module, d, positions) + _assumed(d)
    findings = [_resolve(d, positions, index, problems) for d in diagnostics]
    findings = _dedupe(findings)
    findings.sort(key=Finding.sort_key)
    checker = _ParseCheck(text)
    for f in findings:
        if f.fix is None:
            continue
        new = _apply(text, f.fix.edits)
        if new == text:
            problems.append(_fix_problem(f, "changes nothing, so it was not offered"))
            f.fix = None
        elif not checker.parses(new):
            problems.append(_fix_problem(f, "would not parse, so it was not offered"))
            f.fix = None
    return findings


def _fix_problem(f: Finding, what: str) -> str:
    """initlint's own error about a finding's fix, one line."""
    return (f"internal error: the {f.code} fix at line {f.line} {what} (please report this "
            f"with the file)")


class _ParseCheck:
    """Does a variant of a text parse? Python's own parser answers in a fraction of libcst's
    time; libcst answers when Python's parser does not accept the original (a newer syntax)."""

    def __init__(self, original: str) -> None:
        self.fast = _ast_parses(original)

    def parses(self, text: str) -> bool:
        if self.fast:
            return _ast_parses(text)
        try:
            parse_module(text)
        except (cst.ParserSyntaxError, RecursionError, MemoryError):
            return False
        return True


def _ast_parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _dedupe(findings: List[Finding]) -> List[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.line, f.column, f.end_line, f.end_column, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


#: Where each node of a module is (libcst's PositionProvider).
_Positions = Mapping[cst.CSTNode, CodeRange]


def _built_by(module: cst.Module, d: Diagnostic, positions: _Positions) -> str:
    """A detail line naming the calls that built the layer, when it was built inside a
    function (the finding holds for that call, not necessarily for the function's others)."""
    layer = d.layer
    if layer is None or not (layer.activation.via or any(w.init.via for w in layer.weights)):
        return ""  # nothing about the layer came through a call's arguments
    calls = [s.node for s in layer.calls if isinstance(s.node, cst.Call) and s.node in positions]
    if not calls:
        return ""
    named = [f"{_callee(module, c)}() at {positions[c].start.line}:{positions[c].start.column + 1}"
             for c in calls]
    return f"\nBuilt by the call to {', then '.join(named)}."


def _assumed(d: Diagnostic) -> str:
    """A detail line when nothing in the linted files builds the layer: the finding holds for
    the defaults initlint built it with, and may not for the models that use it."""
    what = d.layer.assumed if d.layer is not None else ""
    if not what:
        return ""
    verb = "calls" if what.endswith("()") else "builds"
    return (f"\nNothing in the linted files {verb} {what}: judged with its defaults, not "
            f"inside a model that uses it.")


def _callee(module: cst.Module, call: cst.CSTNode) -> str:
    func = call.func if isinstance(call, cst.Call) else call
    text = " ".join(module.code_for_node(func).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _resolve(d: Diagnostic, positions: _Positions, index: LineIndex, problems: List[str]
             ) -> Finding:
    r = positions[d.node]
    rule = rules_mod.get(d.code)
    finding = Finding(
        code=d.code,
        name=rule.name if rule else d.code,
        severity=d.severity,
        message=d.message,
        line=r.start.line,
        column=r.start.column + 1,
        end_line=r.end.line,
        end_column=r.end.column + 1,
    )
    if d.fix is not None:
        edits = [_edit_out(e, positions, index) for e in d.fix.edits]
        resolved = [e for e in edits if e is not None]
        if len(resolved) == len(edits):
            finding.fix = FixOut(d.fix.applicability, d.fix.message, resolved)
        else:
            problems.append(_fix_problem(finding, "would not parse, so it was not offered"))
    return finding


def _edit_out(e: Edit, positions: _Positions, index: LineIndex) -> Optional[EditOut]:
    er = positions[e.node]
    start = index.offset(er.start.line, er.start.column)
    end = index.offset(er.end.line, er.end.column)
    if e.where == "after":
        start = end
    elif e.where == "before":
        end = start
    content = e.text
    if e.where == "rewrite":
        line_start = index.starts[er.start.line - 1]
        line = index.text[line_start:start]
        changed = e.rewrite.span(index.text[start:end], line[:len(line) - len(line.lstrip())])
        if changed is None:
            return None  # the node's code is not the file's text: the edit would be wrong
        a, b, content = changed
        start, end = start + a, start + b
    sl, sc = index.position(start)
    el, ec = index.position(end)
    return EditOut(start, end, content, sl, sc + 1, el, ec + 1)


def fixable(f: Finding, level: Optional[str]) -> bool:
    if f.fix is None or level is None:
        return False
    return f.fix.applicability == "safe" or level == "unsafe"


def apply_fixes(text: str, findings: Sequence[Finding], level: str,
                problems: Optional[List[str]] = None,
                applied: Optional[List[Finding]] = None) -> Tuple[str, int]:
    """Apply the fixes allowed at ``level``, one at a time: a fix whose edits overlap an
    earlier one waits for the next pass, and a fix after which the text would not parse is
    dropped alone (and described in ``problems``). Returns the new text and how many findings
    were fixed."""
    chosen: List[EditOut] = []
    taken: List[Tuple[int, int]] = []
    count = 0
    checker = _ParseCheck(text)
    for f in findings:
        if not fixable(f, level):
            continue
        assert f.fix is not None
        new = [e for e in f.fix.edits if (e.start, e.end, e.content) not in
               {(c.start, c.end, c.content) for c in chosen}]
        if any(_overlaps(e, taken) for e in new):
            continue
        if new and not checker.parses(_apply(text, chosen + new)):
            if problems is not None:
                problems.append(_fix_problem(f, "would not parse, so it was not applied"))
            continue
        chosen.extend(new)
        taken.extend((e.start, e.end) for e in new)
        count += 1
        if applied is not None:
            applied.append(f)
    if not chosen:
        return text, 0
    return _apply(text, chosen), count


def _apply(text: str, edits: Sequence[EditOut]) -> str:
    out = text
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: e.start] + e.content + out[e.end:]
    return out


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
                explicit: Sequence[str] = (), respect_noqa: bool = True,
                problems: Optional[List[str]] = None) -> List[Finding]:
    """:func:`lint_text`, then suppression comments and IL900 (unused suppressions)."""
    findings = _lint(text, enabled, settings, explicit, problems if problems is not None else [])
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
                 known: Set[str]) -> List[Finding]:
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
    problems: List[str] = []

    def lint(t: str) -> List[Finding]:
        found: List[str] = []
        out = lint_source(t, enabled, options.settings, explicit, options.respect_noqa, found)
        problems[:] = found  # what the latest text's findings say
        return out

    findings = lint(text)
    if options.add_noqa:
        new, n = add_noqa(text, findings)
        if n:
            try:
                parse(new)
            except ParseError:
                return TextResult(findings, text, problems=problems)
            return TextResult(lint(new), new, noqa_added=n, problems=problems)
        return TextResult(findings, text, problems=problems)
    if options.fix is None:
        return TextResult(findings, text, problems=problems)
    fixed_total = 0
    current = text
    dropped: List[str] = []
    previous: Set[Tuple[str, int, int, str]] = set()
    for _ in range(MAX_FIX_PASSES):
        for f in findings:
            if f.fix is not None and _key(f) in previous:
                # Its fix was applied and the finding is still there: a fix that does not do
                # what it says would be applied again on every pass.
                dropped.append(_fix_problem(
                    f, "did not remove its finding, so it was applied once"))
                f.fix = None
        applied: List[Finding] = []
        new, n = apply_fixes(current, findings, options.fix, dropped, applied)
        previous = {_key(f) for f in applied}
        if n == 0 or new == current:
            break
        saved = list(problems)
        try:
            new_findings = lint(new)
        except ParseError:
            # Never write code that does not parse: keep what we had before this pass.
            problems[:] = saved
            dropped.append("internal error: fixes made the file unparseable, so the last "
                           "pass of fixes was not applied (please report this with the file)")
            break
        current, findings = new, new_findings
        fixed_total += n
    return TextResult(findings, current, fixed_total, problems=_unique(problems + dropped))


def _key(f: Finding) -> Tuple[str, int, int, str]:
    return (f.code, f.line, f.column, f.message)


def _unique(items: List[str]) -> List[str]:
    return list(dict.fromkeys(items))
