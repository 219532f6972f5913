"""Initializers: ``nn.init`` calls, in-place tensor methods (``w.data.normal_()``), rescaling,
and raw draws (``torch.randn``, ``np.random.randn``, ``tf.random.normal``) with the hand-made
weights kept from them."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from ...analysis import Bound, UNKNOWN, Args, Const, Seq, Site, Unknown, Value
from ...analysis.builtins import number
from ...catalog import idioms
from ...catalog import torch as T
from ...model import (Deprecation, Distribution, Edit, Family, InitSpec, Layer, Weight,
                      as_fan_mode)
from ..pyutil import UNKNOWN as MISSING
from ..pyutil import is_num
from .render import TorchSpelling
from .state import State
from .values import Dims, DrawV, LayerV, ParamV, RawV, TensorV, maybe_written


class Inits(State):
    """What sets a weight's initial values."""

    # --- targets ----------------------------------------------------------------------------

    def init_target(self, v: Value) -> Optional[Tuple[Layer, str]]:
        if isinstance(v, ParamV) and isinstance(v.owner, LayerV):
            return v.owner.layer, v.role
        if isinstance(v, RawV):
            return v.layer, "kernel"
        return None

    def set_init(self, layer: Layer, role: str, spec: InitSpec) -> None:
        if self.ev.uncertain:
            _maybe_written(layer, role)
            return  # under a guard initlint cannot decide: it may not run
        if role == "bias":
            if spec.family == "constant":
                layer.uniform_bias = True
                layer.zero_bias = spec.value == 0.0
            elif spec.family != "unknown":
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
        if spec.family == "constant" and self._zeroing_context():
            layer.idioms = tuple(sorted(set(layer.idioms) | {idioms.ZERO_INIT_METHOD}))

    def _zeroing_context(self) -> bool:
        """A function named for zeroing is running (``def _zero_init_last(self)``)."""
        return any(idioms.zeroing_name(f.function.qualname.rsplit(".", 1)[-1])
                   for f in self.ev.frames)

    def escape_weight(self, layer: Layer, role: str) -> None:
        """Code initlint cannot see received the weight: it may have set it."""
        if self.ev.uncertain:
            _maybe_written(layer, role)
            return
        if role == "bias":
            layer.zero_bias = layer.uniform_bias = None
            return
        w = layer.weight(role)
        if w is not None:
            w.init = _unknown_spec()

    def escape_layer(self, layer: Layer) -> None:
        if self.ev.uncertain:
            for w in layer.weights:
                _maybe_written(layer, w.role)
            return
        for w in layer.weights:
            w.init = _unknown_spec()
        if not self.facts.of(layer).raw:
            layer.zero_bias = layer.uniform_bias = None

    def zero_helper(self, name: str, args: Args) -> None:
        """``zero_module(conv)``-style helpers: a function named for zeroing a module."""
        if not idioms.zeroing_name(name):
            return
        for a in args.values():
            for _, m in self.tree(a):
                if isinstance(m, LayerV):
                    _zero_layer(m.layer, name)

    # --- nn.init ----------------------------------------------------------------------------

    def nn_init(self, short: str, args: Args, site: Site) -> Value:
        if short in T.DEPRECATED_INIT or short in T.MISSING_INIT:
            self.deprecated_init(short, site)
        fn_name = T.DEPRECATED_INIT.get(short, short)
        if fn_name == "calculate_gain":
            nl = args.get(0, "nonlinearity")
            if isinstance(nl, Const) and isinstance(nl.value, str):
                g = T.calculate_gain(nl.value, number(args.get(1, "param")))
                return Const(g) if g is not None else UNKNOWN
            return UNKNOWN
        got = self.init_call_spec(short, args, site)
        if got is None:
            return UNKNOWN
        return self.apply_init(got[0], got[1])

    def deprecated_init(self, short: str, site: Site) -> None:
        """``nn.init.xavier_uniform(w)`` (deprecated: it warns and calls ``xavier_uniform_``)
        or ``nn.init.zeros(w)`` (never existed): recorded where it is written, with the
        rename as its fix when the name is spelled as an attribute."""
        call = site.node
        if site.module or not isinstance(call, cst.Call) or id(call) in self.deprecations:
            return
        removed = short in T.MISSING_INIT
        new_short = T.MISSING_INIT[short] if removed else T.DEPRECATED_INIT[short]
        old = self.source(call.func)
        new = old[: len(old) - len(short)] + new_short if old.endswith(short) else new_short
        why = (f"AttributeError: module 'torch.nn.init' has no attribute '{short}'" if removed
               else "FutureWarning: " + T.TORCH_DEPRECATION_MSG.format(old=short))
        edits = [Edit(call.func.attr, new_short)] if isinstance(call.func, cst.Attribute) else []
        status = "does not exist" if removed else "is deprecated"
        self.deprecations[id(call)] = Deprecation(call.func, old, new, removed, status, why,
                                                  edits)

    def init_call_spec(self, short: str, args: Args, site: Site
                       ) -> Optional[Tuple[InitSpec, Value]]:
        """The spec an ``nn.init`` call sets, and the tensor it sets."""
        fn_name = T.DEPRECATED_INIT.get(short, short)
        info = T.INIT_FUNCTIONS.get(fn_name)
        if info is None:
            return None
        bound = args.by_name(info.positional)
        if "tensor" not in bound:
            return None
        target, target_node = bound["tensor"].value, bound["tensor"].node
        spec = init_spec(fn_name, {k: v[0] for k, v in bound.items() if k != "tensor"})
        call = site.node if not site.module else None
        spec.written = "function_call"
        spec.node = self.ev.local_site(site).node
        spec.foreign = bool(site.module)
        spec.display = self.source(call.func) if isinstance(call, cst.Call) else fn_name
        spec.spelling = TorchSpelling(call=call, target=target_node, fn=fn_name, qualified=short,
                                      bound={k: v[1] for k, v in bound.items()})
        return spec, target

    def apply_init(self, spec: InitSpec, target: Value) -> Value:
        if isinstance(target, DrawV):
            target.spec = spec
            return target
        got = self.init_target(target)
        if got is not None:
            self.set_init(got[0], got[1], spec)
        return target

    def alternative_inits(self, shorts: List[str], args: Args, site: Site) -> Value:
        """``(nn.init.xavier_uniform_ if c else nn.init.xavier_normal_)(w)``: known when the
        alternatives agree in family and scale; never fixed, since which one runs is not
        known."""
        got = [self.init_call_spec(s, args, site) for s in shorts]
        specs = [g[0] for g in got if g is not None]
        if not specs or len(specs) != len(got):
            return UNKNOWN
        first, target = specs[0], got[0][1] if got[0] is not None else UNKNOWN
        key = [(s.family, s.scale, s.mode, s.std, s.gain, s.value, s.low, s.high) for s in specs]
        call = site.node
        display = self.source(call.func) if isinstance(call, cst.Call) and not site.module \
            else "an initializer chosen at run time"
        if first.family in ("unknown", "special") or any(k != key[0] for k in key):
            spec = InitSpec("unknown", written="expression", display=display, node=first.node)
        else:
            spec = first
            spec.display = " or ".join(dict.fromkeys(s.display for s in specs))
            spec.written, spec.spelling = "expression", None
        return self.apply_init(spec, target)

    # --- tensor methods ---------------------------------------------------------------------

    def tensor_init(self, base: Value, method: str, args: Args, site: Site) -> Value:
        _, _, positional = T.TENSOR_INIT_METHODS[method]
        bound = args.by_name(positional)
        vals = {k: v[0] for k, v in bound.items()}
        if method in ("normal_", "trunc_normal_"):
            spec = init_spec(method, vals)
        elif method == "uniform_":
            uvals = {"a": vals.get("from", Const(0.0))}
            if "to" in vals:
                uvals["b"] = vals["to"]
            spec = init_spec("uniform_", uvals if vals else {})
        elif method == "zero_":
            spec = InitSpec("constant", "constant", value=0.0)
        elif method == "fill_":
            n = number(vals.get("value"))
            spec = InitSpec("constant", "constant", value=float(n)) if n is not None else (
                InitSpec("unknown"))
        else:
            spec = InitSpec("unknown")
        call = site.node if not site.module else None
        spec.written = "method_call"
        spec.node = self.ev.local_site(site).node
        spec.foreign = bool(site.module)
        spec.display = f".{method}()"
        func = call.func if isinstance(call, cst.Call) else None
        spec.spelling = TorchSpelling(
            call=call, fn=method, target=func.value if isinstance(func, cst.Attribute) else None,
            bound={k: v[1] for k, v in bound.items()})
        return self.apply_init(spec, base)

    def rescale(self, layer: Layer, role: str, factor: Optional[Value], divide: bool) -> None:
        if role == "bias":
            return
        w = layer.weight(role)
        if w is None or self.ev.uncertain:
            return
        n = number(factor)
        if n is not None and n != 0:
            f = 1 / n if divide else n
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

    # --- raw draws --------------------------------------------------------------------------

    def draw(self, q: str, args: Args, site: Site) -> Value:
        d = T.DRAWS[q]
        rg = args.keywords.get("requires_grad")
        requires_grad = isinstance(rg, Const) and rg.value is True
        if d.shape == "varargs":
            named = dict(args.keywords)
            dims = _varargs_dims(args)
        else:
            b = args.by_name(d.positional)
            named = {k: v[0] for k, v in b.items()}
            dims = _shape_dims(b.get(d.shape))
        params = dict(d.defaults)
        explicit = False
        for k, _ in d.defaults:
            if k in named:
                n = number(named[k])
                if n is None:
                    return UNKNOWN
                params[k] = float(n)
                explicit = True
        spec = _draw_spec(d, params, explicit)
        # Memory allocated under a guard initlint cannot decide is not followed: its value
        # may be lost in the join with the other side, and with it every write.
        spec.uninitialized = (d.distribution == "uninitialized" and _shape_args(q, args)
                              and not self.ev.uncertain)
        call = site.node
        spec.display = self.source(call.func) if isinstance(call, cst.Call) else q
        spec.written = "draw"
        spec.node = self.ev.local_site(site).node
        spec.foreign = bool(site.module)
        spec.spelling = TorchSpelling(
            draw_call=call if not site.module else None, qualified=q,
            base=InitSpec(spec.family, spec.distribution, std=spec.std, mean=spec.mean,
                          low=spec.low, high=spec.high, value=spec.value))
        return DrawV(spec, dims, d.framework, spec.node, requires_grad)

    def scale_draw(self, draw: DrawV, factor: Optional[Value], divide: bool,
                   node: Optional[cst.CSTNode]) -> DrawV:
        spec = draw.spec
        new = InitSpec(spec.family, spec.distribution, std=spec.std, mean=spec.mean,
                       low=spec.low, high=spec.high, value=spec.value, explicit_scale=True,
                       display=spec.display, written="draw", node=node,
                       spelling=_scaled(spec, node))
        n = number(factor)
        if n is not None and n != 0:
            f = 1 / n if divide else n
            if spec.family == "fixed":
                if new.std is not None:
                    new.std = abs(new.std * f)
                if new.low is not None and new.high is not None:
                    new.low, new.high = sorted((new.low * f, new.high * f))
                new.mean *= f
                new.display = f"{spec.display}(...) * {f:g}"
            elif spec.family == "constant" and spec.value is not None:
                new.value = spec.value * f
        elif spec.family == "fixed":
            # A factor initlint cannot evaluate (usually 1/sqrt(fan_in)): the user scaled it.
            new = InitSpec("scaled", spec.distribution, display=spec.display, written="draw",
                           node=node, spelling=_scaled(spec, node))
        non_leaf = node if draw.requires_grad and node is not None else draw.non_leaf
        return DrawV(new, draw.dims, draw.framework, draw.node, draw.requires_grad, draw.name,
                     non_leaf)

    def parameter(self, args: Args, site: Site, q: str) -> Value:
        data = args.get(0, "data") or args.get(None, "initial_value")
        if isinstance(data, DrawV):
            return self.raw_from_draw(data, self.ev.local_site(site).node, q)
        if isinstance(data, RawV):
            return data
        return UNKNOWN

    def raw_from_draw(self, draw: DrawV, node: cst.CSTNode, how: str) -> RawV:
        key = id(draw.node)
        got = self.raws.get(key)
        if got is not None:
            return got
        spec = draw.spec
        if spec.family == "unknown" and spec.distribution == "other":
            spec = InitSpec("unknown", display=spec.display, node=spec.node,
                            uninitialized=spec.uninitialized)
        type_name = "Parameter" if "Parameter" in how else (
            "Variable" if "Variable" in how else "weight")
        layer = Layer(kind="dense", framework=draw.framework, type_name=type_name, node=node,
                      name=draw.name)
        layer.weights = [Weight("kernel", spec)]
        layer.foreign = spec.foreign = draw.spec.foreign  # drawn in another module of the run
        if draw.non_leaf is not None and type_name == "weight":
            # ``nn.Parameter(...)`` and ``tf.Variable(...)`` make a new leaf of what they get
            layer.weights[0].non_leaf = True
            layer.weights[0].leaf_fix = self.renderer.leaf_fix(draw)
        facts = self.facts.of(layer)
        facts.raw, facts.dims, facts.draw = True, draw.dims, draw
        # A bare matrix product has no bias; an added bias is read where it is added.
        layer.zero_bias = True
        layer.uniform_bias = True
        raw = RawV(layer)
        self.raws[key] = raw
        self.layers.append(layer)
        return raw

    def mark_scaled_at_use(self, layer: Layer) -> None:
        """Equalized learning rate: the weight is rescaled where it is used."""
        w = layer.weights[0]
        if w.init.family == "fixed":
            w.init = InitSpec("scaled", w.init.distribution, display=w.init.display,
                              written="expression")

    def add_bias(self, t: TensorV, bias: Value) -> None:
        """``x @ W + b``: what a hand-made layer's bias is, for the symmetry analysis."""
        spec: Optional[InitSpec] = None
        if isinstance(bias, DrawV):
            spec = bias.spec
        elif isinstance(bias, RawV):
            spec = bias.layer.weights[0].init
        elif number(bias) is not None:
            spec = InitSpec("constant", "constant", value=float(number(bias) or 0.0))
        for p in t.awaiting:
            if not self.facts.of(p).raw:
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


# --- specs ----------------------------------------------------------------------------------


def _scaled(spec: InitSpec, node: Optional[cst.CSTNode]) -> TorchSpelling:
    """The spelling of a draw scaled by the product ``node``."""
    sp = spec.spelling
    if isinstance(sp, TorchSpelling):
        return replace(sp, scaled=node)
    return TorchSpelling(scaled=node)


def _unknown_spec() -> InitSpec:
    return InitSpec("unknown", written="unknown",
                    display="an initializer set by code initlint cannot see")


def _zero_layer(layer: Layer, name: str) -> None:
    for w in layer.weights:
        if w.role != "bias":
            w.init = InitSpec("constant", "constant", value=0.0, display=name,
                              written="function_call")
    layer.zero_bias = True
    layer.uniform_bias = True
    layer.idioms = tuple(sorted(set(layer.idioms) | {idioms.ZERO_MODULE}))


def init_spec(fn: str, vals: Dict[str, Value]) -> InitSpec:
    """The spec of ``nn.init.<fn>`` with these (evaluated) arguments."""
    def get(k: str, default: Any) -> Any:
        if k not in vals:
            return default
        v = vals[k]
        return v.value if isinstance(v, Const) else MISSING

    if fn == "uniform_":
        return _uniform(get, vals)
    if fn in ("normal_", "trunc_normal_"):
        return _normal(fn, get, vals)
    if fn in ("constant_", "ones_", "zeros_"):
        v = {"ones_": 1.0, "zeros_": 0.0}.get(fn)
        if v is None:
            c = get("val", MISSING)
            if not is_num(c):
                return InitSpec("unknown")
            v = float(c)
        return InitSpec("constant", "constant", value=v)
    if fn in ("eye_", "dirac_"):
        return InitSpec("identity", "eye")
    if fn in ("xavier_uniform_", "xavier_normal_"):
        g = get("gain", 1.0)
        dist: Distribution = "uniform" if "uniform" in fn else "normal"
        if not is_num(g):
            return InitSpec("scaled", dist)
        return InitSpec("glorot", dist, scale=1.0, mode="fan_avg", gain=float(g))
    if fn in ("kaiming_uniform_", "kaiming_normal_"):
        return _kaiming(fn, get)
    if fn == "orthogonal_":
        g = get("gain", 1.0)
        return InitSpec("orthogonal", "orthogonal", gain=float(g) if is_num(g) else None)
    return InitSpec("special")


def _uniform(get: Any, vals: Dict[str, Value]) -> InitSpec:
    a, b = get("a", 0.0), get("b", 1.0)
    if not (is_num(a) and is_num(b)):
        return InitSpec("unknown")
    return InitSpec("fixed", "uniform", low=float(a), high=float(b), mean=(a + b) / 2,
                    explicit_scale="a" in vals or "b" in vals)


def _normal(fn: str, get: Any, vals: Dict[str, Value]) -> InitSpec:
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


def _kaiming(fn: str, get: Any) -> InitSpec:
    a, written_mode, nl = get("a", 0.0), get("mode", "fan_in"), get("nonlinearity", "leaky_relu")
    dist: Distribution = "uniform" if "uniform" in fn else "normal"
    if not (is_num(a) and isinstance(written_mode, str) and isinstance(nl, str)):
        return InitSpec("scaled", dist)
    g = T.kaiming_gain(nl, float(a))
    mode = as_fan_mode(written_mode.lower())
    if g is None or mode not in ("fan_in", "fan_out"):
        return InitSpec("unknown", dist)
    scale = g * g
    fam: Family = "he" if abs(scale - 2) < 0.05 else "lecun" if abs(scale - 1) < 1e-9 and (
        mode == "fan_in") else "scaled"
    return InitSpec(fam, dist, scale=scale, mode=mode)


def _maybe_written(layer: Layer, role: str) -> None:
    """A write under a guard initlint cannot decide: what it set is not known, but memory
    left uninitialized may no longer be."""
    w = layer.weight(role)
    if w is not None:
        w.init = maybe_written(w.init)


def _shape_args(q: str, args: Args) -> bool:
    """Whether a factory that leaves memory uninitialized was given a shape: sizes, or for
    ``torch.empty`` a tuple of them. ``torch.Tensor([1, 2])`` and ``torch.Tensor(x)`` copy
    data; ``torch.Tensor()`` is empty."""
    pos = args.positional
    if not pos or args.star_unknown:
        return False
    if q == "torch.empty" and len(pos) == 1 and isinstance(pos[0], Seq):
        return all(number(v) is not None or isinstance(v, Unknown) for v in pos[0].items)
    return all(number(v) is not None or (isinstance(v, Unknown) and not isinstance(v, Seq))
               for v in pos)


def _draw_spec(d: T.Draw, p: Dict[str, float], explicit: bool) -> InitSpec:
    if d.distribution == "normal":
        return InitSpec("fixed", "normal", std=p.get("scale", p.get("stddev", 1.0)),
                        mean=p.get("loc", p.get("mean", 0.0)), explicit_scale=explicit)
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



def _elements(v: Value, node: Optional[cst.CSTNode]) -> Optional[Dims]:
    """The dimensions of a shape written as a tuple or list (with their expressions when the
    shape is written there)."""
    if not isinstance(v, Seq) or not v.exact:
        return None
    nodes: List[Optional[cst.CSTNode]] = [None] * len(v.items)
    if isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == len(v.items) \
            and not any(isinstance(e, cst.StarredElement) for e in node.elements):
        nodes = [e.value for e in node.elements]
    return list(zip(v.items, nodes))


def _varargs_dims(args: Args) -> Dims:
    pos = args.positional
    nodes = args.positional_nodes
    if len(pos) == 1:
        got = _elements(pos[0], nodes[0] if nodes else None)
        if got is not None:
            return got
    dims: Dims = [(v, nodes[i] if i < len(nodes) else None) for i, v in enumerate(pos)]
    if not dims and "size" in args.keywords:
        got = _elements(args.keywords["size"], args.keyword_nodes.get("size"))
        if got is not None:
            return got
    return dims


def _shape_dims(shape: Optional[Bound]) -> Dims:
    if shape is None:
        return []
    got = _elements(shape[0], shape[1])
    return got if got is not None else [(shape.value, shape.node)]
