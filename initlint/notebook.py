"""Jupyter notebooks: join the code cells into one source, map findings back to cells, and
write fixes into the right cell without touching any other byte of the JSON.

The notebook is decoded with :mod:`json` for its meaning, and scanned once more for the byte
spans of each cell's ``source``; a fix replaces only the span of a cell whose code changed
(reusing the original text of every unchanged line), so outputs, metadata, key order and
indentation stay as they were.
"""

from __future__ import annotations

import bisect
import codecs
import json
import os
import re
from dataclasses import dataclass, field
# typeshed's json.decoder does not declare scanstring (C-accelerated, undocumented)
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Dict, List, Optional, Tuple, Union

from .source import SourceError

#: A comment line between cells in the joined source; it changes nothing Python sees.
BOUNDARY = "# <initlint: next cell>\n"
#: What an IPython magic or shell escape line becomes (same indentation, one statement).
MASK = "pass  # <initlint: masked magic>"
#: Cell magics whose body is still Python; any other cell magic masks the whole cell.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "pypy"}


class NotebookError(SourceError):
    pass


@dataclass
class SourceSpan:
    start: int  # offsets in the raw JSON text of the value
    end: int
    #: for a list: (start, end) of each element
    elements: Optional[List[Tuple[int, int]]] = None


@dataclass
class Cell:
    number: int  # 1-based position in the notebook (markdown cells count)
    index: int  # position in the cells array
    text: str  # the cell's source
    masked: List[str]  # original text of each masked line, in order
    first_line: int = 0  # 1-based line of the cell's first line in the joined source
    n_lines: int = 0
    added_newline: bool = False


@dataclass
class Notebook:
    raw: str  # the JSON text (BOM removed)
    bom: bool
    data: Any
    cells: List[Cell] = field(default_factory=list)
    spans: Dict[int, SourceSpan] = field(default_factory=dict)
    joined: str = ""

    def locate(self, line: int) -> Tuple[int, int]:
        """(cell number, 1-based line in the cell) of a line of the joined source."""
        cell = self.cells[0]
        for c in self.cells:
            if c.first_line <= line:
                cell = c
            else:
                break
        return cell.number, max(1, min(line - cell.first_line + 1, max(cell.n_lines, 1)))


def is_notebook(path: str) -> bool:
    return path.endswith(".ipynb")


# --- reading -------------------------------------------------------------------------------


def load(data: bytes) -> Notebook:
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"notebook is not valid UTF-8 (byte {e.start})") from None
    try:
        nb = json.loads(raw)
    except json.JSONDecodeError as e:
        raise NotebookError(f"notebook is not valid JSON: {e.msg} at line {e.lineno}, "
                            f"column {e.colno}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        if isinstance(nb, dict) and "worksheets" in nb:
            raise NotebookError("nbformat 3 notebooks are not supported; convert with "
                                "`jupyter nbconvert --to notebook`")
        raise NotebookError("not a Jupyter notebook (no \"cells\" list)")
    notebook = Notebook(raw, bom, nb)
    _Spans(raw, notebook.spans).run()
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        text = "".join(src) if isinstance(src, list) else src
        if not isinstance(text, str) or i not in notebook.spans:
            continue
        masked_text, masked = mask(text)
        notebook.cells.append(Cell(i + 1, i, masked_text, masked))
    _join(notebook)
    return notebook


def source_of(nb: Notebook, cell: Cell) -> str:
    """A cell's source as the notebook stores it (magics unmasked)."""
    src = nb.data["cells"][cell.index].get("source", "")
    return "".join(src) if isinstance(src, list) else src


def language(nb: Notebook) -> Optional[str]:
    meta = nb.data.get("metadata") or {}
    if not isinstance(meta, dict):
        return None
    for key, sub in (("kernelspec", "language"), ("language_info", "name")):
        part = meta.get(key)
        name = part.get(sub) if isinstance(part, dict) else None
        if isinstance(name, str):
            return name.lower()
    return None


# --- masking IPython syntax ----------------------------------------------------------------
#
# A line is masked when IPython itself rewrites it before compiling the cell (its input
# transformer, IPython.core.inputtransformer2, and for one-line cells its automagic prefilter):
#
# * ``%%name`` on the cell's first line: the whole cell, or only that line when the body is
#   Python (PYTHON_CELL_MAGICS; the body is then masked like a cell of its own);
# * at the start of a logical line, the escapes ``%magic``, ``!cmd``, ``!!cmd``, ``?obj``,
#   ``??obj`` and the rarer ``,f a b``, ``;f a b``, ``/f a b``, with the lines that continue
#   them with a trailing backslash;
# * ``x = %magic`` and ``x = !cmd``: the first ``=`` of the logical line outside brackets,
#   followed by ``%name`` or ``!``;
# * help ``obj?``, ``obj.attr??``, ``seq[0]?``: a logical line whose last token is ``?`` after a
#   dotted name;
# * automagics, in a cell of one line only (IPython runs them nowhere else): a first word that
#   names a line magic (``ls -la``, ``pwd``, ``pip install x``), unless the rest of the line
#   starts with ``=`` or ``,`` (``cd = 3`` assigns).
#
# Lines inside brackets or strings and lines continued by ``\`` do not start a logical line and
# are never IPython syntax, whatever they start or end with (``% (loss, acc)`` in a call).

#: IPython's default line magics (IPython 9's InteractiveShell, with the shell aliases it
#: registers as magics on POSIX) and those ipykernel adds in a notebook kernel. Data only:
#: initlint never imports IPython.
LINE_MAGICS = frozenset((
    "alias", "alias_magic", "autoawait", "autocall", "automagic", "autosave", "bookmark",
    "cat", "cd", "clear", "code_wrap", "colors", "conda", "config", "connect_info", "cp",
    "debug", "dhist", "dirs", "doctest_mode", "ed", "edit", "env", "gui", "hist", "history",
    "killbgscripts", "ldir", "less", "lf", "lk", "ll", "load", "load_ext", "loadpy", "logoff",
    "logon", "logstart", "logstate", "logstop", "ls", "lsmagic", "lx", "macro", "magic",
    "mamba", "man", "matplotlib", "micromamba", "mkdir", "more", "mv", "notebook", "page",
    "pastebin", "pdb", "pdef", "pdoc", "pfile", "pinfo", "pinfo2", "pip", "popd", "pprint",
    "precision", "prun", "psearch", "psource", "pushd", "pwd", "pycat", "pylab", "qtconsole",
    "quickref", "recall", "rehashx", "reload_ext", "rep", "rerun", "reset", "reset_selective",
    "rm", "rmdir", "run", "save", "sc", "set_env", "sx", "system", "tb", "time", "timeit",
    "unalias", "unload_ext", "uv", "who", "who_ls", "whos", "xdel", "xmode",
))

#: String prefixes (lower case); ``t`` is Python 3.14's template string.
_STRING_PREFIXES = frozenset(("r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"))
_OPERATORS = ("**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", "->", ":=", "+=",
              "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>")
_WORD = re.compile(r"\w+")
_NAME_START = re.compile(r"[^\W\d]")
_BLANKS = " \t\x0c"
#: What ``obj?`` may ask about: a dotted name with literal integer subscripts, possibly a magic.
_HELP_TARGET = re.compile(r"%{0,2}(?!\d)[\w*]+(?:\.(?!\d)[\w*]+|\[-?[0-9]+\])*\?\??$")
#: The first word and the rest of a one-line cell, as IPython splits it for automagics.
_FIRST_WORD = re.compile(r"\s*([\w.*]*)(.*)")


def _magic_line(line: str) -> bool:
    """Whether a physical line that starts a logical line is an escaped IPython command
    (``%magic``, ``!cmd``, ``?obj``, ``,f a``, ``;f a``, ``/f a``); it may go on over the
    following lines with a trailing backslash."""
    s = line.lstrip(_BLANKS)
    if not s:
        return False
    c = s[0]
    if c in "%!":
        return not s.startswith("=", 1)  # %= and != are operators
    if c == "/":
        # /f a b becomes f(a, b); IPython gives up when no name follows the slash (a line
        # ending there, or with the backslash that joins it to the next, counts as a space)
        rest = s[1:].rstrip("\r\n")
        return not s.startswith(("/", "="), 1) and rest not in ("", "\\") \
            and not rest.startswith(" ")
    return c in "?,;"


class _Scanner:
    """Python's tokenizer reduced to what masking needs: where logical lines start and end
    (brackets, strings with f-string replacement fields, comments, backslash continuations),
    the first ``=`` outside brackets and whether the last token is ``?``."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    def line_end(self, p: int) -> int:
        """The index of the line break at or after p (n at the end)."""
        s = self.s
        while p < self.n and s[p] not in "\r\n":
            p += 1
        return p

    def after_break(self, p: int) -> int:
        """p at a line break: the index after it."""
        return p + 2 if self.s.startswith("\r\n", p) else p + 1

    def blanks(self, p: int, joins: bool = False) -> int:
        """Skip blanks (and, with joins, backslash line continuations)."""
        s = self.s
        while p < self.n:
            if s[p] in _BLANKS:
                p += 1
            elif joins and s[p] == "\\" and p + 1 < self.n and s[p + 1] in "\r\n":
                p = self.after_break(p + 1)
            else:
                break
        return p

    def string(self, p: int, prefix: str) -> int:
        """p at a string's opening quote: the index after its closing quote. A one-line string
        left open stops before the line break."""
        s, n = self.s, self.n
        close = s[p] * 3 if s.startswith(s[p] * 3, p) else s[p]
        one_line = len(close) == 1
        fmt = "f" in prefix or "t" in prefix
        p += len(close)
        while p < n:
            c = s[p]
            if c == "\\":
                if fmt and s.startswith("{", p + 1):
                    p += 1  # the brace still opens a replacement field
                elif fmt and "r" not in prefix and s.startswith("N{", p + 1):
                    end = s.find("}", p)
                    p = n if end < 0 else end + 1
                elif s.startswith("\r\n", p + 1):
                    p += 3
                else:
                    p += 2
            elif s.startswith(close, p):
                return p + len(close)
            elif c in "\r\n" and one_line:
                return p
            elif fmt and c == "{":
                p = p + 2 if s.startswith("{{", p) else self.field(p + 1, close)
            else:
                p += 1
        return n

    def word_or_string(self, p: int) -> Optional[int]:
        """p at a string (with its prefix, if any) or a word: the index after it; else None."""
        s = self.s
        if s[p] in "'\"":
            return self.string(p, "")
        m = _WORD.match(s, p)
        if m is None:
            return None
        end = m.end()
        if end < self.n and s[end] in "'\"" and m.group().lower() in _STRING_PREFIXES:
            return self.string(end, m.group().lower())
        return end

    def field(self, p: int, close: str) -> int:
        """p after the ``{`` of an f-string replacement field: the index after its ``}``."""
        s, n = self.s, self.n
        depth = 0
        while p < n:
            c = s[p]
            if c in "\r\n" and len(close) == 1 and depth == 0:
                return p  # the enclosing one-line string is left open
            after = self.word_or_string(p)
            if after is not None:
                p = after
                continue
            if c in "([{":
                depth += 1
            elif c in ")]":
                depth = max(depth - 1, 0)
            elif c == "}":
                if depth == 0:
                    return p + 1
                depth -= 1
            elif c == ":" and depth == 0:
                return self.spec(p + 1, close)
            p += 1
        return n

    def spec(self, p: int, close: str) -> int:
        """p inside a replacement field's format spec: the index after the field's ``}``."""
        s, n = self.s, self.n
        while p < n:
            c = s[p]
            if c == "}":
                return p + 1
            if c == "{":
                p = self.field(p + 1, close)
            elif s.startswith(close, p) or (c in "\r\n" and len(close) == 1):
                return p  # malformed: let the string end here
            else:
                p += 1
        return n

    def logical(self, p: int, asks: bool = True) -> Tuple[int, Optional[int], Optional[int]]:
        """Scan the logical line whose first token is at p.

        Returns (end, assigned, question): end is the index after its last line break (n at the
        end of the text); assigned is the index of ``%`` or ``!`` in ``x = %magic`` or
        ``x = !cmd``; question is the index of the line's last token when that is ``?``. IPython
        syntax is scanned as Python here, as IPython's tokenizer does before rewriting it.
        When no ``?`` can end the line (not asks), the scan stops at an assignment from a magic,
        since only the ``?`` needs what follows."""
        s, n = self.s, self.n
        depth = 0
        seen_assign = False
        assigned: Optional[int] = None
        question: Optional[int] = None
        while p < n:
            after = self.gap_end(p)
            if after is not None:
                p = after
                continue
            if s[p] in "\r\n":
                p = self.after_break(p)
                if depth == 0:
                    return p, assigned, question
                continue
            question = None
            after = self.opaque_end(p)
            if after is not None:
                p = after
                continue
            op = next((o for o in _OPERATORS if s.startswith(o, p)), s[p])
            if op in ("(", "[", "{"):
                depth += 1
            elif op in (")", "]", "}"):
                depth = max(depth - 1, 0)
            elif op == "=" and depth == 0 and not seen_assign:
                seen_assign = True
                assigned = self.assigned_magic(p)
                if assigned is not None and not asks:
                    return n, assigned, None
            elif op == "?":
                question = p
            p += len(op)
        return n, assigned, question

    def gap_end(self, p: int) -> Optional[int]:
        """p at a blank or a backslash continuation inside a logical line: the index after it;
        else None."""
        s = self.s
        if s[p] in _BLANKS:
            return p + 1
        if s[p] == "\\" and p + 1 < self.n and s[p + 1] in "\r\n":
            return self.after_break(p + 1)
        return None

    def opaque_end(self, p: int) -> Optional[int]:
        """p at a comment, a word or a string (tokens whose inside masking never looks at): the
        index after it; else None."""
        if self.s[p] == "#":
            return self.line_end(p)
        return self.word_or_string(p)

    def assigned_magic(self, p: int) -> Optional[int]:
        """p at the first ``=`` of a logical line outside brackets: the index of the ``%`` in
        ``x = %magic`` or of the ``!`` in ``x = !cmd``; None when no magic follows."""
        s, n = self.s, self.n
        q = self.blanks(p + 1, joins=True)
        if q < n and s[q] == "%" and not s.startswith("%=", q):
            r = self.blanks(q + 1, joins=True)
            if r < n and _NAME_START.match(s, r):
                return q
        elif q < n and s[q] == "!" and not s.startswith("!=", q):
            # IPython skips x = !cmd when the physical line starts with the =
            line_start = max(s.rfind("\n", 0, p), s.rfind("\r", 0, p)) + 1
            if s[line_start:p].strip():
                return q
        return None

    def empty_line_end(self, t: int) -> Optional[int]:
        """t at the first non-blank character of a line: the index after the line when it is
        empty or only a comment; else None."""
        if self.s[t] in "\r\n":
            return self.after_break(t)
        if self.s[t] == "#":
            t = self.line_end(t)
            return self.after_break(t) if t < self.n else self.n
        return None


def _automagic(line: str) -> bool:
    """Whether IPython runs a one-line cell as an automagic: its first word names a line magic
    and the rest does not start with ``=`` or ``,`` (an assignment to that name)."""
    m = _FIRST_WORD.match(line)
    assert m is not None
    rest = m.group(2).strip()
    return m.group(1) in LINE_MAGICS and rest[:1] not in ("=", ",")


def _continued(lines: List[str], i: int) -> int:
    """The last line of an escaped command starting on line i: IPython takes every following
    line while the previous one ends with a backslash and a newline."""
    while i + 1 < len(lines) and lines[i].endswith("\\\n"):
        i += 1
    return i


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(_BLANKS))]


def _mark(lines: List[str], start: int, marks: List[Optional[str]]) -> None:
    """Set marks[i] to the indentation of the placeholder for every line i >= start that is
    IPython syntax, reading lines[start:] as one cell."""
    first = start
    while first < len(lines) and not lines[first].strip():
        first += 1  # IPython drops leading blank lines
    if first == len(lines):
        return
    if not _mark_cell_magic(lines, first, marks):
        _Marker(lines, marks).run(first)


def _mark_cell_magic(lines: List[str], first: int, marks: List[Optional[str]]) -> bool:
    """When the cell starts with a cell magic ``%%name`` on line ``first``, mark the whole
    cell, or only that line when the body is Python (the body is then read as a cell of its
    own), and return True; else False."""
    # IPython first removes the indentation common to all lines of the cell
    margin = os.path.commonprefix([line[: len(line) - len(line.lstrip(" \t"))]
                                   for line in lines[first:] if line.strip()])
    head = lines[first][len(margin):]
    if not head.startswith("%%") or re.match(r"%%\w+\?", head):  # %%name? asks for help
        return False
    if head[2:].rstrip().partition(" ")[0] in PYTHON_CELL_MAGICS:
        marks[first] = ""
        _mark(lines, first + 1, marks)
    else:
        marks[first:] = [""] * (len(lines) - first)
    return True


class _Marker:
    """Marks the IPython syntax of a cell without a cell magic, one logical line at a time."""

    def __init__(self, lines: List[str], marks: List[Optional[str]]) -> None:
        self.lines = lines
        self.marks = marks
        self.offsets = [0]
        for line in lines:
            self.offsets.append(self.offsets[-1] + len(line))
        self.scan = _Scanner("".join(lines))
        # asks[k]: a line from k on ends with "?", so a logical line starting on line k may be
        # a help query (without one, an escaped command needs no scan: the scan is for that "?")
        self.asks = [False] * (len(lines) + 1)
        for k in range(len(lines) - 1, -1, -1):
            self.asks[k] = self.asks[k + 1] or lines[k].rstrip().endswith("?")
        self.automagic = False

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.offsets, offset) - 1

    def mark(self, a: int, b: int) -> int:
        """Mark lines a to b (with the indentation of line a); the offset after line b."""
        indent = _indent(self.lines[a])
        for k in range(a, b + 1):
            self.marks[k] = indent
        return self.offsets[b + 1]

    def run(self, first: int) -> None:
        """Mark the logical lines from line ``first`` (the cell's first non-blank line) on."""
        scan = self.scan
        # Automagics run only in a cell of one line.
        self.automagic = first == len(self.lines) - 1 and _automagic(self.lines[first])
        p = self.offsets[first]
        while p < scan.n:
            t = scan.blanks(p)
            if t == scan.n:
                break
            empty_end = scan.empty_line_end(t)
            p = empty_end if empty_end is not None else self.logical_line(self.line_of(p), t)

    def logical_line(self, i: int, t: int) -> int:
        """The logical line starting on line i, whose first token is at t: mark it when it is
        IPython syntax; the offset after it."""
        scan, lines = self.scan, self.lines
        escaped = _magic_line(scan.s[t:scan.line_end(t)])
        if escaped and not self.asks[i]:
            return self.mark(i, _continued(lines, self.line_of(t)))
        end, assigned, question = scan.logical(t, self.asks[i])
        # IPython tries the help query first: it starts the logical line
        if question is not None and _HELP_TARGET.search(
                scan.s[t:self.offsets[self.line_of(question) + 1]]):
            return self.mark(i, self.line_of(question))
        if escaped:
            return self.mark(i, _continued(lines, self.line_of(t)))
        if assigned is not None:
            return self.mark(i, _continued(lines, self.line_of(assigned)))
        if self.automagic:
            return self.mark(i, i)
        return end


def mask(text: str) -> Tuple[str, List[str]]:
    """Replace IPython magics, shell escapes, help queries and automagics with a placeholder
    statement (same indentation), one placeholder per physical line so that `_unmask` can put
    each original back."""
    lines = text.splitlines(keepends=True)
    marks: List[Optional[str]] = [None] * len(lines)
    _mark(lines, 0, marks)
    out = []
    masked: List[str] = []
    for line, indent in zip(lines, marks):
        if indent is None:
            out.append(line)
            continue
        body = line.rstrip("\r\n")
        masked.append(line)
        out.append(indent + MASK + line[len(body):])
    return "".join(out), masked


def _join(nb: Notebook) -> None:
    parts = []
    line = 1
    for cell in nb.cells:
        text = cell.text
        if not text.endswith("\n"):
            text += "\n"
            cell.added_newline = True
        cell.first_line = line
        cell.n_lines = text.count("\n")
        line += cell.n_lines + 1
        parts.append(text)
        parts.append(BOUNDARY)
    nb.joined = "".join(parts)


#: Where a value is in a JSON document: the keys and list indices that lead to it.
_JsonPath = Tuple[Union[str, int], ...]


def _scan_string(s: str, end: int) -> Tuple[str, int]:
    """:func:`json.decoder.scanstring` (untyped): end after the opening quote; the decoded
    string and the index after the closing quote."""
    result: Tuple[str, int] = scanstring(s, end)
    return result


class _Spans:
    """A small JSON scanner that records where each ``cells[i].source`` value lies."""

    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str, spans: Dict[int, SourceSpan]) -> None:
        self.s = text
        self.spans = spans

    def ws(self, i: int) -> int:
        m = self._WS.match(self.s, i)
        assert m is not None  # [ \t\n\r]* matches anywhere
        return m.end()

    def run(self) -> None:
        self.value(self.ws(0), ())

    def value(self, i: int, path: _JsonPath) -> int:
        c = self.s[i]
        if c == "{":
            i = self.ws(i + 1)
            if self.s[i] == "}":
                return i + 1
            while True:
                key, i = _scan_string(self.s, i + 1)
                i = self.ws(i)
                i = self.ws(i + 1)  # the ':'
                i = self.value(i, path + (key,))
                i = self.ws(i)
                if self.s[i] == "}":
                    return i + 1
                i = self.ws(i + 1)  # the ','
        if c == "[":
            start = i
            elements = []
            i = self.ws(i + 1)
            if self.s[i] != "]":
                n = 0
                while True:
                    end = self.value(i, path + (n,))
                    elements.append((i, end))
                    i = self.ws(end)
                    if self.s[i] == "]":
                        break
                    i = self.ws(i + 1)
                    n += 1
            end = i + 1
            self._record(path, start, end, elements)
            return end
        if c == '"':
            _, end = _scan_string(self.s, i + 1)
            self._record(path, i, end, None)
            return end
        for lit in ("true", "false", "null"):
            if self.s.startswith(lit, i):
                return i + len(lit)
        m = self._NUMBER.match(self.s, i)
        if m and m.end() > i:
            return m.end()
        for lit in ("NaN", "Infinity", "-Infinity"):
            if self.s.startswith(lit, i):
                return i + len(lit)
        raise NotebookError(f"notebook is not valid JSON at offset {i}")

    def _record(self, path: _JsonPath, start: int, end: int,
                elements: Optional[List[Tuple[int, int]]]) -> None:
        if len(path) == 3 and path[0] == "cells" and isinstance(path[1], int) \
                and path[2] == "source":
            self.spans[path[1]] = SourceSpan(start, end, elements)


# --- writing -------------------------------------------------------------------------------


def split(nb: Notebook, joined: str) -> Optional[Dict[int, str]]:
    """The new source of each cell, from a fixed joined source; None when the cells cannot be
    told apart any more (the fix is then not written)."""
    pieces = joined.split(BOUNDARY)
    if len(pieces) != len(nb.cells) + 1 or pieces[-1] != "":
        return None
    out = {}
    for cell, piece in zip(nb.cells, pieces):
        if cell.added_newline and piece.endswith("\n"):
            piece = piece[:-1]
        restored = _unmask(piece, cell.masked)
        if restored is None:
            return None
        out[cell.index] = restored
    return out


def _unmask(text: str, masked: List[str]) -> Optional[str]:
    if not masked:
        return text
    lines = text.splitlines(keepends=True)
    it = iter(masked)
    out = []
    n = 0
    for line in lines:
        if line.rstrip("\r\n").lstrip() == MASK:
            original = next(it, None)
            if original is None:
                return None
            n += 1
            ending = line[len(line.rstrip("\r\n")):]
            out.append(original.rstrip("\r\n") + ending)
        else:
            out.append(line)
    return "".join(out) if n == len(masked) else None


def render(nb: Notebook, new_sources: Dict[int, str]) -> Optional[bytes]:
    """The notebook's bytes with the changed cells' sources replaced, every other byte kept."""
    ascii_only = nb.raw.isascii()
    edits = []
    for cell in nb.cells:
        new = new_sources.get(cell.index)
        old_src = nb.data["cells"][cell.index].get("source", "")
        old = "".join(old_src) if isinstance(old_src, list) else old_src
        if new is None or new == old:
            continue
        span = nb.spans[cell.index]
        if span.elements is None:
            text = json.dumps(new, ensure_ascii=ascii_only)
        else:
            text = _render_list(nb, span, old_src, new, ascii_only)
        edits.append((span.start, span.end, text))
    if not edits:
        return None
    out = nb.raw
    for start, end, text in sorted(edits, reverse=True):
        out = out[:start] + text + out[end:]
    data = out.encode("utf-8")
    return codecs.BOM_UTF8 + data if nb.bom else data


def _render_list(nb: Notebook, span: SourceSpan, old_lines: List[str], new: str,
                 ascii_only: bool) -> str:
    assert span.elements is not None
    raw = nb.raw
    elems = span.elements
    lines = new.splitlines(keepends=True)
    if not lines:
        return "[]"
    if elems:
        ws_open = raw[span.start + 1:elems[0][0]]
        ws_close = raw[elems[-1][1]:span.end - 1]
        if len(elems) > 1:
            between = raw[elems[0][1]:elems[1][0]]
            ws_sep = between[between.index(",") + 1:]
        else:
            ws_sep = ws_open
    else:
        ws_open, ws_close, ws_sep = "\n", "\n", "\n"
    reuse: Dict[str, str] = {}
    for (s, e), value in zip(elems, old_lines):
        reuse.setdefault(value, raw[s:e])
    parts = [reuse.get(line) or json.dumps(line, ensure_ascii=ascii_only) for line in lines]
    # Empty strings at the end of the list (some writers add one after a last line ending in
    # a newline) are no lines to splitlines(); keep them as they were.
    n_empty = 0
    while n_empty < len(old_lines) and old_lines[len(old_lines) - 1 - n_empty] == "":
        n_empty += 1
    if n_empty and len(elems) == len(old_lines):
        parts.extend(raw[s:e] for s, e in elems[len(elems) - n_empty:])
    return "[" + ws_open + ("," + ws_sep).join(parts) + ws_close + "]"
