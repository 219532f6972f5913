"""Calls, attributes and classes: binding arguments to parameters, running the linted code's
own functions and methods, instantiating its classes.

A mixin of :class:`~initlint.analysis.evaluator.Evaluator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .builtins import BUILTINS, CONSTANTS, EXTERNAL, call_value_method
from .core import Core
from .values import (UNKNOWN, Args, ClassV, Const, DictV, External, FunctionV, InstanceV,
                     MethodRef, OneOf, Opaque, PartialV, Scope, Seq, Site, Step, SuperV, Unknown, Value)



@dataclass
class Frame:
    """A call of the linted code's own function that is running."""

    function: FunctionV
    site: Site
    #: ``uncertain`` when the call started: a return under a deeper level may not happen.
    level: int
    returns: List[Value] = field(default_factory=list)
    yields: List[Value] = field(default_factory=list)
    yields_exact: bool = True


class ReturnSignal(Exception):
    """A return that certainly happens: the rest of the function does not run."""


class Calls(Core):
    """Calls, attributes, instantiation."""

    # --- calls ------------------------------------------------------------------------

    def _call_node(self, node: cst.Call, scope: Scope) -> Value:
        callee = self.eval(node.func, scope)
        args = self.call_args(node, scope)
        return self.call(callee, args, self.site(node))

    def call(self, callee: Value, args: Args, site: Site) -> Value:
        """Call ``callee`` as the code at ``site`` does."""
        if isinstance(callee, FunctionV):
            result = self.call_function(callee, args, site)
            got = self.host.returned(self, callee, args, result, site)
            return got if got is not None else result
        if isinstance(callee, ClassV):
            return self.instantiate(callee, args, site)
        if isinstance(callee, PartialV):
            return self.call(callee.func, callee.args.merged(args), site)
        if isinstance(callee, External):
            return self._call_external(callee, args, site)
        if isinstance(callee, MethodRef):
            return self._call_method(callee, args, site)
        if isinstance(callee, InstanceV):
            return self._call_instance(callee, args, site)
        if isinstance(callee, Opaque):
            got = callee.call(self, args, site)
            if got is not None:
                return got
        if isinstance(callee, OneOf):
            return self._call_one_of(callee, args, site)
        got = self.host.call_unknown(self, callee, args, site)
        if got is not None:
            return got
        return self.unknown_call(args, site, Unknown(f"call of {callee.describe()}"))

    def _call_one_of(self, callee: OneOf, args: Args, site: Site) -> Value:
        """One of several callables: each may be the one called (calling None raises, so
        that alternative is never the one taken)."""
        got = self.host.call_one_of(self, callee, args, site)
        if got is not None:
            return got
        options = [o for o in callee.options if not (isinstance(o, Const) and o.value is None)]
        if not options:
            return self.unknown_call(args, site, Unknown("call of None"))
        self.uncertain += 1
        try:
            results = [self.call(o, args, site) for o in options]
        finally:
            self.uncertain -= 1
        out = results[0]
        for r in results[1:]:
            out = self.join(out, r)
        return out

    def unknown_call(self, args: Args, site: Site, result: Value,
                     receiver: Optional[Value] = None) -> Value:
        """A call no one can see into: every value it receives may have changed."""
        for v in ([receiver] if receiver is not None else []) + args.values():
            self.escape(v, site)
        return result

    def _call_external(self, callee: External, args: Args, site: Site) -> Value:
        name = callee.name
        if name.startswith("builtins."):
            short = name[len("builtins."):]
            if short == "super":
                return self._super(site)
            fn = BUILTINS.get(short)
            if fn is not None:
                return fn(self, args, site)
            # Python's other builtins (iter, map, repr, open, ...) change none of the objects
            # they are given: their result is unknown, the arguments are not.
            return Unknown(f"{short}()")
        saved, self.calling = self.calling, callee
        try:
            got = self.host.call_external(self, name, args, site)
        finally:
            self.calling = saved
        if got is not None:
            return got
        fn = EXTERNAL.get(name)
        if fn is not None:
            return fn(self, args, site)
        return self.unknown_call(args, site, Unknown(f"call of {name}"))

    def _call_method(self, ref: MethodRef, args: Args, site: Site) -> Value:
        recv = ref.receiver
        if isinstance(recv, Opaque):
            got = recv.call_method(self, ref.name, args, site)
            if got is not None:
                return got
            return self.unknown_call(args, site, Unknown(f"method {ref.name}"), recv)
        if isinstance(recv, SuperV):
            return self._super_external(recv, ref.name, args, site)
        got = call_value_method(self, recv, ref.name, args, site)
        if got is not None:
            return got
        return self.unknown_call(args, site, Unknown(f"method {ref.name}"), recv)

    def _call_instance(self, inst: InstanceV, args: Args, site: Site) -> Value:
        method = self._class_attribute(inst, "__call__")
        if isinstance(method, FunctionV):
            return self.call_function(method, args, site)
        got = self.host.call_instance(self, inst, args, site)
        if got is not None:
            return got
        return self.unknown_call(args, site, Unknown(f"call of {inst.describe()}"))

    def call_function(self, fn: FunctionV, args: Args, site: Site) -> Value:
        """Run one of the linted code's functions with these arguments; its return value."""
        if len(self.frames) >= self.limits.call_depth:
            return self.unknown_call(args, site, Unknown("call depth limit"))
        if any(f.function.node is fn.node for f in self.frames):
            return self.unknown_call(args, site, Unknown(f"recursive call of {fn.qualname}"))
        if self._repeated(fn, args, site):
            return Unknown(f"one more call of {fn.qualname} from the same place")
        self.called.add(id(fn.node))
        scope = Scope("function", fn.closure if fn.closure.kind == "function" else None,
                      fn.closure.module_scope)
        if fn.bound is not None:
            args = args.prepend(fn.bound)
        self.bind_parameters(fn, args, scope, site)
        frame = Frame(fn, site, self.uncertain)
        self.frames.append(frame)
        # The body's places are in the module that defines the function.
        saved, self.path = self.path, fn.module
        try:
            self._run_body(fn, scope)
        finally:
            self.frames.pop()
            self.path = saved
        return self._result(fn, frame)

    def _repeated(self, fn: FunctionV, args: Args, site: Site) -> bool:
        """One call site that calls a function with plain data (numbers, strings, configs,
        classes) more times than the limit: the rest are not read (a hundred model
        entry points all calling one builder), or one function called from the entry
        points (functions no one called), outside any construction, more times than its
        limit. Calls that pass a reader's value or an
        object (an init function applied to each module) are always read."""
        if _passes_objects(args) or fn.bound is not None:
            return False
        key = (id(fn.node), id(site.node))
        n = self.same_calls.get(key, 0)
        self.same_calls[key] = n + 1
        if n >= self.limits.same_call:
            return True
        if self.building or not self.entries:
            return False
        key = (id(fn.node), 0)
        n = self.same_calls.get(key, 0)
        self.same_calls[key] = n + 1
        return n >= self.limits.same_function

    def _run_body(self, fn: FunctionV, scope: Scope) -> None:
        node = fn.node
        try:
            if isinstance(node, cst.Lambda):
                self.frames[-1].returns.append(self.eval(node.body, scope))
            else:
                self.exec_suite(node.body, scope)
        except ReturnSignal:
            pass

    def _result(self, fn: FunctionV, frame: Frame) -> Value:
        if frame.yields:
            return Seq(frame.yields, "list", exact=frame.yields_exact)
        if not frame.returns:
            return Const(None)
        out = frame.returns[0]
        for r in frame.returns[1:]:
            out = self.join(out, r)
        return out

    def record_return(self, value: Value) -> None:
        if not self.frames:
            return
        frame = self.frames[-1]
        frame.returns.append(value)
        if self.uncertain <= frame.level:
            raise ReturnSignal()

    def record_yield(self, values: List[Value], exact: bool) -> None:
        if self.frames:
            frame = self.frames[-1]
            frame.yields.extend(values)
            frame.yields_exact = frame.yields_exact and exact and self.uncertain <= frame.level

    # --- parameters -------------------------------------------------------------------

    def evaluate_defaults(self, fn: FunctionV, scope: Scope) -> None:
        """Default values are evaluated once, where the function is defined (as Python
        does); each remembers it is the default of its parameter."""
        defaults: Dict[str, Value] = {}
        for p in _all_params(fn.node.params):
            if p.default is not None:
                v = self.eval(p.default, scope)
                defaults[p.name.value] = _via(v, Step("default", p.name.value, fn.qualname))
        self.defaults[id(fn.node)] = defaults

    def bind_parameters(self, fn: FunctionV, args: Args, scope: Scope,
                        site: Site) -> None:
        params = fn.node.params
        defaults = self.defaults.get(id(fn.node), {})
        positional = list(params.posonly_params) + list(params.params)
        used: Set[str] = set()
        for i, p in enumerate(positional):
            name = p.name.value
            got = args.get(i, None if i < len(params.posonly_params) else name)
            used.add(name)
            scope.bind(name, self._param_value(got, defaults.get(name), fn, site, name))
        self._bind_star(params, args, positional, scope)
        for p in params.kwonly_params:
            name = p.name.value
            used.add(name)
            got = args.get(None, name)
            scope.bind(name, self._param_value(got, defaults.get(name), fn, site, name))
        if isinstance(params.star_kwarg, cst.Param):
            rest = DictV({k: v for k, v in args.keywords.items() if k not in used},
                         exact=not args.kwargs_unknown)
            scope.bind(params.star_kwarg.name.value, rest)

    def _bind_star(self, params: cst.Parameters, args: Args,
                   positional: Sequence[cst.Param], scope: Scope) -> None:
        if isinstance(params.star_arg, cst.Param):
            extra = args.positional[len(positional):] + args.star_items
            scope.bind(params.star_arg.name.value,
                       Seq(list(extra), "tuple", exact=not args.star_unknown))

    def _param_value(self, got: Optional[Value], default: Optional[Value], fn: FunctionV,
                     site: Site, name: str) -> Value:
        if got is None:
            return default if default is not None else Unknown(f"parameter {name} not given")
        if isinstance(got, Unknown) and default is not None and got is UNKNOWN:
            return Unknown(f"parameter {name} may come from a splat")
        if isinstance(got, (Const, External)):
            return _via(got, Step("argument", name, fn.qualname, site))
        return got

    # --- classes ----------------------------------------------------------------------

    def instantiate(self, cls: ClassV, args: Args, site: Site) -> Value:
        key: Optional[Tuple[object, ...]] = None
        if not self.building:
            if self.entries and not _passes_objects(args):
                if cls.top_level_builds >= self.limits.top_level_builds:
                    return self.unknown_call(args, site, Unknown(f"one more {cls.name}"))
                cls.top_level_builds += 1
            self.construction += 1
        else:
            key = _construction_key(self, cls, args, site)
            same = self.constructions.get(key) if key is not None else None
            if same is not None:
                return same
        self.building += 1
        try:
            inst = self._build(cls, args, site)
        finally:
            self.building -= 1
        if key is not None:
            self.constructions[key] = inst
        return inst

    def _build(self, cls: ClassV, args: Args, site: Site) -> InstanceV:
        inst = InstanceV(cls, node=site.node)
        if len(cls.instances) < 64:
            cls.instances.append(inst)
        if cls.module and all(cls is not c for c in self.imported_classes):
            self.imported_classes.append(cls)
        if cls.external_bases():
            self.host.instantiate(self, inst, args, site)
        init, owner = cls.lookup("__init__")
        if isinstance(init, FunctionV):
            # The object is new: what its constructor does to it happens whenever it exists,
            # whichever branch made it.
            saved, self.uncertain = self.uncertain, 0
            try:
                self.call_function(replace(init, bound=inst, owner=owner), args, site)
            finally:
                self.uncertain = saved
        elif _is_dataclass(cls):
            self._dataclass_fields(cls, inst, args)
        return inst

    def _dataclass_fields(self, cls: ClassV, inst: InstanceV, args: Args) -> None:
        """A dataclass's generated ``__init__``: its fields, in order, from the arguments
        (a field not given keeps the class's default)."""
        fields: List[str] = []
        for c in reversed([c for c in cls.mro() if isinstance(c, ClassV)]):
            for stmt in c.node.body.body:
                line = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else []
                for small in line:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) \
                            and small.target.value not in fields:
                        fields.append(small.target.value)
        for i, name in enumerate(fields):
            got = args.get(i, name)
            if got is not None:
                inst.attrs[name] = got

    def _super(self, site: Site) -> Value:
        frame = self.frames[-1] if self.frames else None
        if frame is None or frame.function.owner is None or frame.function.bound is None:
            return Unknown("super() outside a method")
        return SuperV(frame.function.owner, frame.function.bound)

    def _super_external(self, sup: SuperV, name: str, args: Args, site: Site
                        ) -> Value:
        bases = sup.owner.external_bases()
        for base in bases:
            got = self.host.super_method(self, sup.instance, base, name, args, site)
            if got is not None:
                return got
        return Const(None) if name == "__init__" else Unknown(f"super().{name}")

    # --- attributes -------------------------------------------------------------------

    def get_attribute(self, base: Value, name: str, site: Site) -> Value:
        """``base.name``."""
        if isinstance(base, InstanceV):
            return self._instance_attribute(base, name, site)
        if isinstance(base, External):
            return self._external_attribute(base, name, site)
        if isinstance(base, Opaque):
            got = base.attribute(self, name, site)
            return got if got is not None else MethodRef(base, name)
        if isinstance(base, ClassV):
            if name == "__name__":
                return Const(base.name, site.node, module=self.path)
            v, owner = base.lookup(name)
            if isinstance(v, FunctionV) and "classmethod" in v.decorators:
                return replace(v, bound=base, owner=owner)
            return v if v is not None else Unknown(f"{base.name}.{name}")
        if isinstance(base, SuperV):
            return self._super_attribute(base, name)
        if isinstance(base, (Const, Seq, DictV)):
            return MethodRef(base, name)
        if isinstance(base, ModuleValue):
            return base.member(self, name)
        return Unknown(f"attribute {name}")

    def _instance_attribute(self, inst: InstanceV, name: str, site: Site) -> Value:
        if name in inst.attrs:
            return inst.attrs[name]
        if name == "__class__":
            return inst.cls
        v = self._class_attribute(inst, name)
        if v is not None:
            if isinstance(v, FunctionV) and "property" in v.decorators:
                return self.call_function(v, Args(), site)
            return v
        got = self.host.instance_attribute(self, inst, name, site)
        # Not known: calling it is a method no one can see into (it may change the instance).
        return got if got is not None else MethodRef(inst, name)

    def _class_attribute(self, inst: InstanceV, name: str) -> Optional[Value]:
        v, owner = inst.cls.lookup(name)
        if isinstance(v, FunctionV):
            if "staticmethod" in v.decorators:
                return v
            bound: Value = inst.cls if "classmethod" in v.decorators else inst
            return replace(v, bound=bound, owner=owner)
        return v

    def _super_attribute(self, sup: SuperV, name: str) -> Value:
        mro = [c for c in sup.owner.mro() if isinstance(c, ClassV)]
        inst_mro = ([c for c in sup.instance.cls.mro() if isinstance(c, ClassV)]
                    if isinstance(sup.instance, InstanceV) else mro)
        after = inst_mro[inst_mro.index(sup.owner) + 1:] if sup.owner in inst_mro else mro[1:]
        for c in after:
            if name in c.attrs:
                v = c.attrs[name]
                if isinstance(v, FunctionV):
                    return replace(v, bound=sup.instance, owner=c)
                return v
        return MethodRef(sup, name)

    def _external_attribute(self, base: External, name: str, site: Site) -> Value:
        full = f"{base.name}.{name}"
        if full in CONSTANTS:
            return Const(CONSTANTS[full], site.node, module=self.path)
        got = self.host.external_attribute(self, base, name, site)
        return got if got is not None else External(full, site.node)

    def set_attribute(self, owner: Value, name: str, value: Value, site: Site
                      ) -> None:
        if isinstance(owner, InstanceV):
            owner.attrs[name] = value
            self.host.set_instance_attribute(self, owner, name, value, site)
        elif isinstance(owner, Opaque):
            owner.set_attribute(self, name, value, site)
        elif isinstance(owner, ClassV):
            owner.attrs[name] = value
        elif not isinstance(owner, Const):
            self.escape(value, site)  # stored on something not followed: handed to unseen code

    def isinstance_of(self, obj: Value, classes: Sequence[Value]) -> Optional[bool]:
        if isinstance(obj, Opaque):
            return obj.isinstance_of(self, classes)
        if isinstance(obj, InstanceV):
            mro = obj.cls.mro()
            if any(c in mro or (isinstance(c, External) and c.name in obj.cls.external_bases())
                   for c in classes):
                return True
            return None if any(isinstance(c, External) for c in classes) else False
        if isinstance(obj, Const):
            names = {c.name for c in classes if isinstance(c, External)}
            py = {"builtins.int": int, "builtins.float": float, "builtins.str": str,
                  "builtins.bool": bool}
            if names and names <= set(py):
                return any(isinstance(obj.value, py[n]) for n in names)
        return None

    # --- escapes ----------------------------------------------------------------------

    def escape(self, v: Value, site: Site, depth: int = 0) -> None:
        """``v`` went into a call no one can see into."""
        if depth > 4:
            return
        if isinstance(v, Opaque):
            v.escape(self, site)
        elif isinstance(v, InstanceV):
            if any(s is site for s in v.escaped):
                return
            v.escaped.append(site)
            for a in list(v.attrs.values()):
                self.escape(a, site, depth + 1)
        elif isinstance(v, Seq):
            for item in v.items[:64]:
                self.escape(item, site, depth + 1)
        elif isinstance(v, DictV):
            for item in list(v.items.values())[:64]:
                self.escape(item, site, depth + 1)
        if not isinstance(v, (Const, Unknown, External, Opaque)):
            self.host.escaped(self, v, site)


class ModuleValue(Opaque):
    """A module of the linted tree, imported. Its definitions are read on first use (a
    package's ``__init__`` that imports fifty modules costs nothing until one name is used)."""

    def __init__(self, name: str, load: Callable[[Scope], None]) -> None:
        self.name = name
        self._load: Optional[Callable[[Scope], None]] = load
        self._scope = Scope("module")

    @property
    def scope(self) -> Scope:
        if self._load is not None:
            load, self._load = self._load, None  # an import cycle sees what is there so far
            load(self._scope)
        return self._scope

    def member(self, ev: "Core", attr: str) -> Value:
        v = self.scope.names.get(attr)
        if v is None:
            sub = ev.module_value(f"{self.name}.{attr}")  # a submodule (``import pkg.config``)
            return sub if isinstance(sub, ModuleValue) else Unknown(f"{self.name}.{attr}")
        return ev.resolve(v)

    def get(self, attr: str) -> Value:
        v = self.scope.names.get(attr)
        return v if v is not None else Unknown(f"{self.name}.{attr}")

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        return self.member(ev, name)

    def describe(self) -> str:
        return f"module {self.name}"


class LazyName(Value):
    """``from pkg.mod import name`` of the linted tree: found when first used."""

    __slots__ = ("module", "name", "resolved")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self.resolved: Optional[Value] = None

    def describe(self) -> str:
        return f"{self.module}.{self.name}"


class LazyValue(LazyName):
    """A name another module of the tree sets once at its top level (``default_cfgs =
    build_cfgs({...})``): its value is computed when first used, in that module, as
    importing it would."""

    __slots__ = ("node", "scope", "path")

    def __init__(self, module: str, name: str, node: cst.BaseExpression, scope: Scope,
                 path: str) -> None:
        super().__init__(module, name)
        self.node = node
        self.scope = scope
        self.path = path


def _is_dataclass(cls: ClassV) -> bool:
    for d in cls.node.decorators:
        node = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        name = node.attr.value if isinstance(node, cst.Attribute) else (
            node.value if isinstance(node, cst.Name) else "")
        if name == "dataclass":
            return True
    return False


def _all_params(params: cst.Parameters) -> List[cst.Param]:
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    return out


def _via(v: Value, step: Step) -> Value:
    """The value, remembering it went through ``step`` (constants and names only: mutable
    values keep their identity)."""
    if isinstance(v, Const):
        return v.with_step(step)
    if isinstance(v, External):
        return External(v.name, v.node, v.via + (step,))
    return v


__all__ = ["Calls", "Frame", "LazyName", "LazyValue", "ModuleValue", "ReturnSignal", "Tuple"]


def _passes_objects(args: Args) -> bool:
    """Whether a call passes an object or a reader's value (which it may change), not only
    plain data: such calls are always read."""
    return any(isinstance(v, (Opaque, InstanceV)) for v in args.values())


def _construction_key(ev: Core, cls: ClassV, args: Args, site: Site
                      ) -> Optional[Tuple[object, ...]]:
    """What makes one object of a construction the same as another: its class, the place
    that builds it and its arguments, within one outermost construction (the twelve equal
    blocks of a model). The evaluator would read each the same way, so the first stands for
    all. None when an argument is too large to compare."""
    try:
        return (ev.construction, id(cls.node), id(site.node), site.module, ev.uncertain > 0,
                tuple(_shape(v, 0) for v in args.positional),
                tuple((k, _shape(v, 0)) for k, v in args.keywords.items()),
                tuple(_shape(v, 0) for v in args.star_items),
                args.star_unknown, args.kwargs_unknown)
    except _TooBig:
        return None


class _TooBig(Exception):
    pass


def _shape(v: Value, depth: int) -> object:
    """A value as far as the evaluator can tell it apart: constants by value, unknowns
    alike, containers by their items, everything else (objects, readers' values) by
    identity."""
    if depth > 3:
        raise _TooBig()
    if isinstance(v, Const):
        return ("c", type(v.value), v.value)
    if isinstance(v, Unknown):
        return "?"
    if isinstance(v, External):
        return ("e", v.name)
    if isinstance(v, (FunctionV, ClassV)):
        return ("f", id(v.node), id(v.bound) if isinstance(v, FunctionV) else 0)
    if isinstance(v, (Seq, DictV)):
        if len(v.items) > 64:
            raise _TooBig()
        if isinstance(v, Seq):
            return ("s", v.kind, v.exact, tuple(_shape(i, depth + 1) for i in v.items))
        return ("d", v.exact, tuple((k, _shape(i, depth + 1)) for k, i in v.items.items()))
    if isinstance(v, OneOf):
        return ("o", tuple(_shape(o, depth + 1) for o in v.options))
    if isinstance(v, PartialV):
        return ("p", _shape(v.func, depth + 1),
                tuple(_shape(a, depth + 1) for a in v.args.values()), tuple(v.args.keywords))
    return ("i", id(v))
