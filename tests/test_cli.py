"""The command line: formats, exit codes, selection, stdin, explain, bad input."""

from __future__ import annotations

import json
import re

import pytest

from conftest import FIXTURES, run_cli

BAD = 'from keras import layers\nlayers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Input((8,))))))\n'
GOOD = BAD.replace("glorot_uniform", "he_uniform")


@pytest.fixture
def bad(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(BAD)
    return p


def test_concise_format_line_and_summary(bad):
    r = run_cli("--format", "concise", str(bad))
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert re.fullmatch(rf"{re.escape(str(bad))}:2:55: IL002 \[\*\] Dense \(relu\): glorot_uniform "
                        r"shrinks signal std to 0\.707x per layer; use he_uniform", lines[0])
    assert lines[1] == "Found 1 finding (1 warning)."
    assert lines[2] == "[*] 1 fixable with `initlint --fix`."


def test_clean_exit_zero(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(GOOD)
    r = run_cli(str(p))
    assert r.returncode == 0
    assert r.stdout.decode().strip() == "All checks passed!"


def test_exit_zero_flag(bad):
    assert run_cli("--exit-zero", str(bad)).returncode == 0


JSON_KEYS = {"path", "line", "column", "end_line", "end_column", "code", "name", "severity",
             "message", "details", "fix"}


def test_json_schema(bad):
    r = run_cli("--format", "json", str(bad))
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert isinstance(data, list) and len(data) == 1
    item = data[0]
    assert set(item) == JSON_KEYS
    assert item["path"] == str(bad)
    # 1-based; the range covers the initializer expression, end column exclusive
    assert (item["line"], item["column"], item["end_line"], item["end_column"]) == (2, 55, 2, 71)
    assert BAD.splitlines()[1][54:70] == '"glorot_uniform"'
    assert (item["code"], item["name"], item["severity"]) == ("IL002", "glorot-with-relu", "warning")
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"] == [{"content": '"he_uniform"', "line": 2, "column": 55,
                                     "end_line": 2, "end_column": 71}]


def test_json_range_covers_layer_call_for_default_initializer(tmp_path):
    p = tmp_path / "m.py"
    p.write_text('import keras\nfrom keras import layers\nx = layers.Dense(\n    8, activation="relu")(keras.Input((8,)))\n'
                 + 'for _ in range(11):\n    x = layers.Dense(8, activation="relu")(x)\n')
    data = json.loads(run_cli("--format", "json", "--select", "IL102", str(p)).stdout)
    assert [(d["line"], d["column"], d["end_line"], d["end_column"]) for d in data] == [(3, 5, 4, 26)]
    assert data[0]["severity"] == "warning"
    assert data[0]["fix"]["edits"][0]["content"] == ', kernel_initializer="he_uniform"'


def test_json_fix_applicability_and_splatted_arguments(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("from keras import layers\nlayers.Dense(8, kernel_initializer=factory('ones'))\n"
                 "layers.Dense(8, kernel_initializer='ones')\n")
    data = json.loads(run_cli("--format", "json", str(p)).stdout)
    assert [d["code"] for d in data] == ["IL001"]
    assert data[0]["fix"]["applicability"] == "unsafe"
    # **kw may hold a random bias_initializer, which breaks the symmetry: nothing is proven
    p.write_text("from keras import layers\n"
                 "layers.Dense(8, 'tanh', kernel_initializer='ones', **kw)\n")
    assert json.loads(run_cli("--format", "json", str(p)).stdout) == []


def test_json_clean_is_empty_array(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(GOOD)
    assert json.loads(run_cli("--format", "json", str(p)).stdout) == []


@pytest.mark.parametrize(
    "args, codes",
    [
        ((), ["IL002", "IL102"]),
        (("--select", "IL1"), ["IL102"]),
        (("--select", "ALL"), ["IL002", "IL102", "IL900"]),
        (("--select", "ALL", "--ignore", "IL1"), ["IL002", "IL900"]),
        (("--extend-select", "IL900"), ["IL002", "IL102", "IL900"]),
        (("--ignore", "IL002"), ["IL102"]),
        (("--select", "IL002,IL900"), ["IL002", "IL900"]),
        (("--select", "all"), ["IL002", "IL102", "IL900"]),
    ],
)
def test_selection(tmp_path, args, codes):
    """IL002 and IL102 (a stack of 12 default-Glorot ReLU layers) are default rules; IL900
    (an unused suppression) is not."""
    p = tmp_path / "m.py"
    stack = "".join('    layers.Dense(8, activation="relu"),\n' for _ in range(12))
    p.write_text(BAD + "import keras\nmodel = keras.Sequential([\n    keras.Input((8,)),\n"
                 + stack + "    layers.Dense(1),\n])\nx = 1  # noqa: IL001\n")
    data = json.loads(run_cli("--format", "json", *args, str(p)).stdout)
    assert sorted(d["code"] for d in data) == codes


def test_unknown_selector_is_usage_error(bad):
    r = run_cli("--select", "IL999", str(bad))
    assert r.returncode == 2
    assert b"unknown rule selector 'IL999'" in r.stderr


def test_unknown_option_is_usage_error(bad):
    assert run_cli("--no-such-flag", str(bad)).returncode == 2


def test_directory_walk_skips_default_excludes(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text(BAD)
    for d in (".git", "build", "dist", "__pycache__", "node_modules", ".venv"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "model.py").write_text(BAD)
    (tmp_path / "myenv").mkdir()
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "myenv" / "model.py").write_text(BAD)
    (tmp_path / "notes.txt").write_text(BAD)
    data = json.loads(run_cli("--format", "json", ".", cwd=tmp_path).stdout)
    assert sorted({d["path"] for d in data}) == ["src/model.py"]
    data = json.loads(run_cli("--format", "json", "--extend-exclude", "src", ".", cwd=tmp_path).stdout)
    assert data == []


def test_default_path_is_current_directory(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    r = run_cli(cwd=tmp_path)
    assert r.returncode == 1 and b"m.py:2:55: IL002" in r.stdout


def test_stdin_with_filename():
    r = run_cli("-", "--stdin-filename", "pkg/model.py", input=BAD.encode())
    assert r.returncode == 1
    assert r.stdout.decode().startswith("pkg/model.py:2:55: IL002")


def test_missing_path_is_reported_and_others_still_linted(bad, tmp_path):
    r = run_cli(str(bad), str(tmp_path / "nope.py"))
    assert r.returncode == 2
    assert f"initlint: error: {tmp_path / 'nope.py'}: no such file or directory".encode() in r.stderr
    assert b"IL002" in r.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (b"import keras\ndef f(:\n", b"2:7: syntax error: invalid syntax"),
        (b"import keras\nx = '\xff\xfe caf\xe9'\n", b"not valid utf-8 at line 2"),
        (b"import keras\x00\x01\x02", b"binary file"),
        (b"# -*- coding: klingon -*-\nimport keras\n", b"bad encoding declaration"),
    ],
    ids=["syntax", "not-utf8", "binary", "bad-cookie"],
)
def test_bad_files_get_one_line_and_others_still_linted(tmp_path, bad, content, message):
    broken = tmp_path / "broken.py"
    broken.write_bytes(content)
    r = run_cli(str(broken), str(bad))
    err = r.stderr.decode().strip().splitlines()
    assert len(err) == 1, err
    # A syntax error is located like a finding; other problems name the file.
    prefix = f"{broken}:" if b"syntax" in message else f"initlint: error: {broken}: "
    assert err[0].startswith(prefix)
    assert message in r.stderr
    assert b"Traceback" not in r.stderr + r.stdout
    assert b"IL002" in r.stdout
    assert r.returncode == 1
    # nothing could be linted at all: exit 2
    r = run_cli(str(broken))
    assert r.returncode == 2


def test_unreadable_file(tmp_path, bad):
    # A dangling symlink is found by the directory walk but cannot be opened (even by root).
    d = tmp_path / "pkg"
    d.mkdir()
    (d / "gone.py").symlink_to(tmp_path / "missing-target.py")
    (d / "model.py").write_text(BAD)
    r = run_cli(str(d))
    assert f"initlint: error: {d / 'gone.py'}: cannot read".encode() in r.stderr
    assert b"IL002" in r.stdout and r.returncode == 1


def test_never_imports_or_runs_the_code(tmp_path):
    marker = tmp_path / "imported.txt"
    p = tmp_path / "evil.py"
    p.write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "import keras\nraise SystemExit(3)\n" + BAD
    )
    r = run_cli(str(p))
    assert r.returncode == 1 and b"IL002" in r.stdout
    assert not marker.exists()


def test_files_without_framework_mentions_are_skipped_before_parsing(tmp_path):
    p = tmp_path / "plain.py"
    p.write_text("def f(:\n")  # a syntax error nobody needs to hear about: no model can be here
    r = run_cli(str(p))
    assert r.returncode == 0, r.stderr


def test_many_files_use_the_process_pool(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(BAD)
    r = run_cli("--format", "json", "--jobs", "2", str(tmp_path))
    data = json.loads(r.stdout)
    assert len(data) == 40
    assert [d["path"] for d in data] == sorted(d["path"] for d in data)


def test_explain_prints_rule_doc():
    r = run_cli("--explain", "IL002")
    out = r.stdout.decode()
    assert r.returncode == 0
    assert out.startswith("# glorot-with-relu (IL002)")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix"):
        assert section in out
    assert "0.71" in out


def test_explain_unknown_code():
    r = run_cli("--explain", "IL999")
    assert r.returncode == 2 and b"unknown rule code" in r.stderr


def test_every_rule_has_ruff_style_docs():
    from initlint import rules

    for r in rules.all_rules():
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix"):
            assert section in r.doc, (r.code, section)


def test_version_matches_package_metadata():
    from importlib.metadata import version

    import initlint

    r = run_cli("--version")
    assert r.returncode == 0
    assert r.stdout.decode().strip() == f"initlint, version {initlint.__version__}"
    assert initlint.__version__ == version("initlint")


def test_console_script_and_module_agree(bad):
    import shutil
    import subprocess

    import sys
    from pathlib import Path

    exe = shutil.which("initlint", path=str(Path(sys.executable).parent)) or shutil.which("initlint")
    assert exe is not None, "the console script was not installed"
    a = subprocess.run([exe, str(bad)], capture_output=True, env={"NO_COLOR": "1", "PATH": ""})
    b = run_cli(str(bad))
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)


def test_fixture_demo_shows_real_findings():
    r = run_cli(str(FIXTURES))
    assert r.returncode == 1
    out = r.stdout.decode()
    for code in ("IL001", "IL002", "IL003"):
        assert code in out


def test_colour_only_when_asked_or_on_a_terminal(bad):
    plain = run_cli(str(bad))
    assert b"\x1b[" not in plain.stdout
    coloured = run_cli(str(bad), env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert b"\x1b[" in coloured.stdout
    # the same finding either way
    import re as _re

    assert _re.sub(rb"\x1b\[[0-9;]*m", b"", coloured.stdout) == plain.stdout


def test_internal_error_names_the_file_and_exits_2(bad, tmp_path, monkeypatch, capsys):
    from initlint import cli, engine

    other = tmp_path / "other.py"
    other.write_text(BAD)

    def boom(text, options):
        if "boom" in text:
            raise KeyError("bug")
        return real(text, options)

    real = engine.lint_and_fix
    other.write_text(BAD + "# boom\n")
    monkeypatch.setattr(engine, "lint_and_fix", boom)
    with pytest.raises(SystemExit) as exc:
        cli.main([str(bad), str(other)])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert f"initlint: error: {other}: internal error: KeyError" in err
    assert "Traceback" not in err
    assert "IL002" in out  # the other file was still linted


# --- what a new user meets first ------------------------------------------------------------

INFO_ONLY = ("import torch.nn as nn\nnet = nn.Sequential("
             + ", ".join("nn.Linear(64, 64), nn.ReLU()" for _ in range(6))
             + ", nn.Linear(64, 10))\n")  # six default-init ReLU layers: IL103 at info


def test_stdin_filename_alone_reads_standard_input(tmp_path):
    (tmp_path / "other.py").write_text(BAD)  # would be found if the directory were linted
    r = run_cli("--stdin-filename", "model.py", "--format", "concise", input=BAD.encode(),
                cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("model.py:2:55: IL002")
    assert "other.py" not in r.stdout.decode()


def test_stdin_fix_writes_to_standard_output_never_to_disk(tmp_path):
    target = tmp_path / "model.py"
    target.write_text(BAD)
    r = run_cli("--stdin-filename", str(target), "--fix", input=BAD.encode(), cwd=tmp_path)
    assert r.stdout == GOOD.encode()
    assert target.read_text() == BAD  # the file named is not touched
    assert r.returncode == 0


def test_info_findings_do_not_fail_the_run_by_default(tmp_path):
    p = tmp_path / "net.py"
    p.write_text(INFO_ONLY)
    r = run_cli("--format", "concise", "--isolated", str(p))
    assert b"IL103" in r.stdout and b"(1 info)" in r.stdout
    assert r.returncode == 0
    assert run_cli("--fail-on", "info", "--isolated", str(p)).returncode == 1
    p.write_text(BAD)
    assert run_cli("--fail-on", "error", "--isolated", str(p)).returncode == 0
    assert run_cli("--fail-on", "warning", "--isolated", str(p)).returncode == 1
    assert run_cli("--fail-on", "info", "--exit-zero", "--isolated", str(p)).returncode == 0


def test_fail_on_from_the_config_and_the_flag_over_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.initlint]\nfail-on = "info"\n')
    p = tmp_path / "net.py"
    p.write_text(INFO_ONLY)
    assert run_cli(str(p), cwd=tmp_path).returncode == 1
    assert run_cli("--fail-on", "warning", str(p), cwd=tmp_path).returncode == 0


def test_a_stdout_that_cannot_encode_unicode_degrades_characters(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import numpy as np\nW = np.random.randn(250, 250)\nh = np.tanh(x @ W)\n")
    r = run_cli("--isolated", "--show-details", str(p), env={"PYTHONIOENCODING": "ascii"})
    assert b"Traceback" not in r.stderr and b"UnicodeEncodeError" not in r.stderr
    assert r.returncode == 1
    r.stdout.decode("ascii")  # nothing but ASCII
    assert b"sqrt" in r.stdout and b"IL003" in r.stdout


def test_all_checks_passed_never_beside_an_error(tmp_path):
    (tmp_path / "broken.py").write_text("import keras\ndef f(:\n")
    (tmp_path / "good.py").write_text(GOOD)
    r = run_cli(str(tmp_path))
    assert b"All checks passed" not in r.stdout
    assert b"1 file could not be linted" in r.stdout
    assert r.returncode == 1
    r = run_cli("--statistics", str(tmp_path))
    assert b"All checks passed" not in r.stdout


def test_syntax_error_is_one_located_line(tmp_path):
    p = tmp_path / "broken.py"
    p.write_text("import keras\nmodel = keras.Sequential([\n    keras.layers.Dense(8),\n")
    r = run_cli(str(p))
    assert r.stderr.decode() == f"{p}:2:26: syntax error: '[' was never closed\n"


def test_output_file_creates_its_directories(bad, tmp_path):
    out = tmp_path / "reports" / "ci" / "initlint.json"
    r = run_cli("--format", "json", "-o", str(out), str(bad))
    assert r.returncode == 1
    assert json.loads(out.read_text())[0]["code"] == "IL002"


def test_several_reports_from_one_run(bad, tmp_path):
    sarif = tmp_path / "out" / "initlint.sarif"
    r = run_cli("--format", f"concise,sarif:{sarif},json:{tmp_path / 'r.json'}", str(bad))
    assert r.returncode == 1
    assert r.stdout.decode().splitlines()[0].startswith(f"{bad}:2:55: IL002")
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "IL002"
    assert json.loads((tmp_path / "r.json").read_text())[0]["code"] == "IL002"
    for spec, message in [("json,sarif", "at most one report"), ("xml", "unknown format"),
                          ("sarif:", "names no file")]:
        r = run_cli("--format", spec, str(bad))
        assert r.returncode == 2 and message.encode() in r.stderr


def test_no_color_means_no_styling_at_all(bad):
    # FORCE_COLOR would make rich style the output; NO_COLOR wins and leaves no escape code.
    r = run_cli(str(bad), env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert b"\x1b[" not in r.stdout
    r = run_cli(str(bad), env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert b"\x1b[1m" in r.stdout  # the same run styled: bold locations


def test_help_names_the_simulate_command_and_exit_codes():
    out = run_cli("--help").stdout.decode()
    assert "initlint simulate PATH" in out
    assert "--fail-on" in out and "Exit codes:" in out


def test_a_recursion_limit_names_what_recursed(tmp_path, monkeypatch):
    from initlint import engine, files, model

    def follow(layer):  # a reader walking a cyclic layer graph without a guard
        return [follow(n) for n in layer.next]

    def lint_and_fix(text, options):
        layer = model.Layer("dense", "keras", "Dense")
        layer.next.append(layer)
        follow(layer)

    monkeypatch.setattr(engine, "lint_and_fix", lint_and_fix)
    p = tmp_path / "m.py"
    p.write_text(BAD)
    res = files._work((str(p), engine.Options(), False, False))
    assert res.internal
    assert res.error.startswith("internal error: test_cli.py: follow() recursed past Python's "
                                "limit on this file")


def test_show_fixes_with_edits_lines_apart():
    """A fix that extends an import at the top and changes a call further down: the diff
    shows both changed lines (it used to crash on the lines between)."""
    from conftest import FIXTURES

    r = run_cli("--isolated", "--show-fixes", "--unsafe-fixes",
                str(FIXTURES / "keras" / "initializer_forms.py"))
    out = r.stdout.decode()
    assert r.returncode == 1 and b"Traceback" not in r.stderr, r.stderr
    assert " 4 + from keras.initializers import VarianceScaling, HeUniform" in out
    assert ' 15 +     layers.Dense(8, activation="relu", kernel_initializer=HeUniform()),' in out


def test_verbose_says_which_files_were_read_only_in_part(tmp_path):
    """A file past the evaluator's limits is still linted from what was read; -v says so."""
    src = ("import keras\nfrom keras import layers\n"
           "m = keras.Sequential([layers.Dense(8, activation='relu', "
           "kernel_initializer='glorot_uniform'), layers.Dense(8, activation='relu'), "
           "layers.Dense(8, activation='relu'), layers.Dense(8, activation='relu'), "
           "layers.Dense(1)])\n"
           "for a in range(60):\n    for b in range(60):\n        for c in range(60):\n"
           "            for d in range(60):\n                y = [a, b, c, d]\n")
    path = tmp_path / "slow.py"
    path.write_text(src)
    quiet = run_cli("--isolated", "--format", "concise", str(path))
    loud = run_cli("--isolated", "--format", "concise", "-v", str(path))
    assert quiet.returncode == loud.returncode == 1
    assert b"IL002" in quiet.stdout and b"note" not in quiet.stderr
    assert b"initlint: note: " in loud.stderr and b"the analysis stopped after" in loud.stderr
