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
