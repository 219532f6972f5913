"""IL002 glorot-with-relu and IL102 glorot-default-with-relu."""

from __future__ import annotations

from typing import Iterator

from .. import variance
from ..catalog import activations as A
from ..model import Diagnostic, Layer
from . import Context, rule
from .common import fmt, layer_label, request_for

_IL102_DOC = """
    ## What it does
    Reports a ReLU-family layer that relies on the framework's default Glorot initializer
    (Keras's `glorot_uniform`) instead of naming one.

    ## Why is this bad?
    The arithmetic is the same as IL002: each such layer multiplies the signal's std by about
    0.71 on square layers. As with IL002, layers normalized before their activation and layers
    inside a residual branch are not reported. This is what roughly nine in ten Keras ReLU layers do, and in shallow
    models it rarely matters, so the rule is off by default and reports at `info`. Select it
    (`--extend-select IL102`) to audit a deep model.

    ## Example
    ```python
    layers.Dense(64, activation="relu")
    ```

    Use instead:
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="he_uniform")
    ```

    ## Fix
    Adds the He initializer of the default's distribution as an explicit argument (safe).
"""


@rule("IL002", "glorot-with-relu", "warning", fix="safe",
      summary="Explicit Glorot/Xavier initializer on a ReLU-family layer")
@rule("IL102", "glorot-default-with-relu", "info", default=False, fix="safe",
      summary="ReLU-family layer left at the default Glorot initializer", doc=_IL102_DOC)
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

    ## Example
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform")
    ```

    Use instead:
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="he_uniform")
    ```

    ## Fix
    Swaps Glorot for He in the same distribution (uniform stays uniform, normal stays normal),
    keeping the spelling, alias and other arguments (`GlorotNormal(seed=3)` becomes
    `HeNormal(seed=3)`). The fix is safe: it is the same family of initializer, scaled for the
    activation the layer already has.

    A layer whose output is normalized (BatchNorm, LayerNorm, GroupNorm) before its activation
    is not reported: normalization divides out the kernel's scale, so Glorot and He give the
    same signal. Neither is a layer inside a residual branch (x + F(x), as in transformer MLP
    blocks): the branch's gain is added to the signal, not multiplied into it layer after
    layer.
    """
    act = layer.activation
    if not act.known or act.name not in A.RELU_FAMILY:
        return
    if layer.normalized or layer.residual_branch:
        return  # the scale is renormalized, or added to the signal instead of compounding
    for w in layer.kernels:
        spec = w.init
        if spec.family != "glorot":
            continue
        if spec.gain is not None and spec.gain != 1.0:
            continue
        req = request_for(layer, spec, family="he")
        new = ctx.name(layer, req)
        fi, fo = variance.square_fans(w.fan_in, w.fan_out)
        g_now = variance.layer_gain(spec, act.name, fi, fo, act.params)
        g_he = variance.layer_gain(variance.family_spec("he"), act.name, fi, fo, act.params)
        figures = ""
        if g_now is not None and g_he is not None:
            if w.fan_in and w.fan_out and w.fan_in != w.fan_out:
                figures = (f": signal std x{fmt(g_now)} through this layer (fan-in {w.fan_in}, "
                           f"fan-out {w.fan_out}); {new} gives x{fmt(g_he)}")
            else:
                figures = (f": signal std x{fmt(g_now)} per layer on square layers "
                           f"(x{fmt(g_now ** 10)} over 10); {new} keeps x{fmt(g_he)}")
        label = layer_label(layer)
        if spec.is_default:
            code, sev = "IL102", "info"
            msg = f"{label} with {act.name} uses the default {spec.display}{figures}"
        else:
            code, sev = "IL002", "warning"
            msg = f"{spec.display} on {label} with {act.name}{figures}"
        fix = ctx.fix(layer, w, req, "safe", f"Use {new}")
        node = spec.node if spec.node is not None else layer.node
        yield Diagnostic(code, sev, msg, node, fix)
