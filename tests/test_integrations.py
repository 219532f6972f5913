"""pre-commit and the GitHub Action, run for real (slow: each installs initlint into a fresh
environment from this checkout)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT

BAD = ('from keras import layers\n'
       'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Dense(8, activation="relu")(layers.Input((8,))))))\n')


def _need_git_checkout():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        if os.environ.get("INITLINT_REQUIRE_FRAMEWORKS"):
            pytest.fail("the integration tests need a git checkout of initlint and git")
        pytest.skip("needs a git checkout of initlint and git")


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_pre_commit_hooks_for_real(tmp_path):
    _need_git_checkout()
    repo = tmp_path / "user-repo"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    (repo / "model.py").write_text(BAD)
    shutil.copy(FIXTURES / "notebooks" / "mlp.ipynb", repo / "nb.ipynb")
    (repo / "notes.txt").write_text(BAD)  # not a hook file type
    _git("add", ".", cwd=repo)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"), NO_COLOR="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")

    def try_repo(hook):
        r = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook,
                            "--all-files", "--color", "never"], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=600)
        return r.returncode, r.stdout + r.stderr

    rc, out = try_repo("initlint")
    assert rc == 1, out
    assert re.search(r"^initlint\.+Failed$", out, re.M), out
    assert "model.py:2:55: IL002 [*] Dense (relu): glorot_uniform shrinks signal std" in out
    assert "nb.ipynb:cell 4:line 3:col 61: IL002" in out
    assert "notes.txt" not in out

    rc, out = try_repo("initlint-fix")
    assert rc == 1, out  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in out
    assert 'kernel_initializer="he_uniform"' in (repo / "model.py").read_text()
    assert "he_uniform" in json.loads((repo / "nb.ipynb").read_text())["cells"][3]["source"][2]

    _git("add", ".", cwd=repo)
    rc, out = try_repo("initlint")
    # What is left needs --unsafe-fixes: the notebook's hand-drawn NumPy weight.
    assert rc == 1 and "IL002" not in out, out
    assert "nb.ipynb:cell 5:line 1:col 5: IL003" in out


# --- The GitHub Action ---------------------------------------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
GOOD = ('from keras import layers\n'
        'layers.Dense(8, activation="relu", kernel_initializer="he_uniform")\n')
#: Put on the lint step's PYTHONPATH: logs every lint run (one line per call of
#: initlint.files.lint_paths, naming its files) in whatever process makes it.
COUNT_RUNS = """\
import os

if os.environ.get("INITLINT_TEST_RUN_LOG"):
    try:
        from initlint import files
    except ImportError:
        files = None
    if files is not None:
        _lint_paths = files.lint_paths

        def _counted(found, *args, **kwargs):
            with open(os.environ["INITLINT_TEST_RUN_LOG"], "a") as fh:
                fh.write(" ".join(sorted(str(getattr(f, "path", f)) for f in found)) + "\\n")
            return _lint_paths(found, *args, **kwargs)

        files.lint_paths = _counted
"""


def _read_outputs(path) -> dict:
    """A GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` blocks."""
    out, lines = {}, iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            out[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


class ActionRunner:
    """Runs action.yml's shell steps as a runner does: `bash -eo pipefail`, inputs and step
    outputs substituted into `env:` only, and fresh GITHUB_OUTPUT, GITHUB_PATH, GITHUB_ENV and
    GITHUB_STEP_SUMMARY files for every step (read back after it)."""

    def __init__(self, tmp_path):
        import yaml

        self.action = yaml.safe_load((ROOT / "action.yml").read_text())
        self.steps = {s.get("id"): s for s in self.action["runs"]["steps"]}
        self.tmp = tmp_path
        self.outputs = {}  # step id -> its outputs; a skipped step has none
        self.env = dict(os.environ, GITHUB_ACTION_PATH=str(ROOT), RUNNER_TEMP=str(tmp_path),
                        CI="true", GITHUB_ACTIONS="true")
        self.env.pop("VIRTUAL_ENV", None)

    def evaluate(self, text, inputs):
        def value(m):
            expr = m.group(1)
            ref = re.fullmatch(r"inputs\.([\w-]+)", expr)
            if ref:
                return inputs[ref.group(1)]
            ref = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if ref:
                assert ref.group(1) in self.steps, expr
                return self.outputs.get(ref.group(1), {}).get(ref.group(2), "")
            pytest.fail(f"the test does not evaluate ${{{{ {expr} }}}}")
        return EXPRESSION.sub(value, "" if text is None else str(text))

    def inputs(self, **given):
        inputs = {k: v.get("default", "") for k, v in self.action["inputs"].items()}
        for key, value in given.items():
            key = key.replace("_", "-")
            assert key in inputs, key
            inputs[key] = value
        return inputs

    def run(self, step_id, inputs, cwd, **env):
        step = self.steps[step_id]
        assert "${{" not in step["run"], "inputs must reach the script through env:"
        files = {k: self.tmp / f"{step_id}-{k.lower()}" for k in (
            "GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
        for f in files.values():
            f.write_text("")
        full = dict(self.env, GITHUB_WORKSPACE=str(cwd), **{k: str(v) for k, v in files.items()},
                    **env)
        for key, value in (step.get("env") or {}).items():
            full[key] = self.evaluate(value, inputs)
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                            step["run"]], cwd=cwd, env=full, capture_output=True, text=True,
                           timeout=600)
        # The job's environment is the user's: nothing may be added to its PATH or env.
        assert files["GITHUB_PATH"].read_text() == "", step_id
        assert files["GITHUB_ENV"].read_text() == "", step_id
        self.outputs[step_id] = _read_outputs(files["GITHUB_OUTPUT"])
        r.summary = files["GITHUB_STEP_SUMMARY"].read_text()
        return r


@pytest.fixture(scope="module")
def action(tmp_path_factory):
    """The action with its install step run (from this checkout, the `version` default)."""
    pytest.importorskip("yaml")
    runner = ActionRunner(tmp_path_factory.mktemp("runner-temp"))
    assert runner.action["runs"]["using"] == "composite"
    setup, install, lint = runner.action["runs"]["steps"]
    # setup-python runs only for a python-version, and leaves the job's PATH alone.
    assert setup.get("id") == "python" and setup["uses"].startswith("actions/setup-python@")
    assert setup["if"] == "${{ inputs.python-version != '' }}"
    assert setup["with"]["update-environment"] is False
    assert (install.get("id"), lint.get("id")) == ("install", "lint")
    r = runner.run("install", runner.inputs(), cwd=runner.tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("python", "initlint"):
        exe = runner.outputs["install"][name]
        assert exe.startswith(str(runner.tmp)) and os.access(exe, os.X_OK), exe
    site = runner.tmp / "count-runs"
    site.mkdir()
    (site / "sitecustomize.py").write_text(COUNT_RUNS)
    runner.count_runs = site
    return runner


def _lint(action, tmp_path, **inputs):
    """Run the lint step in a workspace with src/model.py (one IL002) and clean/model.py."""
    workspace = tmp_path / "workspace"
    if not workspace.exists():
        (workspace / "src").mkdir(parents=True)
        (workspace / "src" / "model.py").write_text(BAD)
        (workspace / "clean").mkdir()
        (workspace / "clean" / "model.py").write_text(GOOD)
    log = tmp_path / "runs.log"
    log.write_text("")
    r = action.run("lint", action.inputs(**inputs), cwd=workspace,
                   PYTHONPATH=str(action.count_runs), INITLINT_TEST_RUN_LOG=str(log))
    r.runs = log.read_text().splitlines()
    r.workspace = workspace
    return r


ANNOTATION = ("::warning file=src/model.py,line=2,endLine=2,col=55,endColumn=71,"
              "title=IL002 glorot-with-relu::")


def test_github_action_steps_run_with_runner_variables(action, tmp_path):
    """One lint run writes the annotations, the step summary and the SARIF report."""
    r = _lint(action, tmp_path, paths="src", args="--select IL002", sarif_file="initlint.sarif")
    assert r.returncode == 1, r.stderr
    assert len(r.runs) == 1 and r.runs[0].endswith("model.py"), r.runs
    assert r.stdout.startswith(ANNOTATION), r.stdout
    assert action.outputs["lint"] == {"sarif-file": "initlint.sarif"}
    assert action.evaluate(action.action["outputs"]["sarif-file"]["value"],
                           action.inputs()) == "initlint.sarif"
    sarif = json.loads((r.workspace / "initlint.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "IL002"
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "src/model.py"
    assert loc["region"]["startLine"] == 2
    assert "| warning | `src/model.py:2:55` | IL002" in r.summary


@pytest.mark.parametrize("case, inputs, code, annotated, sarif", [
    ("findings, no SARIF", dict(paths="src"), 1, True, None),
    ("clean", dict(paths="clean", sarif_file="out/initlint.sarif"), 0, False, 0),
    ("exit-zero", dict(paths="src", args="--exit-zero", sarif_file="initlint.sarif"), 0, True,
     1),
    ("a missing path", dict(paths="src nowhere", sarif_file="initlint.sarif"), 2, True, None),
    ("an unwritable SARIF file", dict(paths="src", sarif_file="src"), 2, True, None),
])
def test_github_action_exit_codes(action, tmp_path, case, inputs, code, annotated, sarif):
    """Exit 0 clean, 1 findings, 2 errors (the SARIF report written with every result)."""
    r = _lint(action, tmp_path, **inputs)
    assert r.returncode == code, (case, r.stdout, r.stderr)
    assert len(r.runs) <= 1, r.runs
    assert r.stdout.startswith(ANNOTATION) == annotated, (case, r.stdout)
    assert action.outputs["lint"] == {"sarif-file": inputs.get("sarif_file", "")}
    if sarif is not None:
        report = json.loads((r.workspace / inputs["sarif_file"]).read_text())
        assert len(report["runs"][0]["results"]) == sarif
    if code == 2:
        assert {"a missing path": "nowhere",
                "an unwritable SARIF file": "cannot write the report"}[case] in r.stderr
