"""What a reader plugs into the evaluator, and the evaluator's limits.

A reader is a :class:`Host`: the evaluator asks it about the things outside the linted code
(calls to ``torch.nn.Linear`` or ``keras.layers.Dense``, attributes of framework base classes)
and tells it what happened (a name bound, an attribute set, a value passed to something no one
can see into). A host answers None for "not mine", and the evaluator falls back to Python's
own meaning or to :data:`~initlint.analysis.values.UNKNOWN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from .values import Args, External, FunctionV, InstanceV, OneOf, Site, Value

if TYPE_CHECKING:  # pragma: no cover
    from .core import Core


@dataclass(frozen=True)
class Limits:
    """Bounds that keep the evaluation small: past them, values are unknown."""

    #: Nested calls into the linted code's own functions.
    call_depth: int = 8
    #: Iterations of a loop (or a comprehension) unrolled over a known iterable.
    unroll: int = 64
    #: Items of a list, tuple or dict the evaluator builds.
    items: int = 1024
    #: Evaluation steps (expressions and statements) per file.
    steps: int = 2_000_000
    #: Wall-clock seconds per file; past it the evaluator stops and says so.
    seconds: float = 5.0
    #: Objects of one class built with plain data by the entry points (functions no one
    #: called: a model class built by a hundred entry-point functions), outside any other
    #: construction: past this many, further ones are not read. Script code's builds, and
    #: builds given an object, are always read.
    top_level_builds: int = 1
    #: Calls of one function from one place with plain data (no object, no reader value)
    #: that are read; further ones are not.
    same_call: int = 8
    #: Calls of one function with plain data, outside any construction, from the entry
    #: points (the functions no one called, each run with its defaults) that are read;
    #: further ones are not. A module with hundreds of model entry points that all go
    #: through one builder reads the builder this many times, not hundreds.
    same_function: int = 1
    #: Modules of the tree being read at once (a name imported from a module whose classes
    #: derive from classes of another module, and so on).
    module_depth: int = 6


class Host:
    """The reader's side of the evaluator. Every method has a neutral default."""

    def call_external(self, ev: "Core", name: str, args: Args, site: Site
                      ) -> Optional[Value]:
        """A call of something outside the linted code, by qualified name."""
        return None

    def external_attribute(self, ev: "Core", base: External, name: str, site: Site
                           ) -> Optional[Value]:
        """``base.name`` where ``base`` is outside the linted code (default: the dotted name)."""
        return None

    def instantiate(self, ev: "Core", inst: InstanceV, args: Args, site: Site) -> None:
        """An instance of a linted class whose bases include framework classes is created
        (before its ``__init__`` runs)."""

    def instance_attribute(self, ev: "Core", inst: InstanceV, name: str, site: Site
                           ) -> Optional[Value]:
        """An attribute that neither the instance nor its linted classes define: a framework
        base class's (``self.apply``, ``self.modules``, ``self.add_weight``)."""
        return None

    def set_instance_attribute(self, ev: "Core", inst: InstanceV, name: str,
                               value: Value, site: Site) -> None:
        """``inst.name = value`` happened."""

    def call_instance(self, ev: "Core", inst: InstanceV, args: Args, site: Site
                      ) -> Optional[Value]:
        """``inst(...)`` where the linted class defines no ``__call__`` (a framework's does)."""
        return None

    def returned(self, ev: "Core", fn: FunctionV, args: Args, value: Value, site: Site
                 ) -> Optional[Value]:
        """A call of the linted code's function ``fn`` returned ``value``: the host may answer
        another result (a helper whose name says what it does to its arguments)."""
        return None

    def call_one_of(self, ev: "Core", callee: OneOf, args: Args, site: Site
                    ) -> Optional[Value]:
        """A call of one of several callables, not known which (the sides of a branch): the
        host may answer for all of them at once (None: each is called as one that may run)."""
        return None

    def call_unknown(self, ev: "Core", callee: Value, args: Args, site: Site
                     ) -> Optional[Value]:
        """A call of something no one knows (an unbound name, an unknown value): the host may
        answer for it from the call as written, or let the arguments escape (None)."""
        return None

    def super_method(self, ev: "Core", inst: Value, base: str, name: str, args: Args,
                     site: Site) -> Optional[Value]:
        """``super().name(...)`` that reached a framework base class ``base``."""
        return None

    def star_name(self, ev: "Core", modules: Sequence[str], name: str) -> Optional[Value]:
        """A name no statement bound, in a file that star-imports ``modules``."""
        return None

    def bound(self, ev: "Core", name: str, value: Value, site: Site) -> None:
        """A name was bound by an assignment."""

    def escaped(self, ev: "Core", value: Value, site: Site) -> None:
        """A call the evaluator cannot see into received ``value`` (not an :class:`Opaque`,
        which is told itself)."""
