"""Masking IPython syntax in notebook cells: initlint masks exactly the lines IPython itself
rewrites before compiling a cell, and never a line inside brackets or a string.

The parity table is checked against IPython, run in a child process (this file run as a script)
so that the shell IPython builds (``__IPYTHON__`` in builtins, ``sys.ps1``, ``__main__``) stays
out of the test session.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from typing import Dict, Set

import pytest

from conftest import require

# A cell of one line takes IPython's automagics; a longer cell never does (IPython >= 7 runs
# them on one-line cells only), so there `ls -la` is Python.
CELLS = {
    # % and ! at the start of a continuation line are Python operators
    "format_percent_continuation": 'print("loss: %.2f acc: %.2f"\n      % (loss, acc))\n',
    "modulo_continuation": "x = (a\n  % b)\n",
    "keras_io_print": ('print(\n    "Using %d samples for training and %d for validation"\n'
                       "    % (len(train_df), len(val_df))\n)\n"),
    "keras_io_nested_print": ("for step in range(10):\n    if step % 5 == 0:\n        print(\n"
                              '            "loss at step %d: %.4f"\n'
                              "            % (step, float(loss))\n        )\n"),
    "modulo_expression": "if step % 5 == 0:\n    print(step % 3)\n",
    "not_equal_continuation": "same = (a\n        != b)\n",
    "percent_dict_format": 'msg = "%(name)s" % {\n    "name": "x",\n}\n',
    "fstring_percent_spec": 'print(f"{acc:.1%} done")\nprint(f"{name!r:>{width}}")\n',
    "lambda_modulo": "parity = lambda x=3: x % 2\n",
    # lines in strings and brackets are never IPython syntax
    "triple_string_lines": 's = """\n%d items\n!important\n?\nwhat?\n"""\nprint(s % 3)\n',
    "string_line_ending_in_question": 'doc = """Is this\nthe question?\n"""\n',
    "question_in_strings": 'print("?")\nprint("what?")\n',
    "comment_ending_in_question": "x = 1  # is this right?\n# why?\n",
    "comment_question_in_brackets": "y = f(a,\n      b)  # ok?\n",
    "shell_text_in_string": 'cmd = ("!ls "\n       "-la")\n',
    # decorators and the matrix product
    "decorator": "@tf.function\ndef step(x):\n    return x @ w\n",
    "matmul_continuation": "y = (x\n     @ w)\n",
    # automagics
    "automagic_pip": "pip install keras-cv\n",
    "automagic_cd": "cd data\n",
    "automagic_cd_parent": "cd ..",
    "automagic_ls_la": "ls -la\n",
    "automagic_ls_alone": "ls",
    "automagic_pwd": "pwd\n",
    "assignment_to_magic_name": "cd = 3\n",
    "tuple_assignment_to_magic_name": "ls, n = [], 0\n",
    "magic_name_in_longer_cell": "import os\nls = os.listdir('.')\nls -la\n",
    "magic_name_attribute": "time.sleep(1)\n",
    # cell magics
    "time_cell": "%%time\nmodel.fit(x, y, epochs=2)\n",
    "time_cell_with_shell_line": "%%time\n!nvidia-smi\nhistory = model.fit(x, y)\n",
    "timeit_cell": "%%timeit -n 10\nnp.dot(a, b)\n",
    "capture_cell": "%%capture\n!pip install -q tensorflow\n",
    "bash_cell": '%%bash\npip install -q keras\necho "done (really"\n',
    "writefile_cell": '%%writefile train.py\nimport keras\nprint("%d" % 3)\n',
    # line magics, shell escapes, help
    "line_magics": "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\nimport numpy as np\n",
    "time_line_magic": "%time y = model.predict(x)\nprint(y)\n",
    "shell_pip": "!pip install -q keras-nlp\n",
    "shell_double_bang": "!!ls\n",
    "shell_with_variable": "!ls {data_dir}\n",
    "shell_capture_assign": "files = !ls *.csv\nprint(files)\n",
    "magic_assign": "x = %pwd\n",
    "help_suffix": "model?\n",
    "help_prefix_double": "??model\n",
    "help_method_double": "obj.method??\n",
    "help_subscript": "model.layers[0]?\n",
    "indented_magics_in_for": "for lr in [1e-3, 1e-4]:\n    %time train(lr)\n    !echo {lr}\n",
    "indented_magics_in_if": ("if IN_COLAB:\n    !pip install -q keras\nelse:\n"
                              "    %pip install -q keras\n"),
    "magic_in_function": "def setup():\n    !mkdir -p out\n    return 1\n",
    "backslash_shell": "!pip install -q \\\n    tensorflow \\\n    keras\nimport keras\n",
    "backslash_shell_in_block": ("for f in files:\n    !cp {f} \\\n        backup/\n"
                                 "    n += 1\n"),
}


def masked_lines(cell: str) -> Set[int]:
    """0-based lines of the cell that initlint masks (blank lines left out)."""
    from initlint import notebook

    masked, _ = notebook.mask(cell)
    original = cell.splitlines()
    return {i for i, line in enumerate(masked.splitlines())
            if line.strip() == notebook.MASK and original[i].strip()}


# --- IPython, in a child process ------------------------------------------------------------


def _ipython_changed(cell: str, shell, python_cell_magics) -> Set[int]:
    """The 0-based lines of the cell that IPython rewrites (blank lines left out).

    IPython's TransformerManager first drops leading blank lines and dedents (line for line),
    then turns a ``%%`` cell into one call, then rewrites one piece of special syntax at a time
    (each step replaces a run of lines by one line); the lines of each step are found by the
    common prefix and suffix of the lines before and after it and mapped back to the cell's own
    lines. The shell then runs automagics on a cell that is one line after all that. A
    Python-bodied cell magic (%%time) gets its body transformed by the shell in turn."""
    from IPython.core.inputtransformer2 import TransformerManager

    original = cell.splitlines()
    tm = TransformerManager()
    text = cell if cell.endswith("\n") else cell + "\n"
    lines = text.splitlines(keepends=True)
    kept = tm.cleanup_transforms[0](lines)  # leading_empty_lines
    offset = len(lines) - len(kept)
    lines = kept
    for transform in tm.cleanup_transforms[1:]:
        lines = transform(lines)
    assert len(lines) == len(kept)
    if lines and lines[0].startswith("%%") and tm.line_transforms[0](lines) != lines:
        if lines[0][2:].rstrip().partition(" ")[0] in python_cell_magics:
            body = "".join(text.splitlines(keepends=True)[offset + 1:])
            return {offset} | {offset + 1 + i
                               for i in _ipython_changed(body, shell, python_cell_magics)}
        return {i for i in range(offset, len(original)) if original[i].strip()}
    origin = [{offset + i} for i in range(len(lines))]
    changed: Set[int] = set()
    while True:
        done, new = tm.do_one_token_transform(lines)
        if not done:
            break
        a = 0
        while a < min(len(lines), len(new)) and lines[a] == new[a]:
            a += 1
        s = 0
        while s < min(len(lines), len(new)) - a and lines[-1 - s] == new[-1 - s]:
            s += 1
        assert len(new) - a - s == 1, (lines, new)
        run = set().union(*origin[a:len(lines) - s])
        changed |= run
        origin[a:len(lines) - s] = [run]
        lines = new
    static = "".join(lines)
    if len(static.splitlines()) == 1 and shell.transform_cell(text) != static:
        changed |= origin[0]  # an automagic
    return {i for i in changed if original[i].strip()}


def _ipython_main() -> None:
    """Read {"cells": {...}, "python_cell_magics": [...]} on stdin; write, for each cell, the
    lines IPython rewrites and whether the shell's transformed cell compiles."""
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell

    request = json.load(sys.stdin)
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    out = {"line_magics": sorted(shell.magics_manager.magics["line"]),
           "aliases": sorted(name for name, _ in shell.alias_manager.aliases), "cells": {}}
    for name, cell in request["cells"].items():
        try:
            compile(shell.transform_cell(cell), name, "exec")
            compiles = True
        except SyntaxError:
            compiles = False
        out["cells"][name] = {
            "changed": sorted(_ipython_changed(cell, shell, request["python_cell_magics"])),
            "compiles": compiles,
        }
    json.dump(out, sys.stdout)


EXTRA = {
    # `x = \` continued onto a magic: IPython rewrites the second line only (its `x = ` stays);
    # initlint masks the whole logical line, as a placeholder cannot finish `x = \`.
    "assignment_continued_onto_magic": "x = \\\n    %time f()\nprint(x)\n",
    # IPython >= 7 runs automagics in one-line cells only: these stay invalid Python
    "automagics_in_longer_cell": "pip install datasets\npip install nltk\n",
}


@pytest.fixture(scope="module")
def ipython(tmp_path_factory) -> Dict:
    require("IPython")
    from initlint import notebook

    env = dict(os.environ, IPYTHONDIR=str(tmp_path_factory.mktemp("ipython")))
    request = {"cells": {**CELLS, **EXTRA},
               "python_cell_magics": sorted(notebook.PYTHON_CELL_MAGICS)}
    r = subprocess.run([sys.executable, os.path.abspath(__file__)], input=json.dumps(request),
                       capture_output=True, text=True, env=env, timeout=120,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CELLS))
def test_masks_what_ipython_rewrites(name, ipython):
    from initlint import notebook

    cell = CELLS[name]
    result = ipython["cells"][name]
    assert result["compiles"], "every cell of the table is one IPython runs"
    assert masked_lines(cell) == set(result["changed"])
    masked, originals = notebook.mask(cell)
    ast.parse(masked)
    assert notebook._unmask(masked, originals) == cell


def test_parity_table_is_large():
    assert len(CELLS) >= 30


def test_a_continued_assignment_masks_the_whole_logical_line(ipython):
    from initlint import notebook

    cell = EXTRA["assignment_continued_onto_magic"]
    assert ipython["cells"]["assignment_continued_onto_magic"] == {"changed": [1],
                                                                   "compiles": True}
    masked, originals = notebook.mask(cell)
    assert masked.splitlines() == [notebook.MASK, notebook.MASK, "print(x)"]
    ast.parse(masked)
    assert notebook._unmask(masked, originals) == cell


def test_automagics_only_in_a_one_line_cell(ipython):
    from initlint import notebook

    cell = EXTRA["automagics_in_longer_cell"]
    assert ipython["cells"]["automagics_in_longer_cell"] == {"changed": [], "compiles": False}
    assert notebook.mask(cell) == (cell, [])
    for line in cell.splitlines():
        assert masked_lines(line) == {0}


def test_line_magic_names_cover_ipythons(ipython):
    """The literal list keeps up with IPython's magics (its shell aliases are the POSIX ones)."""
    from initlint import notebook

    aliases = set(ipython["aliases"])
    assert set(ipython["line_magics"]) - aliases <= notebook.LINE_MAGICS
    if os.name == "posix":
        assert aliases <= notebook.LINE_MAGICS


# Without IPython: the reported defects, spelled out.


@pytest.mark.parametrize("cell", [
    'print("loss: %.2f acc: %.2f"\n      % (loss, acc))\n',
    "x = (a\n  % b)\n",
    "same = (a\n        != b)\n",
    "y = f(a,\n      b)  # ok?\n",
    's = """\n%d items\n!important\n?\nwhat?\n"""\n',
    "x = 1  # is this right?\n",
])
def test_continuation_and_string_lines_are_python(cell):
    from initlint import notebook

    assert notebook.mask(cell) == (cell, [])


@pytest.mark.parametrize("cell, expected", [
    ("pip install keras-cv\n", {0}),
    ("cd data\n", {0}),
    ("ls -la", {0}),
    ("ls\n", {0}),
    ("\n%%time\npip install x\n", {1, 2}),
    ("cd = 3\n", set()),
    ("ls, n = [], 0\n", set()),
    ("time.sleep(1)\n", set()),
    ("ls\n\n", set()),  # two lines: Python
])
def test_automagics(cell, expected):
    assert masked_lines(cell) == expected


def test_backslash_continuation_keeps_the_block():
    from initlint import notebook

    cell = CELLS["backslash_shell_in_block"]
    masked, originals = notebook.mask(cell)
    assert masked.splitlines()[1:3] == ["    " + notebook.MASK] * 2
    ast.parse(masked)
    assert notebook._unmask(masked, originals) == cell


def test_notebook_of_the_table_parses_and_splits_back():
    import libcst

    from initlint import notebook

    cells = [{"cell_type": "code", "source": cell.splitlines(keepends=True), "metadata": {},
              "outputs": [], "execution_count": None} for cell in CELLS.values()]
    data = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    nb = notebook.load(json.dumps(data, indent=1).encode())
    libcst.parse_module(nb.joined)
    assert notebook.split(nb, nb.joined) == dict(enumerate(CELLS.values()))


if __name__ == "__main__":
    _ipython_main()
