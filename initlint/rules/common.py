"""Helpers shared by rules: recommendations, deliberate-idiom recognition, wording of figures."""

from __future__ import annotations

import re
from typing import Optional

from ..catalog import activations as A
from ..model import InitRequest, InitSpec, Layer
from ..naming import name_tokens

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


# Words that mark a deliberately zero- or small-initialized layer: output heads, the last layer
# of a residual branch, adaLN-Zero modulation, LoRA's up/B matrices, gates.
_IDIOM_TOKENS = frozenset({
    "out", "output", "outputs", "head", "heads", "classifier", "cls", "logits", "logit", "final",
    "last", "zero", "zeros", "gate", "gates", "gating", "modulation", "adaln", "ada", "b", "up",
    "skip", "residual", "readout", "pred", "predictor", "policy", "value", "critic", "actor",
})
_LORA = re.compile(r"lora_?(b|up)\b|lora_?B", re.IGNORECASE)


def deliberate_by_name(layer: Layer) -> bool:
    """A name that says the layer is an output, a gate, a residual end or a LoRA B matrix."""
    if not layer.name:
        return False
    if _LORA.search(layer.name):
        return True
    tokens = name_tokens(layer.name.split(".")[-1])
    if "b" in tokens and "lora" not in tokens:
        tokens.discard("b")
    if "up" in tokens and "lora" not in tokens:
        tokens.discard("up")
    return bool(tokens & _IDIOM_TOKENS)


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
