"""Imports: ``import`` and ``from ... import`` statements, and the linted tree's own modules
read when first used.

A mixin of :class:`~initlint.analysis.evaluator.Evaluator`.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .calls import LazyName, LazyValue, ModuleValue
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
                if isinstance(v, LazyValue):
                    v.resolved = self._lazy_value(v)
                else:
                    mod = self.module_value(v.module)
                    v.resolved = mod.member(self, v.name) if isinstance(mod, ModuleValue) \
                        else External(f"{v.module}.{v.name}")
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
            once = _set_once(tree.body)
            for stmt in tree.body:
                lazy = _lazy_assignment(stmt, once)
                if lazy is not None:
                    target, value = lazy
                    scope.bind(target, LazyValue(name, target, value, scope, self.path))
                else:
                    self.exec_statement(stmt, scope)
        finally:
            self.path, self.building = saved, saved_building
            self._loading -= 1

    def _lazy_value(self, v: LazyValue) -> Value:
        """A module's top-level value, computed where it is first used: in its module, as
        at the module's top level (outside any construction, branch or call)."""
        saved = self.path, self.building, self.uncertain, self.frames
        self.path, self.building, self.uncertain, self.frames = v.path, 0, 0, []
        self._loading += 1
        try:
            return self.eval(v.node, v.scope)
        finally:
            self.path, self.building, self.uncertain, self.frames = saved
            self._loading -= 1




def _set_once(body: Sequence[cst.CSTNode]) -> Set[str]:
    """Names a module's top level assigns exactly once, as a plain ``name = value``."""
    counts: Dict[str, int] = {}
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) \
                        else [small.target]
                    for t in targets:
                        for n in _target_names(t):
                            counts[n] = counts.get(n, 0) + (1 if isinstance(t, cst.Name) else 2)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            counts[stmt.name.value] = counts.get(stmt.name.value, 0) + 2
    return {n for n, c in counts.items() if c == 1}


def _target_names(t: cst.CSTNode) -> List[str]:
    if isinstance(t, cst.Name):
        return [t.value]
    if isinstance(t, (cst.Tuple, cst.List)):
        return [n for e in t.elements for n in _target_names(e.value)]
    if isinstance(t, cst.StarredElement):
        return _target_names(t.value)
    return []


def _lazy_assignment(stmt: cst.CSTNode, once: Set[str]
                     ) -> Optional[Tuple[str, cst.BaseExpression]]:
    """``name = <call or display>`` for a name set once: its value can wait until used."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if not isinstance(small, cst.Assign) or len(small.targets) != 1:
        return None
    target = small.targets[0].target
    if not isinstance(target, cst.Name) or target.value not in once:
        return None
    if not isinstance(small.value, (cst.Call, cst.Dict, cst.List, cst.Tuple, cst.Set,
                                    cst.DictComp, cst.ListComp, cst.SetComp)):
        return None
    return target.value, small.value


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

