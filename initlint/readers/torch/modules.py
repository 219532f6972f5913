"""Modules as ``nn.Module`` sees them: submodules and parameters (``modules()``,
``named_parameters()``, ``apply(fn)``), containers filled after construction, the names
layers get from where they are kept, and what code initlint cannot see may have done to
them."""

from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from ...analysis import (UNKNOWN, Args, ClassV, Const, DictV, FunctionV, InstanceV, OneOf, Seq,
                         Site, Value)
from ...analysis.builtins import items_of
from ...catalog import torch as T
from . import names as N
from .flow import Flow
from .values import INERT, ContainerV, DrawV, ItemsV, LayerV, ModuleValue, ParamV, RawV


class Modules(Flow):
    """What ``nn.Module`` provides."""

    _module_classes: Dict[int, bool]
    #: >0 while ``apply(fn)`` runs ``fn`` on each submodule.
    applying: int

    # --- the module tree --------------------------------------------------------------------

    def tree(self, root: Value) -> List[Tuple[str, Value]]:
        """Every submodule under ``root`` (root included) and every hand-made weight, as
        (dotted name, value)."""
        out: List[Tuple[str, Value]] = []
        self._walk(root, "", out, set())
        return out

    def _walk(self, v: Value, prefix: str, out: List[Tuple[str, Value]], seen: Set[int]) -> None:
        if id(v) in seen or len(out) > 4096:
            return
        seen.add(id(v))
        if isinstance(v, (ModuleValue, RawV)) and not isinstance(v, ContainerV):
            out.append((prefix, v))
        elif isinstance(v, InstanceV):
            out.append((prefix, v))
            for k, a in list(v.attrs.items()):
                self._walk(a, f"{prefix}.{k}" if prefix else k, out, seen)
            inner = v.extra.get("container")
            if isinstance(inner, ContainerV):
                self._items(inner, prefix, out, seen)
        elif isinstance(v, ContainerV):
            out.append((prefix, v))
            self._items(v, prefix, out, seen)
        elif isinstance(v, Seq):
            for i, item in enumerate(v.items):
                self._walk(item, f"{prefix}.{i}" if prefix else str(i), out, seen)
        elif isinstance(v, OneOf):
            for o in v.options:
                self._walk(o, prefix, out, seen)

    def _items(self, c: ContainerV, prefix: str, out: List[Tuple[str, Value]],
               seen: Set[int]) -> None:
        for i, item in enumerate(c.items):
            key = c.keys[i] if c.keys and i < len(c.keys) else str(i)
            self._walk(item, f"{prefix}.{key}" if prefix else key, out, seen)

    def _modules(self, owner: Value, named: bool) -> ItemsV:
        out: List[Value] = []
        for name, m in self.tree(owner):
            if isinstance(m, RawV):
                continue
            out.append(Seq([Const(name), m], "tuple") if named else m)
        return ItemsV(out)

    def _parameters(self, owner: Value, named: bool) -> ItemsV:
        out: List[Value] = []
        for name, m in self.tree(owner):
            if isinstance(m, RawV):
                out.append(Seq([Const(name), m], "tuple") if named else m)
            elif isinstance(m, LayerV):
                for p in _params_of(m):
                    pname = f"{name}.{p.attr}" if name else p.attr
                    out.append(Seq([Const(pname), p], "tuple") if named else p)
        return ItemsV(out)

    # --- methods ----------------------------------------------------------------------------

    def module_method(self, owner: Value, name: str, args: Args, site: Site) -> Optional[Value]:
        """A method of ``nn.Module`` called on one of the file's modules (or PyTorch's)."""
        pos = args.positional
        if name == "apply":
            if pos:
                self.applying += 1
                try:
                    for _, m in reversed(self.tree(owner)):
                        if not isinstance(m, RawV):
                            self.ev.call(pos[0], Args([m]), site)
                finally:
                    self.applying -= 1
            return owner
        if name in ("modules", "named_modules", "children", "named_children"):
            return self._modules(owner, name.startswith("named"))
        if name in ("parameters", "named_parameters"):
            return self._parameters(owner, name == "named_parameters")
        if name in N.MODULE_SELF:
            return owner
        if name in ("register_parameter", "add_module", "register_module"):
            self._register(owner, args, site)
            return Const(None)
        if name == "load_state_dict" or name.startswith("_load"):
            return None  # the weights are replaced by values initlint cannot see
        if name == "forward" and isinstance(owner, ModuleValue):
            return self.call_module(owner, args, site)
        return INERT

    def _register(self, owner: Value, args: Args, site: Site) -> None:
        if len(args.positional) < 2:
            return
        key, value = args.positional[0], args.positional[1]
        if not (isinstance(key, Const) and isinstance(key.value, str)):
            return
        if isinstance(owner, InstanceV):
            self.ev.set_attribute(owner, key.value, value, site)
        elif isinstance(owner, ContainerV):
            self.container_add(owner, value, key.value)

    def container_method(self, c: ContainerV, name: str, args: Args, site: Site
                         ) -> Optional[Value]:
        pos = args.positional
        if name == "append" and pos:
            self.container_add(c, pos[0])
        elif name == "extend" and pos:
            items = items_of(self.ev, pos[0])
            for item in items or []:
                self.container_add(c, item)
            c.exact = c.exact and items is not None
        elif name == "insert" and len(pos) >= 2:
            self.container_add(c, pos[1])
        elif name == "add_module" and len(pos) >= 2:
            key = pos[0].value if isinstance(pos[0], Const) else None
            self.container_add(c, pos[1], key if isinstance(key, str) else None)
        elif name == "update" and pos and isinstance(pos[0], DictV):
            for k, v in pos[0].items.items():
                self.container_add(c, v, str(k))
        elif name in ("values", "items", "keys"):
            return self._dict_view(c, name)
        else:
            return self.module_method(c, name, args, site)
        return Const(None)

    def _dict_view(self, c: ContainerV, name: str) -> Value:
        keys = c.keys or [str(i) for i in range(len(c.items))]
        if name == "values":
            return Seq(list(c.items), "list", c.exact)
        if name == "keys":
            return Seq([Const(k) for k in keys], "list", c.exact)
        return Seq([Seq([Const(k), v], "tuple") for k, v in zip(keys, c.items)], "list", c.exact)

    def container_add(self, c: ContainerV, value: Value, key: Optional[str] = None) -> None:
        if key is not None or c.keys is not None:
            keys = c.keys if c.keys is not None else [str(i) for i in range(len(c.items))]
            keys.append(key if key is not None else str(len(c.items)))
            c.keys = keys
        c.items.append(value)
        if c.name is not None:
            sub = f"{c.name}.{key}" if key is not None else f"{c.name}[{len(c.items) - 1}]"
            self.name_value(sub, value, False)

    def param_method(self, p: ParamV, name: str, args: Args, site: Site) -> Optional[Value]:
        if name in T.TENSOR_INIT_METHODS:
            return self.tensor_init(p, name, args, site)
        if name in N.TENSOR_SELF:
            return p
        if name in ("mul_", "div_") and isinstance(p.owner, LayerV):
            self.rescale(p.owner.layer, p.role, args.positional[0] if args.positional else None,
                         name == "div_")
            return p
        if name in ("dim", "ndimension"):
            n = p.ndim()
            return Const(n) if n is not None else UNKNOWN
        return INERT

    # --- escapes ----------------------------------------------------------------------------

    def escape_module(self, m: Value) -> None:
        for _, v in self.tree(m):
            if isinstance(v, LayerV):
                self.escape_layer(v.layer)
            elif isinstance(v, RawV):
                self.escape_layer(v.layer)

    # --- names ------------------------------------------------------------------------------

    def name_value(self, name: str, value: Value, top: bool) -> None:
        if isinstance(value, LayerV):
            if value.layer.name is None:
                value.layer.name = name
        elif isinstance(value, RawV):
            if value.layer.name is None:
                value.layer.name = name
        elif isinstance(value, DrawV):
            if value.name is None:
                value.name = name
        elif isinstance(value, ContainerV):
            self._name_container(name, value, top)
        elif isinstance(value, Seq) and len(value.items) <= 256:
            for i, item in enumerate(value.items):
                if isinstance(item, (LayerV, RawV, DrawV, ContainerV, Seq)):
                    self.name_value(f"{name}[{i}]", item, False)

    def _name_container(self, name: str, c: ContainerV, top: bool) -> None:
        if top:
            c.top_level = True
        if c.name is not None:
            return
        c.name = name
        for i, item in enumerate(c.items):
            key = c.keys[i] if c.keys and i < len(c.keys) else (
                "[i]" if not c.exact else f"[{i}]")
            sub = f"{name}.{key}" if not key.startswith("[") else f"{name}{key}"
            if isinstance(item, (LayerV, RawV, DrawV, ContainerV)):
                self.name_value(sub, item, False)

    # --- classes ----------------------------------------------------------------------------

    def module_class(self, cls: ClassV) -> bool:
        """A class of the file that is a PyTorch module: it derives from one, or it has
        ``__init__`` and ``forward`` as modules do."""
        got = self._module_classes.get(id(cls))
        if got is None:
            got = any(N.is_module_base(b) for b in cls.external_bases()) or (
                isinstance(cls.lookup("forward")[0], FunctionV)
                and isinstance(cls.lookup("__init__")[0], FunctionV))
            self._module_classes[id(cls)] = got
        return got

    def is_module_class(self, inst: InstanceV) -> bool:
        return self.module_class(inst.cls)

    def owned(self, roots: List[InstanceV]) -> Set[int]:
        """Instances held by another module (an attribute, a container's item)."""
        out: Set[int] = set()
        for inst in roots:
            for _, m in self.tree(inst)[1:]:
                if isinstance(m, InstanceV) and m is not inst:
                    out.add(id(m))
        for c in self.containers:
            for _, m in self.tree(c)[1:]:
                if isinstance(m, InstanceV):
                    out.add(id(m))
        return out


def _params_of(m: LayerV) -> List[ParamV]:
    layer = m.layer
    out = [ParamV(m, w.role, _param_attr(layer.kind, w.role)) for w in layer.weights]
    if m.has_bias is not False:
        out.append(ParamV(m, "bias", "bias"))
    return out


def _param_attr(kind: str, role: str) -> str:
    if kind == "recurrent":
        return {"kernel": "weight_ih_l0", "recurrent": "weight_hh_l0"}.get(role, role)
    return "weight" if role in ("kernel", "embeddings") else role

