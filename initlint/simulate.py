"""``initlint simulate PATH``: the signal of every stack initlint finds, layer by layer.

For each stack (a Keras Sequential, an ``nn.Sequential``, a functional chain, a module's
forward) the variance checker computes the forward (pre-activation) and backward (gradient) std
of every layer, with the file's initializers and with the ones initlint recommends, so the user
sees what a fix changes. ``--mc`` samples real weights instead of the closed form.

A stack whose ``Layer.next`` links branch (two heads on one trunk) is shown as a tree: the trunk,
then each branch continuing from the trunk's output. Forward, every branch sees the trunk's end
signal. Backward, every branch gets its own unit gradient at its own output; the gradient at the
trunk's output is the sum of its branches' gradients, taken as independent (their variances
add). A graph that branches and rejoins (a residual sum, a concatenation) or loops is not a tree:
it is simulated as one chain in forward order, with a note saying so; a layer that feeds itself
(a layer list run in a loop) is simulated once, also with a note. Stacks with the same layers as
one already shown, and branches or stacks the checker cannot model, are listed as skipped.

Everything the user wrote (paths, layer and initializer names) is printed as plain text: rich
neither turns ``:100:`` into an emoji nor reads ``[bold]`` as markup.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import (TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Iterator, List, Optional,
                    Sequence, Set, TextIO, Tuple, Union)

import click
from libcst.metadata import MetadataWrapper, PositionProvider

from . import checker, engine, files, notebook, variance
from .model import InitSpec, Layer, Network, Stack
from .readers import READERS
from .rules.common import recommended_family, same_distribution
from .source import SourceError, decode

if TYPE_CHECKING:
    from rich.console import Console

EXIT_CLEAN, EXIT_ERROR = 0, 2

#: How the gradient at the end of a segment is obtained (JSON ``backward_from``).
FROM_OUTPUT, FROM_BRANCHES = "output", "branches"


@dataclass(eq=False)
class Segment:
    """Layers the signal passes through one after the other; then the branches, each of which
    takes this segment's output as its input."""

    layers: List[Layer]
    branches: List["Segment"] = field(default_factory=list)
    #: ``trunk``, or ``branch 1 of 2`` (``branch 1.2 of 3`` for the second of three branches
    #: that split from branch 1).
    label: str = "trunk"
    #: The name of the segment's first layer, for the user.
    name: str = ""
    line: int = 0
    #: Depth (1-based) of the segment's first layer from the stack's input.
    start: int = 1
    #: How many branches the graph has here (some may be skipped).
    planned: int = 0
    steps: List[checker.Step] = field(default_factory=list)
    rec_steps: List[checker.Step] = field(default_factory=list)
    #: Per layer: the forward std (the same whichever branch follows) and the backward std
    #: (from the sum of the gradients of every branch below this segment).
    result: Optional[checker.Result] = None
    recommended: Optional[checker.Result] = None
    #: (forward, backward) drift from the stack's first layer to this segment's last layer.
    drift: Tuple[float, float] = (1.0, 1.0)
    rec_drift: Tuple[float, float] = (1.0, 1.0)

    @property
    def title(self) -> str:
        return self.label if self.label == "trunk" else f"{self.label}: {self.name}"

    @property
    def backward_from(self) -> str:
        return FROM_BRANCHES if self.branches else FROM_OUTPUT

    # ``result`` and ``recommended``, which _simulate sets on every segment it keeps.
    @property
    def figures(self) -> checker.Result:
        assert self.result is not None, "the segment has not been simulated"
        return self.result

    @property
    def rec_figures(self) -> checker.Result:
        assert self.recommended is not None, "the segment has not been simulated"
        return self.recommended

    def walk(self) -> Iterator["Segment"]:
        yield self
        for b in self.branches:
            yield from b.walk()

    def leaf_paths(self) -> Iterator[List["Segment"]]:
        if not self.branches:
            yield [self]
        for b in self.branches:
            for p in b.leaf_paths():
                yield [self] + p


@dataclass
class Simulated:
    path: str
    line: int
    kind: str
    trunk: Segment
    #: Why the stack is shown as one chain although its layers branch, when that is the case.
    note: Optional[str] = None

    # The trunk's figures; for a stack without branches, the whole stack's.
    @property
    def steps(self) -> List[checker.Step]:
        return self.trunk.steps

    @property
    def result(self) -> checker.Result:
        return self.trunk.figures

    @property
    def recommended(self) -> checker.Result:
        return self.trunk.rec_figures

    @property
    def n_layers(self) -> int:
        return sum(len(s.layers) for s in self.trunk.walk())


def recommended_init(layer: Layer) -> InitSpec:
    """The initializer initlint recommends for a layer, in the distribution it already uses."""
    w = layer.kernels[-1]
    return variance.family_spec(recommended_family(layer), same_distribution(w.init))


def run(steps: List[checker.Step], mc: bool, seed: int) -> checker.Result:
    return checker.monte_carlo(steps, seed=seed) if mc else checker.analytic(steps)


# --- where things are ------------------------------------------------------------------------


class _File:
    """Lines of nodes in one file (a notebook's are named by cell)."""

    def __init__(self, path: str, module: Any, nb: Optional[notebook.Notebook]) -> None:
        self.path = path
        self.nb = nb
        self.positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def raw_line(self, node: Any) -> int:
        return self.positions[node].start.line if node is not None and node in self.positions \
            else 0

    def where(self, node: Any) -> Tuple[str, int]:
        """(path, line) of a node; a notebook's path names the cell and the line is the cell's."""
        line = self.raw_line(node)
        if self.nb is not None:
            cell, line = self.nb.locate(line)
            return f"{self.path}:cell {cell}", line
        return self.path, line

    def at(self, node: Any) -> str:
        """``line 14``, or ``cell 4, line 3`` in a notebook; empty when unknown."""
        raw = self.raw_line(node)
        if not raw:
            return ""
        if self.nb is not None:
            cell, line = self.nb.locate(raw)
            return f"cell {cell}, line {line}"
        return f"line {raw}"

    def layer_name(self, layer: Layer) -> str:
        if layer.name:
            return layer.name
        at = self.at(layer.node)
        return f"{layer.type_name} at {at}" if at else layer.type_name


# --- the shape of a stack --------------------------------------------------------------------


@dataclass(eq=False)
class Plan:
    """A stack as simulate shows it: a chain, or a trunk with branches."""

    root: Segment
    kind: str
    node: Any
    note: Optional[str] = None

    def layer_ids(self) -> FrozenSet[int]:
        return frozenset(id(x) for s in self.root.walk() for x in s.layers)


class _NotATree(Exception):
    """The layers' links branch and rejoin, or loop; the message says where."""


def _successors(layer: Layer, allowed: Dict[int, Layer]) -> List[Layer]:
    """The layers that take ``layer``'s output, among ``allowed``; a layer that feeds itself (a
    layer list run in a loop) is simulated once, so that link is left out here."""
    out: List[Layer] = []
    for n in layer.next:
        if n is not layer and id(n) in allowed and all(n is not o for o in out):
            out.append(n)
    return out


def _tree(root: Layer, allowed: Dict[int, Layer], f: _File) -> Tuple[Segment, Set[int]]:
    """The tree of segments from ``root`` over the ``allowed`` layers, and the layers in it."""
    npred: Dict[int, int] = {}
    for layer in allowed.values():
        for n in _successors(layer, allowed):
            npred[id(n)] = npred.get(id(n), 0) + 1
    seen: Set[int] = set()

    def check(n: Layer) -> None:
        if id(n) in seen:
            raise _NotATree(_loops_back(n, f))
        if npred.get(id(n), 0) > 1:
            raise _NotATree(_rejoins(n, f))

    def grow(start: Layer) -> Segment:
        check(start)
        seen.add(id(start))
        layers, cur = [start], start
        while True:
            nxt = _successors(cur, allowed)
            if len(nxt) != 1:
                return Segment(layers, [grow(n) for n in nxt])
            cur = nxt[0]
            check(cur)
            seen.add(id(cur))
            layers.append(cur)

    if npred.get(id(root), 0):
        raise _NotATree(_loops_back(root, f))
    return grow(root), seen


def _feeds_itself(layer: Layer, f: _File) -> str:
    return f"{f.layer_name(layer)} feeds itself (a layer list run in a loop, or a layer used twice)"


def _loops_back(layer: Layer, f: _File) -> str:
    return (f"the signal loops back to {f.layer_name(layer)} (a layer list run in a loop, or a "
            "module used twice)")


def _rejoins(layer: Layer, f: _File) -> str:
    return f"branches rejoin at {f.layer_name(layer)} (a residual sum or a concatenation)"


def _name_segments(seg: Segment, f: _File, prefix: str = "", start: int = 1) -> None:
    seg.name = f.layer_name(seg.layers[0])
    seg.line = f.where(seg.layers[0].node)[1]
    seg.start = start
    n = seg.planned = len(seg.branches)
    for i, b in enumerate(seg.branches, 1):
        b.label = f"branch {prefix}{i} of {n}"
        _name_segments(b, f, f"{prefix}{i}.", start + len(seg.layers))


def _loop_note(layers: List[Layer], f: _File) -> Optional[str]:
    for layer in layers:
        if any(n is layer for n in layer.next):
            return f"{_feeds_itself(layer, f)}: it is simulated once"
    return None


def _module_plan(stack: Stack, f: _File) -> Plan:
    """A module's forward: a tree when its layers branch without rejoining, else the chain."""
    layers = stack.layers
    allowed = {id(x): x for x in layers}
    if any(len(_successors(x, allowed)) > 1 for x in layers):
        npred: Dict[int, int] = {}
        for x in allowed.values():
            for n in _successors(x, allowed):
                npred[id(n)] = npred.get(id(n), 0) + 1
        roots = [x for x in allowed.values() if not npred.get(id(x))]
        try:
            for x in allowed.values():
                if npred.get(id(x), 0) > 1:
                    raise _NotATree(_rejoins(x, f))
            if len(roots) > 1:
                raise _NotATree("the forward has more than one input, or the input of some "
                                "layers is not known")
            seg, seen = _tree(roots[0] if roots else layers[0], allowed, f)
            if len(seen) != len(allowed):
                raise _NotATree("the input of some layers is not known")
            return Plan(seg, stack.kind, stack.node, _loop_note(layers, f))
        except _NotATree as e:
            return Plan(Segment(list(layers)), stack.kind, stack.node,
                        f"{e}: simulated as one chain in forward order, not as branches")
    return Plan(Segment(list(layers)), stack.kind, stack.node, _loop_note(layers, f))


def _plans(network: Network, f: _File, skipped: List[Dict[str, Any]]) -> List[Plan]:
    """The network's stacks as simulate shows them. Functional chains (``chains()`` stops at a
    branch) are grown into the tree of their first layer's component along ``Layer.next``; a
    chain that is a branch of such a tree is listed in ``skipped``, naming the tree."""
    return _Planner(network, f, skipped).run()


class _Planner:
    """The state :func:`_plans` builds up: the layers outside sequential and module stacks
    (``free``), their predecessors, and the trees grown so far."""

    def __init__(self, network: Network, f: _File, skipped: List[Dict[str, Any]]) -> None:
        self.network = network
        self.f = f
        self.skipped = skipped
        self.in_stack = {id(x) for st in network.stacks for x in st.layers}
        fixed = {id(x) for st in network.stacks if st.kind != "functional" for x in st.layers}
        self.free = {id(x): x for x in network.layers if id(x) not in fixed}
        self.preds: Dict[int, List[Layer]] = {}
        for layer in self.free.values():
            for n in _successors(layer, self.free):
                self.preds.setdefault(id(n), []).append(layer)
        self.out: List[Plan] = []
        self.trees: Dict[int, Optional[Plan]] = {}  # root id -> its tree (None: not a tree)
        self.why: Dict[int, Optional[str]] = {}  # root id -> why it is not a tree
        self.owner: Dict[int, Plan] = {}  # layer id -> the tree that shows it

    def run(self) -> List[Plan]:
        f = self.f
        for stack in self.network.stacks:
            if stack.kind == "sequential":
                self.out.append(Plan(Segment(list(stack.layers)), stack.kind, stack.node,
                                     _loop_note(stack.layers, f)))
            elif stack.kind == "module":
                self.out.append(_module_plan(stack, f))
            else:
                self.functional(stack)
        self.lone_trunks()
        for plan in self.out:
            if plan.root.label == "trunk" and not plan.root.name:
                _name_segments(plan.root, f)
        return self.out

    def root_of(self, layer: Layer) -> Layer:
        seen: Set[int] = set()
        while len(self.preds.get(id(layer), [])) == 1 and id(layer) not in seen:
            seen.add(id(layer))
            layer = self.preds[id(layer)][0]
        return layer

    def grown(self, root: Layer) -> Tuple[Optional[Plan], Optional[str]]:
        """The tree from ``root``; or None, and why when its layers rejoin or loop."""
        reach: Dict[int, Layer] = {}
        todo = [root]
        while todo:
            x = todo.pop()
            if id(x) not in reach:
                reach[id(x)] = x
                todo.extend(_successors(x, self.free))
        try:
            seg, _ = _tree(root, reach, self.f)
        except _NotATree as e:
            return None, str(e)
        if not seg.branches:
            return None, None
        _name_segments(seg, self.f)
        return Plan(seg, "functional", root.node, _loop_note(list(reach.values()), self.f)), None

    def own(self, tree: Plan) -> None:
        self.out.append(tree)
        for x in tree.layer_ids():
            self.owner[x] = tree

    def tree_of(self, first: Layer) -> Tuple[Optional[Plan], Optional[str]]:
        """The tree a chain starting at ``first`` belongs to, grown on first use."""
        tree = self.owner.get(id(first))
        if tree is not None or id(first) not in self.free:
            return tree, None
        root = self.root_of(first)
        if id(root) not in self.trees:
            tree, why = self.grown(root)
            self.trees[id(root)], self.why[id(root)] = tree, why
            if tree is not None:
                self.own(tree)
        return self.trees[id(root)], self.why[id(root)]

    def functional(self, stack: Stack) -> None:
        first = stack.layers[0]
        tree, why = self.tree_of(first)
        note = _loop_note(stack.layers, self.f)
        if why:
            note = (f"{why}: only this unbranched chain is simulated, not the branches around "
                    "it")
        if tree is not None and all(id(x) in tree.layer_ids() for x in stack.layers):
            if first is not tree.root.layers[0]:
                seg = next(s for s in tree.root.walk() if any(x is first for x in s.layers))
                path, line = self.f.where(stack.node if stack.node is not None else first.node)
                self.skipped.append({
                    "path": path, "line": line, "what": "stack",
                    "reason": f"it is {seg.label} of the stack at "
                              f"{self.f.at(tree.node) or 'its start'}"})
            return
        self.out.append(Plan(Segment(list(stack.layers)), stack.kind, stack.node, note))

    def lone_trunks(self) -> None:
        """A trunk of one layer with branches of one layer: no chain of two, so no stack."""
        for layer in self.network.layers:
            lid = id(layer)
            if (lid in self.free and lid not in self.in_stack and lid not in self.owner
                    and not self.preds.get(lid) and len(_successors(layer, self.free)) > 1):
                tree, _ = self.grown(layer)
                if tree is not None:
                    self.own(tree)


# --- simulation ------------------------------------------------------------------------------


def _steps(seg: Segment, f: _File) -> None:
    """The segment's checker steps, actual and recommended; raises :class:`checker.Unsupported`
    naming the first layer that cannot be modelled and where it is."""
    seg.steps, seg.rec_steps = [], []
    for layer in seg.layers:
        try:
            one = checker.steps_for(Stack([layer]))
            rec = checker.steps_for(Stack([layer]), recommended_init)
            checker.analytic(one)  # an initializer without a variance fails here
            checker.analytic(rec)
        except checker.Unsupported as e:
            at = f.at(layer.node)
            raise checker.Unsupported(f"{e}; {layer.type_name} at {at}" if at else str(e))
        seg.steps.extend(one)
        seg.rec_steps.extend(rec)


def _rss(xs: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in xs))


def _combine(root: Segment, leaves: List[Tuple[List[Segment], checker.Result, checker.Result]]
             ) -> None:
    """Per segment: forward from the first path through it, backward summed over every path
    through it (independent gradients: the variances add)."""
    for seg in root.walk():
        through = [(segs, res, rec) for segs, res, rec in leaves if any(s is seg for s in segs)]
        offset = 0  # where the segment's layers start on the paths through it
        for s in through[0][0]:
            if s is seg:
                break
            offset += len(s.layers)
        layers = range(offset, offset + len(seg.layers))
        seg.result, seg.drift = _merge([res for _, res, _ in through], layers)
        seg.recommended, seg.rec_drift = _merge([rec for _, _, rec in through], layers)


def _merge(runs: List[checker.Result], layers: range
           ) -> Tuple[checker.Result, Tuple[float, float]]:
    """A segment's figures from the runs of the paths through it: forward from the first run,
    backward summed over all; and its (forward, backward) drift from the stack's first layer."""
    steps = []
    for k in layers:
        s0 = runs[0].steps[k]
        steps.append(checker.StepResult(s0.forward_std,
                                        _rss([r.steps[k].backward_std for r in runs]),
                                        s0.saturated, s0.dead))
    first_fwd = runs[0].steps[0].forward_std
    drift = (checker.ratio(steps[-1].forward_std, first_fwd),
             checker.ratio(_rss([r.steps[0].backward_std for r in runs]), steps[-1].backward_std))
    return checker.Result(steps), drift


def _simulate(plan: Plan, f: _File, mc: bool, seed: int, skipped: List[Dict[str, Any]]
              ) -> Optional[Simulated]:
    root = plan.root
    if not root.name:
        _name_segments(root, f)
    path, line = f.where(plan.node if plan.node is not None else root.layers[0].node)
    leaves: List[Tuple[List[Segment], checker.Result, checker.Result]] = []

    def visit(seg: Segment, above: List[Segment]) -> None:
        """Simulate the path from the stack's input to the end of ``seg``, then its branches;
        raises Unsupported when ``seg`` itself cannot be simulated."""
        _steps(seg, f)
        segs = above + [seg]
        res = run([st for s in segs for st in s.steps], mc, seed)
        rec = run([st for s in segs for st in s.rec_steps], mc, seed)
        kept = []
        for b in seg.branches:
            try:
                visit(b, segs)
                kept.append(b)
            except checker.Unsupported as e:
                skipped.append({"path": path, "line": line, "what": "branch",
                                "branch": b.title, "branch_line": b.line, "reason": str(e)})
        seg.branches = kept
        if not kept:
            leaves.append((segs, res, rec))

    try:
        visit(root, [])
    except checker.Unsupported as e:
        skipped.append({"path": path, "line": line, "what": "stack", "reason": str(e)})
        return None
    _combine(root, leaves)
    return Simulated(path, line, plan.kind, root, plan.note)


def simulate_file(path: str, mc: bool, seed: int, skipped: List[Dict[str, Any]]
                  ) -> List[Simulated]:
    with open(path, "rb") as fh:
        data = fh.read()
    nb = None
    if notebook.is_notebook(path):
        nb = notebook.load(data)
        text = nb.joined
    else:
        text = decode(data).text
    module = engine.parse(text)
    networks = []
    for reader in READERS:
        if any(t.decode() in text for t in reader.triggers):
            networks.append(reader.read(module, text))
    if not any(n.layers or n.stacks for n in networks):
        return []
    f = _File(path, module, nb)
    out: List[Simulated] = []
    shown: Dict[FrozenSet[int], Plan] = {}
    for network in networks:
        for plan in _plans(network, f, skipped):
            key = plan.layer_ids()
            if key in shown:
                p, ln = f.where(plan.node if plan.node is not None
                                else plan.root.layers[0].node)
                skipped.append({"path": p, "line": ln, "what": "stack",
                                "reason": "same layers as the stack at "
                                          f"{f.at(shown[key].node) or 'another line'}"})
                continue
            shown[key] = plan
            sim = _simulate(plan, f, mc, seed, skipped)
            if sim is not None:
                out.append(sim)
    return out


# --- output ----------------------------------------------------------------------------------


def _initializer_name(step: checker.Step) -> str:
    spec = step.init
    if spec.display:
        return spec.display
    if spec.family in ("he", "glorot", "lecun"):
        return f"{spec.family}_{'uniform' if spec.distribution == 'uniform' else 'normal'}"
    return spec.family


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "inf"
    if abs(x) >= 1000 or abs(x) < 0.001:
        return f"{x:.2e}"
    return f"{x:.3g}"


def _flag(s: checker.StepResult, first: float) -> str:
    flags = []
    if s.saturated > 0.10:
        flags.append(f"saturated {s.saturated:.0%}")
    if s.dead is not None and s.dead > 0.10:
        flags.append(f"dead {s.dead:.0%}")
    if first > 0 and s.forward_std / first >= 10:
        flags.append("exploding")
    elif first > 0 and s.forward_std / first <= 0.1:
        flags.append("vanishing")
    return ", ".join(flags)


def to_json(sims: List[Simulated], skipped: List[Dict[str, Any]], mc: bool) -> Dict[str, Any]:
    def layers(steps: List[checker.Step], result: checker.Result) -> List[Dict[str, Any]]:
        return [{"name": st.name, "kind": st.kind, "fan_in": st.fan_in, "fan_out": st.fan_out,
                 "activation": st.activation, "initializer": _initializer_name(st),
                 "forward_std": r.forward_std, "backward_std": r.backward_std,
                 "saturated": r.saturated, "dead": r.dead}
                for st, r in zip(steps, result.steps)]

    def segment(seg: Segment) -> Dict[str, Any]:
        return {
            "forward_drift": seg.drift[0], "backward_drift": seg.drift[1],
            "layers": layers(seg.steps, seg.figures),
            "recommended": {
                "forward_drift": seg.rec_drift[0],
                "backward_drift": seg.rec_drift[1],
                "forward_std": [r.forward_std for r in seg.rec_figures.steps],
                "backward_std": [r.backward_std for r in seg.rec_figures.steps],
            },
            "backward_from": seg.backward_from,
            "branches": [dict(label=b.label, name=b.name, line=b.line, **segment(b))
                         for b in seg.branches],
        }

    stacks = [{"path": s.path, "line": s.line, "kind": s.kind,
               "mode": "monte_carlo" if mc else "analytic", **segment(s.trunk), "note": s.note}
              for s in sims]
    return {"stacks": stacks, "skipped": skipped}


def _drifts(seg: Segment) -> str:
    return (f"forward drift {_fmt(seg.drift[0])}x, backward drift {_fmt(seg.drift[1])}x; "
            f"with initlint's recommendations {_fmt(seg.rec_drift[0])}x and "
            f"{_fmt(seg.rec_drift[1])}x")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}es" if word.endswith("ch") else f"{n} {word}s"


def write_text(sims: List[Simulated], skipped: List[Dict[str, Any]], out: TextIO,
               color: Optional[bool], mc: bool) -> None:
    from rich.console import Console

    # User text (paths, layer names, initializers) is printed as written: no markup, no emoji.
    console = Console(file=out, force_terminal=color is True, no_color=color is False,
                      width=120, highlight=False, markup=False, emoji=False)
    for s in sims:
        _write_stack(console, s, "Monte Carlo" if mc else "analytic")
    for sk in skipped:
        where = f"{sk['branch']} of the stack" if sk.get("what") == "branch" else "stack"
        _line(console, f"skipped: {where} at {sk['path']}:{sk['line']} ({sk['reason']})")
    if not sims and not skipped:
        console.print("No stacks found.")


def _line(console: Console, *parts: Union[str, Tuple[str, str]]) -> None:
    """Print plain text and (text, style) parts as one line."""
    from rich.text import Text

    # One line each, however long: the terminal wraps, and grep finds it whole.
    console.print(Text.assemble(*parts), soft_wrap=True)


def _write_stack(console: Console, s: Simulated, mode: str) -> None:
    """A stack's heading, then each segment's table and bars, one scale for them all."""
    first = s.result.steps[0].forward_std
    segs = list(s.trunk.walk())
    bar = _bars([r.forward_std for g in segs for r in g.figures.steps])
    at = (f"{s.path}:{s.line}", "bold")
    if not s.trunk.branches:
        _line(console, at, f"  {s.kind} stack, {len(s.steps)} layers ({mode}): "
                           f"{_drifts(s.trunk)}")
        if s.note:
            _line(console, f"note: {s.note}")
        _write_figures(console, s.trunk, first, bar)
        console.print()
        return
    gone = s.trunk.planned - len(s.trunk.branches)
    _line(console, at, f"  {s.kind} stack, {s.n_layers} layers ({mode}): a trunk of "
                       f"{_plural(len(s.steps), 'layer')}, then "
                       f"{_plural(s.trunk.planned, 'branch')} from its output"
                       + (f" ({gone} skipped, see below)" if gone else ""))
    for seg in segs:
        _line(console, *_segment_label(seg, seg is s.trunk))
        _write_figures(console, seg, first, bar)
        if seg.branches:
            end = "the trunk" if seg is s.trunk else seg.label
            _line(console, f"  backward at the end of {end}: {_backward_source(seg)}")
    console.print()


def _segment_label(seg: Segment, is_trunk: bool) -> Tuple[Tuple[str, str], str]:
    """What a segment of a stack with branches is: where its layers are, and its drifts."""
    n = len(seg.layers)
    where = f"layer {seg.start}" if n == 1 else f"layers {seg.start}-{seg.start + n - 1}"
    if is_trunk:
        return ("trunk", "bold"), f", {where}: {_drifts(seg)}"
    return (seg.title, "bold"), (f", {where}, from the output of layer {seg.start - 1}. From "
                                 f"layer 1 to the end of this branch: {_drifts(seg)}")


def _backward_source(seg: Segment) -> str:
    """Where the gradient at the end of a segment with branches comes from."""
    if len(seg.branches) == 1:
        return f"the gradient of its only simulated branch, {seg.branches[0].label}"
    return (f"the sum of the gradients of its {_plural(len(seg.branches), 'branch')}, taken "
            "as independent (their variances add)")


def _bars(values: Sequence[float]) -> Callable[[float], str]:
    """The bar of a forward std, on a log scale over ``values`` (decay and growth both show)."""
    def log(v: float) -> float:
        return math.log10(v) if v > 0 else -12.0

    logs = [log(v) for v in values]
    lo, hi = min(logs + [0.0]), max(logs + [0.0])
    span = (hi - lo) or 1.0
    return lambda v: "█" * max(1, int(round(1 + 39 * (log(v) - lo) / span)))


def _write_figures(console: Console, seg: Segment, first: float,
                   bar: Callable[[float], str]) -> None:
    """A segment's table, then a bar per layer."""
    from rich.table import Table
    from rich.text import Text

    t = Table(show_edge=False, pad_edge=False)
    for col in ("#", "layer", "fan in", "fan out", "activation", "initializer",
                "fwd std", "bwd std", "fwd std (rec.)", "flag"):
        t.add_column(col, justify="right" if col in (
            "#", "fan in", "fan out", "fwd std", "bwd std", "fwd std (rec.)") else "left")
    rows = zip(seg.steps, seg.figures.steps, seg.rec_figures.steps)
    for i, (st, r, rec) in enumerate(rows, seg.start):
        t.add_row(str(i), Text(st.name), str(st.fan_in), str(st.fan_out),
                  Text(st.activation), Text(_initializer_name(st)), _fmt(r.forward_std),
                  _fmt(r.backward_std), _fmt(rec.forward_std), _flag(r, first))
    console.print(t)
    for i, r in enumerate(seg.figures.steps, seg.start):
        _line(console, f"  {i:>3} {bar(r.forward_std)} {_fmt(r.forward_std)}")


def _mpl_text(s: str) -> str:
    """A label matplotlib shows as written: ``$`` would start mathtext, a leading ``_`` would
    hide the line from the legend."""
    s = s.replace("$", r"\$")
    return " " + s if s.startswith("_") else s


def write_png(sims: List[Simulated], path: str) -> None:
    # matplotlib is optional (initlint[plot]): mypy finds it only where it is installed.
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        click.echo("initlint: error: --png needs matplotlib: pip install 'initlint[plot]'",
                   err=True)
        sys.exit(EXIT_ERROR)
    fig, ax = plt.subplots(figsize=(7, 4))
    for s in sims:
        for segs in s.trunk.leaf_paths():
            name = f"{s.path}:{s.line}"
            if len(segs) > 1:
                name += f" {segs[-1].title}"
            fwd = [r.forward_std for g in segs for r in g.figures.steps]
            rec = [r.forward_std for g in segs for r in g.rec_figures.steps]
            depth = list(range(1, len(fwd) + 1))
            line, = ax.plot(depth, fwd, marker="o", label=_mpl_text(name))
            ax.plot(depth, rec, linestyle="--", color=line.get_color(),
                    label=_mpl_text(f"{name} (recommended)"))
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("pre-activation std")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)


@click.command(name="simulate", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--mc", is_flag=True, help="Sample real weights (Monte Carlo) instead of the "
              "closed form.")
@click.option("--seed", type=int, default=0, show_default=True, help="Monte-Carlo seed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--png", "png", type=click.Path(dir_okay=False), default=None,
              help="Also write a plot of forward std against depth (needs matplotlib).")
def simulate_cmd(paths: Sequence[str], mc: bool, seed: int, fmt: str, png: Optional[str]) -> None:
    """Show the forward and backward signal of every stack in PATHS, layer by layer."""
    try:
        targets = files.discover(list(paths) or ["."])
    except files.MissingPath as e:
        click.echo(f"initlint: error: {e.args[0]}: no such file or directory", err=True)
        sys.exit(EXIT_ERROR)
    sims: List[Simulated] = []
    skipped: List[Dict[str, Any]] = []
    failed = False
    for path in targets:
        try:
            sims.extend(simulate_file(path, mc, seed, skipped))
        except (SourceError, engine.ParseError, OSError) as e:
            click.echo(f"initlint: error: {path}: {e}", err=True)
            failed = True
    if fmt == "json":
        json.dump(to_json(sims, skipped, mc), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from .cli import _color

        write_text(sims, skipped, sys.stdout, _color(), mc)
    if png:
        write_png(sims, png)
    sys.exit(EXIT_ERROR if failed and not sims else EXIT_CLEAN)
