"""``initlint inspect``: the network model the rules see, as text and JSON."""

from __future__ import annotations

import io
import json

from conftest import FIXTURES, run_cli
from initlint import engine, inspect
from initlint.readers import KerasReader, TorchReader

KERAS = """\
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform",
                 input_shape=(784,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
"""

TORCH = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return self.fc2(x)
"""

GROUP_KEYS = {"path", "stack", "at", "layers"}
LAYER_KEYS = {"name", "type", "kind", "framework", "position", "at", "called_at", "activation",
              "weights", "flags"}
ACTIVATION_KEYS = {"name", "params", "known", "source", "at", "origin"}
WEIGHT_KEYS = {"role", "fan_in", "fan_out", "receptive", "init"}
INIT_KEYS = {"family", "distribution", "display", "scale", "mode", "std", "mean", "low", "high",
             "gain", "value", "explicit_scale", "written", "at", "origin"}
FLAG_KEYS = {"residual_branch", "residual_branch_end", "normalized", "normalized_after", "multiplies",
             "idioms"}
LOCATION_KEYS = {"text", "line", "column", "cell"}


def _json(*args: str):
    r = run_cli("inspect", "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_keras_sequential_text(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(KERAS)
    r = run_cli("inspect", str(p))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode().splitlines()
    assert out[0] == f"{p}:4:9: sequential stack, 3 layers"
    assert out[1] == f"  {p}:5:5: Dense (dense, hidden, keras)"
    assert out[2] == f"    activation: relu (keyword at {p}:5:33)"
    assert out[3].startswith("    kernel: fan_in 784, fan_out 64; init glorot_uniform (family "
                             "glorot, distribution uniform, scale 1, mode fan_avg; written "
                             f"string at {p}:5:60)")
    assert out[4].startswith("    bias: ")
    assert out[5] == "    flags: none"
    # The second layer's kernel is Keras's default: written "default", no location.
    assert any("fan_in 64, fan_out 64; init glorot_uniform" in line and
               line.endswith("written default)") for line in out)
    assert f"  {p}:8:5: Dense (dense, output, keras)" in out


def test_torch_module_with_forward_json(tmp_path):
    p = tmp_path / "net.py"
    p.write_text(TORCH)
    (group,) = _json(str(p))
    assert group["stack"] == "module" and group["path"] == str(p)
    fc1, fc2 = group["layers"]
    assert (fc1["name"], fc1["type"], fc1["kind"], fc1["framework"], fc1["position"]) == \
        ("fc1", "Linear", "dense", "torch", "hidden")
    assert fc1["at"] == {"text": f"{p}:8:20", "line": 8, "column": 20, "cell": None}
    act = fc1["activation"]
    assert (act["name"], act["source"], act["known"]) == ("relu", "forward", True)
    assert act["at"]["line"] == 13  # F.relu(...) in forward
    (kernel,) = fc1["weights"]
    assert (kernel["role"], kernel["fan_in"], kernel["fan_out"]) == ("kernel", 784, 256)
    init = kernel["init"]
    assert (init["family"], init["distribution"], init["written"]) == \
        ("glorot", "uniform", "function_call")
    assert init["display"] == "nn.init.xavier_uniform_" and init["at"]["line"] == 10
    assert fc2["position"] == "output" and fc2["activation"]["name"] == "linear"
    default = fc2["weights"][0]["init"]
    assert default["family"] == "framework_default" and default["written"] == "default"
    assert default["at"] is None


def test_json_shape_is_stable(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(KERAS)
    q = tmp_path / "net.py"
    q.write_text(TORCH)
    groups = _json(str(p), str(q))
    assert [g["stack"] for g in groups] == ["sequential", "module"]
    for g in groups:
        assert set(g) == GROUP_KEYS and set(g["at"]) == LOCATION_KEYS
        for layer in g["layers"]:
            assert set(layer) == LAYER_KEYS
            assert set(layer["activation"]) == ACTIVATION_KEYS
            assert set(layer["flags"]) == FLAG_KEYS
            assert isinstance(layer["flags"]["idioms"], list)
            assert layer["activation"]["origin"] is None
            for w in layer["weights"]:
                assert set(w) == WEIGHT_KEYS and set(w["init"]) == INIT_KEYS
                assert w["init"]["origin"] is None


def test_layers_in_no_stack(tmp_path):
    p = tmp_path / "draw.py"
    p.write_text("import numpy as np\n\nw = np.random.randn(784, 256)\n"
                 "def f(x):\n    return np.maximum(x @ w, 0)\n")
    groups = _json(str(p))
    (group,) = groups
    assert group["stack"] is None and group["at"] is None
    (layer,) = group["layers"]
    assert layer["framework"] == "numpy" and layer["weights"][0]["fan_in"] == 784
    text = run_cli("inspect", str(p)).stdout.decode()
    assert text.startswith(f"{p}: 1 layer in no stack\n")


def test_path_line_shows_the_layers_spanning_it(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(KERAS)
    # Line 6 is the second line of the first Dense call.
    (group,) = _json(f"{p}:6")
    assert [x["at"]["line"] for x in group["layers"]] == [5]
    # A finding's location (path:line:col) can be pasted as it is.
    (group,) = _json(f"{p}:8:60")
    assert [x["at"]["line"] for x in group["layers"]] == [8]
    r = run_cli("inspect", f"{p}:2")
    assert r.returncode == 0
    assert r.stdout.decode() == "No layers found.\n"
    assert b"no layer's constructor spans this line" in r.stderr


def test_path_line_on_a_directory_is_an_error(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(KERAS)
    r = run_cli("inspect", f"{tmp_path}:3", str(p))
    assert r.returncode == 2
    assert r.stderr.decode().strip() == f"initlint: error: {tmp_path}: a directory: a line " \
                                        "needs a file"
    assert "sequential stack, 3 layers" in r.stdout.decode()


def test_syntax_error_is_reported_like_the_linter_and_others_still_inspected(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nx = (\n")
    good = tmp_path / "model.py"
    good.write_text(KERAS)
    r = run_cli("inspect", str(bad), str(good))
    assert r.returncode == 2
    assert r.stderr.decode().strip() == f"{bad}:2:5: syntax error: '(' was never closed"
    assert run_cli(str(bad)).stderr == r.stderr  # the linter says the same
    assert "sequential stack, 3 layers" in r.stdout.decode()


def test_unreadable_file_is_one_line(tmp_path):
    p = tmp_path / "nul.py"
    p.write_bytes(b"import torch\x00\n")
    r = run_cli("inspect", "--format", "json", str(p))
    assert r.returncode == 2
    assert r.stderr.decode().strip() == f"initlint: error: {p}: binary file (contains NUL bytes)"
    assert json.loads(r.stdout) == []


def test_missing_path(tmp_path):
    good = tmp_path / "model.py"
    good.write_text(KERAS)
    missing = tmp_path / "nope.py"
    r = run_cli("inspect", str(missing), f"{missing}:3", str(good))
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        f"initlint: error: {missing}: no such file or directory"] * 2
    assert "sequential stack, 3 layers" in r.stdout.decode()


def test_notebook_cell_coordinates_and_filter():
    nb = FIXTURES / "notebooks" / "mlp.ipynb"
    r = run_cli("inspect", str(nb))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert f"{nb}:cell 4:line 1:col 9: sequential stack, 6 layers" in out
    assert f"  {nb}:cell 4:line 3:col 5: Dense (dense, hidden, keras)" in out
    assert f"written string at {nb}:cell 4:line 3:col 61)" in out
    (group,) = _json(f"{nb}:cell 4:line 4")
    (layer,) = group["layers"]
    assert layer["at"] == {"text": f"{nb}:cell 4:line 4:col 5", "line": 4, "column": 5,
                           "cell": 4}
    assert layer["weights"][0]["init"]["display"] == "glorot_normal"
    r = run_cli("inspect", f"{nb}:4")
    assert r.returncode == 2
    assert b"a notebook: give the line as PATH:cell N:line M" in r.stderr


def test_directory_is_searched(tmp_path):
    (tmp_path / "model.py").write_text(KERAS)
    (tmp_path / "net.py").write_text(TORCH)
    (tmp_path / "plain.py").write_text("print('no model')\n")
    groups = _json(str(tmp_path))
    assert sorted(g["stack"] for g in groups) == ["module", "sequential"]


def test_help_names_the_subcommand():
    assert b"initlint inspect" in run_cli("--help").stdout
    r = run_cli("inspect", "--help")
    assert r.returncode == 0 and b"PATH:LINE" in r.stdout


# --- direct calls --------------------------------------------------------------------------


def _network(reader, src: str, path: str = "m.py"):
    module = engine.parse(src)
    return reader.read(module, src), inspect.Locator(path, module)


def test_describe_is_plain_data():
    network, where = _network(KerasReader(), KERAS)
    groups = inspect.describe(network, where)
    assert json.loads(json.dumps(groups)) == groups
    (group,) = groups
    assert [x["position"] for x in group["layers"]] == ["hidden", "hidden", "output"]
    assert inspect.describe(network, where, line=7)[0]["layers"][0]["at"]["line"] == 7
    assert inspect.describe(network, where, line=1) == []


HELPER = """from keras import layers, Sequential


def block(units, act="relu", init="glorot_uniform"):
    return layers.Dense(units, activation=act, kernel_initializer=init)


model = Sequential([block(64), block(32, act="tanh"), layers.Dense(1)])
"""


def test_origin_says_how_a_value_reached_the_layer():
    """A layer built in a helper: its call site, and the parameter default or call-site
    argument each value came from."""
    network, where = _network(KerasReader(), HELPER)
    first, second, head = (inspect._layer(x, where) for x in network.stacks[0].layers)
    assert [c["text"] for c in first["called_at"]] == ["m.py:8:21"]
    assert first["activation"]["origin"] == \
        "the default of parameter act of block(), called at m.py:8:21"
    assert first["weights"][0]["init"]["origin"] == \
        "the default of parameter init of block(), called at m.py:8:21"
    assert second["activation"]["origin"] == "argument act of block() at m.py:8:32"
    assert head["called_at"] == [] and head["activation"]["origin"] is None
    out = io.StringIO()
    inspect.write_text(inspect.describe(network, where), out)
    text = out.getvalue()
    assert "built by the call at m.py:8:21" in text
    assert "activation: tanh from argument act of block() at m.py:8:32 (keyword at m.py:5:43)" \
        in text


TORCH_HELPER = """import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d, act_layer=nn.Tanh):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.act = act_layer()

    def forward(self, x):
        return self.act(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block(64)
        self.b = Block(64, act_layer=nn.ReLU)

    def forward(self, x):
        return self.b(self.a(x))
"""


def test_origin_of_a_pytorch_activation_module_passed_as_a_class():
    """``act_layer()`` in a block: the activation came through the parameter, by default or
    by the caller's argument, and each block says which."""
    network, where = _network(TorchReader(), TORCH_HELPER)
    first, second = (inspect._layer(x, where) for x in network.layers)
    assert first["activation"]["name"] == "tanh" and second["activation"]["name"] == "relu"
    assert first["activation"]["origin"] == \
        "the default of parameter act_layer of Block.__init__(), called at m.py:17:18"
    assert second["activation"]["origin"] == \
        "argument act_layer of Block.__init__() at m.py:18:18"
    assert [c["text"] for c in second["called_at"]] == ["m.py:18:18"]


def test_parse_target():
    assert inspect.parse_target("a.py:12") == inspect.Target("a.py", 12)
    assert inspect.parse_target("a.py:12:5") == inspect.Target("a.py", 12)
    assert inspect.parse_target("n.ipynb:cell 3:line 2:col 5") == \
        inspect.Target("n.ipynb", 2, 3)
    assert inspect.parse_target("a.py") == inspect.Target("a.py")
