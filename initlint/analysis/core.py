"""What the evaluator's parts (expressions, calls) may ask of the evaluator as a whole.

:class:`~initlint.analysis.evaluator.Evaluator` is built from mixins; this base declares
the state and the methods each mixin uses from the others, so that each part type-checks on
its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .host import Host, Limits
from .values import Args, ClassV, External, InstanceV, Scope, Site, Value

if TYPE_CHECKING:  # pragma: no cover
    from .calls import Frame, ModuleValue


class Core:
    """State and cross-part methods of the evaluator (implemented by its parts)."""

    host: Host
    limits: Limits
    path: str
    scope: Scope
    frames: List["Frame"]
    uncertain: int
    #: Constructions of objects running (0: not inside any object's construction).
    building: int
    #: The outside callable being called while a host answers for it (its provenance: a
    #: class passed as ``act_layer=nn.GELU`` came through that parameter).
    calling: Optional[External]
    #: The entry points (functions no one called) are running.
    entries: bool
    #: What initlint builds or calls because nothing in the linted files does; "" otherwise.
    assumed: str
    #: Outermost constructions begun, and their objects by class, place and arguments.
    construction: int
    constructions: Dict[Tuple[object, ...], InstanceV]
    #: Classes of the run's other modules that this file instantiates.
    imported_classes: List[ClassV]
    #: Calls with plain data per (function, call site), for :attr:`Limits.same_call`.
    same_calls: Dict[Tuple[int, int], int]
    called: Set[int]
    defaults: Dict[int, Dict[str, Value]]
    _modules: Dict[str, Optional["ModuleValue"]]

    _steps: int

    def tick(self) -> None:
        raise NotImplementedError

    def check_budget(self) -> None:
        raise NotImplementedError

    def site(self, node: cst.CSTNode) -> Site:
        raise NotImplementedError

    def eval(self, node: Optional[cst.CSTNode], scope: Scope) -> Value:
        raise NotImplementedError

    def exec_suite(self, body: object, scope: Scope) -> None:
        raise NotImplementedError

    def exec_statement(self, stmt: cst.CSTNode, scope: Scope) -> None:
        raise NotImplementedError

    def assign(self, target: cst.CSTNode, value: Value, scope: Scope, stmt: cst.CSTNode) -> None:
        raise NotImplementedError

    def lookup(self, name: str, scope: Scope, node: Optional[cst.CSTNode] = None) -> Value:
        raise NotImplementedError

    def truth(self, v: Value) -> Optional[bool]:
        raise NotImplementedError

    def join(self, a: Value, b: Value) -> Value:
        raise NotImplementedError

    def call(self, callee: Value, args: Args, site: Site) -> Value:
        raise NotImplementedError

    def call_args(self, call: cst.Call, scope: Scope) -> Args:
        raise NotImplementedError

    def get_attribute(self, base: Value, name: str, site: Site) -> Value:
        raise NotImplementedError

    def set_attribute(self, owner: Value, name: str, value: Value, site: Site) -> None:
        raise NotImplementedError

    def isinstance_of(self, obj: Value, classes: Sequence[Value]) -> Optional[bool]:
        raise NotImplementedError

    def escape(self, v: Value, site: Site, depth: int = 0) -> None:
        raise NotImplementedError

    def evaluate_defaults(self, fn: "FunctionV", scope: Scope) -> None:
        raise NotImplementedError

    def record_yield(self, values: List[Value], exact: bool) -> None:
        raise NotImplementedError

    def record_return(self, value: Value) -> None:
        raise NotImplementedError

    def unroll_limit(self, it: Value) -> int:
        raise NotImplementedError

    def binop(self, op: cst.CSTNode, a: Value, b: Value, site: Site) -> Value:
        raise NotImplementedError

    def module_value(self, name: str) -> Value:
        raise NotImplementedError

    def resolve(self, v: Value) -> Value:
        raise NotImplementedError


from .values import FunctionV  # noqa: E402  (used in annotations only)
