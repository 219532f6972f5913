"""initlint's PyTorch catalog and reader checked against the real library (torch 2.13, CPU)."""

from __future__ import annotations

import inspect
import math
import textwrap

import libcst as cst
import pytest

from conftest import require
from initlint import variance
from initlint.catalog import torch as T
from initlint.model import InitRequest
from initlint.readers.torch import TorchReader

torch = require("torch")
nn = torch.nn
F = torch.nn.functional


def test_layer_classes_and_positional_orders():
    for name, d in T.LAYERS.items():
        cls = getattr(nn, name)
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        if params[:2] == ["args", "kwargs"]:
            continue  # RNN/LSTM/GRU take *args; their order is checked by test_recurrent_fans
        assert tuple(params[:len(d.positional)]) == d.positional, name


def test_module_tables_name_real_modules():
    for name in list(T.ACTIVATION_MODULES) + list(T.PASS_MODULES):
        assert isinstance(getattr(nn, name), type), name
    for name in T.FUNCTIONAL_ACTIVATIONS:
        assert hasattr(F, name) or hasattr(torch, name), name
    for name in T.TENSOR_ACTIVATIONS:
        assert hasattr(torch.Tensor, name), name
    for name in T.FUNCTIONAL_PASS - {"reshape", "squeeze", "unsqueeze", "transpose", "permute",
                                     "contiguous", "flatten"}:
        assert hasattr(F, name), name
    assert nn.LeakyReLU().negative_slope == T.LEAKY_SLOPE
    assert float(nn.PReLU().weight.detach()) == T.PRELU_INIT


def test_init_functions_and_signatures():
    for name, fn in T.INIT_FUNCTIONS.items():
        params = tuple(inspect.signature(getattr(nn.init, name)).parameters)
        assert params[:len(fn.positional)] == fn.positional, name
    for old, new in T.DEPRECATED_INIT.items():
        assert hasattr(nn.init, old) and hasattr(nn.init, new)


@pytest.mark.parametrize("nl, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("selu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0)])
def test_calculate_gain(nl, param):
    assert T.calculate_gain(nl, param) == pytest.approx(nn.init.calculate_gain(nl, param))


def test_isinstance_table():
    for base, subs in T.ISINSTANCE.items():
        if base in ("_ConvNd", "_ConvTransposeNd"):
            base_cls = getattr(nn.modules.conv, base)
        elif base in ("RNNBase", "RNNCellBase"):
            base_cls = getattr(nn.modules.rnn, base)
        else:
            base_cls = getattr(nn, base)
        for sub in subs:
            assert issubclass(getattr(nn, sub), base_cls), (sub, base)
    assert not issubclass(nn.ConvTranspose2d, nn.Conv2d)


def _read(ctor: str, init: str = ""):
    src = textwrap.dedent(f"""
        import math
        import torch.nn as nn
        m = {ctor}
        {init}
    """)
    net = TorchReader().read(cst.parse_module(src), src)
    (layer,) = net.layers
    return net, layer


def _sampled_var(ctor: str, init: str, attr: str) -> float:
    torch.manual_seed(0)
    ns = {"nn": nn, "math": math, "torch": torch}
    exec(f"m = {ctor}\n{init}", ns)
    w = ns["m"]
    for part in attr.split("."):
        w = getattr(w, part)
    return float(w.detach().double().var(unbiased=False))


# Each catalog variance (defaults and every nn.init function) against a sampled weight.
CASES = [
    ("nn.Linear(1024, 512)", "", "weight", "kernel"),
    ("nn.Conv1d(64, 128, 5)", "", "weight", "kernel"),
    ("nn.Conv2d(64, 128, 3)", "", "weight", "kernel"),
    ("nn.Conv2d(64, 128, 3, groups=4)", "", "weight", "kernel"),
    ("nn.Conv3d(16, 32, 3)", "", "weight", "kernel"),
    ("nn.ConvTranspose2d(128, 64, 4)", "", "weight", "kernel"),
    ("nn.ConvTranspose1d(32, 64, 5)", "", "weight", "kernel"),
    ("nn.Bilinear(64, 32, 128)", "", "weight", "kernel"),
    ("nn.Embedding(2000, 64)", "", "weight", "embeddings"),
    ("nn.LSTM(128, 256)", "", "weight_ih_l0", "kernel"),
    ("nn.GRU(128, 256)", "", "weight_hh_l0", "recurrent"),
    ("nn.RNNCell(128, 256)", "", "weight_ih", "kernel"),
    ("nn.MultiheadAttention(256, 8)", "", "in_proj_weight", "kernel"),
    ("nn.TransformerEncoderLayer(256, 4, dim_feedforward=512)", "", "linear1.weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.xavier_uniform_(m.weight)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.xavier_normal_(m.weight, gain=2.0)", "weight", "kernel"),
    ("nn.Conv2d(64, 128, 3)", "nn.init.kaiming_normal_(m.weight)", "weight", "kernel"),
    ("nn.Conv2d(64, 128, 3)", "nn.init.kaiming_uniform_(m.weight, mode='fan_out')", "weight",
     "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))", "weight",
     "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.kaiming_normal_(m.weight, nonlinearity='tanh')", "weight",
     "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.kaiming_uniform_(m.weight, a=0.2)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.normal_(m.weight, std=0.3)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.trunc_normal_(m.weight)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.trunc_normal_(m.weight, std=0.02)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.trunc_normal_(m.weight, std=0.5, a=-0.5, b=0.5)",
     "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.uniform_(m.weight, -0.2, 0.3)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "nn.init.orthogonal_(m.weight, gain=2)", "weight", "kernel"),
    ("nn.Conv2d(64, 128, 3)", "nn.init.orthogonal_(m.weight)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "m.weight.data.normal_(0, 0.05)", "weight", "kernel"),
    ("nn.Linear(1024, 512)", "m.weight.data.uniform_(-0.1, 0.1)", "weight", "kernel"),
]


@pytest.mark.parametrize("ctor, init, attr, role", CASES,
                         ids=[f"{c} {i}".strip() for c, i, _, _ in CASES])
def test_catalog_variance_matches_a_sampled_weight(ctor, init, attr, role):
    _, layer = _read(ctor, init)
    w = layer.weight(role)
    expected = variance.weight_variance(w.init, w.fan_in, w.fan_out, w.receptive)
    assert expected is not None, w.init
    assert _sampled_var(ctor, init, attr) == pytest.approx(expected, rel=0.05)


REQUESTS = [
    (fam, dist, act)
    for fam, acts in (("he", ("relu", "leaky_relu", "gelu")), ("glorot", ("tanh", "sigmoid",
                                                                           "linear")),
                      ("lecun", ("selu",)))
    for dist in ("uniform", "normal")
    for act in acts
]


@pytest.mark.parametrize("ctor", ["nn.Linear(512, 256)", "nn.Conv2d(32, 64, 3)"])
@pytest.mark.parametrize("family, dist, act", REQUESTS)
def test_every_rendered_init_call_runs_and_has_its_variance(ctor, family, dist, act):
    """The call a fix writes runs on a weight of the right shape, and its variance is what the
    reader (and so the variance checker) says it is."""
    act_src = {"relu": "F.relu(h)", "leaky_relu": "F.leaky_relu(h, 0.2)", "gelu": "F.gelu(h)",
               "tanh": "torch.tanh(h)", "sigmoid": "torch.sigmoid(h)", "linear": "h",
               "selu": "F.selu(h)"}[act]
    src = textwrap.dedent(f"""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = {ctor}
                self.head = nn.Linear(8, 1)
                nn.init.normal_(self.m.weight)
            def forward(self, x):
                h = self.m(x)
                return self.head({act_src})
    """)
    net = TorchReader().read(cst.parse_module(src), src)
    layer = next(x for x in net.layers if x.name == "m")
    assert layer.activation.name == act
    edits = net.renderer(layer, layer.weights[0], InitRequest(family, dist, act))
    (edit,) = edits
    call = edit.text.replace("self.m", "m")
    torch.manual_seed(0)
    ns = {"nn": nn, "torch": torch, "F": F}
    exec(f"m = {ctor}\n{call}", ns)
    sampled = float(ns["m"].weight.detach().double().var(unbiased=False))
    _, back = _read(ctor, call)
    w = back.weights[0]
    assert w.init.distribution.startswith("uniform" if dist == "uniform" else "normal")
    expected = variance.weight_variance(w.init, w.fan_in, w.fan_out, w.receptive)
    assert sampled == pytest.approx(expected, rel=0.05)
    # The neutral family's own variance, with PyTorch's gains where the fix names one.
    fi, fo = w.fan_in, w.fan_out
    want = {"he": 2 / fi / (1 + (0.2 ** 2 if act == "leaky_relu" else 0)),
            "glorot": 2 / (fi + fo) * ((5 / 3) ** 2 if act == "tanh" else 1),
            "lecun": 1 / fi}[family]
    assert sampled == pytest.approx(want, rel=0.05)


def test_fixed_pytorch_fixture_builds_and_runs():
    from conftest import FIXTURES
    import runpy

    ns = runpy.run_path(str(FIXTURES / "fix" / "torch_unsafe_fixes.fixed.py"))
    net = ns["Net"]()
    assert net(torch.randn(4, 250)).shape == (4, 1)
    for w in (net.fc1.weight, net.w, net.r, net.z):
        assert float(w.detach().var()) * 250 == pytest.approx(2.0, rel=0.05)
        assert abs(float(w.detach().mean())) < 0.01
    assert ns["w3"].is_leaf and ns["w3"].requires_grad
    assert float(ns["w3"].detach().var()) * 784 == pytest.approx(2.0, rel=0.05)
    assert float(ns["W4"].var()) * 256 == pytest.approx(2.0, rel=0.05)


def test_builtin_nonlinearity_and_transformer_defaults():
    assert inspect.signature(nn.RNN).parameters  # RNN takes *args: check the built module
    assert nn.RNN(4, 4).nonlinearity == T.RNN_DEFAULT_NONLINEARITY
    for cls in (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer):
        params = inspect.signature(cls.__init__).parameters
        assert params["dim_feedforward"].default == T.TRANSFORMER_DEFAULTS["dim_feedforward"]
        assert params["activation"].default is F.relu
    for name in T.LOSS_FUNCTIONS:
        assert hasattr(F, name), name
    for base in T.BATCHNORM_BASES:
        assert issubclass(nn.BatchNorm2d, getattr(nn.modules.batchnorm, base))


def test_deprecated_spellings_warn_and_missing_ones_do_not_exist():
    """IL005's facts: each spelling without an underscore still runs and warns as the
    catalog quotes; the names PyTorch never had raise AttributeError, their fix exists."""
    import warnings

    for old, new in T.DEPRECATED_INIT.items():
        assert callable(getattr(torch.nn.init, new))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                getattr(torch.nn.init, old)(torch.empty(4, 4))
            except (ValueError, TypeError):
                pass  # eye/dirac/sparse want other shapes or arguments: the warning came first
        assert any(T.TORCH_DEPRECATION_MSG.format(old=old) == str(w.message) for w in caught), old
    for old, new in T.MISSING_INIT.items():
        assert not hasattr(torch.nn.init, old), old
        assert callable(getattr(torch.nn.init, new))


def test_il008_non_leaf_weights_get_no_gradient_and_the_fix_does():
    """IL008's fact, run for real: its invalid case's weights stay without a gradient after
    backward, and its fixed form's get one, with the same values for the same seed."""
    from initlint.rules import REGISTRY, _load

    _load()
    case = REGISTRY["IL008"].invalid[0]
    x = torch.randn(4, 784)

    def grads(src):
        torch.manual_seed(0)
        scope = {"x": x}
        exec(compile(src, "<case>", "exec"), scope)
        scope["logits"].sum().backward()
        return scope["W1"], scope["W2"]

    before = grads(case.source)
    after = grads(case.fixed)
    assert [w.is_leaf for w in before] == [False, False]
    assert [w.is_leaf for w in after] == [True, True]
    with pytest.warns(UserWarning, match="is not a leaf"):
        assert before[0].grad is None
    assert after[0].grad is not None and after[1].grad is not None
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(before, after))
