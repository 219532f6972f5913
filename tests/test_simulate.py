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
