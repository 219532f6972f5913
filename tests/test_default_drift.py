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


@pytest.mark.parametrize("n, severity", [(2, None), (3, "info"), (4, "warning"), (7, "error")])
def test_torch_default_relu_stack_by_depth(n, severity):
    """PyTorch's default keeps 0.41x per ReLU layer: 6x over 3 layers (info), 15x over 4
    (warning), 217x over 7 (error)."""
    found = default_findings(torch_mlp(n))
    if severity is None:
        assert found == []
        return
    ((code, sev, msg),) = found
    assert (code, sev) == ("IL103", severity)
    assert f"over these {n} Linear layers" in msg and "kaiming_uniform_ keeps it at 1.0x" in msg


def test_normalization_breaks_the_run():
    assert default_findings(torch_mlp(8, between="nn.BatchNorm1d(256), ")) == []


def test_keras_default_glorot_stack_and_its_fix(tmp_path):
    ((code, sev, msg),) = default_findings(keras_mlp(8))
    assert (code, sev) == ("IL102", "warning")
    assert "falls to 0.0884x over these 8 Dense layers" in msg
    assert "he_uniform keeps it at 1.0x" in msg
    p = tmp_path / "m.py"
    p.write_text(keras_mlp(8))
    from conftest import run_cli

    run_cli("--fix", str(p))
    assert p.read_text().count('kernel_initializer="he_uniform"') == 8
    assert default_findings(p.read_text()) == []


def test_thresholds_are_settings():
    assert default_findings(torch_mlp(3), {"drift-vanish-info": 10.0}) == []


def test_selected_explicitly_every_layer_at_info():
    found = lint(torch_mlp(2), select=("IL103",))
    assert [(code, msg.split(" with ")[0]) for _, code, msg in found] == [
        ("IL103", "Linear net[0]"), ("IL103", "Linear net[2]")]



def test_normalization_after_the_activation_also_breaks_the_run():
    src = torch_mlp(8, act="nn.ReLU(), nn.BatchNorm1d(256)")
    assert default_findings(src) == []


def test_keras_functional_chains_are_stacks():
    body = "\n".join('x = layers.Dense(64, activation="relu")(x)' for _ in range(8))
    src = ("import keras\nfrom keras import layers\ninputs = keras.Input((64,))\nx = inputs\n"
           f"{body}\noutputs = layers.Dense(10)(x)\nmodel = keras.Model(inputs, outputs)\n")
    ((code, sev, msg),) = default_findings(src)
    assert (code, sev) == ("IL102", "warning") and "over these 8 Dense layers" in msg
