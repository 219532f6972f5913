"""The linted tree's own modules: the index of a run, the resolver, the definitions it reads,
and imports followed across files through the command line."""

from __future__ import annotations

import json
import os

import libcst as cst

from conftest import run_cli
from initlint.analysis import Evaluator, Host, reading
from initlint.analysis.modules import ModuleIndex, ParseCache, TreeResolver, definitions_of


def _tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return [str(tmp_path / rel) for rel in files]


def test_index_names_packages_and_finds_scripts_beside_each_other(tmp_path):
    paths = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/sub/__init__.py": "",
                             "pkg/sub/mod.py": "", "scripts/train.py": "",
                             "scripts/utils.py": ""})
    index = ModuleIndex.build(paths)
    assert index.by_path[str(tmp_path / "pkg/sub/mod.py")] == "pkg.sub.mod"
    assert index.by_path[str(tmp_path / "pkg/__init__.py")] == "pkg"
    assert index.find("pkg.sub.mod", str(tmp_path / "scripts/train.py")) == \
        str(tmp_path / "pkg/sub/mod.py")
    assert index.find("utils", str(tmp_path / "scripts/train.py")) == \
        str(tmp_path / "scripts/utils.py")
    assert index.find("numpy", str(tmp_path / "scripts/train.py")) is None
    # a module of a package imports the standard library's name, not its neighbour's
    assert index.find("mod", str(tmp_path / "pkg/sub/other.py")) is None


def test_definitions_leave_script_code_out():
    module = cst.parse_module("import os\nX = 1\nprint(X)\ndef f():\n    pass\n"
                              "if __name__ == '__main__':\n    f()\nclass C:\n    pass\n")
    kept = definitions_of(module).code
    assert "print" not in kept and "__main__" not in kept
    assert "import os" in kept and "X = 1" in kept and "def f" in kept and "class C" in kept


def test_cache_parses_each_module_once(tmp_path):
    (path,) = _tree(tmp_path, {"m.py": "X = 1\nprint(X)\n"})
    cache = ParseCache()
    first = cache.definitions(path)
    assert first is not None and first.code == "X = 1\n"
    assert cache.definitions(path).body[0] is first.body[0]
    assert cache.parsed == 1
    assert cache.definitions(str(tmp_path / "missing.py")) is None
    linted = cst.parse_module("Y = 2\n")  # a file the engine parsed for linting first
    cache.put(str(tmp_path / "n.py"), "Y = 2\n", linted)
    (tmp_path / "n.py").write_text("Y = 2\n")
    assert cache.definitions(str(tmp_path / "n.py")).body[0] is linted.body[0]
    assert cache.parsed == 1
    (tmp_path / "n.py").write_text("Y = 3\n")  # changed since: parsed again
    assert cache.definitions(str(tmp_path / "n.py")).code == "Y = 3\n"


def test_evaluators_made_while_reading_a_file_resolve_its_imports(tmp_path):
    paths = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/config.py": "WIDTH = 2 * 64\n",
                             "pkg/model.py": "from .config import WIDTH\nw = WIDTH\n"})
    resolver = TreeResolver(ModuleIndex.build(paths))
    model = cst.parse_module((tmp_path / "pkg/model.py").read_text())
    with reading(paths[2], resolver):
        ev = Evaluator(model, Host())
    ev.run()
    assert ev.scope.names["w"].value == 128
    assert ev.scope.names["w"].module == str(tmp_path / "pkg/config.py")
    outside = Evaluator(model, Host())
    outside.run()
    assert outside.scope.names["w"].describe().startswith("unknown")


def test_the_command_line_follows_imports_of_the_tree(tmp_path):
    _tree(tmp_path, {
        "proj/config.py": 'KERNEL_INIT = "glorot_uniform"\n',
        "proj/model.py": "from keras import layers, Sequential\nfrom config import KERNEL_INIT\n"
                         "m = Sequential([layers.Dense(8, activation='relu', "
                         "kernel_initializer=KERNEL_INIT), layers.Dense(8, activation='relu'), "
                         "layers.Dense(8, activation='relu'), layers.Dense(8, activation='relu'), "
                         "layers.Dense(1)])\n",
    })
    r = run_cli("--isolated", "--format", "json", "--exit-zero", str(tmp_path / "proj"))
    found = [(os.path.basename(f["path"]), f["line"], f["code"])
             for f in json.loads(r.stdout)]
    assert found == [("model.py", 3, "IL002")]
    assert not [f for f in json.loads(r.stdout) if f.get("fix")]  # the literal is elsewhere
    alone = run_cli("--isolated", "--format", "json", "--exit-zero",
                    str(tmp_path / "proj" / "model.py"))
    assert json.loads(alone.stdout) == []  # config.py is not part of that run


def test_imports_read_only_the_modules_whose_names_are_used(tmp_path):
    """A package's ``__init__`` that re-exports many modules costs one module per name used."""
    files = {"pkg/__init__.py": "".join(f"from .m{i} import F{i}\n" for i in range(20))}
    files.update({f"pkg/m{i}.py": f"F{i} = {i}\n" for i in range(20)})
    files["main.py"] = "from pkg import F7\nimport pkg\nx = F7\ny = pkg.F3\n"
    paths = _tree(tmp_path, files)
    cache = ParseCache()
    resolver = TreeResolver(ModuleIndex.build(paths), cache)
    main = cst.parse_module(files["main.py"])
    with reading(str(tmp_path / "main.py"), resolver):
        ev = Evaluator(main, Host())
    ev.run()
    assert ev.scope.names["x"].value == 7 and ev.scope.names["y"].value == 3
    assert cache.parsed == 3  # pkg/__init__.py, pkg/m7.py and pkg/m3.py


MODEL = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, width=64):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, width)
        self.fc4 = nn.Linear(width, width)
        self.out = nn.Linear(width, 1)
        nn.init.xavier_uniform_(self.fc1.weight)
        nn.init.xavier_uniform_(self.fc2.weight)
        for fc in (self.fc3, self.fc4):
            nn.init.xavier_uniform_(fc.weight)

    def forward(self, x):
        x = F.relu(self.fc2(F.relu(self.fc1(x))))
        return self.out(F.relu(self.fc4(F.relu(self.fc3(x)))))
"""


def test_a_model_of_another_module_is_reported_where_it_is_written(tmp_path):
    """A training script that builds the model of another module of the run does not repeat
    that module's findings at its call; an initializer the script itself gives the model's
    layers is the script's to report."""
    _tree(tmp_path, {
        "proj/model.py": MODEL,
        "proj/train.py": "import torch\nfrom model import Net\nnet = Net(width=128)\n"
                         "net(torch.randn(4, 128))\n",
        "proj/retrain.py": "import torch.nn as nn\nfrom model import Net\nnet = Net()\n"
                           "nn.init.xavier_normal_(net.fc2.weight)\n",
    })
    r = run_cli("--isolated", "--format", "json", "--exit-zero", str(tmp_path / "proj"))
    found = sorted((os.path.basename(f["path"]), f["line"], f["code"])
                   for f in json.loads(r.stdout))
    assert found == [("model.py", 13, "IL002"), ("model.py", 14, "IL002"),
                     ("model.py", 16, "IL002"), ("retrain.py", 4, "IL002")]


def test_a_run_put_together_here_from_another_modules_helper_is_reported_here(tmp_path):
    """A helper of another module builds the layers; this file decides how many and in what
    order: a deep run is this file's finding, at the call that builds it."""
    _tree(tmp_path, {
        "proj/blocks.py": "from keras import layers\n\n\ndef dense_block(x, n):\n"
                          "    for _ in range(n):\n"
                          "        x = layers.Dense(64, activation='relu')(x)\n    return x\n",
        "proj/deep.py": "import keras\nfrom keras import layers\nfrom blocks import dense_block\n"
                        "inputs = keras.Input((64,))\nx = dense_block(inputs, 12)\n"
                        "model = keras.Model(inputs, layers.Dense(1)(x))\n",
    })
    r = run_cli("--isolated", "--format", "json", "--exit-zero", str(tmp_path / "proj"))
    found = [(os.path.basename(f["path"]), f["line"], f["code"]) for f in json.loads(r.stdout)]
    assert found == [("deep.py", 5, "IL102")]


DECODER = """import torch.nn as nn


class Conv(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(c_in, c_out, 3)

    def forward(self, x):
        return self.conv(self.pad(x))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            Conv(64, 64), nn.ReLU(), Conv(64, 64), nn.ReLU(), Conv(64, 64), nn.ReLU(),
            Conv(64, 64), nn.ReLU(), Conv(64, 64), nn.ReLU(), Conv(64, 64), nn.ReLU(),
            Conv(64, 64), nn.ReLU(), Conv(64, 64), nn.ReLU(), Conv(64, 3),
        )

    def forward(self, x):
        return self.body(x)
"""


def test_a_deep_run_of_another_module_built_without_arguments_is_reported_once(tmp_path):
    """A training script that builds another module's model with no arguments gets the model
    that module's own reading gets: the run is reported where it is written, not again at
    the call."""
    _tree(tmp_path, {
        "proj/model.py": DECODER,
        "proj/train.py": "import torch\nfrom model import Decoder\nnet = Decoder()\n"
                         "net(torch.randn(1, 64, 8, 8))\n",
    })
    r = run_cli("--isolated", "--format", "json", "--exit-zero", str(tmp_path / "proj"))
    found = [(os.path.basename(f["path"]), f["code"]) for f in json.loads(r.stdout)]
    assert found == [("model.py", "IL103")]
