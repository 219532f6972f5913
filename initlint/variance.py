"""Signal-variance arithmetic behind the rules' figures.

Works on the neutral :class:`~initlint.model.InitSpec`, so it serves every framework. This module
holds the closed-form per-layer quantities; the stack-level checker builds on them.
"""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

from .catalog.activations import second_moments
from .catalog.keras import TRUNC_VAR_FACTOR
from .model import FanMode, InitSpec, as_distribution, as_family

#: |h| beyond which f'(h) < 0.01 (sigmoid: sigma' < 0.01; tanh: 1 - tanh^2 < 0.01).
SATURATION_THRESHOLDS = {"sigmoid": 4.584967, "tanh": 2.993223}

#: The (scale, mode) each recommended family means.
FAMILY_SCALING: Dict[str, Tuple[float, FanMode]] = {
    "he": (2.0, "fan_in"), "glorot": (1.0, "fan_avg"), "lecun": (1.0, "fan_in")}


def fan_for_mode(mode: Optional[str], fan_in: Optional[int], fan_out: Optional[int]) -> Optional[float]:
    if mode == "fan_in":
        return None if fan_in is None else max(1.0, float(fan_in))
    if mode == "fan_out":
        return None if fan_out is None else max(1.0, float(fan_out))
    if mode == "fan_avg":
        if fan_in is None or fan_out is None:
            return None
        return max(1.0, (fan_in + fan_out) / 2.0)
    return None


def weight_variance(spec: InitSpec, fan_in: Optional[int] = None,
                    fan_out: Optional[int] = None, receptive: int = 1) -> Optional[float]:
    """Var(W) per element, or None when it depends on a fan that is not known.

    ``receptive`` is the kernel's receptive-field size: an orthogonal initializer flattens a
    conv kernel to (k * C_in) x C_out in Keras and C_out x (C_in * k) in PyTorch, so its
    variance is gain^2 / max(fan_in, fan_out / k) in both.
    """
    fam = spec.family
    if fam == "framework_default" and spec.mode is None:
        # A default that is not fan-scaled (PyTorch's recurrent U(+-1/sqrt(hidden)), Bilinear).
        return None if spec.std is None else spec.std**2
    if fam in ("he", "glorot", "lecun", "scaled", "framework_default"):
        n = fan_for_mode(spec.mode, fan_in, fan_out)
        if n is None or spec.scale is None:
            return None
        return spec.scale * (spec.gain if spec.gain is not None else 1.0) ** 2 / n
    if fam == "fixed":
        if spec.distribution == "uniform":
            if spec.low is None or spec.high is None:
                return None
            return (spec.high - spec.low) ** 2 / 12.0
        if spec.std is None:
            return None
        var = spec.std**2
        return var * TRUNC_VAR_FACTOR if spec.distribution == "truncated_normal_raw" else var
    if fam == "orthogonal":
        if fan_in is None or fan_out is None:
            return None
        g = spec.gain if spec.gain is not None else 1.0
        return g * g / max(fan_in, fan_out / max(receptive, 1), 1)
    if fam == "constant":
        return 0.0
    return None


def second_moment(spec: InitSpec, fan_in: Optional[int] = None,
                  fan_out: Optional[int] = None, receptive: int = 1) -> Optional[float]:
    """E[W^2]: the quantity that multiplies the signal's second moment."""
    if spec.family == "constant":
        return None if spec.value is None else spec.value**2
    var = weight_variance(spec, fan_in, fan_out, receptive)
    return None if var is None else var + spec.mean**2


def preactivation_std(spec: InitSpec, fan_in: Optional[int],
                      fan_out: Optional[int] = None) -> Optional[float]:
    """std of one layer's pre-activation for unit-variance inputs: sqrt(fan_in * E[W^2])."""
    m2 = second_moment(spec, fan_in, fan_out)
    if m2 is None or fan_in is None:
        return None
    return math.sqrt(fan_in * m2)


def recommended_preactivation_std(family: str, fan_in: Optional[int],
                                  fan_out: Optional[int] = None) -> Optional[float]:
    scale, mode = FAMILY_SCALING[family]
    n = fan_for_mode(mode, fan_in, fan_out)
    if n is None or fan_in is None:
        return None
    return math.sqrt(fan_in * scale / n)


def saturated_fraction(activation: str, std: float) -> Optional[float]:
    """P(|f'(h)| < 0.01) for h ~ N(0, std^2), for sigmoid and tanh; None for other activations."""
    t = SATURATION_THRESHOLDS.get(activation)
    if t is None:
        return None
    if std <= 0:
        return 0.0
    return math.erfc(t / (std * math.sqrt(2.0)))


def layer_gain(spec: InitSpec, activation: str, fan_in: Optional[int],
               fan_out: Optional[int], params: Optional[Dict[str, float]] = None
               ) -> Optional[float]:
    """Forward std factor of one layer at unit scale: sqrt(fan_in * E[W^2] * E[f(z)^2]).

    Exact for the ReLU family (scale-free); the unit-scale proxy for smooth activations.
    """
    m = second_moments(activation, params)
    m2w = second_moment(spec, fan_in, fan_out)
    if m is None or m2w is None or fan_in is None:
        return None
    return math.sqrt(fan_in * m2w * m[0])


def square_fans(fan_in: Optional[int], fan_out: Optional[int]) -> Tuple[int, int]:
    """The fans to quote figures with: the layer's own, or a square layer when unknown."""
    if fan_in is not None and fan_out is not None:
        return fan_in, fan_out
    n = fan_in or fan_out or 256
    return n, n


def family_spec(family: str, distribution: str = "uniform") -> InitSpec:
    scale, mode = FAMILY_SCALING[family]
    return InitSpec(family=as_family(family), distribution=as_distribution(distribution),
                    scale=scale, mode=mode)
