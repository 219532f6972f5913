"""initlint's Keras catalog checked against the real library (Keras 3, torch backend)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

from conftest import FIXTURES, require  # noqa: E402
from initlint import variance  # noqa: E402
from initlint.catalog import keras as K  # noqa: E402

keras = require("keras")

NEEDS_SCIPY = {"STFT", "stft", "STFTInitializer"}


def test_every_accepted_string_is_accepted_by_keras():
    for s, cls in K.STRING_ALIASES.items():
        if s in NEEDS_SCIPY or cls == "STFT":
            continue
        if K.INITIALIZERS[cls].string_broken:
            with pytest.raises(Exception):
                keras.initializers.get(s)
            continue
        obj = keras.initializers.get(s)
        assert type(obj).__name__ == cls, s


def test_every_suggested_string_and_class_exists():
    for (family, dist), cls in K.CLASS_FOR.items():
        assert type(keras.initializers.get(K.to_snake(cls))).__name__ == cls
        assert type(keras.initializers.get(cls)).__name__ == cls
        assert getattr(keras.initializers, cls) is getattr(keras.initializers, K.to_snake(cls))


def test_class_names_are_attributes():
    for name, cls in K.CLASS_NAMES.items():
        if cls == "STFT":
            continue
        assert getattr(keras.initializers, name).__name__ == cls


@pytest.mark.parametrize(
    "s",
    sorted(K.COMMON_WRONG_NAMES)
    + sorted(K.KERAS2_EXTRA_STRINGS)
    + ["ZEROS", "Zero", "One", "Normal", "Uniform", "Glorot_Uniform", "GLOROT_UNIFORM",
       "randomnormal", "Random_Normal", "default", ""],
)
def test_strings_initlint_calls_invalid_are_rejected(s):
    assert s not in K.STRING_ALIASES
    with pytest.raises(ValueError):
        keras.initializers.get(s)


@pytest.mark.parametrize("s", ["he", "xavier", "xavier_uniform", "kaiming_normal", "gaussian",
                               "Glorot_Uniform", "GlorotUnifrom", "lecun_nrmal", "orthogonl",
                               "zeroes", "Uniform", "trunc_normal", "eye", "HeNormall"])
def test_what_a_rejected_name_may_have_meant_is_accepted(s):
    """IL004's premise and its fix: Keras rejects the string, and accepts every suggestion."""
    assert s not in K.KNOWN_STRINGS
    with pytest.raises(ValueError):
        keras.layers.Dense(4, kernel_initializer=s)
    assert K.suggestions(s)
    for name in K.suggestions(s):
        keras.layers.Dense(4, kernel_initializer=name)


def _sample(cls_name, kwargs, shape):
    init = getattr(keras.initializers, cls_name)(**kwargs)
    return np.asarray(keras.ops.convert_to_numpy(init(shape)))


CASES = [
    ("GlorotUniform", {}), ("GlorotNormal", {}), ("HeUniform", {}), ("HeNormal", {}),
    ("LecunUniform", {}), ("LecunNormal", {}), ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}),
    ("VarianceScaling", {"scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"}),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "normal"}),
    ("RandomNormal", {}), ("RandomNormal", {"stddev": 0.02}), ("RandomUniform", {}),
    ("RandomUniform", {"minval": -0.3, "maxval": 0.1}), ("TruncatedNormal", {}),
    ("TruncatedNormal", {"stddev": 1.0}), ("Orthogonal", {}), ("Orthogonal", {"gain": 2.0}),
]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=[f"{c}{k}" for c, k in CASES])
@pytest.mark.parametrize("shape", [(1024, 512), (3, 3, 64, 128)], ids=["dense", "conv"])
def test_catalog_variance_matches_sampled_kernel(cls, kwargs, shape):
    rf = int(np.prod(shape[:-2]))
    fan_in, fan_out = shape[-2] * rf, shape[-1] * rf
    spec = K.make_spec(cls, kwargs, cls)
    predicted = variance.second_moment(spec, fan_in, fan_out, rf)
    w = _sample(cls, dict(kwargs, seed=1), shape)
    assert float(np.mean(w**2)) == pytest.approx(predicted, rel=0.05)


@pytest.mark.parametrize("name", sorted(K.LAYERS))
def test_layer_defaults_and_positional_order(name):
    cls = getattr(keras.layers, name)
    d = K.LAYERS[name]
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    names = [p.name for p in params]
    # positional order: what initlint binds positionally is what Keras binds
    assert names[: len(d.positional)] == list(d.positional), name
    defaults = {p.name: p.default for p in params}
    for role, (kw, default) in d.weights.items():
        got = defaults[kw]
        assert K.STRING_ALIASES[got] == K.STRING_ALIASES[default], (name, kw)
    if d.activation is not None:
        kw, default = d.activation
        assert defaults[kw] == default


def test_activation_strings_are_accepted():
    for s in K.ACTIVATION_STRINGS:
        assert callable(keras.activations.get(s)), s
    for bad in ("Relu", "RELU", "LeakyReLU", "prelu", "identity"):
        with pytest.raises(ValueError):
            keras.activations.get(bad)


def test_activation_layer_slopes():
    assert keras.layers.LeakyReLU().negative_slope == pytest.approx(K.LEAKY_LAYER_SLOPE)
    sig = inspect.signature(keras.activations.leaky_relu)
    assert sig.parameters["negative_slope"].default == pytest.approx(K.LEAKY_FN_SLOPE)


@pytest.mark.parametrize(
    "layer_src, build_shape, role",
    [
        ("layers.Dense(256)", (None, 512), "kernel"),
        ("layers.Conv1D(64, 5)", (None, 100, 32), "kernel"),
        ("layers.Conv2D(64, (3, 5), groups=4)", (None, 16, 16, 16), "kernel"),
        ("layers.Conv3D(16, 3)", (None, 8, 8, 8, 8), "kernel"),
        ("layers.Conv2DTranspose(64, 3)", (None, 8, 8, 16), "kernel"),
        ("layers.Conv1DTranspose(64, 5)", (None, 8, 32), "kernel"),
        ("layers.DepthwiseConv2D(3, depth_multiplier=2)", (None, 8, 8, 16), "depthwise"),
        ("layers.SeparableConv2D(64, 3, depth_multiplier=2)", (None, 8, 8, 16), "depthwise"),
        ("layers.SeparableConv2D(64, 3, depth_multiplier=2)", (None, 8, 8, 16), "pointwise"),
        ("layers.LSTM(64)", (None, 10, 32), "kernel"),
        ("layers.LSTM(64)", (None, 10, 32), "recurrent"),
        ("layers.GRU(64)", (None, 10, 32), "kernel"),
        ("layers.SimpleRNN(64)", (None, 10, 32), "recurrent"),
    ],
)
def test_reader_fans_match_built_kernels(layer_src, build_shape, role):
    import libcst as cst

    from initlint.readers.keras import KerasReader

    src = f"from keras import layers\nx = {layer_src[:-1]}, input_shape={build_shape[1:]!r})\n"
    w = KerasReader().read(cst.parse_module(src), src).layers[0].weight(role)
    layer = eval(layer_src, {"layers": keras.layers})
    layer.build(build_shape)
    attr = {"kernel": "kernel", "recurrent": "recurrent_kernel", "depthwise": "depthwise_kernel",
            "pointwise": "pointwise_kernel"}[role]
    if hasattr(layer, "cell"):
        layer = layer.cell
    shape = tuple((getattr(layer, attr, None) if hasattr(layer, attr) else layer.kernel).shape)
    from keras.src.initializers.random_initializers import compute_fans

    assert (w.fan_in, w.fan_out) == tuple(int(x) for x in compute_fans(shape))


@pytest.mark.parametrize("name", ["unsafe_fixes", "safe_swaps"])
def test_fixed_fixture_builds_under_keras(tmp_path, name):
    src_path = FIXTURES / "fix" / f"{name}.py"
    target = tmp_path / f"{name}.py"
    target.write_bytes(src_path.read_bytes())
    args = src_path.read_text().splitlines()[0].split(":", 1)[1].split()
    r = subprocess.run([sys.executable, "-m", "initlint", *args, str(target)], capture_output=True)
    assert r.returncode in (0, 1) and b"Fixed" in r.stdout, r.stdout + r.stderr
    script = (
        "import runpy, numpy as np, keras\n"
        f"ns = runpy.run_path({str(target)!r})\n"
        "m = ns['model']\n"
        "m.build((None, 250))\n"
        "w = np.asarray(keras.ops.convert_to_numpy(m.layers[0].kernel))\n"
        "print(w.shape[0], float((w**2).mean()))\n"
    )
    env = dict(os.environ, KERAS_BACKEND="torch")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    fan_in, var = r.stdout.decode().split()[-2:]
    assert float(var) == pytest.approx(2 / int(fan_in), rel=0.1)  # he_uniform on a ReLU layer


@pytest.mark.parametrize("layer, args", [("Dense", (4,)), ("Embedding", (10, 4)),
                                         ("LSTM", (4,)), ("Conv2D", (4, 3))])
def test_keras1_initializer_arguments_are_rejected_and_their_renames_accepted(layer, args):
    """IL005's premise and fix: Keras 3 rejects ``init=``/``inner_init=``, and accepts the
    keyword of the weight each set."""
    cls = getattr(keras.layers, layer)
    defn = K.LAYERS[layer]
    for old, roles in K.KERAS1_INIT_KWARGS.items():
        news = [defn.weights[r][0] for r in roles if r in defn.weights]
        if not news:
            continue
        with pytest.raises(ValueError) as err:
            cls(*args, **{old: "zeros"})
        quoted = K.KERAS1_REJECTED.format(layer=layer, kw=old)
        assert quoted.split(": ", 1)[1].split(" {")[0] in f"ValueError: {err.value}"
        cls(*args, **{news[0]: "zeros"})


def test_keras1_initializations_module_is_gone():
    """IL005's fact for ``keras.initializations``: Keras 3 has no such module."""
    assert not hasattr(keras, K.KERAS1_MODULE)
    with pytest.raises(ImportError, match="cannot import name 'initializations'"):
        exec(f"from keras import {K.KERAS1_MODULE}", {})
    assert hasattr(keras, "initializers")
