"""[tool.initlint] configuration: discovery, keys, validation, precedence, --show-settings,
and file discovery (excludes, .gitignore)."""

from __future__ import annotations

import json
import textwrap

import pytest

from conftest import run_cli

BAD = ('from keras import layers\n'
       'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")\n'
       'layers.Dense(8, activation="relu", kernel_initializer="ones")\n')


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def found(*args, cwd):
    r = run_cli("--format", "json", *args, cwd=cwd)
    assert r.returncode in (0, 1), r.stderr
    return sorted((d["path"], d["code"]) for d in json.loads(r.stdout))


def test_closest_config_wins_and_is_not_merged(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.initlint]
        ignore = ["IL001"]
    """)
    write(tmp_path / "sub" / "pyproject.toml", """
        [tool.initlint]
        select = ["IL001"]
    """)
    # A pyproject.toml without [tool.initlint] is not a config: the search goes on up.
    write(tmp_path / "other" / "pyproject.toml", "[project]\nname = 'x'\n")
    for d in ("", "sub", "other"):
        (tmp_path / d / "m.py").write_text(BAD)
    assert found(".", cwd=tmp_path) == [
        ("m.py", "IL002"), ("other/m.py", "IL002"), ("sub/m.py", "IL001")]


def test_config_flag_and_isolated(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nselect = ["IL001"]\n')
    write(tmp_path / "ci.toml", 'select = ["IL002"]\n')
    (tmp_path / "m.py").write_text(BAD)
    assert found("m.py", cwd=tmp_path) == [("m.py", "IL001")]
    assert found("--config", "ci.toml", "m.py", cwd=tmp_path) == [("m.py", "IL002")]
    assert found("--isolated", "m.py", cwd=tmp_path) == [("m.py", "IL001"), ("m.py", "IL002")]


def test_command_line_wins_over_the_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nignore = ["IL002"]\n')
    (tmp_path / "m.py").write_text(BAD)
    assert found("m.py", cwd=tmp_path) == [("m.py", "IL001")]
    assert found("--select", "IL002", "m.py", cwd=tmp_path) == [("m.py", "IL002")]
    assert found("--extend-select", "IL002", "m.py", cwd=tmp_path) == [
        ("m.py", "IL001"), ("m.py", "IL002")]
    assert found("--ignore", "IL001", "m.py", cwd=tmp_path) == []


def test_per_file_ignores(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.initlint.per-file-ignores]
        "tests/*" = ["IL0"]
        "legacy_*.py" = ["IL002"]
    """)
    for name in ("tests/unit/m.py", "legacy_net.py", "m.py"):
        write(tmp_path / name, BAD)
    assert found(".", cwd=tmp_path) == [
        ("legacy_net.py", "IL001"), ("m.py", "IL001"), ("m.py", "IL002")]


def test_exclude_keys_resolve_against_the_config(tmp_path):
    write(tmp_path / "proj" / "pyproject.toml", """
        [tool.initlint]
        extend-exclude = ["generated/", "scratch_*.py"]
    """)
    for name in ("proj/generated/m.py", "proj/scratch_1.py", "proj/src/m.py", "proj/build/m.py"):
        write(tmp_path / name, BAD)
    paths = {p for p, _ in found("proj", cwd=tmp_path)}
    assert paths == {"proj/src/m.py"}
    # exclude replaces the defaults: build/ is linted again.
    write(tmp_path / "proj" / "pyproject.toml", '[tool.initlint]\nexclude = ["generated"]\n')
    paths = {p for p, _ in found("proj", cwd=tmp_path)}
    assert paths == {"proj/src/m.py", "proj/build/m.py", "proj/scratch_1.py"}


def test_named_files_are_linted_unless_force_exclude(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nextend-exclude = ["gen"]\n')
    write(tmp_path / "gen" / "m.py", BAD)
    assert found("gen/m.py", cwd=tmp_path) != []
    assert found("--force-exclude", "gen/m.py", cwd=tmp_path) == []


def test_gitignore_is_respected(tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("private/\n")
    (tmp_path / ".gitignore").write_text("out/\n*_gen.py\n!keep_gen.py\n")
    write(tmp_path / "pkg" / ".gitignore", "/local.py\n")
    for name in ("out/m.py", "a_gen.py", "keep_gen.py", "private/m.py", "pkg/local.py",
                 "pkg/sub/local.py", "m.py"):
        write(tmp_path / name, BAD)
    paths = {p for p, _ in found(".", cwd=tmp_path)}
    assert paths == {"keep_gen.py", "m.py", "pkg/sub/local.py"}
    everything = {p for p, _ in found("--no-respect-gitignore", ".", cwd=tmp_path)}
    assert len(everything) == 7
    write(tmp_path / "pyproject.toml", "[tool.initlint]\nrespect-gitignore = false\n")
    assert len({p for p, _ in found(".", cwd=tmp_path)}) == 7


def test_gitignore_needs_a_git_work_tree(tmp_path):
    (tmp_path / ".gitignore").write_text("*.py\n")
    (tmp_path / "m.py").write_text(BAD)
    assert found(".", cwd=tmp_path) != []


def test_thresholds_are_config_keys(tmp_path):
    mlp = ", ".join("nn.Linear(256, 256), nn.ReLU()" for _ in range(3))
    (tmp_path / "m.py").write_text(
        f"import torch.nn as nn\nnet = nn.Sequential({mlp}, nn.Linear(256, 10))\n")
    assert found("m.py", cwd=tmp_path) == [("m.py", "IL103")]
    write(tmp_path / "pyproject.toml", "[tool.initlint]\ndrift-vanish-info = 10\n")
    assert found("m.py", cwd=tmp_path) == []


@pytest.mark.parametrize("body, message", [
    ('selct = ["IL001"]', "[tool.initlint] selct: unknown key; did you mean 'select'?"),
    ('extend_select = ["IL001"]',
     "[tool.initlint] extend_select: unknown key; did you mean 'extend-select'?"),
    ('drift-vanish-warnng = 3',
     "[tool.initlint] drift-vanish-warnng: unknown key; did you mean 'drift-vanish-warning'?"),
    ('select = "IL001"', "[tool.initlint] select: expected a list of strings, got a string"),
    ('respect-gitignore = "yes"',
     "[tool.initlint] respect-gitignore: expected true or false, got a string"),
    ('drift-vanish-info = "4"', "[tool.initlint] drift-vanish-info: expected a number"),
    ('ignore = ["IL1"]', None),  # a prefix is fine
    ('ignore = ["IL0002"]',
     "[tool.initlint] ignore: unknown rule code 'IL0002'; did you mean 'IL002'?"),
    ('[tool.initlint.per-file-ignores]\n"x.py" = ["XX1"]',
     "[tool.initlint] per-file-ignores.\"x.py\": unknown rule code 'XX1'"),
    ('select = [', "invalid TOML"),
])
def test_bad_config_is_one_line_naming_file_and_key(tmp_path, body, message):
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(("" if body.startswith("[") else "[tool.initlint]\n") + body + "\n")
    (tmp_path / "m.py").write_text(BAD)
    r = run_cli("m.py", cwd=tmp_path)
    if message is None:
        assert r.returncode == 1
        return
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"initlint: error: {cfg}: ") or err.startswith(
        "initlint: error: pyproject.toml: ")
    assert message in err


def test_show_settings(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.initlint]
        extend-select = ["IL101"]
        drift-vanish-warning = 20
        [tool.initlint.per-file-ignores]
        "tests/*" = ["IL002"]
    """)
    write(tmp_path / "tests" / "m.py", BAD)
    r = run_cli("--show-settings", "--ignore", "IL003", "tests/m.py", cwd=tmp_path)
    assert r.returncode == 0
    out = r.stdout.decode()
    assert f"# Settings path: {tmp_path / 'pyproject.toml'}" in out
    enabled = next(line for line in out.splitlines() if line.startswith("enabled-rules"))
    assert '"IL101"' in enabled and '"IL002"' not in enabled and '"IL003"' not in enabled
    assert 'per-file-ignored = ["IL002"]' in out
    assert "drift-vanish-warning = 20" in out and "drift-vanish-info = 4" in out
    assert "respect-gitignore = true" in out
    r = run_cli("--show-settings", "--isolated", "tests/m.py", cwd=tmp_path)
    assert "built-in defaults" in r.stdout.decode()
