"""The variance checker: acceptance figures, analytic against Monte Carlo, and every rule's
recommendation validated through it."""

from __future__ import annotations

import pytest

from initlint import checker as C
from initlint import variance
from initlint.catalog import keras as K
from initlint.model import InitSpec


def spec(cls: str, **kw) -> InitSpec:
    return K.make_spec(cls, kw, cls)


def stack(init: InitSpec, act: str, width: int, depth: int):
    return [C.Step(width, width, act, init) for _ in range(depth)]


# (case, steps, quantity, value)
ACCEPTANCE = [
    ("glorot_normal + relu, 256 x 10", stack(spec("GlorotNormal"), "relu", 256, 10),
     "forward_drift", 0.0442),
    ("he_normal + relu, 256 x 10, forward", stack(spec("HeNormal"), "relu", 256, 10),
     "forward_drift", 1.00),
    ("he_normal + relu, 256 x 10, backward", stack(spec("HeNormal"), "relu", 256, 10),
     "backward_drift", 1.00),
    ("N(0,1) + sigmoid, 250 -> 250, pre-activation std",
     stack(spec("RandomNormal", stddev=1.0), "sigmoid", 250, 1), "first_std", 15.81),
    ("N(0,1) + sigmoid, 250 -> 250, saturated", stack(spec("RandomNormal", stddev=1.0),
                                                     "sigmoid", 250, 1), "saturated", 0.772),
    ("RandomNormal(0.05) + relu, 1024 x 10, last / input",
     stack(spec("RandomNormal", stddev=0.05), "relu", 1024, 10), "last_std", 4.86),
    ("RandomNormal(0.05) + tanh, 400 -> 400, pre-activation std",
     stack(spec("RandomNormal", stddev=0.05), "tanh", 400, 1), "first_std", 1.00),
    ("lecun_normal + selu, 256 x 20", stack(spec("LecunNormal"), "selu", 256, 20),
     "forward_drift", 1.00),
    ("glorot_uniform + tanh, 256 x 20", stack(spec("GlorotUniform"), "tanh", 256, 20),
     "forward_drift", 0.165),
]


def quantity(result: C.Result, name: str) -> float:
    if name == "first_std":
        return result.steps[0].forward_std
    if name == "last_std":
        return result.steps[-1].forward_std  # inputs are N(0, 1): input std is 1
    if name == "saturated":
        return result.steps[0].saturated
    return getattr(result, name)


@pytest.mark.parametrize("case, steps, name, value", ACCEPTANCE,
                         ids=[a[0] for a in ACCEPTANCE])
def test_acceptance_analytic(case, steps, name, value):
    assert quantity(C.analytic(steps), name) == pytest.approx(value, rel=0.02)


@pytest.mark.parametrize("case, steps, name, value",
                         [a for a in ACCEPTANCE if len(a[1]) <= 10],
                         ids=[a[0] for a in ACCEPTANCE if len(a[1]) <= 10])
def test_acceptance_monte_carlo(case, steps, name, value):
    runs = [quantity(C.monte_carlo(steps, batch=1024, seed=s), name) for s in range(4)]
    assert sum(runs) / len(runs) == pytest.approx(value, rel=0.10)


@pytest.mark.parametrize("init, act, width, depth", [
    (spec("HeUniform"), "relu", 256, 8),
    (spec("GlorotUniform"), "tanh", 256, 6),
    (spec("LecunNormal"), "selu", 256, 8),
    (spec("GlorotNormal"), "relu", 512, 6),
    (spec("TruncatedNormal", stddev=0.05), "relu", 400, 5),
    (spec("Orthogonal"), "tanh", 128, 6),
    (InitSpec("framework_default", "uniform", scale=1 / 3, mode="fan_in"), "relu", 256, 5),
])
def test_analytic_and_monte_carlo_agree(init, act, width, depth):
    steps = stack(init, act, width, depth)
    a = C.analytic(steps)
    fwd, bwd = C.monte_carlo_mean(steps, seeds=(0, 1, 2, 3))
    assert fwd == pytest.approx(a.forward_drift, rel=0.10)
    assert bwd == pytest.approx(a.backward_drift, rel=0.10)


def test_dead_units_are_counted_in_monte_carlo():
    he = C.monte_carlo(stack(spec("HeNormal"), "relu", 256, 3), seed=0)
    assert all(s.dead < 0.05 for s in he.steps)
    zero = C.monte_carlo([C.Step(64, 64, "relu", spec("HeNormal")),
                          C.Step(64, 64, "relu", InitSpec("constant", "constant", value=0.0)),
                          C.Step(64, 1, "linear", spec("HeNormal"))], seed=0)
    assert zero.steps[1].dead == 1.0 and zero.steps[1].backward_std == 0.0


# --- every rule's recommendation, validated through the checker -----------------------------

DEPTHS = (2, 5, 10, 20)
WIDTHS = (64, 256, 1024)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("act, family, input_std", [
    ("relu", "he", 1.0), ("leaky_relu", "he", 1.0), ("selu", "lecun", 1.0),
    ("tanh", "glorot", 0.1), ("linear", "glorot", 1.0)])
def test_recommended_initializer_keeps_the_signal(act, family, input_std, depth, width):
    """IL001-IL003 recommend He for the ReLU family, LeCun for SELU, Glorot for tanh (in its
    near-linear regime) and linear layers: drift stays within [0.5, 2] at every depth."""
    steps = stack(variance.family_spec(family, "normal"), act, width, depth)
    r = C.analytic(steps, input_second_moment=input_std ** 2)
    assert 0.5 <= r.forward_drift <= 2.0
    assert 0.5 <= r.backward_drift <= 2.0


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("depth", (5, 10, 20))
def test_flagged_initializers_do_not(depth, width):
    """What the rules flag drifts out of [0.5, 2]: Glorot on ReLU (IL002) from depth 5, and a
    unit-variance draw (IL003) at once."""
    glorot = C.analytic(stack(variance.family_spec("glorot", "normal"), "relu", width, depth))
    assert glorot.forward_drift < 0.5 and glorot.backward_drift < 0.5
    unit = C.analytic(stack(spec("RandomNormal", stddev=1.0), "relu", width, depth))
    assert unit.steps[0].forward_std > 2 * C.analytic(
        stack(variance.family_spec("he", "normal"), "relu", width, depth)).steps[0].forward_std


def test_sigmoid_shrinks_gradients_whatever_the_initializer():
    """With sigmoid every standard initializer shrinks the gradient 0.24-0.32x per layer."""
    for family in ("he", "glorot", "lecun"):
        r = C.analytic(stack(variance.family_spec(family, "normal"), "sigmoid", 256, 11))
        per_layer = r.backward_drift ** (1 / 10)
        assert 0.2 <= per_layer <= 0.35, family


def test_he_on_silu_and_gelu_still_shrinks_and_he_on_tanh_is_stable():
    for act in ("silu", "gelu"):
        r = C.analytic(stack(variance.family_spec("he", "normal"), act, 256, 10))
        assert r.forward_drift < 1.0, act
    tanh = C.analytic(stack(variance.family_spec("he", "normal"), "tanh", 256, 20))
    assert 0.5 < tanh.forward_drift < 1.0  # a stable forward fixed point
    assert tanh.backward_drift ** (1 / 19) == pytest.approx(1.05, abs=0.03)


def test_unsupported_stacks_say_why():
    with pytest.raises(C.Unsupported):
        C.analytic([C.Step(8, 8, "unknown", spec("HeNormal"))])
    with pytest.raises(C.Unsupported):
        C.analytic([C.Step(8, 8, "relu", InitSpec("unknown"))])


def _scale_keeping_forward(act: str) -> float:
    lo, hi = 1.0, 6.0
    for _ in range(40):
        mid = (lo + hi) / 2
        r = C.analytic(stack(InitSpec("scaled", "normal", scale=mid, mode="fan_in"), act, 256, 10))
        lo, hi = (mid, hi) if r.forward_drift < 1 else (lo, mid)
    return lo


@pytest.mark.parametrize("act, he_fwd, scale", [
    ("silu", 0.148, 2.43), ("gelu", 0.56, 2.16), ("mish", 0.73, 2.11), ("elu", 1.80, 1.63)])
def test_il002_explain_figures_beyond_relu(act, he_fwd, scale):
    """The `--explain IL002` table: He on smooth ReLU-like activations, and the scale that
    keeps the forward signal."""
    from initlint import rules

    he = C.analytic(stack(variance.family_spec("he", "normal"), act, 256, 10))
    assert he.forward_drift == pytest.approx(he_fwd, rel=0.01)
    assert _scale_keeping_forward(act) == pytest.approx(scale, abs=0.01)
    assert f"| {act} |" in rules.get("IL002").doc and f"{scale}" in rules.get("IL002").doc


@pytest.mark.parametrize("width", WIDTHS)
def test_il006_selu_leaves_its_fixed_point_off_lecun(width):
    """IL006: He (fan_in·Var(W) = 2) grows a SELU stack's signal past 2x by eight layers and
    PyTorch's default (1/3) shrinks it past 4x by six; LeCun stays near 1 (above)."""
    he = C.analytic(stack(variance.family_spec("he", "normal"), "selu", width, 8))
    assert he.forward_drift >= 2.0
    torch_default = C.analytic(stack(spec("RandomNormal", stddev=(1 / (3 * width)) ** 0.5),
                                     "selu", width, 6))
    assert torch_default.forward_drift <= 0.25
