"""IL003 unscaled-random-kernel."""

from __future__ import annotations

import math
from typing import Iterator, Optional, Tuple

from .. import checker, variance
from ..catalog import activations as A
from ..catalog import idioms
from ..model import Diagnostic, InitSpec, Layer, Network, Severity
from . import Case, Context, rule, setting
from .common import (deliberate_by_name, fmt, is_output_like, layer_label, recommended_family,
                     request_for, run_count)

#: Per-layer growth or shrinkage of the pre-activation std (against the recommended
#: initializer) beyond which an explicitly chosen scale is reported.
DEFAULT_RATIO = setting("il003-ratio", 4.0)
#: Without a known fan-in, an explicit std at least this large is reported (at fan-in 100 it
#: already gives a pre-activation std of 2).
DEFAULT_LARGE_STD = setting("il003-large-std", 0.2)


def _std_text(spec: InitSpec) -> str:
    if spec.distribution == "uniform":
        return f"U({fmt(spec.low or 0.0)}, {fmt(spec.high or 0.0)})"
    return f"std {fmt(spec.std or 0.0)}"


# --- cases: tests/test_rule_cases.py lints each with the rule selected ------------------------

_VALID = [
    # Keras: a softmax output at the default std 0.05 after He-scaled layers: small first
    # logits are what an output should start with.
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((100,)),
        layers.Dense(50, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(25, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax", kernel_initializer="random_normal"),
    ])
    """,
    # NumPy: a linear regression's parameters at a width not known, and a linear policy's
    # weights searched by hill climbing (tiny, all positive): one-layer models, nothing
    # compounds and no unit is hidden.
    """
    import numpy as np

    X_b = np.c_[np.ones((len(X), 1)), X]
    theta = np.random.randn(X_b.shape[1], 1)
    for _ in range(1000):
        theta = theta - 0.1 * 2 / len(X) * X_b.T.dot(X_b.dot(theta) - y)


    class Policy:
        def __init__(self, s_size=4, a_size=2):
            self.w = 1e-4 * np.random.rand(s_size, a_size)

        def forward(self, state):
            x = np.dot(state, self.w)
            return np.exp(x) / sum(np.exp(x))
    """,
    # PyTorch: GPT-2's std 0.02 on every Linear and Embedding, LayerNorm before the head.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class GPTBlock(nn.Module):
        def __init__(self, vocab=50257, n_embd=768):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.c_fc = nn.Linear(n_embd, 4 * n_embd)
            self.c_proj = nn.Linear(4 * n_embd, n_embd)
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx):
            x = self.wte(idx)
            x = x + self.c_proj(F.gelu(self.c_fc(x)))
            return self.lm_head(self.ln_f(x))
    """,
    # PyTorch: DCGAN's weights_init, N(0, 0.02) convolutions and N(1, 0.02) BatchNorm gammas.
    """
    import torch.nn as nn


    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)


    netD = nn.Sequential(
        nn.Conv2d(3, 64, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(128, 1, 4, 1, 0, bias=False),
        nn.Sigmoid(),
    )
    netD.apply(weights_init)
    """,
    # PyTorch: learned class and register tokens and a positional table drawn at std 1.
    """
    import torch
    import torch.nn as nn


    class ViTEmbed(nn.Module):
        def __init__(self, dim=768, num_patches=196):
            super().__init__()
            self.proj = nn.Conv2d(3, dim, 16, 16)
            self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.randn(1, num_patches + 1, dim))
            self.register_tokens = nn.Parameter(torch.randn(1, 4, dim))

        def forward(self, x):
            x = self.proj(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
            return x + self.pos_embed
    """,
    # PyTorch: a classifier head drawn small on purpose.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(512, 512)
            self.head = nn.Linear(512, 1000)
            nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
            nn.init.normal_(self.head.weight, std=0.001)

        def forward(self, x):
            return self.head(F.relu(self.fc(x)))
    """,
    # PyTorch: a learned query of attention pooling, drawn at std 1.
    """
    import torch
    import torch.nn as nn


    class AttentionPool(nn.Module):
        def __init__(self, dim=256):
            super().__init__()
            self.query = nn.Parameter(torch.randn(dim, 1))
            self.proj = nn.Linear(dim, 10)

        def forward(self, x):
            weights = torch.softmax(x @ self.query, dim=1)
            return self.proj((weights * x).sum(1))
    """,
    # Keras: the DCGAN discriminator of the keras.io example, RandomNormal(stddev=0.02).
    """
    import keras
    from keras import layers, initializers

    init = initializers.RandomNormal(mean=0.0, stddev=0.02)
    discriminator = keras.Sequential([
        keras.Input((64, 64, 3)),
        layers.Conv2D(64, 4, strides=2, padding="same", kernel_initializer=init),
        layers.LeakyReLU(0.2),
        layers.Conv2D(128, 4, strides=2, padding="same", kernel_initializer=init),
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])
    """,
    # Keras: a softmax output drawn small on purpose.
    """
    import keras
    from keras import layers, initializers

    model = keras.Sequential([
        keras.Input((512,)),
        layers.Dense(512, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax",
                     kernel_initializer=initializers.RandomNormal(stddev=0.001)),
    ])
    """,
    # Keras: a detector's score and box convolutions at the default truncated_normal, built
    # in build() with the fan-in unknown and returned reshaped: output heads.
    """
    import keras
    import tensorflow as tf


    class RPNHead(keras.layers.Layer):
        def build(self, input_shape):
            self.objectness = keras.layers.Conv2D(3, 1, kernel_initializer="truncated_normal")
            self.deltas = keras.layers.Conv2D(12, 1, kernel_initializer="truncated_normal")

        def call(self, feature_map):
            def level(f):
                return (tf.reshape(self.deltas(f), [-1, 4]),
                        tf.reshape(self.objectness(f), [-1, 1]))
            return level(feature_map)
    """,
    # NumPy: the data a from-scratch regression draws is not a weight.
    """
    import numpy as np

    X = np.random.randn(200, 3)
    true_w = np.array([[2.0], [-1.0], [0.5]])
    y = X @ true_w + 0.1 * np.random.randn(200, 1)
    theta = np.zeros((3, 1))
    for _ in range(100):
        theta -= 0.1 * X.T @ (X @ theta - y) / 200
    """,
    # NumPy: draws scaled by the fan-in.
    """
    import numpy as np


    def relu(z):
        return np.maximum(z, 0)


    n_in, n_hidden = 784, 128
    W1 = np.random.randn(n_in, n_hidden) * np.sqrt(2 / n_in)
    W2 = np.random.randn(n_hidden, 10) / np.sqrt(n_hidden)


    def forward(X):
        return relu(X @ W1) @ W2
    """,
]

_INVALID = [
    # An output layer's std 1 after a He-scaled hidden layer: logits of std 16 at the start,
    # worth a word, not an alarm (at most info).
    Case("""
        import numpy as np

        W1 = np.random.randn(784, 256) * np.sqrt(2 / 784)
        W2 = np.random.randn(256, 10)
        logits = np.maximum(x @ W1, 0) @ W2
        """, line=4, severity="info"),
    Case("""
        from keras import layers


        def block(features):
            hidden = layers.Dense(64, activation="relu", kernel_initializer="normal")(features)
            return layers.Dense(64, activation="relu")(hidden)
        """, line=5, fixed="""
        from keras import layers


        def block(features):
            hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")(features)
            return layers.Dense(64, activation="relu")(hidden)
        """),
    # The seed stays; normal stays normal.
    Case("""
        import keras
        from keras import layers, initializers

        model = keras.Sequential([
            keras.Input((250,)),
            layers.Dense(100, activation="sigmoid",
                         kernel_initializer=initializers.RandomNormal(stddev=1.0, seed=7)),
            layers.Dense(1),
        ])
        """, line=7, fixed="""
        import keras
        from keras import layers, initializers

        model = keras.Sequential([
            keras.Input((250,)),
            layers.Dense(100, activation="sigmoid",
                         kernel_initializer=initializers.GlorotNormal(seed=7)),
            layers.Dense(1),
        ])
        """),
    # Keras: a small std outside the convention, 4x too small for this width.
    Case("""
        import keras
        from keras import layers, initializers

        model = keras.Sequential([
            keras.Input((768,)),
            layers.Dense(3072, activation="gelu",
                         kernel_initializer=initializers.TruncatedNormal(stddev=0.002)),
            layers.Dense(768),
        ])
        """, line=7),
    Case("""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(512, 512)
                self.fc2 = nn.Linear(512, 10)
                nn.init.normal_(self.fc1.weight)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
        """, line=10, fixed="""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(512, 512)
                self.fc2 = nn.Linear(512, 10)
                nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
        """),
    # U(0, 1) has mean 0.5.
    Case("""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
        net[0].weight.data.uniform_()
        """, line=4, fixed="""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
        nn.init.xavier_uniform_(net[0].weight.data, gain=nn.init.calculate_gain("tanh"))
        """),
    Case("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w1 = nn.Parameter(torch.randn(256, 784))
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                return self.fc2(F.relu(F.linear(x, self.w1)))
        """, line=9, fixed="""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w1 = nn.Parameter(torch.randn(256, 784) * (2 / 784) ** 0.5)
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                return self.fc2(F.relu(F.linear(x, self.w1)))
        """),
    Case("""
        import numpy as np


        def relu(z):
            return np.maximum(z, 0)


        n_in, n_hidden = 784, 128
        W1 = np.random.randn(n_in, n_hidden)
        W2 = np.random.randn(n_hidden, 10) * np.sqrt(2 / n_hidden)


        def forward(X):
            return relu(X @ W1) @ W2
        """, line=9, fixed="""
        import numpy as np


        def relu(z):
            return np.maximum(z, 0)


        n_in, n_hidden = 784, 128
        W1 = np.random.randn(n_in, n_hidden) * np.sqrt(2 / n_in)
        W2 = np.random.randn(n_hidden, 10) * np.sqrt(2 / n_hidden)


        def forward(X):
            return relu(X @ W1) @ W2
        """),
]


@rule("IL003", "unscaled-random-kernel", "warning", fix="unsafe", severities=("info", "warning"),
      summary="Random kernel whose variance ignores fan-in (bare normal/uniform)",
      example="""
          import keras
          from keras import layers

          model = keras.Sequential([
              layers.Dense(64, activation="relu", kernel_initializer="normal"),
              layers.Dense(64, activation="relu"),
              layers.Dense(10),
          ])
      """,
      fixed="""
          import keras
          from keras import layers

          model = keras.Sequential([
              layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
              layers.Dense(64, activation="relu"),
              layers.Dense(10),
          ])
      """,
      finding="Dense: normal (std 0.05) ignores fan-in; use he_normal",
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for random kernels whose variance does not depend on the layer's fan-in: the bare
    strings `'normal'`, `'uniform'`, `'random_normal'`, `'random_uniform'`,
    `'truncated_normal'`; `RandomNormal()`, `RandomUniform()` and `TruncatedNormal()` left at
    their defaults (std 0.05, or U(-0.05, 0.05)); a large explicit std such as
    `RandomNormal(stddev=1.0)`; and a uniform draw with a nonzero mean.

    In PyTorch: `nn.init.normal_(w)` and `w.data.normal_()` (std 1), `nn.init.uniform_(w)` and
    `w.uniform_()` (U(0, 1), which also has mean 0.5), and weights drawn by hand:
    `nn.Parameter(torch.randn(out, in))`, `torch.randn(n_in, n_out, requires_grad=True)`,
    `np.random.randn(n_in, n_out)` and `tf.Variable(tf.random.normal([n_in, n_out]))` used as a
    weight matrix. A scale factor in the expression (`* np.sqrt(2 / n_in)`) makes the draw
    scaled, and so does rescaling the weight where it is used (StyleGAN's equalized learning
    rate).

    An explicit std between 0.01 and 0.02 is a convention, not an oversight (GPT-2, BERT, ViT
    and DCGAN use 0.02 with normalization layers after it), and is not reported. Another
    explicit std is reported only when the fan-in is known and the
    pre-activation std would grow or shrink by more than 4x against the recommended
    initializer, or, with the fan-in unknown, when it is 0.2 or more. Output layers with an
    explicit scale are left alone.

    A default scale is judged by the variance checker at the layer's width: within 2x of the
    recommended pre-activation std it is not reported (std 1 at fan-in 2 is fine), nor is a
    larger one into tanh or sigmoid units while at most 10% of them saturate (their output
    is bounded, so nothing grows past them). A one-layer model (a linear or logistic
    regression) is reported only when its scale is more than 4x off, since nothing
    compounds; at an unknown width, only when the user wrote the scale, and then as `info`.
    An output layer that makes logits is reported only when its scale is too large (small
    first logits are what an output should start with), and at most as `info` unless its
    units saturate. A nonzero mean at a small scale is reported on hidden layers only: output
    units get their own gradients from their own targets.

    ## Why is this bad?
    The pre-activation std of a layer is std(W) * sqrt(fan_in) for unit inputs. With std 0.05
    that is 0.18 at fan-in 13 (the signal shrinks layer by layer) and 1.6 at fan-in 1024 (it
    grows); with std 1 it is 15.8 at fan-in 250, where 77% of sigmoid units have a derivative
    below 0.01 (saturated). Variance-scaled initializers (He, Glorot, LeCun) divide by the fan
    so the std stays near 1 at every width.

    ## Fix
    Replaces the initializer with the variance-scaled one of the same distribution that fits
    the activation (He for the ReLU family, Glorot for tanh/sigmoid/linear, LeCun for SELU),
    keeping the seed. The fix is unsafe: the user may have chosen the scale.
    """
    ratio_limit = float(ctx.settings.get("il003-ratio", DEFAULT_RATIO))
    large_std = float(ctx.settings.get("il003-large-std", DEFAULT_LARGE_STD))
    for w in layer.kernels:
        spec = w.init
        if spec.family != "fixed":
            continue
        req = request_for(layer, spec)
        new = ctx.name(layer, req)
        alone = not layer.next and not any(layer in other.next for other in ctx.network.layers)
        msg = _message(layer, spec, w.fan_in, w.fan_out, ratio_limit, large_std, new, alone,
                       _compounds(layer, ctx.network))
        if msg is None:
            continue
        fix = ctx.fix(layer, w, req, "unsafe", f"Use {new}")
        # An output's first logits, or a one-layer model at a width not known: at most info.
        severity: Severity = ("info" if _logits(layer, spec, w.fan_in, w.fan_out)
                              or (alone and w.fan_in is None) else "warning")
        yield Diagnostic("IL003", severity, msg, spec.node if spec.node is not None else layer.node,
                         fix)


def _output_logits(layer: Layer) -> bool:
    """An output layer whose activation makes logits or probabilities (linear, softmax,
    sigmoid); a ReLU "output" is a hidden layer whose consumer is not seen."""
    act = layer.activation.name
    facts = A.facts(act)
    return is_output_like(layer) and (act in ("linear", "unknown", "sigmoid") or (
        facts is not None and facts.family == "output"))


def _logits(layer: Layer, spec: InitSpec, fan_in: Optional[int], fan_out: Optional[int]
            ) -> bool:
    """An output layer whose units do not saturate: its scale sets the first logits, not a
    signal that compounds, so its finding is at most info. A saturated tanh or sigmoid output
    loses its gradient and stays a warning."""
    if not _output_logits(layer):
        return False
    if fan_in is None:
        return True
    _, sat = _checked(layer, spec, fan_in, fan_out)
    return sat is None or sat <= 0.1


def _checked(layer: Layer, spec: InitSpec, fan_in: int, fan_out: Optional[int]
             ) -> Tuple[Optional[float], Optional[float]]:
    """One layer through the variance checker: (pre-activation std, saturated fraction) for
    N(0, 1) inputs. The saturated fraction is None for activations that do not saturate."""
    act = layer.activation
    name = act.name if act.known and checker.activation_functions(act.name, act.params) \
        else "linear"
    try:
        r = checker.analytic([checker.Step(fan_in, fan_out or fan_in, name, spec,
                                           dict(act.params))]).steps[0]
    except checker.Unsupported:
        return None, None
    return r.forward_std, (r.saturated if name in ("tanh", "sigmoid") else None)


def _message(layer: Layer, spec: InitSpec, fan_in: Optional[int], fan_out: Optional[int],
             ratio_limit: float, large_std: float, new: str, alone: bool = False,
             compounds: bool = True) -> Optional[str]:
    var = variance.weight_variance(spec)
    if var is None:
        return None
    eq_std = math.sqrt(var + spec.mean**2)
    if _chosen_scale(spec) and idioms.convention_std(eq_std):
        return None  # the deliberate small std of transformers and DCGAN (idioms.CONVENTION_STD)
    if _nonzero_mean(spec) and (alone or is_output_like(layer)) \
            and eq_std * math.sqrt(fan_in or 1) <= 1.0:
        # Units that start alike matter only when they are hidden: an output unit (a linear
        # policy's action, a regression's weight) gets its own gradient from its own target.
        # Only the scale is left to judge, and it is small.
        return None
    if fan_in is not None:
        return _at_fan_in(layer, spec, fan_in, fan_out, ratio_limit, new, alone, eq_std)
    if _chosen_scale(spec) and (eq_std < large_std or is_output_like(layer)
                                or layer.residual_branch_end):
        return None
    if alone and not spec.explicit_scale:
        # A one-layer model at a width not known (a linear regression's theta = randn(n, 1)):
        # nothing compounds, and no figure says the default scale is off.
        return None
    if not layer.next and layer.activation.name in ("linear", "unknown") \
            and not spec.explicit_scale and not _nonzero_mean(spec):
        # A framework's default std, no fan-in, no activation and nothing seen after it: an
        # output head as like as not (a detector's box and score convolutions).
        return None
    if eq_std < large_std and not _nonzero_mean(spec) and not compounds:
        # A small std at an unknown width on a layer with nothing seen to compound with (an
        # RPN's one 3x3 conv before its heads): the scale may well be right for that width.
        return None
    head, why = _head(layer, spec)
    return (f"{head}; use {new}\n{why}Pre-activation std ≈ {fmt(eq_std)}·√fan_in: "
            f"{fmt(eq_std * math.sqrt(64))} at fan-in 64, {fmt(eq_std * math.sqrt(1024))} at "
            f"fan-in 1024; {new} scales with the fan.")


def _compounds(layer: Layer, network: Network) -> bool:
    """Whether the layer's run holds another layer with an activation, through which a scale
    wrong for the width would compound. False when the layer's place is not known."""
    return run_count(layer, network, lambda a: a not in ("linear", "unknown")) >= 2


def _nonzero_mean(spec: InitSpec) -> bool:
    return abs(spec.mean) > 1e-12


def _chosen_scale(spec: InitSpec) -> bool:
    """A zero-mean scale the user wrote (``stddev=0.02``): judged more leniently than a
    default's, since it may be deliberate."""
    return spec.explicit_scale and not _nonzero_mean(spec)


def _what(spec: InitSpec) -> str:
    """The initializer with its scale: ``normal (std 0.05)``, or its display when that shows
    the scale already (``RandomNormal(stddev=1.0)``)."""
    scale = _std_text(spec)
    shown = scale.split(" ")[-1].strip("()")
    if "(" in spec.display and shown in spec.display:
        return spec.display
    return f"{spec.display} ({scale})"


def _head(layer: Layer, spec: InitSpec) -> Tuple[str, str]:
    """The start of the first line (what is wrong), and the start of the details (why, for a
    nonzero mean; else empty)."""
    label = layer_label(layer)
    if _nonzero_mean(spec):
        return (f"{label}: {spec.display} has mean {fmt(spec.mean)}, so units start correlated",
                "Every weight has the same sign, so all units see nearly the same input at "
                "first, and the variance ignores fan-in. ")
    return f"{label}: {_what(spec)} ignores fan-in", ""


def _left_alone(layer: Layer, spec: InitSpec, ratio: float, ratio_limit: float,
                saturating: bool, alone: bool, bounded: bool) -> bool:
    """Whether a draw at a known fan-in is not reported: a scale the user chose on an output,
    a residual end or a layer named as deliberate, or one within ``ratio_limit`` of the
    recommended; or a one-layer model the draw does no harm to."""
    if _chosen_scale(spec):
        if is_output_like(layer) or layer.residual_branch_end or deliberate_by_name(layer):
            return True
        if 1 / ratio_limit <= ratio <= ratio_limit:
            return True
    if ratio < 1 and _output_logits(layer):
        return True  # small first logits are what an output should start with
    if alone:
        # A one-layer model (a linear or logistic regression's W = randn(n_in, 1)): no depth
        # for the scale to compound over, and with cross-entropy a saturated output still
        # gets its full gradient (p - y). Only a scale far off the width is worth a word.
        return 1 / ratio_limit <= ratio <= ratio_limit
    if not saturating and (0.5 <= ratio <= 2 or (ratio > 1 and bounded)):
        # Within 2x of the recommended std (std 1 at fan-in 2), or larger into tanh or sigmoid
        # units that do not saturate: their output is bounded, so nothing grows past them.
        return True
    return False


def _at_fan_in(layer: Layer, spec: InitSpec, fan_in: int, fan_out: Optional[int],
               ratio_limit: float, new: str, alone: bool, eq_std: float) -> Optional[str]:
    """The message for a draw whose fan-in is known, judged by the variance checker."""
    pre, sat = _checked(layer, spec, fan_in, fan_out)
    rec, _ = _checked(layer, variance.family_spec(recommended_family(layer)), fan_in, fan_out)
    if pre is None or rec is None or rec == 0:
        return None
    ratio = pre / rec
    saturating = sat is not None and sat > 0.1
    if _left_alone(layer, spec, ratio, ratio_limit, saturating, alone, sat is not None):
        return None
    head, why = _head(layer, spec)
    nonzero_mean = _nonzero_mean(spec)
    consequence = "the signal shrinks" if ratio < 1 else "the signal grows"
    first = (f"{head}; use {new}" if nonzero_mean else
             f"{head}: pre-activation std {fmt(pre)} (fan-in {fan_in}); use {new}")
    if saturating:
        assert sat is not None
        units = f"{fmt(sat * 100)}% of {layer.activation.name} units"
        consequence = f"{units} saturate (f' < 0.01)"
        if not nonzero_mean:
            first = (f"{layer_label(layer)}: {_what(spec)} saturates {units} at fan-in "
                     f"{fan_in}; use {new}")
    return (f"{first}\n{why}Pre-activation std ≈ std(W)·√fan_in = {fmt(eq_std)}·√{fan_in} "
            f"= {fmt(pre)} for unit inputs: {consequence}; with {new} it would be "
            f"{fmt(rec)}.")
