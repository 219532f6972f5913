"""Fixes in the Keras idiom the file uses: a string stays a string in its quote style and case,
``initializers.GlorotUniform(seed=1)`` becomes ``initializers.HeUniform(seed=1)`` under the
same alias, a ``from ... import`` is extended when the new class needs a name, and a layer
left at its default gets the keyword added."""

from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from ...catalog import keras as K
from ...edits import add_keyword
from ...model import Edit, InitRequest, InitSpec, Layer, Weight
from ..pyutil import ImportTable, dotted_name


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
        if layer.render.get("foreign"):
            return None  # built in another module: its call is not in this file
        spec = weight.init
        cls = K.class_for(req.family, req.distribution)
        q = self.quote
        if spec.written == "default":
            kw = spec.render.get("keyword", "kernel_initializer")
            call = layer.node
            if not isinstance(call, cst.Call):
                return None
            edit = add_keyword(self.module, call, kw, f"{q}{K.to_snake(cls)}{q}")
            return [edit] if edit is not None else None
        target = spec.render.get("target")
        written = spec.render.get("inner_written", spec.written)
        if target is None:
            return None
        if written == "none":
            return [Edit(target, f"{q}{K.to_snake(cls)}{q}")]
        if written == "string" and isinstance(target, cst.SimpleString):
            name = K.to_snake(cls) if spec.render.get("snake") else cls
            return [Edit(target, f"{target.prefix}{target.quote}{name}{target.quote}")]
        if written in ("class_call", "class_ref"):
            return self._render_class(spec, cls, written)
        return None

    def _render_class(self, spec: InitSpec, cls: str, written: str) -> Optional[List[Edit]]:
        """Swap the class in ``X(...)`` / ``mod.X(...)`` / ``mod.X`` for ``cls`` in the same
        spelling (snake_case stays snake_case), extending a ``from ... import`` when needed."""
        callee = spec.render["callee"]
        tf = bool(spec.render.get("tf"))
        extra: List[Edit] = []
        if tf:
            path = self._initializers_path()
            if path is None:
                return None
            name_node, new, prefix = callee, f"{path}.{cls}", ""
        elif isinstance(callee, (cst.Attribute, cst.Name)):
            name_node = callee.attr if isinstance(callee, cst.Attribute) else callee
            new = K.to_snake(cls) if not name_node.value[:1].isupper() else cls
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
        bound: Dict[str, cst.Arg] = spec.render.get("bound", {})
        if written == "class_ref" or (
                not tf and all(p in K.SCALED_CLASS_PARAMS for p in bound)):
            return [Edit(name_node, new)] + extra
        # Rebuild the argument list, keeping only the arguments the new class takes.
        kept = [f"{p}={self.module.code_for_node(a.value)}" for p, a in bound.items()
                if p in K.SCALED_CLASS_PARAMS]
        return [Edit(spec.render["target"], f"{prefix}{new}({', '.join(kept)})")] + extra

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
