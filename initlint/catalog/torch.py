"""PyTorch 2.x facts: layers, their default initialization, ``nn.init``, activations.

Data only. Every entry is checked against the real library in ``tests/test_catalog_torch.py``.
Raw tensor draws (``torch.randn``, ``np.random.randn``, ``tf.random.normal``) are here too, since
the PyTorch reader also reads weights built by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ..model import Distribution, Family

@dataclass(frozen=True)
class TorchLayerDef:
    #: dense | bilinear | conv | conv_transpose | embedding | recurrent | attention | transformer
    kind: str
    positional: Tuple[str, ...]
    #: Spatial rank of a conv kernel (1, 2, 3); 0 for others.
    rank: int = 0
    #: Recurrent gate count (weight rows = gates * hidden_size).
    gates: int = 1


_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
         "bias")
_CONVT = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
          "groups", "bias", "dilation")
_RNN = ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first",
        "dropout", "bidirectional")
_LSTM = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
         "bidirectional", "proj_size")
_TRANSFORMER = ("d_model", "nhead", "dim_feedforward", "dropout", "activation")

LAYERS: Dict[str, TorchLayerDef] = {
    "Linear": TorchLayerDef("dense", ("in_features", "out_features", "bias")),
    "LazyLinear": TorchLayerDef("dense", ("out_features", "bias")),
    "Bilinear": TorchLayerDef("bilinear", ("in1_features", "in2_features", "out_features", "bias")),
    "Conv1d": TorchLayerDef("conv", _CONV, rank=1),
    "Conv2d": TorchLayerDef("conv", _CONV, rank=2),
    "Conv3d": TorchLayerDef("conv", _CONV, rank=3),
    "ConvTranspose1d": TorchLayerDef("conv_transpose", _CONVT, rank=1),
    "ConvTranspose2d": TorchLayerDef("conv_transpose", _CONVT, rank=2),
    "ConvTranspose3d": TorchLayerDef("conv_transpose", _CONVT, rank=3),
    "Embedding": TorchLayerDef("embedding", ("num_embeddings", "embedding_dim", "padding_idx")),
    "EmbeddingBag": TorchLayerDef("embedding", ("num_embeddings", "embedding_dim")),
    "RNN": TorchLayerDef("recurrent", _RNN),
    "LSTM": TorchLayerDef("recurrent", _LSTM, gates=4),
    "GRU": TorchLayerDef("recurrent", _LSTM[:-1], gates=3),
    "RNNCell": TorchLayerDef("recurrent", ("input_size", "hidden_size", "bias", "nonlinearity")),
    "LSTMCell": TorchLayerDef("recurrent", ("input_size", "hidden_size", "bias"), gates=4),
    "GRUCell": TorchLayerDef("recurrent", ("input_size", "hidden_size", "bias"), gates=3),
    "MultiheadAttention": TorchLayerDef("attention", (
        "embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim",
        "vdim", "batch_first")),
    # Modelled by their first feed-forward Linear (linear1), the one the activation follows.
    "TransformerEncoderLayer": TorchLayerDef("transformer", _TRANSFORMER),
    "TransformerDecoderLayer": TorchLayerDef("transformer", _TRANSFORMER),
}

# --- default initialization (``reset_parameters``) ------------------------------------------

#: Linear and ConvNd: ``kaiming_uniform_(w, a=sqrt(5))`` = U(+-1/sqrt(fan_in)), Var = scale/fan_in.
DEFAULT_FAN_IN_SCALE = 1.0 / 3
#: Bilinear: U(+-1/sqrt(in1_features)); RNN/LSTM/GRU and cells: every weight
#: U(+-1/sqrt(hidden_size)). Var = 1 / (3 * that size).
DEFAULT_UNIFORM_VAR_DIVISOR = 3
#: Embedding: N(0, 1).
EMBEDDING_DEFAULT_STD = 1.0
#: MultiheadAttention's in_proj_weight: ``xavier_uniform_`` (fans E and 3E).
ATTENTION_DEFAULT: Tuple[Family, Distribution] = ("glorot", "uniform")
#: Nonlinearities built into layers, and their defaults.
RNN_NONLINEARITIES = ("tanh", "relu")
RNN_DEFAULT_NONLINEARITY = "tanh"
GATED_RNN_ACTIVATION = "tanh"  # LSTM, GRU and their cells have no nonlinearity argument
TRANSFORMER_ACTIVATIONS = ("relu", "gelu")
TRANSFORMER_DEFAULTS = {"activation": "relu", "dim_feedforward": 2048}

#: Which class an ``isinstance`` guard names matches which layer classes (beyond itself).
ISINSTANCE: Dict[str, Tuple[str, ...]] = {
    "Linear": ("Linear", "LazyLinear"),
    "_ConvNd": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
                "ConvTranspose3d"),
    "_ConvTransposeNd": ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
    "RNNBase": ("RNN", "LSTM", "GRU"),
    "RNNCellBase": ("RNNCell", "LSTMCell", "GRUCell"),
    "Module": tuple(LAYERS),
}
#: Base classes of the batch-norm modules (``isinstance(m, nn.modules.batchnorm._BatchNorm)``).
BATCHNORM_BASES = ("_BatchNorm", "_NormBase")

#: Parameter attribute names -> weight role, per layer kind.
PARAM_ROLES = {
    "weight": "kernel",
    "weight_ih": "kernel",
    "weight_hh": "recurrent",
    "in_proj_weight": "kernel",
    "q_proj_weight": "kernel",
    "bias": "bias",
    "bias_ih": "bias",
    "bias_hh": "bias",
    "in_proj_bias": "bias",
}

#: Modules that pass the signal through without weights that matter to initialization.
#: Normalization layers are listed with their kind: their weights start at 1 by design.
PASS_MODULES = {
    **{n: "norm" for n in (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d",
        "LazyBatchNorm2d", "LazyBatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
        "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm", "RMSNorm", "CrossMapLRN2d")},
    **{n: "pass" for n in (
        "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
        "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
        "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "FractionalMaxPool2d",
        "Flatten", "Unflatten", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
        "PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "ZeroPad1d", "ZeroPad2d",
        "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d",
        "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
        "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "Identity")},
}

#: Activation modules: class -> canonical name.
ACTIVATION_MODULES: Dict[str, str] = {
    "ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leaky_relu",
    "PReLU": "prelu", "RReLU": "rrelu", "ELU": "elu",
    "CELU": "celu", "SELU": "selu", "GELU": "gelu", "SiLU": "silu",
    "Mish": "mish", "Hardswish": "hardswish", "Softplus": "softplus",
    "Tanh": "tanh", "Sigmoid": "sigmoid", "Hardsigmoid": "hard_sigmoid",
    "Hardtanh": "hard_tanh", "Softsign": "softsign",
    "Softmax": "softmax", "LogSoftmax": "softmax", "Softmin": "softmax",
    "Softmax2d": "softmax", "LogSigmoid": "other", "GLU": "other",
    "Tanhshrink": "other", "Softshrink": "other", "Hardshrink": "other",
    "Threshold": "other",
}
#: PReLU's learnable slope starts at 0.25 (``init=0.25``).
PRELU_INIT = 0.25
LEAKY_SLOPE = 0.01

#: Functional activations (``torch.nn.functional.*`` and ``torch.*``) -> canonical name.
FUNCTIONAL_ACTIVATIONS: Dict[str, str] = {
    "relu": "relu", "relu_": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu",
    "leaky_relu_": "leaky_relu", "elu": "elu", "elu_": "elu", "selu": "selu", "selu_": "selu",
    "celu": "celu", "celu_": "celu", "gelu": "gelu", "silu": "silu", "mish": "mish",
    "hardswish": "hardswish", "softplus": "softplus", "tanh": "tanh", "tanh_": "tanh",
    "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "hardtanh": "hard_tanh",
    "hardtanh_": "hard_tanh", "hardsigmoid": "hard_sigmoid", "softsign": "softsign",
    "softmax": "softmax", "log_softmax": "softmax", "softmin": "softmax", "prelu": "prelu",
    "rrelu": "rrelu", "rrelu_": "rrelu", "logsigmoid": "other", "glu": "other",
}
#: Tensor methods that are activations (``x.relu()``).
TENSOR_ACTIVATIONS: Dict[str, str] = {
    "relu": "relu", "relu_": "relu", "tanh": "tanh", "tanh_": "tanh", "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid", "softmax": "softmax", "log_softmax": "softmax",
}
#: Activations of other array libraries a hand-written network uses.
OTHER_ACTIVATIONS: Dict[str, str] = {
    "numpy.tanh": "tanh", "tensorflow.nn.relu": "relu", "tensorflow.nn.relu6": "relu6",
    "tensorflow.nn.tanh": "tanh", "tensorflow.tanh": "tanh", "tensorflow.math.tanh": "tanh",
    "tensorflow.nn.sigmoid": "sigmoid", "tensorflow.sigmoid": "sigmoid",
    "tensorflow.math.sigmoid": "sigmoid", "tensorflow.nn.elu": "elu",
    "tensorflow.nn.selu": "selu", "tensorflow.nn.gelu": "gelu", "tensorflow.nn.silu": "silu",
    "tensorflow.nn.swish": "silu", "tensorflow.nn.leaky_relu": "leaky_relu",
    "tensorflow.nn.softmax": "softmax",
}
#: ``tf.nn.leaky_relu``'s default slope.
TF_LEAKY_SLOPE = 0.2

#: Functions that pass a tensor through (first argument) without weights.
FUNCTIONAL_PASS = frozenset({
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "max_pool1d", "max_pool2d",
    "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "interpolate", "upsample", "pad", "batch_norm", "layer_norm",
    "group_norm", "instance_norm", "normalize", "pixel_shuffle", "flatten", "reshape",
    "squeeze", "unsqueeze", "transpose", "permute", "contiguous",
})
#: Reductions whose result is a statistic of the tensor (``x.mean(dim)``, ``torch.var(x)``):
#: used as a tensor it passes the signal on (global average pooling); dividing the signal by it
#: renormalizes the signal.
TENSOR_STATISTICS = frozenset({"mean", "sum", "var", "std", "norm", "vector_norm", "amax"})
#: Functions that keep a statistic a statistic (``torch.sqrt(var + eps)``), and those of them
#: that invert it (``torch.rsqrt``).
STATISTIC_FUNCTIONS = frozenset({"sqrt", "rsqrt", "reciprocal", "abs", "clamp", "clamp_min",
                                 "clip", "pow", "square", "add", "sub", "mul", "div",
                                 "unsqueeze", "view", "reshape", "expand_as", "detach"})
INVERTING = frozenset({"rsqrt", "reciprocal"})
#: Tensor methods that pass a tensor through.
TENSOR_PASS = frozenset({
    "view", "reshape", "flatten", "permute", "transpose", "contiguous", "squeeze", "unsqueeze",
    "to", "float", "double", "half", "type", "type_as", "view_as", "reshape_as", "expand",
    "expand_as", "repeat", "mean", "sum", "max_pool2d", "cuda", "cpu", "clone", "detach",
})
#: Loss functions: a tensor passed to one is a model's output.
LOSS_FUNCTIONS = frozenset({
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    "ctc_loss", "margin_ranking_loss", "triplet_margin_loss", "poisson_nll_loss",
})
#: Functions that join tensors (their producers all continue).
JOIN_FUNCTIONS = frozenset({"cat", "concat", "concatenate", "stack", "hstack", "vstack"})

# --- torch.nn.init --------------------------------------------------------------------------


@dataclass(frozen=True)
class InitFn:
    #: he | glorot | fixed | constant | orthogonal | identity | special
    family: str
    distribution: str
    positional: Tuple[str, ...]


INIT_FUNCTIONS: Dict[str, InitFn] = {
    "uniform_": InitFn("fixed", "uniform", ("tensor", "a", "b", "generator")),
    "normal_": InitFn("fixed", "normal", ("tensor", "mean", "std", "generator")),
    "trunc_normal_": InitFn("fixed", "normal", ("tensor", "mean", "std", "a", "b", "generator")),
    "constant_": InitFn("constant", "constant", ("tensor", "val")),
    "ones_": InitFn("constant", "constant", ("tensor",)),
    "zeros_": InitFn("constant", "constant", ("tensor",)),
    "eye_": InitFn("identity", "eye", ("tensor",)),
    "dirac_": InitFn("identity", "eye", ("tensor", "groups")),
    "xavier_uniform_": InitFn("glorot", "uniform", ("tensor", "gain", "generator")),
    "xavier_normal_": InitFn("glorot", "normal", ("tensor", "gain", "generator")),
    "kaiming_uniform_": InitFn("he", "uniform", ("tensor", "a", "mode", "nonlinearity",
                                                 "generator")),
    "kaiming_normal_": InitFn("he", "normal", ("tensor", "a", "mode", "nonlinearity",
                                               "generator")),
    "orthogonal_": InitFn("orthogonal", "orthogonal", ("tensor", "gain", "generator")),
    "sparse_": InitFn("special", "other", ("tensor", "sparsity", "std", "generator")),
}
#: The deprecated non-underscore spellings (they warn and call the underscore form).
DEPRECATED_INIT = {n[:-1]: n for n in (
    "uniform_", "normal_", "constant_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")}

#: ``nn.init`` names people write that do not exist (AttributeError), with the function meant.
MISSING_INIT = {"zeros": "zeros_", "ones": "ones_", "zero": "zeros_", "one": "ones_",
                "trunc_normal": "trunc_normal_", "zero_": "zeros_", "one_": "ones_"}
#: PyTorch's warning for a deprecated spelling.
TORCH_DEPRECATION_MSG = "`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`."

#: ``calculate_gain`` without a parameter. ``leaky_relu`` is sqrt(2 / (1 + slope^2)).
GAINS: Dict[str, float] = {
    "linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0), "selu": 0.75,
}


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> Optional[float]:
    """``torch.nn.init.calculate_gain``; None where PyTorch raises."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope * slope))
    return GAINS.get(nonlinearity)


def kaiming_gain(nonlinearity: str = "leaky_relu", a: float = 0.0) -> Optional[float]:
    """The gain ``kaiming_*_`` uses: ``calculate_gain(nonlinearity, a)`` (a=0 means slope 0)."""
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + a * a))
    return GAINS.get(nonlinearity)


#: In-place tensor methods that initialize: name -> (family, distribution, positional).
TENSOR_INIT_METHODS: Dict[str, Tuple[str, str, Tuple[str, ...]]] = {
    "normal_": ("fixed", "normal", ("mean", "std")),
    "uniform_": ("fixed", "uniform", ("from", "to")),
    "zero_": ("constant", "constant", ()),
    "fill_": ("constant", "constant", ("value",)),
    "copy_": ("unknown", "other", ("src",)),
    "trunc_normal_": ("fixed", "normal", ("mean", "std", "a", "b")),
}

# --- raw draws ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """A tensor factory: how it spells its shape and its distribution's parameters."""

    #: normal | uniform | constant | uninitialized | truncated_normal_raw
    distribution: str
    #: "varargs" (shape as ``*size``), or the name of the shape parameter.
    shape: str
    positional: Tuple[str, ...] = ()
    defaults: Tuple[Tuple[str, float], ...] = ()
    framework: str = "torch"


DRAWS: Dict[str, Draw] = {
    "torch.randn": Draw("normal", "varargs"),
    "torch.rand": Draw("uniform", "varargs", defaults=(("low", 0.0), ("high", 1.0))),
    "torch.zeros": Draw("constant", "varargs", defaults=(("value", 0.0),)),
    "torch.ones": Draw("constant", "varargs", defaults=(("value", 1.0),)),
    "torch.empty": Draw("uninitialized", "varargs"),
    "torch.Tensor": Draw("uninitialized", "varargs"),
    "torch.FloatTensor": Draw("uninitialized", "varargs"),
    "torch.full": Draw("constant", "size", ("size", "fill_value")),
    "numpy.random.randn": Draw("normal", "varargs", framework="numpy"),
    "numpy.random.standard_normal": Draw("normal", "size", ("size",), framework="numpy"),
    "numpy.random.rand": Draw("uniform", "varargs", defaults=(("low", 0.0), ("high", 1.0)),
                              framework="numpy"),
    "numpy.random.normal": Draw("normal", "size", ("loc", "scale", "size"),
                                (("loc", 0.0), ("scale", 1.0)), framework="numpy"),
    "numpy.random.uniform": Draw("uniform", "size", ("low", "high", "size"),
                                 (("low", 0.0), ("high", 1.0)), framework="numpy"),
    "numpy.zeros": Draw("constant", "shape", ("shape",), (("value", 0.0),), framework="numpy"),
    "numpy.ones": Draw("constant", "shape", ("shape",), (("value", 1.0),), framework="numpy"),
    "tensorflow.random.normal": Draw("normal", "shape", ("shape", "mean", "stddev"),
                                     (("mean", 0.0), ("stddev", 1.0)), framework="tensorflow"),
    "tensorflow.random_normal": Draw("normal", "shape", ("shape", "mean", "stddev"),
                                     (("mean", 0.0), ("stddev", 1.0)), framework="tensorflow"),
    "tensorflow.random.truncated_normal": Draw(
        "truncated_normal_raw", "shape", ("shape", "mean", "stddev"),
        (("mean", 0.0), ("stddev", 1.0)), framework="tensorflow"),
    "tensorflow.truncated_normal": Draw(
        "truncated_normal_raw", "shape", ("shape", "mean", "stddev"),
        (("mean", 0.0), ("stddev", 1.0)), framework="tensorflow"),
    "tensorflow.random.uniform": Draw("uniform", "shape", ("shape", "minval", "maxval"),
                                      (("minval", 0.0), ("maxval", 1.0)), framework="tensorflow"),
    "tensorflow.random_uniform": Draw("uniform", "shape", ("shape", "minval", "maxval"),
                                      (("minval", 0.0), ("maxval", 1.0)), framework="tensorflow"),
    "tensorflow.zeros": Draw("constant", "shape", ("shape",), (("value", 0.0),),
                             framework="tensorflow"),
    "tensorflow.ones": Draw("constant", "shape", ("shape",), (("value", 1.0),),
                            framework="tensorflow"),
}
#: Wrappers that make a trainable weight out of a draw.
PARAMETER_WRAPPERS = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter",
                                "tensorflow.Variable"})
#: Matrix products: (function, index of the weight-side argument is decided by position).
MATMUL_FUNCTIONS = frozenset({"torch.matmul", "torch.mm", "torch.bmm", "numpy.dot",
                              "numpy.matmul", "tensorflow.matmul", "tensorflow.linalg.matmul"})
MATMUL_METHODS = frozenset({"mm", "matmul", "dot", "bmm"})
#: Functional layers taking (input, weight, bias, ...): weight is (out, in, *k).
FUNCTIONAL_LAYERS = {"linear": "dense", "conv1d": "conv", "conv2d": "conv", "conv3d": "conv",
                     "bilinear": "bilinear"}


def truncated_variance_factor(lo: float, hi: float) -> float:
    """Var of N(0, 1) truncated to [lo, hi] (in units of std)."""
    def pdf(x: float) -> float:
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0

    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    z = cdf(hi) - cdf(lo)
    if z <= 0:
        return 0.0
    lo_t = lo * pdf(lo) if math.isfinite(lo) else 0.0
    hi_t = hi * pdf(hi) if math.isfinite(hi) else 0.0
    mean = (pdf(lo) - pdf(hi)) / z
    return 1 + (lo_t - hi_t) / z - mean * mean
