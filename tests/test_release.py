"""Releases: the sdist and wheel pass `twine check --strict`, the changelog and the release
workflow agree with ``__version__``, and every action the repository runs is pinned to a commit.
(What the wheel contains is tests/test_packaging.py's business.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from initlint import __version__

WORKFLOWS = ROOT / ".github" / "workflows"
TAG_CHECK = "Check that the tag names the version built"


def _yaml(path):
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist, and the wheel built from it, as `python -m build` makes them for a release."""
    out = tmp_path_factory.mktemp("release") / "dist"
    r = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                        str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return out


def test_distributions_carry_the_version_and_pass_twine_check_strict(dist):
    pytest.importorskip("twine")
    names = sorted(p.name for p in dist.iterdir())
    assert names == [f"initlint-{__version__}-py3-none-any.whl", f"initlint-{__version__}.tar.gz"]
    r = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                        *(str(p) for p in sorted(dist.iterdir()))],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("PASSED") == 2, r.stdout


def test_changelog_has_a_dated_section_for_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\S+))?[ \t]*$", text, re.M)
    assert headings[0] == ("Unreleased", ""), headings
    sections = dict(headings[1:])
    assert __version__ in sections, f"CHANGELOG.md has no ## [{__version__}] section"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sections[__version__]), sections[__version__]
    # Keep a Changelog's link references: every heading links to its tag or comparison.
    for name, _ in headings:
        assert re.search(rf"^\[{re.escape(name)}\]: https://\S+$", text, re.M | re.I), name
    assert re.search(rf"^\[{re.escape(__version__)}\]: \S+/v{re.escape(__version__)}$", text,
                     re.M)


def _run_tag_check(script, dist_dir, tmp_path, tag):
    work = tmp_path / tag.replace("/", "_")
    shutil.copytree(dist_dir, work / "dist")
    output = work / "github_output"
    output.write_text("")
    r = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-c", script], cwd=work,
                       env=dict(os.environ, GITHUB_REF_NAME=tag, GITHUB_OUTPUT=str(output)),
                       capture_output=True, text=True, timeout=60)
    r.output = output.read_text()
    return r


def test_release_workflow_checks_the_tag_against_the_version_built(dist, tmp_path):
    workflow = _yaml(WORKFLOWS / "release.yml")
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on == {"push": {"tags": ["v*"]}}
    build = workflow["jobs"]["build"]
    runs = [s.get("run", "") for s in build["steps"]]
    names = [s.get("name") for s in build["steps"]]
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    assert "python -m build" in runs
    assert "python -m twine check --strict dist/*" in runs
    assert uses.index("actions/upload-artifact") > names.index(TAG_CHECK) > runs.index(
        "python -m build")
    setup = build["steps"][uses.index("actions/setup-python")]
    assert setup["with"]["python-version"] == "3.11"

    script = build["steps"][names.index(TAG_CHECK)]["run"]
    r = _run_tag_check(script, dist, tmp_path, f"v{__version__}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.output == f"version={__version__}\n"
    for tag in (__version__, f"v{__version__}.1", "v0.0.0-not-this", f"release-{__version__}"):
        r = _run_tag_check(script, dist, tmp_path, tag)
        assert r.returncode == 1, (tag, r.stdout, r.stderr)
        assert f"::error::tag {tag} does not name the version built, {__version__}" in r.stdout

    # Published only after the build job, from its files, with a short-lived PyPI token.
    pypi = workflow["jobs"]["pypi"]
    assert pypi["needs"] == "build"
    assert pypi["environment"]["name"] == "pypi"
    assert pypi["permissions"] == {"id-token": "write"}
    assert [s["uses"].split("@")[0] for s in pypi["steps"]] == [
        "actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert workflow["permissions"] == {"contents": "read"}


def _uses(node):
    """Every `uses:` value in a workflow or action (steps, and jobs that call workflows)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses":
                yield value
            else:
                yield from _uses(value)
    elif isinstance(node, list):
        for item in node:
            yield from _uses(item)


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
PIN = re.compile(r"[^@\s]+@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"\s+#\s*v\d+(?:\.\d+){2}\s*")


def test_every_action_used_is_pinned_to_a_commit():
    """`owner/repo@<40-hex commit> # vX.Y.Z`: a tag can be moved, a commit cannot. (Local
    actions, `./path`, come from the same commit anyway.)"""
    files = [ROOT / "action.yml", *sorted(WORKFLOWS.glob("*.yml")),
             *sorted(WORKFLOWS.glob("*.yaml"))]
    assert len(files) >= 2, files
    for path in files:
        found = [USES.match(line).groups() for line in path.read_text().splitlines()
                 if USES.match(line)]
        # The YAML's own reading sees the same references (none hides in a flow mapping).
        assert sorted(ref for ref, _ in found) == sorted(_uses(_yaml(path))), path.name
        for ref, rest in found:
            if ref.startswith("./"):
                continue
            assert PIN.fullmatch(ref), f"{path.name}: {ref} is not pinned to a commit SHA"
            assert VERSION_COMMENT.fullmatch(rest), f"{path.name}: {ref} needs a # vX.Y.Z comment"
