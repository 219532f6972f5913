"""Every output format on the same findings, including a message with %, ',', ':' and a
newline, a multi-line range, every severity, a notebook cell and two identical lines."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, run_cli
from initlint import report, rules
from initlint.engine import EditOut, Finding, FixOut
from initlint.files import FileResult

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
MESSAGE = "50% of units are dead, std 15.8: the signal saturates\nsee the second line"


@pytest.fixture
def findings(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    py = str(tmp_path / "pkg" / "a,b:c.py")
    nb = str(tmp_path / "nb.ipynb")
    line = 'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")'
    fix = FixOut("safe", "Use he_uniform", [EditOut(55, 71, '"he_uniform"', 2, 55, 2, 71)])
    a = FileResult(py, findings=[
        Finding("IL002", "glorot-with-relu", "warning", MESSAGE, 2, 55, 2, 71, fix),
        Finding("IL001", "constant-kernel", "error", "all-ones kernel", 3, 1, 5, 6),
        Finding("IL102", "default-glorot-with-relu", "info", "default Glorot", 7, 1, 7, 10),
        Finding("IL102", "default-glorot-with-relu", "info", "default Glorot", 8, 1, 8, 10),
    ], lines={(None, 2): line, (None, 3): "layers.Dense(", (None, 4): "  8,",
              (None, 5): "  k=1)", (None, 7): "x = Dense(8)", (None, 8): "x = Dense(8)"})
    b = FileResult(nb, notebook=True, findings=[
        Finding("IL003", "unscaled-random-normal", "warning", "std 1 | pipe", 4, 5, 4, 9,
                cell=3)], lines={(3, 4): "w = np.random.randn(3, 3)"})
    return [a, b]


def test_github(findings, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = io.StringIO()
    report.write_github(findings, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5
    # Most severe first: GitHub keeps only 10 annotations of each kind per step.
    assert [ln.split(" ", 1)[0] for ln in lines] == [
        "::error", "::warning", "::warning", "::notice", "::notice"]
    # A multi-line range drops its columns.
    assert lines[0] == ("::error file=pkg/a%2Cb%3Ac.py,line=3,endLine=5,"
                        "title=IL001 constant-kernel::all-ones kernel")
    assert lines[1] == ("::warning file=pkg/a%2Cb%3Ac.py,line=2,endLine=2,col=55,endColumn=71,"
                        "title=IL002 glorot-with-relu::50%25 of units are dead, std 15.8: "
                        "the signal saturates%0Asee the second line")
    # A notebook cell has no line in the JSON file: the cell goes into the message.
    assert lines[2] == ("::warning file=nb.ipynb,title=IL003 unscaled-random-normal::"
                        "cell 3:line 4:col 5: std 1 | pipe")
    md = summary.read_text()
    assert md.count("\n| ") == 1 + 5  # header + every finding
    assert "std 1 \\| pipe" in md and "saturates<br>see the second line" in md
    assert "`nb.ipynb:cell 3:line 4:col 5`" in md


def test_sarif_validates_and_locates(findings):
    import jsonschema

    doc = report.sarif(findings, rules.all_rules())
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == [r.code for r in rules.all_rules()]
    for r in run["tool"]["driver"]["rules"]:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["help"]["text"].startswith("## What it does")
    res = run["results"]
    assert len(res) == 5
    first = res[0]
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "pkg/a%2Cb%3Ac.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 2, "startColumn": 55, "endLine": 2, "endColumn": 71}
    assert first["message"]["text"] == MESSAGE
    assert first["level"] == "warning" and res[2]["level"] == "note"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "IL002"
    assert res[-1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    prints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in res]
    assert len(set(prints)) == 5
    assert prints[2].split(":")[0] == prints[3].split(":")[0]  # identical lines, counted


def test_sarif_fingerprints_survive_moved_lines(findings):
    before = report.sarif(findings, rules.all_rules())
    for r in findings:
        for f in r.findings:
            f.line += 3
            f.end_line += 3
        r.lines = {(c, n + 3): t for (c, n), t in r.lines.items()}
    after = report.sarif(findings, rules.all_rules())

    def prints(doc):
        return [x["partialFingerprints"] for x in doc["runs"][0]["results"]]

    assert prints(before) == prints(after)


def test_gitlab(findings):
    items = report.gitlab(findings)
    assert len(items) == 5
    assert {i["severity"] for i in items} <= {"info", "minor", "major", "critical", "blocker"}
    assert len({i["fingerprint"] for i in items}) == 5
    assert items[0]["location"] == {"path": "pkg/a,b:c.py", "lines": {"begin": 2, "end": 2}}
    assert "\n" not in items[0]["description"] and "50% of units" in items[0]["description"]
    assert items[1]["severity"] == "major" and items[1]["location"]["lines"] == {"begin": 3, "end": 5}
    assert items[-1]["location"] == {"path": "nb.ipynb", "lines": {"begin": 1, "end": 1}}
    out = io.StringIO()
    report.write_gitlab(findings, out)
    assert json.loads(out.getvalue()) == items


def test_concise_is_one_line_per_finding(findings):
    out = io.StringIO()
    report.write_text(findings, out, color=False, fix_level=None, fixing=False, concise=True)
    lines = out.getvalue().splitlines()
    # the message's first line; its details are for --show-details and the JSON
    assert lines[0].endswith("/pkg/a,b:c.py:2:55: IL002 [*] 50% of units are dead, std 15.8: "
                             "the signal saturates")
    assert lines[4].endswith("nb.ipynb:cell 3:line 4:col 5: IL003 std 1 | pipe")
    assert lines[5] == "Found 5 findings (1 error, 2 warnings, 2 info)."


def test_text_has_excerpt_underline_and_fix(findings):
    out = io.StringIO()
    report.write_text(findings, out, color=False, fix_level=None, fixing=False,
                      show_fixes=True, show_details=True)
    text = out.getvalue()
    assert "IL002 [*] 50% of units are dead, std 15.8: the signal saturates\n" \
           "  see the second line\n" in text
    assert '2 | layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")' in text
    assert "  | " + " " * 54 + "^" * 16 + " IL002" in text
    assert "= help: Use he_uniform" in text
    assert '2 + layers.Dense(8, activation="relu", kernel_initializer="he_uniform")' in text
    # A multi-line range underlines each line.
    assert "3 | layers.Dense(\n  | ^^^^^^^^^^^^^\n4 |   8,\n  |   ^^\n5 |   k=1)\n" in text


def test_json_round_trips_the_message(findings):
    out = io.StringIO()
    report.write_json(findings, out)
    data = json.loads(out.getvalue())
    assert data[0]["message"] + "\n" + data[0]["details"] == MESSAGE
    assert data[1]["details"] == ""
    assert "cell" not in data[0] and data[-1]["cell"] == 3


BAD = FIXTURES / "keras" / "imports_keras.py"


@pytest.mark.parametrize("flag", ["--format", "--output-format"])
def test_cli_formats_and_output_file(tmp_path, flag):
    out = tmp_path / "report.sarif"
    r = run_cli(flag, "sarif", "-o", str(out), str(BAD))
    assert r.returncode == 1 and r.stdout == b""
    import jsonschema

    doc = json.loads(out.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    assert doc["runs"][0]["results"]
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "fixtures/keras/imports_keras.py"


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_every_format_runs_on_real_findings(tmp_path, fmt):
    r = run_cli("--format", fmt, str(BAD), cwd=ROOT,
                env={"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert r.returncode == 1, r.stderr
    text = r.stdout.decode()
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(text)
    if fmt == "github":
        assert text.startswith("::warning file=fixtures/keras/imports_keras.py,line=")
        assert (tmp_path / "s.md").read_text().startswith("### initlint")


def test_statistics(tmp_path):
    r = run_cli("--statistics", str(FIXTURES / "keras"))
    rows = r.stdout.decode().splitlines()
    assert re.fullmatch(r"\s*\d+\tIL002\t\[\*\]\tglorot-with-relu", next(
        x for x in rows if "\tIL002\t" in x))
    data = json.loads(run_cli("--statistics", "--format", "json", str(FIXTURES / "keras")).stdout)
    assert {"code", "name", "count", "fixable"} == set(data[0])
    assert sum(d["count"] for d in data) == len(json.loads(
        run_cli("--format", "json", str(FIXTURES / "keras")).stdout))


def test_show_fixes_after_fix_lists_files(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(Path(BAD).read_text())
    out = run_cli("--fix", "--show-fixes", str(p)).stdout.decode()
    assert f"  - {p}: " in out and "fixed" in out


def test_output_format_from_the_environment():
    r = run_cli(str(BAD), env={"INITLINT_OUTPUT_FORMAT": "json"})
    assert isinstance(json.loads(r.stdout), list)
