"""The PyTorch reader's values, as the evaluator carries them: layers with weights, activation
and pass-through modules, containers (``nn.Sequential``, ``ModuleList``, ``ModuleDict``),
tensors flowing through ``forward``, a layer's parameters, raw draws (``torch.randn``,
``np.random.randn``) and the hand-made weights kept from them.

The values answer the evaluator's questions; what they mean for the model is the host's
business (:mod:`.reader`), which they ask through :func:`host`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from ...analysis import (UNKNOWN, Args, ClassV, Const, External, InstanceV, Opaque, Seq, Site,
                         Value)
from ...catalog import torch as T
from ...model import Activation, InitSpec, Layer

if TYPE_CHECKING:  # pragma: no cover
    from ...analysis.core import Core
    from .reader import TorchHost

_RNN_SUFFIX = re.compile(r"_l\d+(_reverse)?$")
#: Parameter attributes of layers beyond ``weight``/``bias`` and their ``_ih``/``_hh`` forms.
_PARAM_ATTRS = ("in_proj_weight", "in_proj_bias", "q_proj_weight")


def host(ev: "Core") -> "TorchHost":
    from .reader import TorchHost

    h = ev.host
    assert isinstance(h, TorchHost)
    return h


class TorchValue(Opaque):
    """Base of the reader's values: binary operators go to the host's arithmetic."""

    def binop(self, ev: "Core", op: str, other: Value, reflected: bool, site: Site
              ) -> Optional[Value]:
        a, b = (other, self) if reflected else (self, other)
        return host(ev).binop(op, a, b, site)


@dataclass(eq=False)
class TensorV(TorchValue):
    """A tensor in a forward pass: the weight layers whose output reaches it through
    pass-through modules only, those whose activation is still open, and the weight layers
    applied on the way (for residual branches)."""

    producers: List[Layer] = field(default_factory=list)
    awaiting: List[Layer] = field(default_factory=list)
    path: Tuple[Layer, ...] = ()

    def unary(self, ev: "Core", op: str, site: Site) -> Optional[Value]:
        return self

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return host(ev).tensor_method(self, name, args, site)

    def subscript(self, ev: "Core", key: Value, site: Site) -> Optional[Value]:
        return self

    def join(self, other: Value) -> Optional[Value]:
        if isinstance(other, TensorV):
            path = self.path if len(self.path) >= len(other.path) else other.path
            return TensorV(unique(self.producers + other.producers),
                           unique(self.awaiting + other.awaiting), path)
        return self

    def escape(self, ev: "Core", site: Site) -> None:
        host(ev).consume(self)


@dataclass(eq=False)
class StatV(TensorV):
    """A statistic of a tensor (``x.mean(dim)``, ``x.var()``, ``x.norm()``) and what is computed
    from it (``torch.sqrt(var + eps)``). Used as a tensor it passes the signal on (global average
    pooling); dividing the same signal by it (or multiplying by its inverse, ``torch.rsqrt``)
    renormalizes that signal: a hand-written BatchNorm, LayerNorm or RMSNorm."""

    #: Whether the value is the statistic's inverse (``rsqrt(var)``, ``1 / std``).
    inverted: bool = False


class ModuleValue(TorchValue):
    """A module: a layer, an activation or pass-through module, a container."""

    def class_name(self) -> Optional[str]:
        return None

    def truth(self) -> Optional[bool]:
        return True

    def join(self, other: Value) -> Optional[Value]:
        # A module that may be None (``nn.Linear(...) if cond else None``) is read as there.
        return self if isinstance(other, Const) and other.value is None else None

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return host(ev).call_module(self, args, site)

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return host(ev).module_method(self, name, args, site)

    def isinstance_of(self, ev: "Core", classes: Sequence[Value]) -> Optional[bool]:
        return module_isinstance(self, classes)

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name == "__class__":
            cls = self.class_name()
            return ClassRefV(cls) if cls is not None else None
        return None

    def escape(self, ev: "Core", site: Site) -> None:
        host(ev).escape_module(self)


@dataclass(eq=False)
class LayerV(ModuleValue):
    """A PyTorch layer with weights."""

    layer: Layer
    defn: T.TorchLayerDef
    #: Constructor arguments by parameter name.
    args: Dict[str, Value] = field(default_factory=dict)
    #: Whether the layer has a bias: ``bias=False`` makes none; None when the argument is not
    #: known.
    has_bias: Optional[bool] = None

    def class_name(self) -> Optional[str]:
        return self.layer.type_name

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name in ("weight", "bias") or name.startswith(("weight_", "bias_")) \
                or name in _PARAM_ATTRS:
            role = param_role(self.layer, name)
            if role == "bias" and self.has_bias is False:
                return Const(None)
            return ParamV(self, role, name)
        if name == "linear1" and self.defn.kind == "transformer":
            return self
        got = self.args.get(name)
        if isinstance(got, Value):
            return got
        return super().attribute(ev, name, site)

    def has_attribute(self, ev: "Core", name: str) -> Optional[bool]:
        if name in ("weight", "bias", "reset_parameters") or name in self.args:
            return True
        return None

    def set_attribute(self, ev: "Core", name: str, value: Value, site: Site) -> bool:
        if isinstance(value, RawV) and name in ("weight", "bias"):
            w = self.layer.weight(param_role(self.layer, name))
            if w is not None and value.layer.weights:
                w.init = value.layer.weights[0].init
        return True


@dataclass(eq=False)
class ActModV(ModuleValue):
    """An activation module (``nn.ReLU()``)."""

    cls: str
    activation: Activation

    def class_name(self) -> Optional[str]:
        return self.cls

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name == "weight" and self.cls == "PReLU":
            return ParamV(self, "kernel", name)
        return super().attribute(ev, name, site)


@dataclass(eq=False)
class PassModV(ModuleValue):
    """A module without weights that matter: normalization (``kind == "norm"``), dropout,
    pooling, reshaping."""

    cls: str
    kind: str

    def class_name(self) -> Optional[str]:
        return self.cls

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name in ("weight", "bias"):
            return ParamV(self, name, name)
        return super().attribute(ev, name, site)

    def has_attribute(self, ev: "Core", name: str) -> Optional[bool]:
        return True if name in ("weight", "bias") else None


@dataclass(eq=False)
class ContainerV(ModuleValue):
    """``nn.Sequential`` (a chain), ``nn.ModuleList``/``ParameterList``, ``nn.ModuleDict`` or a
    ``TransformerEncoder``'s repeated layer. ``exact`` is False when the items are
    representatives of a list of unknown length."""

    cls: str
    items: List[Value] = field(default_factory=list)
    node: Optional[cst.CSTNode] = None
    keys: Optional[List[str]] = None
    exact: bool = True
    called: bool = False
    top_level: bool = False
    #: The module object it is an attribute of, when it is one.
    owner: Optional[InstanceV] = None
    name: Optional[str] = None

    @property
    def chain(self) -> bool:
        return self.cls == "Sequential"

    def class_name(self) -> Optional[str]:
        return self.cls

    def iterate(self, ev: "Core") -> Optional[Sequence[Value]]:
        return list(self.items) if self.exact else list(self.items) * 2

    def subscript(self, ev: "Core", key: Value, site: Site) -> Optional[Value]:
        if isinstance(key, Seq) and key.kind == "slice":
            return ContainerV(self.cls, list(self.items), self.node, None, self.exact)
        k = key.value if isinstance(key, Const) else None
        if isinstance(k, str) and self.keys and k in self.keys:
            return self.items[self.keys.index(k)]
        if isinstance(k, int) and not isinstance(k, bool) and self.items:
            if not self.exact:
                return self.items[0]
            if -len(self.items) <= k < len(self.items):
                return self.items[k]
        return None

    def set_item(self, ev: "Core", key: Value, value: Value, site: Site) -> bool:
        k = key.value if isinstance(key, Const) else None
        if isinstance(k, str):
            host(ev).container_add(self, value, k)
        elif isinstance(k, int) and self.exact and -len(self.items) <= k < len(self.items):
            self.items[k] = value
        elif isinstance(value, RawV):  # under a key not known: its writes are not followed
            value.layer.weights[0].init = maybe_written(value.layer.weights[0].init)
        return True

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if self.keys and name in self.keys:
            return self.items[self.keys.index(name)]
        return super().attribute(ev, name, site)

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return host(ev).container_method(self, name, args, site)


@dataclass(eq=False)
class ClassRefV(TorchValue):
    """The class of a module (``type(m)``, ``m.__class__``), by PyTorch's name for it."""

    name: str

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        return Const(self.name) if name == "__name__" else None

    def equals(self, ev: "Core", other: Value) -> Optional[bool]:
        if isinstance(other, ClassRefV):
            return other.name == self.name
        if isinstance(other, External) and other.name.startswith("torch.nn"):
            return other.name.rsplit(".", 1)[-1] == self.name
        if isinstance(other, (ClassV, Const)):
            return False
        return None


@dataclass(eq=False)
class ParamV(TorchValue):
    """``layer.weight``, ``layer.bias`` (``owner`` is a layer; a norm's or PReLU's weights are
    read but never judged)."""

    owner: ModuleValue
    role: str
    attr: str

    def truth(self) -> Optional[bool]:
        return True

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name == "data":
            return self
        n = self.ndim()
        if name == "ndim":
            return Const(n) if n is not None else None
        if name == "shape" and n is not None:
            return Seq([UNKNOWN] * n, "tuple")
        return None

    def ndim(self) -> Optional[int]:
        if self.role == "bias" or not isinstance(self.owner, LayerV):
            return 1
        kind = self.owner.defn.kind
        if kind in ("conv", "conv_transpose"):
            return 2 + self.owner.defn.rank
        return 3 if kind == "bilinear" else 2

    def set_attribute(self, ev: "Core", name: str, value: Value, site: Site) -> bool:
        return True

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return host(ev).param_method(self, name, args, site)

    def escape(self, ev: "Core", site: Site) -> None:
        if isinstance(self.owner, LayerV):
            host(ev).escape_weight(self.owner.layer, self.role)


@dataclass(eq=False)
class DrawV(TorchValue):
    """A random or constant tensor factory call (``torch.randn(o, i)``), not (yet) known to
    be a weight. ``dims`` holds each shape dimension's value and expression."""

    spec: InitSpec
    dims: List[Tuple[Value, Optional[cst.CSTNode]]]
    framework: str
    node: cst.CSTNode
    requires_grad: bool = False
    name: Optional[str] = None
    #: The expression that made a ``requires_grad=True`` draw a non-leaf tensor (``* 0.01``).
    non_leaf: Optional[cst.CSTNode] = None

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        return self if name == "data" else None

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return host(ev).draw_method(self, name, args, site)

    def escape(self, ev: "Core", site: Site) -> None:
        """A parameter handed to code initlint cannot see (its model given a checkpoint with
        ``load_state_dict``) may be set there: its draw is no longer known."""
        if self.requires_grad and not ev.uncertain:
            self.spec = InitSpec("unknown", display=self.spec.display)


@dataclass(eq=False)
class RawV(TorchValue):
    """A weight made by hand from a draw (``nn.Parameter(torch.randn(...))``, a NumPy array
    used in a matrix product): ``layer`` is its neutral description."""

    layer: Layer

    def truth(self) -> Optional[bool]:
        return True

    def escape(self, ev: "Core", site: Site) -> None:
        """Handed to code initlint cannot see (a checkpoint loaded into its model): it may
        be set there."""
        host(ev).escape_layer(self.layer)

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name == "data":
            return self
        if name in ("T", "mT"):
            return TransposedV(self)
        return None

    def set_attribute(self, ev: "Core", name: str, value: Value, site: Site) -> bool:
        """``w.requires_grad = False``: a frozen weight is a placeholder for loaded values
        (a LoRA layer's pre-trained matrix), not one trained from its init."""
        if name == "requires_grad":
            w = self.layer.weights[0]
            w.init = maybe_written(w.init)
        return False

    def subscript(self, ev: "Core", key: Value, site: Site) -> Optional[Value]:
        """A slice is a view: what is written through it is not followed."""
        w = self.layer.weights[0]
        w.init = maybe_written(w.init)
        return None

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return host(ev).raw_method(self, name, args, site)

    def isinstance_of(self, ev: "Core", classes: Sequence[Value]) -> Optional[bool]:
        return module_isinstance(self, classes)


@dataclass(eq=False)
class TransposedV(TorchValue):
    """``W.T`` / ``W.t()`` of a hand-made weight: a matrix product reads its fans swapped."""

    raw: RawV


@dataclass(eq=False)
class ModuleMethodV(TorchValue):
    """A method of ``nn.Module`` on a module of the file (``self.apply``, ``model.to``)."""

    owner: Value
    name: str

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return host(ev).module_method(self.owner, self.name, args, site)


@dataclass(eq=False)
class ItemsV(TorchValue):
    """What ``modules()``, ``parameters()`` and their named forms yield."""

    items: List[Value]

    def iterate(self, ev: "Core") -> Optional[Sequence[Value]]:
        return list(self.items)


class InertV(TorchValue):
    """The result of a function that leaves the file's weights alone (``torch.load``,
    ``argparse``, an optimizer), or one of its attributes (``name``): whatever is done with
    it changes none of them."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        return InertV(name)

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        if self.name in T.MATMUL_METHODS and args.positional:
            return host(ev).matmul(TensorV(), args.positional[0], site)
        for a in args.values():
            host(ev).consume(a)
        return INERT

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return InertV(name).call(ev, args, site)

    def subscript(self, ev: "Core", key: Value, site: Site) -> Optional[Value]:
        return INERT

    def describe(self) -> str:
        return "a value no weight depends on"


INERT = InertV()


# --- helpers --------------------------------------------------------------------------------


def param_role(layer: Layer, attr: str) -> str:
    base = _RNN_SUFFIX.sub("", attr)
    role = T.PARAM_ROLES.get(base, "other")
    if role == "kernel" and layer.kind == "embedding":
        return "embeddings"
    return role


def unique(xs: List[Layer]) -> List[Layer]:
    out: List[Layer] = []
    for x in xs:
        if not any(x is y for y in out):
            out.append(x)
    return out


def class_name_of(v: Value) -> Optional[str]:
    if isinstance(v, ModuleValue):
        return v.class_name()
    if isinstance(v, RawV):
        return v.layer.type_name
    if isinstance(v, InstanceV):
        return v.cls.name
    return None


def module_isinstance(v: Value, classes: Sequence[Value]) -> Optional[bool]:
    """Does ``v`` match any of ``classes`` (PyTorch's classes by name, or the file's own)?"""
    name = class_name_of(v)
    unknown = False
    for c in classes:
        if isinstance(c, ClassV):
            continue  # a module of PyTorch's is no instance of the file's classes
        if isinstance(c, Seq):
            r = module_isinstance(v, c.items)
            if r:
                return True
            unknown = unknown or r is None
            continue
        cls = c.name if isinstance(c, ClassRefV) else (
            c.name.rsplit(".", 1)[-1] if isinstance(c, External) and c.name.startswith(
                "torch.nn") else None)
        if cls is None:
            unknown = True
        elif _matches(name, cls, isinstance(v, ModuleValue)):
            return True
    return None if unknown else False


def _matches(name: Optional[str], cls: str, is_module: bool) -> bool:
    if cls == "Module":
        return is_module
    if name is None:
        return False
    if cls == name or name in T.ISINSTANCE.get(cls, ()):
        return True
    return cls in T.BATCHNORM_BASES and name.startswith("BatchNorm")


# --- what the reader knows of its layers ----------------------------------------------------

#: A shape's dimensions: each one's value and the expression it was written at.
Dims = List[Tuple[Value, Optional[cst.CSTNode]]]


@dataclass
class LayerFacts:
    """What the reader knows of a layer beyond the neutral model: how the signal used it and,
    for a weight made by hand, what it was made from. Kept by the reader (:class:`Facts`),
    never on the layer."""

    #: Its output reaches the result of a top-level forward or a loss: an output layer.
    output: bool = False
    #: Its output is used by something that is not a layer (an unknown function, a loss).
    consumed: bool = False
    #: A signal passed through it in a forward (or a matrix product).
    applied: bool = False
    #: A weight made by hand from a draw (``nn.Parameter(torch.randn(...))``, a NumPy array).
    raw: bool = False
    #: The hand-made weight's shape, as the draw wrote it.
    dims: Dims = field(default_factory=list)
    #: The draw the hand-made weight was made from.
    draw: Optional[DrawV] = None
    #: A matrix product used the hand-made weight (its fans are known from then on).
    used: bool = False
    #: The expressions of the hand-made weight's fan-in and fan-out dimensions, which a fix
    #: scales the draw by.
    fan_in_node: Optional[cst.CSTNode] = None
    fan_out_node: Optional[cst.CSTNode] = None


class Facts:
    """The reader's :class:`LayerFacts`, by the layer's identity (the layer is held too, so
    that its identity stays its own)."""

    def __init__(self) -> None:
        self._by_id: Dict[int, Tuple[Layer, LayerFacts]] = {}

    def of(self, layer: Layer) -> LayerFacts:
        got = self._by_id.get(id(layer))
        if got is None:
            got = self._by_id[id(layer)] = (layer, LayerFacts())
        return got[1]


def maybe_written(spec: InitSpec) -> InitSpec:
    """Memory left uninitialized that something initlint does not follow received (a helper,
    a slice): it may have been written, so what it holds is not known."""
    if not spec.uninitialized:
        return spec
    return InitSpec("unknown", display="an unknown initializer", written="unknown")
