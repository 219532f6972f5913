"""IL006 selu-without-lecun: SELU layers whose kernel breaks self-normalization."""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple, Union

from .. import checker, variance
from ..model import Diagnostic, InitSpec, Layer, Weight
from . import Case, Context, rule
from .common import fmt, layer_label, request_for, run_count

#: How far fan_in * Var(W) may be from 1 and still count as LeCun's.
TOLERANCE = 0.1

_VALID: List[Union[str, Case]] = [
    # LeCun normal: fan_in * Var(W) = 1, the fixed point.
    """
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((256,))] + [
        layers.Dense(256, activation="selu", kernel_initializer="lecun_normal")
        for _ in range(8)
    ] + [layers.Dense(10)])
    """,
    # Glorot on square layers has the same variance (2 / (n + n) = 1 / n).
    """
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((128,))] + [
        layers.Dense(128, activation="selu") for _ in range(6)
    ] + [layers.Dense(1)])
    """,
    # PyTorch's linear-gain Kaiming normal, and a std of 1/sqrt(fan_in).
    """
    import math
    import torch.nn as nn


    class SNN(nn.Module):
        def __init__(self, width=512, depth=8):
            super().__init__()
            layers = []
            for _ in range(depth):
                layers += [nn.Linear(width, width), nn.SELU()]
            self.body = nn.Sequential(*layers)
            for m in self.body:
                if isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="linear")
            self.head = nn.Linear(width, 10)
            nn.init.normal_(self.head.weight, std=1 / math.sqrt(width))

        def forward(self, x):
            return self.head(self.body(x))
    """,
    # Off the fixed point, but too little to matter at this depth: Glorot on a tapering stack
    # (1.33), PyTorch's calculate_gain("selu") (3/4, deliberately not self-normalizing).
    """
    import keras
    import torch.nn as nn
    from keras import layers

    model = keras.Sequential([
        keras.Input((1024,)),
        layers.Dense(512, activation="selu"),
        layers.Dense(256, activation="selu"),
        layers.Dense(128, activation="selu"),
        layers.Dense(10, activation="softmax"),
    ])


    class Small(nn.Module):
        def __init__(self, width=512):
            super().__init__()
            self.fc1 = nn.Linear(width, width)
            self.fc2 = nn.Linear(width, width)
            for fc in (self.fc1, self.fc2):
                nn.init.xavier_normal_(fc.weight, gain=nn.init.calculate_gain("selu"))

        def forward(self, x):
            return nn.functional.selu(self.fc2(nn.functional.selu(self.fc1(x))))
    """,
    # One SELU layer: nothing compounds.
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(64, activation="selu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax"),
    ])
    """,
]

_INVALID = [
    Case("""
        import keras
        from keras import layers

        model = keras.Sequential([keras.Input((256,))] + [
            layers.Dense(256, activation="selu", kernel_initializer="he_normal")
            for _ in range(8)
        ] + [layers.Dense(10)])
        """, line=5, fixed="""
        import keras
        from keras import layers

        model = keras.Sequential([keras.Input((256,))] + [
            layers.Dense(256, activation="selu", kernel_initializer="lecun_normal")
            for _ in range(8)
        ] + [layers.Dense(10)])
        """),
    # Kaiming's default gain is ReLU's.
    Case("""
        import torch.nn as nn


        class SNN(nn.Module):
            def __init__(self, width=512, depth=6):
                super().__init__()
                self.fcs = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
                for fc in self.fcs:
                    nn.init.kaiming_normal_(fc.weight)
                self.out = nn.Linear(width, 10)

            def forward(self, x):
                for fc in self.fcs:
                    x = nn.functional.selu(fc(x))
                return self.out(x)


        model = SNN()
        """, fixed="""
        import torch.nn as nn


        class SNN(nn.Module):
            def __init__(self, width=512, depth=6):
                super().__init__()
                self.fcs = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
                for fc in self.fcs:
                    nn.init.kaiming_normal_(fc.weight, nonlinearity="linear")
                self.out = nn.Linear(width, 10)

            def forward(self, x):
                for fc in self.fcs:
                    x = nn.functional.selu(fc(x))
                return self.out(x)


        model = SNN()
        """),
    # PyTorch's default (fan_in·Var(W) = 1/3) over six SELU layers: 0.19x.
    Case("""
        import torch.nn as nn

        net = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(256, 256), nn.SELU())],
                            nn.Linear(256, 10))
        """, line=3),
]


@rule("IL006", "selu-without-lecun", "warning", fix="safe",
      summary="SELU layer whose kernel is not LeCun-scaled (Var(W) = 1/fan_in)",
      example="""
          import keras
          from keras import layers

          model = keras.Sequential([keras.Input((256,))] + [
              layers.Dense(256, activation="selu", kernel_initializer="he_normal")
              for _ in range(8)
          ] + [layers.Dense(10)])
      """,
      fixed="""
          import keras
          from keras import layers

          model = keras.Sequential([keras.Input((256,))] + [
              layers.Dense(256, activation="selu", kernel_initializer="lecun_normal")
              for _ in range(8)
          ] + [layers.Dense(10)])
      """,
      finding=("Dense (selu): he_normal gives fan_in·Var(W) = 2.0; SELU self-normalizes at "
               "1.0; use lecun_normal (8 layers built here)"),
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks the kernel of each SELU layer in a run of SELU layers: its variance times the
    fan-in must be 1, as LeCun normal gives (Keras `lecun_normal`, PyTorch
    `kaiming_normal_(w, nonlinearity="linear")` or `normal_(w, std=1 / math.sqrt(fan_in))`).

    ## Why is this bad?
    SELU's constants (λ = 1.0507, α = 1.6733) make mean 0 and variance 1 a stable fixed
    point only when fan_in·Var(W) = 1 (Klambauer et al., 2017): that is what lets a deep
    SELU network train without normalization layers. He (2.0) drifts the signal 4x by 7
    layers and 100x by 40; PyTorch's default (1/3) and `calculate_gain("selu")` (3/4, which
    PyTorch's documentation says is deliberately not self-normalizing) shrink it. Glorot is
    exact only on square layers. A layer is reported when the variance checker finds the
    signal or the gradient changing 2x or more, or shrinking 4x or more, over the SELU layers
    of its run (the thresholds of IL102); a single SELU layer is never reported.

    ## Fix
    LeCun normal in the layer's own idiom (`"lecun_normal"`, `initializers.LecunNormal()`,
    `nn.init.kaiming_normal_(w, nonlinearity="linear")`), keeping the seed. The fix is safe:
    it is the initializer SELU is defined with.
    """
    if layer.activation.name != "selu" or not layer.compounds:
        return
    depth = run_count(layer, ctx.network, lambda a: a == "selu")
    if depth < 2:
        return  # one SELU layer, or a place not seen: nothing shows the drift compounding
    w = layer.activated_kernel
    if w is None:
        return
    sw2 = _sw2(w)
    if sw2 is None or abs(sw2 - 1.0) <= TOLERANCE:
        return
    drifts = _drifts(w, sw2, depth)
    grow = float(ctx.settings.get("drift-explode-warning", 2.0))
    shrink = float(ctx.settings.get("drift-vanish-info", 4.0))
    if drifts is None or not any(d >= grow or d <= 1 / shrink for d in drifts):
        return  # off the fixed point, but too little over this depth to matter
    req = request_for(layer, w.init, family="lecun", distribution="normal")
    new = ctx.name(layer, req)
    msg = (f"{layer_label(layer)} (selu): {w.init.display} gives fan_in·Var(W) = {fmt(sw2)}; "
           f"SELU self-normalizes at 1.0; use {new}\n"
           f"Over the {depth} SELU layers of its run the signal std changes {fmt(drifts[0])}x "
           f"forward and the gradient {fmt(drifts[1])}x backward; with LeCun normal both stay "
           f"near 1.0x.")
    fix = ctx.fix(layer, w, req, "safe", f"Use {new}")
    node = w.init.node if w.init.node is not None else layer.node
    yield Diagnostic("IL006", "warning", msg, node, fix)


def _sw2(w: Weight) -> Optional[float]:
    """fan_in · Var(W): from the fans when they are known, or from the scale alone for an
    initializer scaled by the fan-in (He, LeCun, Kaiming with any gain)."""
    spec = w.init
    if spec.family == "unknown" or spec.rejected:
        return None
    if w.fan_in is not None:
        var = variance.weight_variance(spec, w.fan_in, w.fan_out, w.receptive)
        return None if var is None else var * w.fan_in
    if spec.mode == "fan_in" and spec.scale is not None:
        return spec.scale * (spec.gain if spec.gain is not None else 1.0) ** 2
    return None


def _drifts(w: Weight, sw2: float, depth: int) -> Optional[Tuple[float, float]]:
    """The variance checker's forward and backward drift over ``depth`` such layers."""
    n = w.fan_in or 256
    spec = InitSpec("fixed", "normal", std=(sw2 / n) ** 0.5, explicit_scale=True)
    try:
        r = checker.analytic([checker.Step(n, n, "selu", spec)] * depth)
    except checker.Unsupported:
        return None
    return r.forward_drift, r.backward_drift
