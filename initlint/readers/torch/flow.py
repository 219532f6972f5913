"""The data flow: tensors through layers, activations, normalizations, residual sums and
matrix products, so that each layer learns its activation, its successors and its place.

Inside a ``forward`` (or a function it calls), calling a module passes the signal through
it; in a script (a training loop), each call is a separate use of a finished model and
links nothing.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence, Union

import libcst as cst

from ...analysis import (UNKNOWN, Args, Const, FunctionV, InstanceV, OneOf, Seq, Site, Unknown,
                         Value)
from ...analysis.builtins import integer, number
from ...catalog import idioms
from ...catalog import torch as T
from ...model import Activation, Layer, Stack
from .inits import Inits
from .layers import Layers
from .names import NORM_FUNCTIONS
from .state import PassKey
from .values import (INERT, ActModV, ContainerV, DrawV, InertV, LayerFacts, LayerV, ModuleValue,
                     ParamV, PassModV, RawV, StatV, TensorV, TransposedV, unique)

class Flow(Inits, Layers):
    """Tensors and what they pass through."""

    # --- tensors ----------------------------------------------------------------------------

    def as_tensor(self, x: Optional[Value]) -> Optional[TensorV]:
        if isinstance(x, TensorV):
            return x
        if x is None or isinstance(x, (DrawV, Unknown, InertV)):
            return TensorV()
        if isinstance(x, OneOf):
            ts = [self.as_tensor(o) for o in x.options]
            known = [t for t in ts if t is not None]
            return self.join_tensors(known) if known else None
        return None

    def consume(self, v: Optional[Value]) -> None:
        """The tensor's value is used by something that is not a layer: its producers feed
        it."""
        if isinstance(v, TensorV):
            for p in v.producers:
                self.facts.of(p).consumed = True

    def join_tensors(self, ts: Sequence[TensorV]) -> TensorV:
        path = max((t.path for t in ts), key=len, default=())
        return TensorV(unique([p for t in ts for p in t.producers]),
                       unique([p for t in ts for p in t.awaiting]), path)

    def through(self, layer: Layer, t: TensorV) -> TensorV:
        for p in t.awaiting:
            if not p.activation.known:
                p.activation = Activation("linear", source="forward")
        for p in t.producers:
            if all(layer is not n for n in p.next):
                p.next.append(layer)
        if self.forward_stack and self.forward_layers:
            ls = self.forward_layers[-1]
            if all(layer is not x for x in ls):
                ls.append(layer)
        path = t.path + (layer,)
        self.facts.of(layer).applied = True
        if (layer.activation.known and layer.activation.source in ("default", "keyword")) or (
                layer.kind in ("recurrent", "attention")):
            return TensorV([layer], [], path)
        return TensorV([layer], [layer], path)

    def activate(self, x: Value, act: Activation) -> Value:
        t = self.as_tensor(x)
        if t is None:
            return UNKNOWN
        for p in t.awaiting:
            if not p.activation.known:
                p.activation = Activation(act.name, dict(act.params), act.source, act.node,
                                          act.via)
        return TensorV(list(t.producers), [], t.path)

    def normalize(self, t: Value) -> None:
        if isinstance(t, TensorV):
            for p in t.awaiting:
                p.normalized = True
            for p in t.producers:
                p.normalized_after = True

    def mark_output(self, t: Value) -> None:
        if isinstance(t, TensorV):
            for p in t.awaiting:
                if not p.activation.known:
                    p.activation = Activation("linear", source="forward")
            for p in t.producers:
                self.facts.of(p).output = True
        elif isinstance(t, Seq):
            for item in t.items:
                self.mark_output(item)
        elif isinstance(t, OneOf):
            for o in t.options:
                self.mark_output(o)

    def residual(self, a: TensorV, b: TensorV) -> TensorV:
        """``a + b``: when one side is a shortcut (at most one layer since the two diverged)
        and the other a longer branch, the branch's layers are a residual branch."""
        k = 0
        while k < min(len(a.path), len(b.path)) and a.path[k] is b.path[k]:
            k += 1
        ra, rb = a.path[k:], b.path[k:]
        branch = rb if len(ra) <= 1 and len(rb) > len(ra) else (
            ra if len(rb) <= 1 and len(ra) > len(rb) else ())
        for layer in branch:
            layer.residual_branch = True
        if branch or (a.producers and b.producers and any(
                all(p is not q for q in a.producers) for p in b.producers)) or (
                bool(a.producers) != bool(b.producers)):
            for p in a.producers + b.producers:
                p.residual_branch_end = True
        return TensorV(unique(a.producers + b.producers), unique(a.awaiting + b.awaiting),
                       a.path if len(a.path) >= len(b.path) else b.path)

    # --- arithmetic -------------------------------------------------------------------------

    def binop(self, op: str, a: Value, b: Value, site: Site) -> Optional[Value]:
        if isinstance(a, StatV) or isinstance(b, StatV):
            stat = self._statistic(op, a, b)
            if stat is not None:
                return stat
        if op == "@":
            return self.matmul(a, b, site)
        if op in ("*", "/"):
            return self._scale(op, a, b, site)
        if op in ("+", "-"):
            if isinstance(a, TensorV) and isinstance(b, TensorV):
                return self.residual(a, b)
            if isinstance(a, TensorV):
                self.add_bias(a, b)
                return a
            if isinstance(b, TensorV):
                self.add_bias(b, a)
                return b
            return None
        return a if isinstance(a, TensorV) else None

    def _statistic(self, op: str, a: Value, b: Value) -> Optional[Value]:
        """Arithmetic with a statistic: on statistics it stays one; a signal centred by its own
        statistic stays that signal, and divided by it (or multiplied by its inverse) it is
        renormalized. None when the other side is another signal."""
        if isinstance(a, StatV) and isinstance(b, StatV):
            return StatV(unique(a.producers + b.producers), [], a.path,
                         a.inverted if op in ("*", "+", "-") else a.inverted != (op == "/"))
        if isinstance(a, StatV) and not isinstance(b, TensorV):
            inv = a.inverted != (op == "**" and (number(b) or 0) < 0)
            return StatV(a.producers, [], a.path, inv)
        if isinstance(b, StatV) and not isinstance(a, TensorV):
            return StatV(b.producers, [], b.path, b.inverted != (op == "/"))
        t, s = (a, b) if isinstance(b, StatV) else (b, a)
        if not isinstance(t, TensorV) or not isinstance(s, StatV) or not _same_signal(t, s):
            return None
        if op in ("+", "-"):
            return t  # centred (x - mean) or shifted by its own statistic
        if (op == "/" and s is b and not s.inverted) or (op == "*" and s.inverted):
            self.normalize(t)
            return TensorV(list(t.producers), list(t.awaiting), t.path)
        return t

    def _scale(self, op: str, a: Value, b: Value, site: Site) -> Optional[Value]:
        draw = a if isinstance(a, DrawV) else b if isinstance(b, DrawV) else None
        if draw is not None:
            other = b if draw is a else a
            node = site.node if isinstance(site.node, cst.BinaryOperation) else None
            return self.scale_draw(draw, other, op == "/" and draw is a, node)
        raw = a if isinstance(a, RawV) else b if isinstance(b, RawV) else None
        if raw is not None:
            self.mark_scaled_at_use(raw.layer)  # equalized learning rate
            return raw
        if isinstance(a, TensorV) and isinstance(b, TensorV):
            return self._gate(a, b)
        t = a if isinstance(a, TensorV) else b if isinstance(b, TensorV) else None
        if t is None:
            return None
        # ``(x @ W) * c`` is ``x @ (W * c)``: a hand-made weight rescaled where it is used.
        for p in t.awaiting:
            if self.facts.of(p).raw:
                self.mark_scaled_at_use(p)
        return t

    def _gate(self, a: TensorV, b: TensorV) -> TensorV:
        """A gate or modulation without weight layers of its own scales the other side; two
        computed signals multiplied (a GLU, an SE gate on a branch, FiLM) gate each other."""
        if not a.producers and b.producers:
            return b
        if not b.producers and a.producers:
            return a
        _multiplies(a, b)
        self.consume(a)
        self.consume(b)
        return TensorV()

    # --- hand-made weights ------------------------------------------------------------------

    def matmul(self, a: Value, b: Value, site: Site) -> Value:
        """``x @ W`` (W is (in, out)) or ``W @ x`` (W is (out, in))."""
        w_right = b if _weightish(b) else None
        w_left = a if w_right is None and _weightish(a) else None
        if w_right is not None and self._not_a_weight(w_right):
            w_right = None
        if w_left is not None and self._not_a_weight(w_left):
            w_left = None
        if w_right is None and w_left is None:
            # Two computed tensors multiplied (attention's queries and keys, scores and
            # values): neither feeds the other as a layer's input.
            _multiplies(a, b)
            self.consume(a)
            self.consume(b)
            return TensorV()
        if isinstance(w_left, (RawV, DrawV)) and _framework(w_left) == "torch":
            # ``P @ x`` with a torch parameter on the left: learned queries or prototypes, not
            # a layer's weight (torch layers compute x @ W.T).
            self.consume(b)
            return TensorV()
        if isinstance(w_right, TransposedV):
            return self.use_raw(w_right.raw, a, -1, site)
        if isinstance(w_left, TransposedV):
            return self.use_raw(w_left.raw, b, 0, site)
        if isinstance(w_right, (DrawV, RawV)):
            return self.use_raw(w_right, a, 0, site)
        assert isinstance(w_left, (DrawV, RawV))
        return self.use_raw(w_left, b, -1, site)

    @staticmethod
    def _not_a_weight(v: Value) -> bool:
        """Named as learned tokens, queries or tables rather than a weight matrix, or as the
        data (``X``, ``X_train``, ``inputs``) a from-scratch script draws at random."""
        if isinstance(v, TransposedV):
            v = v.raw
        name = v.name if isinstance(v, DrawV) else v.layer.name if isinstance(v, RawV) else None
        if idioms.data_name((name or "").lower()):
            return True
        if isinstance(v, DrawV):
            return False  # a draw not yet kept as a parameter: only data names rule it out
        return idioms.not_a_weight_name(name)

    def functional_layer(self, kind: str, x: Optional[Value], w: Optional[Value], site: Site
                         ) -> Value:
        if isinstance(w, ParamV) and isinstance(w.owner, LayerV):
            return self.through(w.owner.layer, self.as_tensor(x) or TensorV())
        if isinstance(w, (DrawV, RawV)):
            return self.use_raw(w, x, 1, site, kind)
        self.consume(x)
        return TensorV()

    def use_raw(self, w: Union[DrawV, RawV], x: Optional[Value], fan_in_axis: int, site: Site,
                kind: str = "dense") -> Value:
        if isinstance(w, DrawV) and not (w.framework == "numpy" or w.requires_grad):
            # A torch or tf draw is a weight only when it is trainable (Parameter, Variable,
            # requires_grad); otherwise it is data or a fixed random projection.
            self.consume(x)
            return TensorV()
        raw = w if isinstance(w, RawV) else self.raw_from_draw(w, w.node, w.spec.display)
        layer = raw.layer
        facts = self.facts.of(layer)
        dims = facts.dims
        if not facts.used and len(dims) >= 2:
            _set_raw_fans(layer, facts, fan_in_axis, kind)
        if len(dims) >= 2 or facts.used:
            facts.used = True
        else:
            return TensorV()
        return self.through(layer, self.as_tensor(x) or TensorV())

    # --- calls of modules -------------------------------------------------------------------

    def call_module(self, m: Value, args: Args, site: Site) -> Value:
        """A module called: inside a forward, the signal flows; in a script (a training
        loop), each call is a separate use of a finished model and links nothing."""
        if not self.forward_stack:
            for a in args.values():
                self.consume(a)
            return TensorV()
        return self.apply_module(m, args, site)

    def apply_module(self, m: Value, args: Args, site: Site) -> Value:
        x = args.positional[0] if args.positional else None
        if isinstance(m, InstanceV):
            return self.inline_forward(m, args, site)
        t = self.as_tensor(x)
        if t is None:
            return UNKNOWN
        if isinstance(m, LayerV):
            return self.through(m.layer, t)
        if isinstance(m, ActModV):
            return self.activate(t, m.activation)
        if isinstance(m, PassModV):
            if m.kind == "norm":
                self.normalize(t)
            return t
        if isinstance(m, ContainerV):
            m.called = True
            if m.chain:
                return self.chain(m, t, site)
            self.consume(t)
            return TensorV()
        return UNKNOWN

    def chain(self, seq: ContainerV, t: TensorV, site: Site) -> TensorV:
        seq.called = True
        cur: Value = t
        for item in seq.items:
            if isinstance(item, (ModuleValue, InstanceV)):
                cur = self.apply_module(item, Args([cur]), site)
            else:
                self.consume(cur)
                cur = TensorV()
            if not isinstance(cur, TensorV):
                cur = self.as_tensor(cur) or TensorV()
        assert isinstance(cur, TensorV)
        return cur

    def inline_forward(self, inst: InstanceV, args: Args, site: Site) -> Value:
        fwd = self.ev.get_attribute(inst, "forward", site)
        x = args.positional[0] if args.positional else None
        if not isinstance(fwd, FunctionV):
            seq = inst.extra.get("container")
            t = self.as_tensor(x) or TensorV()
            if isinstance(seq, ContainerV):
                return self.chain(seq, t, site)
            self.consume(x)
            return TensorV()
        if any(inst is f for f in self.forward_stack):
            self.consume(x)
            return TensorV()
        inst.extra["forward_done"] = True
        if not isinstance(x, TensorV) and self.as_tensor(x) is not None and args.positional:
            args = Args([self.as_tensor(x) or TensorV()] + args.positional[1:],
                        dict(args.keywords), args.positional_nodes, dict(args.keyword_nodes),
                        args.star_unknown, args.kwargs_unknown)
        key = self._pass_key(inst, args)
        if key is not None:
            again = self._again(key, args.positional[0])
            if again is not None:
                return again
        self.forward_stack.append(inst)
        try:
            out = self.ev.call_function(fwd, args, site)
        finally:
            self.forward_stack.pop()
        if key is not None and isinstance(out, TensorV):
            x_in = args.positional[0]
            assert isinstance(x_in, TensorV)
            self.passes[key] = (x_in, out)
        return out

    def _pass_key(self, inst: InstanceV, args: Args) -> Optional[PassKey]:
        """What a module's forward depends on when it is given one tensor: the module, and
        the layers that tensor comes from and still awaits an activation for. A block
        repeated twelve times in a ``Sequential`` (one object, see the evaluator) is given
        the same tensor from its third pass on."""
        if len(args.positional) != 1 or args.keywords or args.star_unknown \
                or args.kwargs_unknown or not isinstance(args.positional[0], TensorV):
            return None
        x = args.positional[0]
        return (id(inst), tuple(id(p) for p in x.producers), tuple(id(p) for p in x.awaiting),
                self.ev.uncertain > 0)

    def _again(self, key: PassKey, x: Value) -> Optional[TensorV]:
        """The same pass as one made before in this forward: it would link, activate and
        mark the same layers, so only its output is made again, the path it adds included."""
        seen = self.passes.get(key)
        if seen is None or not isinstance(x, TensorV):
            return None
        x_in, out = seen
        n = len(x_in.path)
        if out.path[:n] != x_in.path:
            return None
        return TensorV(list(out.producers), list(out.awaiting), x.path + out.path[n:])

    def run_forward(self, inst: InstanceV, top: bool) -> None:
        site = self.ev.site(inst.cls.node)
        fwd = self.ev.get_attribute(inst, "forward", site)
        if not isinstance(fwd, FunctionV):
            return
        inst.extra["forward_done"] = True
        params = fwd.node.params
        n = len(params.posonly_params) + len(params.params) - 1
        self.forward_stack.append(inst)
        self.forward_layers.append([])
        self.passes.clear()
        try:
            out = self.ev.call_function(fwd, Args([TensorV() for _ in range(max(n, 0))]), site)
        finally:
            self.forward_stack.pop()
            ls = self.forward_layers.pop()
            self.passes.clear()
        if top:
            self.mark_output(out)
        if ls:
            self.stacks.append(Stack(ls, "module", inst.cls.node))

    # --- tensor methods and functions -------------------------------------------------------

    def tensor_method(self, t: TensorV, name: str, args: Args, site: Site) -> Value:
        if isinstance(t, StatV) and name in T.STATISTIC_FUNCTIONS:
            return StatV(t.producers, [], t.path, t.inverted != (name in T.INVERTING))
        if name in T.TENSOR_STATISTICS:
            return StatV(list(t.producers), list(t.awaiting), t.path)
        op = _METHOD_OPS.get(name.rstrip("_"))
        if op is not None and args.positional and isinstance(args.positional[0], StatV):
            out = self.binop(op, t, args.positional[0], site)  # x.div(std), x.sub(mean)
            if out is not None:
                return out
        if name in T.TENSOR_ACTIVATIONS:
            return self.activate(t, Activation(T.TENSOR_ACTIVATIONS[name], source="forward",
                                               node=site.node))
        if name in ("clamp", "clamp_", "clamp_min", "clamp_min_"):
            lo = args.get(0, "min")
            hi = args.get(1, "max")
            if number(lo) == 0 and (hi is None or (isinstance(hi, Const) and hi.value is None)):
                return self.activate(t, Activation("relu", source="forward", node=site.node))
        if name in T.MATMUL_METHODS and args.positional:
            return self.matmul(t, args.positional[0], site)
        if name in T.TENSOR_PASS or name in ("div", "mul", "add", "sub", "div_", "mul_", "add_",
                                             "sub_"):
            if name in ("add", "add_", "sub", "sub_") and args.positional and isinstance(
                    args.positional[0], TensorV):
                return self.residual(t, args.positional[0])
            return t
        self.consume(t)
        return TensorV()

    def functional(self, q: str, short: str, args: Args, site: Site) -> Optional[Value]:
        """``F.relu(x)``, ``torch.matmul(x, W)``, ``F.linear(x, w)``, ``torch.cat``, losses."""
        pos = args.positional
        act = self.functional_activation(q, short, args, site)
        if act is not None:
            x = pos[1] if q == "numpy.maximum" and len(pos) == 2 and number(pos[0]) is not None \
                else (pos[0] if pos else TensorV())
            return self.activate(x, act)
        if q in T.MATMUL_FUNCTIONS and len(pos) >= 2:
            return self.matmul(pos[0], pos[1], site)
        if q.startswith("torch.nn.functional.") and short in T.FUNCTIONAL_LAYERS and len(pos) >= 2:
            return self.functional_layer(short, pos[0], pos[1], site)
        return self._functional_pass(q, short, pos)

    def _functional_pass(self, q: str, short: str, pos: List[Value]) -> Optional[Value]:
        x = pos[0] if pos else None
        if q.startswith("torch.") and isinstance(x, TensorV):
            if short in T.TENSOR_STATISTICS and not isinstance(x, StatV):
                return StatV(list(x.producers), list(x.awaiting), x.path)
            if isinstance(x, StatV) and (short in T.STATISTIC_FUNCTIONS
                                         or short in T.TENSOR_STATISTICS):
                return StatV(x.producers, [], x.path, x.inverted != (short in T.INVERTING))
        if q.startswith(("torch.nn.functional.", "torch.")) and short in T.FUNCTIONAL_PASS:
            if short in NORM_FUNCTIONS and x is not None:
                self.normalize(x)
            return x if isinstance(x, TensorV) else UNKNOWN
        if q.startswith(("torch.", "numpy.", "tensorflow.")) and short in T.JOIN_FUNCTIONS:
            if not isinstance(x, Seq):
                return UNKNOWN
            return self.join_tensors([t for t in x.items if isinstance(t, TensorV)])
        if q in ("torch.einsum", "numpy.einsum") and len(pos) == 2 and isinstance(pos[1], TensorV):
            return pos[1]  # one operand: a transpose, reshape or reduction
        if q.startswith("torch.nn.functional.") and short in T.LOSS_FUNCTIONS:
            for a in pos:
                if isinstance(a, TensorV):
                    self.mark_output(a)
            return TensorV()
        return None

    def draw_method(self, d: DrawV, name: str, args: Args, site: Site) -> Value:
        pos = args.positional
        if name in T.TENSOR_INIT_METHODS:
            return self.tensor_init(d, name, args, site)
        if name == "requires_grad_":
            return self.raw_from_draw(d, self.ev.local_site(site).node, "requires_grad_")
        if name in ("mul_", "div_", "mul", "div"):
            node = site.node if isinstance(site.node, cst.BinaryOperation) else None
            scaled = self.scale_draw(d, pos[0] if pos else None, name.startswith("div"), node)
            if d.requires_grad and not name.endswith("_") and not site.module:
                scaled.non_leaf = site.node  # ``.mul(0.01)`` makes a new, non-leaf tensor
            return scaled
        if name in T.MATMUL_METHODS and pos:
            return self.matmul(TensorV(), pos[0], site)
        if name in ("detach", "contiguous", "to", "float", "cuda", "clone"):
            return d
        return INERT

    def raw_method(self, r: RawV, name: str, args: Args, site: Site) -> Value:
        pos = args.positional
        if name in T.TENSOR_INIT_METHODS:
            return self.tensor_init(r, name, args, site)
        if name in ("t", "transpose"):
            return TransposedV(r)
        if name in ("mul_", "div_"):
            self.rescale(r.layer, "kernel", pos[0] if pos else None, name == "div_")
            return r
        if name in ("dim", "ndimension"):
            return Const(len(self.facts.of(r.layer).dims) or None)
        if name in T.MATMUL_METHODS:
            return self.matmul(r, pos[0] if pos else UNKNOWN, site)
        if name in ("detach", "contiguous", "to", "float", "cuda", "clone", "requires_grad_"):
            return r
        return INERT


def _multiplies(*factors: Value) -> None:
    """The layers whose outputs are factors of a product scale a signal, not feed one."""
    for t in factors:
        if isinstance(t, TensorV):
            for p in t.producers:
                p.multiplies = True


def _weightish(v: Value) -> bool:
    return isinstance(v, (DrawV, RawV, TransposedV))


def _framework(v: Union[DrawV, RawV]) -> str:
    return v.framework if isinstance(v, DrawV) else v.layer.framework


def _set_raw_fans(layer: Layer, facts: LayerFacts, fan_in_axis: int, kind: str) -> None:
    dims = facts.dims
    ints = [integer(d[0]) for d in dims]
    rf: Optional[int] = 1
    if kind == "conv" and len(dims) > 2:
        rest: List[int] = [r for r in ints[2:] if r is not None]
        rf = math.prod(rest) if len(rest) == len(ints) - 2 else None
    if fan_in_axis == 0:
        fi, fo, fi_i = ints[0], ints[-1], 0
    elif fan_in_axis == 1:
        fi, fo, fi_i = ints[1], ints[0], 1
    else:
        fi, fo, fi_i = ints[-1], ints[0], len(dims) - 1
    w0 = layer.weights[0]
    w0.fan_in = None if fi is None or rf is None else fi * rf
    w0.fan_out = None if fo is None or rf is None else fo * rf
    w0.receptive = rf or 1
    layer.kind = "conv" if kind == "conv" else "dense"
    facts.fan_in_node = dims[fi_i][1]
    facts.fan_out_node = dims[0 if fi_i != 0 else -1][1]
    layer.out_features = fo


_METHOD_OPS = {"div": "/", "mul": "*", "sub": "-", "add": "+"}


def _same_signal(t: TensorV, s: StatV) -> bool:
    """Whether the statistic was taken of the signal itself: the same producing layers (or
    none on either side, a normalized input)."""
    if not t.producers and not s.producers:
        return True
    return any(p is q for p in t.producers for q in s.producers)
