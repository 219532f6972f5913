"""Suppression comments: ``# noqa``, ``# noqa: IL001, IL002`` and ``# initlint: noqa``.

A line directive suppresses the findings that start or end on its line. A file directive, a
comment alone on its line, suppresses the whole file (or only the codes it names). Directives
are found with :mod:`tokenize`, so ``"# noqa"`` inside a string is not one.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from .source import LineIndex

if TYPE_CHECKING:
    from .engine import Finding

_CODES = r"[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+|\s+[A-Za-z]+[0-9]+)*"
_LINE = re.compile(r"#\s*noqa(?:[ \t]*:[ \t]*(?P<codes>" + _CODES + r"))?", re.IGNORECASE)
_FILE = re.compile(r"^#\s*initlint\s*:\s*noqa(?::[ \t]*(?P<codes>" + _CODES + r"))?\s*$",
                   re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")
OWN_PREFIX = "IL"


@dataclass
class Directive:
    line: int  # 1-based
    start: int  # text offset of the directive's '#'
    end: int  # text offset just past the directive (its last code)
    comment_start: int  # offset of the comment's first '#'
    comment_end: int  # offset of the end of the comment (the end of the line)
    #: None for a bare directive (no codes); else (code, start, end) with text offsets
    codes: Optional[List[Tuple[str, int, int]]] = None
    used: Set[str] = field(default_factory=set)
    used_bare: bool = False

    def covers(self, code: str) -> bool:
        return self.codes is None or any(c == code for c, _, _ in self.codes)


@dataclass
class Directives:
    lines: Dict[int, List[Directive]] = field(default_factory=dict)
    #: None: no file directive; an empty set: the whole file; else the codes named
    file_codes: Optional[Set[str]] = None
    #: lines a comment may not be appended to (inside a string, after a backslash)
    closed_lines: Set[int] = field(default_factory=set)


_ANY = re.compile("noqa", re.IGNORECASE)


def might_have(text: str) -> bool:
    return _ANY.search(text) is not None


#: Tokens whose lines (all but the last) are inside a string.
_STRING_TOKENS = (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1))
#: Tokens that are not code (a comment after them is not on a line of code).
_NOT_CODE = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER)


def scan(text: str) -> Directives:
    out = Directives()
    index = LineIndex(text)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return out
    last_code_line = 0
    for tok in tokens:
        if tok.type in _STRING_TOKENS:
            out.closed_lines.update(range(tok.start[0], tok.end[0]))
        if tok.type == tokenize.COMMENT:
            _read_comment(out, tok, index.offset(tok.start[0], tok.start[1]), last_code_line)
        elif tok.type not in _NOT_CODE:
            last_code_line = tok.end[0]
    for i, line in enumerate(text.splitlines(), start=1):
        if line.rstrip().endswith("\\"):
            out.closed_lines.add(i)
    return out


def _read_comment(out: Directives, tok: tokenize.TokenInfo, start: int,
                  last_code_line: int) -> None:
    """Record the directive a comment token (at text offset ``start``) is, if any: a file
    directive when the comment is alone on its line (and no code ends there), else a line
    directive."""
    alone = tok.line[: tok.start[1]].strip() == ""
    fm = _FILE.match(tok.string)
    if fm and alone and tok.start[0] != last_code_line:
        _add_file_codes(out, {c.upper() for c in _CODE.findall(fm.group("codes") or "")})
        return
    m = _LINE.search(tok.string)
    if not m:
        return
    d = Directive(tok.start[0], start + m.start(), start + m.end(), start,
                  start + len(tok.string))
    if m.group("codes"):
        base = start + m.start("codes")
        d.codes = [(cm.group(0).upper(), base + cm.start(), base + cm.end())
                   for cm in _CODE.finditer(m.group("codes"))]
    out.lines.setdefault(tok.start[0], []).append(d)


def _add_file_codes(out: Directives, codes: Set[str]) -> None:
    """A file directive naming ``codes`` (none: every code). One without codes, earlier or
    now, suppresses the whole file; else the codes named add up."""
    if out.file_codes is None or not codes or not out.file_codes:
        out.file_codes = set() if (not codes or out.file_codes == set()) else codes
    else:
        out.file_codes |= codes


def suppress(findings: Sequence[Finding], directives: Directives) -> List[Finding]:
    """The findings no directive covers; marks the directives that were used."""
    kept = []
    for f in findings:
        if directives.file_codes is not None and (not directives.file_codes
                                                  or f.code in directives.file_codes):
            continue
        hit = None
        for ln in dict.fromkeys((f.line, f.end_line)):
            for d in directives.lines.get(ln, []):
                if d.covers(f.code):
                    hit = d
                    break
            if hit:
                break
        if hit is None:
            kept.append(f)
        elif hit.codes is None:
            hit.used_bare = True
        else:
            hit.used.add(f.code)
    return kept


def unused(directives: Directives, enabled: Sequence[str], known: Set[str]
           ) -> List[Tuple[Directive, List[Tuple[str, int, int]], str]]:
    """(directive, unused codes, why) for each directive with unused initlint codes. Codes of
    other tools (``E501``) and bare ``# noqa`` are left alone: they may be another linter's."""
    out = []
    enabled_set = set(enabled)
    for ds in directives.lines.values():
        for d in ds:
            if d.codes is None:
                continue
            bad = [(c, s, e) for c, s, e in d.codes
                   if c.startswith(OWN_PREFIX) and c not in d.used]
            if not bad:
                continue
            kinds = []
            unknown = [c for c, _, _ in bad if c not in known]
            off = [c for c, _, _ in bad if c in known and c not in enabled_set]
            rest = [c for c, _, _ in bad if c in enabled_set]
            if rest:
                kinds.append(f"unused: {', '.join(rest)}")
            if off:
                kinds.append(f"non-enabled: {', '.join(off)}")
            if unknown:
                kinds.append(f"unknown: {', '.join(unknown)}")
            out.append((d, bad, "; ".join(kinds)))
    return out


def removal(text: str, d: Directive, bad: Sequence[Tuple[str, int, int]]) -> Tuple[int, int, str]:
    """The edit (start, end, replacement) that removes ``bad`` codes from ``d``."""
    assert d.codes is not None
    keep = [c for c in d.codes if c not in bad]
    if keep:
        first, last = d.codes[0][1], d.codes[-1][2]
        return first, last, ", ".join(c for c, _, _ in keep)
    tail = text[d.end:d.comment_end]
    rest = tail.lstrip()
    gap = len(tail) - len(rest)
    if rest.startswith("#"):
        # `# noqa: IL001  # another comment`: the other comment takes its place.
        return d.start, d.end + gap, ""
    if rest:
        # `# noqa: IL001 because ...`: keep the rest of the comment a comment.
        if d.start == d.comment_start:
            return d.start, d.end + gap, "# "
        return d.start, d.end, ""
    start = d.start
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return start, d.end, ""


def add_edits(text: str, findings: Sequence[Finding], directives: Directives
              ) -> List[Tuple[int, int, str]]:
    """Edits that add a ``# noqa: CODE`` for every finding (``--add-noqa``): on the finding's
    first line, or its last when the first cannot take a comment."""
    index = LineIndex(text)
    per_line: Dict[int, List[str]] = {}
    for f in findings:
        line = f.line
        if line in directives.closed_lines:
            line = f.end_line
            if line in directives.closed_lines:
                continue
        codes = per_line.setdefault(line, [])
        if f.code not in codes:
            codes.append(f.code)
    edits = []
    for line, codes in sorted(per_line.items()):
        existing = [d for d in directives.lines.get(line, [])]
        if any(d.codes is None for d in existing):
            continue
        if existing:
            d = existing[0]
            assert d.codes is not None
            have = [c for c, _, _ in d.codes]
            new = [c for c in codes if c not in have]
            if new:
                edits.append((d.codes[-1][2], d.codes[-1][2], ", " + ", ".join(new)))
            continue
        line_start = index.starts[line - 1]
        line_end = index.starts[line] if line < len(index.starts) else len(text)
        body = text[line_start:line_end].rstrip("\r\n")
        end = line_start + len(body.rstrip())
        edits.append((end, end, f"  # noqa: {', '.join(sorted(codes))}"))
    return edits
