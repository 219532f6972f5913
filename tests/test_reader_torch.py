"""The PyTorch reader's description of a file: layers, fans, activations, inits, positions."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from conftest import FIXTURES, lint
from initlint.readers.torch import TorchReader


def read(src: str):
    src = textwrap.dedent(src)
    return TorchReader().read(cst.parse_module(src), src)


def by_name(net, name):
    hits = [layer for layer in net.layers if layer.name == name]
    assert len(hits) == 1, [layer.name for layer in net.layers]
    return hits[0]


def fixture(path: str):
    src = (FIXTURES / path).read_text(encoding="utf-8")
    return TorchReader().read(cst.parse_module(src), src)


# --- layers and fans ------------------------------------------------------------------------


@pytest.mark.parametrize("ctor, fan_in, fan_out", [
    ("nn.Linear(512, 256)", 512, 256),
    ("nn.Linear(in_features=N, out_features=2 * N)", 100, 200),
    ("nn.Bilinear(20, 30, 40)", 600, 1200),
    ("nn.Conv1d(32, 64, 5)", 160, 320),
    ("nn.Conv2d(16, 64, 3)", 144, 576),
    ("nn.Conv2d(16, 64, 3, groups=4)", 36, 576),
    ("nn.Conv2d(16, 16, kernel_size=(3, 3), groups=16)", 9, 144),
    ("nn.Conv3d(8, 16, 3)", 216, 432),
    ("nn.ConvTranspose1d(32, 64, 5)", 320, 160),
    ("nn.ConvTranspose2d(16, 64, 3)", 576, 144),
    ("nn.ConvTranspose2d(16, 64, 3, groups=4)", 144, 144),
    ("nn.LSTM(32, 64)", 32, 256),
    ("nn.GRUCell(32, 64)", 32, 192),
    ("nn.MultiheadAttention(512, 8)", 512, 1536),
    ("nn.TransformerEncoderLayer(64, 4, dim_feedforward=256)", 64, 256),
])
def test_fans_follow_pytorch(ctor, fan_in, fan_out):
    net = read(f"""
        import torch.nn as nn
        N = 100
        layer = {ctor}
    """)
    (layer,) = net.layers
    w = layer.weights[0]
    assert (w.fan_in, w.fan_out) == (fan_in, fan_out)


def test_unknown_sizes_leave_fans_unknown():
    net = read("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.fc = nn.Linear(n, 10)
    """)
    w = by_name(net, "fc").weights[0]
    assert w.fan_in is None and w.fan_out == 10


def test_defaults_are_recorded_as_defaults():
    net = read("""
        import torch.nn as nn
        fc = nn.Linear(300, 10)
        emb = nn.Embedding(1000, 64)
        rnn = nn.GRU(16, 32)
    """)
    fc = by_name(net, "fc").weights[0].init
    assert fc.is_default and fc.family == "framework_default"
    assert (fc.scale, fc.mode) == (pytest.approx(1 / 3), "fan_in")
    emb = by_name(net, "emb").weight("embeddings").init
    assert emb.is_default and emb.std == 1.0
    rnn = by_name(net, "rnn").weight("recurrent").init
    assert rnn.is_default and rnn.std == pytest.approx(1 / (3 * 32) ** 0.5)


# --- import resolution ----------------------------------------------------------------------


@pytest.mark.parametrize("header, ctor", [
    ("import torch.nn as nn", "nn.Linear"),
    ("from torch import nn", "nn.Linear"),
    ("from torch.nn import Linear", "Linear"),
    ("import torch", "torch.nn.Linear"),
    ("from torch.nn import Linear as Dense", "Dense"),
])
def test_names_resolve_through_imports(header, ctor):
    net = read(f"""
        {header}
        fc = {ctor}(8, 8)
    """)
    assert [layer.type_name for layer in net.layers] == ["Linear"]


def test_a_local_class_named_like_a_layer_is_not_a_layer():
    net = read("""
        import torch
        class Linear:
            pass
        fc = Linear(8, 8)
    """)
    assert net.layers == []


# --- activations ----------------------------------------------------------------------------


def test_sequential_next_module_through_norm_and_dropout():
    net = fixture("torch/activation_forms.py")
    acts = {layer.name: (layer.activation.name, layer.activation.params.get("slope"),
                         layer.normalized) for layer in net.layers if layer.name.startswith("seq")}
    assert acts["seq[0]"] == ("relu", None, False)
    assert acts["seq[2]"] == ("leaky_relu", 0.2, True)
    assert acts["seq[5]"] == ("gelu", None, False)
    assert acts["seq[8]"] == ("silu", None, True)
    assert acts["seq[11]"][0] == "selu"
    assert acts["seq[13]"][0] == "tanh"
    assert acts["seq[15]"][0] == "sigmoid"
    assert acts["seq[17]"][0] == "linear"
    assert by_name(net, "seq[17]").position == "output"


def test_forward_data_flow():
    net = fixture("torch/activation_forms.py")
    names = {n: by_name(net, n) for n in ("fc1", "fc2", "fc3", "fc4", "fc5", "out")}
    assert {n: layer.activation.name for n, layer in names.items()} == {
        "fc1": "relu", "fc2": "relu", "fc3": "tanh", "fc4": "relu", "fc5": "relu",
        "out": "linear"}
    assert names["fc1"].activation.source == "forward"
    assert names["fc2"].activation.source == "next_layer"
    assert names["out"].position == "output"
    assert names["fc1"].position == "hidden" and names["fc1"].next == [names["fc2"]]


def test_builtin_nonlinearities():
    net = fixture("torch/activation_forms.py")
    assert by_name(net, "rnn_relu").activation.name == "relu"
    assert by_name(net, "rnn_tanh").activation.name == "tanh"
    assert by_name(net, "rnn_tanh").activation.source == "default"
    assert by_name(net, "enc_relu").activation.name == "relu"
    assert by_name(net, "enc_gelu").activation.name == "gelu"
    assert by_name(net, "enc_fn").activation.name == "gelu"


def test_submodule_forward_is_inlined_and_residual_branches_marked():
    net = read("""
        import torch.nn as nn
        import torch.nn.functional as F

        class Block(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.ln = nn.LayerNorm(d)
                self.fc1 = nn.Linear(d, 4 * d)
                self.fc2 = nn.Linear(4 * d, d)

            def forward(self, x):
                return x + self.fc2(F.gelu(self.fc1(self.ln(x))))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Linear(16, 64)
                self.blocks = nn.ModuleList([Block(64) for _ in range(4)])
                self.head = nn.Linear(64, 10)

            def forward(self, x):
                x = self.stem(x)
                for block in self.blocks:
                    x = block(x)
                return self.head(x)
    """)
    fc1, fc2, stem, head = (by_name(net, n) for n in ("fc1", "fc2", "stem", "head"))
    assert fc1.activation.name == "gelu" and fc1.residual_branch
    assert fc2.residual_branch_end and fc2.position == "hidden"
    assert not stem.residual_branch and stem.next == [fc1] or fc1 in stem.next
    assert head.position == "output" and not fc1.position == "output"


REPEATED = """
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.norm = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 4 * d)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(4 * d, d)

        def forward(self, x):
            return x + self.fc2(self.act(self.fc1(self.norm(x))))

    class Net(nn.Module):
        def __init__(self, depth={depth}):
            super().__init__()
            self.stem = nn.Linear(16, 64)
            self.blocks = nn.Sequential(*[Block(64) for _ in range(depth)])
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            return self.head(self.blocks(nn.functional.relu(self.stem(x))))
"""


def _facts(net):
    names = {id(layer): layer.name for layer in net.layers}
    return {layer.name: (layer.activation.name, layer.position, layer.residual_branch,
                         layer.residual_branch_end,
                         sorted(names.get(id(n), "?") for n in layer.next))
            for layer in net.layers}


def test_equal_blocks_repeated_in_a_sequential_read_as_one_block_does():
    """Twelve equal blocks are one object whose forward runs once per distinct input: the
    model reads the same, link for link, as with two blocks."""
    two = _facts(read(REPEATED.format(depth=2)))
    assert two["fc1"] == ("gelu", "hidden", True, False, ["fc2"])
    assert two["fc2"][1:] == ("hidden", True, True, ["fc1", "head"])
    assert two["stem"][:2] == ("relu", "hidden") and two["head"][1] == "output"
    for depth in (3, 12, 40):
        assert _facts(read(REPEATED.format(depth=depth))) == two, depth


def test_script_calls_do_not_link_models():
    net = read("""
        import torch.nn as nn
        g = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
        d = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
        fake = g(noise)
        score = d(fake)
    """)
    assert all(layer.next == [] for layer in net.layers)
    assert {layer.position for layer in net.layers} == {"output"}


# --- initializers ---------------------------------------------------------------------------


def test_init_call_parameters():
    net = read("""
        import math
        import torch.nn as nn
        from torch.nn import init
        a = nn.Linear(64, 32)
        b = nn.Linear(64, 32)
        c = nn.Linear(64, 32)
        d = nn.Linear(64, 32)
        e = nn.Linear(64, 32)
        f = nn.Linear(64, 32)
        g = nn.Linear(64, 32)
        init.xavier_uniform_(a.weight, gain=init.calculate_gain("relu"))
        init.kaiming_normal_(b.weight, mode="fan_out", nonlinearity="relu")
        init.kaiming_uniform_(c.weight, a=math.sqrt(5))
        init.kaiming_normal_(d.weight, nonlinearity="selu")
        init.trunc_normal_(e.weight, std=0.02)
        init.trunc_normal_(f.weight)
        init.uniform_(g.weight, -0.1, 0.1)
    """)
    spec = {n: by_name(net, n).weights[0].init for n in "abcdefg"}
    assert spec["a"].family == "glorot" and spec["a"].gain == pytest.approx(2 ** 0.5)
    assert (spec["b"].family, spec["b"].mode) == ("he", "fan_out")
    assert spec["c"].family == "scaled" and spec["c"].scale == pytest.approx(1 / 3)
    assert spec["d"].family == "scaled" and spec["d"].scale == pytest.approx(0.5625)
    assert spec["e"].distribution == "normal" and spec["e"].std == pytest.approx(0.02)
    assert spec["f"].distribution == "truncated_normal_raw" and not spec["f"].explicit_scale
    assert (spec["g"].low, spec["g"].high, spec["g"].explicit_scale) == (-0.1, 0.1, True)


def test_guards_pick_the_layers():
    net = read("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.up = nn.ConvTranspose2d(8, 3, 3)
                self.bn = nn.BatchNorm2d(8)
                self.fc = nn.Linear(8, 8)
                self.emb = nn.Embedding(10, 8)
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.zeros_(m.weight)
                    elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                        nn.init.zeros_(m.weight)
                    elif type(m) == nn.Linear:
                        nn.init.ones_(m.weight)
                    elif unknown_condition(m):
                        nn.init.ones_(m.weight)
    """)
    assert by_name(net, "conv").weights[0].init.is_zero
    assert by_name(net, "up").weights[0].init.is_default  # ConvTranspose2d is not a Conv2d
    assert by_name(net, "fc").weights[0].init.value == 1.0
    assert by_name(net, "emb").weights[0].init.is_default  # an undecidable guard applies nothing


def test_class_name_guards_and_module_level_apply():
    net = fixture("torch/init_forms.py")
    script_fc = [x for x in net.layers if x.name == "fc" and x.weights[0].fan_in == 256]
    assert script_fc[0].weights[0].init.std == 1.0  # weights_init via model.apply
    assert by_name(net, "classifier").weights[0].init.std == 0.01
    assert by_name(net, "features[0]").weights[0].init.family == "glorot"


def test_bias_facts():
    net = read("""
        import torch.nn as nn
        a = nn.Linear(4, 4)
        b = nn.Linear(4, 4, bias=False)
        c = nn.Linear(4, 4)
        nn.init.zeros_(c.bias)
        d = nn.Linear(4, 4)
        nn.init.normal_(d.bias, std=1e-6)
    """)
    facts = {n: (by_name(net, n).zero_bias, by_name(net, n).uniform_bias) for n in "abcd"}
    assert facts == {"a": (False, False), "b": (True, True), "c": (True, True),
                     "d": (False, False)}


# --- hand-drawn weights ----------------------------------------------------------------------


def test_raw_weights_need_a_matrix_product():
    net = read("""
        import numpy as np
        import torch
        W = np.random.randn(250, 100)
        data = np.random.randn(32, 250)
        noise = torch.randn(250, 100)
        h = np.tanh(data.dot(W))
        g = torch.randn(8, 250) @ noise
    """)
    (w,) = net.layers
    assert w.name == "W" and w.framework == "numpy"
    assert (w.weights[0].fan_in, w.weights[0].fan_out) == (250, 100)
    assert w.activation.name == "tanh"


def test_raw_weight_orientation():
    net = read("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Parameter(torch.randn(30, 20))
                self.b = nn.Parameter(torch.randn(40, 30))
                self.c = nn.Parameter(torch.randn(40, 50))
            def forward(self, x):
                x = F.linear(x, self.a)
                x = torch.relu(x @ self.b.T)
                return self.c @ x
    """)
    fans = {n: (by_name(net, n).weights[0].fan_in, by_name(net, n).weights[0].fan_out)
            for n in "ab"}
    assert fans["a"] == (20, 30)
    assert fans["b"] == (30, 40)
    # A torch parameter on the left of a product is learned queries, not a layer's weight.
    assert [x.name for x in net.layers] == ["a", "b"]


def test_numpy_column_convention():
    net = read("""
        import numpy as np
        W = np.random.randn(30, 784)
        def f(a):
            return np.tanh(np.dot(W, a))
    """)
    w = by_name(net, "W").weights[0]
    assert (w.fan_in, w.fan_out) == (784, 30)


def test_scale_factors_make_draws_scaled():
    net = read("""
        import math
        import numpy as np
        n = 256
        A = np.random.randn(n, n) * 0.01
        B = np.random.randn(n, n) * np.sqrt(2 / n)
        def layer(fan_in, x):
            C = np.random.randn(fan_in, 10) / math.sqrt(fan_in)
            return x @ C
        y = np.maximum(0, x @ A) @ B
    """)
    a, b = by_name(net, "A").weights[0].init, by_name(net, "B").weights[0].init
    assert a.std == pytest.approx(0.01) and a.explicit_scale
    assert b.std == pytest.approx((2 / 256) ** 0.5)
    assert by_name(net, "A").activation.name == "relu"
    assert by_name(net, "C").weights[0].init.family == "scaled"


def test_message_quotes_preactivation_std_at_fan_in_250():
    found = lint("""
import numpy as np
W = np.random.randn(250, 250)
def f(x):
    return 1 / (1 + np.exp(-(x @ W)))
""")
    (line, code, msg) = found[0]
    assert code == "IL003" and "pre-activation std 15.8 (fan-in 250)" in msg
    assert "= 1.0·√250 = 15.8 for unit inputs" in msg


def test_a_result_that_feeds_nothing_is_an_output():
    net = read("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Linear(8, 8)
                self.aux = nn.Linear(8, 2)
                self.unused = nn.Linear(8, 8)
            def forward(self, x):
                h = self.body(x).relu()
                self.aux(h)
                return h
    """)
    assert by_name(net, "aux").position == "output"
    assert by_name(net, "body").position == "output"  # returned (after its activation)
    assert by_name(net, "unused").position == "unknown"
