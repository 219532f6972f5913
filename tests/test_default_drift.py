"""IL102/IL103 judged by depth: the checker's predicted drift of a run of default-init layers."""

from __future__ import annotations

import pytest

from conftest import lint
from initlint import engine


def torch_mlp(n: int, width: int = 256, act: str = "nn.ReLU()", between: str = "") -> str:
    body = ", ".join(f"nn.Linear({width}, {width}), {between}{act}" for _ in range(n))
    return f"import torch.nn as nn\nnet = nn.Sequential({body}, nn.Linear({width}, 10))\n"


def keras_mlp(n: int) -> str:
    body = ", ".join('layers.Dense(64, activation="relu")' for _ in range(n))
    return ("from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            f"model = keras.Sequential([keras.Input((64,)), {body}, layers.Dense(10)])\n")


def default_findings(src: str, settings=None):
    opts = engine.Options(settings=settings or {})
    return [(f.code, f.severity, f.message)
            for f in engine.lint_text(src, opts.enabled(), opts.settings, opts.explicit())]


@pytest.mark.parametrize("n, severity", [(2, None), (3, None), (5, None), (6, "info"),
                                         (9, "info"), (10, "error")])
def test_torch_default_relu_stack_by_depth(n, severity):
    """PyTorch's default keeps 0.41x per ReLU layer. Training runs show no practical harm at
    depth 3 or 5, and plain SGD failing at depth 10: silent below 6 layers, at most info below
    10; from 10 the drift decides (7,700x against He: error)."""
    found = default_findings(torch_mlp(n))
    if severity is None:
        assert found == []
        return
    ((code, sev, msg),) = found
    assert (code, sev) == ("IL103", severity)
    first, details = msg.split("\n")
    assert first.startswith(f"{n} Linear layers (relu) at PyTorch's default init: signal std "
                            f"falls to ")
    assert first.endswith(" over them; use kaiming_uniform_")
    assert f"From the first to the last of these {n} layers (net[0] to net[{2 * n - 2}])" \
        in details
    assert "kaiming_uniform_ keeps 1.0x forward" in details


def test_textbook_mnist_network_is_silent():
    """Two convolutions and two linear layers with ReLU at PyTorch's default (the
    pytorch/examples MNIST network): too shallow for the default to matter."""
    src = ("import torch.nn as nn\nimport torch.nn.functional as F\n"
           "class Net(nn.Module):\n"
           "    def __init__(self):\n"
           "        super().__init__()\n"
           "        self.conv1 = nn.Conv2d(1, 32, 3, 1)\n"
           "        self.conv2 = nn.Conv2d(32, 64, 3, 1)\n"
           "        self.fc1 = nn.Linear(9216, 128)\n"
           "        self.fc2 = nn.Linear(128, 10)\n"
           "    def forward(self, x):\n"
           "        x = F.relu(self.conv1(x))\n"
           "        x = F.relu(self.conv2(x))\n"
           "        x = F.max_pool2d(x, 2)\n"
           "        x = F.relu(self.fc1(x.flatten(1)))\n"
           "        return F.log_softmax(self.fc2(x), dim=1)\n")
    assert default_findings(src) == []


def test_normalization_breaks_the_run():
    assert default_findings(torch_mlp(8, between="nn.BatchNorm1d(256), ")) == []


@pytest.mark.parametrize("n, severity", [(5, None), (8, "info"), (10, "warning"),
                                         (16, "error")])
def test_keras_default_glorot_stack_by_depth(n, severity):
    """Glorot keeps 0.71x per ReLU layer: 5.7x over 5 layers, 16x over 8 (info, shallower than
    10), 32x over 10 (warning), 256x over 16 (error)."""
    found = default_findings(keras_mlp(n))
    if severity is None:
        assert found == []
        return
    ((code, sev, msg),) = found
    assert (code, sev) == ("IL102", severity)
    assert msg.startswith(f"{n} Dense layers (relu) at default glorot_uniform: signal std falls "
                          f"to ")


def test_keras_default_glorot_stack_and_its_fix(tmp_path):
    ((code, sev, msg),) = default_findings(keras_mlp(10))
    assert (code, sev) == ("IL102", "warning")
    assert msg.split("\n")[0] == ("10 Dense layers (relu) at default glorot_uniform: signal std "
                                  "falls to 0.0442x over them; use he_uniform")
    assert "he_uniform keeps 1.0x forward" in msg
    p = tmp_path / "m.py"
    p.write_text(keras_mlp(10))
    from conftest import run_cli

    run_cli("--fix", str(p))
    assert p.read_text().count('kernel_initializer="he_uniform"') == 10
    assert default_findings(p.read_text()) == []


def test_thresholds_are_settings():
    never = {f"drift-vanish-{level}": 1e9 for level in ("info", "warning", "error")}
    assert default_findings(torch_mlp(6), never) == []
    assert default_findings(torch_mlp(6), {"drift-min-depth": 7}) == []
    assert default_findings(torch_mlp(3), {"drift-min-depth": 2})[0][1] == "info"
    assert default_findings(torch_mlp(6), {"drift-full-depth": 6})[0][1] == "warning"


@pytest.mark.parametrize("n", [1, 2, 5, 6, 12])
def test_selected_explicitly_the_same_as_the_defaults(n):
    """Naming the rule (``--select IL103`` or ``ALL``) neither reports a shallow run layer by
    layer nor turns a deep run's finding into per-layer infos."""
    named = [(code, msg) for _, code, msg in lint(torch_mlp(n), select=("IL103",))]
    assert named == [(code, msg) for code, _, msg in default_findings(torch_mlp(n))]
    assert len(named) == (1 if n >= 6 else 0)



def test_normalization_after_the_activation_also_breaks_the_run():
    src = torch_mlp(8, act="nn.ReLU(), nn.BatchNorm1d(256)")
    assert default_findings(src) == []


def test_keras_functional_chains_are_stacks():
    body = "\n".join('x = layers.Dense(64, activation="relu")(x)' for _ in range(10))
    src = ("import keras\nfrom keras import layers\ninputs = keras.Input((64,))\nx = inputs\n"
           f"{body}\noutputs = layers.Dense(10)(x)\nmodel = keras.Model(inputs, outputs)\n")
    ((code, sev, msg),) = default_findings(src)
    assert (code, sev) == ("IL102", "warning") and msg.startswith("10 Dense layers (relu)")


def test_separable_conv_is_judged_by_its_pointwise_kernel():
    """The activation follows the pointwise kernel; the depthwise one feeds it linearly, so
    its default Glorot is not a ReLU layer's (a fix adding pointwise_initializer once turned
    into a finding whose fix replaced he_uniform with he_uniform)."""
    src = ("from tensorflow import keras\nfrom tensorflow.keras import layers\n"
           "x = keras.Input((32, 32, 32))\n"
           "for _ in range(12):\n"
           "    x = layers.SeparableConv2D(32, 3, activation='relu')(x)\n")
    ((_, code, msg),) = lint(src, select=("IL102",))
    assert code == "IL102" and "use he_uniform" in msg
    out = engine.lint_and_fix(src, engine.Options(select=["IL102"], fix="safe"))
    assert out.text.count("pointwise_initializer='he_uniform'") == 1
    assert "depthwise_initializer" not in out.text
    assert out.findings == [] and out.problems == []


ENCODER = """import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, width=64, depth=12):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in range(depth)])

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return x.mean((2, 3))
"""


def test_a_block_nothing_builds_says_it_was_judged_with_its_defaults():
    ((_, _, msg),) = [f for f in default_findings(ENCODER)]
    assert msg.endswith("\nNothing in the linted files builds Encoder: judged with its "
                        "defaults, not inside a model that uses it.")
    ((_, _, built),) = default_findings(ENCODER + "\nencoder = Encoder()\n")
    assert "Nothing in the linted files" not in built
    assert default_findings(ENCODER + "\nencoder = Encoder(depth=3)\n") == []
