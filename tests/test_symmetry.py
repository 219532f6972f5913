"""The analytic symmetry verdict agrees with a small NumPy training run on every placement."""

from __future__ import annotations

import numpy as np
import pytest

from initlint import symmetry
from initlint.model import Activation, InitSpec, Layer, Weight

WIDTH = 32


def _spec(kind):
    if kind == "zeros":
        return InitSpec("constant", "constant", value=0.0)
    if kind == "const":
        return InitSpec("constant", "constant", value=0.1)
    return InitSpec("he", "normal", scale=2.0, mode="fan_in")


def _matrix(kind, fan_in, fan_out, rng):
    if kind == "zeros":
        return np.zeros((fan_in, fan_out))
    if kind == "const":
        return np.full((fan_in, fan_out), 0.1)
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)


# (hidden-1 kernel, hidden-2 kernel, activation, random ("torch") bias on hidden-1)
CASES = [
    ("zeros", "random", "relu", False),   # dead
    ("random", "zeros", "relu", False),   # dead
    ("zeros", "random", "tanh", False),   # trains via the next layer's rows
    ("zeros", "random", "gelu", False),
    ("zeros", "zeros", "tanh", False),    # f(0) = 0: nothing reaches either layer
    ("const", "const", "tanh", False),    # constant feeding constant: one unit
    ("const", "random", "tanh", False),   # rescued by the random next layer
    ("zeros", "random", "relu", True),    # a random bias: units with b > 0 survive
    ("random", "random", "relu", False),
]


def _layers(k1, k2, act, random_bias):
    out = Layer("dense", "numpy", "Dense", activation=Activation("linear"), position="output")
    h2 = Layer("dense", "numpy", "Dense", activation=Activation(act), position="hidden",
               zero_bias=True, uniform_bias=True, next=[out])
    h1 = Layer("dense", "numpy", "Dense", activation=Activation(act), position="hidden",
               zero_bias=not random_bias, uniform_bias=not random_bias, next=[h2])
    out.weights = [Weight("kernel", _spec("random"), WIDTH, 1)]
    h2.weights = [Weight("kernel", _spec(k2), WIDTH, WIDTH)]
    h1.weights = [Weight("kernel", _spec(k1), 8, WIDTH)]
    return h1, h2


@pytest.mark.parametrize("k1, k2, act, random_bias", CASES)
def test_verdict_matches_training(k1, k2, act, random_bias):
    rng = np.random.default_rng(0)
    ws = [_matrix(k1, 8, WIDTH, rng), _matrix(k2, WIDTH, WIDTH, rng),
          _matrix("random", WIDTH, 1, rng)]
    b1 = rng.uniform(-1 / np.sqrt(8), 1 / np.sqrt(8), WIDTH) if random_bias else np.zeros(WIDTH)
    bs = [b1, np.zeros(WIDTH), np.zeros(1)]
    trained = symmetry.training_run(ws, bs, act)
    broken_by_training = any(not moved or units == 1 for units, _rank, moved in trained)
    verdicts = [symmetry.verdict(layer) for layer in _layers(k1, k2, act, random_bias)]
    broken_by_analysis = any(v in (symmetry.DEAD, symmetry.SYMMETRIC) for v in verdicts)
    assert broken_by_analysis == broken_by_training, (verdicts, trained)
