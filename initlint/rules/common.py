"""Helpers shared by rules: recommendations, deliberate-idiom recognition, wording of figures."""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Tuple

from .. import checker, variance
from ..catalog import activations as A
from ..catalog import idioms
from ..model import Activation, InitRequest, InitSpec, Layer, Network, Stack

def recommended_family(layer: Layer) -> str:
    """He for the ReLU family, LeCun for SELU, Glorot for tanh, sigmoid, linear and unknown."""
    fam = A.recommended_family(layer.activation.name) if layer.activation.known else None
    return fam or "glorot"


def same_distribution(spec: InitSpec) -> str:
    """The distribution a replacement keeps: uniform stays uniform, normal stays normal."""
    return "uniform" if spec.distribution == "uniform" else "normal"


def request_for(layer: Layer, spec: InitSpec, family: Optional[str] = None,
                distribution: Optional[str] = None) -> InitRequest:
    fam = family or recommended_family(layer)
    dist = distribution or same_distribution(spec)
    act = layer.activation.name if layer.activation.known else None
    return InitRequest(fam, dist, act)


def suggestion_name(req: InitRequest) -> str:
    """A neutral name for messages: ``he_uniform``, ``glorot_normal``..."""
    return f"{req.family}_{req.distribution if req.distribution == 'uniform' else 'normal'}"


def deliberate_by_name(layer: Layer) -> bool:
    """A name that says the layer is an output, a gate, a residual end or a LoRA B matrix
    (the words are in :mod:`initlint.catalog.idioms`)."""
    return idioms.deliberate_layer_name(layer.name)


def is_output_like(layer: Layer) -> bool:
    """Output layer, or a layer that ends in a softmax-like activation (a classifier head)."""
    if layer.position == "output":
        return True
    f = A.facts(layer.activation.name)
    return f is not None and f.family == "output"


def layer_label(layer: Layer) -> str:
    return f"{layer.type_name} {layer.name}" if layer.name else layer.type_name


def fmt(x: float) -> str:
    """Figures for messages: 3 significant digits, a ".0" on whole numbers (``1.0``, ``15.8``)."""
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    s = f"{x:.3g}"
    if "e" in s:
        return f"{x:.1e}"
    if "." not in s:
        s += ".0"
    return s


# --- runs: where the signal compounds -----------------------------------------------------


def modelled(layer: Layer) -> Optional[checker.Step]:
    try:
        return checker.steps_for(Stack([layer]))[0]
    except checker.Unsupported:
        return None


def runs(stack: Stack) -> List[List[Layer]]:
    """Maximal runs of consecutive hidden layers the checker can model, with no normalization
    or residual sum inside."""
    runs: List[List[Layer]] = []
    cur: List[Layer] = []
    for layer in stack.layers:
        ok = (layer.position != "output" and layer.compounds
              and not layer.residual_branch_end and modelled(layer) is not None)
        if ok and cur and layer not in cur[-1].next:
            runs.append(cur)
            cur = []
        if ok:
            cur.append(layer)
            if layer.normalized_after:  # the next layer sees a renormalized signal
                runs.append(cur)
                cur = []
        else:
            if cur:
                runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return [r for r in runs if len(r) >= 2]


def run_count(layer: Layer, network: Network, counted: Callable[[str], bool]) -> int:
    """How many layers of the layer's run (itself included) have an activation ``counted``
    accepts: the evidence that a scale compounds. 0 when the layer's place is not known."""
    run = run_of(layer, network)
    return 0 if run is None else sum(1 for x in run if counted(x.activation.name))


def run_of(layer: Layer, network: Network) -> Optional[List[Layer]]:
    """The layers the signal passes through with this one, fans known or not: those linked to
    it, forward or back, with no normalization or residual sum in between (the output layer
    included). None when nothing links the layer and no stack holds it: its place is not
    known."""
    preds: Dict[int, List[Layer]] = {}
    for x in network.layers:
        for n in x.next:
            preds.setdefault(id(n), []).append(x)
    if not layer.next and id(layer) not in preds and not any(
            any(layer is x for x in st.layers) for st in network.stacks):
        return None

    def ok(x: Layer) -> bool:
        return x.compounds and not x.residual_branch_end

    run, todo, seen = [layer], [layer], {id(layer)}
    while todo and len(run) < 64:
        cur = todo.pop()
        ahead = [] if cur.normalized_after else cur.next
        behind = [p for p in preds.get(id(cur), []) if not p.normalized_after]
        for x in ahead + behind:
            if id(x) not in seen and ok(x):
                seen.add(id(x))
                run.append(x)
                todo.append(x)
    return run


def std_factor(spec: InitSpec, act: Activation, fan_in: int, fan_out: int) -> Optional[float]:
    """The signal's std factor through one layer initialized with ``spec``, from the variance
    checker: the drift over two identical layers (exact for the scale-free ReLU family)."""
    step = checker.Step(fan_in, fan_out, act.name, spec, dict(act.params))
    try:
        return checker.analytic([step, step]).forward_drift
    except checker.Unsupported:
        return None


def against_recommended(x: Layer) -> Optional[Tuple[float, float]]:
    """The std factor of the layer's activated kernel as initialized, and with the
    recommended initializer for its activation; None when the checker cannot model it."""
    w = x.activated_kernel
    if w is None:
        return None
    fi, fo = variance.square_fans(w.fan_in, w.fan_out)
    now = std_factor(w.init, x.activation, fi, fo)
    rec = std_factor(variance.family_spec(recommended_family(x)), x.activation, fi, fo)
    if now is None or rec is None:
        return None
    return now, rec


def relative_drift(layers: Iterable[Layer]) -> float:
    """The signal's std through ``layers`` as initialized, relative to the recommended
    initializers: the product of each layer's factor against its recommended one."""
    rel = 1.0
    for x in layers:
        f = against_recommended(x)
        if f is not None and f[1] > 0:
            rel *= f[0] / f[1]
    return rel
