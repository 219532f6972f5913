"""The evaluator: a small, bounded abstract interpreter over a libcst module.

It knows Python and nothing about frameworks. It runs a module's statements in order with
abstract values (:mod:`~initlint.analysis.values`), follows calls into the module's own
functions and classes (and into the linted tree's other modules, through :class:`Resolver`),
unrolls loops over known iterables, runs both sides of a branch it cannot decide and joins
what they bound, and asks its :class:`~initlint.analysis.host.Host` (a reader) about
everything outside the linted code. It never imports or runs user code.
"""

from __future__ import annotations

import builtins
import collections
import re
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union, cast

import libcst as cst

from .builtins import BUILTINS, items_of
from .calls import Calls, Frame, LazyName, ModuleValue
from .expressions import Expressions, aug_operator, register_call
from .context import Resolver, current
from .host import Host, Limits
from .imports import Imports, _dotted
from .values import (UNKNOWN, Args, ClassV, Const, DictV, External, FunctionV, InstanceV, OneOf, Opaque,
                     Scope, Seq, Site, Step, Unknown, Value, same)


#: Every name Python's builtins module defines (``super``, ``iter``, ``map``, ...).
_PYTHON_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))

#: A value that is one of more alternatives than this is unknown.
_MAX_OPTIONS = 4


class BudgetExceeded(Exception):
    """The file took more steps or time than the limits allow."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Evaluator(Imports, Expressions, Calls):
    """Evaluates one module for one host."""

    def __init__(self, module: cst.Module, host: Host, path: str = "",
                 resolver: Optional[Resolver] = None, limits: Optional[Limits] = None,
                 source: str = "") -> None:
        self.module = module
        #: The file's text, when the reader has it (for :meth:`read_later`).
        self.source = source
        self._names: Optional[collections.Counter[str]] = None
        self.host = host
        #: "" for the file being read; a path for another module of the tree.
        self.path = ""
        ctx = current()
        self.file_path = path or (ctx.path if ctx is not None else "")
        self.resolver = resolver if resolver is not None else (
            ctx.resolver if ctx is not None else None)
        self.limits = limits or Limits()
        self.scope = Scope("module")
        self.frames: List[Frame] = []
        #: >0 while running a branch whose condition is not known.
        self.uncertain = 0
        self.called: Set[int] = set()
        self.defaults: Dict[int, Dict[str, Value]] = {}
        #: Functions and classes defined at the top level of the file, in order.
        self.functions: List[FunctionV] = []
        self.classes: List[ClassV] = []
        #: Classes of the run's other modules that this file instantiates, in order.
        self.imported_classes: List[ClassV] = []
        #: Why the evaluation stopped early (None when it ran to the end).
        self.truncated: Optional[str] = None
        self._steps = 0
        self._sites: Dict[Tuple[int, str], Site] = {}
        self._deadline = 0.0
        self._modules: Dict[str, Optional[ModuleValue]] = {}
        self._loop_levels: List[int] = []
        self.building = 0
        self.calling: Optional[External] = None
        #: True while the functions no one called run (see :attr:`Limits.same_function`).
        self.entries = False
        #: What initlint itself is building or calling because nothing in the linted files
        #: does (``Encoder``, ``build_model()``), while it runs; "" otherwise.
        self.assumed = ""
        #: Outermost constructions begun so far, and the objects of each by what made them.
        self.construction = 0
        self.constructions: Dict[Tuple[object, ...], InstanceV] = {}
        self._loading = 0
        self.same_calls: Dict[Tuple[int, int], int] = {}
        #: Modules imported with ``*`` that are not the linted tree's.
        self.star_modules: List[str] = []

    # --- driving ----------------------------------------------------------------------

    def run(self) -> None:
        """Run the module's top level."""
        self._deadline = time.perf_counter() + self.limits.seconds
        self.guarded(lambda: self.exec_suite(self.module.body, self.scope))

    def guarded(self, fn: Callable[[], object]) -> None:
        """Run ``fn``; past the limits, stop and remember why."""
        if self.truncated is not None:
            return
        try:
            fn()
        except BudgetExceeded as e:
            self.truncated = str(e)
        except RecursionError:
            self.truncated = "nesting too deep"
        if self.truncated is not None:
            ctx = current()
            if ctx is not None:
                ctx.notes.append(f"the analysis {self.truncated}; findings come from what it "
                                 f"had read")

    def run_uncalled(self) -> None:
        """Run each top-level function no one called, with its defaults (a helper that is
        only called from another file still gets read)."""
        self.entries = True
        try:
            for fn in self.functions:
                if id(fn.node) not in self.called:
                    self.assumed = f"{fn.qualname.rsplit('.', 1)[-1]}()"
                    self.guarded(self._caller(fn))
        finally:
            self.entries = False
            self.assumed = ""

    def _caller(self, fn: FunctionV) -> Callable[[], object]:
        return lambda: self.call_function(fn, Args(), self.site(fn.node))

    def tick(self) -> None:
        self._steps += 1
        if not self._steps & 1023:
            self.check_budget()

    def check_budget(self) -> None:
        """Past the limits on steps or time, stop (checked every 1024 steps)."""
        if self._steps > self.limits.steps:
            raise BudgetExceeded(f"stopped after {self.limits.steps} evaluation steps")
        if self._deadline and time.perf_counter() > self._deadline:
            raise BudgetExceeded(f"stopped after {self.limits.seconds:g} s")

    def site(self, node: cst.CSTNode) -> Site:
        # A Site holds its node, so the node's id is not reused while the Site is kept.
        key = (id(node), self.path)
        got = self._sites.get(key)
        if got is None:
            got = self._sites[key] = Site(node, self.path)
        return got

    def local_site(self, site: Site) -> Site:
        """The place in the file being read that ``site`` happens for: ``site`` itself, or
        the call in this file that led into another module's code."""
        if not site.module:
            return site
        for frame in reversed(self.frames):
            if not frame.site.module:
                return frame.site
        return site

    def building_alone(self) -> bool:
        """Is initlint building a class nothing in the linted files builds, and is the code
        running that class's own constructor (not a submodule's of a model it builds)?"""
        inits = [f.function.qualname for f in self.frames
                 if f.function.qualname.endswith(".__init__")]
        return bool(self.assumed) and all(q.split(".")[0] == self.assumed for q in inits[-1:])

    def call_sites(self) -> List[Site]:
        """The calls that led here, outermost first."""
        return [f.site for f in self.frames]

    # --- statements -------------------------------------------------------------------

    def exec_suite(self, body: object, scope: Scope) -> None:
        if type(body) in _SUITES:  # not isinstance: libcst's bases are slow ABCs
            stmts: Sequence[cst.CSTNode] = body.body  # type: ignore[attr-defined]
        else:
            stmts = body  # type: ignore[assignment]
        for stmt in stmts:
            self.exec_statement(stmt, scope)

    def exec_statement(self, stmt: cst.CSTNode, scope: Scope) -> None:
        self._steps += 1
        if not self._steps & 1023:
            self.check_budget()
        handler = _STATEMENTS.get(type(stmt))
        if handler is not None:
            handler(self, stmt, scope)

    def _simple_line(self, stmt: cst.SimpleStatementLine, scope: Scope) -> None:
        for small in stmt.body:
            handler = _SMALL.get(type(small))
            if handler is not None:
                handler(self, small, scope)

    def _expr(self, small: cst.Expr, scope: Scope) -> None:
        self.eval(small.value, scope)

    def _assign(self, small: cst.Assign, scope: Scope) -> None:
        if type(small.value) is cst.Call and self._top_level(scope) and all(
                type(t.target) is cst.Name and not self.read_later(t.target.value)
                for t in small.targets):
            value = self._call_unless_unread(small.value, scope)
        else:
            value = self.eval(small.value, scope)
        for t in small.targets:
            self.assign(t.target, value, scope, small)

    def _top_level(self, scope: Scope) -> bool:
        return scope is self.scope and not self.frames and not self.path

    def read_later(self, name: str) -> bool:
        """Whether the file's text names ``name`` more than once (where it is set): a name
        written once is never read by the file's own code."""
        if self._names is None:
            self._names = collections.Counter(_IDENTIFIER.findall(self.source)) \
                if self.source else None
            if self._names is None:
                return True
        return self._names[name] > 1

    def _call_unless_unread(self, call: cst.Call, scope: Scope) -> Value:
        """A call at the top level of the file whose result goes to a name nothing reads.
        One of another module's functions, given plain data only (a model zoo building the
        table of its pretrained configurations), changes nothing of this file and builds
        nothing this file reports: it is not read. Every other call is (and so is a call
        made as a statement, for what it does)."""
        self.tick()
        callee = self.eval(call.func, scope)
        unread = Unknown(f"result of {callee.describe()}, which the file does not read")
        plumbing = isinstance(callee, FunctionV) and callee.module and callee.bound is None
        if plumbing and all(_plain_syntax(a.value, scope, 0) for a in call.args):
            # Its arguments are literal data and calls of this file's functions (read on
            # their own, as functions no one called): not even they are read here.
            return unread
        args = self.call_args(call, scope)
        if plumbing and all(_plain(v, 0) for v in args.values() + args.star_items):
            return unread
        return self.call(callee, args, self.site(call))

    def _ann_assign(self, small: cst.AnnAssign, scope: Scope) -> None:
        if small.value is not None:
            self.assign(small.target, self.eval(small.value, scope), scope, small)

    def _aug_assign(self, small: cst.AugAssign, scope: Scope) -> None:
        left = self.eval(small.target, scope)
        right = self.eval(small.value, scope)
        if isinstance(small.operator, cst.AddAssign) and isinstance(left, Seq) \
                and left.kind == "list":
            more = items_of(self, right)
            if more is None:
                left.exact = False
            else:
                left.items.extend(more[: max(0, self.limits.items - len(left.items))])
            return
        value = self.binop(aug_operator(small.operator), left, right, self.site(small))
        self.assign(small.target, value, scope, small)

    def _return(self, small: cst.Return, scope: Scope) -> None:
        value = self.eval(small.value, scope) if small.value is not None else Const(None)
        if self.frames:
            fn = self.frames[-1].function
            if isinstance(value, Const):
                value = value.with_step(Step("return", "", fn.qualname))
        self.record_return(value)

    def _global(self, small: Union[cst.Global, cst.Nonlocal], scope: Scope) -> None:
        names = {n.name.value for n in small.names}
        if isinstance(small, cst.Global):
            scope.global_names |= names
        else:
            scope.nonlocal_names |= names

    def _break(self, small: cst.CSTNode, scope: Scope) -> None:
        if not self.uncertain_here():
            raise _Break()

    def _continue(self, small: cst.CSTNode, scope: Scope) -> None:
        if not self.uncertain_here():
            raise _Continue()

    def uncertain_here(self) -> bool:
        return self.uncertain > (self._loop_levels[-1] if self._loop_levels else 0)

    # --- assignment -------------------------------------------------------------------

    def assign(self, target: cst.CSTNode, value: Value, scope: Scope, stmt: cst.CSTNode) -> None:
        site = self.site(stmt)
        if isinstance(target, cst.Name):
            scope.bind(target.value, value)
            self.host.bound(self, target.value, value, site)
        elif isinstance(target, cst.Attribute):
            owner = self.eval(target.value, scope)
            self.set_attribute(owner, target.attr.value, value, site)
        elif isinstance(target, cst.Subscript):
            self._set_item(target, value, scope, site)
        elif isinstance(target, (cst.Tuple, cst.List)):
            self._unpack(target, value, scope, stmt)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, scope, stmt)

    def _set_item(self, target: cst.Subscript, value: Value, scope: Scope, site: Site) -> None:
        owner = self.eval(target.value, scope)
        if len(target.slice) != 1:
            return
        key = self._index(target.slice[0].slice, scope)
        if isinstance(owner, DictV):
            if isinstance(key, Const) and isinstance(key.value, (str, int, float, bool)):
                owner.items[key.value] = value
            else:
                owner.exact = False
        elif isinstance(owner, Seq) and isinstance(key, Const) and isinstance(key.value, int):
            if owner.exact and -len(owner.items) <= key.value < len(owner.items):
                owner.items[key.value] = value
        elif isinstance(owner, Opaque):
            owner.set_item(self, key, value, site)
        elif not isinstance(owner, Seq):
            self.escape(value, site)  # stored in something not followed: handed to unseen code

    def _unpack(self, target: cst.BaseExpression, value: Value, scope: Scope,
                stmt: cst.CSTNode) -> None:
        assert isinstance(target, (cst.Tuple, cst.List))
        items = items_of(self, value)
        elements = list(target.elements)
        star = next((i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)), None)
        if items is None or (star is None and len(items) != len(elements)) \
                or (star is not None and len(items) < len(elements) - 1):
            for el in elements:
                fill = value if isinstance(value, Opaque) else Unknown("unpacking")
                self.assign(el.value, fill, scope, stmt)
            return
        if star is None:
            for el, v in zip(elements, items):
                self.assign(el.value, v, scope, stmt)
            return
        tail = len(elements) - star - 1
        for el, v in zip(elements[:star], items[:star]):
            self.assign(el.value, v, scope, stmt)
        middle = items[star: len(items) - tail]
        self.assign(elements[star].value, Seq(list(middle), "list"), scope, stmt)
        for el, v in zip(elements[star + 1:], items[len(items) - tail:]):
            self.assign(el.value, v, scope, stmt)

    # --- definitions ------------------------------------------------------------------

    def _function_def(self, stmt: cst.FunctionDef, scope: Scope) -> None:
        decorators = tuple(_decorator_name(d.decorator) for d in stmt.decorators)
        owner = self._qualname_prefix(scope)
        fn = FunctionV(stmt, scope, self.path, owner + stmt.name.value, decorators=decorators)
        self.evaluate_defaults(fn, scope)
        scope.bind(stmt.name.value, fn)
        if scope is self.scope and not self.path:
            self.functions.append(fn)

    def _qualname_prefix(self, scope: Scope) -> str:
        return f"{scope.class_name}." if scope.class_name else ""

    def _class_def(self, stmt: cst.ClassDef, scope: Scope) -> None:
        bases = [self.eval(b.value, scope) for b in stmt.bases if b.keyword is None]
        cls = ClassV(stmt.name.value, stmt, bases, module=self.path)
        body = Scope("class", scope if scope.kind == "function" else None, scope.module_scope)
        body.class_name = stmt.name.value
        self.exec_suite(stmt.body, body)
        cls.attrs.update(body.names)
        for fn in body.names.values():
            if isinstance(fn, FunctionV) and fn.node in _defs(stmt):
                fn.closure = scope
        scope.bind(stmt.name.value, cls)
        if scope is self.scope and not self.path:
            self.classes.append(cls)

    # --- control flow -----------------------------------------------------------------

    def _if(self, stmt: cst.If, scope: Scope) -> None:
        t = self.truth(self.eval(stmt.test, scope))
        orelse = stmt.orelse
        if t is True:
            self.exec_suite(stmt.body, scope)
        elif t is False:
            self._else(orelse, scope)
        else:
            self.branches(scope, lambda: self.exec_suite(stmt.body, scope),
                          lambda: self._else(orelse, scope))

    def _else(self, orelse: Optional[cst.CSTNode], scope: Scope) -> None:
        if isinstance(orelse, cst.If):
            self._if(orelse, scope)
        elif isinstance(orelse, cst.Else):
            self.exec_suite(orelse.body, scope)

    def branches(self, scope: Scope, first: Callable[[], None], second: Callable[[], None]
                 ) -> None:
        """Run two paths of which either may be taken, then join the names they bound."""
        before = dict(scope.names)
        self.uncertain += 1
        try:
            _quietly(first)
            after_first = scope.names
            scope.names = dict(before)
            _quietly(second)
        finally:
            self.uncertain -= 1
        after_second = scope.names
        merged: Dict[str, Value] = {}
        for name in set(after_first) | set(after_second):
            a = after_first.get(name, before.get(name))
            b = after_second.get(name, before.get(name))
            merged[name] = self.join(a, b) if a is not None and b is not None else (a or b or UNKNOWN)
        scope.names = merged

    def join(self, a: Value, b: Value) -> Value:
        """One value for "a or b"."""
        if same(a, b):
            return a
        if isinstance(a, Opaque):
            got = a.join(b)
            if got is not None:
                return got
        if isinstance(b, Opaque):
            got = b.join(a)
            if got is not None:
                return got
        if isinstance(a, Unknown) or isinstance(b, Unknown):
            return a if isinstance(a, Unknown) else b
        options: List[Value] = []
        for v in (a.options if isinstance(a, OneOf) else (a,)) + (
                b.options if isinstance(b, OneOf) else (b,)):
            if not any(same(v, o) for o in options):
                options.append(v)
        if len(options) > _MAX_OPTIONS:
            return Unknown(f"{a.describe()} or {b.describe()}")
        return OneOf(tuple(options))

    def _for(self, stmt: cst.For, scope: Scope) -> None:
        it = self.eval(stmt.iter, scope)
        items = items_of(self, it)
        exact = items is not None and len(items) <= self.unroll_limit(it)
        if not exact:
            # Unknown length: run the body twice (so loop-carried values link up) with the
            # values the iterable is known to hold, else unknown.
            known = items or (it.items if isinstance(it, Seq) else [])
            items = (list(known[:2]) * 2)[:2] if known else [Unknown("loop variable")] * 2
        assert items is not None
        self._loop_levels.append(self.uncertain)
        try:
            broke = self._iterations(stmt, items, scope)
        finally:
            self._loop_levels.pop()
        if not broke and stmt.orelse is not None:
            self.exec_suite(stmt.orelse.body, scope)

    def unroll_limit(self, it: Value) -> int:
        """How many items of ``it`` a loop runs over: what a reader's value holds (the
        submodules of a model) is run in full, up to the item limit; other iterables up to
        the unroll limit."""
        return self.limits.items if isinstance(it, Opaque) else self.limits.unroll

    def _iterations(self, stmt: cst.For, items: List[Value], scope: Scope) -> bool:
        for item in items:
            self.assign(stmt.target, item, scope, stmt)
            try:
                self.exec_suite(stmt.body, scope)
            except _Continue:
                continue
            except _Break:
                return True
        return False

    def _while(self, stmt: cst.While, scope: Scope) -> None:
        if self.truth(self.eval(stmt.test, scope)) is False:
            return
        self._loop_levels.append(self.uncertain)
        try:
            self.exec_suite(stmt.body, scope)
        except (_Break, _Continue):
            pass
        finally:
            self._loop_levels.pop()

    def _with(self, stmt: cst.With, scope: Scope) -> None:
        for item in stmt.items:
            v = self.eval(item.item, scope)
            if item.asname is not None:
                self.assign(item.asname.name, v, scope, stmt)
        self.exec_suite(stmt.body, scope)

    def _try(self, stmt: Union[cst.Try, cst.TryStar], scope: Scope) -> None:
        self.exec_suite(stmt.body, scope)
        if stmt.orelse is not None:
            self.exec_suite(stmt.orelse.body, scope)
        if stmt.finalbody is not None:
            self.exec_suite(stmt.finalbody.body, scope)

    # --- values -----------------------------------------------------------------------

    def truth(self, v: Value) -> Optional[bool]:
        """Whether a value is true, when known."""
        if isinstance(v, Const):
            return bool(v.value)
        if isinstance(v, (Seq, DictV)):
            return bool(v.items) if v.exact or v.items else None
        if isinstance(v, Opaque):
            return v.truth()
        if isinstance(v, (InstanceV, FunctionV, ClassV)):
            return True
        if isinstance(v, OneOf):
            truths = {self.truth(o) for o in v.options}
            return truths.pop() if len(truths) == 1 else None
        return None

    def lookup(self, name: str, scope: Scope, node: Optional[cst.CSTNode] = None) -> Value:
        v = scope.lookup(name)
        if isinstance(v, LazyName):
            return self.resolve(v)
        if v is not None:
            return v
        if name in ("None", "True", "False"):
            return Const({"None": None, "True": True, "False": False}[name], node, module=self.path)
        if name == "__name__":
            return Const("__main__" if not self.path else self.path, node)
        if name in BUILTINS or name in _PYTHON_BUILTINS:
            return External(f"builtins.{name}", node)
        if self.star_modules:
            got = self.host.star_name(self, self.star_modules, name)
            if got is not None:
                return got
        return Unknown(f"name {name}")


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL_NODES = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
                  cst.ConcatenatedString, cst.FormattedString)


def _plain_syntax(node: cst.CSTNode, scope: Scope, depth: int) -> bool:
    """Whether an expression is written as data: literals, displays, arithmetic, names
    that hold plain data, and calls of the file's own functions with such arguments.
    (Node types are compared exactly: libcst's node classes are slow ABCs.)"""
    kind = type(node)
    if kind in _LITERAL_NODES:
        return True
    if depth > 32:
        return False
    if kind is cst.Name:
        v = scope.lookup(cast(cst.Name, node).value)
        return v is None or (not isinstance(v, LazyName) and _plain(v, 0))
    if kind in (cst.Dict, cst.List, cst.Tuple, cst.Set):
        for el in cast(Union[cst.Dict, cst.List, cst.Tuple, cst.Set], node).elements:
            parts = [el.key, el.value] if type(el) is cst.DictElement else [el.value]
            if not all(_plain_syntax(p, scope, depth + 1) for p in parts):
                return False
        return True
    if kind is cst.BinaryOperation:
        op = cast(cst.BinaryOperation, node)
        return _plain_syntax(op.left, scope, depth + 1) and \
            _plain_syntax(op.right, scope, depth + 1)
    if kind is cst.UnaryOperation:
        return _plain_syntax(cast(cst.UnaryOperation, node).expression, scope, depth + 1)
    if kind is cst.Call:
        call = cast(cst.Call, node)
        fn = scope.lookup(call.func.value) if isinstance(call.func, cst.Name) else None
        return isinstance(fn, FunctionV) and not fn.module and all(
            _plain_syntax(a.value, scope, depth + 1) for a in call.args)
    return False


def _plain(v: Value, depth: int) -> bool:
    """Data that holds no object, function or class (nor a reader's value)."""
    if isinstance(v, (Const, Unknown, External)):
        return True
    if depth > 4:
        return False
    if isinstance(v, Seq):
        return all(_plain(i, depth + 1) for i in v.items)
    if isinstance(v, DictV):
        return all(_plain(i, depth + 1) for i in v.items.values())
    if isinstance(v, OneOf):
        return all(_plain(o, depth + 1) for o in v.options)
    return False


def _quietly(fn: Callable[[], None]) -> None:
    """Run a branch; a return, break or continue inside it ends only that branch."""
    try:
        fn()
    except (_Break, _Continue):
        pass


def _decorator_name(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Call):
        node = node.func
    return _dotted(node).split(".")[-1]


def _defs(cls: cst.ClassDef) -> List[cst.CSTNode]:
    return [s for s in cls.body.body if isinstance(s, cst.FunctionDef)]


_SUITES = (cst.IndentedBlock, cst.SimpleStatementSuite)
#: A statement handler; each takes the node type it is registered for.
_Stmt = Callable[[Any, Any, Scope], None]
_STATEMENTS: Dict[type, _Stmt] = {
    cst.SimpleStatementLine: Evaluator._simple_line, cst.FunctionDef: Evaluator._function_def,
    cst.ClassDef: Evaluator._class_def, cst.If: Evaluator._if, cst.For: Evaluator._for,
    cst.While: Evaluator._while, cst.With: Evaluator._with, cst.Try: Evaluator._try,
    cst.TryStar: Evaluator._try,
}
_SMALL: Dict[type, _Stmt] = {
    cst.Expr: Evaluator._expr, cst.Assign: Evaluator._assign,
    cst.AnnAssign: Evaluator._ann_assign, cst.AugAssign: Evaluator._aug_assign,
    cst.Return: Evaluator._return, cst.Import: Imports._import,
    cst.ImportFrom: Imports._import_from, cst.Global: Evaluator._global,
    cst.Nonlocal: Evaluator._global, cst.Break: Evaluator._break,
    cst.Continue: Evaluator._continue,
}
register_call(Calls._call_node)

__all__ = ["BudgetExceeded", "Evaluator", "Resolver", "InstanceV", "External"]
