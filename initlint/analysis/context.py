"""The file an evaluator reads, and how it finds the linted tree's other modules.

The engine wraps the reading of each file in :func:`reading`; every evaluator made inside
(by any reader) picks up the file's path and the run's :class:`Resolver` from there, so
readers need not pass them along.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Iterator, List, Optional

import libcst as cst


class Resolver:
    """Finds the linted tree's own modules by dotted name (the cross-module pass)."""

    def module_name(self, path: str) -> Optional[str]:
        """The dotted name of the module at ``path`` (``pkg.model``), when in the tree."""
        return None

    def is_package(self, path: str) -> bool:
        return False

    def locate(self, name: str, importer: str) -> Optional[str]:
        """The path of module ``name`` as ``importer`` imports it, when it is the tree's
        (without reading it)."""
        return None

    def load_from(self, name: str, importer: str) -> Optional[cst.Module]:
        """The definitions of module ``name`` as ``importer`` imports it (imports,
        functions, classes, constants), or None when it is not the tree's."""
        return None

    def path_of(self, name: str) -> str:
        """The path of a module ``load_from`` found (for provenance)."""
        return name


@dataclass(frozen=True)
class FileContext:
    """The file being read and the resolver of its run."""

    path: str
    resolver: Optional[Resolver]
    #: What the analysis of the file wants the user to know under ``-v`` (it stopped early).
    notes: List[str] = field(default_factory=list)


_CURRENT: "contextvars.ContextVar[Optional[FileContext]]" = contextvars.ContextVar(
    "initlint_file", default=None)


@contextlib.contextmanager
def reading(path: str, resolver: Optional[Resolver]) -> Iterator[FileContext]:
    """Evaluators made inside this block read ``path`` and resolve imports with
    ``resolver``; the context collects their notes."""
    ctx = FileContext(path, resolver)
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def current() -> Optional[FileContext]:
    return _CURRENT.get()
