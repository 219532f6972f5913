"""The Keras reader: turns a parsed module into a :class:`~initlint.model.Network`.

One pass over the tree with a libcst visitor. Names are resolved through the file's own imports
(``keras``, ``tensorflow.keras``, ``tf.keras``, ``tf_keras``, ``from keras.layers import Dense``,
star imports), never by bare name. The data flow the reader follows is deliberately simple and
local: ``Sequential([...])`` lists, ``model.add(...)`` chains, functional ``x = Dense(..)(x)``
statements and ``self.attr`` layers used in the methods of a subclassed model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import libcst as cst

from ..catalog import keras as K
from ..edits import add_keyword
from ..model import (
    Activation,
    chains,
    Edit,
    InitRequest,
    InitSpec,
    Layer,
    Network,
    Stack,
    Weight,
)
from .pyutil import (UNKNOWN, ImportTable, call_arguments, const_eval, default_quote, dotted_name,
                     is_num, literal_string)

# --- values the data flow tracks ----------------------------------------------------------------


@dataclass
class Tensor:
    #: Weight layers whose output reaches this value through pass-through layers only.
    producers: List[Layer] = field(default_factory=list)
    #: Of those, the ones whose activation is still open (no activation argument).
    awaiting: List[Layer] = field(default_factory=list)
    channels: Optional[int] = None


@dataclass
class Op:
    """A layer without weights that matters to the flow (activation, pass-through, merge)."""

    kind: str  # activation | pass | norm | reshape | keep_channels | sum | merge | input
    activation: Optional[Activation] = None
    channels: Optional[int] = None


@dataclass
class Seq:
    """A Sequential model: a chain that is built item by item."""

    node: Any
    state: Tensor = field(default_factory=Tensor)
    layers: List[Layer] = field(default_factory=list)
    first: List[Layer] = field(default_factory=list)
    used_as_layer: bool = False
    input_channels: Optional[int] = None


@dataclass
class Expr:
    """Any other bound expression, kept for constant folding and initializer variables."""

    node: cst.BaseExpression


Value = Union[Tensor, Op, Seq, Layer, Expr, None]


@dataclass
class _LayerInfo:
    defn: K.LayerDef
    args: Dict[str, cst.Arg]
    c_in: Optional[int] = None


class _Scope:
    def __init__(self, parent: Optional["_Scope"], kind: str, cls: Optional["_Class"] = None):
        self.parent = parent
        self.kind = kind
        self.names: Dict[str, Value] = {}
        self.cls = cls

    def lookup(self, name: str) -> Value:
        s: Optional[_Scope] = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            # class bodies do not leak into their methods
            s = s.parent
            while s is not None and s.kind == "class":
                s = s.parent
        return None


@dataclass
class _Class:
    is_model: bool
    attrs: Dict[str, Value] = field(default_factory=dict)


class KerasReader:
    framework = "keras"
    #: A file that contains none of these bytes cannot use Keras.
    triggers = (b"keras", b"tensorflow")

    def read(self, module: cst.Module, source: str) -> Network:
        v = _Visitor(module, source)
        module.visit(v)
        return v.finish()


class _Visitor(cst.CSTVisitor):
    def __init__(self, module: cst.Module, source: str) -> None:
        super().__init__()
        self.module = module
        self.imports = ImportTable()
        self.import_nodes: Dict[str, cst.ImportFrom] = {}
        self.scope = _Scope(None, "module")
        self.layers: List[Layer] = []
        self.info: Dict[int, _LayerInfo] = {}
        self.by_node: Dict[int, Layer] = {}
        self.seqs: Dict[int, Seq] = {}
        self.ops: Dict[int, Op] = {}
        self.classes: List[_Class] = []
        self.func_names: List[str] = []
        self.quote = default_quote(source)

    # --- imports and scopes ---------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.add(node)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.imports.add(node)
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                local = alias.asname.name.value if alias.asname and isinstance(
                    alias.asname.name, cst.Name) else dotted_name(alias.name)
                if local:
                    self.import_nodes[local] = node
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.scope.kind == "module":
            self.imports.shadow(node.name.value)
        is_model = False
        is_layer_class = False
        for base in node.bases:
            q = self._keras_name(base.value)
            if q is not None and q[0] in ("model", "sequential"):
                is_model = True
            if q is not None and q[0] in ("model", "sequential", "layer_base"):
                is_layer_class = True
        self.classes.append(_Class(is_model=is_model))
        self.scope = _Scope(self.scope, "class", self.classes[-1] if is_layer_class else None)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()
        self.scope = self.scope.parent or self.scope

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.scope.kind == "module":
            self.imports.shadow(node.name.value)
        cls = self.scope.cls if self.scope.kind == "class" else None
        self.scope = _Scope(self.scope, "function", cls)
        self.func_names.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_names.pop()
        self.scope = self.scope.parent or self.scope

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scope = _Scope(self.scope, "function", None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scope = self.scope.parent or self.scope

    # --- name resolution ------------------------------------------------------------------

    def _keras_name(self, node: cst.CSTNode) -> Optional[Tuple[str, str]]:
        """(category, name) for a Keras (or tf.nn) object named by ``node``; None otherwise.

        Categories: layer, weightless, initializer, activation_fn, model, sequential, input,
        layer_base, tf_initializer.
        """
        dotted = dotted_name(node)
        if dotted is None:
            return None
        q = self.imports.resolve(dotted)
        candidates = [q] if q else []
        if q is None and "." not in dotted:
            candidates = list(self.imports.star_candidates(dotted))
        for cand in candidates:
            r = _classify(cand)
            if r is not None:
                return r
        return None

    def _lookup(self, name: str) -> Value:
        return self.scope.lookup(name)

    def _const(self, node: Optional[cst.CSTNode]) -> Any:
        seen: set = set()

        def lookup(name: str) -> Any:
            if name in seen:
                return UNKNOWN
            seen.add(name)
            v = self._lookup(name)
            if isinstance(v, Expr):
                return const_eval(v.node, lookup)
            return UNKNOWN

        return const_eval(node, lookup)

    # --- layer construction ---------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call) -> None:
        kn = self._keras_name(original_node.func)
        if kn is None:
            return
        cat, name = kn
        if cat == "layer":
            self._make_layer(original_node, name)
        elif cat == "sequential":
            self._make_seq(original_node)

    def _make_layer(self, call: cst.Call, type_name: str) -> Layer:
        defn = K.LAYERS[type_name]
        args = call_arguments(call, defn.positional)
        for old, new in K.KERAS1_KWARGS.items():
            if old in args and new not in args:
                args[new] = args[old]
        layer = Layer(kind=defn.kind, framework="keras", type_name=type_name, node=call)
        # activation given on the layer itself
        if defn.activation is not None:
            kw, default = defn.activation
            arg = args.get(kw)
            if arg is not None:
                act = self._activation_of(arg.value)
                act.source = "keyword" if arg.keyword is not None else "positional"
                act.node = arg.value
                layer.activation = act
                layer.render["activation_given"] = act.name != "linear"
            elif any(a.star for a in call.args):
                layer.activation = Activation("unknown", source="unknown")
                layer.render["activation_given"] = True
            elif default is not None:
                layer.activation = Activation(K.ACTIVATION_STRINGS[default], source="default")
                layer.render["activation_given"] = True
        # weights
        splat = any(a.star for a in call.args)  # *args/**kwargs may carry any argument
        for role, (kw, default) in defn.weights.items():
            arg = args.get(kw)
            if role == "kernel" and arg is None and "init" in args and defn.kind == "embedding":
                arg = args["init"]
            if arg is None and splat:
                spec = InitSpec("unknown", written="unknown", display="an unknown initializer")
            else:
                spec = self._init_spec(arg.value if arg is not None else None, default)
            if spec.is_default:
                spec.render["keyword"] = kw
            layer.weights.append(Weight(role=role, init=spec))
        layer.zero_bias = self._zero_bias(layer, args)
        layer.uniform_bias = self._uniform_bias(layer)
        layer.out_features = self._out_features(defn, args)
        info = _LayerInfo(defn, args)
        # input size given on the layer (first layer of a Sequential)
        for kw in ("input_shape", "batch_input_shape"):
            if kw in args:
                shape = self._const(args[kw].value)
                if isinstance(shape, tuple) and shape and is_num(shape[-1]):
                    info.c_in = int(shape[-1])
        if "input_dim" in args and defn.kind != "embedding":
            v = self._const(args["input_dim"].value)
            if is_num(v):
                info.c_in = int(v)
        self.info[id(layer)] = info
        self.by_node[id(call)] = layer
        self.layers.append(layer)
        if info.c_in is not None:
            self._set_fans(layer, info.c_in)
        elif defn.kind == "embedding":
            self._set_fans(layer, None)
        return layer

    def _out_features(self, defn: K.LayerDef, args: Dict[str, cst.Arg]) -> Optional[int]:
        arg = args.get(defn.width) if defn.width else None
        v = self._const(arg.value) if arg is not None else UNKNOWN
        if isinstance(v, tuple) and v:  # EinsumDense's output_shape
            v = v[-1]
        return int(v) if is_num(v) and v > 0 else None

    def _int_arg(self, info: _LayerInfo, name: str, default: Optional[int]) -> Optional[int]:
        arg = info.args.get(name)
        if arg is None:
            return default
        v = self._const(arg.value)
        return int(v) if is_num(v) and v > 0 else None

    def _kernel_prod(self, info: _LayerInfo) -> Optional[int]:
        arg = info.args.get("kernel_size")
        if arg is None:
            return None
        v = self._const(arg.value)
        if is_num(v):
            return int(v) ** max(info.defn.rank, 1)
        if isinstance(v, tuple) and v and all(is_num(x) for x in v):
            return int(math.prod(v))
        return None

    def _set_fans(self, layer: Layer, c_in: Optional[int]) -> None:
        info = self.info[id(layer)]
        info.c_in = c_in
        defn = info.defn
        width = self._out_features(defn, info.args)
        k = self._kernel_prod(info) if defn.rank else 1
        dm = self._int_arg(info, "depth_multiplier", 1)
        groups = self._int_arg(info, "groups", 1)
        input_dim = self._int_arg(info, "input_dim", None)
        for w in layer.weights:
            if w.role == "bias":
                continue
            if defn.rank and w.role != "pointwise" and k is not None:
                w.receptive = k
            w.fan_in, w.fan_out = K.kernel_fans(defn, w.role, c_in, width, k, dm, groups,
                                                input_dim)
        layer.out_features = K.output_width(defn, width, c_in, dm)

    def _zero_bias(self, layer: Layer, args: Dict[str, cst.Arg]) -> Optional[bool]:
        if "use_bias" in args:
            v = self._const(args["use_bias"].value)
            if v is False:
                return True
            if v is UNKNOWN:
                return None
        b = layer.weight("bias")
        if b is None:
            return True
        if b.init.written == "default" or b.init.is_zero:  # bias_initializer=None is glorot_uniform
            return True
        if b.init.family == "unknown":
            return None
        return False

    def _uniform_bias(self, layer: Layer) -> Optional[bool]:
        if layer.zero_bias:
            return True
        b = layer.weight("bias")
        if b is None:
            return True
        if b.init.is_constant and b.init.value is not None:
            return True
        if b.init.family == "unknown":
            return None
        return False

    # --- initializers ---------------------------------------------------------------------

    def _init_spec(self, expr: Optional[cst.BaseExpression], default: str,
                   depth: int = 0) -> InitSpec:
        if expr is None:
            cls = K.STRING_ALIASES[default]
            spec = K.make_spec(cls, {}, default)
            spec.written = "default"
            return spec
        if isinstance(expr, cst.Name) and expr.value == "None":
            spec = K.make_spec("GlorotUniform", {}, "glorot_uniform")
            spec.written, spec.node = "none", expr
            spec.render["target"] = expr
            return spec
        s = literal_string(expr)
        if s is not None:
            cls = K.STRING_ALIASES.get(s)
            if cls is None:
                return InitSpec(family="unknown", display=s, written="string", node=expr)
            spec = K.make_spec(cls, {}, s)
            spec.written, spec.node = "string", expr
            spec.render.update(target=expr, snake=not s[:1].isupper())
            return spec
        if isinstance(expr, cst.Call):
            kn = self._keras_name(expr.func)
            if kn is not None and kn[0] in ("initializer", "tf_initializer"):
                return self._class_call_spec(expr, kn)
            return InitSpec(family="unknown", display=_short_code(self.module, expr),
                            written="function_call", node=expr)
        kn = self._keras_name(expr)
        if kn is not None and kn[0] == "initializer":
            spec = K.make_spec(kn[1], {}, kn[1])
            spec.written, spec.node = "class_ref", expr
            spec.render.update(target=expr, callee=expr)
            return spec
        if isinstance(expr, cst.Name) and depth < 5:
            bound = self._lookup(expr.value)
            if isinstance(bound, Expr):
                inner = self._init_spec(bound.node, default, depth + 1)
                if inner.family != "unknown":
                    inner.render["inner_written"] = inner.written
                    inner.written = "variable"
                    inner.node = expr
                    inner.render["variable"] = expr.value
                    return inner
        return InitSpec(family="unknown", display=_short_code(self.module, expr),
                        written="expression", node=expr)

    def _class_call_spec(self, call: cst.Call, kn: Tuple[str, str]) -> InitSpec:
        cat, name = kn
        preset: Dict[str, Any] = {}
        if cat == "tf_initializer":
            name, preset = K.TF_INITIALIZERS[name]
        d = K.INITIALIZERS[name]
        bound = call_arguments(call, d.params)
        evaluated: Dict[str, Any] = dict(preset)
        for p, arg in bound.items():
            if p in K.SCALED_CLASS_PARAMS:
                continue
            evaluated[p] = self._const(arg.value)
        display = _short_code(self.module, call)
        spec = K.make_spec(name, evaluated, display)
        spec.written, spec.node = "class_call", call
        spec.render.update(target=call, callee=call.func, bound=bound, tf=cat == "tf_initializer")
        return spec

    # --- activations ----------------------------------------------------------------------

    def _activation_of(self, expr: cst.BaseExpression) -> Activation:
        if isinstance(expr, cst.Name) and expr.value == "None":
            return Activation("linear")
        s = literal_string(expr)
        if s is not None:
            name = K.ACTIVATION_STRINGS.get(s, "unknown")
            params = {"slope": K.LEAKY_FN_SLOPE} if name == "leaky_relu" else {}
            return Activation(name, params)
        target = expr.func if isinstance(expr, cst.Call) else expr
        kn = self._keras_name(target)
        if kn is not None:
            if kn[0] == "activation_fn":
                params = {"slope": K.LEAKY_FN_SLOPE} if kn[1] == "leaky_relu" else {}
                if isinstance(expr, cst.Call):  # functools-free partials are rare; read alpha
                    for a in expr.args:
                        if a.keyword and a.keyword.value in ("alpha", "negative_slope"):
                            v = self._const(a.value)
                            if is_num(v):
                                params["slope"] = float(v)
                return Activation(kn[1], params)
            if kn[0] == "weightless" and isinstance(expr, cst.Call):
                op = self._op(expr, kn[1])
                if op is not None and op.activation is not None:
                    return op.activation
        return Activation("unknown")

    # --- weightless layers ----------------------------------------------------------------

    def _op(self, call: cst.Call, name: str) -> Optional[Op]:
        cached = self.ops.get(id(call))
        if cached is not None:
            return cached
        op: Optional[Op] = None
        if name == "Activation":
            arg = call.args[0].value if call.args else None
            act = self._activation_of(arg) if arg is not None else Activation("unknown")
            op = Op("activation", act)
        elif name in K.ACTIVATION_LAYERS:
            canon, slope_kw, slope_default = K.ACTIVATION_LAYERS[name]
            params: Dict[str, float] = {}
            if slope_kw is not None:
                slope = slope_default
                for a in call.args:
                    if a.keyword and a.keyword.value in (slope_kw, "alpha"):
                        v = self._const(a.value)
                        slope = float(v) if is_num(v) else None
                if name == "LeakyReLU" and call.args and call.args[0].keyword is None:
                    v = self._const(call.args[0].value)
                    slope = float(v) if is_num(v) else None
                if name == "ReLU":
                    if slope:
                        canon = "leaky_relu"
                    for a in call.args:
                        if a.keyword and a.keyword.value == "max_value":
                            if self._const(a.value) == 6:
                                canon = "relu6"
                if slope is not None:
                    params["slope"] = slope
            op = Op("activation", Activation(canon, params))
        elif name in K.NORMALIZATION_LAYERS:
            op = Op("norm")
        elif name in K.PASS_THROUGH_LAYERS:
            op = Op("pass")
        elif name in K.KEEPS_CHANNELS:
            op = Op("keep_channels")
        elif name in K.RESHAPING_LAYERS:
            op = Op("reshape")
        elif name in K.SUM_LAYERS:
            op = Op("sum")
        elif name in K.MERGE_LAYERS:
            op = Op("merge")
        elif name in K.INPUT_CLASSES:
            op = Op("input", channels=self._input_channels(call))
        else:
            op = Op("unknown")
        self.ops[id(call)] = op
        return op

    def _input_channels(self, call: cst.Call) -> Optional[int]:
        bound = call_arguments(call, ("shape", "batch_size", "name"))
        for kw in ("shape", "input_shape", "batch_shape", "batch_input_shape"):
            if kw in bound:
                v = self._const(bound[kw].value)
                if isinstance(v, tuple) and v and is_num(v[-1]):
                    return int(v[-1])
        return None

    # --- Sequential -----------------------------------------------------------------------

    def _make_seq(self, call: cst.Call) -> Seq:
        seq = Seq(node=call)
        self.seqs[id(call)] = seq
        bound = call_arguments(call, ("layers",))
        arg = bound.get("layers")
        if arg is not None and isinstance(arg.value, (cst.List, cst.Tuple)):
            for el in arg.value.elements:
                if isinstance(el, cst.StarredElement):
                    seq.state = Tensor()
                    continue
                self._seq_add(seq, el.value)
        return seq

    def _seq_add(self, seq: Seq, expr: cst.BaseExpression) -> None:
        item = self._eval(expr)
        seq.state = self._apply(item, seq.state, seq)

    # --- the data flow --------------------------------------------------------------------

    def _eval(self, expr: cst.BaseExpression) -> Value:
        """What an expression denotes: a layer, a weightless op, a Sequential, a tensor..."""
        if isinstance(expr, cst.Call):
            layer = self.by_node.get(id(expr))
            if layer is not None:
                return layer
            seq = self.seqs.get(id(expr))
            if seq is not None:
                return seq
            kn = self._keras_name(expr.func)
            if kn is not None:
                cat, name = kn
                if cat == "weightless" or cat == "input":
                    op = self._op(expr, name)
                    if op is not None and op.kind == "input":
                        return Tensor(channels=op.channels)
                    return op
                if cat == "activation_fn":
                    x = self._eval(expr.args[0].value) if expr.args else None
                    act = self._activation_of(expr)
                    return self._apply(Op("activation", act), x, None)
                if cat == "model":
                    self._mark_model_outputs(expr)
                    return None
                if cat == "functional_merge":
                    inputs = self._eval(expr.args[0].value) if expr.args else None
                    return self._apply(Op("sum" if name == "add" else "merge"), inputs, None)
                return None
            # model.add(layer) on a Sequential being built
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "add":
                target = self._eval(expr.func.value)
                if isinstance(target, Seq) and expr.args:
                    self._seq_add(target, expr.args[0].value)
                    return None
            # calling something on its input: layer(x), op(x), seq(x)
            fn = self._eval(expr.func)
            if isinstance(fn, (Layer, Op, Seq)):
                x = self._eval(expr.args[0].value) if expr.args else None
                return self._apply(fn, x, None)
            # an unknown call consumes its tensor arguments: they reach something we cannot see
            for a in expr.args:
                self._eval(a.value)
            return None
        if isinstance(expr, cst.Name):
            return self._lookup(expr.value)
        if isinstance(expr, cst.Attribute):
            if isinstance(expr.value, cst.Name) and expr.value.value == "self":
                cls = self.scope.cls
                if cls is not None:
                    return cls.attrs.get(expr.attr.value)
            return None
        if isinstance(expr, (cst.List, cst.Tuple)):
            vals = [self._eval(el.value) for el in expr.elements]
            tensors = [v for v in vals if isinstance(v, Tensor)]
            return _Merged(tensors) if tensors else None
        if isinstance(expr, cst.BinaryOperation):
            a, b = self._eval(expr.left), self._eval(expr.right)
            ts = [t for t in (a, b) if isinstance(t, Tensor)]
            if not ts:
                return None
            if len(ts) == 2:
                kind = "sum" if isinstance(expr.operator, (cst.Add, cst.Subtract)) else "merge"
                return self._apply(Op(kind), _Merged(ts), None)
            other = expr.right if isinstance(a, Tensor) else expr.left
            if isinstance(expr.operator, (cst.Add, cst.Subtract)) and not is_num(self._const(other)):
                # x + f(x) with x a tensor we did not see produced (a parameter): a residual sum
                return self._apply(Op("sum"), ts[0], None)
            # a tensor scaled or shifted by a constant: the signal passes through
            return self._apply(Op("pass"), ts[0], None)
        return None

    def _apply(self, fn: Value, x: Value, seq: Optional[Seq]) -> Tensor:
        """The tensor that results from applying ``fn`` to ``x``; links layers as a side effect."""
        if isinstance(x, _Merged):
            inputs = x.tensors
        elif isinstance(x, Tensor):
            inputs = [x]
        else:
            inputs = []
        merged = _merge(inputs)
        if isinstance(fn, Tensor):  # e.g. an InputLayer inside a Sequential
            return fn
        if isinstance(fn, Layer):
            info = self.info.get(id(fn))
            c_in = merged.channels
            if c_in is None and seq is not None and not seq.layers:
                c_in = seq.input_channels
            if info is not None and info.c_in is not None:
                c_in = info.c_in if c_in is None else c_in
            if c_in is not None:
                self._set_fans(fn, c_in)
            for p in merged.producers:
                if fn not in p.next:
                    p.next.append(fn)
            for p in merged.awaiting:
                _settle_linear(p)
            if seq is not None:
                if not seq.layers:
                    seq.first = [fn]
                seq.layers.append(fn)
            awaiting = [] if fn.render.get("activation_given") else [fn]
            return Tensor([fn], awaiting, fn.out_features)
        if isinstance(fn, Seq):
            fn.used_as_layer = True
            if fn.first:
                for first in fn.first:
                    for p in merged.producers:
                        if first not in p.next:
                            p.next.append(first)
                    if merged.channels is not None and first.weight("kernel") is not None:
                        info = self.info.get(id(first))
                        if info is not None and info.c_in is None:
                            self._set_fans(first, merged.channels)
            for p in merged.awaiting:
                _settle_linear(p)
            return Tensor(list(fn.state.producers), list(fn.state.awaiting), fn.state.channels)
        if isinstance(fn, Op):
            if fn.kind == "activation":
                for p in merged.awaiting:
                    act = fn.activation or Activation("unknown")
                    p.activation = Activation(act.name, dict(act.params), source="next_layer")
                return Tensor(list(merged.producers), [], merged.channels)
            if fn.kind in ("pass", "norm"):
                if fn.kind == "norm":
                    for p in merged.awaiting:
                        p.normalized = True
                    for p in merged.producers:
                        p.normalized_after = True
                return Tensor(list(merged.producers), list(merged.awaiting), merged.channels)
            if fn.kind in ("reshape", "keep_channels"):
                ch = merged.channels if fn.kind == "keep_channels" else None
                return Tensor(list(merged.producers), list(merged.awaiting), ch)
            if fn.kind == "input":
                if seq is not None:
                    seq.input_channels = fn.channels
                return Tensor(channels=fn.channels)
            if fn.kind == "sum":
                for p in merged.producers:
                    p.residual_branch_end = True
                for p in merged.awaiting:
                    _settle_linear(p)
                ch = merged.channels if all(t.channels == merged.channels for t in inputs) else None
                return Tensor([], [], ch)
            if fn.kind == "merge":
                for p in merged.awaiting:
                    _settle_linear(p)
                return Tensor([], [], None)
        return Tensor()

    def _mark_model_outputs(self, call: cst.Call) -> None:
        bound = call_arguments(call, ("inputs", "outputs"))
        arg = bound.get("outputs")
        if arg is None:
            return
        self._mark_output(self._eval(arg.value))

    def _mark_output(self, v: Value) -> None:
        tensors = v.tensors if isinstance(v, _Merged) else [v] if isinstance(v, Tensor) else []
        for t in tensors:
            for p in t.producers:
                p.render["reaches_output"] = True
            for p in t.awaiting:
                _settle_linear(p)

    # --- statements -----------------------------------------------------------------------

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = self._eval(original_node.value)
        if value is None:
            value = Expr(original_node.value)
        for target in original_node.targets:
            self._bind(target.target, value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is None:
            return
        value = self._eval(original_node.value)
        self._bind(original_node.target, value if value is not None else Expr(original_node.value))

    def _bind(self, target: cst.BaseExpression, value: Value) -> None:
        if isinstance(target, cst.Name):
            self.scope.names[target.value] = value
            if isinstance(value, Layer) and value.name is None:
                value.name = target.value
        elif (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
              and target.value.value == "self" and self.scope.cls is not None):
            self.scope.cls.attrs[target.attr.value] = value
            if isinstance(value, Layer) and value.name is None:
                value.name = f"self.{target.attr.value}"
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value, None)

    def leave_Expr(self, original_node: cst.Expr) -> None:
        self._eval(original_node.value)

    def leave_Return(self, original_node: cst.Return) -> None:
        if original_node.value is None:
            return
        v = self._eval(original_node.value)
        cls = self.scope.cls
        in_model_call = (cls is not None and cls.is_model and self.func_names
                         and self.func_names[-1] == "call")
        if in_model_call:
            self._mark_output(v)

    # --- results --------------------------------------------------------------------------

    def finish(self) -> Network:
        net = Network(renderer=self._render)
        for seq in self.seqs.values():
            if not seq.used_as_layer:
                self._mark_output(seq.state)
            if seq.layers:
                net.stacks.append(Stack(list(seq.layers), "sequential", seq.node))
        for layer in self.layers:
            if layer.next:
                layer.position = "hidden"
            elif layer.render.get("reaches_output"):
                layer.position = "output"
        net.layers = list(self.layers)
        in_seq = [x for st in net.stacks for x in st.layers]
        net.stacks.extend(chains(net.layers, in_seq))
        return net

    # --- rendering fixes in the file's idiom ------------------------------------------------

    def _render(self, layer: Layer, weight: Weight, req: InitRequest) -> Optional[List[Edit]]:
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
        if written == "class_ref" or (not tf and all(p in K.SCALED_CLASS_PARAMS for p in bound)):
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


@dataclass
class _Merged:
    tensors: List[Tensor]


def _merge(tensors: List[Tensor]) -> Tensor:
    if not tensors:
        return Tensor()
    if len(tensors) == 1:
        return tensors[0]
    out = Tensor()
    for t in tensors:
        out.producers.extend(t.producers)
        out.awaiting.extend(t.awaiting)
    return out


def _settle_linear(layer: Layer) -> None:
    """The layer's output is consumed without an activation in between: it is linear."""
    if not layer.render.get("activation_given"):
        layer.activation = Activation("linear", source="default")


def _classify(q: str) -> Optional[Tuple[str, str]]:
    rest: Optional[str] = None
    for root in sorted(K.ROOTS, key=len, reverse=True):
        if q.startswith(root + "."):
            rest = q[len(root) + 1:]
            break
    if rest is None:
        if q.startswith("tensorflow."):
            tail = q[len("tensorflow."):]
            if tail.startswith("nn.") and tail[3:] in K.TF_NN_ACTIVATIONS:
                return ("activation_fn", K.TF_NN_ACTIVATIONS[tail[3:]])
            if tail in K.TF_INITIALIZERS:
                return ("tf_initializer", tail)
            for prefix in ("initializers.", "keras.initializers."):
                if tail.startswith(prefix) and tail[len(prefix):] in K.CLASS_NAMES:
                    return ("initializer", K.CLASS_NAMES[tail[len(prefix):]])
        return None
    parts = rest.split(".")
    last = parts[-1]
    mids = parts[:-1]
    if "layers" in mids or not mids or mids == ["models"] or mids == ["engine"]:
        if last in K.LAYERS:
            return ("layer", last) if ("layers" in mids) else None
        if last in K.SEQUENTIAL_CLASSES:
            return ("sequential", last)
        if last in K.MODEL_CLASSES:
            return ("model", last)
        if last in K.INPUT_CLASSES:
            return ("input", last)
        if last == "Layer":
            return ("layer_base", last)
        if "layers" in mids:
            if last in ("add",):
                return ("functional_merge", last)
            if last in K.MERGE_LAYERS and last[:1].islower():
                return ("functional_merge", last)
            return ("weightless", last)
    if "initializers" in mids and last in K.CLASS_NAMES:
        return ("initializer", K.CLASS_NAMES[last])
    if "activations" in mids and last in K.ACTIVATION_STRINGS:
        return ("activation_fn", K.ACTIVATION_STRINGS[last])
    return None


def _short_code(module: cst.Module, node: cst.CSTNode, limit: int = 60) -> str:
    text = " ".join(module.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
