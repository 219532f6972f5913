"""The variance checker: forward and backward signal through a stack of layers, with NumPy.

Two modes over the same input, a list of :class:`Step` (fans, activation, kernel initializer):

- :func:`analytic`: the closed-form per-layer gain. Var(W) comes from the initializer's catalog
  entry; E[f(z)^2] and E[f'(z)^2] are integrated numerically for z ~ N(0, s^2) at the layer's
  actual pre-activation std s, which is propagated layer by layer (it matters for saturating
  activations). Microseconds per layer.
- :func:`monte_carlo`: real weight matrices sampled from the initializer's own distribution
  (uniform, normal, Keras's corrected truncated normal, raw truncated normal, orthogonal,
  constant), a batch of N(0, 1) inputs pushed forward and a random upstream gradient pushed
  back.

Per layer: the pre-activation std (forward), the std of the gradient at the pre-activation
(backward), the fraction of saturated units (tanh/sigmoid with |f'| < 0.01) and, in Monte Carlo,
the fraction of dead ReLU units. Drift is last over first hidden layer forward, and first over
last backward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from . import variance
from .catalog.activations import ACTIVATIONS, second_moments
from .catalog.keras import TRUNC_VAR_FACTOR
from .model import InitSpec, Layer, Stack

# --- activations as NumPy functions (value and derivative) ---------------------------------

_SELU_L, _SELU_A = 1.0507009873554805, 1.6732632423543772

#: Pre-activations, activations, gradients.
Floats = npt.NDArray[np.float64]
#: An activation, or its derivative, applied elementwise.
ArrayFn = Callable[[Floats], Floats]


def _erf(z: Floats) -> Floats:
    """erf to 1.5e-7 (Abramowitz and Stegun 7.1.26), vectorized."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(z))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    return np.sign(z) * (1.0 - poly * np.exp(-z * z))


def _sigmoid(z: Floats) -> Floats:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def _leaky(slope: float) -> Tuple[ArrayFn, ArrayFn]:
    return (lambda z: np.where(z > 0, z, slope * z),
            lambda z: np.where(z > 0, 1.0, slope))


def _gelu(z: Floats) -> Floats:
    return 0.5 * z * (1 + _erf(z / math.sqrt(2)))


def _gelu_d(z: Floats) -> Floats:
    return 0.5 * (1 + _erf(z / math.sqrt(2))) + z * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _silu_d(z: Floats) -> Floats:
    s = _sigmoid(z)
    return s * (1 + z * (1 - s))


FUNCTIONS: Dict[str, Tuple[ArrayFn, ArrayFn]] = {
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "relu6": (lambda z: np.clip(z, 0, 6), lambda z: ((z > 0) & (z < 6)).astype(float)),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
            lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))),
    "celu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
             lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))),
    "selu": (lambda z: _SELU_L * np.where(z > 0, z, _SELU_A * np.expm1(np.minimum(z, 0))),
             lambda z: _SELU_L * np.where(z > 0, 1.0, _SELU_A * np.exp(np.minimum(z, 0)))),
    "gelu": (_gelu, _gelu_d),
    "silu": (lambda z: z * _sigmoid(z), _silu_d),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "hard_tanh": (lambda z: np.clip(z, -1, 1), lambda z: (np.abs(z) < 1).astype(float)),
    "hard_sigmoid": (lambda z: np.clip(z / 6 + 0.5, 0, 1),
                     lambda z: np.where(np.abs(z) < 3, 1 / 6, 0.0)),
    "softsign": (lambda z: z / (1 + np.abs(z)), lambda z: 1 / (1 + np.abs(z)) ** 2),
    "softplus": (lambda z: np.logaddexp(0, z), _sigmoid),
    "hardswish": (lambda z: z * np.clip(z + 3, 0, 6) / 6,
                  lambda z: np.where(z < -3, 0.0, np.where(z > 3, 1.0, (2 * z + 3) / 6))),
    "mish": (lambda z: z * np.tanh(np.logaddexp(0, z)),
             lambda z: np.tanh(np.logaddexp(0, z))
             + z * _sigmoid(z) * (1 - np.tanh(np.logaddexp(0, z)) ** 2)),
}


def activation_functions(name: str, params: Optional[Dict[str, float]] = None
                         ) -> Optional[Tuple[ArrayFn, ArrayFn]]:
    f = ACTIVATIONS.get(name)
    if f is not None and f.slope is not None:
        return _leaky((params or {}).get("slope", f.slope))
    return FUNCTIONS.get(name)


# Integration grid for E over z ~ N(0, 1): fine enough for the kinks of relu6 and hard_tanh.
# Midpoints, so that no node sits on a kink at 0.
_H = 20.0 / 8000
_Z = np.linspace(-10.0 + _H / 2, 10.0 - _H / 2, 8000)
_PDF = np.exp(-_Z * _Z / 2) / math.sqrt(2 * math.pi) * _H
#: Activations whose moments are exactly scale-free: (E[f^2], E[f'^2]) at unit scale.
_SCALE_FREE = ("linear", "relu", "leaky_relu", "prelu", "rrelu")

#: |f'| below which a unit counts as saturated.
SATURATION = 0.01


def moments(name: str, s: float, params: Optional[Dict[str, float]] = None
            ) -> Optional[Tuple[float, float, float]]:
    """(E[f(sz)^2], E[f'(sz)^2], P(|f'(sz)| < 0.01)) for z ~ N(0, 1)."""
    if name in _SCALE_FREE:
        m = second_moments(name, params)
        assert m is not None  # the catalog has the moments of every scale-free activation
        m2, dm2 = m
        return m2 * s * s, dm2, 0.0
    fns = activation_functions(name, params)
    if fns is None:
        return None
    f, df = fns
    h = s * _Z
    d = df(h)
    # P(|f'| < 0.01) in closed form: an indicator integrates poorly on a grid.
    sat = variance.saturated_fraction(name, s) or 0.0
    return float(np.sum(_PDF * f(h) ** 2)), float(np.sum(_PDF * d ** 2)), sat


# --- input and output ------------------------------------------------------------------------


@dataclass
class Step:
    """One layer of a stack, as the checker needs it."""

    fan_in: int
    fan_out: int
    activation: str
    init: InitSpec
    params: Dict[str, float] = field(default_factory=dict)
    receptive: int = 1
    name: str = ""
    kind: str = "dense"


@dataclass
class StepResult:
    forward_std: float  # pre-activation std
    backward_std: float  # std of the gradient at the pre-activation
    saturated: float  # fraction of units with |f'| < 0.01 (tanh, sigmoid; else 0)
    dead: Optional[float] = None  # fraction of ReLU units never active (Monte Carlo only)


@dataclass
class Result:
    steps: List[StepResult]

    @property
    def forward_drift(self) -> float:
        return ratio(self.steps[-1].forward_std, self.steps[0].forward_std)

    @property
    def backward_drift(self) -> float:
        return ratio(self.steps[0].backward_std, self.steps[-1].backward_std)


def ratio(b: float, a: float) -> float:
    """A drift, b over a; infinite when a is 0."""
    return b / a if a > 0 else math.inf


class Unsupported(ValueError):
    """The stack has a layer the checker cannot model (unknown fans or activation)."""


def _second_moment(step: Step) -> float:
    m = variance.second_moment(step.init, step.fan_in, step.fan_out, step.receptive)
    if m is None:
        raise Unsupported(f"initializer {step.init.display or step.init.family} has no variance")
    return m


# --- analytic ------------------------------------------------------------------------------


def analytic(steps: Sequence[Step], input_second_moment: float = 1.0) -> Result:
    """Closed-form propagation of the second moments, forward then backward."""
    if not steps:
        raise Unsupported("empty stack")
    q = input_second_moment
    pre: List[float] = []
    dmom: List[float] = []
    sat: List[float] = []
    for st in steps:
        s2 = st.fan_in * _second_moment(st) * q
        s = math.sqrt(max(s2, 0.0))
        m = moments(st.activation, s, st.params)
        if m is None:
            raise Unsupported(f"activation {st.activation} is not modelled")
        q, d2, saturated = m
        pre.append(s)
        dmom.append(d2)
        sat.append(saturated)
    # Backward: an N(0, 1) upstream gradient at the last layer's output.
    back = [0.0] * len(steps)
    g2 = 1.0
    for i in range(len(steps) - 1, -1, -1):
        d2 = dmom[i] * g2
        back[i] = math.sqrt(d2)
        # The gradient at this layer's input sums fan_out terms: Var = fan_out * E[W^2] * Var.
        g2 = d2 * steps[i].fan_out * _second_moment(steps[i])
    return Result([StepResult(pre[i], back[i], sat[i]) for i in range(len(steps))])


# --- Monte Carlo ----------------------------------------------------------------------------


def sample_weights(spec: InitSpec, fan_in: int, fan_out: int, rng: np.random.Generator,
                   receptive: int = 1) -> np.ndarray:
    """A (fan_in, fan_out) matrix drawn from the initializer's own distribution."""
    shape = (fan_in, fan_out)
    if spec.family == "constant":
        return np.full(shape, float(spec.value or 0.0))
    if spec.family == "orthogonal":
        a = rng.standard_normal((max(shape), min(shape)))
        qm, r = np.linalg.qr(a)
        qm = qm * np.sign(np.diag(r))
        w = qm if shape[0] >= shape[1] else qm.T
        return w * (spec.gain if spec.gain is not None else 1.0)
    var = variance.weight_variance(spec, fan_in, fan_out, receptive)
    if var is None:
        raise Unsupported(f"initializer {spec.display or spec.family} has no variance")
    mean = spec.mean if spec.family == "fixed" else 0.0
    dist = spec.distribution
    if dist == "uniform":
        if spec.family == "fixed" and spec.low is not None and spec.high is not None:
            return rng.uniform(spec.low, spec.high, shape)
        b = math.sqrt(3 * var)
        return rng.uniform(-b, b, shape)
    if dist in ("truncated_normal", "truncated_normal_raw"):
        # Keras corrects the std so the truncated draw has the target variance; a raw draw
        # (tf.random.truncated_normal, torch's trunc_normal_ at +-2 std) does not.
        sd = math.sqrt(var) / math.sqrt(TRUNC_VAR_FACTOR)
        z = rng.standard_normal(shape)
        bad = np.abs(z) > 2
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(z) > 2
        return mean + sd * z
    return mean + math.sqrt(var) * rng.standard_normal(shape)


def monte_carlo(steps: Sequence[Step], batch: int = 1024, seed: int = 0) -> Result:
    """Push N(0, 1) inputs through sampled weights, and a random gradient back."""
    if not steps:
        raise Unsupported("empty stack")
    rng = np.random.default_rng(seed)
    # Each matrix is (fan_in, width) with width the next layer's fan_in: consecutive layers
    # must chain. The last layer keeps its own fan_out (divided by its receptive field).
    widths = [steps[i + 1].fan_in for i in range(len(steps) - 1)]
    widths.append(max(1, steps[-1].fan_out // max(steps[-1].receptive, 1)))
    x = rng.standard_normal((batch, steps[0].fan_in))
    hs: List[np.ndarray] = []
    ws: List[np.ndarray] = []
    dfs: List[ArrayFn] = []  # each layer's activation derivative, for the backward pass
    for st, width in zip(steps, widths):
        fns = activation_functions(st.activation, st.params)
        if fns is None:
            raise Unsupported(f"activation {st.activation} is not modelled")
        if x.shape[1] != st.fan_in:
            raise Unsupported("consecutive layers do not chain")
        w = sample_weights(st.init, st.fan_in, width, rng, st.receptive)
        h = x @ w
        hs.append(h)
        ws.append(w)
        dfs.append(fns[1])
        x = fns[0](h)
    g = rng.standard_normal(x.shape)
    out: List[StepResult] = []  # from the last layer back
    for i in range(len(steps) - 1, -1, -1):
        d = dfs[i](hs[i])
        delta = g * d
        sat = float(np.mean(np.abs(d) < SATURATION)) if steps[i].activation in (
            "tanh", "sigmoid") else 0.0
        dead = None
        if steps[i].activation in ("relu", "relu6"):
            dead = float(np.mean(np.all(hs[i] <= 0, axis=0)))
        out.append(StepResult(float(hs[i].std()), float(delta.std()), sat, dead))
        g = delta @ ws[i].T
    return Result(out[::-1])


def monte_carlo_mean(steps: Sequence[Step], seeds: Sequence[int] = (0, 1, 2, 3, 4),
                     batch: int = 1024) -> Tuple[float, float]:
    """Forward and backward drift averaged over seeds."""
    runs = [monte_carlo(steps, batch, s) for s in seeds]
    return (float(np.mean([r.forward_drift for r in runs])),
            float(np.mean([r.backward_drift for r in runs])))


# --- from the reader's model -------------------------------------------------------------


def steps_for(stack: Stack, init_for: Optional[Callable[[Layer], InitSpec]] = None
              ) -> List[Step]:
    """The stack's layers as checker steps (raises :class:`Unsupported` when one cannot be
    modelled: unknown fans, activation or variance)."""
    out: List[Step] = []
    for layer in stack.layers:
        kernels = layer.kernels
        if not kernels:
            raise Unsupported(f"{layer.type_name} has no kernel")
        w = kernels[-1]  # separable convs: the pointwise kernel feeds the activation
        if w.fan_in is None or w.fan_out is None:
            raise Unsupported(f"fans of {layer.name or layer.type_name} are not known")
        act = layer.activation
        name = act.name if act.known else "unknown"
        if name == "unknown" or activation_functions(name, act.params) is None:
            raise Unsupported(f"activation of {layer.name or layer.type_name} is not known")
        spec = init_for(layer) if init_for is not None else w.init
        out.append(Step(w.fan_in, w.fan_out, name, spec, dict(act.params), w.receptive,
                        layer.name or layer.type_name, layer.kind))
    return out
