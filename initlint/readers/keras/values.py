"""The Keras reader's values: layers, weightless layers, Sequential models, tensors,
initializers and activation functions, as the evaluator carries them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

import libcst as cst

from ...analysis import Args, Const, Opaque, Seq, Site, Value
from ...analysis.builtins import number
from ...catalog import keras as K
from ...model import Activation, InitSpec, Layer

if TYPE_CHECKING:  # pragma: no cover
    from ...analysis.core import Core
    from .reader import KerasHost


@dataclass(eq=False)
class Tensor(Opaque):
    """A symbolic tensor: the weight layers whose output reaches it through pass-through layers
    only, those of them whose activation is still open, and its channel count."""

    producers: List[Layer] = field(default_factory=list)
    awaiting: List[Layer] = field(default_factory=list)
    channels: Optional[int] = None

    def binop(self, ev: "Core", op: str, other: Value, reflected: bool, site: Site
              ) -> Optional[Value]:
        host = _host(ev)
        if isinstance(other, Tensor):
            kind = "sum" if op in ("+", "-") else "product" if op in ("*", "@") else "merge"
            return host.apply(Op(kind), [self, other], None)
        if isinstance(other, NormOf) and op == "/" and not reflected:
            return host.apply(Op("norm"), [self], None)  # x / ||x||: a renormalized signal
        if op in ("+", "-") and number(other) is None:
            # x + f(x) with x a tensor whose making was not seen (a parameter): a residual sum
            return host.apply(Op("sum"), [self], None)
        return host.apply(Op("pass"), [self], None)  # scaled or shifted by a constant

    def unary(self, ev: "Core", op: str, site: Site) -> Optional[Value]:
        return self

    def join(self, other: Value) -> Optional[Value]:
        if isinstance(other, Tensor):
            return Tensor(_union(self.producers, other.producers),
                          _union(self.awaiting, other.awaiting),
                          self.channels if self.channels == other.channels else None)
        return None

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        return Tensor(list(self.producers), list(self.awaiting), self.channels)


@dataclass(eq=False)
class NormOf(Opaque):
    """The norm of a tensor (``tf.norm(x)``): dividing by it renormalizes the signal."""

    def binop(self, ev: "Core", op: str, other: Value, reflected: bool, site: Site
              ) -> Optional[Value]:
        return self if number(other) is not None else None  # ``norm + 1e-4``


@dataclass(eq=False)
class Op(Opaque):
    """A layer without weights that matters to the flow."""

    #: activation | pass | norm | reshape | keep_channels | sum | merge | input | unknown
    kind: str
    activation: Optional[Activation] = None
    channels: Optional[int] = None

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return _host(ev).apply(self, _inputs(args), None)


@dataclass(eq=False)
class _HoldsLayer(Opaque):
    """A value through which a layer's weights can be set: ``set_weights`` with constant
    arrays is read, harmless methods change nothing, anything else is an escape."""

    layer: Layer

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        if name == "set_weights" and set_constant_weights(ev, self.layer, args, site):
            return Const(None)
        return Const(None) if name in HARMLESS else None

    def escape(self, ev: "Core", site: Site) -> None:
        escape_layer(ev, self.layer)


@dataclass(eq=False)
class LayerValue(_HoldsLayer):
    """A Keras layer with weights."""

    defn: K.LayerDef
    #: Arguments by parameter name (positional ones bound through the catalog's order).
    args: Dict[str, Value]
    c_in: Optional[int] = None
    #: Whether the layer states its own activation (then it never waits for a next one).
    activation_given: bool = False

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return _host(ev).apply(self, _inputs(args), None)


@dataclass(eq=False)
class ConstantArray(Opaque):
    """``np.zeros(shape)``, ``np.ones(shape)``, ``np.full(shape, v)``: every entry is
    ``value``."""

    value: float


def set_constant_weights(ev: "Core", layer: Layer, args: Args, site: Site) -> bool:
    """``layer.set_weights([kernel, bias])`` with constant arrays: the layer's weights are
    those constants from here on, written at this call. False when the arrays are not known
    (the caller then treats the call as one that may set anything)."""
    arrays = args.get(0, "weights")
    items = arrays.items if isinstance(arrays, Seq) and arrays.exact else None
    roles = [w for w in layer.weights if w.role != "bias"] + [w for w in layer.weights
                                                               if w.role == "bias"]
    if not items or len(items) != len(roles) or not all(isinstance(i, ConstantArray)
                                                         for i in items):
        return False
    if id(layer) in _host(ev).trained:
        return True  # restored after training: the initializer already did its work
    for w, item in zip(roles, items):
        assert isinstance(item, ConstantArray)
        w.init = InitSpec("constant", "constant", value=item.value, written="function_call",
                          display=f"set_weights with a constant {item.value:g}",
                          node=site.node)
    layer.zero_bias = all(w.init.value == 0.0 for w in roles if w.role == "bias")
    layer.uniform_bias = True
    return True


#: Methods of a Keras model or layer that leave its weights as they were initialized.
HARMLESS = frozenset({
    "compile", "fit", "summary", "evaluate", "predict", "save", "save_weights", "get_weights",
    "count_params", "to_json", "get_config", "build", "train_on_batch", "test_on_batch",
    "predict_on_batch", "reset_metrics", "plot_model", "get_build_config", "compute_output_shape",
    "add_weight", "add_loss", "add_metric", "add_update", "add_variable", "compute_loss",
    "train_step", "test_step", "make_train_function", "fit_generator", "stop_training",
})

#: Functions outside a model that read it without changing its weights.
HARMLESS_FUNCTIONS = frozenset({
    "utils.plot_model", "utils.model_to_dot", "models.save_model", "saving.save_model",
    "models.clone_model", "utils.print_summary", "callbacks.ModelCheckpoint",
})


#: Methods that train a model: once it has trained, its initializers have done their work,
#: and weights loaded or set afterwards (the best checkpoint restored) do not undo that.
TRAINING = frozenset({"fit", "fit_generator", "train_on_batch"})


def escape_layer(ev: "Core", layer: Layer) -> None:
    """The layer went into code no one can see: its weights may have been set there, unless
    it has already been trained."""
    if id(layer) in _host(ev).trained:
        return
    for w in layer.weights:
        w.init = InitSpec("unknown", written="unknown",
                          display="an initializer set by code initlint cannot see")


@dataclass(eq=False)
class Sequential(Opaque):
    """A Sequential model: a chain built item by item."""

    node: cst.CSTNode
    state: Tensor = field(default_factory=Tensor)
    layers: List[Layer] = field(default_factory=list)
    items: List[Value] = field(default_factory=list)
    first: List[Layer] = field(default_factory=list)
    used_as_layer: bool = False
    input_channels: Optional[int] = None

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return _host(ev).apply(self, _inputs(args), None)

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        if name == "add" and args.positional:
            _host(ev).seq_add(self, args.positional[0])
            return Const(None)
        if name == "get_layer":
            return find_layer(ev, self.layers, args)
        if name in TRAINING:
            _host(ev).trained.update(id(x) for x in self.layers)
        return Const(None) if name in HARMLESS else None

    def escape(self, ev: "Core", site: Site) -> None:
        for layer in self.layers:
            escape_layer(ev, layer)

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        if name == "layers":  # Keras leaves the Input out of a model's layers
            return Seq([i for i in self.items if not isinstance(i, Tensor)], "list")
        return None


@dataclass(eq=False)
class Initializer(Opaque):
    """An initializer object or class reference (``GlorotUniform(seed=1)``, ``HeNormal``)."""

    spec: InitSpec


@dataclass(eq=False)
class ActivationFn(Opaque):
    """An activation function (``keras.activations.relu``, ``tf.nn.gelu``)."""

    activation: Activation

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        if args.positional and isinstance(args.positional[0], Tensor):
            return _host(ev).apply(Op("activation", self.activation), _inputs(args), None)
        return None


@dataclass(eq=False)
class Model(Opaque):
    """A functional ``Model(inputs, outputs)``: the layers whose output reaches its outputs."""

    outputs: List[Layer] = field(default_factory=list)

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return Tensor()

    def call_method(self, ev: "Core", name: str, args: Args, site: Site) -> Optional[Value]:
        if name == "get_layer":
            return find_layer(ev, _host(ev).upstream(self.outputs), args)
        if name in TRAINING:
            _host(ev).trained.update(id(x) for x in _host(ev).upstream(self.outputs))
        return Const(None) if name in HARMLESS else None

    def escape(self, ev: "Core", site: Site) -> None:
        for layer in _host(ev).upstream(self.outputs):
            escape_layer(ev, layer)


@dataclass(eq=False)
class NoOp(Opaque):
    """A method that changes no weight (``model.compile`` of a subclassed model)."""

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return Const(None)


def find_layer(ev: "Core", layers: Sequence[Layer], args: Args) -> Optional[Value]:
    """``model.get_layer(name)`` / ``get_layer(index=i)``: the layer, when known (None, and so
    an escape of the whole model, when it is not)."""
    name = args.get(0, "name")
    index = args.get(1, "index")
    if isinstance(name, Const) and isinstance(name.value, str):
        found = [x for x in layers if _keras_name(ev, x) == name.value]
        return LayerRef(found[0]) if len(found) == 1 else None
    if isinstance(index, Const) and isinstance(index.value, int) \
            and -len(layers) <= index.value < len(layers):
        return LayerRef(layers[index.value])
    return None


def _keras_name(ev: "Core", layer: Layer) -> Optional[str]:
    lv = _host(ev).value_of(layer)
    given = lv.args.get("name") if lv is not None else None
    return given.value if isinstance(given, Const) and isinstance(given.value, str) else None


@dataclass(eq=False)
class LayerRef(_HoldsLayer):
    """A layer reached from its model (``get_layer``): changing its weights is an escape."""


def _inputs(args: Args) -> List[Tensor]:
    if not args.positional:
        return []
    x = args.positional[0]
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, Seq):
        return [t for t in x.items if isinstance(t, Tensor)]
    return []


def _union(a: Sequence[Layer], b: Sequence[Layer]) -> List[Layer]:
    out = list(a)
    for x in b:
        if all(x is not y for y in out):
            out.append(x)
    return out


def _host(ev: "Core") -> "KerasHost":
    from .reader import KerasHost

    host = ev.host
    assert isinstance(host, KerasHost)
    return host
