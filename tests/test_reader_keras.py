"""The Keras reader's model of a file: kinds, fans, activations and initializers with provenance."""

from __future__ import annotations

import libcst as cst
import pytest

from initlint.readers.keras import KerasReader


def read(src: str):
    return KerasReader().read(cst.parse_module(src), src)


def only(src: str):
    net = read(src)
    assert len(net.layers) == 1, net.layers
    return net.layers[0]


def kernel(layer, role="kernel"):
    return layer.weight(role)


@pytest.mark.parametrize(
    "src, role, fans",
    [
        ("from keras import layers\nlayers.Dense(256, input_shape=(512,))", "kernel", (512, 256)),
        ("from keras import layers\nlayers.Dense(256, input_dim=512)", "kernel", (512, 256)),
        ("from keras import layers\nlayers.Conv1D(64, 5, input_shape=(100, 32))", "kernel", (160, 320)),
        ("from keras import layers\nlayers.Conv2D(64, 3, input_shape=(28, 28, 16))", "kernel", (144, 576)),
        ("from keras import layers\nlayers.Conv2D(64, (3, 3), groups=4, input_shape=(8, 8, 16))",
         "kernel", (36, 576)),
        ("from keras import layers\nlayers.Conv3D(16, 3, input_shape=(4, 4, 4, 8))", "kernel", (216, 432)),
        ("from keras import layers\nlayers.Conv2DTranspose(64, 3, input_shape=(8, 8, 16))", "kernel",
         (576, 144)),
        ("from keras import layers\nlayers.Conv1DTranspose(64, 5, input_shape=(8, 32))", "kernel",
         (320, 160)),
        ("from keras import layers\nlayers.DepthwiseConv2D(3, depth_multiplier=2, input_shape=(8, 8, 16))",
         "depthwise", (144, 18)),
        ("from keras import layers\nlayers.SeparableConv2D(64, 3, depth_multiplier=2, input_shape=(8, 8, 16))",
         "depthwise", (144, 18)),
        ("from keras import layers\nlayers.SeparableConv2D(64, 3, depth_multiplier=2, input_shape=(8, 8, 16))",
         "pointwise", (32, 64)),
        ("from keras import layers\nlayers.SimpleRNN(64, input_shape=(10, 32))", "kernel", (32, 64)),
        ("from keras import layers\nlayers.SimpleRNN(64, input_shape=(10, 32))", "recurrent", (64, 64)),
        ("from keras import layers\nlayers.LSTM(64, input_shape=(10, 32))", "kernel", (32, 256)),
        ("from keras import layers\nlayers.LSTM(64, input_shape=(10, 32))", "recurrent", (64, 256)),
        ("from keras import layers\nlayers.GRU(64, input_shape=(10, 32))", "kernel", (32, 192)),
        ("from keras import layers\nlayers.Embedding(1000, 64)", "embeddings", (1000, 64)),
    ],
)
def test_fans_match_keras_kernel_shapes(src, role, fans):
    # Expected values are the fans of the kernels Keras 3 builds (shared/reference §2.1).
    w = kernel(only(src), role)
    assert (w.fan_in, w.fan_out) == fans


def test_fans_flow_from_previous_layer_and_input():
    src = """
import keras
from keras import layers
inputs = keras.Input(shape=(28, 28, 3))
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.MaxPooling2D()(x)
x = layers.Conv2D(64, (5, 5))(x)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(10)(x)
"""
    a, b, c = read(src).layers
    assert (a.weight("kernel").fan_in, b.weight("kernel").fan_in, c.weight("kernel").fan_in) == (
        27, 800, 64)


def test_flatten_makes_fan_in_unknown_and_constants_are_folded():
    src = """
from keras import layers, Sequential
N = 64
HIDDEN = N * 2
m = Sequential([layers.Dense(HIDDEN, input_shape=(N,)), layers.Flatten(), layers.Dense(10)])
"""
    a, b = read(src).layers
    assert (a.weight("kernel").fan_in, a.weight("kernel").fan_out) == (64, 128)
    assert b.weight("kernel").fan_in is None


@pytest.mark.parametrize(
    "src, name, source",
    [
        ("from keras import layers\nlayers.Dense(3, activation='relu')", "relu", "keyword"),
        ("from keras import layers\nlayers.Dense(3, 'relu')", "relu", "positional"),
        ("import tensorflow as tf\ntf.keras.layers.Dense(3, activation=tf.nn.relu)", "relu", "keyword"),
        ("import keras\nkeras.layers.Dense(3, activation=keras.activations.gelu)", "gelu", "keyword"),
        ("from keras import layers\nlayers.Dense(3, activation='swish')", "silu", "keyword"),
        ("from keras import layers\nlayers.LSTM(3)", "tanh", "default"),
        ("from keras import layers\nlayers.Dense(3)", "unknown", "unknown"),
        ("from keras import layers\nlayers.Dense(3, activation='Relu')", "unknown", "keyword"),
    ],
)
def test_activation_on_the_layer(src, name, source):
    act = only(src).activation
    assert (act.name, act.source) == (name, source)


@pytest.mark.parametrize(
    "follower, name, slope",
    [
        ("layers.Activation('relu')", "relu", None),
        ("layers.ReLU()", "relu", None),
        ("layers.ReLU(max_value=6)", "relu6", None),
        ("layers.LeakyReLU()", "leaky_relu", 0.3),
        ("layers.LeakyReLU(negative_slope=0.1)", "leaky_relu", 0.1),
        ("layers.ELU()", "elu", None),
        ("layers.PReLU()", "prelu", None),
        ("layers.Activation('tanh')", "tanh", None),
    ],
)
def test_activation_from_the_next_layer(follower, name, slope):
    src = f"""
from keras import layers, Sequential
m = Sequential([layers.Dense(8), layers.BatchNormalization(), layers.Dropout(0.1), {follower},
                layers.Dense(1)])
"""
    first = read(src).layers[0]
    assert first.activation.name == name
    assert first.activation.source == "next_layer"
    assert first.normalized  # BatchNormalization came before the activation
    if slope is not None:
        assert first.activation.params["slope"] == pytest.approx(slope)


def test_normalized_only_before_the_activation():
    src = """
from keras import layers, Sequential
m = Sequential([layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                layers.Dense(8), layers.Dropout(0.1), layers.ReLU(), layers.Dense(1)])
"""
    a, b, _ = read(src).layers
    assert not a.normalized and not b.normalized


def test_activation_in_functional_chain_and_linear_when_consumed_directly():
    src = """
import keras
from keras import layers
i = keras.Input((4,))
x = layers.Dense(8)(i)
x = layers.Activation("selu")(x)
y = layers.Dense(8)(x)
z = layers.Dense(1)(y)
m = keras.Model(i, z)
"""
    a, b, c = read(src).layers
    assert (a.activation.name, a.activation.source) == ("selu", "next_layer")
    assert (b.activation.name, b.activation.source) == ("linear", "default")
    assert (a.position, b.position, c.position) == ("hidden", "hidden", "output")


@pytest.mark.parametrize(
    "expr, family, written, default",
    [
        ("'he_normal'", "he", "string", False),
        ("'normal'", "fixed", "string", False),
        ("'zero'", "constant", "string", False),
        ("initializers.HeNormal()", "he", "class_call", False),
        ("initializers.HeNormal", "he", "class_ref", False),
        ("initializers.he_normal(seed=2)", "he", "class_call", False),
        ("initializers.VarianceScaling(scale=2., mode='fan_in')", "he", "class_call", False),
        ("initializers.VarianceScaling(scale=2., mode='fan_avg')", "scaled", "class_call", False),
        ("initializers.VarianceScaling(1.0, 'fan_avg', 'uniform')", "glorot", "class_call", False),
        ("initializers.RandomNormal(stddev=1.0)", "fixed", "class_call", False),
        ("initializers.Constant(0.1)", "constant", "class_call", False),
        ("initializers.Orthogonal(gain=2)", "orthogonal", "class_call", False),
        ("None", "glorot", "none", True),
        ("my_factory(1.0)", "unknown", "function_call", False),
        ("'he'", "unknown", "string", False),
    ],
)
def test_initializer_forms(expr, family, written, default):
    src = f"from keras import layers, initializers\nlayers.Dense(3, kernel_initializer={expr})"
    spec = only(src).weight("kernel").init
    assert (spec.family, spec.written, spec.is_default) == (family, written, default)


def test_initializer_left_out_is_recorded_as_default():
    spec = only("from keras import layers\nlayers.Dense(3)").weight("kernel").init
    assert (spec.family, spec.distribution, spec.written) == ("glorot", "uniform", "default")


def test_initializer_bound_to_a_name_in_the_same_scope():
    src = """
from keras import layers
from keras.initializers import GlorotUniform
def build():
    init = GlorotUniform(seed=4)
    return layers.Dense(8, kernel_initializer=init)
"""
    spec = only(src).weight("kernel").init
    assert (spec.family, spec.written) == ("glorot", "variable")


def test_keras1_init_keyword():
    spec = only("from keras.layers import Dense\nDense(8, init='normal')").weight("kernel").init
    assert spec.family == "fixed" and spec.std == 0.05


def test_string_lookup_is_case_sensitive():
    spec = only("from keras import layers\nlayers.Dense(3, kernel_initializer='Zeros')").weight("kernel").init
    assert spec.is_zero
    spec = only("from keras import layers\nlayers.Dense(3, kernel_initializer='ZEROS')").weight("kernel").init
    assert spec.family == "unknown"


@pytest.mark.parametrize(
    "src",
    [
        "from mylib import Dense\nDense(3, kernel_initializer='zeros')",
        "class Dense:\n    pass\nDense(3, kernel_initializer='zeros')",
        "Dense(3, kernel_initializer='zeros')",
        "import keras\nclass Dense:\n    pass\nDense(3)",
        "from .layers import Dense\nDense(3)",
    ],
)
def test_names_are_resolved_through_imports(src):
    assert read(src).layers == []


def test_star_import_and_shadowing():
    src = "from keras.layers import *\nclass Conv1D:\n    pass\nDense(3)\nConv1D(3, 3)"
    layers = read(src).layers
    assert [l.type_name for l in layers] == ["Dense"]


def test_subclassed_model_links_attributes_through_call():
    src = """
import keras
from keras import layers
class M(keras.Model):
    def __init__(self):
        super().__init__()
        self.a = layers.Dense(8)
        self.b = layers.Dense(1)
    def call(self, x):
        x = keras.activations.relu(self.a(x))
        return self.b(x)
"""
    a, b = read(src).layers
    assert a.name == "self.a" and a.activation.name == "relu" and a.next == [b]
    assert b.position == "output"


def test_residual_sum_marks_branch_end():
    src = """
from keras import layers
def block(x):
    h = layers.Dense(8, activation="relu")(x)
    h = layers.Dense(8)(h)
    return x + h
"""
    a, b = read(src).layers
    assert not a.residual_branch_end and b.residual_branch_end


def test_sequential_used_inside_another_model_does_not_end_it():
    src = """
import keras
from keras import layers
block = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(8)])
i = keras.Input((8,))
o = layers.Dense(1)(block(i))
m = keras.Model(i, o)
"""
    a, b, c = read(src).layers
    assert b.position == "hidden" and b.next == [c] and c.position == "output"
    assert a.weight("kernel").fan_in == 8


def test_bias_facts():
    src = ("from keras import layers, initializers\n"
           "layers.Dense(3, use_bias=False)\n"
           "layers.Dense(3, bias_initializer='ones')\n"
           "layers.Dense(3, bias_initializer=None)\n"
           "layers.Dense(3, bias_initializer=initializers.Constant(arr))\n")
    a, b, c, d = read(src).layers
    assert (a.zero_bias, a.uniform_bias) == (True, True)
    assert (b.zero_bias, b.uniform_bias) == (False, True)
    assert (c.zero_bias, c.uniform_bias) == (False, False)  # None means glorot_uniform
    assert (d.zero_bias, d.uniform_bias) == (None, None)


# --- on the shared evaluator ------------------------------------------------------------


def _codes(src: str):
    from conftest import lint

    return sorted((line, code) for line, code, _ in lint(src))


SUBCLASSED = """
import keras
from keras import layers

class Net(keras.Model):
    def __init__(self, act="relu"):
        super().__init__()
        self.a = layers.Dense(64, activation=act, kernel_initializer="glorot_uniform")
        self.a2 = layers.Dense(64, activation="relu")
        self.a3 = layers.Dense(64, activation="relu")
        self.a4 = layers.Dense(64, activation="relu")
        self.b = layers.Dense(10)

    def call(self, x):
        return self.b(self.a4(self.a3(self.a2(self.a(x)))))

net = Net()
net.compile(optimizer="adam", loss="mse")
"""


def test_methods_that_keep_weights_keep_findings():
    assert _codes(SUBCLASSED) == [(8, "IL002")]


def test_weights_loaded_or_handed_to_unknown_code_are_unknown():
    assert _codes(SUBCLASSED + 'net.load_weights("w.h5")\n') == []
    src = SUBCLASSED.replace('net.compile(optimizer="adam", loss="mse")', "surgery.reinit(net.a)")
    assert _codes("from tools import surgery\n" + src) == []


def test_activation_from_the_call_site_of_a_class():
    assert _codes(SUBCLASSED.replace("net = Net()", 'net = Net(act="tanh")')) == []


def test_alternatives_that_agree_are_known_and_never_fixed():
    src = """
import sys
from keras import layers, Sequential
init = "glorot_uniform" if sys.argv[1] else "glorot_normal"
m = Sequential([layers.Dense(8, activation="relu", kernel_initializer=init),
               layers.Dense(8, activation="relu"), layers.Dense(8, activation="relu"),
               layers.Dense(8, activation="relu"), layers.Dense(1)])
"""
    spec = read(src).layers[0].weight("kernel").init
    assert spec.family == "glorot" and spec.display == "glorot_uniform or glorot_normal"
    assert spec.spelling is None
    assert _codes(src) == [(5, "IL002")]


def test_a_literal_shared_by_call_sites_is_fixed_only_when_they_agree():
    helper = """
from keras import layers, Sequential
def block(u, act="relu"):
    return layers.Dense(u, activation=act, kernel_initializer="glorot_uniform")
m = Sequential([block(8), block(8, act=ACT), layers.Dense(1)])
"""
    mixed = read(helper.replace("ACT", '"tanh"'))
    agree = read(helper.replace("ACT", '"relu"'))
    assert [x.weight("kernel").init.spelling is not None
            for x in mixed.layers[:2]] == [False, False]
    assert [x.weight("kernel").init.spelling is not None
            for x in agree.layers[:2]] == [True, True]


def test_a_finding_in_a_helper_names_the_call_that_made_it_true():
    from conftest import lint

    src = """from keras import layers, Sequential
def block(u, act="relu"):
    return layers.Dense(u, activation=act, kernel_initializer="glorot_uniform")
m = Sequential([block(8, act="tanh"), block(8), layers.Dense(8, activation="relu"),
               layers.Dense(8, activation="relu"), layers.Dense(8, activation="relu"),
               layers.Dense(1)])
"""
    (found,) = lint(src)
    assert found[:2] == (3, "IL002")
    assert found[2].endswith("\nBuilt by the call to block() at 4:39.")


def test_what_reads_a_model_keeps_it_and_what_sets_weights_does_not():
    src = """import keras
from keras import layers
model = keras.Sequential([keras.Input((8,)),
    layers.Dense(16, activation="relu", kernel_initializer="glorot_uniform", name="a"),
    layers.Dense(16, activation="relu", kernel_initializer="glorot_uniform", name="b"),
    layers.Dense(16, activation="relu"), layers.Dense(16, activation="relu"),
    layers.Dense(16, activation="relu"), layers.Dense(1)])
keras.utils.plot_model(model)
print(model, iter([model]))
model.get_layer("a").set_weights(weights)
"""
    assert _codes(src) == [(5, "IL002")]
    assert _codes(src + 'model.get_layer("missing")\n') == []


def test_a_custom_layer_adding_its_own_weights_keeps_its_sublayers():
    src = """import keras
from keras import layers

class Block(layers.Layer):
    def __init__(self):
        super().__init__()
        self.fc = layers.Dense(32, activation="relu", kernel_initializer="glorot_uniform")
        self.fc2 = layers.Dense(32, activation="relu")
        self.fc3 = layers.Dense(32, activation="relu")
        self.fc4 = layers.Dense(32, activation="relu")
        self.out = layers.Dense(4)

    def build(self, shape):
        self.scale = self.add_weight(shape=(4,), initializer="ones")

    def call(self, x):
        self.add_loss(0.0)
        return self.out(self.fc4(self.fc3(self.fc2(self.fc(x))))) * self.scale
"""
    assert _codes(src) == [(7, "IL002")]


def test_weights_restored_after_training_do_not_hide_the_initializer():
    src = """import keras
from keras import layers
model = keras.Sequential([keras.Input((8,)),
    layers.Dense(16, activation="relu", kernel_initializer="glorot_uniform"),
    layers.Dense(16, activation="relu"), layers.Dense(16, activation="relu"),
    layers.Dense(16, activation="relu"), layers.Dense(1)])
model.compile("adam", "mse")
model.fit(x, y)
model.load_weights("best.weights.h5")
"""
    assert _codes(src) == [(4, "IL002")]
    assert _codes(src.replace("model.fit(x, y)\n", "")) == []


def test_a_class_built_by_initlint_itself_names_no_call():
    """A model class the file never instantiates is built by initlint to read it: there is
    no call of the user's to name."""
    from conftest import lint

    src = SUBCLASSED.replace('net = Net()\nnet.compile(optimizer="adam", loss="mse")\n', "")
    (found,) = lint(src)
    assert found[:2] == (8, "IL002") and "Built by" not in found[2]
    (named,) = lint(src + "net = Net()\n")
    assert named[2].endswith("\nBuilt by the call to Net() at 17:7.")


def test_constant_weights_set_after_construction_are_read():
    src = """import keras
import numpy as np
from keras import layers
m = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.ReLU(), layers.Dense(1)])
m.layers[0].set_weights([np.zeros((4, 8)), np.zeros(8)])
m.layers[-1].set_weights([np.full((8, 1), 0.5), np.zeros(1)])
"""
    assert [(line, code) for line, code in _codes(src)] == [(5, "IL001")]
    trained = src.replace("m.layers[0]", 'm.fit(x, y)\nm.layers[0]')
    assert _codes(trained) == []
    first = read(trained).layers[0]  # set after training: the default init stands
    assert kernel(first).init.is_default and kernel(first).init.family == "glorot"
    unknown = src.replace("np.zeros((4, 8))", "loaded_kernel")
    assert all(code != "IL001" for _, code in _codes(unknown))
