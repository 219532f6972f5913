"""IL009 gain-for-wrong-activation: a variance-scaled kernel scaled for another activation."""

from __future__ import annotations

from typing import Iterator

from ..catalog import activations as A
from ..model import Diagnostic, InitSpec, Layer
from . import Case, Context, rule
from .common import against_recommended, fmt, layer_label, relative_drift, request_for, run_of
from .default_drift import drift_severity

_VALID = [
    # Kaiming with the gain of the activation that follows.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fcs = nn.ModuleList([nn.Linear(256, 256) for _ in range(12)])
            for fc in self.fcs:
                nn.init.kaiming_normal_(fc.weight, nonlinearity="relu")

        def forward(self, x):
            for fc in self.fcs:
                x = F.relu(fc(x))
            return x
    """,
    # He on tanh: a stable fixed point (std 0.79), gradients grow 1.05x per layer at most.
    """
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((128,))] + [
        layers.Dense(128, activation="tanh", kernel_initializer="he_normal") for _ in range(8)
    ] + [layers.Dense(1)])
    """,
    # The wrong gain on two layers: 1.18x per layer does not add up to 2x.
    """
    import torch.nn as nn

    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                        nn.Linear(64, 1))
    for i in (0, 2):
        nn.init.kaiming_uniform_(net[i].weight, nonlinearity="tanh")
    """,
    # Normalized after each layer: the kernel's scale is divided out.
    """
    import torch.nn as nn

    layers = []
    for _ in range(12):
        fc = nn.Linear(256, 256)
        nn.init.kaiming_normal_(fc.weight, nonlinearity="tanh")
        layers += [fc, nn.LayerNorm(256), nn.ReLU()]
    net = nn.Sequential(*layers)
    """,
]

_INVALID = [
    # tanh's gain (5/3) on ReLU layers: each grows the signal 1.18x, 7.2x over twelve.
    Case("""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fcs = nn.ModuleList([nn.Linear(256, 256) for _ in range(12)])
                self.out = nn.Linear(256, 10)
                for fc in self.fcs:
                    nn.init.kaiming_normal_(fc.weight, nonlinearity="tanh")

            def forward(self, x):
                for fc in self.fcs:
                    x = F.relu(fc(x))
                return self.out(x)
        """, line=11, severity="warning", fixed="""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fcs = nn.ModuleList([nn.Linear(256, 256) for _ in range(12)])
                self.out = nn.Linear(256, 10)
                for fc in self.fcs:
                    nn.init.kaiming_normal_(fc.weight, nonlinearity="relu")

            def forward(self, x):
                for fc in self.fcs:
                    x = F.relu(fc(x))
                return self.out(x)
        """),
    # LeCun's scale (1/fan_in) on a ReLU stack loses as Glorot does: 0.71x per layer.
    Case("""
        import keras
        from keras import layers

        inputs = keras.Input((256,))
        x = inputs
        for _ in range(8):
            x = layers.Dense(256, activation="relu", kernel_initializer="lecun_normal")(x)
        model = keras.Model(inputs, layers.Dense(10)(x))
        """, line=7, severity="warning", fixed="""
        import keras
        from keras import layers

        inputs = keras.Input((256,))
        x = inputs
        for _ in range(8):
            x = layers.Dense(256, activation="relu", kernel_initializer="he_normal")(x)
        model = keras.Model(inputs, layers.Dense(10)(x))
        """),
    # A scale written for the linear case on leaky ReLU convolutions.
    Case("""
        import torch.nn as nn

        convs = [nn.Conv2d(64, 64, 3, padding=1) for _ in range(6)]
        for c in convs:
            nn.init.kaiming_uniform_(c.weight, nonlinearity="linear")
        body = nn.Sequential(*[m for c in convs for m in (c, nn.LeakyReLU(0.2))])
        """, line=5, severity="info"),
]


@rule("IL009", "gain-for-wrong-activation", "error", fix="safe",
      severities=("info", "warning", "error"),
      summary="Variance-scaled kernel whose gain is another activation's",
      example="""
          import torch.nn as nn

          net = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(256, 256), nn.ReLU())])
          for m in net:
              if isinstance(m, nn.Linear):
                  nn.init.kaiming_normal_(m.weight, nonlinearity="tanh")
      """,
      fixed="""
          import torch.nn as nn

          net = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(256, 256), nn.ReLU())])
          for m in net:
              if isinstance(m, nn.Linear):
                  nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
      """,
      finding=("Linear net[0] (relu): nn.init.kaiming_normal_ scales signal std to 1.18x per "
               "layer where kaiming_normal_ with relu's gain keeps 1.0x; 7.18x over 12 such "
               "layers (12 layers built here)"),
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for a variance-scaled kernel written for another activation than the layer's:
    `kaiming_normal_(w, nonlinearity="tanh")` or `"linear"` on a ReLU layer, `lecun_normal`
    or `VarianceScaling(1.0, "fan_in")` on ReLU layers, a Glorot initializer with a gain
    that is not the layer's. Explicit Glorot at its own gain on ReLU layers is IL002's, and a
    SELU layer's kernel is IL006's.

    ## Why is this bad?
    A variance-scaled initializer keeps the signal only with the gain of the activation it
    feeds: sw2 = fan_in·Var(W) must be 2 for ReLU (He), 1 for linear and SELU, about 1 for
    tanh. tanh's gain (5/3, sw2 = 2.78) on a ReLU stack grows the signal's std 1.18x per
    layer, 7.2x over 12; the linear gain loses 0.71x per layer, as Glorot does. The variance
    checker follows the run (the layers with no normalization or residual sum between them)
    and the finding's severity is that of its drift against the recommended gain: explosion
    warning at 2x, error at 10x; vanishing info at 4x, warning at 10x, error at 100x. A
    run of tanh or sigmoid layers is judged only when it loses the signal, and at most as
    info: their output is bounded, so a larger gain saturates units (IL003 reports that)
    rather than growing the signal; He on tanh has a stable fixed point, and with sigmoid
    every standard initializer shrinks the gradient.

    ## Fix
    The recommended initializer of the same distribution for the layer's activation
    (`kaiming_normal_(w, nonlinearity="relu")`, `he_normal`), keeping the spelling and the
    other arguments. The fix is safe: the same family, with the right gain.
    """
    act = layer.activation
    if not act.known or act.name == "selu" or not layer.compounds:
        return
    if act.name not in A.RELU_FAMILY and act.name not in ("tanh", "sigmoid"):
        return
    kernel = layer.activated_kernel
    if kernel is None or not _judged(kernel.init):
        return
    own = against_recommended(layer)
    if own is None or 0.9 <= own[0] / own[1] <= 1.1:
        return  # this layer's gain fits its activation
    run = run_of(layer, ctx.network)
    if run is None:
        return
    judged = [x for x in run if _judged_layer(x)]
    if sum(1 for x in judged if x.activation.name == act.name) < 2:
        return  # one such layer is not a stack
    rel = relative_drift(judged)
    if act.name in ("tanh", "sigmoid") and rel > 1:
        return  # bounded units: a larger scale saturates (IL003's), it does not grow the signal
    severity = drift_severity(rel, ctx)
    if severity is None:
        return
    if act.name in ("tanh", "sigmoid"):
        severity = "info"
    spec = kernel.init
    req = request_for(layer, spec)
    new = ctx.name(layer, req)
    verb = "scales" if own[0] >= own[1] else "shrinks"
    msg = (f"{layer_label(layer)} ({act.name}): {spec.display} {verb} signal std to "
           f"{fmt(own[0])}x per layer where {new} with {act.name}'s gain keeps {fmt(own[1])}x; "
           f"{fmt(rel)}x over {len(judged)} such layers")
    fix = ctx.fix(layer, kernel, req, "safe", f"Use {new}")
    node = spec.node if spec.node is not None else layer.node
    yield Diagnostic("IL009", severity, msg, node, fix)


def _judged(spec: InitSpec) -> bool:
    """An explicit variance-scaled initializer that is not IL002's plain Glorot."""
    if spec.is_default or spec.scale is None:
        return False
    if spec.family == "glorot":
        return spec.gain is not None and spec.gain != 1.0
    return spec.family in ("he", "lecun", "scaled") and spec.mode is not None


def _judged_layer(x: Layer) -> bool:
    w = x.activated_kernel
    return (w is not None and x.activation.known and x.compounds and _judged(w.init)
            and (x.activation.name in A.RELU_FAMILY or x.activation.name in ("tanh", "sigmoid")))
