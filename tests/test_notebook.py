"""Notebooks: cells joined, magics masked, findings per cell, fixes written into the cell
with every other byte of the JSON kept."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_cli
from initlint import engine, notebook

NB = FIXTURES / "notebooks" / "mlp.ipynb"


def test_findings_name_the_cell():
    r = run_cli("--format", "concise", str(NB))
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert lines[:3] == [
        f"{NB}:cell 4:line 3:col 61: IL002 [*] Dense (relu): glorot_uniform shrinks signal std "
        "to 0.868x (784→256); use he_uniform",
        f"{NB}:cell 4:line 4:col 61: IL002 [*] Dense (relu): glorot_normal shrinks signal std "
        "to 0.707x per layer; use he_normal",
        f"{NB}:cell 5:line 1:col 5: IL003 weight w: np.random.randn (std 1.0) ignores fan-in: "
        "pre-activation std 28.0 (fan-in 784); use scaling by √(2/fan_in)",
    ]
    data = json.loads(run_cli("--format", "json", str(NB)).stdout)
    assert [(d["cell"], d["line"], d["column"]) for d in data] == [(4, 3, 61), (4, 4, 61),
                                                                   (5, 1, 5)]


def test_text_excerpt_is_the_cells_line():
    out = run_cli(str(NB)).stdout.decode()
    assert ('3 |     layers.Dense(256, activation="relu", kernel_initializer="glorot_uniform"),'
            in out)


def test_magics_and_shell_escapes_are_masked():
    text = "%pip install x\n!ls\nx = !pwd\n  %time f()\nmodel?\n?model\nimport torch\n"
    masked, originals = notebook.mask(text)
    assert masked.splitlines() == [notebook.MASK] * 3 + ["  " + notebook.MASK] + \
        [notebook.MASK] * 2 + ["import torch"]
    assert len(originals) == 6
    # A cell magic other than %%time masks the whole cell; %%time keeps the Python.
    assert notebook.mask("%%bash\necho (\n")[0].splitlines() == [notebook.MASK] * 2
    assert notebook.mask("%%time\nx = 1\n")[0].splitlines() == [notebook.MASK, "x = 1"]
    engine.parse(notebook.load(NB.read_bytes()).joined)  # the joined source parses


def test_fix_writes_into_the_cell_and_keeps_every_other_byte(tmp_path):
    p = tmp_path / "nb.ipynb"
    raw = NB.read_text(encoding="utf-8")
    p.write_text(raw, encoding="utf-8")
    r = run_cli("--fix", "--unsafe-fixes", str(p))
    assert r.returncode == 0, r.stdout
    new = p.read_text(encoding="utf-8")
    expected = (raw.replace('kernel_initializer=\\"glorot_uniform\\"',
                            'kernel_initializer=\\"he_uniform\\"')
                .replace("kernel_initializer='glorot_normal'", "kernel_initializer='he_normal'")
                .replace("np.random.randn(784, 256)  #", "np.random.randn(784, 256) * "
                         "np.sqrt(2 / 784)  #"))
    assert new == expected
    assert new != raw


def test_fix_keeps_a_foreign_layout(tmp_path):
    """Two-space indent, unsorted keys, a source held as one string, escaped non-ASCII and no
    trailing newline: all kept."""
    src = ("import torch.nn as nn\n%matplotlib inline\ntag = 'mlp'\n"
           "net = nn.Sequential(*[m for _ in range(4) for m in (nn.Linear(256, 256), nn.ReLU())],\n"
           "                    nn.Linear(256, 10))\n"
           "for i in range(0, 8, 2):\n    nn.init.xavier_uniform_(net[i].weight)\n# caf\u00e9")
    nb = {"nbformat": 4, "nbformat_minor": 2, "metadata": {"x": "\u00e9"},
          "cells": [{"source": src, "cell_type": "code", "outputs": [], "metadata": {},
                     "execution_count": None}]}
    raw = json.dumps(nb, indent=2)
    p = tmp_path / "nb.ipynb"
    p.write_text(raw)
    assert run_cli("--fix", str(p)).returncode == 0
    new = p.read_text()
    fixed = json.loads(new)["cells"][0]["source"]
    assert fixed == src.replace("nn.init.xavier_uniform_(net[i].weight)",
                                "nn.init.kaiming_uniform_(net[i].weight, nonlinearity='relu')")
    assert new == raw.replace("nn.init.xavier_uniform_(net[i].weight)",
                              "nn.init.kaiming_uniform_(net[i].weight, nonlinearity='relu')")


def test_noqa_and_add_noqa_in_a_notebook(tmp_path):
    p = tmp_path / "nb.ipynb"
    p.write_bytes(NB.read_bytes())
    r = run_cli("--add-noqa", str(p))
    assert r.returncode == 0 and "Added 3 noqa directives." in r.stderr.decode()
    cells = json.loads(p.read_text())["cells"]
    assert cells[3]["source"][2].endswith('"glorot_uniform"),  # noqa: IL002\n')
    assert cells[1]["source"][0] == "%pip install keras\n"  # magics restored
    assert run_cli(str(p)).returncode == 0


@pytest.mark.parametrize("content, message", [
    (b'{"cells": ["torch"', "notebook is not valid JSON: Expecting ',' delimiter at line 1, "
                            "column 19"),
    (b'{"worksheets": [], "nbformat": 3, "x": "torch"}', "nbformat 3 notebooks are not supported"),
    (b'["torch"]', 'not a Jupyter notebook (no "cells" list)'),
    (b'\xff\xfe{"torch"}', "notebook is not valid UTF-8"),
])
def test_broken_notebooks_are_one_line_errors(tmp_path, content, message):
    p = tmp_path / "nb.ipynb"
    p.write_bytes(content)
    good = tmp_path / "ok.ipynb"
    good.write_bytes(NB.read_bytes())
    r = run_cli(str(tmp_path))
    err = r.stderr.decode()
    assert r.returncode == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"initlint: error: {p}: {message}")
    assert "ok.ipynb:cell 4:line 3:col 61" in r.stdout.decode()


def test_syntax_error_names_the_cell(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["import torch\n"], "metadata": {},
                     "outputs": []},
                    {"cell_type": "code", "source": ["x = (\n"], "metadata": {}, "outputs": []}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb))
    err = run_cli(str(p)).stderr.decode()
    assert err == f"{p}:cell 2:line 1:col 5: syntax error: '(' was never closed\n"


def test_other_languages_are_skipped(tmp_path):
    nb = json.loads(NB.read_text())
    nb["metadata"]["kernelspec"]["language"] = "R"
    nb["metadata"]["language_info"]["name"] = "R"
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb))
    assert run_cli(str(p)).returncode == 0


def test_fix_keeps_an_empty_string_that_ends_a_source_list(tmp_path):
    """Some writers end a cell's source list with "" after a last line ending in a newline;
    splitlines() sees no line there, and the fix once dropped it."""
    lines = ["import torch.nn as nn\n",
             "net = nn.Sequential(*[m for _ in range(4) for m in (nn.Linear(256, 256), nn.ReLU())],\n",
             "                    nn.Linear(256, 10))\n",
             "for i in range(0, 8, 2):\n", "    nn.init.xavier_uniform_(net[i].weight)\n", ""]
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                     "outputs": [], "source": lines}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    raw = json.dumps(nb, indent=1)
    p = tmp_path / "nb.ipynb"
    p.write_text(raw)
    assert run_cli("--fix", str(p)).returncode == 0
    assert p.read_text() == raw.replace(
        "nn.init.xavier_uniform_(net[i].weight)",
        'nn.init.kaiming_uniform_(net[i].weight, nonlinearity=\\"relu\\")')
