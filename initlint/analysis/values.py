"""The abstract values of the evaluator, and where each came from.

Values know Python, not frameworks. A reader's own values (a layer, a tensor, an initializer)
subclass :class:`Opaque` and answer the few questions the evaluator asks of them (an attribute,
a call, a method, an operator, iteration); everything a value does not answer is
:data:`UNKNOWN`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from .core import Core

#: A Python constant the evaluator computes with.
Scalar = Union[int, float, complex, str, bytes, bool, None]


# --- provenance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A place in the linted code: a node of a module (``module`` is its path, "" for the file
    being read)."""

    node: cst.CSTNode = field(repr=False, compare=False)
    module: str = ""


@dataclass(frozen=True)
class Step:
    """One link of a value's provenance: how it reached the place where it is used.

    ``kind`` is one of: ``default`` (the default of parameter ``name`` of ``function``),
    ``argument`` (passed as parameter ``name`` of ``function``), ``call`` (the call site that
    made it so: ``site`` is the call), ``variable`` (read from variable ``name``), ``import``
    (imported as ``name`` from module ``function``), ``attribute``, ``return`` (returned by
    ``function``), ``splat`` (unpacked from ``*``/``**``).
    """

    kind: str
    name: str = ""
    function: str = ""
    site: Optional[Site] = None


Provenance = Tuple[Step, ...]


# --- values -------------------------------------------------------------------------------


class Value:
    """Base of every abstract value."""

    __slots__ = ()

    def describe(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, eq=False)
class Unknown(Value):
    """A value the evaluator cannot know. ``why`` says why, for ``inspect`` and ``-v``."""

    why: str = ""

    def describe(self) -> str:
        return f"unknown ({self.why})" if self.why else "unknown"


UNKNOWN = Unknown()


@dataclass(frozen=True, eq=False)
class Const(Value):
    """A Python constant, with the node it was written at and the way it came."""

    value: Scalar
    node: Optional[cst.CSTNode] = field(default=None, repr=False)
    via: Provenance = ()
    module: str = ""

    def describe(self) -> str:
        return repr(self.value)

    def same(self, other: Value) -> bool:
        return (isinstance(other, Const) and type(other.value) is type(self.value)
                and other.value == self.value)

    def with_step(self, step: Step) -> "Const":
        return Const(self.value, self.node, self.via + (step,), self.module)


@dataclass(frozen=True, eq=False)
class OneOf(Value):
    """One of a few known values, not known which (the two sides of a branch or of a
    conditional expression that disagree). Readers may find the alternatives agree in what
    matters to them (two Glorot initializers); to everything else it is unknown."""

    options: Tuple[Value, ...]

    def describe(self) -> str:
        return " or ".join(o.describe() for o in self.options)


@dataclass(eq=False)
class Seq(Value):
    """A list, tuple or set. ``exact`` is False when the length is not known: the items are
    then representatives of what it holds (a comprehension over an unknown iterable)."""

    items: List[Value]
    kind: str = "list"  # list | tuple | set
    exact: bool = True
    node: Optional[cst.CSTNode] = None

    def describe(self) -> str:
        inner = ", ".join(i.describe() for i in self.items[:6])
        more = ", ..." if len(self.items) > 6 or not self.exact else ""
        return f"[{inner}{more}]" if self.kind == "list" else f"({inner}{more})"


@dataclass(eq=False)
class DictV(Value):
    """A dict with constant keys. ``exact`` is False when some keys are not known."""

    items: Dict[Scalar, Value] = field(default_factory=dict)
    exact: bool = True
    node: Optional[cst.CSTNode] = None

    def describe(self) -> str:
        return "{" + ", ".join(f"{k!r}: {v.describe()}" for k, v in list(self.items.items())[:6]) + "}"


@dataclass(frozen=True, eq=False)
class External(Value):
    """Something outside the linted code, by its qualified name (``torch.nn.Linear``,
    ``keras.layers``): a module, class or function the evaluator knows only by name."""

    name: str
    node: Optional[cst.CSTNode] = None
    via: Provenance = ()

    def describe(self) -> str:
        return self.name


@dataclass(eq=False)
class FunctionV(Value):
    """A function or lambda of the linted code, with the scope it closes over."""

    node: Union[cst.FunctionDef, cst.Lambda]
    closure: "Scope"
    module: str = ""
    qualname: str = "<lambda>"
    #: The instance a bound method is bound to (``self``), or the class of a classmethod.
    bound: Optional[Value] = None
    #: The class the method was found in (for ``super()``).
    owner: Optional["ClassV"] = None
    decorators: Tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.qualname}()"


@dataclass(eq=False)
class ClassV(Value):
    """A class of the linted code."""

    name: str
    node: cst.ClassDef
    bases: List[Value]
    attrs: Dict[str, Value] = field(default_factory=dict)
    module: str = ""
    #: Instances made so far (a reader may want the one the module builds).
    instances: List["InstanceV"] = field(default_factory=list)
    #: Instances built outside any other object's construction (a model, not a block of it).
    top_level_builds: int = 0

    def describe(self) -> str:
        return f"class {self.name}"

    def mro(self) -> List[Value]:
        """This class, then its bases depth-first (enough for the single inheritance and
        mixins of model code); external bases come last, in order."""
        out: List[Value] = []
        ext: List[Value] = []
        self._walk(out, ext, 0)
        return out + ext

    def _walk(self, out: List[Value], ext: List[Value], depth: int) -> None:
        if self in out or depth > 16:
            return
        out.append(self)
        for b in self.bases:
            if isinstance(b, ClassV):
                b._walk(out, ext, depth + 1)
            elif b not in ext:
                ext.append(b)

    def external_bases(self) -> List[str]:
        return [b.name for b in self.mro() if isinstance(b, External)]

    def lookup(self, name: str) -> Tuple[Optional[Value], Optional["ClassV"]]:
        for c in self.mro():
            if isinstance(c, ClassV) and name in c.attrs:
                return c.attrs[name], c
        return None, None


@dataclass(eq=False)
class InstanceV(Value):
    """An instance of a class of the linted code."""

    cls: ClassV
    attrs: Dict[str, Value] = field(default_factory=dict)
    node: Optional[cst.CSTNode] = None
    #: Sites of calls the evaluator could not see into that received this instance.
    escaped: List[Site] = field(default_factory=list)
    #: Reader-owned state (e.g. what a framework base class holds).
    extra: Dict[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.cls.name}()"


@dataclass(eq=False)
class PartialV(Value):
    """``functools.partial(func, *args, **kwargs)``."""

    func: Value
    args: "Args"

    def describe(self) -> str:
        return f"partial({self.func.describe()})"


@dataclass(eq=False)
class MethodRef(Value):
    """``receiver.name`` where the receiver is an :class:`Opaque`, a constant or a container:
    calling it asks the receiver (or the evaluator's table of container methods)."""

    receiver: Value
    name: str

    def describe(self) -> str:
        return f"{self.receiver.describe()}.{self.name}"


@dataclass(eq=False)
class SuperV(Value):
    """``super()`` inside a method of ``owner``, bound to ``instance``."""

    owner: ClassV
    instance: Value


# --- arguments ----------------------------------------------------------------------------


class Bound(NamedTuple):
    """An argument bound to a parameter name: its value, the expression it was written at
    (None when it came from a splat), and whether it was given by keyword."""

    value: "Value"
    node: Optional[cst.CSTNode]
    keyword: bool


@dataclass
class Args:
    """Evaluated call arguments, with the nodes they were written at."""

    positional: List[Value] = field(default_factory=list)
    keywords: Dict[str, Value] = field(default_factory=dict)
    #: The expression each argument came from (None when it came from a splat).
    positional_nodes: List[Optional[cst.CSTNode]] = field(default_factory=list)
    keyword_nodes: Dict[str, Optional[cst.CSTNode]] = field(default_factory=dict)
    #: A ``*x`` of unknown length was passed (positions after it are not known).
    star_unknown: bool = False
    #: A ``**x`` with unknown keys was passed (any keyword may have been given).
    kwargs_unknown: bool = False
    #: What a ``*x`` of unknown length is known to hold (representatives, no positions).
    star_items: List[Value] = field(default_factory=list)

    def get(self, index: Optional[int], name: Optional[str]) -> Optional[Value]:
        """The argument for a parameter at ``index`` named ``name``; None when not given,
        :data:`UNKNOWN` when it may have been given through a splat."""
        if name is not None and name in self.keywords:
            return self.keywords[name]
        if index is not None and index < len(self.positional):
            return self.positional[index]
        if (index is not None and self.star_unknown) or (name is not None and self.kwargs_unknown):
            return UNKNOWN
        return None

    def node(self, index: Optional[int], name: Optional[str]) -> Optional[cst.CSTNode]:
        if name is not None and name in self.keyword_nodes:
            return self.keyword_nodes[name]
        if index is not None and index < len(self.positional_nodes):
            return self.positional_nodes[index]
        return None

    def by_name(self, positional: Sequence[str]) -> Dict[str, Bound]:
        """The arguments by parameter name, positional ones in the order ``positional``
        gives (a framework catalog's order for a callee the evaluator cannot see into)."""
        out: Dict[str, Bound] = {}
        for i, v in enumerate(self.positional[: len(positional)]):
            node = self.positional_nodes[i] if i < len(self.positional_nodes) else None
            out[positional[i]] = Bound(v, node, False)
        for k, v in self.keywords.items():
            out[k] = Bound(v, self.keyword_nodes.get(k), True)
        return out

    def values(self) -> List[Value]:
        return list(self.positional) + list(self.keywords.values())

    def prepend(self, value: Value) -> "Args":
        nodes: List[Optional[cst.CSTNode]] = [None]
        return Args([value] + self.positional, dict(self.keywords),
                    nodes + self.positional_nodes, dict(self.keyword_nodes),
                    self.star_unknown, self.kwargs_unknown, list(self.star_items))

    def merged(self, later: "Args") -> "Args":
        """These arguments first, then ``later``'s (``partial``'s frozen ones, then the call's)."""
        kw = dict(self.keywords)
        kw.update(later.keywords)
        kn = dict(self.keyword_nodes)
        kn.update(later.keyword_nodes)
        return Args(self.positional + later.positional, kw,
                    self.positional_nodes + later.positional_nodes, kn,
                    self.star_unknown or later.star_unknown,
                    self.kwargs_unknown or later.kwargs_unknown,
                    self.star_items + later.star_items)


# --- reader values ------------------------------------------------------------------------


class Opaque(Value):
    """A value a reader made. The evaluator never looks inside; it asks.

    Every method returns None for "I do not know", which the evaluator turns into
    :data:`UNKNOWN` (or, for a call, into an escape of the arguments).
    """

    __slots__ = ()

    def attribute(self, ev: "Core", name: str, site: Site) -> Optional[Value]:
        return None

    def set_attribute(self, ev: "Core", name: str, value: Value, site: Site) -> bool:
        return False

    def call(self, ev: "Core", args: Args, site: Site) -> Optional[Value]:
        return None

    def call_method(self, ev: "Core", name: str, args: Args, site: Site
                    ) -> Optional[Value]:
        return None

    def binop(self, ev: "Core", op: str, other: Value, reflected: bool, site: Site
              ) -> Optional[Value]:
        return None

    def unary(self, ev: "Core", op: str, site: Site) -> Optional[Value]:
        return None

    def iterate(self, ev: "Core") -> Optional[Sequence[Value]]:
        return None

    def subscript(self, ev: "Core", key: Value, site: Site) -> Optional[Value]:
        return None

    def set_item(self, ev: "Core", key: Value, value: Value, site: Site) -> bool:
        return False

    def truth(self) -> Optional[bool]:
        return None

    def equals(self, ev: "Core", other: Value) -> Optional[bool]:
        """Whether this value is (``is`` / ``==``) ``other``; None when not known."""
        return None

    def has_attribute(self, ev: "Core", name: str) -> Optional[bool]:
        """``hasattr(value, name)``; None when not known."""
        return None

    def isinstance_of(self, ev: "Core", classes: Sequence[Value]) -> Optional[bool]:
        return None

    def escape(self, ev: "Core", site: Site) -> None:
        """A call the evaluator cannot see into received this value: it may have changed."""

    def join(self, other: Value) -> Optional[Value]:
        """The value after a branch that may or may not have made ``other``: None when the
        two cannot be told apart as one value."""
        return None


# --- scopes -------------------------------------------------------------------------------


class Scope:
    """Names bound in a module, class body or function call. ``globals`` is the module scope;
    ``parent`` the enclosing function's scope (closures)."""

    __slots__ = ("names", "parent", "module_scope", "kind", "nonlocal_names", "global_names",
                 "class_name")

    def __init__(self, kind: str, parent: Optional["Scope"] = None,
                 module_scope: Optional["Scope"] = None) -> None:
        self.names: Dict[str, Value] = {}
        self.parent = parent
        self.module_scope: "Scope" = module_scope if module_scope is not None else self
        self.kind = kind  # module | class | function
        self.global_names: Set[str] = set()
        self.nonlocal_names: Set[str] = set()
        #: The class whose body this scope is (for qualified names of methods).
        self.class_name = ""

    def lookup(self, name: str) -> Optional[Value]:
        scope: Optional[Scope] = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        if name in self.module_scope.names:
            return self.module_scope.names[name]
        return None

    def bind(self, name: str, value: Value) -> None:
        if name in self.global_names:
            self.module_scope.names[name] = value
            return
        if name in self.nonlocal_names and self.parent is not None:
            scope: Optional[Scope] = self.parent
            while scope is not None and name not in scope.names:
                scope = scope.parent
            (scope or self.parent).names[name] = value
            return
        self.names[name] = value


def same(a: Value, b: Value) -> bool:
    """Whether two values are the same value (constants by value, everything else by
    identity)."""
    if a is b:
        return True
    if isinstance(a, Const):
        return a.same(b)
    if isinstance(a, External) and isinstance(b, External):
        return a.name == b.name
    return False
