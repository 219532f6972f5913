"""Expressions: literals, names, operators, containers, comprehensions, subscripts.

A mixin of :class:`~initlint.analysis.evaluator.Evaluator`; it relies on the evaluator's
``lookup``, ``get_attribute``, ``call``, ``assign`` and step accounting.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import libcst as cst

from .builtins import const, items_of, number
from .core import Core
from .values import (UNKNOWN, Args, Const, DictV, FunctionV, Opaque, Scope, Seq, Site, Unknown,
                     Value, same)


_BINOPS: Dict[type, Tuple[str, Callable[[Any, Any], Any]]] = {
    cst.Add: ("+", operator.add), cst.Subtract: ("-", operator.sub),
    cst.Multiply: ("*", operator.mul), cst.Divide: ("/", operator.truediv),
    cst.FloorDivide: ("//", operator.floordiv), cst.Modulo: ("%", operator.mod),
    cst.Power: ("**", operator.pow), cst.MatrixMultiply: ("@", operator.matmul),
    cst.BitAnd: ("&", operator.and_), cst.BitOr: ("|", operator.or_),
    cst.BitXor: ("^", operator.xor), cst.LeftShift: ("<<", operator.lshift),
    cst.RightShift: (">>", operator.rshift),
}
_AUG: Dict[type, Callable[[], cst.CSTNode]] = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
        cst.MultiplyAssign: cst.Multiply, cst.DivideAssign: cst.Divide,
        cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
        cst.PowerAssign: cst.Power, cst.MatrixMultiplyAssign: cst.MatrixMultiply,
        cst.BitAndAssign: cst.BitAnd, cst.BitOrAssign: cst.BitOr}
_COMPARE: Dict[type, Callable[[Any, Any], Any]] = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
}
#: Numbers past this magnitude are not model sizes: treat as unknown (and never build them).
_BIG = 10 ** 12
#: Values of literals by their text, for the process (bounded).
_LITERALS: Dict[Tuple[type, object], object] = {}
_LITERALS_SIZE = 65536
_MISSING = object()


def op_symbol(op: cst.CSTNode) -> str:
    return _BINOPS.get(type(op), ("?", operator.add))[0]


def aug_operator(op: cst.CSTNode) -> cst.CSTNode:
    cls = _AUG.get(type(op))
    return cls() if cls is not None else op


class Expressions(Core):
    """Expression evaluation."""

    def eval(self, node: Optional[cst.CSTNode], scope: Scope) -> Value:
        if node is None:
            return Const(None)
        self._steps += 1
        if not self._steps & 1023:
            self.check_budget()
        handler = _DISPATCH.get(type(node))
        if handler is None:
            return Unknown(f"{type(node).__name__} expression")
        return handler(self, node, scope)

    # --- atoms ------------------------------------------------------------------------

    def literal(self, node: cst.CSTNode) -> object:
        """A literal's value. libcst computes it with ``ast.literal_eval`` (a compile) each
        time; the same literal text is met at every call of the function it is in, and in
        every file, so values are kept for the process by their text."""
        text = getattr(node, "value", None)  # a ConcatenatedString has parts, not a value
        key = (type(node), text)
        value = _LITERALS.get(key, _MISSING) if isinstance(text, str) else _MISSING
        if value is not _MISSING:
            return value
        try:
            value = node.evaluated_value  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - malformed escapes or numbers: no value we can use
            value = _BAD
        if isinstance(text, str):
            if len(_LITERALS) >= _LITERALS_SIZE:
                _LITERALS.clear()
            _LITERALS[key] = value
        return value

    def _number(self, node: cst.CSTNode, scope: Scope) -> Value:
        value = self.literal(node)
        if isinstance(value, (int, float, complex)):
            return Const(value, node, module=self.path)
        return UNKNOWN

    def _string(self, node: cst.CSTNode, scope: Scope) -> Value:
        value = self.literal(node)
        if isinstance(value, (str, bytes)):
            return Const(value, node, module=self.path)
        return Unknown("string")

    def _name(self, node: cst.Name, scope: Scope) -> Value:
        return self.lookup(node.value, scope, node)

    def _attribute(self, node: cst.Attribute, scope: Scope) -> Value:
        base = self.eval(node.value, scope)
        return self.get_attribute(base, node.attr.value, self.site(node))

    def _lambda(self, node: cst.Lambda, scope: Scope) -> Value:
        fn = FunctionV(node, scope, self.path, "<lambda>")
        self.evaluate_defaults(fn, scope)
        return fn

    def _named(self, node: cst.NamedExpr, scope: Scope) -> Value:
        v = self.eval(node.value, scope)
        self.assign(node.target, v, scope, node)
        return v

    def _await(self, node: cst.Await, scope: Scope) -> Value:
        return self.eval(node.expression, scope)

    def _yield(self, node: cst.Yield, scope: Scope) -> Value:
        value = node.value
        if isinstance(value, cst.From):
            got = items_of(self, self.eval(value.item, scope))
            self.record_yield(got if got is not None else [UNKNOWN], got is not None)
        else:
            self.record_yield([self.eval(value, scope) if value is not None else Const(None)],
                              True)
        return UNKNOWN

    # --- operators --------------------------------------------------------------------

    def _binary(self, node: cst.BinaryOperation, scope: Scope) -> Value:
        a = self.eval(node.left, scope)
        b = self.eval(node.right, scope)
        return self.binop(node.operator, a, b, self.site(node))

    def binop(self, op: cst.CSTNode, a: Value, b: Value, site: Site) -> Value:
        sym, fn = _BINOPS.get(type(op), ("?", operator.add))
        if isinstance(a, Opaque):
            got = a.binop(self, sym, b, False, site)
            if got is not None:
                return got
        if isinstance(b, Opaque):
            got = b.binop(self, sym, a, True, site)
            if got is not None:
                return got
        if isinstance(a, Const) and isinstance(b, Const):
            return _fold(sym, fn, a, b, site)
        if isinstance(a, Seq) or isinstance(b, Seq):
            return self._seq_op(sym, a, b)
        if isinstance(a, DictV) and isinstance(b, DictV) and sym == "|":
            return DictV({**a.items, **b.items}, a.exact and b.exact)
        return UNKNOWN

    def _seq_op(self, sym: str, a: Value, b: Value) -> Value:
        if sym == "+" and isinstance(a, Seq) and isinstance(b, Seq):
            if len(a.items) + len(b.items) > self.limits.items:
                return Seq(a.items[:1], a.kind, exact=False)
            return Seq(a.items + b.items, a.kind, a.exact and b.exact)
        if sym == "*":
            seq, n = (a, number(b)) if isinstance(a, Seq) else (b, number(a))
            if isinstance(seq, Seq) and isinstance(n, int):
                if n * len(seq.items) > self.limits.items:
                    return Seq(seq.items[:1], seq.kind, exact=False)
                return Seq(seq.items * max(n, 0), seq.kind, seq.exact)
        return UNKNOWN

    def _unary(self, node: cst.UnaryOperation, scope: Scope) -> Value:
        v = self.eval(node.expression, scope)
        op = node.operator
        if isinstance(op, cst.Not):
            t = self.truth(v)
            return Unknown("not") if t is None else Const(not t)
        sym = {cst.Minus: "-", cst.Plus: "+", cst.BitInvert: "~"}.get(type(op), "?")
        if isinstance(v, Opaque):
            got = v.unary(self, sym, self.site(node))
            return got if got is not None else UNKNOWN
        n = v.value if isinstance(v, Const) else None
        if isinstance(n, (int, float)) and not isinstance(n, bool):
            out = {"-": -n, "+": n, "~": ~n if isinstance(n, int) else None}.get(sym)
            if out is not None:
                return Const(out, node, v.via if isinstance(v, Const) else (), self.path)
        return UNKNOWN

    def _boolean(self, node: cst.BooleanOperation, scope: Scope) -> Value:
        a = self.eval(node.left, scope)
        ta = self.truth(a)
        is_and = isinstance(node.operator, cst.And)
        if ta is not None and ta != is_and:
            return a  # ``False and x`` is False; ``True or x`` is True: x never runs
        b = self.eval(node.right, scope)
        if ta is not None:
            return b
        tb = self.truth(b)
        if tb is not None and tb != is_and:
            return Const(tb) if not is_and or tb is False else UNKNOWN
        return Unknown("boolean operation")

    def _comparison(self, node: cst.Comparison, scope: Scope) -> Value:
        left = self.eval(node.left, scope)
        result: Optional[bool] = True
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            r = self.compare(target.operator, left, right)
            if r is False:
                return Const(False)
            if r is None:
                result = None
            left = right
        return Const(result) if result is not None else Unknown("comparison")

    def compare(self, op: cst.CSTNode, a: Value, b: Value) -> Optional[bool]:
        if isinstance(op, (cst.Is, cst.IsNot)):
            r = _identity(a, b)
            if r is None:
                r = self._equals(a, b)
            return r if r is None or isinstance(op, cst.Is) else not r
        if isinstance(op, (cst.In, cst.NotIn)):
            r = self._contains(b, a)
            return r if r is None or isinstance(op, cst.In) else not r
        if isinstance(op, (cst.Equal, cst.NotEqual)) and (isinstance(a, Opaque)
                                                          or isinstance(b, Opaque)):
            r = self._equals(a, b)
            return r if r is None or isinstance(op, cst.Equal) else not r
        fn = _COMPARE.get(type(op))
        if fn is None or not (isinstance(a, Const) and isinstance(b, Const)):
            if isinstance(op, (cst.Equal, cst.NotEqual)) and a is b and not isinstance(a, Unknown):
                return isinstance(op, cst.Equal)
            return None
        try:
            return bool(fn(a.value, b.value))
        except TypeError:
            return None

    def _equals(self, a: Value, b: Value) -> Optional[bool]:
        """What a reader's value says of its equality with the other side."""
        if isinstance(a, Opaque):
            r = a.equals(self, b)
            if r is not None:
                return r
        return b.equals(self, a) if isinstance(b, Opaque) else None

    def _contains_opaque(self, container: Value, item: Opaque) -> Optional[bool]:
        """``item in container`` for a reader's value: asked of the item, item by item."""
        found = items_of(self, container)
        if found is None:
            return None
        answers = [self._equals(item, x) for x in found]
        if any(r is True for r in answers):
            return True
        exact = not isinstance(container, Seq) or container.exact
        return False if exact and all(r is False for r in answers) else None

    def _contains(self, container: Value, item: Value) -> Optional[bool]:
        if isinstance(item, Opaque):
            return self._contains_opaque(container, item)
        if isinstance(container, Const) and isinstance(container.value, str):
            if isinstance(item, Const) and isinstance(item.value, str):
                return item.value in container.value
            return None
        if isinstance(container, DictV):
            if isinstance(item, Const) and item.value in container.items:
                return True
            return False if container.exact and isinstance(item, Const) else None
        items = items_of(self, container)
        if items is None or not isinstance(item, Const):
            return None
        if any(same(item, x) for x in items):
            return True
        known = all(isinstance(x, Const) for x in items)
        return False if known and (not isinstance(container, Seq) or container.exact) else None

    # --- containers -------------------------------------------------------------------

    def _sequence(self, node: Union[cst.List, cst.Tuple, cst.Set], scope: Scope) -> Value:
        kind = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}[type(node)]
        out = Seq([], kind, node=node)
        for el in node.elements:
            v = self.eval(el.value, scope)
            if isinstance(el, cst.StarredElement):
                more = items_of(self, v)
                if more is None:
                    out.exact = False
                    continue
                out.items.extend(more)
            else:
                out.items.append(v)
        if len(out.items) > self.limits.items:
            return Seq(out.items[:1], kind, exact=False, node=node)
        return out

    def _dict(self, node: cst.Dict, scope: Scope) -> Value:
        out = DictV(node=node)
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                v = self.eval(el.value, scope)
                if isinstance(v, DictV):
                    out.items.update(v.items)
                    out.exact = out.exact and v.exact
                else:
                    out.exact = False
                continue
            assert isinstance(el, cst.DictElement)
            key = self.eval(el.key, scope)
            value = self.eval(el.value, scope)
            if isinstance(key, Const) and _hashable(key.value):
                out.items[key.value] = value
            else:
                out.exact = False
        return out

    def _comprehension(self, node: Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp], scope: Scope) -> Value:
        inner = Scope("function", scope, scope.module_scope)
        rows, exact = self.comprehend(node.for_in, inner, [])
        if isinstance(node, cst.DictComp):
            out = DictV(node=node, exact=exact)
            for row in rows:
                k = self.eval(node.key, row)
                if isinstance(k, Const) and _hashable(k.value):
                    out.items[k.value] = self.eval(node.value, row)
                else:
                    out.exact = False
            return out
        kind = "set" if isinstance(node, cst.SetComp) else "list"
        return Seq([self.eval(node.elt, row) for row in rows], kind, exact, node)

    def comprehend(self, comp: Optional[cst.CompFor], scope: Scope,
                   rows: List[Scope]) -> Tuple[List[Scope], bool]:
        """One scope per iteration of the comprehension's loops (filters applied where
        known); ``exact`` is False when a loop or a filter was not known."""
        if comp is None:
            return [scope], True
        it = self.eval(comp.iter, scope)
        items = items_of(self, it)
        limit = self.unroll_limit(it)
        exact = items is not None and len(items) <= limit
        if not exact:
            items = (it.items[:1] if isinstance(it, Seq) and it.items else [UNKNOWN])
        out: List[Scope] = []
        for item in items or []:
            row = Scope("function", scope, scope.module_scope)
            self.assign(comp.target, item, row, comp)
            keep = True
            for cond in comp.ifs:
                t = self.truth(self.eval(cond.test, row))
                exact = exact and t is not None
                keep = keep and t is not False
            if keep:
                more, sub_exact = self.comprehend(comp.inner_for_in, row, rows)
                out.extend(more)
                exact = exact and sub_exact
            if len(out) > limit:
                return out[:limit], False
        return out, exact

    # --- subscripts and conditionals --------------------------------------------------

    def _subscript(self, node: cst.Subscript, scope: Scope) -> Value:
        base = self.eval(node.value, scope)
        keys = [self._index(el.slice, scope) for el in node.slice]
        key = keys[0] if len(keys) == 1 else Seq(keys, "tuple")
        return self.subscript(base, key, self.site(node))

    def _index(self, sl: cst.BaseSlice, scope: Scope) -> Value:
        if isinstance(sl, cst.Index):
            return self.eval(sl.value, scope)
        assert isinstance(sl, cst.Slice)
        parts = [self.eval(p, scope) if p is not None else Const(None)
                 for p in (sl.lower, sl.upper, sl.step)]
        return Seq(parts, "slice")

    def subscript(self, base: Value, key: Value, site: Site) -> Value:
        if isinstance(base, Opaque):
            got = base.subscript(self, key, site)
            return got if got is not None else UNKNOWN
        if isinstance(base, DictV):
            if isinstance(key, Const) and _hashable(key.value) and key.value in base.items:
                return base.items[key.value]
            return UNKNOWN
        if isinstance(base, Seq):
            return _index_seq(base, key)
        if isinstance(base, Const) and isinstance(base.value, (str, bytes)):
            i = number(key)
            if isinstance(i, int) and -len(base.value) <= i < len(base.value):
                return const(base.value[i])
        return UNKNOWN

    def _ifexp(self, node: cst.IfExp, scope: Scope) -> Value:
        t = self.truth(self.eval(node.test, scope))
        if t is True:
            return self.eval(node.body, scope)
        if t is False:
            return self.eval(node.orelse, scope)
        return self.join(self.eval(node.body, scope), self.eval(node.orelse, scope))

    def _formatted(self, node: cst.CSTNode, scope: Scope) -> Value:
        return Unknown("formatted string")

    def call_args(self, call: cst.Call, scope: Scope) -> Args:
        """Evaluate a call's arguments, expanding ``*`` and ``**`` where their values are
        known."""
        out = Args()
        for arg in call.args:
            v = self.eval(arg.value, scope)
            if arg.star == "*":
                self._star(out, v)
            elif arg.star == "**":
                self._double_star(out, v)
            elif arg.keyword is not None:
                out.keywords[arg.keyword.value] = v
                out.keyword_nodes[arg.keyword.value] = arg.value
            else:
                out.positional.append(v)
                out.positional_nodes.append(arg.value)
        return out

    def _star(self, out: Args, v: Value) -> None:
        items = items_of(self, v)
        if items is None or out.star_unknown:
            out.star_unknown = True
            known = items if items is not None else (v.items if isinstance(v, Seq) else [])
            out.star_items.extend(known[: max(0, self.limits.items - len(out.star_items))])
            return
        out.positional.extend(items)
        out.positional_nodes.extend([None] * len(items))

    def _double_star(self, out: Args, v: Value) -> None:
        if not isinstance(v, DictV):
            out.kwargs_unknown = True
            return
        for k, item in v.items.items():
            if isinstance(k, str):
                out.keywords[k] = item
                out.keyword_nodes[k] = None
        out.kwargs_unknown = out.kwargs_unknown or not v.exact


_BAD = object()


def _fold(sym: str, fn: Callable[[Any, Any], Any], a: Const, b: Const, site: Site) -> Value:
    x, y = a.value, b.value
    if sym == "**" and isinstance(y, (int, float)) and abs(y) > 64:
        return UNKNOWN
    if sym == "*" and (isinstance(x, (str, bytes)) or isinstance(y, (str, bytes))):
        n = y if isinstance(x, (str, bytes)) else x
        if not isinstance(n, int) or n > 4096:
            return UNKNOWN
    try:
        out = fn(x, y)
    except Exception:  # noqa: BLE001 - any error of the user's arithmetic: unknown
        return UNKNOWN
    if isinstance(out, (int, float)) and not isinstance(out, bool) and abs(out) > _BIG:
        return UNKNOWN
    return Const(out, site.node, a.via or b.via, a.module)


def _identity(a: Value, b: Value) -> Optional[bool]:
    a_none = isinstance(a, Const) and a.value is None
    b_none = isinstance(b, Const) and b.value is None
    if a_none and b_none:
        return True
    if a_none or b_none:
        other = b if a_none else a
        if isinstance(other, Unknown):
            return None
        if isinstance(other, Opaque):
            return False
        return False if not isinstance(other, Const) or other.value is not None else True
    if isinstance(a, Const) and isinstance(b, Const) and isinstance(a.value, bool):
        return a.value is b.value
    return True if a is b and not isinstance(a, Unknown) else None


def _hashable(v: object) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _index_seq(base: Seq, key: Value) -> Value:
    if isinstance(key, Seq) and key.kind == "slice":
        parts = [p.value if isinstance(p, Const) else UNKNOWN for p in key.items]
        if not base.exact or any(p is UNKNOWN or not isinstance(p, (int, type(None)))
                                 for p in parts):
            return Seq(base.items[:1], base.kind, exact=False)
        lo, hi, step = (p if isinstance(p, int) else None for p in parts)
        return Seq(base.items[lo:hi:step], base.kind)
    i = number(key)
    if not isinstance(i, int):
        return UNKNOWN
    if base.exact and -len(base.items) <= i < len(base.items):
        return base.items[i]
    return UNKNOWN


#: Unbound methods of the evaluator's parts (the first argument is the evaluator).
#: An expression handler; each takes the node type it is registered for.
_Handler = Callable[[Any, Any, Scope], Value]
_DISPATCH: Dict[type, _Handler] = {
    cst.Integer: Expressions._number, cst.Float: Expressions._number,
    cst.Imaginary: Expressions._number,
    cst.SimpleString: Expressions._string, cst.ConcatenatedString: Expressions._string,
    cst.FormattedString: Expressions._formatted,
    cst.Name: Expressions._name, cst.Attribute: Expressions._attribute,
    cst.BinaryOperation: Expressions._binary, cst.UnaryOperation: Expressions._unary,
    cst.BooleanOperation: Expressions._boolean, cst.Comparison: Expressions._comparison,
    cst.List: Expressions._sequence, cst.Tuple: Expressions._sequence,
    cst.Set: Expressions._sequence, cst.Dict: Expressions._dict,
    cst.ListComp: Expressions._comprehension, cst.SetComp: Expressions._comprehension,
    cst.GeneratorExp: Expressions._comprehension, cst.DictComp: Expressions._comprehension,
    cst.Subscript: Expressions._subscript, cst.IfExp: Expressions._ifexp,
    cst.Lambda: Expressions._lambda, cst.NamedExpr: Expressions._named,
    cst.Await: Expressions._await, cst.Yield: Expressions._yield,
}


def register_call(handler: _Handler) -> None:
    """The evaluator's call handler lives in the calls mixin."""
    _DISPATCH[cst.Call] = handler


__all__ = ["Expressions", "aug_operator", "op_symbol", "register_call", "Sequence"]
