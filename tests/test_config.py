"""[tool.initlint] configuration: discovery, keys, validation, precedence, --show-settings,
and file discovery (excludes, .gitignore)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap

import pytest

from conftest import run_cli
from initlint import config, files

BAD = ('from keras import layers\n'
       'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Input((8,))))))\n'
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
    # Unknown fan-in: IL003 judges the std alone, against il003-large-std.
    (tmp_path / "m.py").write_text(
        "from keras import initializers, layers\n"
        "layers.Dense(8, activation='relu',\n"
        "             kernel_initializer=initializers.RandomNormal(stddev=0.5))\n")
    assert found("m.py", cwd=tmp_path) == [("m.py", "IL003")]
    write(tmp_path / "pyproject.toml", "[tool.initlint]\nil003-large-std = 1.0\n")
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
    ('fail-on = "fatal"',
     '[tool.initlint] fail-on: expected one of "info", "warning", "error", got "fatal"'),
    ('fail-on = 1', '[tool.initlint] fail-on: expected one of "info", "warning", "error", '
                    'got an integer'),
    ('fail-on = "info"', None),
    ('extend-exclude = ["gen", "!"]', "[tool.initlint] extend-exclude: invalid pattern '!'"),
    ('[tool.initlint.per-file-ignores]\n"!" = ["IL001"]',
     "[tool.initlint] per-file-ignores.\"!\": invalid pattern '!'"),
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


def test_show_settings_prints_fail_on(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    r = run_cli("--show-settings", "m.py", cwd=tmp_path)
    assert 'fail-on = "warning"' in r.stdout.decode().splitlines()
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nfail-on = "info"\n')
    r = run_cli("--show-settings", "m.py", cwd=tmp_path)
    assert 'fail-on = "info"' in r.stdout.decode().splitlines()


def test_fail_on_from_the_file_and_the_command_line(tmp_path):
    write(tmp_path / "strict" / "pyproject.toml", '[tool.initlint]\nfail-on = "info"\n')
    write(tmp_path / "plain" / "pyproject.toml", '[tool.initlint]\nselect = ["IL001"]\n')
    resolver = config.Resolver(config.Overrides(cwd=str(tmp_path)))
    assert resolver.for_path(str(tmp_path / "strict" / "m.py")).fail_on == "info"
    assert resolver.for_path(str(tmp_path / "plain" / "m.py")).fail_on == "warning"
    resolver = config.Resolver(config.Overrides(fail_on="error", cwd=str(tmp_path)))
    assert resolver.for_path(str(tmp_path / "strict" / "m.py")).fail_on == "error"
    assert resolver.for_path(str(tmp_path / "plain" / "m.py")).fail_on == "error"
    resolver = config.Resolver(config.Overrides(fail_on="error", cwd=str(tmp_path)),
                               isolated=True)
    assert resolver.for_path(str(tmp_path / "strict" / "m.py")).fail_on == "error"
    with pytest.raises(config.ConfigError, match='--fail-on: expected one of "info", '):
        config.Resolver(config.Overrides(fail_on="fatal", cwd=str(tmp_path)))


# Excludes and per-file-ignores are .gitignore lines in the config's directory.

TREE = ("top.py", "keep.py", "test_top.py", "gen/a.py", "gen/keep.py", "pkg/gen/b.py",
        "pkg/gen/deep/c.py", "pkg/test_m.py", "pkg/keep.py", "docs/conf.py", "docs/api/x.py",
        "src/docs/y.py", "src/a.py", "src/sub/b.py", "sub/s.py", "sub/keep.py", "sub/deep/t.py",
        "build/m.py", "pkg/build/m.py", "a/b/m.py", "a/x/y/b/m.py")


def _git(*args, cwd):
    """git in a throwaway repository, blind to the user's and the system's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)


def _git_keeps(repo, sub):
    """The .py files under ``repo/sub`` that git does not ignore, relative to ``sub``."""
    r = _git("ls-files", "--others", "--exclude-standard", "-z", sub, cwd=repo)
    return {p[len(sub) + 1:] for p in r.stdout.decode().split("\0") if p.endswith(".py")}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("patterns", [
    ["**/gen/**"],
    ["docs/**/*.py"],
    ["**/test_*.py"],
    ["*.py", "!keep.py"],
    ["gen/", "!gen/keep.py"],
    ["/top.py", "sub/*", "!sub/keep.py"],
    ["build"],
    ["a/**/b"],
    ["src/*.py"],
    ["**/gen", "!pkg/gen"],
])
def test_exclude_is_what_a_gitignore_in_the_config_directory_ignores(tmp_path, patterns):
    _git("init", "-q", ".", cwd=tmp_path)
    proj = tmp_path / "proj"
    for name in TREE:
        write(proj / name, BAD)
    (proj / ".gitignore").write_text("\n".join(patterns) + "\n")
    toml_list = ", ".join(json.dumps(p) for p in patterns)
    write(proj / "pyproject.toml",
          f"[tool.initlint]\nrespect-gitignore = false\nexclude = [{toml_list}]\n")
    expected = _git_keeps(tmp_path, "proj")
    assert expected != set(TREE)  # the patterns do exclude something
    assert {p for p, _ in found(".", cwd=proj)} == expected

    def walk(overrides, **kw):
        resolver = config.Resolver(overrides, **kw)
        return {os.path.relpath(t.path, proj).replace(os.sep, "/")
                for t in files.collect([str(proj)], resolver)}

    # The same as extend-exclude (after the defaults), and as --exclude from the directory.
    write(proj / "pyproject.toml",
          f"[tool.initlint]\nrespect-gitignore = false\nextend-exclude = [{toml_list}]\n")
    assert walk(config.Overrides(cwd=str(tmp_path))) == expected - {
        "build/m.py", "pkg/build/m.py"}
    assert walk(config.Overrides(exclude=patterns, respect_gitignore=False, cwd=str(proj)),
                isolated=True) == expected


def test_invalid_pattern_on_the_command_line(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    r = run_cli("--extend-exclude", "gen,!", "m.py", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode() == "initlint: error: --extend-exclude: invalid pattern '!'\n"


def test_double_star_excludes(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.initlint]
        extend-exclude = ["**/gen/**", "docs/**/*.py"]
    """)
    for name in ("gen/a.py", "pkg/gen/b.py", "pkg/gen/deep/c.py", "pkg/gen_util.py",
                 "docs/conf.py", "docs/api/x.py", "src/docs/y.py", "m.py"):
        write(tmp_path / name, BAD)
    assert {p for p, _ in found(".", cwd=tmp_path)} == {
        "pkg/gen_util.py", "src/docs/y.py", "m.py"}
    # --force-exclude: a named file that a ** pattern matches is skipped too.
    assert found("--force-exclude", "gen/a.py", "docs/conf.py", cwd=tmp_path) == []


def test_negation_in_exclude(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.initlint]
        extend-exclude = ["legacy_*.py", "!legacy_keep.py", "vendor/", "!vendor/ours.py"]
    """)
    for name in ("legacy_a.py", "legacy_keep.py", "sub/legacy_keep.py", "m.py",
                 "vendor/ours.py", "vendor/theirs.py"):
        write(tmp_path / name, BAD)
    # As in git, a file in an excluded directory cannot be re-included.
    assert {p for p, _ in found(".", cwd=tmp_path)} == {
        "legacy_keep.py", "sub/legacy_keep.py", "m.py"}


def test_negation_reincludes_across_the_lists(tmp_path):
    """exclude (or the defaults), extend-exclude, --exclude and --extend-exclude are read as one
    .gitignore, in that order: a later '!' re-includes what an earlier list excluded."""
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nextend-exclude = ["!build", "gen"]\n')
    for name in ("build/m.py", "dist/m.py", "gen/m.py", "m.py"):
        write(tmp_path / name, BAD)
    assert {p for p, _ in found(".", cwd=tmp_path)} == {"build/m.py", "m.py"}
    assert {p for p, _ in found("--extend-exclude", "!gen", ".", cwd=tmp_path)} == {
        "build/m.py", "gen/m.py", "m.py"}


def test_anchored_patterns(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nextend-exclude = ["./gen", "/top.py"]\n')
    for name in ("gen/m.py", "pkg/gen/m.py", "top.py", "pkg/top.py"):
        write(tmp_path / name, BAD)
    assert {p for p, _ in found(".", cwd=tmp_path)} == {"pkg/gen/m.py", "pkg/top.py"}


def test_excluded_directory_named_on_the_command_line(tmp_path):
    """As in git, what is under an excluded directory is excluded, even when the directory is
    named on the command line; a file named there is linted unless --force-exclude."""
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nextend-exclude = ["**/gen/**"]\n')
    write(tmp_path / "build" / "m.py", BAD)
    write(tmp_path / "gen" / "m.py", BAD)
    assert found("build", "gen", cwd=tmp_path) == []
    assert {p for p, _ in found("build/m.py", "gen/m.py", cwd=tmp_path)} == {
        "build/m.py", "gen/m.py"}
    assert found("--force-exclude", "build/m.py", "gen/m.py", cwd=tmp_path) == []


def test_resolved_excluded(tmp_path):
    write(tmp_path / "proj" / "pyproject.toml", """
        [tool.initlint]
        exclude = ["**/gen/**", "out/", "!out/keep.py", "*.pyi", "!keep.pyi", "docs/**/*.py"]
    """)
    proj = tmp_path / "proj"
    res = config.Resolver(config.Overrides(cwd=str(tmp_path))).for_path(str(proj / "m.py"))
    excluded = {
        "gen/m.py": True, "a/gen/b/m.py": True, "gen_m.py": False,
        "out": True, "x/out": True, "out/keep.py": True, "x/out/a/m.py": True,
        "docs/a.py": True, "docs/a/b.py": True, "x/docs/a.py": False,
        "m.pyi": True, "keep.pyi": False, "a/keep.pyi": False, "m.py": False,
    }
    for rel, want in excluded.items():
        is_dir = rel.endswith("out")
        assert res.excluded(str(proj / rel), is_dir) is want, rel
    assert res.excluded(str(proj / "out"), False) is False  # out/ names directories only
    (proj / "x" / "out").mkdir(parents=True)
    assert res.excluded(str(proj / "x" / "out")) is True  # is_dir from the file system
    # Outside the config's directory only the patterns without a '/' apply, to the name.
    assert res.excluded(str(tmp_path / "other" / "m.pyi"), False) is True
    assert res.excluded(str(tmp_path / "other" / "docs" / "a.py"), False) is False
    assert res.excluded(str(tmp_path / "out" / "m.py"), False) is False  # above: not looked at


def test_double_star_and_name_per_file_ignores(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.initlint.per-file-ignores]
        "**/legacy/**" = ["IL001"]
        "tests" = ["IL002"]
    """)
    for name in ("legacy/m.py", "pkg/legacy/deep/m.py", "tests/unit/m.py", "m.py"):
        write(tmp_path / name, BAD)
    assert found(".", cwd=tmp_path) == [
        ("legacy/m.py", "IL002"), ("m.py", "IL001"), ("m.py", "IL002"),
        ("pkg/legacy/deep/m.py", "IL002"), ("tests/unit/m.py", "IL001")]


def test_negated_per_file_ignores_key(tmp_path):
    """A key starting with '!' applies its codes to the files the rest does not match."""
    write(tmp_path / "pyproject.toml", """
        [tool.initlint.per-file-ignores]
        "!src/**" = ["IL002"]
    """)
    for name in ("src/m.py", "src/deep/m.py", "tests/m.py", "m.py"):
        write(tmp_path / name, BAD)
    assert found(".", cwd=tmp_path) == [
        ("m.py", "IL001"), ("src/deep/m.py", "IL001"), ("src/deep/m.py", "IL002"),
        ("src/m.py", "IL001"), ("src/m.py", "IL002"), ("tests/m.py", "IL001")]
    res = config.Resolver(config.Overrides(cwd=str(tmp_path))).for_path(str(tmp_path / "m.py"))
    assert res.for_file(str(tmp_path / "src" / "m.py"))[2] == []
    assert res.for_file(str(tmp_path / "tests" / "m.py"))[2] == ["IL002"]
    r = run_cli("--show-settings", "tests/m.py", cwd=tmp_path)
    assert 'per-file-ignored = ["IL002"]' in r.stdout.decode()
