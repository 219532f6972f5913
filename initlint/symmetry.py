"""When does a constant or zero kernel fail to train? The analytic verdict.

Units j and j' of a layer stay identical forever iff their incoming weights and biases are equal
*and* rows j and j' of the next weight matrix are equal. So a constant hidden layer is trapped
exactly when the next layer is constant too. Independently, a zero layer with a zero bias
outputs 0 and gets gradient only through f'(0): ReLU kills it for good.
"""

from __future__ import annotations

from typing import Optional

from .catalog import activations as A
from .model import Layer, Weight

DEAD = "dead"  # zero kernel, zero bias, f'(0) = 0: output and gradient are 0 forever
SYMMETRIC = "symmetric"  # constant kernel feeding constant kernels: units stay identical
BREAKS_VIA_NEXT = "breaks_via_next"  # the next layer's random rows break the tie: it learns
UNKNOWN_NEXT = "unknown_next"  # the next layer is not visible


def constant_kernel(layer: Layer) -> Optional[Weight]:
    for w in layer.kernels:
        if w.init.is_constant and w.init.value is not None:
            return w
    return None


def verdict(layer: Layer) -> Optional[str]:
    """The fate of a layer whose kernel is constant, or None when its kernel is not constant.

    The caller decides which layers are exempt (output layers, residual ends, idioms).
    """
    w = constant_kernel(layer)
    if w is None:
        return None
    rec = layer.weight("recurrent")
    if rec is not None and not rec.init.is_constant:
        return None  # a random recurrent kernel makes the units differ from the second step
    act = layer.activation
    if w.init.is_zero and layer.zero_bias is True and act.known:
        d = A.deriv_at_zero(act.name, act.params)
        if d == 0:
            return DEAD
    if layer.uniform_bias is not True:
        # Units with different biases are different units. Only an all-zero pair of layers
        # still traps them: no gradient reaches this kernel through a zero next kernel.
        if w.init.is_zero and layer.next and all(_zero_kernel(n) for n in layer.next):
            return SYMMETRIC
        return None
    if not layer.next:
        return UNKNOWN_NEXT
    if all(constant_kernel(n) is not None for n in layer.next):
        return SYMMETRIC
    return BREAKS_VIA_NEXT


def _zero_kernel(layer: Layer) -> bool:
    w = constant_kernel(layer)
    return w is not None and w.init.is_zero
