"""IL002 glorot-with-relu."""

from __future__ import annotations

from typing import Iterator

from .. import variance
from ..catalog import activations as A
from ..model import Diagnostic, InitSpec, Layer, Weight
from . import Case, Context, rule
from .common import fmt, layer_label, relative_drift, request_for, run_of, std_factor
from .default_drift import threshold


# --- cases: tests/test_rule_cases.py lints each with the rule selected ------------------------

_VALID = [
    # Glorot is the right choice for tanh.
    """
    from keras import layers

    hidden = layers.Dense(64, activation="tanh", kernel_initializer="glorot_uniform")
    """,
    # Keras: normalized before its activation, the kernel's scale is divided out.
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(64, kernel_initializer="glorot_uniform"),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Dense(10),
    ])
    """,
    # Keras: left at the default Glorot, which is IL102's.
    """
    from keras import layers

    hidden = layers.Dense(64, activation="relu")
    """,
    # PyTorch: a transformer MLP block inside a residual branch, its scale added, not
    # compounded.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class MLPBlock(nn.Module):
        def __init__(self, dim=512):
            super().__init__()
            self.norm = nn.LayerNorm(dim)
            self.fc1 = nn.Linear(dim, 4 * dim)
            self.fc2 = nn.Linear(4 * dim, dim)
            nn.init.xavier_uniform_(self.fc1.weight)
            nn.init.xavier_uniform_(self.fc2.weight)

        def forward(self, x):
            return x + self.fc2(F.gelu(self.fc1(self.norm(x))))
    """,
    # PyTorch: Xavier with ReLU's gain is He's variance.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 256)
            self.fc2 = nn.Linear(256, 10)
            nn.init.xavier_uniform_(self.fc1.weight, gain=nn.init.calculate_gain("relu"))

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))
    """,
    # PyTorch: the output layer has no ReLU.
    """
    import torch.nn as nn

    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    nn.init.xavier_uniform_(net[2].weight)
    """,
    # Keras: each layer's input divided by its norm (the forward-forward algorithm): the
    # signal is renormalized before every layer, so nothing compounds.
    """
    import keras
    import tensorflow as tf
    from keras import layers

    inputs = keras.Input((784,))
    x = inputs
    for units in (500, 500, 500):
        x = x / (tf.norm(x, ord=2, axis=1, keepdims=True) + 1e-4)
        x = layers.Dense(units, activation="relu", kernel_initializer="glorot_uniform")(x)
    model = keras.Model(inputs, x)
    """,
    # PyTorch: one hidden layer before the output (a siamese network's head, Xavier on every
    # Linear): its 0.71x does not compound.
    """
    import torch.nn as nn


    class Head(nn.Module):
        def __init__(self, d=512):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(d * 2, 256), nn.ReLU(), nn.Linear(256, 1))
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)

        def forward(self, a, b):
            return self.fc(torch.cat([a, b], 1)).sigmoid()
    """,
    # Keras: a diffusion model's time-embedding MLP, Glorot's fan_avg variance through a
    # helper, two SiLU layers before the embedding is added to the image features: 0.5x of
    # He's signal over two layers is not a stack that training notices.
    """
    import keras
    from keras import layers


    def kernel_init(scale):
        return keras.initializers.VarianceScaling(scale, mode="fan_avg", distribution="uniform")


    def time_mlp(units):
        def apply(t):
            t = layers.Dense(units, activation="swish", kernel_initializer=kernel_init(1.0))(t)
            return layers.Dense(units, kernel_initializer=kernel_init(1.0))(t)
        return apply


    image = keras.Input((32, 32, 64))
    t = time_mlp(256)(keras.Input((64,)))
    t = layers.Dense(64, kernel_initializer=kernel_init(1.0))(keras.activations.swish(t))
    x = layers.Add()([layers.Conv2D(64, 3, padding="same")(image), t[:, None, None, :]])
    model = keras.Model(image, layers.GroupNormalization(8)(x))
    """,
    # Keras: an encoder's stem conv (3 channels in, 64 out: Glorot keeps 0.22x of He's std),
    # then blocks normalized before their activation: one layer is not a stack, and the next
    # block's normalization divides its scale out.
    """
    import keras
    import tensorflow_addons as tfa
    from keras import layers


    def down(channels, norm=True):
        block = keras.Sequential()
        block.add(layers.Conv2D(channels, 3, strides=2, padding="same", use_bias=False,
                                kernel_initializer=keras.initializers.GlorotNormal()))
        if norm:
            block.add(tfa.layers.InstanceNormalization())
        block.add(layers.LeakyReLU(0.2))
        return block


    image = keras.Input((256, 256, 3))
    x = down(64, norm=False)(image)
    x = down(128)(x)
    x = down(256)(x)
    model = keras.Model(image, layers.Dense(8)(layers.Flatten()(x)))
    """,
    # PyTorch: three Xavier ReLU layers lose 0.35x of He's signal, less than the 4x the
    # drift rules start at.
    """
    import torch.nn as nn

    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
    """,
]

_INVALID = [
    Case("""
        from keras import layers

        x = layers.Input((64,))
        hidden = layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform")(x)
        for _ in range(3):
            hidden = layers.Dense(64, activation="relu")(hidden)
        out = layers.Dense(10)(hidden)
        """, line=4, fixed="""
        from keras import layers

        x = layers.Input((64,))
        hidden = layers.Dense(64, activation="relu", kernel_initializer="he_uniform")(x)
        for _ in range(3):
            hidden = layers.Dense(64, activation="relu")(hidden)
        out = layers.Dense(10)(hidden)
        """),
    # The class keeps its alias and seed; normal stays normal.
    Case("""
        import keras
        from keras import initializers as inits

        model = keras.Sequential([
            keras.Input((64, 8)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.GlorotNormal(seed=3)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.GlorotNormal(seed=4)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.GlorotNormal(seed=5)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.GlorotNormal(seed=6)),
            keras.layers.Dense(1),
        ])
        """, fixed="""
        import keras
        from keras import initializers as inits

        model = keras.Sequential([
            keras.Input((64, 8)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.HeNormal(seed=3)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.HeNormal(seed=4)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.HeNormal(seed=5)),
            keras.layers.Conv1D(16, 3, activation="elu",
                                kernel_initializer=inits.HeNormal(seed=6)),
            keras.layers.Dense(1),
        ])
        """),
    Case("""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(256, 256)
                self.fc2 = nn.Linear(256, 256)
                self.fc3 = nn.Linear(256, 256)
                self.fc4 = nn.Linear(256, 256)
                self.out = nn.Linear(256, 10)
                nn.init.xavier_uniform_(self.fc1.weight)
                nn.init.xavier_uniform_(self.fc2.weight, gain=1.0)
                nn.init.xavier_uniform_(self.fc3.weight)
                nn.init.xavier_uniform_(self.fc4.weight)

            def forward(self, x):
                x = F.relu(self.fc2(F.relu(self.fc1(x))))
                return self.out(F.relu(self.fc4(F.relu(self.fc3(x)))))
        """, fixed="""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(256, 256)
                self.fc2 = nn.Linear(256, 256)
                self.fc3 = nn.Linear(256, 256)
                self.fc4 = nn.Linear(256, 256)
                self.out = nn.Linear(256, 10)
                nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity="relu")
                nn.init.kaiming_uniform_(self.fc2.weight, nonlinearity="relu")
                nn.init.kaiming_uniform_(self.fc3.weight, nonlinearity="relu")
                nn.init.kaiming_uniform_(self.fc4.weight, nonlinearity="relu")

            def forward(self, x):
                x = F.relu(self.fc2(F.relu(self.fc1(x))))
                return self.out(F.relu(self.fc4(F.relu(self.fc3(x)))))
        """),
    # The leaky slope goes into the fix.
    Case("""
        from torch import nn
        from torch.nn import init
        import torch.nn.functional as F


        class Discriminator(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 64, 4, 2, 1)
                self.conv2 = nn.Conv2d(64, 64, 3, 1, 1)
                self.conv3 = nn.Conv2d(64, 64, 3, 1, 1)
                self.conv4 = nn.Conv2d(64, 64, 3, 1, 1)
                self.fc = nn.Linear(64 * 16 * 16, 1)
                init.xavier_normal_(self.conv.weight)
                init.xavier_normal_(self.conv2.weight)
                init.xavier_normal_(self.conv3.weight)
                init.xavier_normal_(self.conv4.weight)

            def forward(self, x):
                x = F.leaky_relu(self.conv(x), 0.2)
                x = F.leaky_relu(self.conv2(x), 0.2)
                x = F.leaky_relu(self.conv3(x), 0.2)
                return self.fc(F.leaky_relu(self.conv4(x), 0.2).flatten(1))
        """, fixed="""
        from torch import nn
        from torch.nn import init
        import torch.nn.functional as F


        class Discriminator(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 64, 4, 2, 1)
                self.conv2 = nn.Conv2d(64, 64, 3, 1, 1)
                self.conv3 = nn.Conv2d(64, 64, 3, 1, 1)
                self.conv4 = nn.Conv2d(64, 64, 3, 1, 1)
                self.fc = nn.Linear(64 * 16 * 16, 1)
                init.kaiming_normal_(self.conv.weight, a=0.2, nonlinearity="leaky_relu")
                init.kaiming_normal_(self.conv2.weight, a=0.2, nonlinearity="leaky_relu")
                init.kaiming_normal_(self.conv3.weight, a=0.2, nonlinearity="leaky_relu")
                init.kaiming_normal_(self.conv4.weight, a=0.2, nonlinearity="leaky_relu")

            def forward(self, x):
                x = F.leaky_relu(self.conv(x), 0.2)
                x = F.leaky_relu(self.conv2(x), 0.2)
                x = F.leaky_relu(self.conv3(x), 0.2)
                return self.fc(F.leaky_relu(self.conv4(x), 0.2).flatten(1))
        """),
]


@rule("IL002", "glorot-with-relu", "warning", fix="safe",
      summary="Explicit Glorot/Xavier initializer on a ReLU-family layer",
      example="""
          import keras
          from keras import layers

          model = keras.Sequential([
              keras.Input((256,)),
              layers.Dense(256, activation="relu", kernel_initializer="glorot_uniform"),
              layers.Dense(256, activation="relu"),
              layers.Dense(256, activation="relu"),
              layers.Dense(256, activation="relu"),
              layers.Dense(10),
          ])
      """,
      fixed="""
          import keras
          from keras import layers

          model = keras.Sequential([
              keras.Input((256,)),
              layers.Dense(256, activation="relu", kernel_initializer="he_uniform"),
              layers.Dense(256, activation="relu"),
              layers.Dense(256, activation="relu"),
              layers.Dense(256, activation="relu"),
              layers.Dense(10),
          ])
      """,
      finding="Dense (relu): glorot_uniform shrinks signal std to 0.707x per layer; use he_uniform",
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for an explicit Glorot (Xavier) initializer on a layer whose activation is in the
    ReLU family: relu, leaky_relu, elu, gelu, silu/swish, relu6, PReLU.

    ## Why is this bad?
    Glorot sets Var(W) = 2 / (fan_in + fan_out): on a square layer fan_in * Var(W) = 1, which
    preserves the signal through a *linear* unit. A ReLU zeroes half of its inputs, so
    E[relu(z)^2] = Var(z) / 2 and each layer multiplies the signal's std by 1/sqrt(2) = 0.71,
    forward and backward. Over 10 layers that is 0.71^10 = 0.03 (the variance checker gives
    0.044 from the first to the last hidden layer of a 10-layer, width-256 stack); He's
    Var(W) = 2 / fan_in keeps it at 1.0 (He et al., 2015).

    ## Fix
    Swaps Glorot for He in the same distribution (uniform stays uniform, normal stays normal),
    keeping the spelling, alias and other arguments (`GlorotNormal(seed=3)` becomes
    `HeNormal(seed=3)`). The fix is safe: it is the same family of initializer, scaled for the
    activation the layer already has.

    ## Beyond ReLU
    He is exact only for the scale-free ReLU family (relu, leaky_relu, PReLU). For the smooth
    members the variance checker (10 square layers of width 256, N(0, 1) inputs) gives:

    | activation | He (scale 2) forward / backward | scale that keeps forward at 1.0x |
    |---|---|---|
    | silu | 0.148x / 0.186x | 2.43 (backward 1.34x) |
    | gelu | 0.56x / 0.752x | 2.16 (backward 1.30x) |
    | mish | 0.73x / 0.949x | 2.11 (backward 1.30x) |
    | elu | 1.8x / 2.26x | 1.63 (backward 1.21x) |

    So He is still far better than Glorot on these, but it is not exact: for a deep SiLU or
    GELU stack without normalization, `VarianceScaling(scale=2.43, mode="fan_in")` (SiLU) or
    `scale=2.16` (GELU), or `nn.init.normal_(w, std=math.sqrt(2.43 / fan_in))`, keeps the
    forward signal. initlint's fix stays He: the standard choice, and the one
    `initlint simulate` shows next to yours.

    A layer whose output is normalized (BatchNorm, LayerNorm, GroupNorm) before its activation
    is not reported: normalization divides out the kernel's scale, so Glorot and He give the
    same signal. Neither is a layer inside a residual branch (x + F(x), as in transformer MLP
    blocks): the branch's gain is added to the signal, not multiplied into it layer after
    layer. Nor is a layer whose place initlint cannot see (nothing it reads feeds the layer or
    consumes its output): that is no evidence that anything compounds.

    ## How deep is deep enough
    The loss compounds only along a run of layers (no normalization or residual sum between
    them), so the rule reports a Glorot layer only when the Glorot layers of its run, written
    out or Keras's default, lose at least 4x of the signal's std against He: the vanishing
    threshold the drift rules start at (`drift-vanish-info`). That takes four ReLU-family
    layers (0.71^4 = 0.25). One to three (a classifier's hidden layer, a time-embedding MLP)
    lose 0.71x to 0.35x, which training does not notice: in the training runs behind the
    thresholds, PyTorch's default, which loses more per layer (0.41x), did no practical harm at
    depth 3 or 5.
    """
    act = layer.activation
    if not act.known or act.name not in A.RELU_FAMILY:
        return
    if not layer.compounds:
        return  # the scale is renormalized, added to the signal, or it gates another one
    kernel = layer.activated_kernel  # a separable conv's depthwise kernel is not activated
    if kernel is None or not _glorot(kernel.init):
        return  # a framework default is IL102's (Keras) or not Glorot at all
    if not _compounds(layer, ctx):
        return  # the run is too short for its loss against He to matter
    spec = kernel.init
    req = request_for(layer, spec, family="he")
    new = ctx.name(layer, req)
    msg = f"{layer_label(layer)} ({act.name}): {spec.display} " + layer_figures(layer, kernel, new)
    fix = ctx.fix(layer, kernel, req, "safe", f"Use {new}")
    node = spec.node if spec.node is not None else layer.node
    yield Diagnostic("IL002", "warning", msg, node, fix)


def _glorot(spec: InitSpec, explicit: bool = True) -> bool:
    """A Glorot/Xavier initializer at its own scale (gain 1); written out by the user unless
    ``explicit`` is False (then Keras's default counts too)."""
    return (spec.family == "glorot" and not (explicit and spec.is_default)
            and (spec.gain is None or spec.gain == 1.0))


def _compounds(layer: Layer, ctx: Context) -> bool:
    """Whether the Glorot layers of the layer's run (written out or Keras's default) lose
    enough against He to be reported: the vanishing threshold every drift rule starts at
    (`drift-vanish-info`, 4x). One to three such layers (a classifier's hidden layer, a
    time-embedding MLP) lose 0.71x to 0.35x, which training does not notice; four lose 4x.
    False when the layer's place is not known, or when the run holds no other ReLU-family
    layer: one layer, however tapered its fans (a 3->64 stem conv loses 0.22x against He),
    is not a stack, and the layer after it may renormalize what it gets."""
    run = run_of(layer, ctx.network)
    if run is None or sum(1 for x in run if x.activation.name in A.RELU_FAMILY) < 2:
        return False  # one such layer (a stem conv before a normalized one) is not a stack
    rel = relative_drift(x for x in run if x.activated_kernel is not None
                         and x.activation.known and x.activation.name in A.RELU_FAMILY
                         and _glorot(x.activated_kernel.init, explicit=False))
    return rel <= 1 / threshold(ctx, "drift-vanish-info") * (1 + 1e-9)


def layer_figures(layer: Layer, w: Weight, new: str) -> str:
    """What one layer's kernel does to the signal and the fix ("shrinks the signal std to
    0.707x per layer; use he_uniform"), then a line of details, from the variance checker."""
    act = layer.activation
    fi, fo = variance.square_fans(w.fan_in, w.fan_out)
    g_now = std_factor(w.init, act, fi, fo)
    g_he = std_factor(variance.family_spec("he"), act, fi, fo)
    if g_now is None or g_he is None:
        return f"does not fit {act.name}; use {new}"
    verb = "shrinks" if g_now < 1 else "scales"
    if w.fan_in and w.fan_out and w.fan_in != w.fan_out:
        where = f"({w.fan_in}→{w.fan_out})"
        fans = f"fan-in {w.fan_in}, fan-out {w.fan_out}"
    else:
        where = "per layer"
        fans = "square layers"
    return (f"{verb} signal std to {fmt(g_now)}x {where}; use {new}\n"
            f"Signal std through this layer ({fans}, {act.name}): {fmt(g_now)}x with "
            f"{w.init.display}, {fmt(g_he)}x with {new}; the factor compounds over every such "
            f"layer in a row.")
