"""Reading and writing source files without losing a byte we do not mean to change."""

from __future__ import annotations

import codecs
import io
import os
import re
import tempfile
import tokenize
from bisect import bisect_right
from dataclasses import dataclass
from typing import List, Tuple


class SourceError(Exception):
    """A file that cannot be linted; the message is one line meant for the user."""


@dataclass
class Decoded:
    text: str
    encoding: str  # as declared or detected, without the BOM marker ("utf-8", "latin-1", ...)
    bom: bool


def decode(data: bytes) -> Decoded:
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:
        raise SourceError(f"bad encoding declaration: {e}") from None
    bom = data.startswith(codecs.BOM_UTF8)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        where = ""
        if isinstance(e, UnicodeDecodeError):
            line = body[: e.start].count(b"\n") + 1
            where = f" at line {line}"
        raise SourceError(f"not valid {encoding}{where}; declare the file's encoding with a "
                          f"'# -*- coding: ... -*-' line or save it as UTF-8") from None
    return Decoded(text, encoding, bom)


def encode(text: str, decoded: Decoded) -> bytes:
    data = text.encode(decoded.encoding)
    return codecs.BOM_UTF8 + data if decoded.bom else data


_NEWLINE = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Converts libcst's (1-based line, 0-based column in characters) to string offsets."""

    def __init__(self, text: str) -> None:
        self.starts: List[int] = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        self.text = text

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column

    def position(self, offset: int) -> Tuple[int, int]:
        """(1-based line, 0-based column) of an offset."""
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]


def atomic_write(path: str, data: bytes) -> None:
    """Write through a temporary file in the same directory and rename it over the original,
    keeping the original's permission bits."""
    directory = os.path.dirname(os.path.abspath(path))
    mode = None
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".initlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
