"""Helpers shared by rules: recommendations, deliberate-idiom recognition, wording of figures."""

from __future__ import annotations

from typing import Optional

from ..catalog import activations as A
from ..catalog import idioms
from ..model import InitRequest, InitSpec, Layer

def recommended_family(layer: Layer) -> str:
    """He for the ReLU family, LeCun for SELU, Glorot for tanh, sigmoid, linear and unknown."""
    fam = A.recommended_family(layer.activation.name) if layer.activation.known else None
    return fam or "glorot"


def same_distribution(spec: InitSpec) -> str:
    """The distribution a replacement keeps: uniform stays uniform, normal stays normal."""
    return "uniform" if spec.distribution == "uniform" else "normal"


def request_for(layer: Layer, spec: InitSpec, family: Optional[str] = None,
                distribution: Optional[str] = None) -> InitRequest:
    fam = family or recommended_family(layer)
    dist = distribution or same_distribution(spec)
    act = layer.activation.name if layer.activation.known else None
    return InitRequest(fam, dist, act)


def suggestion_name(req: InitRequest) -> str:
    """A neutral name for messages: ``he_uniform``, ``glorot_normal``..."""
    return f"{req.family}_{req.distribution if req.distribution == 'uniform' else 'normal'}"


def deliberate_by_name(layer: Layer) -> bool:
    """A name that says the layer is an output, a gate, a residual end or a LoRA B matrix
    (the words are in :mod:`initlint.catalog.idioms`)."""
    return idioms.deliberate_layer_name(layer.name)


def is_output_like(layer: Layer) -> bool:
    """Output layer, or a layer that ends in a softmax-like activation (a classifier head)."""
    if layer.position == "output":
        return True
    f = A.facts(layer.activation.name)
    return f is not None and f.family == "output"


def layer_label(layer: Layer) -> str:
    return f"{layer.type_name} {layer.name}" if layer.name else layer.type_name


def fmt(x: float) -> str:
    """Figures for messages: 3 significant digits, a ".0" on whole numbers (``1.0``, ``15.8``)."""
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    s = f"{x:.3g}"
    if "e" in s:
        return f"{x:.1e}"
    if "." not in s:
        s += ".0"
    return s
