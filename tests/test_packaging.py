"""The wheel ships every package file (the flat layout can hide a missing one from tests)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_contains_every_package_file(tmp_path):
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                        str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (wheel,) = tmp_path.glob("initlint-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / "initlint").rglob("*.py")}
    assert expected <= names, expected - names
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "initlint = initlint.cli:main" in text


def test_pre_commit_hooks_manifest():
    import re

    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    ids = re.findall(r"^- id: (\S+)", text, re.M)
    assert ids == ["initlint", "initlint-fix"]
    assert text.count("language: python") == 2
    assert text.count("require_serial: true") == 2
    assert "entry: initlint --fix" in text
    import yaml

    hooks = yaml.safe_load(text)
    for hook in hooks:
        assert hook["types_or"] == ["python", "pyi", "jupyter"]
        assert "--force-exclude" in hook["entry"]
