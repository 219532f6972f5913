"""Suppression comments, IL900 (unused suppressions) and --add-noqa."""

from __future__ import annotations

import json

from conftest import FIXTURES, run_cli
from initlint import engine

BAD = 'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Input((8,))))))'
HEAD = "from keras import layers\n"


def codes(src: str, select=None, respect_noqa=True):
    opts = engine.Options(select=select)
    return [(f.line, f.code) for f in engine.lint_source(src, opts.enabled(), None,
                                                         opts.explicit(), respect_noqa)]


def test_line_directive_silences_named_code_and_bare():
    assert codes(HEAD + BAD + "\n") == [(2, "IL002")]
    assert codes(HEAD + BAD + "  # noqa: IL002\n") == []
    assert codes(HEAD + BAD + "  #noqa:il002\n") == []
    assert codes(HEAD + BAD + "  # noqa\n") == []
    assert codes(HEAD + BAD + "  # noqa: IL001\n") == [(2, "IL002")]
    # A space before the colon still names codes; it is not a bare noqa.
    assert codes(HEAD + BAD + "  # noqa : IL001\n") == [(2, "IL002")]
    assert codes(HEAD + BAD + "  # a reason first # noqa: IL002\n") == []


def test_ignore_noqa_reports_anyway():
    assert codes(HEAD + BAD + "  # noqa\n", respect_noqa=False) == [(2, "IL002")]
    r = run_cli("--ignore-noqa", "-", "--stdin-filename", "m.py",
                input=(HEAD + BAD + "  # noqa\n").encode())
    assert r.returncode == 1


def test_file_directive():
    assert codes("# initlint: noqa\n" + HEAD + BAD + "\n") == []
    assert codes(HEAD + "# initlint: noqa: IL002\n" + BAD + "\n") == []
    assert codes(HEAD + "# initlint: noqa: IL001\n" + BAD + "\n") == [(3, "IL002")]
    # Only on its own line: after code it is an ordinary comment.
    assert codes(HEAD + BAD + "  # initlint: noqa\n") == [(2, "IL002")]


def test_suppressed_finding_is_never_fixed(tmp_path):
    p = tmp_path / "m.py"
    src = HEAD + BAD + "  # noqa: IL002\n" + BAD + "\n"
    p.write_text(src)
    r = run_cli("--fix", str(p))
    assert r.returncode == 0
    lines = p.read_text().splitlines()
    assert lines[1] == BAD + "  # noqa: IL002"
    assert "he_uniform" in lines[2]


def test_unused_noqa_kinds_and_fix(tmp_path):
    src = (HEAD + 'layers.Dense(8, activation="relu", kernel_initializer="he_uniform")'
           "  # noqa: IL002, E501\n"
           'x = 1  # noqa: IL001  reason kept\n'
           'y = 2  # noqa: IL999\n'
           'z = 3  # keep this # noqa: IL003\n'
           'w = 4  # noqa\n')
    opts = engine.Options(select=["IL900", "IL002"])
    found = engine.lint_source(src, opts.enabled(), None, opts.explicit())
    msgs = [(f.line, f.message) for f in found]
    assert msgs == [(2, "Unused `noqa` directive (unused: IL002)"),
                    (3, "Unused `noqa` directive (non-enabled: IL001)"),
                    (4, "Unused `noqa` directive (unknown: IL999)"),
                    (5, "Unused `noqa` directive (non-enabled: IL003)")]
    # The fix deletes our codes and keeps other tools' codes and other comments.
    p = tmp_path / "m.py"
    p.write_text(src)
    r = run_cli("--fix", "--select", "IL900,IL002", str(p))
    assert r.returncode == 0, r.stdout
    assert p.read_text().splitlines()[1:] == [
        'layers.Dense(8, activation="relu", kernel_initializer="he_uniform")  # noqa: E501',
        "x = 1  # reason kept",
        "y = 2",
        "z = 3  # keep this",
        "w = 4  # noqa",
    ]


def test_unused_noqa_off_by_default_and_in_files_without_models(tmp_path):
    assert codes("x = 1  # noqa: IL002\n") == []
    p = tmp_path / "plain.py"
    p.write_text("x = 1  # noqa: IL002\n")
    data = json.loads(run_cli("--select", "IL900", "--format", "json", str(p)).stdout)
    assert [d["code"] for d in data] == ["IL900"]


def test_add_noqa_then_clean(tmp_path):
    p = tmp_path / "m.py"
    src = (HEAD + BAD + "\n"
           + BAD + "  # noqa: IL001\n"
           + 'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform",\n'
           + '             name="a" \\\n'
           + '             "b")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(None))))\n'
           + 'layers.Dense(8, activation="relu", name="""x\n'
           + '""", kernel_initializer="glorot_uniform")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(None))))\n')
    p.write_text(src)
    r = run_cli("--add-noqa", str(p))
    assert r.returncode == 0, r.stderr
    assert "Added 4 noqa directives." in r.stderr.decode()
    out = p.read_text()
    assert out.splitlines()[1] == BAD + "  # noqa: IL002"
    assert out.splitlines()[2] == BAD + "  # noqa: IL001, IL002"
    assert out.splitlines()[3].endswith("  # noqa: IL002")  # the finding's first line
    assert out.splitlines()[7].endswith("  # noqa: IL002")  # its first line is in a string
    assert run_cli(str(p)).returncode == 0
    # A second run adds nothing.
    assert "Added 0 noqa directives." in run_cli("--add-noqa", str(p)).stderr.decode()


def test_fixture_with_fix_keeps_suppressions(tmp_path):
    src = (FIXTURES / "noqa" / "suppressions.py").read_text()
    p = tmp_path / "s.py"
    p.write_text(src)
    run_cli("--fix", "--select", "ALL", str(p))
    out = p.read_text()
    # Suppressed lines keep their Glorot; the unsuppressed ones were fixed.
    assert out.count('kernel_initializer="glorot_uniform")(x)  # noqa') == 2
    assert 'kernel_initializer="he_uniform")(x)  # expect: IL002, IL900' in out
    assert "# noqa: E501  # expect" in out and "IL999" not in out
