"""Fixes: before/after pairs, idempotence, byte preservation, never writing broken code."""

from __future__ import annotations

import os
import shlex
import stat

import pytest

from conftest import FIXTURES, run_cli
from initlint import engine, files

PAIRS = sorted(p for p in (FIXTURES / "fix").glob("*.py") if not p.name.endswith(".fixed.py"))


def _args(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# initlint-test:")
    return shlex.split(first.split(":", 1)[1])


@pytest.mark.parametrize("path", PAIRS, ids=[p.name for p in PAIRS])
def test_fix_pair(path, tmp_path):
    target = tmp_path / path.name
    target.write_bytes(path.read_bytes())
    r = run_cli(*_args(path), str(target))
    assert r.returncode in (0, 1), r.stderr
    expected = path.with_name(path.stem + ".fixed.py").read_bytes()
    assert target.read_bytes() == expected
    # Fixing twice changes nothing the second time.
    r2 = run_cli(*_args(path), str(target))
    assert target.read_bytes() == expected
    assert b"Fixed" not in r2.stdout


def test_diff_prints_and_writes_nothing(tmp_path):
    src = (FIXTURES / "fix" / "safe_swaps.py").read_bytes()
    target = tmp_path / "m.py"
    target.write_bytes(src)
    r = run_cli("--diff", str(target))
    assert target.read_bytes() == src
    assert r.returncode == 1
    out = r.stdout.decode()
    assert out.startswith(f"--- {target}\n+++ {target}\n")
    assert '-    layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform"),' in out
    assert '+    layers.Dense(64, activation="relu", kernel_initializer="he_uniform"),' in out
    # the IL001 fix is unsafe: not in a plain --diff
    assert '-    layers.Dense(64, activation="relu", kernel_initializer="zeros"),' not in out


def test_diff_on_clean_file_exits_zero(tmp_path):
    target = tmp_path / "m.py"
    target.write_text("import keras\nkeras.layers.Dense(3, activation='relu', kernel_initializer='he_uniform')\n")
    r = run_cli("--diff", str(target))
    assert r.returncode == 0 and r.stdout == b""


BAD = 'from keras import layers\nlayers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Input((8,))))))\n'


@pytest.mark.parametrize(
    "raw, expected",
    [
        # CRLF line endings stay CRLF
        (BAD.replace("\n", "\r\n").encode(), BAD.replace("glorot_uniform", "he_uniform")
         .replace("\n", "\r\n").encode()),
        # old Mac CR line endings
        (BAD.replace("\n", "\r").encode(), BAD.replace("glorot_uniform", "he_uniform")
         .replace("\n", "\r").encode()),
        # a UTF-8 BOM stays
        (b"\xef\xbb\xbf" + BAD.encode(), b"\xef\xbb\xbf" + BAD.replace("glorot_uniform", "he_uniform")
         .encode()),
        # tabs and trailing spaces around the edit are untouched
        (b"from keras import layers\nif True:\n\tm = layers.Dense(8,\t'relu' ,  kernel_initializer = 'glorot_uniform' )(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(None))))  \n",
         b"from keras import layers\nif True:\n\tm = layers.Dense(8,\t'relu' ,  kernel_initializer = 'he_uniform' )(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(None))))  \n"),
        # a non-UTF-8 encoding cookie: the file stays latin-1, non-ASCII bytes intact
        (b"# -*- coding: latin-1 -*-\n# caf\xe9 \xa9\nfrom keras import layers\n"
         b"d = layers.Dense(8, activation='relu', kernel_initializer='glorot_uniform')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(None))))  # \xe9\n",
         b"# -*- coding: latin-1 -*-\n# caf\xe9 \xa9\nfrom keras import layers\n"
         b"d = layers.Dense(8, activation='relu', kernel_initializer='he_uniform')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(None))))  # \xe9\n"),
        # non-ASCII characters before the edit on the same line (columns are characters)
        ("from keras import layers\nd = {'é': layers.Dense(8, activation='relu', kernel_initializer='glorot_uniform')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(None))))}\n"
         .encode(), "from keras import layers\nd = {'é': layers.Dense(8, activation='relu', kernel_initializer='he_uniform')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(layers.Dense(8, activation='relu')(None))))}\n"
         .encode()),
        # no newline at the end of the file
        (BAD.rstrip("\n").encode(), BAD.replace("glorot_uniform", "he_uniform").rstrip("\n").encode()),
    ],
    ids=["crlf", "cr", "bom", "tabs", "latin1-cookie", "non-ascii-column", "no-final-newline"],
)
def test_fix_preserves_every_other_byte(tmp_path, raw, expected):
    target = tmp_path / "m.py"
    target.write_bytes(raw)
    r = run_cli("--fix", str(target))
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == expected


def test_fix_keeps_permissions_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "m.py"
    target.write_text(BAD)
    os.chmod(target, 0o640)
    run_cli("--fix", str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["m.py"]


def test_fix_never_writes_code_that_does_not_parse(monkeypatch):
    src = BAD
    options = engine.Options(fix="safe")
    # a fixer that produces an unbalanced quote
    monkeypatch.setattr(engine, "apply_fixes",
                        lambda t, f, l, p=None, a=None: (
                            t.replace('"glorot_uniform"', '"he_uniform'), 1))
    out = engine.lint_and_fix(src, options)
    assert out.text == src
    assert out.fixed == 0
    assert [f.code for f in out.findings] == ["IL002"]
    assert out.problems and "not applied" in out.problems[0]


TWO_BAD = ('from keras import layers\n'
           'a = layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")\n'
           'b = layers.Dense(8, activation="relu", kernel_initializer="glorot_normal")(a(None))\n'
           # three default-Glorot ReLU layers after them: a run deep enough for IL002 (4+ Glorot
           # layers) even once b is fixed, so a's finding outlives the other fix
           'c = layers.Dense(8, activation="relu")(b)\n'
           'd = layers.Dense(8, activation="relu")(c)\n'
           'e = layers.Dense(8, activation="relu")(d)\n')


def _break_fix_on_line(monkeypatch, line: int):
    """Make the renderer's edit for the layer on ``line`` produce text that does not parse."""
    real = engine._resolve

    def resolve(d, positions, index, problems):
        f = real(d, positions, index, problems)
        if f.line == line and f.fix is not None:
            f.fix.edits[0].content = '"he_normal'
        return f

    monkeypatch.setattr(engine, "_resolve", resolve)


def test_a_fix_that_would_not_parse_is_dropped_alone(monkeypatch):
    _break_fix_on_line(monkeypatch, 2)
    out = engine.lint_and_fix(TWO_BAD, engine.Options(fix="safe"))
    # the other layer's fix still applies; the broken one is neither applied nor silent
    assert out.text == TWO_BAD.replace("glorot_normal", "he_normal")
    assert out.fixed == 1
    assert [(f.code, f.line, f.fix) for f in out.findings] == [("IL002", 2, None)]
    assert out.problems == ["internal error: the IL002 fix at line 2 would not parse, so it was "
                            "not offered (please report this with the file)"]


def test_a_fix_that_would_not_parse_is_not_marked_fixable(monkeypatch, tmp_path):
    """Reported without [*], and the run exits 2 (initlint's bug) unless --exit-zero."""
    from click.testing import CliRunner

    from initlint import cli

    _break_fix_on_line(monkeypatch, 2)
    p = tmp_path / "m.py"
    p.write_text(TWO_BAD)
    r = CliRunner().invoke(cli.cli, ["--format", "concise", "--isolated", str(p)])
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{p}:2:59: IL002 Dense a (relu)")  # no [*]
    assert lines[1].startswith(f"{p}:3:59: IL002 [*] Dense (relu)")
    assert "[*] 1 fixable with `initlint --fix`." in lines
    assert f"initlint: error: {p}: internal error: the IL002 fix at line 2 would not parse" \
        in r.stderr
    assert r.exit_code == 2
    r = CliRunner().invoke(cli.cli, ["--exit-zero", "--isolated", str(p)])
    assert r.exit_code == 0


def test_fixes_sharing_an_edit_apply_once():
    src = ("from keras import layers, initializers\ninit = initializers.GlorotUniform()\n"
           "a = layers.Dense(8, activation='relu', kernel_initializer=init)\n"
           "b = layers.Dense(8, activation='relu', kernel_initializer=init)(a(None))\n"
           "c = layers.Dense(8, activation='relu')(b)\n"
           "d = layers.Dense(8, activation='relu')(c)\n")
    out = engine.lint_and_fix(src, engine.Options(fix="safe"))
    assert out.text == src.replace("GlorotUniform()", "HeUniform()")
    assert out.findings == []


def test_stdin_fix_writes_fixed_source_to_stdout():
    r = run_cli("-", "--stdin-filename", "model.py", "--fix", input=BAD.encode())
    assert r.stdout == BAD.replace("glorot_uniform", "he_uniform").encode()
    assert r.returncode == 0


def test_lint_bytes_reports_diff_for_memory_fix():
    res = files.lint_bytes("m.py", BAD.encode(), engine.Options(fix="safe"), want_diff=True)
    assert res.new_data == BAD.replace("glorot_uniform", "he_uniform").encode()
    assert res.diff and "+++ m.py" in res.diff


def _rewrite_fix_on_line(monkeypatch, line: int, content: str):
    real = engine._resolve

    def resolve(d, positions, index, problems):
        f = real(d, positions, index, problems)
        if f.line == line and f.fix is not None:
            f.fix.edits[0].content = content
        return f

    monkeypatch.setattr(engine, "_resolve", resolve)


def test_a_fix_that_changes_nothing_is_not_offered(monkeypatch):
    _rewrite_fix_on_line(monkeypatch, 2, '"glorot_uniform"')  # the text it replaces
    out = engine.lint_and_fix(TWO_BAD, engine.Options(fix="safe"))
    assert out.text == TWO_BAD.replace("glorot_normal", "he_normal")
    assert [(f.line, f.fix) for f in out.findings] == [(2, None)]
    assert out.problems == ["internal error: the IL002 fix at line 2 changes nothing, so it was "
                            "not offered (please report this with the file)"]


def test_a_fix_that_leaves_its_finding_is_applied_once(monkeypatch):
    """A fix that changes the text but not the finding would be applied on every pass."""
    _rewrite_fix_on_line(monkeypatch, 2, '"glorot_uniform" ')
    out = engine.lint_and_fix(TWO_BAD, engine.Options(fix="safe"))
    assert out.text.count('"glorot_uniform" ') == 1
    assert "did not remove its finding, so it was applied once" in " ".join(out.problems)
