"""The README's "Why: the numbers" table is what the variance checker computes."""

from __future__ import annotations

import re

from conftest import ROOT
from initlint import checker as C
from initlint.catalog import keras as K
from initlint.model import InitSpec


def _spec(cls, **kw):
    return K.make_spec(cls, kw, cls)


INITS = {
    "he_normal": _spec("HeNormal"),
    "glorot_uniform": _spec("GlorotUniform"),
    "lecun_normal": _spec("LecunNormal"),
    "PyTorch default (a=√5)": InitSpec("framework_default", "uniform", scale=1 / 3,
                                       mode="fan_in"),
    "RandomNormal(0.05)": _spec("RandomNormal", stddev=0.05),
    "N(0, 1)": _spec("RandomNormal", stddev=1.0),
}


def _fmt(x: float) -> str:
    return f"{x:.3g}" if 1e-3 <= x < 1e4 else f"{x:.2e}"


def test_numbers_table_is_the_checkers():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- numbers:start -->")[1].split("<!-- numbers:end -->")[0]
    rows = [r for r in block.strip().splitlines()[2:] if r.startswith("|")]
    assert len(rows) >= 10
    for row in rows:
        act, init, fwd, bwd = [c.strip() for c in row.strip("|").split("|")]
        r = C.analytic([C.Step(256, 256, act, INITS[init]) for _ in range(10)])
        assert (fwd, bwd) == (_fmt(r.forward_drift), _fmt(r.backward_drift)), row
    assert re.search(r"initlint simulate", text)


def _block(text: str, lang: str, after: str) -> str:
    start = text.index(after)
    m = re.search(rf"```{lang}\n(.*?)```", text[start:], re.S)
    assert m, (lang, after)
    return m.group(1)


def test_config_example_is_a_valid_config_with_every_threshold():
    from initlint import config, rules

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    toml = _block(text, "toml", "## Configuration")
    table = config.tomllib.loads(toml)["tool"]["initlint"]
    cfg = config.parse_table(table, "pyproject.toml", ".")
    # The example lists every threshold with its real default.
    assert cfg.settings == rules.all_settings()


def test_ci_recipes_are_valid_yaml_using_real_options():
    import yaml

    from initlint import report

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    workflow = yaml.safe_load(_block(text, "yaml", "### GitHub Actions"))
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = next(s for s in workflow["jobs"]["initlint"]["steps"]
                if s["uses"].startswith("initlint/"))
    assert set(step["with"]) <= set(action["inputs"])
    gitlab = yaml.safe_load(_block(text, "yaml", "### GitLab CI"))
    assert gitlab["initlint"]["artifacts"]["reports"]["codequality"] in \
        " ".join(gitlab["initlint"]["script"])
    for fmt in re.findall(r"--format ([a-z]+)", text):
        assert fmt in report.FORMATS
    hooks = yaml.safe_load(_block(text, "yaml", "## pre-commit"))
    ids = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {h["id"] for h in hooks["repos"][0]["hooks"]} <= ids
