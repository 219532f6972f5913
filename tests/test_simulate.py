"""``initlint simulate``: the checker's figures for every stack in a file."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_cli

MODEL = """
import torch.nn as nn

body = nn.Sequential(
    nn.Linear(256, 256), nn.ReLU(),
    nn.Linear(256, 256), nn.ReLU(),
    nn.Linear(256, 256), nn.ReLU(),
    nn.Linear(256, 256), nn.ReLU(),
)
for m in body.modules():
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
"""


def test_json_schema_and_figures(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(MODEL)
    r = run_cli("simulate", "--format", "json", str(p))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    (stack,) = data["stacks"]
    assert stack["path"] == str(p) and stack["line"] == 4 and stack["mode"] == "analytic"
    assert [layer["activation"] for layer in stack["layers"]] == ["relu"] * 4
    assert set(stack["layers"][0]) >= {"name", "kind", "fan_in", "fan_out", "activation",
                                       "initializer", "forward_std", "backward_std"}
    # Glorot on ReLU: 0.707x per layer, 3 steps; He (recommended) keeps 1.0x.
    assert stack["forward_drift"] == pytest.approx(0.707 ** 3, rel=0.01)
    assert stack["recommended"]["forward_drift"] == pytest.approx(1.0, rel=0.01)


def test_monte_carlo_mode(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(MODEL)
    data = json.loads(run_cli("simulate", "--mc", "--seed", "3", "--format", "json",
                              str(p)).stdout)
    (stack,) = data["stacks"]
    assert stack["mode"] == "monte_carlo"
    assert stack["forward_drift"] == pytest.approx(0.707 ** 3, rel=0.15)


def test_text_table_on_the_bundled_fixtures():
    r = run_cli("simulate", str(FIXTURES / "torch" / "activation_forms.py"))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "sequential stack, 8 layers (analytic)" in out
    assert "fwd std" in out and "bwd std" in out and "█" in out
    assert "with initlint's recommendations" in out


def test_unmodelled_stacks_are_listed_not_guessed(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import torch.nn as nn\nnet = nn.Sequential(nn.Linear(n, 8), nn.ReLU())\n")
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    assert data["stacks"] == [] and "not known" in data["skipped"][0]["reason"]


def test_png_needs_matplotlib(tmp_path):
    try:
        import matplotlib  # noqa: F401
        pytest.skip("matplotlib is installed")
    except ImportError:
        pass
    p = tmp_path / "m.py"
    p.write_text(MODEL)
    r = run_cli("simulate", "--png", str(tmp_path / "x.png"), str(p))
    assert r.returncode == 2
    assert "matplotlib" in r.stderr.decode()


def test_missing_path_exits_2(tmp_path):
    r = run_cli("simulate", str(tmp_path / "nope.py"))
    assert r.returncode == 2 and "nope.py" in r.stderr.decode()


def test_notebook_stacks_are_named_by_cell():
    import json as _json

    from conftest import FIXTURES, run_cli

    r = run_cli("simulate", "--format", "json", str(FIXTURES / "notebooks" / "mlp.ipynb"))
    data = _json.loads(r.stdout)
    assert [(s["path"].rsplit("/", 1)[-1], s["line"]) for s in data["skipped"]] == [
        ("mlp.ipynb:cell 4", 1)]


# --- user text is printed as written ----------------------------------------------------------

ODD_NAMES = """
import torch.nn as nn
from collections import OrderedDict

body = nn.Sequential(OrderedDict([
    ("fc:100:", nn.Linear(64, 128)), ("act", nn.ReLU()),
    ("[bold]fc2", nn.Linear(128, 128)), ("act2", nn.ReLU()),
]))
unknown = nn.Sequential(OrderedDict([("in:smile:", nn.Linear(n, 8)), ("act", nn.ReLU())]))
"""


def test_user_text_is_printed_literally(tmp_path):
    d = tmp_path / "runs:100:[red]x"
    d.mkdir()
    p = d / "m.py"
    p.write_text(ODD_NAMES)
    r = run_cli("simulate", str(p))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    # Layer names from the file, in the table and in the skipped line's reason.
    assert "body.fc:100:" in out and "body[bold]fc2" in out
    assert "fans of unknown.in:smile: are not known" in out
    # The path, in the stack's header and in the skipped line.
    assert f"{p}:5" in out and f"skipped: stack at {p}:9" in out
    assert "💯" not in out and "😄" not in out


# --- branches ---------------------------------------------------------------------------------

KERAS_TWO_HEADS = """
import keras
from keras import layers

inputs = keras.Input(shape=(64,))
x = layers.Dense(128, activation="relu")(inputs)
x = layers.Dense(128, activation="relu")(x)
a = layers.Dense(10)(x)
b = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, [a, b])
"""

TORCH_TWO_HEADS = """
import torch
import torch.nn as nn


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 128)
        self.head_a = nn.Linear(128, 10)
        self.head_b = nn.Linear(128, 1)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        h = torch.relu(self.fc2(h))
        return self.head_a(h), torch.tanh(self.head_b(h))
"""


def _glorot():
    from initlint.catalog import keras as K

    return K.make_spec("GlorotUniform", {}, "GlorotUniform")


def _torch_default():
    from initlint.model import InitSpec

    return InitSpec("framework_default", "uniform", scale=1 / 3, mode="fan_in")


def _path(stack, branch, spec):
    """The checker on trunk + one branch, as one chain: what that branch alone sees."""
    from initlint import checker as C

    layers = stack["layers"] + branch["layers"]
    return C.analytic([C.Step(x["fan_in"], x["fan_out"], x["activation"], spec) for x in layers])


def _rss(*xs):
    return sum(x * x for x in xs) ** 0.5


def _check_tree(stack, spec):
    """Each branch continues from the trunk's output; the trunk's gradient is the sum of the
    branches' gradients (independent: variances add)."""
    assert stack["backward_from"] == "branches"
    ra, rb = (_path(stack, b, spec) for b in stack["branches"])
    n = len(stack["layers"])
    for i, layer in enumerate(stack["layers"]):
        assert layer["forward_std"] == pytest.approx(ra.steps[i].forward_std)
        assert layer["backward_std"] == pytest.approx(
            _rss(ra.steps[i].backward_std, rb.steps[i].backward_std))
    for b, r in zip(stack["branches"], (ra, rb)):
        assert b["backward_from"] == "output" and b["branches"] == []
        (layer,) = b["layers"]
        assert layer["fan_in"] == 128
        assert layer["forward_std"] == pytest.approx(r.steps[n].forward_std)
        assert layer["backward_std"] == pytest.approx(r.steps[n].backward_std)
        # Drift from the stack's first layer to the end of the branch, as if it were alone.
        assert b["forward_drift"] == pytest.approx(r.forward_drift)
        assert b["backward_drift"] == pytest.approx(r.backward_drift)


def test_keras_two_heads_are_branches_of_one_trunk(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(KERAS_TWO_HEADS)
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    assert data["skipped"] == []
    (stack,) = data["stacks"]
    assert (stack["kind"], stack["line"], len(stack["layers"])) == ("functional", 6, 2)
    assert [(b["label"], b["name"], b["line"]) for b in stack["branches"]] == [
        ("branch 1 of 2", "Dense at line 8", 8), ("branch 2 of 2", "Dense at line 9", 9)]
    assert [b["layers"][0]["activation"] for b in stack["branches"]] == ["linear", "sigmoid"]
    _check_tree(stack, _glorot())
    assert stack["note"] is None

    out = run_cli("simulate", str(p)).stdout.decode()
    assert "functional stack, 4 layers (analytic): a trunk of 2 layers, then 2 branches" in out
    assert "branch 1 of 2: Dense at line 8, layer 3, from the output of layer 2" in out
    assert "branch 2 of 2: Dense at line 9, layer 3, from the output of layer 2" in out
    assert "the sum of the gradients of its 2 branches" in out


def test_torch_two_heads_are_branches_of_one_trunk(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(TORCH_TWO_HEADS)
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    assert data["skipped"] == []
    (stack,) = data["stacks"]
    assert (stack["kind"], stack["line"]) == ("module", 6)
    assert [x["name"] for x in stack["layers"]] == ["fc1", "fc2"]
    assert [(b["label"], b["name"], b["line"]) for b in stack["branches"]] == [
        ("branch 1 of 2", "head_a", 11), ("branch 2 of 2", "head_b", 12)]
    # Both heads see the trunk's output; head_b does not follow head_a.
    fa, fb = (b["layers"][0]["forward_std"] for b in stack["branches"])
    assert fa == pytest.approx(fb)
    _check_tree(stack, _torch_default())

    out = run_cli("simulate", str(p)).stdout.decode()
    assert "module stack, 4 layers (analytic): a trunk of 2 layers, then 2 branches" in out
    assert "branch 1 of 2: head_a, layer 3" in out and "branch 2 of 2: head_b, layer 3" in out
    assert "backward at the end of the trunk: the sum of the gradients of its 2 branches" in out
    rows = [ln for ln in out.splitlines() if "│ head_" in ln]
    assert [ln.split("│")[0].strip() for ln in rows] == ["3", "3"]


def test_branches_in_monte_carlo(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(TORCH_TWO_HEADS)
    analytic = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    mc = json.loads(run_cli("simulate", "--mc", "--format", "json", str(p)).stdout)
    (a,), (m,) = analytic["stacks"], mc["stacks"]
    assert m["mode"] == "monte_carlo"
    assert [b["name"] for b in m["branches"]] == ["head_a", "head_b"]
    # The trunk (128 units wide; a head of 1 or 10 units is too narrow for a stable sample):
    # its backward std sums both heads' gradients in both modes.
    for x, y in zip(a["layers"], m["layers"]):
        assert y["forward_std"] == pytest.approx(x["forward_std"], rel=0.15)
        assert y["backward_std"] == pytest.approx(x["backward_std"], rel=0.15)


def test_a_branch_of_one_layer_trunk_and_the_chain_it_covers(tmp_path):
    # No chain of two layers starts at the trunk: the readers' only stack is branch 1.
    p = tmp_path / "m.py"
    p.write_text(
        "import keras\nfrom keras import layers\n\n"
        "inputs = keras.Input(shape=(64,))\n"
        "x = layers.Dense(128, activation='relu')(inputs)\n"
        "a = layers.Dense(64, activation='relu')(x)\n"
        "a = layers.Dense(10)(a)\n"
        "b = layers.Dense(1, activation='sigmoid')(x)\n"
        "model = keras.Model(inputs, [a, b])\n")
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    (stack,) = data["stacks"]
    assert stack["line"] == 5 and len(stack["layers"]) == 1
    assert [len(b["layers"]) for b in stack["branches"]] == [2, 1]
    assert data["skipped"] == [{"path": str(p), "line": 6, "what": "stack",
                                "reason": "it is branch 1 of 2 of the stack at line 5"}]
    out = run_cli("simulate", str(p)).stdout.decode()
    assert f"skipped: stack at {p}:6 (it is branch 1 of 2 of the stack at line 5)" in out


def test_residual_is_one_chain_with_a_note(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(
        "import torch\nimport torch.nn as nn\n\n\n"
        "class Res(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc1 = nn.Linear(32, 32)\n"
        "        self.fc2 = nn.Linear(32, 32)\n"
        "        self.fc3 = nn.Linear(32, 32)\n\n"
        "    def forward(self, x):\n"
        "        h = torch.relu(self.fc1(x))\n"
        "        h = h + torch.relu(self.fc2(h))\n"
        "        return self.fc3(h)\n")
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    (stack,) = data["stacks"]
    assert [x["name"] for x in stack["layers"]] == ["fc1", "fc2", "fc3"]
    assert stack["branches"] == [] and "branches rejoin at fc3" in stack["note"]
    out = run_cli("simulate", str(p)).stdout.decode()
    assert "note: branches rejoin at fc3" in out


# --- what is not shown, and why ---------------------------------------------------------------


def test_duplicate_stack_is_reported_as_skipped(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(
        "import torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Linear(64, 64), nn.ReLU(),\n"
        "                                  nn.Linear(64, 64), nn.ReLU())\n\n"
        "    def forward(self, x):\n"
        "        return self.body(x)\n")
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    assert [(s["kind"], s["line"]) for s in data["stacks"]] == [("sequential", 7)]
    assert data["skipped"] == [{"path": str(p), "line": 4, "what": "stack",
                                "reason": "same layers as the stack at line 7"}]
    out = run_cli("simulate", str(p)).stdout.decode()
    assert f"skipped: stack at {p}:4 (same layers as the stack at line 7)" in out


def test_unmodelled_branch_is_skipped_with_its_reason(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(TORCH_TWO_HEADS.replace("torch.tanh(self.head_b(h))",
                                         "torch.softmax(self.head_b(h), -1)"))
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    (stack,) = data["stacks"]
    assert [b["name"] for b in stack["branches"]] == ["head_a"]
    # The trunk's gradient is now head_a's alone.
    ra = _path(stack, stack["branches"][0], _torch_default())
    assert stack["layers"][0]["backward_std"] == pytest.approx(ra.steps[0].backward_std)
    (sk,) = data["skipped"]
    assert sk == {"path": str(p), "line": 6, "what": "branch", "branch": "branch 2 of 2: head_b",
                  "branch_line": 12,
                  "reason": "activation of head_b is not known; Linear at line 12"}
    out = run_cli("simulate", str(p)).stdout.decode()
    assert "then 2 branches from its output (1 skipped, see below)" in out
    assert (f"skipped: branch 2 of 2: head_b of the stack at {p}:6 "
            "(activation of head_b is not known; Linear at line 12)") in out


def test_unmodelled_stack_reason_names_the_layer_line(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import torch.nn as nn\nnet = nn.Sequential(nn.Linear(8, 8), nn.ReLU(),\n"
                 "                    nn.Linear(n, 8), nn.ReLU())\n")
    data = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)
    assert data["skipped"] == [{"path": str(p), "line": 2, "what": "stack",
                                "reason": "fans of net[2] are not known; Linear at line 3"}]
    out = run_cli("simulate", str(p)).stdout.decode()
    assert (f"skipped: stack at {p}:2 (fans of net[2] are not known; Linear at line 3)"
            in out)


def test_a_branch_that_branches_again(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(
        "import torch\nimport torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc1 = nn.Linear(64, 128)\n"
        "        self.a = nn.Linear(128, 128)\n"
        "        self.a1 = nn.Linear(128, 10)\n"
        "        self.a2 = nn.Linear(128, 10)\n"
        "        self.b = nn.Linear(128, 1)\n\n"
        "    def forward(self, x):\n"
        "        h = torch.relu(self.fc1(x))\n"
        "        g = torch.relu(self.a(h))\n"
        "        return self.a1(g), self.a2(g), self.b(h)\n")
    (stack,) = json.loads(run_cli("simulate", "--format", "json", str(p)).stdout)["stacks"]

    def shape(seg):
        return [(b["label"], b["name"], shape(b)) for b in seg["branches"]]

    assert shape(stack) == [("branch 1 of 2", "a", [("branch 1.1 of 2", "a1", []),
                                                     ("branch 1.2 of 2", "a2", [])]),
                            ("branch 2 of 2", "b", [])]
    a = stack["branches"][0]
    assert a["backward_from"] == "branches"
    a1, a2 = (b["layers"][0] for b in a["branches"])
    # a's gradient is the sum of a1's and a2's, which are alike.
    assert a["layers"][0]["backward_std"] == pytest.approx(
        2 ** 0.5 * _path(stack, {"layers": a["layers"] + [a1]}, _torch_default()).steps[1]
        .backward_std)
