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
       'layers.Dense(8, activation="relu", kernel_initializer="glorot_uniform")\n')


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
    assert "model.py:2:55: IL002 [*] glorot_uniform on Dense with relu" in out
    assert "nb.ipynb:cell 4:3:61: IL002" in out
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
    assert "nb.ipynb:cell 5:1:5: IL003" in out


def test_github_action_steps_run_with_runner_variables(tmp_path):
    """Run the composite action's shell steps as a runner would: inputs through `env:`,
    GITHUB_* files, the PATH the install step exports."""
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    workspace = tmp_path / "workspace"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "model.py").write_text(BAD)
    files = {k: tmp_path / k.lower() for k in ("GITHUB_PATH", "GITHUB_OUTPUT",
                                               "GITHUB_STEP_SUMMARY")}
    for f in files.values():
        f.write_text("")
    inputs = {k: v.get("default", "") for k, v in action["inputs"].items()}
    inputs.update({"paths": "src", "args": "--select IL002", "sarif-file": "initlint.sarif"})
    runner = dict(os.environ, GITHUB_ACTION_PATH=str(ROOT), GITHUB_WORKSPACE=str(workspace),
                  RUNNER_TEMP=str(tmp_path), CI="true", GITHUB_ACTIONS="true",
                  **{k: str(v) for k, v in files.items()})
    runner.pop("VIRTUAL_ENV", None)
    results = []
    for step in action["runs"]["steps"]:
        if "run" not in step:
            assert step.get("if") == "${{ inputs.python-version != '' }}"
            continue
        env = dict(runner)
        for key, value in (step.get("env") or {}).items():
            env[key] = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}",
                              lambda m: inputs[m.group(1)], value)
        extra = [p for p in files["GITHUB_PATH"].read_text().splitlines() if p]
        env["PATH"] = os.pathsep.join(extra[::-1] + [env["PATH"]])
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                            step["run"]], cwd=workspace, env=env, capture_output=True,
                           text=True, timeout=600)
        results.append(r)
    install, lint = results
    assert install.returncode == 0, install.stderr
    assert lint.returncode == 1, lint.stderr
    assert lint.stdout.startswith("::warning file=src/model.py,line=2,endLine=2,col=55,"
                                  "endColumn=71,title=IL002 glorot-with-relu::glorot_uniform")
    assert "sarif-file=initlint.sarif" in files["GITHUB_OUTPUT"].read_text()
    sarif = json.loads((workspace / "initlint.sarif").read_text())
    loc = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "src/model.py"
    assert "| warning | `src/model.py:2:55` | IL002" in files["GITHUB_STEP_SUMMARY"].read_text()
