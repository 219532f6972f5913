"""The PyTorch reader, which also reads weights built by hand from random tensors.

PyTorch models are code, not configuration: layers are attributes set in ``__init__``, their
activations are applied in ``forward``, and their initializers are set by ``nn.init`` calls,
``self.apply(fn)`` and ``for m in self.modules()`` loops. The reader therefore runs a small
abstract interpreter over the module. Values are layers, activation and pass-through modules,
``nn.Sequential``/``ModuleList`` containers, instances of the file's own module classes, tensors
(the layers whose output they carry) and constants. Nothing is imported or executed.

What it follows, deliberately simply:

- ``__init__`` bodies in order, inlining calls to the class's own methods (``self._make_layer``,
  ``self.reset_parameters()``) and to the file's own functions (``conv3x3``, ``zero_module``);
- ``self.apply(fn)``, ``modules()``/``named_modules()``/``parameters()`` loops with their
  ``isinstance``/class-name/``dim()`` guards; an init under a guard it cannot decide is ignored;
- ``forward`` as data flow through local variables, inlining the forward of the file's own
  submodules, so each layer learns its activation, its successors and whether it is an output;
- raw draws (``torch.randn``, ``np.random.randn``, ``tf.random.normal``) that a matrix product
  or ``F.linear``/``F.conv*`` uses as a weight.

Names resolve through the file's own imports, never by bare name.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import libcst as cst

from ..catalog import torch as T
from .. import variance
from ..model import Activation, Edit, InitRequest, InitSpec, Layer, Network, Stack, Weight
from ..naming import name_tokens
from .pyutil import (BINOPS, UNKNOWN, ImportTable, call_arguments, default_quote, dotted_name,
                     is_num, literal_string)

_MAX_DEPTH = 6
_RNN_SUFFIX = re.compile(r"_l\d+(_reverse)?$")

# --- values ---------------------------------------------------------------------------------


@dataclass
class Const:
    value: Any


@dataclass
class QName:
    """Something imported: a module, class or function, by its qualified name."""

    name: str


@dataclass
class Tensor:
    producers: List[Layer] = field(default_factory=list)
    #: Producers whose activation is still open.
    awaiting: List[Layer] = field(default_factory=list)
    #: The weight layers applied on the way to this value, in order (for residual branches).
    path: Tuple[Layer, ...] = ()


@dataclass
class ActMod:
    activation: Activation


@dataclass
class PassMod:
    cls: str
    kind: str  # norm | pass


@dataclass
class Seq:
    """nn.Sequential (a chain) or nn.ModuleList / a Python list of modules (a collection)."""

    items: List[Any]
    node: Any = None
    chain: bool = True
    keys: Optional[List[str]] = None
    called: bool = False
    top_level: bool = False
    repeated: bool = False
    name: Optional[str] = None


@dataclass
class ClassInfo:
    name: str
    node: cst.ClassDef
    methods: Dict[str, cst.FunctionDef]
    bases: List[Optional[str]]
    inst: Optional["Inst"] = None
    owned: bool = False
    forward_inlined: bool = False


@dataclass
class Inst:
    cls: ClassInfo
    attrs: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Func:
    node: cst.FunctionDef
    self_value: Any = None  # bound method: the instance


@dataclass
class Param:
    """``layer.weight`` / ``layer.bias`` (``owner`` is a Layer, or a PassMod for a norm)."""

    owner: Any
    role: str
    attr: str


@dataclass
class Draw:
    """A random or constant tensor factory call, not (yet) known to be a weight."""

    spec: InitSpec
    dims: List[Any]  # (value, node) pairs for each shape dimension
    framework: str
    node: Any
    requires_grad: bool = False
    name: Optional[str] = None


@dataclass
class Transposed:
    """``W.T`` / ``W.t()`` of a hand-made weight: a matrix product reads its fans swapped."""

    layer: Layer


@dataclass
class TypeOf:
    of: Any


@dataclass
class Iter:
    """``self.modules()`` and friends: what a for loop over it binds."""

    kind: str  # modules | parameters | named_modules | named_parameters
    root: Any


_UNKNOWN_TENSOR = Tensor()


class TorchReader:
    framework = "torch"
    #: A file that contains none of these cannot hold a PyTorch model or a hand-drawn weight.
    triggers = (b"torch", b"np.random", b"numpy.random", b"tf.random", b"random_normal",
                b"truncated_normal", b"random_uniform")

    def read(self, module: cst.Module, source: str) -> Network:
        r = _Reader(module, source)
        return r.run()


class _Reader:
    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.imports = ImportTable()
        self.quote = default_quote(source)
        self.layers: Dict[int, Layer] = {}
        self.order: List[Layer] = []
        self.seqs: List[Seq] = []
        self.classes: Dict[str, ClassInfo] = {}
        self.functions: Dict[str, cst.FunctionDef] = {}
        self.called_functions: set = set()
        self.depth = 0
        #: >0 while executing a branch whose condition is not known: inits there are ignored.
        self.uncertain = 0
        self.active: List[str] = []  # functions being executed (recursion guard)
        self.returns: List[List[Any]] = []
        self.forward_stack: List[Inst] = []
        self.stacks: List[Stack] = []
        #: Idioms that apply to inits made while a function of that name runs.
        self.idiom_context: List[str] = []
        self._forward_layers_stack: List[List[Layer]] = []
        self.self_stack: List[Inst] = []
        self._cur_vals: Dict[str, Any] = {}
        #: Layers each init call sets (by call node): one call may serve many layers.
        self.init_targets: Dict[int, List[Layer]] = {}

    # --- driver -------------------------------------------------------------------------

    def run(self) -> Network:
        env: Dict[str, Any] = {}
        self.module_env = env
        self.exec_block(self.module.body, env)
        for name, fn in list(self.functions.items()):
            if name not in self.called_functions:
                self.call_function(Func(fn), [], {}, env)
        modules = [i for i in self.classes.values() if self._is_module_class(i)]
        for info in modules:
            self.instantiate(info, [], {})
        # Top-level models first: they inline the forward of the submodules they call.
        for info in sorted(modules, key=lambda i: i.owned):
            if info.inst is not None and not info.forward_inlined:
                self.run_forward(info.inst, top=not info.owned)
        for info in self.classes.values():
            if not self._is_module_class(info):
                self.run_plain_class(info)
        for seq in self.seqs:
            if seq.chain and not seq.called:
                out = self.chain(seq, Tensor())
                if seq.top_level:
                    self.mark_output(out)
        return self.finish()

    def run_plain_class(self, info: ClassInfo) -> None:
        """A class that is not a module but draws weights by hand (a NumPy network): build it,
        then run each of its methods once, so that their matrix products find the weights."""
        init = self.find_method(info, "__init__")
        if init is None or not any(isinstance(n, (cst.Call,)) and self._draw_name(n)
                                   for n in _calls(init)):
            return
        inst = Inst(info)
        info.inst = inst
        self.call_function(Func(init, inst), [], {}, self.module_env)
        for name, fn in info.methods.items():
            if name != "__init__":
                self.call_function(Func(fn, inst), [], {}, self.module_env)

    def _draw_name(self, call: cst.Call) -> bool:
        return (self.qualify(call.func) or "") in T.DRAWS

    def finish(self) -> Network:
        net = Network(renderer=self.render, namer=self.name_init)
        for layer in self.order:
            if layer.render.get("raw") and not layer.render.get("used"):
                continue
            if layer.render.get("output"):
                layer.position = "output"
            elif layer.next or layer.render.get("consumed"):
                layer.position = "hidden"
            elif layer.render.get("applied"):
                layer.position = "output"  # its result feeds nothing
            net.layers.append(layer)
        for seq in self.seqs:
            ls = [x for x in _flatten(seq.items) if isinstance(x, Layer)]
            if seq.chain and ls:
                net.stacks.append(Stack(ls, "sequential", seq.node))
        net.stacks.extend(self.stacks)
        return net

    # --- statements -----------------------------------------------------------------------

    def exec_block(self, body: Iterable[cst.CSTNode], env: Dict[str, Any]) -> None:
        for stmt in body:
            self.exec_stmt(stmt, env)

    def exec_stmt(self, stmt: cst.CSTNode, env: Dict[str, Any]) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, env)
        elif isinstance(stmt, cst.FunctionDef):
            if env is self.module_env:
                self.functions[stmt.name.value] = stmt
                self.imports.shadow(stmt.name.value)
            env[stmt.name.value] = Func(stmt)
        elif isinstance(stmt, cst.ClassDef):
            if env is self.module_env:
                self.imports.shadow(stmt.name.value)
                methods = {s.name.value: s for s in stmt.body.body
                           if isinstance(s, cst.FunctionDef)}
                bases = [self.qualify(b.value) for b in stmt.bases]
                info = ClassInfo(stmt.name.value, stmt, methods, bases)
                self.classes[info.name] = info
                env[info.name] = info
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, env)
        elif isinstance(stmt, cst.For):
            self.exec_for(stmt, env)
        elif isinstance(stmt, cst.While):
            self.exec_block(stmt.body.body, env)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                self.ev(item.item, env)
            self.exec_block(stmt.body.body, env)
        elif isinstance(stmt, cst.Try):
            self.exec_block(stmt.body.body, env)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, env)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, env)

    def exec_small(self, small: cst.CSTNode, env: Dict[str, Any]) -> None:
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            if env is self.module_env:
                self.imports.add(small)
            else:
                self.imports.add(small)
            return
        if isinstance(small, cst.Assign):
            value = self.ev(small.value, env)
            for t in small.targets:
                self.assign(t.target, value, env)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.ev(small.value, env), env)
        elif isinstance(small, cst.AugAssign):
            left = self.ev(small.target, env)
            right = self.ev(small.value, env)
            value = self.binop(small.operator, left, right)
            self.assign(small.target, value, env)
        elif isinstance(small, cst.Expr):
            self.ev(small.value, env)
        elif isinstance(small, cst.Return):
            value = self.ev(small.value, env) if small.value is not None else Const(None)
            if self.returns:
                self.returns[-1].append(value)

    def assign(self, target: cst.CSTNode, value: Any, env: Dict[str, Any]) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
            self.name_value(target.value, value, top=env is self.module_env or
                            self._in_plain_function())
        elif isinstance(target, cst.Attribute):
            owner = self.ev(target.value, env)
            if isinstance(owner, Inst):
                owner.attrs[target.attr.value] = value
                self.name_value(target.attr.value, value, top=False)
                self.own(value)
            elif isinstance(value, Layer) and value.name is None and owner is None:
                value.name = target.attr.value
            elif isinstance(owner, Layer) and target.attr.value in ("weight", "bias"):
                # ``layer.weight = nn.Parameter(...)``: a hand-made weight for a real layer.
                if isinstance(value, Layer) and value.render.get("raw"):
                    w = self.weight_for(owner, target.attr.value)
                    if w is not None and value.weights:
                        w.init = value.weights[0].init
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, Seq) else None
            if isinstance(value, Const) and isinstance(value.value, tuple):
                items = [Const(v) for v in value.value]
            for i, el in enumerate(target.elements):
                # Unpacking a layer's output (``out, h = self.rnn(x)``) keeps its producers.
                v = items[i] if items is not None and i < len(items) else (
                    value if isinstance(value, Tensor) else None)
                self.assign(el.value, v, env)
        elif isinstance(target, cst.Subscript):
            owner = self.ev(target.value, env)
            if isinstance(owner, Seq) and isinstance(value, (Layer, Seq, ActMod, PassMod, Inst)):
                owner.items.append(value)

    def _in_plain_function(self) -> bool:
        return not self.forward_stack and bool(self.active) and not self.active[-1].startswith(
            "method:")

    def name_value(self, name: str, value: Any, top: bool) -> None:
        if isinstance(value, (Layer, Draw)) and value.name is None:
            value.name = name
        elif isinstance(value, Seq):
            if top:
                value.top_level = True
            if value.name is None:
                value.name = name
            for i, item in enumerate(value.items):
                key = value.keys[i] if value.keys and i < len(value.keys) else (
                    "[i]" if value.repeated else f"[{i}]")
                sub = f"{name}.{key}" if not key.startswith("[") else f"{name}{key}"
                if isinstance(item, (Layer, Seq, Draw)):
                    self.name_value(sub, item, False)

    def own(self, value: Any) -> None:
        if isinstance(value, Inst):
            value.cls.owned = True
        elif isinstance(value, Seq):
            for item in value.items:
                self.own(item)

    def exec_if(self, stmt: cst.If, env: Dict[str, Any]) -> None:
        truth = self.truth(self.ev(stmt.test, env))
        orelse = stmt.orelse
        if truth is True:
            self.exec_block(stmt.body.body, env)
        elif truth is False:
            if isinstance(orelse, cst.If):
                self.exec_if(orelse, env)
            elif isinstance(orelse, cst.Else):
                self.exec_block(orelse.body.body, env)
        else:
            self.uncertain += 1
            try:
                self.exec_block(stmt.body.body, env)
                if isinstance(orelse, cst.If):
                    self.exec_if(orelse, env)
                elif isinstance(orelse, cst.Else):
                    self.exec_block(orelse.body.body, env)
            finally:
                self.uncertain -= 1

    def exec_for(self, stmt: cst.For, env: Dict[str, Any]) -> None:
        it = self.ev(stmt.iter, env)
        target = stmt.target
        if isinstance(it, Iter):
            for binding in self.iterate(it):
                self.bind_loop(target, binding, env)
                self.exec_block(stmt.body.body, env)
            return
        if isinstance(it, Seq):
            items = list(it.items)
            if it.repeated and len(items) == 1:
                items = items * 2
            for item in items:
                self.bind(target, item, env)
                self.exec_block(stmt.body.body, env)
            return
        # Any other loop: run the body twice so that loop-carried values link up.
        self.assign(target, None, env)
        for _ in range(2):
            self.exec_block(stmt.body.body, env)

    def bind(self, target: cst.CSTNode, value: Any, env: Dict[str, Any]) -> None:
        """Bind a loop variable: like an assignment, but a loop variable is no layer's name."""
        if isinstance(target, cst.Name):
            env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, Seq) else []
            for i, el in enumerate(target.elements):
                self.bind(el.value, items[i] if i < len(items) else None, env)
        else:
            self.assign(target, value, env)

    def bind_loop(self, target: cst.CSTNode, binding: Tuple[Any, ...], env: Dict[str, Any]) -> None:
        if isinstance(target, (cst.Tuple, cst.List)) and len(binding) > 1:
            for el, v in zip(target.elements, binding):
                self.bind(el.value, v, env)
        else:
            self.bind(target, binding[-1], env)

    def iterate(self, it: Iter) -> List[Tuple[Any, ...]]:
        out: List[Tuple[Any, ...]] = []
        if it.kind in ("modules", "named_modules", "children", "named_children"):
            for name, m in self.tree(it.root):
                out.append((Const(name), m) if it.kind.startswith("named") else (m,))
        else:
            for name, m in self.tree(it.root):
                if isinstance(m, Layer):
                    ws = [(w.role, self._param_attr(m, w.role)) for w in m.weights]
                    if m.render.get("has_bias") is not False and not m.render.get("raw"):
                        ws.append(("bias", "bias"))
                    for role, attr in ws:
                        p: Any = m if m.render.get("raw") else Param(m, role, attr)
                        pname = name if m.render.get("raw") else (
                            f"{name}.{attr}" if name else attr)
                        out.append((Const(pname), p) if it.kind == "named_parameters" else (p,))
        return out

    @staticmethod
    def _param_attr(layer: Layer, role: str) -> str:
        if layer.kind == "recurrent":
            return {"kernel": "weight_ih_l0", "recurrent": "weight_hh_l0"}.get(role, role)
        return "weight" if role in ("kernel", "embeddings") else role

    def tree(self, root: Any, prefix: str = "", seen: Optional[set] = None
             ) -> List[Tuple[str, Any]]:
        """Every submodule under ``root`` (root included), as (dotted name, value)."""
        seen = set() if seen is None else seen
        if id(root) in seen:
            return []
        seen.add(id(root))
        out: List[Tuple[str, Any]] = []
        if isinstance(root, (Layer, PassMod, ActMod)):
            return [(prefix, root)]
        if isinstance(root, Inst):
            out.append((prefix, root))
            for k, v in root.attrs.items():
                out.extend(self.tree(v, f"{prefix}.{k}" if prefix else k, seen))
        elif isinstance(root, Seq):
            out.append((prefix, root))
            for i, v in enumerate(root.items):
                key = root.keys[i] if root.keys and i < len(root.keys) else str(i)
                out.extend(self.tree(v, f"{prefix}.{key}" if prefix else key, seen))
        return out

    # --- expressions ----------------------------------------------------------------------

    def ev(self, node: Optional[cst.CSTNode], env: Dict[str, Any]) -> Any:
        if node is None:
            return None
        if isinstance(node, cst.Integer):
            return Const(int(node.evaluated_value))
        if isinstance(node, cst.Float):
            return Const(float(node.evaluated_value))
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            s = literal_string(node)
            return Const(s) if s is not None else None
        if isinstance(node, cst.Name):
            return self.lookup(node.value, env)
        if isinstance(node, cst.Attribute):
            return self.attribute(self.ev(node.value, env), node.attr.value)
        if isinstance(node, cst.Call):
            return self.call(node, env)
        if isinstance(node, cst.BinaryOperation):
            return self.binop(node.operator, self.ev(node.left, env), self.ev(node.right, env),
                              node)
        if isinstance(node, cst.UnaryOperation):
            v = self.ev(node.expression, env)
            if isinstance(node.operator, cst.Not):
                t = self.truth(v)
                return None if t is None else Const(not t)
            if isinstance(v, Const) and is_num(v.value):
                if isinstance(node.operator, cst.Minus):
                    return Const(-v.value)
                if isinstance(node.operator, cst.Plus):
                    return v
            if isinstance(v, Tensor):
                return v
            return None
        if isinstance(node, cst.BooleanOperation):
            a = self.truth(self.ev(node.left, env))
            b = self.truth(self.ev(node.right, env))
            if isinstance(node.operator, cst.And):
                if a is False or b is False:
                    return Const(False)
                return Const(True) if a is True and b is True else None
            if a is True or b is True:
                return Const(True)
            return Const(False) if a is False and b is False else None
        if isinstance(node, cst.Comparison):
            return self.compare(node, env)
        if isinstance(node, (cst.List, cst.Tuple)):
            items: List[Any] = []
            for el in node.elements:
                v = self.ev(el.value, env)
                if isinstance(el, cst.StarredElement):
                    if isinstance(v, Seq):
                        items.extend(v.items)
                    continue
                items.append(v)
            if all(isinstance(i, Const) for i in items) and isinstance(node, cst.Tuple):
                return Const(tuple(i.value for i in items))
            if items and all(isinstance(i, Const) for i in items):
                return Const(tuple(i.value for i in items))
            return Seq(items, node, chain=False)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            inner = dict(env)
            for f in _comp_fors(node.for_in):
                it = self.ev(f.iter, env)
                self.assign(f.target, it.items[0] if isinstance(it, Seq) and it.items else None,
                            inner)
            v = self.ev(node.elt, inner)
            return Seq([v], node, chain=False, repeated=True)
        if isinstance(node, cst.Subscript):
            return self.subscript(self.ev(node.value, env), node, env)
        if isinstance(node, cst.IfExp):
            t = self.truth(self.ev(node.test, env))
            if t is True:
                return self.ev(node.body, env)
            if t is False:
                return self.ev(node.orelse, env)
            a, b = self.ev(node.body, env), self.ev(node.orelse, env)
            return a if a is not None else b
        if isinstance(node, cst.Lambda):
            return None
        if isinstance(node, cst.NamedExpr):
            v = self.ev(node.value, env)
            self.assign(node.target, v, env)
            return v
        return None

    def lookup(self, name: str, env: Dict[str, Any]) -> Any:
        if name in env:
            return env[name]
        if name in self.module_env:
            return self.module_env[name]
        if name in ("None", "True", "False"):
            return Const({"None": None, "True": True, "False": False}[name])
        if name == "__name__":
            return Const("__main__")
        q = self.imports.resolve(name)
        if q is None:
            cands = list(self.imports.star_candidates(name))
            q = cands[0] if cands and any(c.startswith("torch") for c in cands) else None
        return QName(q) if q else None

    def qualify(self, node: cst.CSTNode) -> Optional[str]:
        d = dotted_name(node)
        if d is None:
            return None
        return self.imports.resolve(d) or d

    def attribute(self, base: Any, attr: str) -> Any:
        if isinstance(base, QName):
            if base.name in ("math", "numpy") and attr in ("pi", "e"):
                return Const(math.pi if attr == "pi" else math.e)
            return QName(f"{base.name}.{attr}")
        if isinstance(base, Inst):
            if attr in base.attrs:
                return base.attrs[attr]
            fn = self.find_method(base.cls, attr)
            if fn is not None:
                return Func(fn, base)
            if attr == "__class__":
                return TypeOf(base)
            return None
        if isinstance(base, Layer):
            if attr in ("weight", "bias") or attr.startswith(("weight_", "bias_")) or attr in (
                    "in_proj_weight", "in_proj_bias", "q_proj_weight"):
                role = self._role(base, attr)
                if role == "bias" and base.render.get("has_bias") is False:
                    return Const(None)
                return Param(base, role, attr)
            if attr == "__class__":
                return TypeOf(base)
            d = base.render.get("def")
            if attr == "linear1" and d is not None and d.kind == "transformer":
                return base
            if attr == "data" and base.render.get("raw"):
                return base
            if attr in ("T", "mT") and base.render.get("raw"):
                return Transposed(base)
            return None
        if isinstance(base, PassMod):
            if attr in ("weight", "bias"):
                return Param(base, attr, attr)
            if attr == "__class__":
                return TypeOf(base)
            return None
        if isinstance(base, (Inst, ActMod)) and attr == "__class__":
            return TypeOf(base)
        if isinstance(base, TypeOf) and attr == "__name__":
            return Const(_type_name(base.of))
        if isinstance(base, Param):
            if attr == "data":
                return base
            if attr == "ndim":
                return Const(self._ndim(base))
            if attr == "shape":
                n = self._ndim(base)
                return Const((None,) * n) if n is not None else None
            return None
        if isinstance(base, Seq) and base.keys and attr in base.keys:
            return base.items[base.keys.index(attr)]
        if isinstance(base, Seq) and attr == "__class__":
            return TypeOf(base)
        if isinstance(base, Draw) and attr == "data":
            return base
        if isinstance(base, Const) and attr == "__name__":
            return None
        return None

    def _role(self, layer: Layer, attr: str) -> str:
        base = _RNN_SUFFIX.sub("", attr)
        role = T.PARAM_ROLES.get(base, "other")
        if role == "kernel" and layer.kind == "embedding":
            return "embeddings"
        return role

    def _ndim(self, p: Param) -> Optional[int]:
        if p.role == "bias":
            return 1
        if isinstance(p.owner, PassMod):
            return 1
        if isinstance(p.owner, Layer):
            d = p.owner.render.get("def")
            if d is not None and d.kind in ("conv", "conv_transpose"):
                return 2 + d.rank
            if d is not None and d.kind == "bilinear":
                return 3
            return 2
        return None

    def subscript(self, base: Any, node: cst.Subscript, env: Dict[str, Any]) -> Any:
        if isinstance(base, Tensor):
            return base
        if not isinstance(base, Seq) or len(node.slice) != 1:
            return None
        sl = node.slice[0].slice
        if isinstance(sl, cst.Index):
            idx = self.ev(sl.value, env)
            if isinstance(idx, Const) and isinstance(idx.value, int) and base.items:
                i = idx.value
                if base.repeated:
                    return base.items[0]
                if -len(base.items) <= i < len(base.items):
                    return base.items[i]
                return None
            if isinstance(idx, Const) and isinstance(idx.value, str) and base.keys:
                if idx.value in base.keys:
                    return base.items[base.keys.index(idx.value)]
            weights = [x for x in base.items if isinstance(x, Layer)]
            if weights and len(weights) == len(base.items) and all(
                    x is weights[0] for x in weights):
                return weights[0]
            return None
        if isinstance(sl, cst.Slice):
            return Seq(list(base.items), base.node, base.chain, base.keys, repeated=base.repeated)
        return None

    def compare(self, node: cst.Comparison, env: Dict[str, Any]) -> Any:
        left = self.ev(node.left, env)
        result: Optional[bool] = True
        for comp in node.comparisons:
            right = self.ev(comp.comparator, env)
            r = self._compare_one(comp.operator, left, right)
            if r is None:
                result = None if result is not False else False
            elif r is False:
                result = False
            left = right
        return None if result is None else Const(result)

    def _compare_one(self, op: cst.BaseCompOp, a: Any, b: Any) -> Optional[bool]:
        if isinstance(op, (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)):
            neg = isinstance(op, (cst.IsNot, cst.NotEqual))
            if isinstance(a, TypeOf) and isinstance(b, (QName, ClassInfo)):
                r = _isinstance(a.of, [b], exact=True)
                return None if r is None else (r != neg)
            if isinstance(a, Const) and isinstance(b, Const):
                return (a.value == b.value) != neg
            if isinstance(b, Const) and b.value is None and a is not None:
                return not neg  # a known object is not None
            return None
        if isinstance(op, (cst.In, cst.NotIn)):
            neg = isinstance(op, cst.NotIn)
            if isinstance(a, Const) and isinstance(b, Const) and isinstance(b.value, (str, tuple)):
                try:
                    return (a.value in b.value) != neg
                except TypeError:
                    return None
            if isinstance(a, TypeOf) and isinstance(b, Seq):
                r = _isinstance(a.of, b.items, exact=True)
                return None if r is None else (r != neg)
            return None
        if isinstance(a, Const) and isinstance(b, Const) and is_num(a.value) and is_num(b.value):
            x, y = a.value, b.value
            if isinstance(op, cst.GreaterThan):
                return x > y
            if isinstance(op, cst.GreaterThanEqual):
                return x >= y
            if isinstance(op, cst.LessThan):
                return x < y
            if isinstance(op, cst.LessThanEqual):
                return x <= y
        return None

    @staticmethod
    def truth(v: Any) -> Optional[bool]:
        if isinstance(v, Const):
            try:
                return bool(v.value)
            except Exception:  # noqa: BLE001
                return None
        if isinstance(v, (Layer, Param, Inst, Seq, PassMod, ActMod)):
            return True
        return None

    # --- arithmetic -----------------------------------------------------------------------

    def binop(self, op: cst.CSTNode, a: Any, b: Any, node: Optional[cst.CSTNode] = None) -> Any:
        if isinstance(a, Const) and isinstance(b, Const):
            return _fold(op, a.value, b.value)
        if isinstance(op, (cst.MatrixMultiply, cst.MatrixMultiplyAssign)):
            return self.matmul(a, b, node)
        if isinstance(op, (cst.Multiply, cst.Divide, cst.MultiplyAssign, cst.DivideAssign)):
            draw = a if isinstance(a, Draw) else b if isinstance(b, Draw) else None
            other = b if draw is a else a
            if draw is not None and isinstance(op, (cst.Multiply, cst.Divide)):
                return self.scale_draw(draw, other, isinstance(op, cst.Divide) and draw is a, node)
            raw = a if _is_raw(a) else b if _is_raw(b) else None
            if raw is not None:
                # Equalized learning rate: the weight is rescaled where it is used.
                self.mark_scaled_at_use(raw)
                return raw
            ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
            if ta != tb:
                # ``(x @ W) * c`` is ``x @ (W * c)``: a hand-made weight rescaled where it is used.
                for p in (a if ta else b).awaiting:
                    if p.render.get("raw"):
                        self.mark_scaled_at_use(p)
            if ta and tb:
                # A gate or modulation without weight layers of its own scales the other side.
                if not a.producers and b.producers:
                    return b
                if not b.producers and a.producers:
                    return a
                self.consume(a)
                self.consume(b)
                return Tensor()
            if ta:
                return a
            if tb:
                return b
            return None
        if isinstance(op, (cst.Add, cst.Subtract, cst.AddAssign, cst.SubtractAssign)):
            ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
            if ta and tb:
                return self.residual(a, b)
            if isinstance(a, Seq) and isinstance(b, Seq):
                return Seq(a.items + b.items, a.node, chain=False)
            if ta or tb:
                t, other = (a, b) if ta else (b, a)
                self.add_bias(t, other)
                return t
            return None
        if isinstance(a, Tensor):
            return a
        return None

    def add_bias(self, t: Tensor, bias: Any) -> None:
        """``x @ W + b``: what a hand-made layer's bias is, for the symmetry analysis."""
        spec = None
        if isinstance(bias, Draw):
            spec = bias.spec
        elif _is_raw(bias):
            spec = bias.weights[0].init
        elif isinstance(bias, Const) and is_num(bias.value):
            spec = InitSpec("constant", "constant", value=float(bias.value))
        for p in t.awaiting:
            if not p.render.get("raw"):
                continue
            if spec is not None and spec.family == "constant":
                p.uniform_bias = True if p.uniform_bias is not False else p.uniform_bias
                p.zero_bias = p.zero_bias is not False and spec.value == 0.0
            elif spec is not None and spec.family in ("fixed", "scaled"):
                p.uniform_bias = False
                p.zero_bias = False
            else:
                p.uniform_bias = None
                p.zero_bias = None

    def residual(self, a: Tensor, b: Tensor) -> Tensor:
        """``a + b``: when one side is a shortcut (at most one layer since the two diverged)
        and the other a longer branch, the branch's layers are a residual branch."""
        k = 0
        while k < min(len(a.path), len(b.path)) and a.path[k] is b.path[k]:
            k += 1
        ra, rb = a.path[k:], b.path[k:]
        branch = rb if len(ra) <= 1 and len(rb) > len(ra) else (
            ra if len(rb) <= 1 and len(ra) > len(rb) else ())
        for layer in branch:
            layer.residual_branch = True
        if branch or (a.producers and b.producers and any(
                p not in a.producers for p in b.producers)) or (
                bool(a.producers) != bool(b.producers)):
            for p in a.producers + b.producers:
                p.residual_branch_end = True
        producers = _unique(a.producers + b.producers)
        awaiting = _unique(a.awaiting + b.awaiting)
        return Tensor(producers, awaiting, a.path if len(a.path) >= len(b.path) else b.path)

    # --- calls ----------------------------------------------------------------------------

    def call(self, node: cst.Call, env: Dict[str, Any]) -> Any:
        func = node.func
        if isinstance(func, cst.Name) and func.value in _BUILTINS and self.lookup(
                func.value, env) is None:
            return self.builtin(func.value, node, env)
        if isinstance(func, cst.Attribute):
            if func.attr.value == "__init__" and isinstance(func.value, cst.Call) and (
                    dotted_name(func.value.func) == "super"):
                return self.super_init(node, env)
            base = self.ev(func.value, env)
            method = func.attr.value
            if base is None and method in T.MATMUL_METHODS and node.args:
                return self.matmul(Tensor(), self.ev(node.args[0].value, env), node)
            if not isinstance(base, (QName, Inst, type(None))) or (
                    isinstance(base, Inst) and method not in base.attrs):
                handled, value = self.method_call(base, method, node, env)
                if handled:
                    return value
            callee = self.attribute(base, method) if base is not None else None
        else:
            callee = self.ev(func, env)
        if isinstance(callee, QName):
            return self.call_qualified(callee.name, node, env)
        args, kwargs = self.arguments(node, env)
        if isinstance(callee, ClassInfo):
            if self._is_module_class(callee):
                return self.instantiate(callee, args, kwargs)
            return None
        if isinstance(callee, Func):
            value = self.call_function(callee, args, kwargs, env)
            self._zero_helper(callee.node.name.value, args)
            named = _NAMED_ACTIVATIONS.get(callee.node.name.value.lower())
            if named is not None and args and isinstance(args[0], Tensor) and not isinstance(
                    value, Tensor):
                # The file's own ``def sigmoid(z): return 1 / (1 + np.exp(-z))``.
                return self.activate(args[0], Activation(named, source="forward", node=node))
            return value
        if callee is None and isinstance(func, cst.Name) and args:
            self._zero_helper(func.value, args)
        if isinstance(callee, (Layer, ActMod, PassMod, Seq, Inst)):
            x = args[0] if args else None
            return self.call_module(callee, x)
        # Anything else consumes its tensor arguments opaquely.
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Tensor):
                self.consume(a)
        return None

    def builtin(self, name: str, node: cst.Call, env: Dict[str, Any]) -> Any:
        args, kwargs = self.arguments(node, env)
        if name == "isinstance" and len(args) == 2:
            classes = args[1].items if isinstance(args[1], Seq) else [args[1]]
            r = _isinstance(args[0], classes)
            return None if r is None else Const(r)
        if name == "type" and len(args) == 1:
            return TypeOf(args[0])
        if name in ("hasattr", "getattr") and len(args) >= 2 and isinstance(args[1], Const):
            attr = args[1].value
            if not isinstance(attr, str):
                return None
            v = self.attribute(args[0], attr) if args[0] is not None else None
            if name == "getattr":
                if v is None and isinstance(args[0], Layer) and attr == "bias":
                    return args[2] if len(args) > 2 else None
                return v if v is not None else (args[2] if len(args) > 2 and isinstance(
                    args[0], (Layer, PassMod)) else None)
            if v is not None and not (isinstance(v, Const) and v.value is None):
                return Const(True)
            if isinstance(args[0], (Layer, PassMod, ActMod)) and attr not in ("weight", "bias"):
                return Const(False)
            return None
        if name == "len" and args:
            a = args[0]
            if isinstance(a, Const) and isinstance(a.value, (tuple, str)):
                return Const(len(a.value))
            if isinstance(a, Seq) and not a.repeated:
                return Const(len(a.items))
            return None
        if name in ("float", "int", "abs") and args and isinstance(args[0], Const) and is_num(
                args[0].value):
            return Const({"float": float, "int": int, "abs": abs}[name](args[0].value))
        if name in ("min", "max") and args and all(isinstance(a, Const) and is_num(a.value)
                                                   for a in args):
            return Const((min if name == "min" else max)(a.value for a in args))
        if name in ("list", "tuple") and args and isinstance(args[0], Seq):
            return Seq(list(args[0].items), args[0].node, chain=False, repeated=args[0].repeated)
        if name in ("zip", "enumerate", "reversed") and args:
            return self.zip_like(name, args)
        for a in args:
            self.consume(a)
        return None

    def zip_like(self, name: str, args: List[Any]) -> Optional[Seq]:
        """``zip(a, b)``, ``enumerate(a)``, ``reversed(a)`` over tracked collections."""
        seqs = [a if isinstance(a, Seq) else None for a in args]
        if name == "reversed":
            return Seq(list(reversed(seqs[0].items)), seqs[0].node, chain=False,
                       repeated=seqs[0].repeated) if seqs[0] is not None else None
        if name == "enumerate":
            seqs = [None, seqs[0]]
        if all(q is None for q in seqs):
            return None
        repeated = all(q is None or q.repeated for q in seqs)
        n = 1 if repeated else min(len(q.items) for q in seqs if q is not None)
        rows = []
        for i in range(n):
            rows.append(Seq([q.items[i] if q is not None and i < len(q.items) else (
                Const(i) if name == "enumerate" and j == 0 else None)
                for j, q in enumerate(seqs)], None, chain=False))
        return Seq(rows, None, chain=False, repeated=repeated)

    def super_init(self, node: cst.Call, env: Dict[str, Any]) -> Any:
        args, kwargs = self.arguments(node, env)
        if not self.self_stack:
            return None
        inst = self.self_stack[-1]
        for b in inst.cls.bases:
            base = self.classes.get(b or "")
            if base is not None and base is not inst.cls:
                init = self.find_method(base, "__init__")
                if init is not None:
                    self.call_function(Func(init, inst), args, kwargs, self.module_env)
                break
        return None

    def find_method(self, info: ClassInfo, name: str, depth: int = 0) -> Optional[cst.FunctionDef]:
        if name in info.methods:
            return info.methods[name]
        if depth > 5:
            return None
        for b in info.bases:
            base = self.classes.get(b or "")
            if base is not None and base is not info:
                fn = self.find_method(base, name, depth + 1)
                if fn is not None:
                    return fn
        return None

    def arguments(self, node: cst.Call, env: Dict[str, Any]) -> Tuple[List[Any], Dict[str, Any]]:
        args: List[Any] = []
        kwargs: Dict[str, Any] = {}
        for a in node.args:
            v = self.ev(a.value, env)
            if a.star == "*":
                if isinstance(v, Seq):
                    args.extend(v.items)
                continue
            if a.star == "**":
                continue
            if a.keyword is not None:
                kwargs[a.keyword.value] = v
            else:
                args.append(v)
        return args, kwargs

    def _zero_helper(self, name: str, args: List[Any]) -> None:
        """``zero_module(conv)``-style helpers: a function named for zeroing a module."""
        if "zero" not in name_tokens(name):
            return
        for a in args:
            for _, m in self.tree(a):
                if isinstance(m, Layer):
                    for w in m.weights:
                        if w.role != "bias":
                            w.init = InitSpec("constant", "constant", value=0.0,
                                              display=name, written="function_call")
                    m.zero_bias = True
                    m.uniform_bias = True
                    m.idioms = tuple(set(m.idioms) | {"zero_module"})

    def call_qualified(self, q: str, node: cst.Call, env: Dict[str, Any]) -> Any:
        short = q.rsplit(".", 1)[-1]
        is_nn = q.startswith("torch.nn.") and not q.startswith("torch.nn.functional") and not (
            q.startswith("torch.nn.init"))
        if is_nn and short in T.LAYERS:
            return self.make_layer(short, node, env)
        if is_nn and short == "Sequential":
            return self.make_sequential(node, env)
        if is_nn and short in ("ModuleList", "ParameterList"):
            args, _ = self.arguments(node, env)
            items = args[0].items if args and isinstance(args[0], Seq) else []
            rep = bool(args and isinstance(args[0], Seq) and args[0].repeated)
            return Seq(list(items), node, chain=False, repeated=rep)
        if is_nn and short in ("TransformerEncoder", "TransformerDecoder"):
            args, kwargs = self.arguments(node, env)
            layer = args[0] if args else kwargs.get("encoder_layer", kwargs.get("decoder_layer"))
            return Seq([layer], node, chain=False, repeated=True) if layer is not None else None
        if is_nn and short in T.ACTIVATION_MODULES:
            return ActMod(self.activation_module(short, node, env))
        if is_nn and short in T.PASS_MODULES:
            self.arguments(node, env)
            return PassMod(short, T.PASS_MODULES[short])
        if q in T.PARAMETER_WRAPPERS:
            return self.parameter(node, env, q)
        if q.startswith("torch.nn.init."):
            return self.nn_init(short, node, env)
        if q in T.DRAWS:
            return self.draw(q, node, env)
        if q in ("math.sqrt", "numpy.sqrt", "float", "int", "math.pow"):
            args, _ = self.arguments(node, env)
            if args and all(isinstance(a, Const) and is_num(a.value) for a in args):
                try:
                    if short == "sqrt":
                        return Const(math.sqrt(args[0].value))
                    if short == "pow":
                        return Const(math.pow(args[0].value, args[1].value))
                except (ValueError, IndexError):
                    return None
            return None
        args, kwargs = self.arguments(node, env)
        act = self.functional_activation(q, short, node, args, kwargs)
        x = args[0] if args else None
        if act is not None:
            return self.activate(x, act)
        if q in T.MATMUL_FUNCTIONS and len(args) >= 2:
            return self.matmul(args[0], args[1], node)
        if q.startswith("torch.nn.functional.") and short in T.FUNCTIONAL_LAYERS and len(args) >= 2:
            return self.functional_layer(short, args[0], args[1], node)
        if (q.startswith(("torch.nn.functional.", "torch.")) and short in T.FUNCTIONAL_PASS):
            if short in ("batch_norm", "layer_norm", "group_norm", "instance_norm"):
                self.normalize(x)
            return x if isinstance(x, Tensor) else None
        if q.startswith(("torch.", "numpy.", "tensorflow.")) and short in T.JOIN_FUNCTIONS:
            return self.join(x)
        if q in ("torch.einsum", "numpy.einsum") and len(args) == 2 and isinstance(args[1],
                                                                                   Tensor):
            return args[1]  # one operand: a transpose, reshape or reduction
        if q.startswith("torch.nn.functional.") and short in T.LOSS_FUNCTIONS:
            for a in args:
                if isinstance(a, Tensor):
                    self.mark_output(a)
            return Tensor()
        self._zero_helper(short, args)
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Tensor):
                self.consume(a)
        return None

    def method_call(self, base: Any, method: str, node: cst.Call, env: Dict[str, Any]
                    ) -> Tuple[bool, Any]:
        """Methods on values the reader tracks. Returns (handled, value)."""
        if isinstance(base, Const) and isinstance(base.value, str):
            args, _ = self.arguments(node, env)
            if method in ("find", "startswith", "endswith", "lower", "upper") and all(
                    isinstance(a, Const) for a in args):
                try:
                    return True, Const(getattr(base.value, method)(*[a.value for a in args]))
                except (TypeError, ValueError):
                    return True, None
            return True, None
        if isinstance(base, (Inst, Layer, Seq, PassMod)):
            if method == "apply":
                args, _ = self.arguments(node, env)
                if args and isinstance(args[0], Func):
                    for _, m in reversed(self.tree(base)):
                        self.call_function(args[0], [m], {}, env)
                return True, base
            if method in ("modules", "named_modules", "children", "named_children",
                          "parameters", "named_parameters"):
                return True, Iter(method, base)
            if method in ("to", "cuda", "cpu", "train", "eval", "float", "double", "half",
                          "requires_grad_", "share_memory"):
                self.arguments(node, env)
                return True, base
            if isinstance(base, Inst) and method in ("register_parameter", "add_module"):
                args, _ = self.arguments(node, env)
                if len(args) >= 2 and isinstance(args[0], Const) and isinstance(args[0].value, str):
                    base.attrs[args[0].value] = args[1]
                    self.name_value(args[0].value, args[1], top=False)
                    self.own(args[1])
                return True, None
            if isinstance(base, Seq) and method in ("append", "add_module", "extend", "insert"):
                args, _ = self.arguments(node, env)
                if method == "append" and args:
                    base.items.append(args[0])
                    if base.name is not None and isinstance(args[0], (Layer, Seq)):
                        self.name_value(f"{base.name}[{len(base.items) - 1}]", args[0], False)
                elif method == "extend" and args and isinstance(args[0], Seq):
                    base.items.extend(args[0].items)
                elif method == "add_module" and len(args) >= 2:
                    base.items.append(args[1])
                    if isinstance(args[0], Const) and isinstance(args[0].value, str):
                        keys = base.keys if base.keys is not None else [
                            str(i) for i in range(len(base.items) - 1)]
                        keys.append(args[0].value)
                        base.keys = keys
                elif method == "insert" and len(args) >= 2:
                    base.items.append(args[1])
                return True, None
            return False, None
        if isinstance(base, (Param, Draw)) or _is_raw(base):
            if method in T.TENSOR_INIT_METHODS:
                return True, self.tensor_init(base, method, node, env)
            if method in ("t", "transpose") and _is_raw(base):
                self.arguments(node, env)
                return True, Transposed(base)
            if method in ("detach", "contiguous", "to", "float", "cuda", "clone"):
                self.arguments(node, env)
                return True, base
            if method == "requires_grad_" and isinstance(base, Draw):
                return True, self.raw_from_draw(base, node, "requires_grad_")
            if method in ("mul_", "div_", "mul", "div") and isinstance(base, Draw):
                args, _ = self.arguments(node, env)
                return True, self.scale_draw(base, args[0] if args else None,
                                             method.startswith("div"), node)
            if method in ("mul_", "div_") and isinstance(base, (Param, Layer)):
                args, _ = self.arguments(node, env)
                self.rescale(base, args[0] if args else None, method == "div_")
                return True, base
            if method in ("dim", "ndimension", "size"):
                if method == "size":
                    return True, None
                if isinstance(base, Param):
                    return True, Const(self._ndim(base))
                if _is_raw(base):
                    return True, Const(len(base.render.get("dims") or []) or None)
                return True, None
            if method in T.MATMUL_METHODS and _is_raw(base):
                args, _ = self.arguments(node, env)
                return True, self.matmul(base, args[0] if args else None, node)
            if isinstance(base, Draw):
                args, _ = self.arguments(node, env)
                if method in T.MATMUL_METHODS and args:
                    return True, self.matmul(Tensor(), args[0], node)
            return True, None
        if isinstance(base, Tensor):
            args, kwargs = self.arguments(node, env)
            if method in T.TENSOR_ACTIVATIONS:
                return True, self.activate(base, Activation(T.TENSOR_ACTIVATIONS[method],
                                                            source="forward", node=node))
            if method in ("clamp", "clamp_", "clamp_min", "clamp_min_"):
                lo = kwargs.get("min", args[0] if args else None)
                hi = kwargs.get("max", args[1] if len(args) > 1 else None)
                if isinstance(lo, Const) and lo.value == 0 and (hi is None or (
                        isinstance(hi, Const) and hi.value is None)):
                    return True, self.activate(base, Activation("relu", source="forward",
                                                                node=node))
            if method in T.MATMUL_METHODS and args:
                return True, self.matmul(base, args[0], node)
            if method in T.TENSOR_PASS or method in ("div", "mul", "add", "sub", "div_",
                                                     "mul_", "add_", "sub_"):
                if method in ("add", "add_", "sub", "sub_") and args and isinstance(
                        args[0], Tensor):
                    return True, self.residual(base, args[0])
                return True, base
            self.consume(base)
            return True, Tensor()
        return False, None

    # --- modules ----------------------------------------------------------------------------

    def _is_module_class(self, info: ClassInfo, depth: int = 0) -> bool:
        if depth > 5:
            return False
        for b in info.bases:
            if b is None:
                continue
            if b.startswith("torch.nn.") or b in ("torch.nn.Module",):
                return True
            local = self.classes.get(b)
            if local is not None and local is not info and self._is_module_class(local, depth + 1):
                return True
        return "forward" in info.methods and "__init__" in info.methods

    def instantiate(self, info: ClassInfo, args: List[Any], kwargs: Dict[str, Any]
                    ) -> Optional[Inst]:
        if info.inst is not None:
            return info.inst
        inst = Inst(info)
        info.inst = inst
        init = self.find_method(info, "__init__")
        if init is not None:
            # A class builds the same layers whatever branch instantiated it.
            saved, self.uncertain = self.uncertain, 0
            try:
                self.call_function(Func(init, inst), args, kwargs, self.module_env)
            finally:
                self.uncertain = saved
        return inst

    def make_layer(self, cls: str, node: cst.Call, env: Dict[str, Any]) -> Layer:
        d = T.LAYERS[cls]
        bound_nodes = call_arguments(node, d.positional)
        vals = {k: self.ev(a.value, env) for k, a in bound_nodes.items()}
        for a in node.args:  # keywords the positional table does not list
            if a.keyword is not None and a.keyword.value not in vals:
                vals[a.keyword.value] = self.ev(a.value, env)

        def num(k: str) -> Optional[int]:
            v = vals.get(k)
            if isinstance(v, Const) and is_num(v.value):
                return int(v.value)
            return None

        layer = self.layers.get(id(node))
        fresh = layer is None
        if layer is None:
            layer = Layer(kind=d.kind if d.kind not in ("bilinear", "transformer") else "dense",
                          framework="torch", type_name=cls, node=node)
            layer.render["def"] = d
            self.layers[id(node)] = layer
            self.order.append(layer)
        self._cur_vals = vals
        bias = vals.get("bias")
        has_bias = None if bias is not None and not isinstance(bias, Const) else (
            bias is None or bool(bias.value))
        layer.render["has_bias"] = has_bias
        fans = self._fans(d, cls, num)
        if fresh:
            layer.weights = self._default_weights(d, cls, fans, num)
            if d.kind in ("dense", "conv", "conv_transpose", "bilinear", "transformer"):
                layer.zero_bias = has_bias is False if has_bias is not None else None
                layer.uniform_bias = False if has_bias else (True if has_bias is False else None)
            elif d.kind == "recurrent":
                layer.uniform_bias = False if has_bias else (True if has_bias is False else None)
            act = self._builtin_activation(cls, d, vals, bound_nodes)
            if act is not None:
                layer.activation = act
            layer.out_features = fans.get("out")
        else:
            for w in layer.weights:
                f = fans.get(w.role)
                if f is not None and (w.fan_in, w.fan_out) != f[:2]:
                    w.fan_in = w.fan_out = None
        return layer

    def _fans(self, d: T.TorchLayerDef, cls: str, num) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if d.kind in ("dense",):
            fi, fo = num("in_features"), num("out_features")
            out["kernel"] = (fi, fo, 1)
            out["out"] = fo
        elif d.kind == "bilinear":
            a, b, o = num("in1_features"), num("in2_features"), num("out_features")
            out["kernel"] = (_mul(a, b), _mul(o, b), 1)
            out["in1"] = a
            out["out"] = o
        elif d.kind in ("conv", "conv_transpose"):
            cin, cout = num("in_channels"), num("out_channels")
            g = num("groups") if "groups" in self._cur_vals else 1
            k = self._kernel_size(d.rank)
            rf = k
            if d.kind == "conv":
                fi = _mul(_div(cin, g), rf)
                fo = _mul(cout, rf)
            else:
                fi = _mul(_div(cout, g), rf)
                fo = _mul(cin, rf)
            out["kernel"] = (fi, fo, rf or 1)
            out["out"] = cout
        elif d.kind == "embedding":
            out["embeddings"] = (num("embedding_dim"), num("num_embeddings"), 1)
        elif d.kind == "recurrent":
            h, i = num("hidden_size"), num("input_size")
            out["kernel"] = (i, _mul(h, d.gates), 1)
            out["recurrent"] = (h, _mul(h, d.gates), 1)
            out["hidden"] = h
            out["out"] = h
        elif d.kind == "attention":
            e = num("embed_dim")
            out["kernel"] = (e, _mul(e, 3), 1)
            out["out"] = e
        elif d.kind == "transformer":
            dm, ff = num("d_model"), num("dim_feedforward")
            if ff is None and "dim_feedforward" not in self._cur_vals:
                ff = T.TRANSFORMER_DEFAULTS["dim_feedforward"]
            out["kernel"] = (dm, ff, 1)
            out["out"] = ff
        return out

    def _kernel_size(self, rank: int) -> Optional[int]:
        v = self._cur_vals.get("kernel_size")
        if isinstance(v, Const):
            if isinstance(v.value, int):
                return v.value ** rank
            if isinstance(v.value, tuple) and all(isinstance(x, int) for x in v.value):
                return math.prod(v.value)
        return None

    def _default_weights(self, d: T.TorchLayerDef, cls: str, fans: Dict[str, Any], num
                         ) -> List[Weight]:
        ws: List[Weight] = []
        if d.kind in ("dense", "conv", "conv_transpose", "transformer"):
            fi, fo, rf = fans["kernel"]
            spec = _torch_default()
            ws.append(Weight("kernel", spec, fi, fo, rf))
        elif d.kind == "bilinear":
            fi, fo, rf = fans["kernel"]
            a = fans.get("in1")
            std = None if a is None else 1 / math.sqrt(T.DEFAULT_UNIFORM_VAR_DIVISOR * a)
            spec = InitSpec("framework_default", "uniform", display="PyTorch's default init",
                            written="default", std=std)
            ws.append(Weight("kernel", spec, fi, fo, rf))
        elif d.kind == "embedding":
            fi, fo, _ = fans["embeddings"]
            ws.append(Weight("embeddings", InitSpec(
                "fixed", "normal", std=T.EMBEDDING_DEFAULT_STD,
                display="Embedding's default N(0, 1)",
                written="default"), fi, fo))
        elif d.kind == "recurrent":
            h = fans.get("hidden")
            std = None if h is None else 1 / math.sqrt(T.DEFAULT_UNIFORM_VAR_DIVISOR * h)
            for role in ("kernel", "recurrent"):
                fi, fo, _ = fans[role]
                ws.append(Weight(role, InitSpec(
                    "framework_default", "uniform", std=std,
                    display="PyTorch's default U(±1/√hidden_size)", written="default"), fi, fo))
        elif d.kind == "attention":
            fi, fo, _ = fans["kernel"]
            ws.append(Weight("kernel", InitSpec(
                *T.ATTENTION_DEFAULT, scale=1.0, mode="fan_avg",
                display="MultiheadAttention's default xavier_uniform_", written="default"),
                fi, fo))
        return ws

    def _builtin_activation(self, cls: str, d: T.TorchLayerDef, vals: Dict[str, Any],
                            bound: Dict[str, cst.Arg]) -> Optional[Activation]:
        if cls in ("RNN", "RNNCell"):
            v = vals.get("nonlinearity")
            if v is None:
                return Activation(T.RNN_DEFAULT_NONLINEARITY, source="default")
            if isinstance(v, Const) and v.value in T.RNN_NONLINEARITIES:
                return Activation(v.value, source="keyword", node=bound["nonlinearity"].value)
            return Activation("unknown")
        if cls in ("LSTM", "GRU", "LSTMCell", "GRUCell"):
            return Activation(T.GATED_RNN_ACTIVATION, source="default")
        if d.kind == "transformer":
            v = vals.get("activation")
            if v is None:
                return Activation(T.TRANSFORMER_DEFAULTS["activation"], source="default")
            if isinstance(v, Const) and isinstance(v.value, str):
                return Activation(v.value if v.value in T.TRANSFORMER_ACTIVATIONS else "unknown",
                                  source="keyword", node=bound["activation"].value)
            if isinstance(v, ActMod):
                return Activation(v.activation.name, v.activation.params, "keyword",
                                  bound["activation"].value)
            if isinstance(v, QName):
                name = T.FUNCTIONAL_ACTIVATIONS.get(v.name.rsplit(".", 1)[-1])
                if name is not None:
                    return Activation(name, source="keyword", node=bound["activation"].value)
            return Activation("unknown")
        return None

    def activation_module(self, cls: str, node: cst.Call, env: Dict[str, Any]) -> Activation:
        name = T.ACTIVATION_MODULES[cls]
        params: Dict[str, float] = {}
        if name == "leaky_relu":
            bound = call_arguments(node, ("negative_slope", "inplace"))
            v = self.ev(bound["negative_slope"].value, env) if "negative_slope" in bound else None
            if v is None and "negative_slope" not in bound:
                params["slope"] = T.LEAKY_SLOPE
            elif isinstance(v, Const) and is_num(v.value):
                params["slope"] = float(v.value)
            else:
                return Activation("unknown", source="next_layer", node=node)
        elif name == "prelu":
            params["slope"] = T.PRELU_INIT
        return Activation(name, params, "next_layer", node)

    def functional_activation(self, q: str, short: str, node: cst.Call, args: List[Any],
                              kwargs: Dict[str, Any]) -> Optional[Activation]:
        name = None
        if q.startswith("torch.nn.functional.") or (q.startswith("torch.") and q.count(".") == 1):
            name = T.FUNCTIONAL_ACTIVATIONS.get(short)
            if q.startswith("torch.") and q.count(".") == 1 and short in ("gelu", "silu",
                                                                           "leaky_relu", "elu"):
                name = None  # torch.gelu and friends do not exist
        elif q in T.OTHER_ACTIVATIONS:
            name = T.OTHER_ACTIVATIONS[q]
        elif q in ("numpy.maximum", "torch.maximum", "torch.clamp", "torch.clamp_min"):
            consts = [a for a in args if isinstance(a, Const)]
            lo = kwargs.get("min")
            if q == "numpy.maximum" and len(args) == 2 and consts and consts[0].value == 0:
                name = "relu"
            elif q.startswith("torch.clamp") and ((isinstance(lo, Const) and lo.value == 0) or (
                    len(args) >= 2 and isinstance(args[1], Const) and args[1].value == 0)):
                name = "relu"
            if name and q == "numpy.maximum" and not isinstance(args[0], Tensor):
                args[0] = args[1]
        if name is None:
            return None
        params: Dict[str, float] = {}
        if name == "leaky_relu":
            slope = kwargs.get("negative_slope", kwargs.get("alpha", args[1] if len(args) > 1
                                                            else None))
            default = T.TF_LEAKY_SLOPE if q.startswith("tensorflow") else T.LEAKY_SLOPE
            if slope is None:
                params["slope"] = default
            elif isinstance(slope, Const) and is_num(slope.value):
                params["slope"] = float(slope.value)
            else:
                return Activation("unknown", source="forward", node=node)
        return Activation(name, params, "forward", node)

    def make_sequential(self, node: cst.Call, env: Dict[str, Any]) -> Seq:
        items: List[Any] = []
        keys: Optional[List[str]] = None
        if len(node.args) == 1 and isinstance(node.args[0].value, cst.Call):
            inner = node.args[0].value
            q = self.qualify(inner.func)
            if q is not None and q.endswith("OrderedDict"):
                keys = []
                pairs = inner.args[0].value if inner.args else None
                if isinstance(pairs, (cst.List, cst.Tuple)):
                    for el in pairs.elements:
                        if isinstance(el.value, cst.Tuple) and len(el.value.elements) == 2:
                            k = literal_string(el.value.elements[0].value)
                            keys.append(k if k is not None else str(len(keys)))
                            items.append(self.ev(el.value.elements[1].value, env))
                seq = Seq(items, node, keys=keys)
                self.seqs.append(seq)
                return seq
        args, _ = self.arguments(node, env)
        seq = Seq(args, node)
        self.seqs.append(seq)
        return seq

    # --- data flow ----------------------------------------------------------------------------

    def as_tensor(self, x: Any) -> Optional[Tensor]:
        if isinstance(x, Tensor):
            return x
        if isinstance(x, Draw) or x is None:
            return Tensor()
        return None

    def apply_module(self, m: Any, x: Any) -> Any:
        t = self.as_tensor(x)
        if t is None:
            return None
        if isinstance(m, Layer):
            return self.through(m, t)
        if isinstance(m, ActMod):
            return self.activate(t, m.activation)
        if isinstance(m, PassMod):
            if m.kind == "norm":
                self.normalize(t)
            return t
        if isinstance(m, Seq):
            m.called = True
            if m.chain:
                return self.chain(m, t)
            self.consume(t)
            return Tensor()
        if isinstance(m, Inst):
            return self.inline_forward(m, t)
        return None

    def call_module(self, m: Any, x: Any) -> Any:
        """A module called: inside a forward, the signal flows; in a script (a training loop),
        each call is a separate use of a finished model and links nothing."""
        if not self.forward_stack:
            if isinstance(m, Seq):
                m.called = m.called or False
            self.consume(x)
            return Tensor()
        return self.apply_module(m, x)

    def chain(self, seq: Seq, t: Tensor) -> Tensor:
        seq.called = True
        for item in seq.items:
            if isinstance(item, (Layer, ActMod, PassMod, Seq, Inst)):
                t = self.apply_module(item, t)
                if t is None:
                    t = Tensor()
            else:
                self.consume(t)
                t = Tensor()
        return t

    def through(self, layer: Layer, t: Tensor) -> Tensor:
        for p in t.awaiting:
            if not p.activation.known:
                p.activation = Activation("linear", source="forward")
        for p in t.producers:
            if layer not in p.next:
                p.next.append(layer)
        if self.forward_stack and layer not in self._forward_layers:
            self._forward_layers.append(layer)
        path = t.path + (layer,)
        layer.render["applied"] = True
        if layer.activation.known and layer.activation.source in ("default", "keyword") or (
                layer.kind in ("recurrent", "attention")):
            return Tensor([layer], [], path)
        return Tensor([layer], [layer], path)

    def activate(self, x: Any, act: Activation) -> Any:
        t = self.as_tensor(x)
        if t is None:
            return None
        for p in t.awaiting:
            if not p.activation.known:
                p.activation = Activation(act.name, dict(act.params), act.source, act.node)
        return Tensor(list(t.producers), [], t.path)

    def normalize(self, t: Any) -> None:
        if isinstance(t, Tensor):
            for p in t.awaiting:
                p.normalized = True
            for p in t.producers:
                p.normalized_after = True

    def consume(self, t: Any) -> None:
        if isinstance(t, Tensor):
            for p in t.producers:
                p.render["consumed"] = True

    def mark_output(self, t: Any) -> None:
        if isinstance(t, Tensor):
            for p in t.awaiting:
                if not p.activation.known:
                    p.activation = Activation("linear", source="forward")
            for p in t.producers:
                p.render["output"] = True
        elif isinstance(t, Seq):
            for item in t.items:
                self.mark_output(item)

    def join(self, x: Any) -> Any:
        if isinstance(x, Seq):
            ts = [i for i in x.items if isinstance(i, Tensor)]
            path = max((t.path for t in ts), key=len, default=())
            return Tensor(_unique([p for t in ts for p in t.producers]),
                          _unique([p for t in ts for p in t.awaiting]), path)
        return None

    def inline_forward(self, inst: Inst, t: Tensor) -> Any:
        fwd = self.find_method(inst.cls, "forward")
        if fwd is None or inst in self.forward_stack or self.depth >= _MAX_DEPTH:
            self.consume(t)
            return Tensor()
        inst.cls.forward_inlined = True
        self.forward_stack.append(inst)
        try:
            return self.call_function(Func(fwd, inst), [t], {}, self.module_env, flow=True)
        finally:
            self.forward_stack.pop()

    def run_forward(self, inst: Inst, top: bool) -> None:
        fwd = self.find_method(inst.cls, "forward")
        if fwd is None:
            return
        self.forward_stack.append(inst)
        self._forward_layers_stack.append([])
        try:
            params = _params(fwd)[1:]
            out = self.call_function(Func(fwd, inst), [Tensor() for _ in params], {},
                                     self.module_env, flow=True)
        finally:
            self.forward_stack.pop()
            ls = self._forward_layers_stack.pop()
        if top:
            self.mark_output(out)
        if ls:
            self.stacks.append(Stack(ls, "module", inst.cls.node))

    @property
    def _forward_layers(self) -> List[Layer]:
        if not self._forward_layers_stack:
            self._forward_layers_stack.append([])
        return self._forward_layers_stack[-1]

    def call_function(self, fn: Func, args: List[Any], kwargs: Dict[str, Any],
                      env: Dict[str, Any], flow: bool = False) -> Any:
        node = fn.node
        key = ("method:" if fn.self_value is not None else "") + node.name.value + f"@{id(node)}"
        if key in self.active or self.depth >= _MAX_DEPTH:
            for a in args:
                self.consume(a)
            return None
        if fn.self_value is None and node.name.value in self.functions:
            self.called_functions.add(node.name.value)
        local: Dict[str, Any] = {}
        params = _params(node)
        positional = list(args)
        if fn.self_value is not None and params:
            local[params[0]] = fn.self_value
            params = params[1:]
        for p in params:
            local[p] = None
        for p, v in zip(params, positional):
            local[p] = v
        for k, v in kwargs.items():
            if k in local:
                local[k] = v
        # A parameter nobody passed takes its default when that is a constant: the file's own
        # configuration (``def __init__(self, hidden=256)``).
        passed = set(params[:len(positional)]) | set(kwargs)
        for p in list(node.params.params) + list(node.params.kwonly_params):
            name = p.name.value
            if name in local and name not in passed and p.default is not None:
                v = self.ev(p.default, env)
                local[name] = v if isinstance(v, Const) else None
        self.active.append(key)
        if fn.self_value is not None:
            self.self_stack.append(fn.self_value)
        self.depth += 1
        self.returns.append([])
        tokens = name_tokens(node.name.value)
        zero_ctx = "zero" in tokens
        if zero_ctx:
            self.idiom_context.append("zero_init_method")
        try:
            self.exec_block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [],
                            local)
        finally:
            self.active.pop()
            if fn.self_value is not None:
                self.self_stack.pop()
            self.depth -= 1
            rets = self.returns.pop()
            if zero_ctx:
                self.idiom_context.pop()
        tensors = [r for r in rets if isinstance(r, Tensor)]
        if flow and len(tensors) > 1:
            return Tensor(_unique([p for t in tensors for p in t.producers]),
                          _unique([p for t in tensors for p in t.awaiting]),
                          max((t.path for t in tensors), key=len))
        for r in rets:
            if r is not None and not (isinstance(r, Const) and r.value is None):
                return r
        return None

    # --- initializers --------------------------------------------------------------------

    def weight_for(self, layer: Layer, attr: str) -> Optional[Weight]:
        role = self._role(layer, attr)
        return layer.weight(role)

    def set_init(self, target: Any, spec: InitSpec) -> None:
        if self.uncertain:
            return
        if isinstance(target, Param) and isinstance(target.owner, Layer):
            layer, role = target.owner, target.role
        elif _is_raw(target):
            layer, role = target, "kernel"
        else:
            return
        if role == "bias":
            if spec.family == "constant":
                layer.uniform_bias = True
                layer.zero_bias = spec.value == 0.0
            elif spec.family not in ("unknown",):
                layer.uniform_bias = False
                layer.zero_bias = False
            return
        w = layer.weight(role)
        if w is None:
            return
        w.init = spec
        if spec.node is not None:
            targets = self.init_targets.setdefault(id(spec.node), [])
            if not any(t is layer for t in targets):
                targets.append(layer)
        if spec.family == "constant" and self.idiom_context:
            layer.idioms = tuple(set(layer.idioms) | set(self.idiom_context))

    def nn_init(self, short: str, node: cst.Call, env: Dict[str, Any]) -> Any:
        fn_name = T.DEPRECATED_INIT.get(short, short)
        if fn_name == "calculate_gain":
            args, _ = self.arguments(node, env)
            if args and isinstance(args[0], Const) and isinstance(args[0].value, str):
                p = args[1].value if len(args) > 1 and isinstance(args[1], Const) else None
                g = T.calculate_gain(args[0].value, p)
                return Const(g) if g is not None else None
            return None
        info = T.INIT_FUNCTIONS.get(fn_name)
        if info is None:
            return None
        bound = call_arguments(node, info.positional)
        if "tensor" not in bound:
            return None
        target = self.ev(bound["tensor"].value, env)
        vals = {k: self.ev(a.value, env) for k, a in bound.items() if k != "tensor"}
        spec = self.init_spec(fn_name, vals)
        spec.written = "function_call"
        spec.node = node
        spec.display = f"{self._source(node.func)}"
        spec.render = {"call": node, "callee": node.func, "target": bound["tensor"].value,
                       "bound": bound, "fn": fn_name}
        if isinstance(target, Draw):
            target.spec = spec
            return target
        self.set_init(target, spec)
        return target

    def init_spec(self, fn: str, vals: Dict[str, Any]) -> InitSpec:
        def get(k: str, default: Any) -> Any:
            if k not in vals:
                return default
            v = vals[k]
            return v.value if isinstance(v, Const) else UNKNOWN

        if fn in ("uniform_",):
            a, b = get("a", 0.0), get("b", 1.0)
            if not (is_num(a) and is_num(b)):
                return InitSpec("unknown")
            return InitSpec("fixed", "uniform", low=float(a), high=float(b), mean=(a + b) / 2,
                            explicit_scale="a" in vals or "b" in vals)
        if fn in ("normal_", "trunc_normal_"):
            mean, std = get("mean", 0.0), get("std", 1.0)
            if not (is_num(mean) and is_num(std)):
                return InitSpec("unknown")
            spec = InitSpec("fixed", "normal", std=float(std), mean=float(mean),
                            explicit_scale="std" in vals)
            if fn == "trunc_normal_":
                lo, hi = get("a", -2.0), get("b", 2.0)
                if not (is_num(lo) and is_num(hi)) or std <= 0:
                    return spec
                zl, zh = (lo - mean) / std, (hi - mean) / std
                if abs(zl + 2) < 1e-9 and abs(zh - 2) < 1e-9:
                    spec.distribution = "truncated_normal_raw"
                else:
                    spec.std = std * math.sqrt(T.truncated_variance_factor(zl, zh))
            return spec
        if fn in ("constant_", "ones_", "zeros_"):
            v = {"ones_": 1.0, "zeros_": 0.0}.get(fn)
            if v is None:
                c = get("val", UNKNOWN)
                if not is_num(c):
                    return InitSpec("unknown")
                v = float(c)
            return InitSpec("constant", "constant", value=v)
        if fn in ("eye_", "dirac_"):
            return InitSpec("identity", "eye")
        if fn in ("xavier_uniform_", "xavier_normal_"):
            g = get("gain", 1.0)
            if not is_num(g):
                return InitSpec("scaled", "uniform" if "uniform" in fn else "normal")
            return InitSpec("glorot", "uniform" if "uniform" in fn else "normal", scale=1.0,
                            mode="fan_avg", gain=float(g))
        if fn in ("kaiming_uniform_", "kaiming_normal_"):
            a, mode, nl = get("a", 0.0), get("mode", "fan_in"), get("nonlinearity", "leaky_relu")
            dist = "uniform" if "uniform" in fn else "normal"
            if not (is_num(a) and isinstance(mode, str) and isinstance(nl, str)):
                return InitSpec("scaled", dist)
            g = T.kaiming_gain(nl, float(a))
            mode = mode.lower()
            if g is None or mode not in ("fan_in", "fan_out"):
                return InitSpec("unknown", dist)
            scale = g * g
            fam = "he" if abs(scale - 2) < 0.05 else "lecun" if abs(scale - 1) < 1e-9 and (
                mode == "fan_in") else "scaled"
            return InitSpec(fam, dist, scale=scale, mode=mode)
        if fn == "orthogonal_":
            g = get("gain", 1.0)
            return InitSpec("orthogonal", "orthogonal", gain=float(g) if is_num(g) else None)
        return InitSpec("special")

    def tensor_init(self, base: Any, method: str, node: cst.Call, env: Dict[str, Any]) -> Any:
        family, dist, positional = T.TENSOR_INIT_METHODS[method]
        bound = call_arguments(node, positional)
        vals = {k: self.ev(a.value, env) for k, a in bound.items()}
        if method == "normal_":
            spec = self.init_spec("normal_", vals)
        elif method == "trunc_normal_":
            spec = self.init_spec("trunc_normal_", vals)
        elif method == "uniform_":
            spec = self.init_spec("uniform_", {"a": vals["from"]} if "from" in vals else {})
            if "to" in vals:
                spec = self.init_spec("uniform_", {k2: v for k2, v in (
                    ("a", vals.get("from", Const(0.0))), ("b", vals["to"]))})
        elif method == "zero_":
            spec = InitSpec("constant", "constant", value=0.0)
        elif method == "fill_":
            v = vals.get("value")
            spec = InitSpec("constant", "constant", value=float(v.value)) if isinstance(
                v, Const) and is_num(v.value) else InitSpec("unknown")
        else:
            spec = InitSpec("unknown")
        func = node.func
        spec.written = "method_call"
        spec.node = node
        spec.display = f".{method}()"
        spec.render = {"call": node, "target": func.value if isinstance(func, cst.Attribute)
                       else None, "bound": bound, "fn": method}
        if isinstance(base, Draw):
            spec.render["draw"] = base
            base.spec = spec
            return base
        self.set_init(base, spec)
        return base

    def rescale(self, target: Any, factor: Any, divide: bool) -> None:
        layer = target.owner if isinstance(target, Param) else target
        if not isinstance(layer, Layer) or (isinstance(target, Param) and target.role == "bias"):
            return
        w = layer.weight(target.role if isinstance(target, Param) else "kernel")
        if w is None or self.uncertain:
            return
        if isinstance(factor, Const) and is_num(factor.value) and factor.value != 0:
            f = 1 / factor.value if divide else factor.value
            spec = w.init
            if spec.family == "fixed" and spec.std is not None:
                spec.std *= abs(f)
                spec.explicit_scale = True
                return
            if spec.family == "constant" and spec.value is not None:
                spec.value *= f
                return
        w.init = InitSpec("scaled", w.init.distribution, display=w.init.display,
                          written="expression")

    # --- raw weights ------------------------------------------------------------------------

    def draw(self, q: str, node: cst.Call, env: Dict[str, Any]) -> Any:
        d = T.DRAWS[q]
        dims: List[Tuple[Any, Any]] = []
        kw: Dict[str, Any] = {}
        requires_grad = False
        pos_args = []
        for a in node.args:
            if a.keyword is not None:
                kw[a.keyword.value] = (self.ev(a.value, env), a.value)
                if a.keyword.value == "requires_grad":
                    v = kw[a.keyword.value][0]
                    requires_grad = isinstance(v, Const) and v.value is True
            elif not a.star:
                pos_args.append((self.ev(a.value, env), a.value))
        if d.shape == "varargs":
            if len(pos_args) == 1 and isinstance(pos_args[0][1], (cst.Tuple, cst.List)):
                dims = [(self.ev(e.value, env), e.value) for e in pos_args[0][1].elements]
            else:
                dims = pos_args
            if "size" in kw and not dims:
                shape_node = kw["size"][1]
                if isinstance(shape_node, (cst.Tuple, cst.List)):
                    dims = [(self.ev(e.value, env), e.value) for e in shape_node.elements]
        else:
            named = dict(zip(d.positional, pos_args))
            named.update({k: v for k, v in kw.items()})
            shape = named.get(d.shape)
            if shape is not None and isinstance(shape[1], (cst.Tuple, cst.List)):
                dims = [(self.ev(e.value, env), e.value) for e in shape[1].elements]
            elif shape is not None:
                dims = [shape]
            kw = {k: v for k, v in named.items()}
        params = dict(d.defaults)
        explicit = False
        for k, _ in d.defaults:
            if k in kw:
                v = kw[k][0]
                if not (isinstance(v, Const) and is_num(v.value)):
                    return None
                params[k] = float(v.value)
                explicit = True
        spec = self._draw_spec(d, params, explicit)
        spec.display = self._source(node.func)
        spec.written = "draw"
        spec.node = node
        spec.render = {"draw_call": node, "base": InitSpec(
            spec.family, spec.distribution, std=spec.std, mean=spec.mean, low=spec.low,
            high=spec.high, value=spec.value)}
        return Draw(spec, dims, d.framework, node, requires_grad)

    @staticmethod
    def _draw_spec(d: T.Draw, p: Dict[str, float], explicit: bool) -> InitSpec:
        if d.distribution == "normal":
            std = p.get("scale", p.get("stddev", 1.0))
            mean = p.get("loc", p.get("mean", 0.0))
            return InitSpec("fixed", "normal", std=std, mean=mean, explicit_scale=explicit)
        if d.distribution == "truncated_normal_raw":
            return InitSpec("fixed", "truncated_normal_raw", std=p.get("stddev", 1.0),
                            mean=p.get("mean", 0.0), explicit_scale=explicit)
        if d.distribution == "uniform":
            lo = p.get("low", p.get("minval", 0.0))
            hi = p.get("high", p.get("maxval", 1.0))
            return InitSpec("fixed", "uniform", low=lo, high=hi, mean=(lo + hi) / 2,
                            explicit_scale=explicit)
        if d.distribution == "constant":
            return InitSpec("constant", "constant", value=p.get("value", 0.0))
        return InitSpec("unknown")

    def scale_draw(self, draw: Draw, factor: Any, divide: bool, node: Optional[cst.CSTNode]
                   ) -> Draw:
        spec = draw.spec
        new = InitSpec(spec.family, spec.distribution, std=spec.std, mean=spec.mean,
                       low=spec.low, high=spec.high, value=spec.value, explicit_scale=True,
                       display=spec.display, written="draw", node=node,
                       render=dict(spec.render, scaled=node))
        if isinstance(factor, Const) and is_num(factor.value) and factor.value != 0:
            f = 1 / factor.value if divide else factor.value
            if spec.family == "fixed":
                if new.std is not None:
                    new.std = abs(new.std * f)
                if new.low is not None and new.high is not None:
                    new.low, new.high = sorted((new.low * f, new.high * f))
                new.mean *= f
                new.display = f"{spec.display}(...) * {_fmt_num(f)}"
            elif spec.family == "constant" and spec.value is not None:
                new.value = spec.value * f
        elif spec.family == "fixed":
            # A factor initlint cannot evaluate (usually 1/sqrt(fan_in)): the user scaled it.
            new = InitSpec("scaled", spec.distribution, display=spec.display, written="draw",
                           node=node, render=dict(spec.render, scaled=node))
        return Draw(new, draw.dims, draw.framework, draw.node, draw.requires_grad, draw.name)

    def parameter(self, node: cst.Call, env: Dict[str, Any], q: str) -> Any:
        args, kwargs = self.arguments(node, env)
        data = args[0] if args else kwargs.get("data", kwargs.get("initial_value"))
        if isinstance(data, Draw):
            return self.raw_from_draw(data, node, q)
        if isinstance(data, Layer) and data.render.get("raw"):
            return data
        return None

    def raw_from_draw(self, draw: Draw, node: cst.CSTNode, how: str) -> Layer:
        key = id(draw.node)
        layer = self.layers.get(key)
        if layer is not None:
            return layer
        spec = draw.spec
        if spec.family == "unknown" and draw.spec.distribution == "other":
            spec = InitSpec("unknown", display=spec.display)
        type_name = "Parameter" if "Parameter" in how else (
            "Variable" if "Variable" in how else "weight")
        layer = Layer(kind="dense", framework=draw.framework, type_name=type_name, node=node,
                      name=draw.name)
        layer.weights = [Weight("kernel", spec)]
        layer.render.update(raw=True, dims=draw.dims, draw=draw, wrapper=node)
        # A bare matrix product has no bias; an added bias is read where it is added.
        layer.zero_bias = True
        layer.uniform_bias = True
        self.layers[key] = layer
        self.order.append(layer)
        return layer

    def matmul(self, a: Any, b: Any, node: Optional[cst.CSTNode]) -> Any:
        """``x @ W`` (W is (in, out)) or ``W @ x`` (W is (out, in))."""
        def weight(v: Any) -> bool:
            return isinstance(v, (Draw, Transposed)) or _is_raw(v)

        w_right = b if weight(b) else None
        w_left = a if w_right is None and weight(a) else None
        if isinstance(w_left, (Transposed, Layer, Draw)) and self._not_a_weight(
                w_left.layer if isinstance(w_left, Transposed) else w_left):
            w_left = None
        if isinstance(w_right, (Transposed, Layer, Draw)) and self._not_a_weight(
                w_right.layer if isinstance(w_right, Transposed) else w_right):
            w_right = None
        if w_right is None and w_left is None:
            for t in (a, b):
                self.consume(t)
            return Tensor()
        if isinstance(w_left, (Layer, Draw)) and w_left.framework == "torch":
            # ``P @ x`` with a torch parameter on the left: learned queries or prototypes, not
            # a layer's weight (torch layers compute x @ W.T).
            self.consume(b)
            return Tensor()
        if isinstance(w_right, Transposed):
            return self.use_raw(w_right.layer, a, fan_in_axis=-1, node=node)
        if isinstance(w_left, Transposed):
            return self.use_raw(w_left.layer, b, fan_in_axis=0, node=node)
        if w_right is not None:
            return self.use_raw(w_right, a, fan_in_axis=0, node=node)
        if w_left is not None:
            return self.use_raw(w_left, b, fan_in_axis=-1, node=node)
        for t in (a, b):
            self.consume(t)
        return Tensor() if isinstance(a, Tensor) or isinstance(b, Tensor) else None

    @staticmethod
    def _not_a_weight(layer: Union[Layer, Draw]) -> bool:
        """Named as learned tokens, queries or tables rather than a weight matrix, or as the
        data (``X``, ``X_train``, ``inputs``) a from-scratch script draws at random."""
        name = (layer.name or "").lower()
        if name in _DATA_NAMES or name.startswith("x_"):
            return True
        if isinstance(layer, Draw):
            return False  # a draw not yet kept as a parameter: only data names rule it out
        return bool(name_tokens(layer.name or "") & _NOT_WEIGHTS)

    def functional_layer(self, kind: str, x: Any, w: Any, node: cst.CSTNode) -> Any:
        if isinstance(w, Param) and isinstance(w.owner, Layer):
            return self.through(w.owner, self.as_tensor(x) or Tensor())
        if isinstance(w, Draw) or _is_raw(w):
            return self.use_raw(w, x, fan_in_axis=1, node=node, kind=kind)
        self.consume(x)
        return Tensor()

    def use_raw(self, w: Any, x: Any, fan_in_axis: int, node: Optional[cst.CSTNode],
                kind: str = "dense") -> Any:
        if isinstance(w, Draw) and not (w.framework == "numpy" or w.requires_grad):
            # A torch or tf draw is a weight only when it is trainable (Parameter, Variable,
            # requires_grad); otherwise it is data or a fixed random projection.
            self.consume(x)
            return Tensor()
        layer = w if isinstance(w, Layer) else self.raw_from_draw(w, w.node, w.spec.display)
        dims = layer.render.get("dims") or []
        vals = [d[0].value if isinstance(d[0], Const) and isinstance(d[0].value, int) else None
                for d in dims]
        if not layer.render.get("used") and len(dims) >= 2:
            rf = 1
            if kind == "conv" and len(dims) > 2:
                rest = vals[2:]
                rf = math.prod(rest) if all(v is not None for v in rest) else None
            if fan_in_axis == 0:
                fi, fo, fi_i = vals[0], vals[-1], 0
            elif fan_in_axis == 1:
                fi, fo, fi_i = vals[1], vals[0], 1
            else:
                fi, fo, fi_i = vals[-1], vals[0], len(dims) - 1
            w0 = layer.weights[0]
            w0.fan_in = _mul(fi, rf)
            w0.fan_out = _mul(fo, rf)
            w0.receptive = rf or 1
            layer.kind = "conv" if kind == "conv" else "dense"
            layer.render["fan_in_node"] = dims[fi_i][1]
            layer.render["fan_out_node"] = dims[0 if fi_i != 0 else -1][1]
            layer.out_features = fo
        if len(dims) >= 2 or layer.render.get("used"):
            layer.render["used"] = True
        else:
            return Tensor()
        t = self.as_tensor(x) or Tensor()
        return self.through(layer, t)

    def mark_scaled_at_use(self, raw: Any) -> None:
        layer = raw if isinstance(raw, Layer) else None
        if layer is None:
            return
        w = layer.weights[0]
        if w.init.family == "fixed":
            w.init = InitSpec("scaled", w.init.distribution, display=w.init.display,
                              written="expression")

    def _source(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # --- rendering fixes -----------------------------------------------------------------

    def name_init(self, layer: Layer, req: InitRequest) -> str:
        """PyTorch's spelling of a recommendation, or the scale a hand-made weight needs."""
        if layer.render.get("raw"):
            return {"he": "scaling by √(2/fan_in)", "lecun": "scaling by √(1/fan_in)"}.get(
                req.family, "scaling by √(2/(fan_in+fan_out))")
        dist = "uniform" if req.distribution == "uniform" else "normal"
        if req.family == "he":
            return f"kaiming_{dist}_"
        if req.family == "lecun":
            return f"kaiming_{dist}_(nonlinearity='linear')"
        return f"xavier_{dist}_"

    def render(self, layer: Layer, weight: Weight, req: InitRequest) -> Optional[List[Edit]]:
        spec = weight.init
        shared = self.init_targets.get(id(spec.node), []) if spec.node is not None else []
        if any(t.activation.name != layer.activation.name for t in shared):
            return None  # one call sets layers that need different initializers
        # nn_init stores the underscore name, also for the deprecated spellings.
        if spec.written == "function_call" and spec.render.get("fn") in T.INIT_FUNCTIONS:
            return self._render_init_call(spec, req, layer)
        if spec.written == "method_call":
            return self._render_method(spec, req, layer)
        if spec.written == "draw":
            return self._render_draw(layer, weight, req)
        return None

    def _init_alias(self) -> Optional[str]:
        for local, full in self.imports.aliases.items():
            if full == "torch.nn.init":
                return local
        for local, full in self.imports.aliases.items():
            if full == "torch.nn":
                return f"{local}.init"
        if self.imports.aliases.get("torch") == "torch":
            return "torch.nn.init"
        return None

    def _init_text(self, alias: str, target: str, req: InitRequest, keep: List[str],
                   layer: Layer) -> str:
        q = self.quote
        dist = "uniform" if req.distribution == "uniform" else "normal"
        act = req.activation
        args = [target]
        if req.family == "he":
            fn = f"kaiming_{dist}_"
            slope = layer.activation.params.get("slope") if act in ("leaky_relu", "prelu") else None
            if slope is not None and slope > T.LEAKY_SLOPE:
                args.append(f"a={_fmt_num(slope)}")
                args.append(f"nonlinearity={q}leaky_relu{q}")
            else:
                args.append(f"nonlinearity={q}relu{q}")
        elif req.family == "lecun":
            fn = f"kaiming_{dist}_"
            args.append(f"nonlinearity={q}linear{q}")
        else:
            fn = f"xavier_{dist}_"
            if act == "tanh":
                args.append(f"gain={alias}.calculate_gain({q}tanh{q})")
        args.extend(keep)
        return f"{alias}.{fn}({', '.join(args)})"

    def _render_init_call(self, spec: InitSpec, req: InitRequest, layer: Layer
                          ) -> Optional[List[Edit]]:
        call = spec.render["call"]
        callee = spec.render["callee"]
        if isinstance(callee, cst.Attribute):
            alias = self._source(callee.value)
        else:
            alias = self._init_alias()
            if alias is None:
                return None
        bound: Dict[str, cst.Arg] = spec.render["bound"]
        keep = [f"generator={self._source(bound['generator'].value)}"
                ] if "generator" in bound else []
        fn = spec.render["fn"]
        if req.family == "he" and fn.startswith("kaiming") and "mode" in bound:
            keep.insert(0, f"mode={self._source(bound['mode'].value)}")
        target = self._source(spec.render["target"])
        return [Edit(call, self._init_text(alias, target, req, keep, layer))]

    def _render_method(self, spec: InitSpec, req: InitRequest, layer: Layer
                       ) -> Optional[List[Edit]]:
        alias = self._init_alias()
        target = spec.render.get("target")
        if alias is None or target is None:
            return None
        bound: Dict[str, cst.Arg] = spec.render["bound"]
        keep = [f"generator={self._source(bound['generator'].value)}"
                ] if "generator" in bound else []
        text = self._init_text(alias, self._source(target), req, keep, layer)
        return [Edit(spec.render["call"], text)]

    def _render_draw(self, layer: Layer, weight: Weight, req: InitRequest) -> Optional[List[Edit]]:
        """Scale a hand-drawn weight: ``randn(n_in, n_out) * sqrt(2 / n_in)``. A U(0, 1) draw
        is centred first, and a zeros/ones draw becomes the framework's unit normal draw."""
        spec = weight.init
        fi_node = layer.render.get("fan_in_node")
        fo_node = layer.render.get("fan_out_node")
        draw: Optional[Draw] = layer.render.get("draw")
        base: Optional[InitSpec] = spec.render.get("base")
        call = draw.node if draw is not None else None
        if fi_node is None or base is None or not isinstance(call, cst.Call):
            return None
        args = [a for a in call.args if not (a.keyword and a.keyword.value == "requires_grad")]
        if args and len(args) != len(call.args):
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        bare = self._source(call.with_changes(args=args))
        if base.family == "constant":
            bare = self._unit_draw(call, args)
            if bare is None:
                return None
            var = 1.0
        else:
            var = variance.weight_variance(base)
            if var is None or var <= 0:
                return None
            if abs(base.mean) > 1e-12:
                if (base.distribution, base.low, base.high) != ("uniform", 0.0, 1.0):
                    return None
                bare, var = f"({bare} * 2 - 1)", 1 / 3
        fan_in = _paren(self._source(fi_node))
        k = {"he": 2.0, "lecun": 1.0}.get(req.family, 2.0) / var
        if req.family in ("he", "lecun"):
            inner = f"{k:.6g} / {fan_in}"
        else:
            inner = f"{k:.6g} / ({self._source(fi_node)} + {self._source(fo_node)})"
        sqrt = self._sqrt(layer.framework)
        scale = f"{sqrt}({inner})" if sqrt else f"({inner}) ** 0.5"
        text = f"{bare} * {scale}"
        if draw.requires_grad:
            # A scaled tensor is no longer a leaf: make it one again.
            text = f"({text}).requires_grad_()"
        scaled = spec.render.get("scaled")
        target = scaled if isinstance(scaled, cst.BinaryOperation) else call
        return [Edit(target, text)]

    def _unit_draw(self, call: cst.Call, args: List[cst.Arg]) -> Optional[str]:
        """``torch.zeros(a, b)`` -> ``torch.randn(a, b)``, ``np.zeros((a, b))`` ->
        ``np.random.standard_normal((a, b))``, ``tf.zeros([a, b])`` -> ``tf.random.normal(...)``."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        q = self.qualify(func) or ""
        prefix = self._source(func.value)
        rest = ", ".join(self._source(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                         for a in args)
        if q in ("torch.zeros", "torch.ones"):
            return f"{prefix}.randn({rest})"
        if q in ("numpy.zeros", "numpy.ones") and len(args) == 1 and args[0].keyword is None:
            return f"{prefix}.random.standard_normal({rest})"
        if q in ("tensorflow.zeros", "tensorflow.ones") and len(args) == 1:
            return f"{prefix}.random.normal({rest})"
        return None

    def _sqrt(self, framework: str) -> Optional[str]:
        np_alias = next((k for k, v in self.imports.aliases.items() if v == "numpy"), None)
        math_alias = next((k for k, v in self.imports.aliases.items() if v == "math"), None)
        if framework == "numpy" and np_alias:
            return f"{np_alias}.sqrt"
        if math_alias:
            return f"{math_alias}.sqrt"
        if np_alias:
            return f"{np_alias}.sqrt"
        return None


# --- helpers -------------------------------------------------------------------------------


#: Parameter names that mean learned tokens, queries, tables or states, not weight matrices.
_DATA_NAMES = frozenset({
    "x", "xs", "y", "ys", "z", "inputs", "input", "data", "batch", "noise", "samples", "images",
    "targets", "labels",
})
_NOT_WEIGHTS = frozenset({
    "query", "queries", "token", "tokens", "latent", "latents", "embed", "embedding",
    "embeddings", "pos", "position", "positional", "cls", "prototype", "prototypes", "codebook",
    "memory", "mem", "prompt", "prompts", "register", "registers", "slot", "slots", "state",
    "states", "hidden", "h", "c",
})

_BUILTINS = frozenset({"isinstance", "type", "hasattr", "getattr", "len", "float", "int", "abs",
                       "min", "max", "list", "tuple", "zip", "enumerate", "reversed"})

#: The file's own activation helpers, by name (NumPy networks define ``sigmoid`` themselves).
_NAMED_ACTIVATIONS = {"sigmoid": "sigmoid", "relu": "relu", "tanh": "tanh", "softmax": "softmax",
                      "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu", "swish": "silu",
                      "silu": "silu", "selu": "selu"}


def _calls(node: cst.CSTNode) -> List[cst.Call]:
    out: List[cst.Call] = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            out.append(n)

    node.visit(_V())
    return out



def _torch_default() -> InitSpec:
    return InitSpec("framework_default", "uniform", scale=T.DEFAULT_FAN_IN_SCALE, mode="fan_in",
                    display="PyTorch's default kaiming_uniform_(a=√5)", written="default")


def _mul(a: Optional[int], b: Optional[int]) -> Optional[int]:
    return None if a is None or b is None else a * b


def _div(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None or b is None or b == 0:
        return None
    return a // b


def _fold(op: cst.CSTNode, a: Any, b: Any) -> Any:
    """Constant arithmetic, for ``a op b`` and ``a op= b`` alike."""
    if not (is_num(a) and is_num(b)):
        if isinstance(op, (cst.Add, cst.AddAssign)) and isinstance(a, str) and isinstance(b, str):
            return Const(a + b)
        return None
    fn = BINOPS.get(_AUG_TO_BIN.get(type(op), type(op)))
    if fn is None or (isinstance(op, (cst.Power, cst.PowerAssign)) and abs(b) >= 64):
        return None
    try:
        return Const(fn(a, b))
    except (ArithmeticError, ValueError, OverflowError):
        return None


_AUG_TO_BIN = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
               cst.MultiplyAssign: cst.Multiply, cst.DivideAssign: cst.Divide,
               cst.FloorDivideAssign: cst.FloorDivide, cst.PowerAssign: cst.Power,
               cst.ModuloAssign: cst.Modulo}


def _fmt_num(x: float) -> str:
    return f"{x:g}"


def _paren(src: str) -> str:
    return src if re.fullmatch(r"[\w.]+", src) else f"({src})"


def _unique(xs: List[Layer]) -> List[Layer]:
    out: List[Layer] = []
    for x in xs:
        if not any(x is y for y in out):
            out.append(x)
    return out


def _flatten(items: List[Any]) -> List[Any]:
    out: List[Any] = []
    for i in items:
        if isinstance(i, Seq) and i.chain:
            out.extend(_flatten(i.items))
        else:
            out.append(i)
    return out


def _is_raw(v: Any) -> bool:
    return isinstance(v, Layer) and bool(v.render.get("raw"))


def _params(fn: cst.FunctionDef) -> List[str]:
    ps = [p.name.value for p in fn.params.posonly_params] + [
        p.name.value for p in fn.params.params]
    return ps


def _comp_fors(f: Optional[cst.CompFor]) -> List[cst.CompFor]:
    out = []
    while f is not None:
        out.append(f)
        f = f.inner_for_in
    return out


def _type_name(v: Any) -> Optional[str]:
    if isinstance(v, Layer):
        return v.type_name
    if isinstance(v, PassMod):
        return v.cls
    if isinstance(v, Inst):
        return v.cls.name
    if isinstance(v, Seq):
        return "Sequential" if v.chain else "ModuleList"
    if isinstance(v, ActMod):
        return None
    return None


def _isinstance(v: Any, classes: List[Any], exact: bool = False) -> Optional[bool]:
    """Does ``v`` match any of ``classes`` (QNames of torch.nn classes or local classes)?"""
    name = _type_name(v)
    unknown = False
    for c in classes:
        if isinstance(c, ClassInfo):
            if isinstance(v, Inst) and v.cls is c:
                return True
            continue
        if isinstance(c, Seq):
            r = _isinstance(v, c.items, exact)
            if r:
                return True
            if r is None:
                unknown = True
            continue
        if not isinstance(c, QName) or not c.name.startswith("torch.nn"):
            unknown = True
            continue
        cls = c.name.rsplit(".", 1)[-1]
        if cls == "Module" and not exact:
            return True
        if name is None:
            if isinstance(v, ActMod):
                continue
            if isinstance(v, Inst) and cls == "Module" and not exact:
                return True
            continue
        if cls == name:
            return True
        if not exact and name in T.ISINSTANCE.get(cls, ()):
            return True
        if not exact and cls in T.BATCHNORM_BASES and name.startswith("BatchNorm"):
            return True
    return None if unknown else False




