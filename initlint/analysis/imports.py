"""Imports: ``import`` and ``from ... import`` statements, and the linted tree's own modules
read when first used.

A mixin of :class:`~initlint.analysis.evaluator.Evaluator`.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from .calls import LazyName, ModuleValue
from .context import Resolver
from .core import Core
from .values import External, Scope, Unknown, Value


class Imports(Core):
    """Import statements and modules."""

    resolver: Optional[Resolver]
    file_path: str
    star_modules: List[str]
    _loading: int

    def _import(self, small: cst.CSTNode, scope: Scope) -> None:
        assert isinstance(small, cst.Import)
        for alias in small.names:
            full = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                scope.bind(alias.asname.name.value, self.module_value(full))
            else:
                head = full.split(".")[0]
                scope.bind(head, self.module_value(head))

    def _import_from(self, small: cst.CSTNode, scope: Scope) -> None:
        assert isinstance(small, cst.ImportFrom)
        module = self._absolute(small)
        if module is None:
            for orig, local in _imported_names(small):
                scope.bind(local, Unknown(f"relative import of {orig}"))
            return
        mod = self.module_value(module)
        if isinstance(small.names, cst.ImportStar):
            if isinstance(mod, ModuleValue):
                for k, v in mod.scope.names.items():
                    if not k.startswith("_"):
                        scope.bind(k, v)
            else:
                self.star_modules.append(module)
            return
        for name, local in _imported_names(small):
            if isinstance(mod, ModuleValue):
                scope.bind(local, LazyName(module, name))
            else:
                scope.bind(local, External(f"{module}.{name}" if module else name))

    def resolve(self, v: Value) -> Value:
        """The value a lazily imported name stands for (read from its module now)."""
        depth = 0
        while isinstance(v, LazyName) and depth < 16:
            if v.resolved is None:
                v.resolved = Unknown(f"import cycle through {v.describe()}")  # while reading
                mod = self.module_value(v.module)
                v.resolved = mod.member(self, v.name) if isinstance(mod, ModuleValue) else \
                    External(f"{v.module}.{v.name}")
            v = v.resolved
            depth += 1
        return v if not isinstance(v, LazyName) else Unknown(f"import of {v.describe()}")

    def _absolute(self, small: cst.ImportFrom) -> Optional[str]:
        module = _dotted(small.module) if small.module is not None else ""
        if not small.relative:
            return module
        if self.resolver is None:
            return None
        here = self.resolver.module_name(self.path or self.file_path)
        if here is None:
            return None
        parts = here.split(".")
        is_pkg = self.resolver.is_package(self.path or self.file_path)
        up = len(small.relative) - (1 if is_pkg else 0)
        if up > len(parts) - (0 if is_pkg else 0):
            return None
        base = parts[: len(parts) - up] if up > 0 else parts
        return ".".join(p for p in base + ([module] if module else []) if p)

    def module_value(self, name: str) -> Value:
        """A module by dotted name: the linted tree's own (its definitions read when first
        used), or an :class:`External` one."""
        if name in self._modules:
            mod = self._modules[name]
            return mod if mod is not None else External(name)
        importer = self.path or self.file_path
        if self.resolver is None or self.resolver.locate(name, importer) is None:
            self._modules[name] = None
            return External(name)
        mod = ModuleValue(name, lambda scope: self._load_module(name, importer, scope))
        self._modules[name] = mod
        return mod

    def _load_module(self, name: str, importer: str, scope: Scope) -> None:
        assert self.resolver is not None
        if self._loading >= self.limits.module_depth:
            return  # too deep a chain of modules: its names stay unknown
        tree = self.resolver.load_from(name, importer)
        if tree is None:
            return
        saved, saved_building = self.path, self.building
        self.path = self.resolver.path_of(name)
        self._loading += 1
        self.building = 0
        try:
            self.exec_suite(tree.body, scope)
        finally:
            self.path, self.building = saved, saved_building
            self._loading -= 1




def _dotted(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _imported_names(small: cst.ImportFrom) -> List[Tuple[str, str]]:
    if isinstance(small.names, cst.ImportStar):
        return []
    out = []
    for alias in small.names:
        name = _dotted(alias.name)
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        out.append((name, local))
    return out

