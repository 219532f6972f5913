"""Jupyter notebooks: join the code cells into one source, map findings back to cells, and
write fixes into the right cell without touching any other byte of the JSON.

The notebook is decoded with :mod:`json` for its meaning, and scanned once more for the byte
spans of each cell's ``source``; a fix replaces only the span of a cell whose code changed
(reusing the original text of every unchanged line), so outputs, metadata, key order and
indentation stay as they were.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Dict, List, Optional, Tuple

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
        if isinstance(part, dict) and isinstance(part.get(sub), str):
            return part[sub].lower()
    return None


_ASSIGN_MAGIC = re.compile(r"^\s*[\w.]+(\s*,\s*[\w.]+)*\s*=\s*[!%]")


def _magic_line(line: str) -> bool:
    s = line.strip()
    if not s or s.startswith("#"):
        return False
    return (s[0] in "%!?" or (s.endswith("?") and not s.endswith("\\?"))
            or _ASSIGN_MAGIC.match(line) is not None)


def mask(text: str) -> Tuple[str, List[str]]:
    """Replace IPython magics and shell escapes with a placeholder statement."""
    lines = text.splitlines(keepends=True)
    masked: List[str] = []
    whole = False
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        name = first[2:].split()[0] if first[2:].split() else ""
        whole = name not in PYTHON_CELL_MAGICS
    out = []
    continuing = False
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if whole or (i == 0 and first.startswith("%%")) or continuing or _magic_line(body):
            indent = body[: len(body) - len(body.lstrip())] if not (whole or continuing) else ""
            masked.append(line)
            out.append(indent + MASK + line[len(body):])
            continuing = body.endswith("\\") and not whole
            continue
        out.append(line)
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


class _Spans:
    """A small JSON scanner that records where each ``cells[i].source`` value lies."""

    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str, spans: Dict[int, SourceSpan]) -> None:
        self.s = text
        self.spans = spans

    def ws(self, i: int) -> int:
        return self._WS.match(self.s, i).end()  # type: ignore[union-attr]

    def run(self) -> None:
        self.value(self.ws(0), ())

    def value(self, i: int, path: Tuple) -> int:
        c = self.s[i]
        if c == "{":
            i = self.ws(i + 1)
            if self.s[i] == "}":
                return i + 1
            while True:
                key, i = scanstring(self.s, i + 1)
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
            _, end = scanstring(self.s, i + 1)
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

    def _record(self, path: Tuple, start: int, end: int,
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
    return "[" + ws_open + ("," + ws_sep).join(parts) + ws_close + "]"
