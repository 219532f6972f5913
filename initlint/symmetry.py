"""When does a constant or zero kernel fail to train? The analytic verdict.

Units j and j' of a layer stay identical forever iff their incoming weights and biases are equal
*and* rows j and j' of the next weight matrix are equal. So a constant hidden layer is trapped
exactly when the next layer is constant too. Independently, a zero layer with a zero bias
outputs 0 and gets gradient only through f'(0): ReLU kills it for good.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from .catalog import activations as A
from .model import Layer, Weight

if TYPE_CHECKING:
    import numpy as np

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


# --- the same question, answered by training --------------------------------------------------


def training_run(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activation: str,
                 steps: int = 300, lr: float = 0.1, seed: int = 0
                 ) -> List[Tuple[int, int, bool]]:
    """A few full-batch gradient steps of an MLP on a fixed toy regression.

    ``weights`` are (fan_in, fan_out) NumPy arrays (the last one is the linear output layer),
    ``biases`` their bias vectors. Returns, per hidden layer, (distinct units, numerical rank,
    moved), where units are weight columns differing by more than 1e-8 and ``moved`` says
    whether the layer's weights changed at all.
    """
    import numpy as np

    from .checker import activation_functions

    fns = activation_functions(activation)
    assert fns is not None, f"activation {activation} is not modelled"
    f, df = fns
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, weights[0].shape[0]))
    teacher = rng.standard_normal((weights[0].shape[0], 1))
    y = np.tanh(x @ teacher)
    ws = [w.astype(float).copy() for w in weights]
    bs = [b.astype(float).copy() for b in biases]
    start = [w.copy() for w in ws]
    for _ in range(steps):
        hs, zs = [x], []
        for i, (w, b) in enumerate(zip(ws, bs)):
            z = hs[-1] @ w + b
            zs.append(z)
            hs.append(z if i == len(ws) - 1 else f(z))
        g = 2 * (hs[-1] - y) / len(x)
        for i in range(len(ws) - 1, -1, -1):
            if i < len(ws) - 1:
                g = g * df(zs[i])
            gw, gb = hs[i].T @ g, g.sum(0)
            g = g @ ws[i].T
            ws[i] -= lr * gw
            bs[i] -= lr * gb
    out = []
    for w, w0 in zip(ws[:-1], start[:-1]):
        cols: List[np.ndarray] = []
        for j in range(w.shape[1]):
            if not any(np.max(np.abs(w[:, j] - c)) <= 1e-8 for c in cols):
                cols.append(w[:, j])
        rank = int(np.linalg.matrix_rank(w, tol=1e-6))
        out.append((len(cols), rank, bool(np.max(np.abs(w - w0)) > 1e-12)))
    return out
