"""The shared analysis core: a bounded abstract interpreter that knows Python, not frameworks.

Readers plug into it as a :class:`Host`; see :mod:`initlint.analysis.evaluator`.
"""

from .context import Resolver, reading
from .evaluator import BudgetExceeded, Evaluator
from .host import Host, Limits
from .values import (UNKNOWN, Args, Bound, ClassV, Const, DictV, External, FunctionV, InstanceV,
                     MethodRef, OneOf, Opaque, PartialV, Provenance, Scope, Seq, Site, Step, Unknown,
                     Value)

__all__ = ["Args", "Bound", "BudgetExceeded", "ClassV", "Const", "DictV", "Evaluator", "External",
           "FunctionV", "Host", "InstanceV", "Limits", "MethodRef", "OneOf", "Opaque", "PartialV",
           "Provenance", "Resolver", "reading", "Scope", "Seq", "Site", "Step", "UNKNOWN", "Unknown",
           "Value"]
