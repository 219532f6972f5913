"""Framework-neutral facts about activation functions.

Each canonical activation has a family, its value and derivative at 0 (which decide whether a
zero-initialized layer is dead), and the initializer family the libraries' own documentation
recommends for it. Frameworks map their spellings onto these names in their own catalog module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class ActivationFacts:
    family: str  # relu_like | saturating | self_normalizing | linear | output | other
    #: f(0) and f'(0). ``None`` where it depends on a parameter handled in ``deriv_at_zero``.
    f0: float
    df0: Optional[float]
    #: Initializer family that fits: he | glorot | lecun | None (no recommendation).
    recommended: Optional[str]
    #: Default negative slope for leaky variants.
    slope: Optional[float] = None
    #: E[f(z)^2] and E[f'(z)^2] for z ~ N(0, 1) (the unit-scale forward and backward gains).
    #: For the ReLU family these do not depend on the scale; for saturating activations the
    #: variance checker integrates them at the actual scale.
    m2: Optional[float] = None
    dm2: Optional[float] = None


ACTIVATIONS: Dict[str, ActivationFacts] = {
    "linear": ActivationFacts("linear", 0.0, 1.0, "glorot", m2=1.0, dm2=1.0),
    "relu": ActivationFacts("relu_like", 0.0, 0.0, "he", m2=0.5, dm2=0.5),
    "relu6": ActivationFacts("relu_like", 0.0, 0.0, "he", m2=0.5, dm2=0.5),
    "leaky_relu": ActivationFacts("relu_like", 0.0, None, "he", slope=0.01),
    "prelu": ActivationFacts("relu_like", 0.0, None, "he", slope=0.25),
    "rrelu": ActivationFacts("relu_like", 0.0, None, "he", slope=(0.125 + 1 / 3) / 2),
    "elu": ActivationFacts("relu_like", 0.0, 1.0, "he", m2=0.6449, dm2=0.6681),
    "celu": ActivationFacts("relu_like", 0.0, 1.0, "he", m2=0.6449, dm2=0.6681),
    "gelu": ActivationFacts("relu_like", 0.0, 0.5, "he", m2=0.4252, dm2=0.4559),
    "silu": ActivationFacts("relu_like", 0.0, 0.5, "he", m2=0.3558, dm2=0.3795),
    "mish": ActivationFacts("relu_like", 0.0, 0.6, "he", m2=0.4523, dm2=0.4791),
    "hardswish": ActivationFacts("relu_like", 0.0, 0.5, "he", m2=0.3316, dm2=0.3577),
    "selu": ActivationFacts("self_normalizing", 0.0, 1.0507 * 1.6733, "lecun", m2=1.0, dm2=1.0716),
    "tanh": ActivationFacts("saturating", 0.0, 1.0, "glorot", m2=0.3943, dm2=0.4644),
    "sigmoid": ActivationFacts("saturating", 0.5, 0.25, "glorot", m2=0.2934, dm2=0.0448),
    "hard_sigmoid": ActivationFacts("saturating", 0.5, 1 / 6, "glorot", m2=0.2776, dm2=0.0277),
    "hard_tanh": ActivationFacts("saturating", 0.0, 1.0, "glorot", m2=0.5161, dm2=0.6827),
    "softsign": ActivationFacts("saturating", 0.0, 1.0, "glorot", m2=0.1830, dm2=0.2277),
    "softplus": ActivationFacts("other", 0.6931, 0.5, None, m2=0.9212, dm2=0.2934),
    "softmax": ActivationFacts("output", 0.0, None, None),
    "exponential": ActivationFacts("other", 1.0, 1.0, None),
    "other": ActivationFacts("other", 0.0, None, None),
}

#: The activations IL002 calls "ReLU family": a rectifier for positive inputs, where Glorot's
#: variance (tuned for a unit-slope linear regime) loses about half the signal per layer.
RELU_FAMILY = frozenset(n for n, f in ACTIVATIONS.items() if f.family == "relu_like")


def second_moments(name: str, params: Optional[Dict[str, float]] = None
                   ) -> Optional[Tuple[float, float]]:
    """(E[f(z)^2], E[f'(z)^2]) at unit scale, or None. Leaky slopes a give (1 + a^2) / 2."""
    f = ACTIVATIONS.get(name)
    if f is None:
        return None
    if f.slope is not None:
        a = (params or {}).get("slope", f.slope)
        return ((1 + a * a) / 2, (1 + a * a) / 2)
    if f.m2 is None or f.dm2 is None:  # the catalog gives both or neither
        return None
    return (f.m2, f.dm2)


def facts(name: str) -> Optional[ActivationFacts]:
    return ACTIVATIONS.get(name)


def deriv_at_zero(name: str, params: Optional[Dict[str, float]] = None) -> Optional[float]:
    """f'(0) for an activation, honouring its slope parameter. None when unknown."""
    f = ACTIVATIONS.get(name)
    if f is None:
        return None
    if f.df0 is not None:
        return f.df0
    if f.slope is not None:
        slope = (params or {}).get("slope", f.slope)
        return slope
    return None


def recommended_family(name: str) -> Optional[str]:
    f = ACTIVATIONS.get(name)
    return None if f is None else f.recommended
