"""The numbers behind the rules, checked independently with NumPy.

The activation moments in the catalog are checked by quadrature; the rules' claims (Glorot
shrinks a ReLU stack, He keeps it, a unit-variance draw saturates a sigmoid) by pushing a
batch through sampled weight matrices.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import lint
from initlint import variance
from initlint.catalog import activations as A
from initlint.catalog import keras as K

ACT_FNS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "relu6": lambda z: np.clip(z, 0, 6),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
    "selu": lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0))),
    "gelu": lambda z: 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2))),
    "silu": lambda z: z / (1 + np.exp(-z)),
    "mish": lambda z: z * np.tanh(np.log1p(np.exp(z))),
    "hardswish": lambda z: z * np.clip(z + 3, 0, 6) / 6,
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "hard_sigmoid": lambda z: np.clip(z / 6 + 0.5, 0, 1),
    "hard_tanh": lambda z: np.clip(z, -1, 1),
    "softsign": lambda z: z / (1 + np.abs(z)),
    "softplus": lambda z: np.log1p(np.exp(z)),
}


def _moments(f):
    z = np.linspace(-12, 12, 400001)
    pdf = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    y = f(z)
    dy = np.gradient(y, z)
    return float(np.trapezoid(y * y * pdf, z)), float(np.trapezoid(dy * dy * pdf, z)), float(y[len(z) // 2]), float(dy[len(z) // 2])


@pytest.mark.parametrize("name", sorted(ACT_FNS))
def test_activation_facts_match_quadrature(name):
    m2, dm2, f0, df0 = _moments(ACT_FNS[name])
    facts = A.ACTIVATIONS[name]
    assert facts.m2 == pytest.approx(m2, abs=2e-3)
    assert facts.dm2 == pytest.approx(dm2, abs=2e-3)
    assert facts.f0 == pytest.approx(f0, abs=1e-3)
    if facts.df0 is not None and name not in ("relu", "relu6", "selu"):  # kinks at 0
        assert facts.df0 == pytest.approx(df0, abs=1e-2)


def test_leaky_second_moment():
    assert A.second_moments("leaky_relu", {"slope": 0.2}) == pytest.approx((0.52, 0.52))


def _mc_forward(spec, act, width, depth, seed=0, batch=1024):
    """std of the last over the first hidden layer, sampling real weight matrices."""
    rng = np.random.default_rng(seed)
    f = ACT_FNS[act]
    x = rng.standard_normal((batch, width))
    stds = []
    for _ in range(depth):
        var = variance.weight_variance(spec, width, width)
        if spec.distribution == "uniform":
            lim = math.sqrt(3 * var)
            w = rng.uniform(-lim, lim, (width, width))
        else:
            w = rng.normal(0, math.sqrt(var), (width, width))
        x = f(x @ w)
        stds.append(x.std())
    return stds[-1] / stds[0]


@pytest.mark.parametrize("width", [64, 256, 1024])
def test_il002_claim_glorot_shrinks_relu_he_keeps_it(width):
    glorot = K.make_spec("GlorotUniform", {}, "")
    he = K.make_spec("HeUniform", {}, "")
    # the analytic per-layer factor the message quotes
    assert variance.layer_gain(glorot, "relu", width, width) == pytest.approx(2**-0.5)
    assert variance.layer_gain(he, "relu", width, width) == pytest.approx(1.0)
    drift_g = np.mean([_mc_forward(glorot, "relu", width, 10, s) for s in range(3)])
    drift_h = np.mean([_mc_forward(he, "relu", width, 10, s) for s in range(3)])
    assert drift_g == pytest.approx((2**-0.5) ** 9, rel=0.15)  # 0.044: 9 steps, first to last
    assert 0.8 < drift_h < 1.25


def test_il003_claim_unit_normal_saturates_sigmoid():
    spec = K.make_spec("RandomNormal", {"stddev": 1.0}, "")
    pre = variance.preactivation_std(spec, 250)
    assert pre == pytest.approx(15.81, abs=0.01)
    assert variance.saturated_fraction("sigmoid", pre) == pytest.approx(0.772, abs=0.001)
    rng = np.random.default_rng(0)
    h = rng.standard_normal((1024, 250)) @ rng.standard_normal((250, 250))
    s = 1 / (1 + np.exp(-h))
    assert float(np.mean(s * (1 - s) < 0.01)) == pytest.approx(0.772, abs=0.01)
    (line, code, msg), = lint("import keras\nfrom keras import layers\ni = keras.Input((250,))\n"
                              "o = layers.Dense(250, activation='sigmoid', kernel_initializer="
                              "keras.initializers.RandomNormal(stddev=1.0))(i)\n")
    assert "saturates 77.2% of sigmoid units at fan-in 250" in msg
    assert "√250 = 15.8" in msg


def test_il003_claim_fixed_std_depends_on_width():
    spec = K.make_spec("RandomNormal", {}, "")
    assert variance.preactivation_std(spec, 13) == pytest.approx(0.18, abs=0.001)
    assert variance.preactivation_std(spec, 400) == pytest.approx(1.0)
    # the recommendation removes the width dependence
    for width in (13, 64, 400, 1024):
        he = variance.recommended_preactivation_std("he", width, width)
        assert he == pytest.approx(math.sqrt(2))


@pytest.mark.parametrize(
    "act, family",
    [("relu", "he"), ("leaky_relu", "he"), ("elu", "he"), ("selu", "lecun"), ("tanh", "glorot"),
     ("sigmoid", "glorot"), ("linear", "glorot")],
)
def test_recommended_family_per_activation(act, family):
    assert A.recommended_family(act) == family


def test_recommended_he_keeps_relu_drift_within_bounds_over_depth():
    he = K.make_spec("HeNormal", {}, "")
    for depth in (2, 5, 10, 20):
        for width in (64, 1024):
            g = variance.layer_gain(he, "relu", width, width)
            assert 0.5 <= g**depth <= 2
    glorot = K.make_spec("GlorotNormal", {}, "")
    assert variance.layer_gain(glorot, "relu", 256, 256) ** 10 < 0.5


def _deriv(act, z):
    if act == "relu":
        return (z > 0).astype(float)
    return 1 - np.tanh(z) ** 2


def _train(w1, w2, w3, act, x, y, steps=200, lr=0.05):
    """Full-batch gradient descent on a 3-layer MLP with zero biases; returns W1, W2."""
    f = ACT_FNS[act]
    for _ in range(steps):
        h1p = x @ w1
        h1 = f(h1p)
        h2p = h1 @ w2
        h2 = f(h2p)
        g = 2 * (h2 @ w3 - y) / len(x)
        d2 = (g @ w3.T) * _deriv(act, h2p)
        d1 = (d2 @ w2.T) * _deriv(act, h1p)
        w3 = w3 - lr * h2.T @ g
        w2 = w2 - lr * h1.T @ d2
        w1 = w1 - lr * x.T @ d1
    return w1, w2


def test_dead_relu_and_symmetry_claims_by_training():
    """A zero hidden layer before ReLU never moves (IL001 error); before tanh it learns through
    the random next layer (IL101 info); two constant layers stay rank one (IL001 error)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 8))
    y = np.sin(x @ rng.standard_normal((8, 1)))

    def rand(*s):
        return rng.standard_normal(s) * math.sqrt(1 / s[0])

    w1, _ = _train(np.zeros((8, 32)), rand(32, 32), rand(32, 1), "relu", x, y)
    assert np.abs(w1).max() == 0
    w1, _ = _train(np.zeros((8, 32)), rand(32, 32), rand(32, 1), "tanh", x, y)
    assert np.linalg.matrix_rank(w1, tol=1e-8) == 8
    _, w2 = _train(np.full((8, 32), 0.1), np.full((32, 32), 0.1), rand(32, 1), "tanh", x, y)
    assert np.linalg.matrix_rank(w2, tol=1e-8) == 1
    # and the rule agrees with each verdict
    src = """from keras import layers, Sequential
m1 = Sequential([layers.Dense(32, activation="relu", kernel_initializer="zeros"), layers.Dense(32, activation="relu"), layers.Dense(1)])
m2 = Sequential([layers.Dense(32, activation="tanh", kernel_initializer="zeros"), layers.Dense(32, activation="tanh"), layers.Dense(1)])
m3 = Sequential([layers.Dense(32, activation="tanh", kernel_initializer="ones"), layers.Dense(32, activation="tanh", kernel_initializer="ones"), layers.Dense(1)])
"""
    got = [(line, code) for line, code, _ in lint(src, select=["IL001", "IL101"])]
    assert got == [(2, "IL001"), (3, "IL101"), (4, "IL001"), (4, "IL101")]


# --- the exemptions IL002 makes, checked the same way ------------------------------------------


def _stack(init_var, depth, width=256, norm=False, residual=False, seed=0):
    """std of the signal after ``depth`` ReLU layers (or pre-norm residual blocks)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1024, width))
    for _ in range(depth):
        w = rng.standard_normal((width, width)) * math.sqrt(init_var)
        if residual:
            h = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)  # LayerNorm
            w2 = rng.standard_normal((width, width)) * math.sqrt(init_var)
            x = x + np.maximum(h @ w, 0) @ w2
            continue
        z = x @ w
        if norm:
            z = (z - z.mean(0)) / z.std(0)  # BatchNorm (training statistics)
        x = np.maximum(z, 0)
    return float(x.std())


def test_normalization_divides_out_the_kernel_scale():
    """Glorot and He give the same signal when BatchNorm follows the kernel: IL002 is moot."""
    glorot, he = 2 / 512, 2 / 256
    assert _stack(glorot, 10, norm=True) == pytest.approx(_stack(he, 10, norm=True), rel=1e-6)
    # Without normalization the same two stacks differ by the 0.71^10 IL002 quotes.
    ratio = _stack(glorot, 10) / _stack(he, 10)
    assert ratio == pytest.approx(0.707 ** 10, rel=0.15)


def test_residual_branches_do_not_compound():
    """In pre-norm residual blocks the branch's gain is added, not multiplied: 10 blocks of
    Glorot+ReLU branches keep the same order of signal as He branches, far from 0.71^10."""
    glorot, he = 2 / 512, 2 / 256
    ratio = _stack(glorot, 10, residual=True) / _stack(he, 10, residual=True)
    assert 0.5 < ratio < 1.0
    assert ratio > 10 * 0.707 ** 10
