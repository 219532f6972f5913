"""Making layers, activation and pass-through modules and containers from their constructor
calls, with PyTorch's fans, default initializers and built-in nonlinearities."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import libcst as cst

from ...analysis import Args, Bound, Const, DictV, External, OneOf, Seq, Site, Value
from ...analysis.values import Provenance
from ...analysis.builtins import items_of, number
from ...catalog import torch as T
from ...model import Activation, InitSpec, Layer, Weight, as_layer_kind
from . import names as N
from .state import State
from .values import ActModV, ContainerV, LayerV, PassModV

#: (fan_in, fan_out, receptive field) of a weight role.
Fans = Tuple[Optional[int], Optional[int], int]


class Layers(State):
    """The constructors of ``torch.nn``."""

    def make_layer(self, cls: str, args: Args, site: Site) -> LayerV:
        d = T.LAYERS[cls]
        vals = args.by_name(d.positional)
        local = self.ev.local_site(site)
        layer = Layer(kind=as_layer_kind(d.kind),
                      framework="torch", type_name=cls, node=local.node,
                      calls=tuple(c for c in self.ev.call_sites() if not c.module),
                      foreign=local is not site, assumed=self.ev.assumed,
                      standalone=self.ev.building_alone(), origin=site.node)
        bias = vals["bias"][0] if "bias" in vals else args.get(None, "bias")
        has_bias = None if bias is not None and not isinstance(bias, Const) else (
            bias is None or bool(bias.value))
        lv = LayerV(layer, d, {k: v[0] for k, v in vals.items()}, has_bias)
        fans, out = _fans(d, lv.args)
        layer.weights = _default_weights(d, fans, lv.args)
        if d.kind in ("dense", "conv", "conv_transpose", "bilinear", "transformer"):
            layer.zero_bias = has_bias is False if has_bias is not None else None
        if d.kind != "embedding" and d.kind != "attention":
            layer.uniform_bias = False if has_bias else (True if has_bias is False else None)
        act = _builtin_activation(cls, d, vals)
        if act is not None:
            layer.activation = act
        if d.kind == "transformer":
            # Its feed-forward block is a residual branch (``x + ff(x)``, normalized before or
            # after): the scale of linear1 is added to the signal, not compounded.
            layer.residual_branch = True
        layer.out_features = out
        self.layers.append(layer)
        return lv

    def activation_module(self, cls: str, args: Args, site: Site) -> ActModV:
        name = T.ACTIVATION_MODULES[cls]
        params: Dict[str, float] = {}
        node = site.node
        if name == "leaky_relu":
            v = args.get(0, "negative_slope")
            n = number(v)
            if v is None:
                params["slope"] = T.LEAKY_SLOPE
            elif n is not None:
                params["slope"] = float(n)
            else:
                return ActModV(cls, Activation("unknown", source="next_layer", node=node))
        elif name == "prelu":
            params["slope"] = T.PRELU_INIT
        return ActModV(cls, Activation(name, params, "next_layer", node, self._callee_via()))

    def _callee_via(self) -> Provenance:
        """How the class or function being called reached the call (``act_layer()`` with
        ``act_layer=nn.GELU`` the default of a parameter)."""
        callee = self.ev.calling
        return callee.via if callee is not None else ()

    def pass_module(self, cls: str) -> PassModV:
        return PassModV(cls, T.PASS_MODULES[cls])

    def functional_activation(self, q: str, short: str, args: Args, site: Site
                              ) -> Optional[Activation]:
        name = _activation_name(q, short, args)
        if name is None:
            return None
        params: Dict[str, float] = {}
        if name == "leaky_relu":
            slope = args.keywords.get("negative_slope", args.keywords.get("alpha", (
                args.positional[1] if len(args.positional) > 1 else None)))
            default = T.TF_LEAKY_SLOPE if q.startswith("tensorflow") else T.LEAKY_SLOPE
            n = number(slope)
            if slope is None:
                params["slope"] = default
            elif n is not None:
                params["slope"] = float(n)
            else:
                return Activation("unknown", source="forward", node=site.node)
        return Activation(name, params, "forward", site.node, self._callee_via())

    # --- containers -----------------------------------------------------------------------

    def make_container(self, cat: str, cls: str, args: Args, site: Site) -> Optional[Value]:
        node = self.ev.local_site(site).node
        if cat == N.STACK:
            layer = args.get(0, "encoder_layer") or args.get(None, "decoder_layer")
            if layer is None:
                return None
            c = ContainerV(cls, [layer], node, exact=False)
        elif cat == N.SEQUENTIAL:
            c = self._sequential(cls, args, node)
        else:
            c = ContainerV(cls, [], node)
            src = args.get(0, "modules" if cat == N.MODULE_LIST else "modules")
            if isinstance(src, DictV):
                c.keys = [str(k) for k in src.items]
                c.items = list(src.items.values())
                c.exact = src.exact
            elif src is not None:
                items = items_of(self.ev, src)
                c.items = list(items) if items is not None else (
                    list(src.items[:1]) if isinstance(src, Seq) else [])
                c.exact = items is not None and not (isinstance(src, Seq) and not src.exact)
        self.containers.append(c)
        return c

    def _sequential(self, cls: str, args: Args, node: Optional[cst.CSTNode]) -> ContainerV:
        pos = args.positional
        if len(pos) == 1 and isinstance(pos[0], DictV):
            d = pos[0]
            return ContainerV(cls, list(d.items.values()), node,
                              [str(k) for k in d.items], d.exact)
        return ContainerV(cls, list(pos) + list(args.star_items), node,
                          None, not args.star_unknown)

    def ordered_dict(self, args: Args) -> Value:
        """``OrderedDict([(name, module), ...])``: a dict in the order written."""
        out = DictV()
        src = args.positional[0] if args.positional else None
        if src is None:
            return out
        pairs = items_of(self.ev, src)
        if isinstance(src, DictV):
            return DictV(dict(src.items), src.exact)
        if pairs is None:
            return DictV(exact=False)
        for pair in pairs:
            kv = items_of(self.ev, pair) if isinstance(pair, Seq) else None
            if kv is not None and len(kv) == 2 and isinstance(kv[0], Const) \
                    and isinstance(kv[0].value, str):
                out.items[kv[0].value] = kv[1]
            else:
                out.exact = False
        return out


# --- fans and defaults ----------------------------------------------------------------------


def _num(vals: Dict[str, Value], k: str) -> Optional[int]:
    n = number(vals.get(k))
    return int(n) if n is not None else None


def _kernel_size(vals: Dict[str, Value], rank: int) -> Optional[int]:
    v = vals.get("kernel_size")
    n = number(v)
    if isinstance(n, int):
        return n ** rank
    if isinstance(v, Seq) and v.exact:
        nums = [number(x) for x in v.items]
        if nums and all(isinstance(x, int) for x in nums):
            return math.prod(int(x) for x in nums if x is not None)
    return None


def _fans(d: T.TorchLayerDef, vals: Dict[str, Value]) -> Tuple[Dict[str, Fans], Optional[int]]:
    """Each weight role's fans, and the layer's output width."""
    def num(k: str) -> Optional[int]:
        return _num(vals, k)

    if d.kind == "dense":
        return {"kernel": (num("in_features"), num("out_features"), 1)}, num("out_features")
    if d.kind == "bilinear":
        a, b, o = num("in1_features"), num("in2_features"), num("out_features")
        return {"kernel": (_mul(a, b), _mul(o, b), 1), "in1": (a, None, 1)}, o
    if d.kind in ("conv", "conv_transpose"):
        cin, cout = num("in_channels"), num("out_channels")
        g = num("groups") if "groups" in vals else 1
        rf = _kernel_size(vals, d.rank)
        if d.kind == "conv":
            fi, fo = _mul(_div(cin, g), rf), _mul(cout, rf)
        else:
            fi, fo = _mul(_div(cout, g), rf), _mul(cin, rf)
        return {"kernel": (fi, fo, rf or 1)}, cout
    if d.kind == "embedding":
        return {"embeddings": (num("embedding_dim"), num("num_embeddings"), 1)}, None
    if d.kind == "recurrent":
        h, i = num("hidden_size"), num("input_size")
        return {"kernel": (i, _mul(h, d.gates), 1), "recurrent": (h, _mul(h, d.gates), 1),
                "hidden": (h, None, 1)}, h
    if d.kind == "attention":
        e = num("embed_dim")
        return {"kernel": (e, _mul(e, 3), 1)}, e
    dm, ff = num("d_model"), num("dim_feedforward")
    if ff is None and "dim_feedforward" not in vals:
        default = T.TRANSFORMER_DEFAULTS["dim_feedforward"]
        ff = default if isinstance(default, int) else None
    return {"kernel": (dm, ff, 1)}, ff


def torch_default() -> InitSpec:
    return InitSpec("framework_default", "uniform", scale=T.DEFAULT_FAN_IN_SCALE, mode="fan_in",
                    display="PyTorch's default kaiming_uniform_(a=√5)", written="default")


def _default_weights(d: T.TorchLayerDef, fans: Dict[str, Fans], vals: Dict[str, Value]
                     ) -> List[Weight]:
    if d.kind in ("dense", "conv", "conv_transpose", "transformer"):
        fi, fo, rf = fans["kernel"]
        return [Weight("kernel", torch_default(), fi, fo, rf)]
    if d.kind == "bilinear":
        fi, fo, rf = fans["kernel"]
        a = fans["in1"][0]
        std = None if a is None else 1 / math.sqrt(T.DEFAULT_UNIFORM_VAR_DIVISOR * a)
        spec = InitSpec("framework_default", "uniform", display="PyTorch's default init",
                        written="default", std=std)
        return [Weight("kernel", spec, fi, fo, rf)]
    if d.kind == "embedding":
        fi, fo, _ = fans["embeddings"]
        return [Weight("embeddings", InitSpec(
            "fixed", "normal", std=T.EMBEDDING_DEFAULT_STD,
            display="Embedding's default N(0, 1)", written="default"), fi, fo)]
    if d.kind == "recurrent":
        h = fans["hidden"][0]
        std = None if h is None else 1 / math.sqrt(T.DEFAULT_UNIFORM_VAR_DIVISOR * h)
        out = []
        for role in ("kernel", "recurrent"):
            fi, fo, _ = fans[role]
            out.append(Weight(role, InitSpec(
                "framework_default", "uniform", std=std,
                display="PyTorch's default U(±1/√hidden_size)", written="default"), fi, fo))
        return out
    fi, fo, _ = fans["kernel"]
    return [Weight("kernel", InitSpec(
        *T.ATTENTION_DEFAULT, scale=1.0, mode="fan_avg",
        display="MultiheadAttention's default xavier_uniform_", written="default"), fi, fo)]


def _builtin_activation(cls: str, d: T.TorchLayerDef, vals: Dict[str, Bound]
                        ) -> Optional[Activation]:
    if cls in ("RNN", "RNNCell"):
        if "nonlinearity" not in vals:
            return Activation(T.RNN_DEFAULT_NONLINEARITY, source="default")
        v, node = vals["nonlinearity"].value, vals["nonlinearity"].node
        if isinstance(v, Const) and v.value in T.RNN_NONLINEARITIES:
            return Activation(str(v.value), source="keyword", node=node)
        return Activation("unknown")
    if cls in ("LSTM", "GRU", "LSTMCell", "GRUCell"):
        return Activation(T.GATED_RNN_ACTIVATION, source="default")
    if d.kind != "transformer":
        return None
    if "activation" not in vals:
        return Activation(str(T.TRANSFORMER_DEFAULTS["activation"]), source="default")
    v, node = vals["activation"].value, vals["activation"].node
    act = _activation_value(v)
    return Activation(act.name, act.params, "keyword", node) if act.known else act


def _activation_value(v: Value) -> Activation:
    """An activation given as a value: ``"gelu"``, ``nn.GELU()``, ``F.gelu``."""
    if isinstance(v, OneOf):
        acts = [_activation_value(o) for o in v.options]
        same = all(a.name == acts[0].name and a.params == acts[0].params for a in acts)
        return acts[0] if same else Activation("unknown")
    if isinstance(v, Const) and isinstance(v.value, str):
        return Activation(v.value if v.value in T.TRANSFORMER_ACTIVATIONS else "unknown")
    if isinstance(v, ActModV):
        return Activation(v.activation.name, dict(v.activation.params))
    if isinstance(v, External):
        name = T.FUNCTIONAL_ACTIVATIONS.get(v.name.rsplit(".", 1)[-1])
        if name is not None and v.name.startswith("torch"):
            return Activation(name)
    return Activation("unknown")


def _activation_name(q: str, short: str, args: Args) -> Optional[str]:
    if q.startswith("torch.nn.functional.") or (q.startswith("torch.") and q.count(".") == 1):
        name = T.FUNCTIONAL_ACTIVATIONS.get(short)
        if q.startswith("torch.") and q.count(".") == 1 and short in ("gelu", "silu",
                                                                       "leaky_relu", "elu"):
            return None  # torch.gelu and friends do not exist
        return name
    if q in T.OTHER_ACTIVATIONS:
        return T.OTHER_ACTIVATIONS[q]
    if q == "numpy.maximum":
        pos = args.positional
        return "relu" if len(pos) == 2 and any(number(a) == 0 for a in pos) else None
    if q in ("torch.maximum", "torch.clamp", "torch.clamp_min"):
        lo = args.keywords.get("min", args.positional[1] if len(args.positional) > 1 else None)
        return "relu" if q.startswith("torch.clamp") and number(lo) == 0 else None
    return None


def _mul(a: Optional[int], b: Optional[int]) -> Optional[int]:
    return None if a is None or b is None else a * b


def _div(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None or b is None or b == 0:
        return None
    return a // b

