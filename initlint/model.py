"""The framework-neutral description of a network that readers produce and rules consume.

Readers (Keras, PyTorch, ...) know syntax; rules know neural networks. The classes here are the
only thing the two share. Nothing in this module knows how a framework spells anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, List, Literal, Optional, Sequence, Set, Tuple, cast,
                    get_args)

from .analysis.values import Provenance, Site

# --- vocabularies ------------------------------------------------------------------------------

#: Initializer families: he | glorot | lecun (variance-scaled by fan); scaled (another scale
#: or mode); fixed (variance ignores the fans); orthogonal | identity | constant;
#: framework_default (a framework's own default that is none of these); special; unknown.
Family = Literal["he", "glorot", "lecun", "scaled", "fixed", "orthogonal", "identity",
                 "constant", "framework_default", "special", "unknown"]
Distribution = Literal["normal", "truncated_normal", "truncated_normal_raw", "uniform",
                       "orthogonal", "constant", "eye", "other"]
FanMode = Literal["fan_in", "fan_out", "fan_avg"]
Severity = Literal["error", "warning", "info"]
#: How an initializer was written.
Written = Literal["default", "none", "string", "class_call", "class_ref", "function_call",
                  "method_call", "draw", "variable", "expression", "unknown"]
#: Where a layer's activation was read: its own argument, a later layer or forward(), or
#: the layer's default.
ActivationSource = Literal["keyword", "positional", "next_layer", "forward", "default",
                           "unknown"]
Role = Literal["kernel", "recurrent", "depthwise", "pointwise", "bias", "embeddings"]
LayerKind = Literal["dense", "conv", "conv_transpose", "depthwise_conv", "separable_conv",
                    "embedding", "recurrent", "attention", "other"]
Position = Literal["hidden", "output", "unknown"]
Applicability = Literal["safe", "unsafe"]


def as_family(name: str) -> Family:
    """A family named by data or a computation (``"he"``); ``unknown`` when it is none."""
    return cast(Family, name) if name in get_args(Family) else "unknown"


def as_layer_kind(name: str) -> LayerKind:
    """A layer kind from a catalog (whose own kinds may be finer: ``bilinear`` is dense)."""
    return cast(LayerKind, name) if name in get_args(LayerKind) else "dense" if name in (
        "bilinear", "transformer") else "other"


def as_role(name: str) -> Role:
    if name not in get_args(Role):
        raise ValueError(f"not a weight role: {name}")
    return cast(Role, name)


def as_distribution(name: str) -> Distribution:
    return cast(Distribution, name) if name in get_args(Distribution) else "other"


def as_fan_mode(name: object) -> Optional[FanMode]:
    """A fan mode as written in user code (``"fan_in"``); None when it is not one."""
    return cast(FanMode, name) if isinstance(name, str) and name in get_args(FanMode) else None

# --- initializers -----------------------------------------------------------------------------


class Spelling:
    """How the user wrote a value, kept by a reader to render a replacement in the same idiom.
    Each reader subclasses it with typed fields; rules never look inside."""

@dataclass
class InitSpec:
    """What a weight is initialized with, in neutral terms, and how the user wrote it."""

    #: he | glorot | lecun (variance-scaled by fan); scaled (another scale or mode); fixed
    #: (variance ignores the fans); orthogonal | identity | constant; framework_default (a
    #: framework's own default that is none of these, e.g. PyTorch's kaiming_uniform_(a=sqrt(5)));
    #: special; unknown (a reader could not evaluate it).
    family: Family
    #: normal (untruncated) | truncated_normal (variance-corrected, as Keras's VarianceScaling)
    #: | truncated_normal_raw (truncated at 2 std, no correction) | uniform | orthogonal |
    #: constant | eye | other
    distribution: Distribution = "other"
    #: Variance-scaling parameters: Var(W) = scale / n(mode) (times gain**2 where given).
    scale: Optional[float] = None
    mode: Optional[FanMode] = None
    #: Fixed-distribution parameters.
    std: Optional[float] = None
    mean: float = 0.0
    low: Optional[float] = None
    high: Optional[float] = None
    gain: Optional[float] = None
    #: Constant value (zeros are value 0.0).
    value: Optional[float] = None
    #: True when the user stated the scale explicitly (``stddev=0.02``), False when left at default.
    explicit_scale: bool = False
    #: The framework's own name for it (``"he_uniform"``, ``"RandomNormal"``), for messages.
    display: str = ""
    #: How it was written: string | class_call | class_ref | function_call | variable | default
    written: Written = "default"
    #: The expression to replace when fixing (None for a default: the fix inserts an argument).
    node: Any = None
    #: How the value reached the layer (the default of a parameter, an argument of a call).
    via: Provenance = ()
    #: The reader's typed record of how it was written, when a fix can replace it.
    spelling: Optional[Spelling] = None
    #: Written in another module of the run (``node`` is then the call in this file that led
    #: there): that module's own reading reports it.
    foreign: bool = False
    #: A name the framework rejects when the code runs (``"he"``, ``"xavier_uniform"`` given
    #: to a Keras layer), with the framework's names it may have meant (``display`` holds it).
    rejected: bool = False
    suggestions: Tuple[str, ...] = ()
    #: Memory allocated without values (``torch.empty``, ``torch.Tensor(n, m)``) that nothing
    #: seen writes: the weight starts as whatever the memory held. ``family`` is unknown.
    uninitialized: bool = False

    @property
    def is_default(self) -> bool:
        """Left to the framework: omitted, or passed as ``None`` (which means the default)."""
        return self.written in ("default", "none")

    @property
    def is_constant(self) -> bool:
        return self.family == "constant"

    @property
    def is_zero(self) -> bool:
        return self.family == "constant" and self.value == 0.0


# --- activations ------------------------------------------------------------------------------


@dataclass
class Activation:
    """The nonlinearity applied to a layer's output, with where that knowledge came from."""

    #: Canonical name from :mod:`initlint.catalog.activations` (``relu``, ``leaky_relu``, ...),
    #: or ``"unknown"``.
    name: str
    params: Dict[str, float] = field(default_factory=dict)
    #: keyword | positional | next_layer | forward | default | unknown
    source: ActivationSource = "unknown"
    node: Any = None
    #: How the value reached the layer (the default of a parameter, an argument of a call).
    via: Provenance = ()

    @property
    def known(self) -> bool:
        return self.name != "unknown"


# --- layers -----------------------------------------------------------------------------------

#: Weight roles. Rules about input kernels look at ``KERNEL_ROLES``.
KERNEL_ROLES = ("kernel", "depthwise", "pointwise")


@dataclass
class Weight:
    role: Role
    init: InitSpec
    fan_in: Optional[int] = None
    fan_out: Optional[int] = None
    #: Receptive-field size (product of kernel dims) folded into both fans; 1 for dense.
    receptive: int = 1
    #: A hand-made weight that is not a leaf tensor: a draw made with ``requires_grad=True``,
    #: then scaled (``torch.randn(n, m, requires_grad=True) * 0.01``). Its ``.grad`` stays
    #: None, so an optimizer never updates it. ``leaf_fix`` rewrites it as a leaf, in the
    #: user's spelling, when the reader can.
    non_leaf: bool = False
    leaf_fix: Optional["Edit"] = None


@dataclass(eq=False)
class Layer:
    """One layer with trainable weights. Layers compare by identity: ``next`` links make the
    layers of a network a graph that may have cycles (a layer list iterated in a loop)."""

    #: dense | conv | conv_transpose | depthwise_conv | separable_conv | embedding | recurrent
    #: | attention | other
    kind: LayerKind
    framework: str  # keras | torch | numpy | ...
    #: The class as the framework names it (``Dense``, ``Conv2D``), for messages.
    type_name: str
    weights: List[Weight] = field(default_factory=list)
    activation: Activation = field(default_factory=lambda: Activation("unknown"))
    #: hidden | output | unknown
    position: Position = "unknown"
    #: Set when the layer's output goes straight into a residual sum (last layer of a branch).
    residual_branch_end: bool = False
    #: Set when the layer is inside a residual branch (x + F(x)): the branch's gain is added
    #: to the signal, not multiplied into it, so it does not compound with depth.
    residual_branch: bool = False
    #: Set when the layer's output goes through a normalization layer (BatchNorm, LayerNorm,
    #: GroupNorm) before its activation: the normalization removes the kernel's scale.
    normalized: bool = False
    #: Set when a normalization layer sits anywhere between this layer and the next weight
    #: layer (before or after the activation): the next layer sees a renormalized signal.
    normalized_after: bool = False
    #: Set when the layer's output multiplies another computed tensor (a gate, attention
    #: keys and queries, a FiLM scale): it scales a signal instead of feeding a next layer.
    multiplies: bool = False
    #: Layers that consume this layer's output (through pass-through layers only).
    next: List["Layer"] = field(default_factory=list)
    #: The source node of the layer (its constructor call); used for ranges and insertions.
    node: Any = None
    #: A user-facing name when one is known (``self.fc1``, ``conv1``).
    name: Optional[str] = None
    #: Whether the output bias is zero (None when unknown). No bias counts as zero.
    zero_bias: Optional[bool] = None
    #: Whether every unit starts with the same bias (zeros, a scalar constant, or no bias).
    #: A random or per-unit bias breaks the symmetry between units by itself.
    uniform_bias: Optional[bool] = None
    #: Deliberate-idiom tags set by readers (e.g. ``"zero_module"``, ``"lora_b"``).
    idioms: Tuple[str, ...] = ()
    #: Number of output features (last-axis size) when known.
    out_features: Optional[int] = None
    #: The calls in this file through which the layer was built, outermost first (a layer
    #: made inside a helper function: the helper's call sites).
    calls: Tuple[Site, ...] = ()
    #: Built by the code of another module of the run (``model = GPT(config)`` in a training
    #: script): that module's own reading reports what is wrong with the layer, once, where
    #: the layer is written; this file uses it to know what feeds what.
    foreign: bool = False
    #: Set to the class or function (``Encoder``, ``build_model()``) when nothing in the
    #: linted files builds the layer: initlint built it with its defaults to read it.
    assumed: str = ""
    #: Built by initlint's own reading of its class alone (no model of the file holds it).
    standalone: bool = False
    #: The constructor call as written, in whichever module (``node`` is the call in this file
    #: that led there): layers made by one constructor share it.
    origin: Any = None

    @property
    def compounds(self) -> bool:
        """Whether the kernel's scale is carried into what follows: not divided out by a
        normalization before the activation, not added to a residual signal, not a factor
        of a product (a gate, attention)."""
        return not (self.normalized or self.residual_branch or self.multiplies)

    def weight(self, role: str) -> Optional[Weight]:
        for w in self.weights:
            if w.role == role:
                return w
        return None

    @property
    def kernels(self) -> List[Weight]:
        return [w for w in self.weights if w.role in KERNEL_ROLES]

    @property
    def activated_kernel(self) -> Optional[Weight]:
        """The kernel whose output the activation is applied to: a separable convolution's
        pointwise kernel (its depthwise kernel feeds the pointwise one linearly), else the
        last kernel."""
        kernels = self.kernels
        return kernels[-1] if kernels else None


@dataclass(eq=False)
class Stack:
    """Layers in the order the signal passes through them (a Sequential, a chain, a forward)."""

    layers: List[Layer]
    kind: str = "sequential"  # sequential | functional | module
    node: Any = None


def chains(layers: List[Layer], exclude: Sequence[Layer] = ()) -> List[Stack]:
    """Stacks from ``Layer.next`` links: maximal paths where each layer has one successor and
    that successor one predecessor (a functional chain or a forward without branching)."""
    skip = {id(x) for x in exclude}
    preds: Dict[int, List[Layer]] = {}
    for layer in layers:
        for n in layer.next:
            preds.setdefault(id(n), []).append(layer)
    out: List[Stack] = []
    seen: Set[int] = set()
    for layer in layers:
        if id(layer) in skip or id(layer) in seen:
            continue
        p = preds.get(id(layer), [])
        if len(p) == 1 and len(p[0].next) == 1 and id(p[0]) not in skip:
            continue  # not the start of a chain
        chain = [layer]
        seen.add(id(layer))
        cur = layer
        while len(cur.next) == 1:
            nxt = cur.next[0]
            if id(nxt) in seen or id(nxt) in skip or len(preds.get(id(nxt), [])) != 1:
                break
            chain.append(nxt)
            seen.add(id(nxt))
            cur = nxt
        if len(chain) >= 2:
            out.append(Stack(chain, "functional", chain[0].node))
    return out


@dataclass
class Deprecation:
    """A use of an initializer API that the framework deprecated (it still runs, with a
    warning) or removed (it fails when the code runs)."""

    #: Where it is written.
    node: Any
    #: As the user wrote it (``nn.init.xavier_uniform``), and what replaces it.
    old: str
    new: str
    removed: bool
    #: What became of it, for messages: ``is deprecated``, ``does not exist``.
    status: str
    #: What the framework does about it, in its own words.
    why: str
    #: The edits that write ``new`` instead, when the change keeps the meaning exactly.
    edits: List["Edit"] = field(default_factory=list)


@dataclass(eq=False)
class Network:
    """Everything a reader found in one file."""

    layers: List[Layer] = field(default_factory=list)
    stacks: List[Stack] = field(default_factory=list)
    #: Deprecated or removed initializer APIs the file uses.
    deprecations: List[Deprecation] = field(default_factory=list)
    #: Renders a replacement initializer in the file's own idiom (set by the reader).
    renderer: Optional["Renderer"] = None
    #: Names a recommended initializer the way the file's framework spells it, for messages
    #: (``kaiming_uniform_`` in PyTorch); None means the neutral ``he_uniform``.
    namer: Optional[Callable[["Layer", "InitRequest"], str]] = None


# --- diagnostics and fixes --------------------------------------------------------------------


@dataclass
class Edit:
    """Replace the source of ``node`` with ``text``; or insert ``text`` at its end / start; or
    (``where="rewrite"``) change the node's code as ``rewrite`` (an :class:`initlint.edits.
    Rewrite`) says, which the engine checks against the file's text."""

    node: Any
    text: str
    where: str = "replace"  # replace | after | before | rewrite
    rewrite: Any = None


@dataclass
class Fix:
    applicability: Applicability
    message: str
    edits: List[Edit]


@dataclass
class Diagnostic:
    code: str
    severity: Severity
    message: str
    node: Any
    fix: Optional[Fix] = None
    #: The layer the finding is about (set by the rule runner).
    layer: Optional[Layer] = None


#: A recommendation for a new initializer: family and distribution, in neutral terms.
@dataclass(frozen=True)
class InitRequest:
    family: str  # he | glorot | lecun
    distribution: str  # uniform | normal | truncated_normal
    #: Optional extra parameter, e.g. the leaky slope a rule wants encoded in a PyTorch fix.
    activation: Optional[str] = None
    #: A framework's own name to write instead of a rejected one (one of the reader's
    #: ``InitSpec.suggestions``); ``family`` and ``distribution`` are then not used.
    name: Optional[str] = None


#: Readers provide a renderer: (layer, weight, request) -> Fix edits or None when the idiom
#: cannot be rendered safely.
Renderer = Callable[[Layer, Weight, InitRequest], Optional[List[Edit]]]
