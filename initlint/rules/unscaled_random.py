"""IL003 unscaled-random-kernel."""

from __future__ import annotations

import math
from typing import Iterator, Optional, Tuple

from .. import checker, variance
from ..model import Diagnostic, InitSpec, Layer
from . import Context, rule, setting
from .common import (deliberate_by_name, fmt, is_output_like, layer_label, recommended_family,
                     request_for)

#: Per-layer growth or shrinkage of the pre-activation std (against the recommended
#: initializer) beyond which an explicitly chosen scale is reported.
DEFAULT_RATIO = setting("il003-ratio", 4.0)
#: Without a known fan-in, an explicit std at least this large is reported (at fan-in 100 it
#: already gives a pre-activation std of 2).
DEFAULT_LARGE_STD = setting("il003-large-std", 0.2)
#: An explicit std in this band is a convention, not an oversight: GPT-2, BERT and ViT use
#: 0.02 (with LayerNorm after it), DCGAN 0.02 (with BatchNorm after it), many others 0.01.
CONVENTION_STD = (0.01, 0.02)


def _std_text(spec: InitSpec) -> str:
    if spec.distribution == "uniform":
        return f"U({fmt(spec.low or 0.0)}, {fmt(spec.high or 0.0)})"
    return f"std {fmt(spec.std or 0.0)}"


@rule("IL003", "unscaled-random-kernel", "warning", fix="unsafe",
      summary="Random kernel whose variance ignores fan-in (bare normal/uniform)",
      example="""
          from keras import layers

          hidden = layers.Dense(64, activation="relu", kernel_initializer="normal")
      """,
      fixed="""
          from keras import layers

          hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")
      """,
      finding="Dense hidden: normal (std 0.05) ignores fan-in; use he_normal")
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
        msg = _message(layer, spec, w.fan_in, w.fan_out, ratio_limit, large_std, new, alone)
        if msg is None:
            continue
        fix = ctx.fix(layer, w, req, "unsafe", f"Use {new}")
        yield Diagnostic("IL003", "warning", msg, spec.node if spec.node is not None else layer.node,
                         fix)


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
             ratio_limit: float, large_std: float, new: str, alone: bool = False
             ) -> Optional[str]:
    var = variance.weight_variance(spec)
    if var is None:
        return None
    eq_std = math.sqrt(var + spec.mean**2)
    fam = recommended_family(layer)
    label = layer_label(layer)
    nonzero_mean = abs(spec.mean) > 1e-12
    lo, hi = CONVENTION_STD
    if spec.explicit_scale and not nonzero_mean and lo * (1 - 1e-9) <= eq_std <= hi * (1 + 1e-9):
        return None  # the deliberate small std of transformers and DCGAN
    scale = _std_text(spec)
    shown = scale.split(" ")[-1].strip("()")
    what = spec.display if "(" in spec.display and shown in spec.display else (
        f"{spec.display} ({scale})")
    if nonzero_mean:
        head = f"{label}: {spec.display} has mean {fmt(spec.mean)}, so units start correlated"
        why = ("Every weight has the same sign, so all units see nearly the same input at "
               "first, and the variance ignores fan-in. ")
    else:
        head = f"{label}: {what} ignores fan-in"
        why = ""
    if fan_in is not None:
        pre, sat = _checked(layer, spec, fan_in, fan_out)
        rec, _ = _checked(layer, variance.family_spec(fam), fan_in, fan_out)
        if pre is None or rec is None or rec == 0:
            return None
        ratio = pre / rec
        if spec.explicit_scale and not nonzero_mean:
            if is_output_like(layer) or layer.residual_branch_end or deliberate_by_name(layer):
                return None
            if 1 / ratio_limit <= ratio <= ratio_limit:
                return None
        saturating = sat is not None and sat > 0.1
        if 0.5 <= ratio <= 2 and not saturating and alone:
            # A one-layer model (a linear regression's theta = randn(2, 1)) at a width where
            # the checker finds nothing wrong: there is no depth for the scale to compound over.
            return None
        consequence = "the signal shrinks" if ratio < 1 else "the signal grows"
        if 0.5 <= ratio <= 2:
            consequence = "the scale is right for this width only"
        first = (f"{head}; use {new}" if nonzero_mean else
                 f"{head}: pre-activation std {fmt(pre)} (fan-in {fan_in}); use {new}")
        if saturating:
            consequence = (f"{fmt(sat * 100)}% of {layer.activation.name} units saturate "
                           f"(f' < 0.01)")
            if not nonzero_mean:
                first = (f"{label}: {what} saturates {fmt(sat * 100)}% of "
                         f"{layer.activation.name} units at fan-in {fan_in}; use {new}")
        return (f"{first}\n{why}Pre-activation std ≈ std(W)·√fan_in = {fmt(eq_std)}·√{fan_in} "
                f"= {fmt(pre)} for unit inputs: {consequence}; {new} gives {fmt(rec)}.")
    if spec.explicit_scale and not nonzero_mean:
        if eq_std < large_std or is_output_like(layer) or layer.residual_branch_end:
            return None
    return (f"{head}; use {new}\n{why}Pre-activation std ≈ {fmt(eq_std)}·√fan_in: "
            f"{fmt(eq_std * math.sqrt(64))} at fan-in 64, {fmt(eq_std * math.sqrt(1024))} at "
            f"fan-in 1024; {new} scales with the fan.")
