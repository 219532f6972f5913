"""Fixes in the file's own PyTorch idiom: an ``nn.init`` call through the file's alias, an
in-place tensor method rewritten as an ``nn.init`` call, and a hand-drawn array scaled by its
fan-in (``np.random.randn(n_in, n_out) * np.sqrt(2 / n_in)``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

import libcst as cst

from ... import variance
from ...catalog import torch as T
from ...model import Edit, InitRequest, InitSpec, Layer, Spelling, Weight
from ..pyutil import ImportTable, dotted_name
from .values import DrawV, Facts


@dataclass
class TorchSpelling(Spelling):
    """Where and how a PyTorch initializer (an ``nn.init`` call, an in-place tensor method) or
    a hand-made draw was written, for a fix in the same idiom."""

    #: The ``nn.init`` call or the tensor method's call (``w.data.normal_(0, 0.02)``) a fix
    #: replaces; None when it is in another module.
    call: Optional[cst.CSTNode] = None
    #: The tensor expression the call sets (``self.fc.weight``, ``w.data``).
    target: Optional[cst.CSTNode] = None
    #: The ``nn.init`` function, under its current name (``xavier_uniform_``), or the tensor
    #: method (``normal_``).
    fn: Optional[str] = None
    #: The name as the file calls it: an ``nn.init`` name (deprecated ones too, which a fix
    #: checks the callee against), or a draw's qualified name (``torch.randn``).
    qualified: Optional[str] = None
    #: The call's arguments' expressions by parameter name.
    bound: Dict[str, Optional[cst.CSTNode]] = field(default_factory=dict)
    #: The call that draws a hand-made weight (``torch.randn(n_in, n_out)``); None when it is
    #: in another module.
    draw_call: Optional[cst.CSTNode] = None
    #: The draw's own distribution, before any scaling.
    base: Optional[InitSpec] = None
    #: The product that scales the draw (``torch.randn(...) * 0.01``), replaced whole by a fix.
    scaled: Optional[cst.CSTNode] = None


def imports_of(module: cst.Module) -> ImportTable:
    """The file's imports, wherever a statement makes them (functions and branches too)."""
    table = ImportTable()
    todo: List[Iterable[cst.CSTNode]] = [module.body]
    while todo:
        for stmt in todo.pop():
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        table.add(small)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.If, cst.For, cst.While,
                                   cst.With, cst.Try, cst.Else, cst.Finally, cst.ExceptHandler)):
                _suites(stmt, todo)
    return table


def _suites(stmt: cst.CSTNode, todo: List[Iterable[cst.CSTNode]]) -> None:
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite) and isinstance(body, cst.IndentedBlock):
        todo.append(body.body)
    for attr in ("orelse", "finalbody"):
        more = getattr(stmt, attr, None)
        if more is not None:
            todo.append([more])
    for h in getattr(stmt, "handlers", ()):
        todo.append([h])


class Renderer:
    """Renders a replacement initializer for a PyTorch or hand-drawn weight."""

    def __init__(self, module: cst.Module, quote: str) -> None:
        self.module = module
        self.quote = quote
        self.imports = imports_of(module)
        #: Layers each init call sets (by the call's node), filled by the reader.
        self.targets: Dict[int, List[Layer]] = {}
        #: What the reader knows of its layers (hand-made weights, their fans' expressions).
        self.facts = Facts()

    def source(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def qualify(self, node: cst.CSTNode) -> Optional[str]:
        d = dotted_name(node)
        if d is None:
            return None
        return self.imports.resolve(d) or d

    # --- messages ---------------------------------------------------------------------------

    def name_init(self, layer: Layer, req: InitRequest) -> str:
        """PyTorch's spelling of a recommendation, or the scale a hand-made weight needs."""
        if self.facts.of(layer).raw:
            return {"he": "scaling by √(2/fan_in)", "lecun": "scaling by √(1/fan_in)"}.get(
                req.family, "scaling by √(2/(fan_in+fan_out))")
        dist = "uniform" if req.distribution == "uniform" else "normal"
        if req.family == "he":
            return f"kaiming_{dist}_"
        if req.family == "lecun":
            return f"kaiming_{dist}_(nonlinearity='linear')"
        return f"xavier_{dist}_"

    # --- fixes ------------------------------------------------------------------------------

    def render(self, layer: Layer, weight: Weight, req: InitRequest) -> Optional[List[Edit]]:
        spec = weight.init
        shared = self.targets.get(id(spec.node), []) if spec.node is not None else []
        if any(t.activation.name != layer.activation.name for t in shared):
            return None  # one call sets layers that need different initializers
        sp = spec.spelling
        if not isinstance(sp, TorchSpelling):
            return None  # nothing a fix can replace (a helper's zeroing, an expression)
        if spec.written == "function_call" and sp.fn in T.INIT_FUNCTIONS:
            return self._init_call(sp, req, layer)
        if spec.written == "method_call":
            return self._method(sp, req, layer)
        if spec.written == "draw":
            return self._draw(layer, sp, req)
        return None

    def _init_alias(self) -> Optional[str]:
        aliases = self.imports.aliases
        for local, full in aliases.items():
            if full == "torch.nn.init":
                return local
        for local, full in aliases.items():
            if full == "torch.nn":
                return f"{local}.init"
        if aliases.get("torch") == "torch":
            return "torch.nn.init"
        return None

    def _init_text(self, alias: str, target: str, req: InitRequest, keep: List[str],
                   layer: Layer) -> str:
        q = self.quote
        dist = "uniform" if req.distribution == "uniform" else "normal"
        act = req.activation
        args = [target]
        if req.family == "he":
            fn = f"kaiming_{dist}_"
            slope = layer.activation.params.get("slope") if act in ("leaky_relu", "prelu") else None
            if slope is not None and slope > T.LEAKY_SLOPE:
                args.append(f"a={slope:g}")
                args.append(f"nonlinearity={q}leaky_relu{q}")
            else:
                args.append(f"nonlinearity={q}relu{q}")
        elif req.family == "lecun":
            fn = f"kaiming_{dist}_"
            args.append(f"nonlinearity={q}linear{q}")
        else:
            fn = f"xavier_{dist}_"
            if act == "tanh":
                args.append(f"gain={alias}.calculate_gain({q}tanh{q})")
        args.extend(keep)
        return f"{alias}.{fn}({', '.join(args)})"

    def _keep(self, bound: Dict[str, Optional[cst.CSTNode]], names: List[str]) -> List[str]:
        out = []
        for n in names:
            node = bound.get(n)
            if node is not None:
                out.append(f"{n}={self.source(node)}")
        return out

    def _init_call(self, sp: TorchSpelling, req: InitRequest, layer: Layer
                   ) -> Optional[List[Edit]]:
        call = sp.call
        target = sp.target
        if not isinstance(call, cst.Call) or target is None or not _written_in(target, call):
            return None
        callee = call.func
        if self.qualify(callee) != f"torch.nn.init.{sp.qualified}":
            return None  # called through a name the fix cannot keep (a partial, a parameter)
        if isinstance(callee, cst.Attribute):
            alias: Optional[str] = self.source(callee.value)
        else:
            alias = self._init_alias()
        if alias is None:
            return None
        bound = sp.bound
        if any(n is not None and not _written_in(n, call) for n in bound.values()):
            return None
        fn = sp.fn or ""
        keep = self._keep(bound, ["mode"]) if req.family == "he" and fn.startswith(
            "kaiming") else []
        keep += self._keep(bound, ["generator"])
        return [Edit(call, self._init_text(alias, self.source(target), req, keep, layer))]

    def _method(self, sp: TorchSpelling, req: InitRequest, layer: Layer
                ) -> Optional[List[Edit]]:
        alias = self._init_alias()
        target = sp.target
        call = sp.call
        if alias is None or target is None or not isinstance(call, cst.Call):
            return None
        keep = self._keep(sp.bound, ["generator"])
        return [Edit(call, self._init_text(alias, self.source(target), req, keep, layer))]

    def _draw(self, layer: Layer, sp: TorchSpelling, req: InitRequest) -> Optional[List[Edit]]:
        """Scale a hand-drawn weight: ``randn(n_in, n_out) * sqrt(2 / n_in)``. A U(0, 1) draw
        is centred first, and a zeros/ones draw becomes the framework's unit normal draw."""
        facts = self.facts.of(layer)
        fi_node = facts.fan_in_node
        fo_node = facts.fan_out_node
        call = sp.draw_call
        draw = facts.draw
        if fi_node is None or fo_node is None or not isinstance(call, cst.Call) or draw is None:
            return None
        got = self._unit(call, sp)
        if got is None:
            return None
        bare, var = got
        k = {"he": 2.0, "lecun": 1.0}.get(req.family, 2.0) / var
        if req.family in ("he", "lecun"):
            inner = f"{k:.6g} / {_paren(self.source(fi_node))}"
        else:
            inner = f"{k:.6g} / ({self.source(fi_node)} + {self.source(fo_node)})"
        sqrt = self._sqrt(layer.framework)
        scale = f"{sqrt}({inner})" if sqrt else f"({inner}) ** 0.5"
        text = f"{bare} * {scale}"
        if draw.requires_grad:
            # A scaled tensor is no longer a leaf: make it one again.
            text = f"({text}).requires_grad_()"
        scaled = sp.scaled
        target = scaled if isinstance(scaled, cst.BinaryOperation) else call
        return [Edit(target, text)]

    def leaf_fix(self, draw: DrawV) -> Optional[Edit]:
        """``torch.randn(n, m, requires_grad=True) * 0.01`` as a leaf:
        ``(torch.randn(n, m) * 0.01).requires_grad_()``. None when the draw was made in
        another module, or its ``requires_grad=True`` is not found in the expression."""
        expr = draw.non_leaf
        if expr is None or draw.spec.foreign:
            return None
        calls = [c for c in _calls(expr)
                 if any(a.keyword is not None and a.keyword.value == "requires_grad"
                        for a in c.args)]
        if len(calls) != 1:
            return None
        call = calls[0]
        args = [a for a in call.args
                if not (a.keyword is not None and a.keyword.value == "requires_grad")]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        bare = expr.deep_replace(call, call.with_changes(args=args))
        if not isinstance(bare, cst.BaseExpression):
            return None
        return Edit(expr, f"({self.source(bare)}).requires_grad_()")

    def _unit(self, call: cst.Call, sp: TorchSpelling) -> Optional[Tuple[str, float]]:
        """The draw as written without ``requires_grad``, made zero-mean, and its variance."""
        base = sp.base
        if base is None:
            return None
        args = [a for a in call.args if not (a.keyword and a.keyword.value == "requires_grad")]
        if args and len(args) != len(call.args):
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        if base.family == "constant":
            unit = self._unit_draw(call, args, sp.qualified or "")
            return (unit, 1.0) if unit is not None else None
        bare = self.source(call.with_changes(args=args))
        var = variance.weight_variance(base)
        if var is None or var <= 0:
            return None
        if abs(base.mean) > 1e-12:
            if (base.distribution, base.low, base.high) != ("uniform", 0.0, 1.0):
                return None
            return f"({bare} * 2 - 1)", 1 / 3
        return bare, var

    def _unit_draw(self, call: cst.Call, args: List[cst.Arg], q: str) -> Optional[str]:
        """``torch.zeros(a, b)`` -> ``torch.randn(a, b)``, ``np.zeros((a, b))`` ->
        ``np.random.standard_normal((a, b))``, ``tf.zeros([a, b])`` -> ``tf.random.normal(...)``."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        prefix = self.source(func.value)
        rest = ", ".join(self.source(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                         for a in args)
        if q in ("torch.zeros", "torch.ones"):
            return f"{prefix}.randn({rest})"
        if q in ("numpy.zeros", "numpy.ones") and len(args) == 1 and args[0].keyword is None:
            return f"{prefix}.random.standard_normal({rest})"
        if q in ("tensorflow.zeros", "tensorflow.ones") and len(args) == 1:
            return f"{prefix}.random.normal({rest})"
        return None

    def _sqrt(self, framework: str) -> Optional[str]:
        aliases = self.imports.aliases
        np_alias = next((k for k, v in aliases.items() if v == "numpy"), None)
        math_alias = next((k for k, v in aliases.items() if v == "math"), None)
        if framework == "numpy" and np_alias:
            return f"{np_alias}.sqrt"
        if math_alias:
            return f"{math_alias}.sqrt"
        if np_alias:
            return f"{np_alias}.sqrt"
        return None


def _written_in(node: cst.CSTNode, call: cst.Call) -> bool:
    """Whether ``node`` is one of the arguments written in ``call``."""
    return any(a.value is node for a in call.args)


def _paren(src: str) -> str:
    return src if re.fullmatch(r"[\w.]+", src) else f"({src})"


def _calls(node: cst.CSTNode) -> List[cst.Call]:
    """The calls inside ``node``, itself included."""
    found: List[cst.Call] = []

    class _Visitor(cst.CSTVisitor):
        def visit_Call(self, c: cst.Call) -> None:
            found.append(c)

    node.visit(_Visitor())
    return found
