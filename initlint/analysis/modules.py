"""The linted tree's own modules: which file an import names, and its definitions.

A run knows every file it lints. :class:`ModuleIndex` maps them to dotted module names (a
package is a directory with an ``__init__.py``; a script's directory is on the import path,
as Python puts it there), cheaply, from paths alone. :class:`TreeResolver` answers the
evaluator's imports from it: the definitions of a module (imports, functions, classes,
constants; never its script code), parsed on first use and kept for the rest of the process.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst

from ..parsing import parse_module
from .context import Resolver

_DEFINITIONS = (cst.FunctionDef, cst.ClassDef)
_SMALL_DEFINITIONS = (cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign)


@dataclass
class ModuleIndex:
    """Dotted module names of the files of a run (small and picklable)."""

    #: dotted name -> path, for names reached from a package root.
    by_name: Dict[str, str] = field(default_factory=dict)
    #: path -> dotted name.
    by_path: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, paths: Sequence[str]) -> "ModuleIndex":
        index = cls()
        for path in paths:
            if not path.endswith((".py", ".pyi")):
                continue
            name = _dotted(os.path.abspath(path))
            if name:
                index.by_path[os.path.abspath(path)] = name
                index.by_name.setdefault(name, os.path.abspath(path))
        return index

    def find(self, name: str, importer: str) -> Optional[str]:
        """The file an absolute import of ``name`` in ``importer`` reads: a module of the run,
        through its package root, or beside the importing script."""
        importer = os.path.abspath(importer)
        if "." not in self.by_path.get(importer, "."):
            # A script (not in a package): Python puts its directory on the import path.
            here = os.path.dirname(importer)
            rel = name.replace(".", os.sep)
            for cand in (os.path.join(here, rel + ".py"), os.path.join(here, rel, "__init__.py")):
                if cand in self.by_path:
                    return cand
        found = self.by_name.get(name)
        return found if found != importer else None


def _dotted(path: str) -> str:
    """The dotted name of ``path`` from the top of its package (``pkg.sub.mod``)."""
    parts: List[str] = []
    directory, base = os.path.split(path)
    stem = os.path.splitext(base)[0]
    if stem != "__init__":
        parts.append(stem)
    while directory and os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, pkg = os.path.split(directory)
        parts.append(pkg)
        if not pkg:
            break
    return ".".join(reversed(parts))


class TreeResolver(Resolver):
    """Resolves the imports of one file of a run from the run's :class:`ModuleIndex`."""

    def __init__(self, index: ModuleIndex, cache: Optional[ParseCache] = None) -> None:
        self.index = index
        self.cache = cache if cache is not None else _CACHE
        self._paths: Dict[str, str] = {}

    def module_name(self, path: str) -> Optional[str]:
        return self.index.by_path.get(os.path.abspath(path))

    def is_package(self, path: str) -> bool:
        return os.path.basename(path) == "__init__.py"

    def find(self, name: str, importer: str) -> Optional[str]:
        got = self.index.find(name, importer)
        if got is not None:
            self._paths[name] = got
        return got

    def locate(self, name: str, importer: str) -> Optional[str]:
        return self.find(name, importer)

    def load_from(self, name: str, importer: str) -> Optional[cst.Module]:
        path = self.find(name, importer)
        return self.cache.definitions(path) if path is not None else None

    def path_of(self, name: str) -> str:
        return self._paths.get(name, name)


class ParseCache:
    """Parsed modules of this process by path and text, bounded: a module of the run that is
    both imported and linted is parsed once, whichever comes first."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: "OrderedDict[str, Tuple[str, cst.Module]]" = OrderedDict()
        #: Parses made for imports (not for linting).
        self.parsed = 0

    def clear(self) -> None:
        """Forget every module: a run starts with nothing parsed, as a new process would."""
        self._items.clear()
        self.parsed = 0

    def get(self, path: str, text: str) -> Optional[cst.Module]:
        item = self._items.get(path)
        if item is None or item[0] != text:
            return None
        self._items.move_to_end(path)
        return item[1]

    def put(self, path: str, text: str, module: cst.Module) -> None:
        self._items[path] = (text, module)
        self._items.move_to_end(path)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def definitions(self, path: str) -> Optional[cst.Module]:
        """The definitions of the module at ``path``, parsed unless already in the cache."""
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None
        module = self.get(path, text)
        if module is None:
            try:
                module = parse_module(text)
            except (cst.ParserSyntaxError, RecursionError, MemoryError):
                return None
            self.parsed += 1
            self.put(path, text, module)
        return definitions_of(module)


def definitions_of(module: cst.Module) -> cst.Module:
    """The statements of a module that define names (imports, functions, classes, constant
    assignments): what importing it makes, without its script code."""
    body = [s for s in module.body if _defines(s)]
    return module.with_changes(body=body)


def _defines(stmt: cst.CSTNode) -> bool:
    if isinstance(stmt, _DEFINITIONS):
        return True
    if isinstance(stmt, cst.SimpleStatementLine):
        return all(isinstance(s, _SMALL_DEFINITIONS) for s in stmt.body)
    return False


#: This process's cache, shared by the engine (files it lints) and the resolvers (imports).
PARSED = ParseCache()
_CACHE = PARSED
