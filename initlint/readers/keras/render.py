"""Fixes in the Keras idiom the file uses: a string stays a string in its quote style and case,
``initializers.GlorotUniform(seed=1)`` becomes ``initializers.HeUniform(seed=1)`` under the
same alias, a ``from ... import`` is extended when the new class needs a name, and a layer
left at its default gets the keyword added."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import libcst as cst

from ...catalog import keras as K
from ...edits import add_keyword
from ...model import Edit, InitRequest, Layer, Spelling, Weight
from ..pyutil import ImportTable, dotted_name


@dataclass
class KerasSpelling(Spelling):
    """Where and how a Keras initializer was written, for a fix in the same idiom."""

    #: The expression a fix replaces (None for a default: the fix adds ``keyword``).
    target: Optional[cst.CSTNode] = None
    #: The keyword a fix adds to the layer's call when the initializer was left out.
    keyword: str = "kernel_initializer"
    #: A string written in snake_case (``"glorot_uniform"``, not ``"GlorotUniform"``).
    snake: bool = False
    #: The class (``initializers.GlorotUniform``) of a class call or reference.
    callee: Optional[cst.CSTNode] = None
    #: A class call's arguments by parameter name.
    bound: Dict[str, cst.Arg] = field(default_factory=dict)
    #: A TensorFlow initializer (``tf.random_normal_initializer``): the fix names Keras's.
    tf: bool = False
    #: How the value a variable holds was written (``string``, ``class_call``, ...).
    held: Optional[str] = None


class Renderer:
    def __init__(self, module: cst.Module, quote: str) -> None:
        self.module = module
        self.quote = quote
        self.imports = ImportTable()
        self.import_nodes: Dict[str, cst.ImportFrom] = {}
        for stmt in module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._add_import(small)

    def _add_import(self, node: cst.CSTNode) -> None:
        self.imports.add(node)
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                local = alias.asname.name.value if alias.asname and isinstance(
                    alias.asname.name, cst.Name) else dotted_name(alias.name)
                if local:
                    self.import_nodes[local] = node

    def short(self, node: Optional[cst.CSTNode], limit: int = 60) -> str:
        if node is None:
            return "an unknown initializer"
        text = " ".join(self.module.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def render(self, layer: Layer, weight: Weight, req: InitRequest) -> Optional[List[Edit]]:
        spec = weight.init
        sp = spec.spelling
        if not isinstance(sp, KerasSpelling):
            return None  # nothing a fix can replace safely (another module, a shared default)
        if req.name is not None:  # a rejected name for one Keras accepts, in the same quotes
            t = sp.target
            if spec.written != "string" or not isinstance(t, cst.SimpleString):
                return None
            return [Edit(t, f"{t.prefix}{t.quote}{req.name}{t.quote}")]
        cls = K.class_for(req.family, req.distribution)
        q = self.quote
        if spec.written == "default":
            call = layer.node
            if not isinstance(call, cst.Call):
                return None
            edit = add_keyword(self.module, call, sp.keyword, f"{q}{K.to_snake(cls)}{q}")
            return [edit] if edit is not None else None
        written = sp.held or spec.written
        if sp.target is None:
            return None
        if written == "none":
            return [Edit(sp.target, f"{q}{K.to_snake(cls)}{q}")]
        if written == "string" and isinstance(sp.target, cst.SimpleString):
            name = K.to_snake(cls) if sp.snake else cls
            t = sp.target
            return [Edit(t, f"{t.prefix}{t.quote}{name}{t.quote}")]
        if written in ("class_call", "class_ref"):
            return self._render_class(sp, cls, written)
        return None

    def _render_class(self, sp: KerasSpelling, cls: str, written: str) -> Optional[List[Edit]]:
        """Swap the class in ``X(...)`` / ``mod.X(...)`` / ``mod.X`` for ``cls`` in the same
        spelling (snake_case stays snake_case), extending a ``from ... import`` when needed."""
        callee = sp.callee
        extra: List[Edit] = []
        if sp.tf:
            path = self._initializers_path()
            if path is None or callee is None:
                return None
            name_node: cst.CSTNode = callee
            new, prefix = f"{path}.{cls}", ""
        elif isinstance(callee, (cst.Attribute, cst.Name)):
            name = callee.attr if isinstance(callee, cst.Attribute) else callee
            name_node = name
            new = K.to_snake(cls) if not name.value[:1].isupper() else cls
            prefix = (self.module.code_for_node(callee.value) + "."
                      if isinstance(callee, cst.Attribute) else "")
            if isinstance(callee, cst.Name) and not self._imported_as(new):
                imp = self.import_nodes.get(callee.value)
                if imp is not None and not isinstance(imp.names, cst.ImportStar):
                    extra.append(Edit(imp.names[-1], f", {new}", "after"))
                elif not self.imports.star_modules:
                    return None
        else:
            return None
        if written == "class_ref" or (
                not sp.tf and all(p in K.SCALED_CLASS_PARAMS for p in sp.bound)):
            return [Edit(name_node, new)] + extra
        # Rebuild the argument list, keeping only the arguments the new class takes.
        kept = [f"{p}={self.module.code_for_node(a.value)}" for p, a in sp.bound.items()
                if p in K.SCALED_CLASS_PARAMS]
        return [Edit(sp.target, f"{prefix}{new}({', '.join(kept)})")] + extra

    def _imported_as(self, name: str) -> bool:
        """Is ``name`` already bound in this file to something of that name?"""
        return self.imports.aliases.get(name, "").rsplit(".", 1)[-1] == name

    def _initializers_path(self) -> Optional[str]:
        """How this file can name ``keras.initializers`` with what it already imports."""
        for root in K.ROOTS:
            local = self.imports.local_for(f"{root}.initializers")
            if local:
                return local
        for root in K.ROOTS:
            local = self.imports.local_for(root)
            if local:
                return f"{local}.initializers"
        local = self.imports.local_for("tensorflow")
        if local:
            return f"{local}.keras.initializers"
        return None
