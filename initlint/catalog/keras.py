"""Keras facts as data: initializers, layers, activations (Keras 3.15, tf_keras 2, Keras 1 kwargs).

Every entry here is checked against the real library by ``tests/test_catalog_keras.py``.
A new alias is one line of data. Nothing in this module parses code.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from ..model import (Distribution, Family, FanMode, InitSpec, as_distribution,
                     as_fan_mode)

#: ``scipy.stats.truncnorm(-2, 2).std()``: Keras's VarianceScaling divides its std by this.
TRUNC_STD_CORR = 0.87962566103423978
TRUNC_VAR_FACTOR = TRUNC_STD_CORR**2

# --- initializers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InitializerDef:
    name: str  # canonical class name
    aliases: Tuple[str, ...]  # every string keras.initializers.get accepts for it
    params: Tuple[str, ...]  # constructor parameters in positional order
    defaults: Mapping[str, Union[float, str]]
    #: Neutral description at the defaults; parameters override it in ``make_spec``.
    family: Family
    distribution: Distribution
    scale: Optional[float] = None
    mode: Optional[FanMode] = None
    #: True when the string form fails in Keras 3 (``'constant'`` raises KeyError('value')).
    string_broken: bool = False


#: Constructor parameters of the VarianceScaling subclasses (He, Glorot, LeCun): the only
#: arguments a replacement keeps when it swaps one initializer class for another.
SCALED_CLASS_PARAMS = ("seed", "input_axes", "output_axes")
_VS = SCALED_CLASS_PARAMS

INITIALIZERS: Dict[str, InitializerDef] = {
    d.name: d
    for d in (
        InitializerDef("RandomNormal", ("RandomNormal", "random_normal", "normal"),
                       ("mean", "stddev", "seed"), {"mean": 0.0, "stddev": 0.05}, "fixed", "normal"),
        InitializerDef("RandomUniform", ("RandomUniform", "random_uniform", "uniform"),
                       ("minval", "maxval", "seed"), {"minval": -0.05, "maxval": 0.05}, "fixed",
                       "uniform"),
        InitializerDef("TruncatedNormal", ("TruncatedNormal", "truncated_normal"),
                       ("mean", "stddev", "seed"), {"mean": 0.0, "stddev": 0.05}, "fixed",
                       "truncated_normal_raw"),
        InitializerDef("VarianceScaling", ("VarianceScaling", "variance_scaling"),
                       ("scale", "mode", "distribution") + _VS,
                       {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
                       "scaled", "truncated_normal", 1.0, "fan_in"),
        InitializerDef("GlorotUniform", ("GlorotUniform", "glorot_uniform"), _VS, {}, "glorot",
                       "uniform", 1.0, "fan_avg"),
        InitializerDef("GlorotNormal", ("GlorotNormal", "glorot_normal"), _VS, {}, "glorot",
                       "truncated_normal", 1.0, "fan_avg"),
        InitializerDef("HeUniform", ("HeUniform", "he_uniform"), _VS, {}, "he", "uniform", 2.0,
                       "fan_in"),
        InitializerDef("HeNormal", ("HeNormal", "he_normal"), _VS, {}, "he", "truncated_normal",
                       2.0, "fan_in"),
        InitializerDef("LecunUniform", ("LecunUniform", "lecun_uniform"), _VS, {}, "lecun",
                       "uniform", 1.0, "fan_in"),
        InitializerDef("LecunNormal", ("LecunNormal", "lecun_normal"), _VS, {}, "lecun",
                       "truncated_normal", 1.0, "fan_in"),
        InitializerDef("Orthogonal", ("Orthogonal", "orthogonal", "OrthogonalInitializer"),
                       ("gain", "seed"), {"gain": 1.0}, "orthogonal", "orthogonal"),
        InitializerDef("Identity", ("Identity", "identity", "IdentityInitializer"), ("gain",),
                       {"gain": 1.0}, "identity", "eye"),
        InitializerDef("Zeros", ("Zeros", "zeros", "zero"), (), {}, "constant", "constant"),
        InitializerDef("Ones", ("Ones", "ones", "one"), (), {}, "constant", "constant"),
        InitializerDef("Constant", ("Constant", "constant"), ("value",), {"value": 0.0},
                       "constant", "constant", string_broken=True),
        InitializerDef("STFT", ("STFT", "stft", "STFTInitializer"),
                       ("side", "window", "scaling", "periodic"), {}, "special", "other"),
    )
}

#: Every string Keras 3 accepts, mapped to its class.
STRING_ALIASES: Dict[str, str] = {a: d.name for d in INITIALIZERS.values() for a in d.aliases}

#: Class-like attribute names of ``keras.initializers`` (snake_case attributes are the same class
#: objects: ``keras.initializers.he_normal is keras.initializers.HeNormal``). The four string-only
#: aliases ``normal``, ``uniform``, ``zero`` and ``one`` are not attributes.
CLASS_NAMES: Dict[str, str] = {
    a: d.name
    for d in INITIALIZERS.values()
    for a in d.aliases
    if a not in ("normal", "uniform", "zero", "one")
}

#: tf_keras (Keras 2) also accepts ``...V2`` names; Keras 3 does not.
KERAS2_EXTRA_STRINGS = frozenset(
    [n + "V2" for n in ("Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
                        "Identity", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
                        "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
                        "Zeros")]
    + [n + "V2" for n in ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
                          "lecun_normal", "lecun_uniform")]
)

#: Strings people write that Keras rejects, with what they may have meant: PyTorch's names for
#: Keras's initializers, and family names without a distribution.
COMMON_WRONG_NAMES: Dict[str, Tuple[str, ...]] = {
    "xavier_uniform": ("glorot_uniform",), "xavier_normal": ("glorot_normal",),
    "kaiming_uniform": ("he_uniform",), "kaiming_normal": ("he_normal",),
    "xavier": ("glorot_normal", "glorot_uniform"), "glorot": ("glorot_normal", "glorot_uniform"),
    "kaiming": ("he_normal", "he_uniform"), "he": ("he_normal", "he_uniform"),
    "lecun": ("lecun_normal", "lecun_uniform"), "gaussian": ("random_normal",),
    "trunc_normal": ("truncated_normal",), "eye": ("identity",),
}

#: Strings some Keras version accepts: Keras 3's, and Keras 2's (tf.keras) ``...V2`` names and
#: ``"constant"`` (Keras 3 fails on it with ``KeyError: 'value'``, Keras 2 makes Constant(0)).
KNOWN_STRINGS = frozenset(STRING_ALIASES) | KERAS2_EXTRA_STRINGS


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


def suggestions(name: str) -> Tuple[str, ...]:
    """What a rejected initializer string may have meant, in the spelling it was written in
    (snake_case or a class name): a case or underscore slip (``"Glorot_Uniform"``), another
    framework's name (``"xavier_uniform"``), or a typo (``"lecun_nrmal"``). Several when
    the string does not say which (``"he"``); none when nothing is close."""
    snake = not name[:1].isupper() or "_" in name
    if name.lower() in COMMON_WRONG_NAMES:
        found = list(COMMON_WRONG_NAMES[name.lower()])
    else:
        by_squash = {_squash(a): c for a, c in STRING_ALIASES.items()}
        cls = by_squash.get(_squash(name))
        if cls is not None:
            found = [to_snake(cls)]
        else:
            snakes = sorted(to_snake(d.name) for d in INITIALIZERS.values() if d.name != "STFT")
            found = difflib.get_close_matches(name.lower(), snakes, n=3, cutoff=0.8)
    names = [f if snake else STRING_ALIASES.get(f, f) for f in found]
    return tuple(dict.fromkeys(n for n in names if n in STRING_ALIASES))

#: TensorFlow's own initializer functions (outside Keras), by name under ``tensorflow``.
#: TF2 versions default to std 0.05; the ``compat.v1`` ones to std 1.0.
TF_INITIALIZERS: Dict[str, Tuple[str, Dict[str, float]]] = {
    "random_normal_initializer": ("RandomNormal", {"stddev": 0.05}),
    "random_uniform_initializer": ("RandomUniform", {"minval": -0.05, "maxval": 0.05}),
    "truncated_normal_initializer": ("TruncatedNormal", {"stddev": 0.05}),
    "glorot_uniform_initializer": ("GlorotUniform", {}),
    "glorot_normal_initializer": ("GlorotNormal", {}),
    "zeros_initializer": ("Zeros", {}),
    "ones_initializer": ("Ones", {}),
    "constant_initializer": ("Constant", {}),
    "variance_scaling_initializer": ("VarianceScaling", {}),
    "orthogonal_initializer": ("Orthogonal", {}),
    "compat.v1.random_normal_initializer": ("RandomNormal", {"stddev": 1.0}),
    "compat.v1.truncated_normal_initializer": ("TruncatedNormal", {"stddev": 1.0}),
    "compat.v1.random_uniform_initializer": ("RandomUniform", {"minval": 0.0, "maxval": 1.0}),
}

#: Neutral (family, distribution) -> the Keras class that renders it.
CLASS_FOR = {
    ("he", "uniform"): "HeUniform",
    ("he", "normal"): "HeNormal",
    ("glorot", "uniform"): "GlorotUniform",
    ("glorot", "normal"): "GlorotNormal",
    ("lecun", "uniform"): "LecunUniform",
    ("lecun", "normal"): "LecunNormal",
}


def to_snake(name: str) -> str:
    """Keras's own ``to_snake_case`` for the class names in this catalog."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def class_for(family: str, distribution: str) -> str:
    dist = "uniform" if distribution == "uniform" else "normal"
    return CLASS_FOR[(family, dist)]


def _classify_variance_scaling(scale: float, mode: str) -> Family:
    if mode == "fan_in" and scale == 2.0:
        return "he"
    if mode == "fan_avg" and scale == 1.0:
        return "glorot"
    if mode == "fan_in" and scale == 1.0:
        return "lecun"
    return "scaled"


def make_spec(class_name: str, args: Mapping[str, Any], display: str) -> InitSpec:
    """Neutral spec for a Keras initializer class called with the given (evaluated) arguments.

    ``args`` holds only the arguments the reader could evaluate to constants; an argument
    present with value ``...`` (Ellipsis) was given but not evaluable.
    """
    d = INITIALIZERS[class_name]
    # Any: the constants the reader evaluated, of whatever type the user wrote them; the
    # parameters read below are converted with float() and str().
    merged: Dict[str, Any] = dict(d.defaults)
    merged.update(args)
    unknown = any(v is Ellipsis for v in merged.values())
    spec = InitSpec(family=d.family, distribution=d.distribution, scale=d.scale, mode=d.mode,
                    display=display)
    if class_name == "VarianceScaling":
        if unknown:
            return InitSpec(family="unknown", display=display)
        scale, mode = float(merged["scale"]), as_fan_mode(merged["mode"])
        if mode is None:  # Keras refuses any other mode
            return InitSpec(family="unknown", display=display)
        dist = str(merged["distribution"]).lower()
        dist = {"normal": "truncated_normal", "untruncated_normal": "normal"}.get(dist, dist)
        spec.scale, spec.mode, spec.distribution = scale, mode, as_distribution(dist)
        spec.family = _classify_variance_scaling(scale, mode)
        spec.explicit_scale = "scale" in args
    elif d.family == "fixed":
        if unknown:
            return InitSpec(family="unknown", display=display)
        if d.distribution == "uniform":
            spec.low, spec.high = float(merged["minval"]), float(merged["maxval"])
            spec.mean = (spec.low + spec.high) / 2
            spec.explicit_scale = "minval" in args or "maxval" in args
        else:
            spec.std, spec.mean = float(merged["stddev"]), float(merged["mean"])
            spec.explicit_scale = "stddev" in args
    elif class_name in ("Zeros", "Ones", "Constant"):
        value = {"Zeros": 0.0, "Ones": 1.0}.get(class_name, merged.get("value", 0.0))
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return InitSpec(family="unknown", display=display)  # array or expression
        spec.value = float(value)
    elif class_name in ("Orthogonal", "Identity"):
        gain = merged.get("gain", 1.0)
        spec.gain = None if gain is Ellipsis else float(gain)
    return spec


# --- layers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerDef:
    kind: str
    positional: Tuple[str, ...]
    #: weight role -> (keyword, default initializer string)
    weights: Mapping[str, Tuple[str, str]]
    #: activation keyword and its default (None means linear)
    activation: Optional[Tuple[str, Optional[str]]] = ("activation", None)
    #: convolution rank (1, 2, 3), 0 otherwise
    rank: int = 0
    #: gates multiplying the kernel's output width (LSTM 4, GRU 3)
    gates: int = 1
    #: the argument that sets the output width (last-axis size), if any
    width: Optional[str] = None


_DENSE_W = {"kernel": ("kernel_initializer", "glorot_uniform"), "bias": ("bias_initializer", "zeros")}
_CONV_POS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups",
             "activation", "use_bias", "kernel_initializer", "bias_initializer")
_CONVT_POS = ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
              "dilation_rate", "activation", "use_bias", "kernel_initializer", "bias_initializer")
_CONV3T_POS = ("filters", "kernel_size", "strides", "padding", "data_format", "output_padding",
               "dilation_rate", "activation", "use_bias", "kernel_initializer", "bias_initializer")
_SEP_POS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
            "depth_multiplier", "activation", "use_bias", "depthwise_initializer",
            "pointwise_initializer", "bias_initializer")
_DW_POS = ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
           "activation", "use_bias", "depthwise_initializer", "bias_initializer")
_RNN_W = {"kernel": ("kernel_initializer", "glorot_uniform"),
          "recurrent": ("recurrent_initializer", "orthogonal"),
          "bias": ("bias_initializer", "zeros")}


def _layers() -> Dict[str, LayerDef]:
    out: Dict[str, LayerDef] = {
        "Dense": LayerDef("dense", ("units", "activation", "use_bias", "kernel_initializer",
                                    "bias_initializer"), _DENSE_W, width="units"),
        "EinsumDense": LayerDef("dense", ("equation", "output_shape", "activation", "bias_axes",
                                          "kernel_initializer", "bias_initializer"), _DENSE_W,
                                width="output_shape"),
        "Embedding": LayerDef("embedding", ("input_dim", "output_dim", "embeddings_initializer"),
                              {"embeddings": ("embeddings_initializer", "uniform")}, None,
                              width="output_dim"),
        "SimpleRNN": LayerDef("recurrent", ("units", "activation", "use_bias", "kernel_initializer",
                                            "recurrent_initializer", "bias_initializer"), _RNN_W,
                              ("activation", "tanh"), width="units"),
        "LSTM": LayerDef("recurrent", ("units", "activation", "recurrent_activation", "use_bias",
                                       "kernel_initializer", "recurrent_initializer",
                                       "bias_initializer", "unit_forget_bias"), _RNN_W,
                         ("activation", "tanh"), gates=4, width="units"),
        "GRU": LayerDef("recurrent", ("units", "activation", "recurrent_activation", "use_bias",
                                      "kernel_initializer", "recurrent_initializer",
                                      "bias_initializer"), _RNN_W, ("activation", "tanh"), gates=3,
                        width="units"),
        "MultiHeadAttention": LayerDef("attention", ("num_heads", "key_dim", "value_dim", "dropout",
                                                     "use_bias", "output_shape", "attention_axes"),
                                       _DENSE_W, None),
    }
    for cell, base in (("SimpleRNNCell", "SimpleRNN"), ("LSTMCell", "LSTM"), ("GRUCell", "GRU")):
        out[cell] = out[base]
    for r in (1, 2, 3):
        conv = LayerDef("conv", _CONV_POS, _DENSE_W, rank=r, width="filters")
        convt = LayerDef("conv_transpose", _CONV3T_POS if r == 3 else _CONVT_POS, _DENSE_W, rank=r,
                         width="filters")
        out[f"Conv{r}D"] = out[f"Convolution{r}D"] = conv
        out[f"Conv{r}DTranspose"] = out[f"Convolution{r}DTranspose"] = convt
    for r in (1, 2):
        sep = LayerDef("separable_conv", _SEP_POS,
                       {"depthwise": ("depthwise_initializer", "glorot_uniform"),
                        "pointwise": ("pointwise_initializer", "glorot_uniform"),
                        "bias": ("bias_initializer", "zeros")}, rank=r, width="filters")
        out[f"SeparableConv{r}D"] = out[f"SeparableConvolution{r}D"] = sep
        out[f"DepthwiseConv{r}D"] = LayerDef(
            "depthwise_conv", _DW_POS, {"depthwise": ("depthwise_initializer", "glorot_uniform"),
                                        "bias": ("bias_initializer", "zeros")}, rank=r)
    return out


LAYERS: Dict[str, LayerDef] = _layers()


def _mul(*xs: Optional[int]) -> Optional[int]:
    known = [x for x in xs if x is not None]
    return int(math.prod(known)) if len(known) == len(xs) else None


def kernel_fans(defn: LayerDef, role: str, c_in: Optional[int], width: Optional[int],
                k: Optional[int] = 1, depth_multiplier: Optional[int] = 1,
                groups: Optional[int] = 1, input_dim: Optional[int] = None
                ) -> Tuple[Optional[int], Optional[int]]:
    """(fan_in, fan_out) of a weight as Keras 3's ``compute_fans`` sees the kernel it builds.

    ``k`` is the receptive-field size, ``width`` the layer's output width. Transposed convs lay
    their kernel out as (..., filters, C_in), so their fan_in uses the *output* filters; a
    depthwise kernel's fan_in includes C_in (PyTorch's does not).
    """
    kind = defn.kind
    if role == "depthwise":
        return _mul(k, c_in), _mul(k, depth_multiplier)
    if role == "pointwise":
        return _mul(c_in, depth_multiplier), width
    if kind == "dense":
        return (c_in, width) if defn.width == "units" else (None, None)  # EinsumDense: axes
    if kind == "conv":
        per_group = c_in // groups if c_in and groups else None
        return _mul(k, per_group), _mul(k, width)
    if kind == "conv_transpose":
        return _mul(k, width), _mul(k, c_in)
    if kind == "recurrent":
        gated = _mul(width, defn.gates)
        return (c_in, gated) if role == "kernel" else (width, gated)
    if kind == "embedding":
        return input_dim, width
    return None, None


def output_width(defn: LayerDef, width: Optional[int], c_in: Optional[int],
                 depth_multiplier: Optional[int] = 1) -> Optional[int]:
    """The last-axis size of the layer's output."""
    if defn.kind == "depthwise_conv":
        return _mul(c_in, depth_multiplier)
    return width

#: Keras 1 keyword names, mapped to the Keras 2/3 keyword for kernel-bearing layers.
KERAS1_KWARGS = {"init": "kernel_initializer", "inner_init": "recurrent_initializer",
                 "output_dim": "units", "nb_filter": "filters"}
#: Keras 1's initializer arguments and the weights they set, by role (Keras 2.2's
#: ``legacy/interfaces.py``): ``init`` is the kernel's, the embeddings', PReLU's alpha, or a
#: separable convolution's depthwise and pointwise kernels.
KERAS1_INIT_KWARGS = {"init": ("kernel", "embeddings", "alpha", "depthwise", "pointwise"),
                      "inner_init": ("recurrent",)}
#: Keras 1's module of initializers, renamed ``keras.initializers`` in Keras 2.0; its
#: functions took a shape (``initializations.normal(shape, scale=0.05)``), so only the
#: import's name carries over, not the calls.
KERAS1_MODULE = "initializations"
#: What Keras 3 says of it (run: ``from keras import initializations``, Keras 3.15).
KERAS1_MODULE_GONE = ("Keras 2 and 3: ImportError: cannot import name 'initializations' from "
                      "'keras'; Keras 2.0 renamed the module keras.initializers, whose "
                      "initializers are classes called with a shape")
#: What Keras 3 and tf.keras (Keras 2) say of a Keras 1 argument (run: ``Dense(4, init=...)``).
KERAS1_REJECTED = ("Keras 3: ValueError: Unrecognized keyword arguments passed to {layer}: "
                   "{{'{kw}': ...}} (tf.keras: TypeError: Keyword argument not understood)")

# --- activations ------------------------------------------------------------------------------

#: Keras activation strings (Keras 3 ``activations.get``; case-sensitive) -> canonical name.
ACTIVATION_STRINGS: Dict[str, str] = {
    "linear": "linear", "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu",
    "elu": "elu", "celu": "celu", "selu": "selu", "gelu": "gelu", "silu": "silu", "swish": "silu",
    "mish": "mish", "hard_silu": "hardswish", "hard_swish": "hardswish", "softplus": "softplus",
    "tanh": "tanh", "sigmoid": "sigmoid", "hard_sigmoid": "hard_sigmoid", "hard_tanh": "hard_tanh",
    "softsign": "softsign", "softmax": "softmax", "log_softmax": "softmax", "sparsemax": "softmax",
    "exponential": "exponential", "glu": "other", "log_sigmoid": "other", "squareplus": "other",
    "sparse_plus": "other", "sparse_sigmoid": "other", "hard_shrink": "other",
    "soft_shrink": "other", "tanh_shrink": "other", "threshold": "other",
}

#: Slopes that differ between spellings: the function default is 0.2, the layer default 0.3.
LEAKY_FN_SLOPE = 0.2
LEAKY_LAYER_SLOPE = 0.3

#: Activation *functions* reachable as attributes (``keras.activations.relu``, ``tf.nn.relu``).
TF_NN_ACTIVATIONS: Dict[str, str] = {
    "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu", "elu": "elu", "selu": "selu",
    "gelu": "gelu", "silu": "silu", "swish": "silu", "tanh": "tanh", "sigmoid": "sigmoid",
    "softplus": "softplus", "softsign": "softsign", "softmax": "softmax",
    "log_softmax": "softmax",
}

#: Activation layers: class -> (canonical activation, slope keyword, default slope)
ACTIVATION_LAYERS: Dict[str, Tuple[str, Optional[str], Optional[float]]] = {
    "ReLU": ("relu", "negative_slope", 0.0),
    "LeakyReLU": ("leaky_relu", "negative_slope", LEAKY_LAYER_SLOPE),
    "PReLU": ("prelu", None, None),
    "ELU": ("elu", None, None),
    "Softmax": ("softmax", None, None),
    "ThresholdedReLU": ("relu", None, None),
}

#: Layers that let the signal through without weights of their own that matter here: an
#: activation that follows them still belongs to the layer before.
PASS_THROUGH_LAYERS = frozenset({
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
    "GaussianDropout", "GaussianNoise", "ActivityRegularization",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D",
    "AvgPool3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
    "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "Masking",
})
#: Pass-through layers that normalize the signal, dividing out the scale of the kernel before.
NORMALIZATION_LAYERS = frozenset({
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
})
#: Pass-through layers after which the last-axis size is no longer known.
RESHAPING_LAYERS = frozenset({
    "Flatten", "Reshape", "Permute", "RepeatVector", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "TimeDistributed",
})
#: Pooling that keeps the channel count (global pooling keeps channels as the last axis).
KEEPS_CHANNELS = frozenset(n for n in RESHAPING_LAYERS if n.startswith("Global"))
#: Layers that sum their inputs: whatever feeds them ends a residual branch.
SUM_LAYERS = frozenset({"Add", "add"})
#: Layers that join inputs in other ways.
MERGE_LAYERS = frozenset({"Concatenate", "concatenate", "Multiply", "multiply", "Average",
                          "average", "Subtract", "subtract", "Maximum", "maximum", "Minimum",
                          "minimum", "Dot", "dot"})

MODEL_CLASSES = frozenset({"Model", "Functional"})
SEQUENTIAL_CLASSES = frozenset({"Sequential"})
INPUT_CLASSES = frozenset({"Input", "InputLayer"})
#: Top-level module paths under which Keras lives.
ROOTS = ("keras", "tensorflow.keras", "tf_keras", "tensorflow.python.keras", "keras.src")
