"""Python's builtins, the numeric functions of ``math`` and NumPy, and the methods of
constants and containers, on abstract values.

Each function takes the evaluator, the evaluated arguments and the call site, and returns a
value (never raises on user code: anything it cannot compute is unknown).
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence

from .values import (UNKNOWN, Args, ClassV, Const, DictV, External, InstanceV, Opaque, PartialV,
                     Scalar, Seq, Site, Unknown, Value)

if TYPE_CHECKING:  # pragma: no cover
    from .core import Core

Builtin = Callable[["Core", Args, Site], Value]


def number(v: Optional[Value]) -> Optional[float]:
    """The number a value holds (bools are not numbers here)."""
    if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return v.value
    return None


def integer(v: Optional[Value]) -> Optional[int]:
    n = number(v)
    return n if isinstance(n, int) else None


def const(value: object, site: Optional[Site] = None) -> Value:
    """A constant made by the evaluator (not written in the source)."""
    if isinstance(value, (int, float, complex, str, bytes, bool)) or value is None:
        return Const(value, site.node if site else None)
    if isinstance(value, (tuple, list)):
        return Seq([const(v, site) for v in value], "tuple" if isinstance(value, tuple) else "list")
    return UNKNOWN


def _pure(fn: Callable[..., object], arity: Sequence[int] = (1,)) -> Builtin:
    """A builtin over numbers: known when every argument is a known number."""

    def run(ev: "Core", args: Args, site: Site) -> Value:
        if args.keywords or args.star_unknown or len(args.positional) not in arity:
            return UNKNOWN
        nums = [number(a) for a in args.positional]
        if any(n is None for n in nums):
            return UNKNOWN
        try:
            return const(fn(*nums), site)
        except (ArithmeticError, ValueError, TypeError, OverflowError):
            return UNKNOWN

    return run


def items_of(ev: "Core", v: Value) -> Optional[List[Value]]:
    """The items a value yields when iterated, when known and small."""
    if isinstance(v, Seq) and v.exact:
        return list(v.items)
    if isinstance(v, DictV) and v.exact:
        return [const(k) for k in v.items]
    if isinstance(v, Const) and isinstance(v.value, str) and len(v.value) <= ev.limits.unroll:
        return [Const(c) for c in v.value]
    if isinstance(v, Opaque):
        got = v.iterate(ev)
        return list(got) if got is not None else None
    return None


def _range(ev: "Core", args: Args, site: Site) -> Value:
    nums = [integer(a) for a in args.positional]
    if args.keywords or not 1 <= len(nums) <= 3 or any(n is None for n in nums):
        return Seq([Unknown("range of unknown length")], "list", exact=False)
    r = range(*[n for n in nums if n is not None])
    if len(r) > ev.limits.items:
        return Seq([Const(r[0]) if len(r) else UNKNOWN], "list", exact=False)
    return Seq([Const(i, site.node) for i in r], "list")


def _len(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) != 1:
        return UNKNOWN
    v = args.positional[0]
    if isinstance(v, (Seq, DictV)) and v.exact:
        return Const(len(v.items), site.node)
    if isinstance(v, Const) and isinstance(v.value, (str, bytes)):
        return Const(len(v.value), site.node)
    items = items_of(ev, v) if isinstance(v, Opaque) else None
    return Const(len(items), site.node) if items is not None else UNKNOWN


def _convert(kind: type) -> Builtin:
    def run(ev: "Core", args: Args, site: Site) -> Value:
        if len(args.positional) != 1 or args.keywords:
            return UNKNOWN if args.positional or args.keywords else Const(kind())
        v = args.positional[0]
        if isinstance(v, Const) and isinstance(v.value, (int, float, str, bool)):
            try:
                return Const(kind(v.value), v.node, v.via, v.module)
            except (ValueError, OverflowError):
                return UNKNOWN
        return UNKNOWN

    return run


def _sequence(kind: str) -> Builtin:
    def run(ev: "Core", args: Args, site: Site) -> Value:
        if not args.positional:
            return Seq([], kind, node=site.node)
        items = items_of(ev, args.positional[0])
        if items is None:
            return Seq([UNKNOWN], kind, exact=False, node=site.node)
        return Seq(items, kind, node=site.node)

    return run


def _dict(ev: "Core", args: Args, site: Site) -> Value:
    out = DictV(node=site.node)
    if args.positional:
        src = args.positional[0]
        if isinstance(src, DictV):
            out.items.update(src.items)
            out.exact = src.exact
        else:
            out.exact = False
    for k, v in args.keywords.items():
        out.items[k] = v
    if args.kwargs_unknown:
        out.exact = False
    return out


def _minmax(pick: Callable[..., object]) -> Builtin:
    def run(ev: "Core", args: Args, site: Site) -> Value:
        vals = args.positional
        if len(vals) == 1:
            vals = items_of(ev, vals[0]) or [UNKNOWN]
        nums = [number(v) for v in vals]
        if not nums or any(n is None for n in nums) or args.keywords:
            return UNKNOWN
        return const(pick(nums), site)

    return run


def _sum(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) != 1:
        return UNKNOWN
    nums = [number(v) for v in items_of(ev, args.positional[0]) or [UNKNOWN]]
    if any(n is None for n in nums):
        return UNKNOWN
    return const(sum(n for n in nums if n is not None), site)


def _zip(ev: "Core", args: Args, site: Site) -> Value:
    cols = [items_of(ev, a) for a in args.positional]
    if cols and all(isinstance(a, Seq) for a in args.positional) and any(c is None for c in cols):
        # Lists of unknown length: rows of what they are known to hold.
        reps = [a.items for a in args.positional if isinstance(a, Seq)]
        return Seq([Seq(list(row), "tuple") for row in zip(*reps)] or [UNKNOWN], "list",
                   exact=False)
    if not cols or any(c is None for c in cols):
        return Seq([UNKNOWN], "list", exact=False)
    known = [c for c in cols if c is not None]
    return Seq([Seq(list(row), "tuple") for row in zip(*known)], "list")


def _enumerate(ev: "Core", args: Args, site: Site) -> Value:
    items = items_of(ev, args.positional[0]) if args.positional else None
    if items is None:
        return Seq([Seq([UNKNOWN, UNKNOWN], "tuple")], "list", exact=False)
    start = integer(args.get(1, "start")) or 0
    return Seq([Seq([Const(i + start), v], "tuple") for i, v in enumerate(items)], "list")


def _reversed(ev: "Core", args: Args, site: Site) -> Value:
    items = items_of(ev, args.positional[0]) if args.positional else None
    return Seq(list(reversed(items)), "list") if items is not None else UNKNOWN


def _isinstance(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) != 2:
        return UNKNOWN
    obj, cls = args.positional
    classes = cls.items if isinstance(cls, Seq) and cls.exact else [cls]
    got = ev.isinstance_of(obj, classes)
    return UNKNOWN if got is None else Const(got)


def _getattr(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) < 2:
        return UNKNOWN
    name = args.positional[1]
    if not (isinstance(name, Const) and isinstance(name.value, str)):
        return UNKNOWN
    got = ev.get_attribute(args.positional[0], name.value, site)
    if isinstance(got, Unknown) and len(args.positional) == 3:
        return args.positional[2]
    return got


def _setattr(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) == 3:
        name = args.positional[1]
        if isinstance(name, Const) and isinstance(name.value, str):
            ev.set_attribute(args.positional[0], name.value, args.positional[2], site)
    return Const(None)


def _hasattr(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) != 2:
        return UNKNOWN
    obj, name = args.positional
    if not (isinstance(name, Const) and isinstance(name.value, str)):
        return UNKNOWN
    got: Optional[bool] = None
    if isinstance(obj, Opaque):
        got = obj.has_attribute(ev, name.value)
    elif isinstance(obj, InstanceV) and (name.value in obj.attrs
                                         or obj.cls.lookup(name.value)[0] is not None):
        got = True
    return UNKNOWN if got is None else Const(got)


def _none(ev: "Core", args: Args, site: Site) -> Value:
    return Const(None)


def _partial(ev: "Core", args: Args, site: Site) -> Value:
    if not args.positional:
        return UNKNOWN
    rest = Args(args.positional[1:], dict(args.keywords), args.positional_nodes[1:],
                dict(args.keyword_nodes), args.star_unknown, args.kwargs_unknown,
                list(args.star_items))
    return PartialV(args.positional[0], rest)


def _type(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) == 1 and isinstance(args.positional[0], InstanceV):
        return args.positional[0].cls
    if len(args.positional) == 1 and isinstance(args.positional[0], Opaque):
        got = args.positional[0].attribute(ev, "__class__", site)
        return got if got is not None else UNKNOWN
    return UNKNOWN


BUILTINS: Dict[str, Builtin] = {
    "range": _range, "len": _len, "int": _convert(int), "float": _convert(float),
    "str": _convert(str), "bool": _convert(bool), "abs": _pure(abs), "round": _pure(round, (1, 2)),
    "min": _minmax(min), "max": _minmax(max), "sum": _sum, "pow": _pure(pow, (2,)),
    "list": _sequence("list"), "tuple": _sequence("tuple"), "set": _sequence("set"),
    "sorted": _sequence("list"), "dict": _dict, "zip": _zip, "enumerate": _enumerate,
    "reversed": _reversed, "isinstance": _isinstance, "getattr": _getattr,
    "setattr": _setattr, "hasattr": _hasattr, "print": _none, "type": _type,
}

#: Qualified names outside the linted code that are plain Python or plain numbers.
_MATH = {"sqrt": math.sqrt, "log": math.log, "exp": math.exp, "floor": math.floor,
         "ceil": math.ceil, "log2": math.log2, "log10": math.log10, "fabs": math.fabs,
         "tanh": math.tanh}
EXTERNAL: Dict[str, Builtin] = {
    "functools.partial": _partial,
    "math.pow": _pure(math.pow, (2,)),
    "math.prod": lambda ev, args, site: _prod(ev, args, site),
    "numpy.prod": lambda ev, args, site: _prod(ev, args, site),
    "numpy.power": _pure(math.pow, (2,)),
    "operator.mul": _pure(operator.mul, (2,)),
}
for _name, _fn in _MATH.items():
    EXTERNAL[f"math.{_name}"] = _pure(_fn)
    EXTERNAL[f"numpy.{_name}"] = _pure(_fn)
EXTERNAL["numpy.abs"] = _pure(abs)

#: Constants of numeric modules.
CONSTANTS: Dict[str, Scalar] = {"math.pi": math.pi, "math.e": math.e, "numpy.pi": math.pi,
                                "numpy.e": math.e, "math.inf": math.inf}


def _prod(ev: "Core", args: Args, site: Site) -> Value:
    if len(args.positional) != 1:
        return UNKNOWN
    nums = [number(v) for v in items_of(ev, args.positional[0]) or [UNKNOWN]]
    if any(n is None for n in nums):
        return UNKNOWN
    return const(math.prod(n for n in nums if n is not None), site)


# --- methods of constants and containers -------------------------------------------------


def _str_method(name: str, recv: str, args: Args) -> Value:
    vals = [a.value for a in args.positional if isinstance(a, Const)]
    if len(vals) != len(args.positional) or args.keywords:
        return UNKNOWN
    simple = {"lower": str.lower, "upper": str.upper, "strip": str.strip, "title": str.title,
              "startswith": str.startswith, "endswith": str.endswith, "replace": str.replace,
              "split": str.split, "format": str.format, "casefold": str.casefold,
              "find": str.find, "rfind": str.rfind, "count": str.count, "lstrip": str.lstrip,
              "rstrip": str.rstrip, "isupper": str.isupper, "islower": str.islower}
    fn = simple.get(name)
    if fn is None:
        return UNKNOWN
    try:
        return const(fn(recv, *vals))  # type: ignore[operator]
    except (TypeError, ValueError, IndexError, KeyError):
        return UNKNOWN


def _list_method(ev: "Core", seq: Seq, name: str, args: Args, site: Site) -> Value:
    if name == "append" and len(args.positional) == 1:
        if len(seq.items) < ev.limits.items:
            seq.items.append(args.positional[0])
        else:
            seq.exact = False
        return Const(None)
    if name == "extend" and len(args.positional) == 1:
        more = items_of(ev, args.positional[0])
        if more is None:
            seq.exact = False
        else:
            seq.items.extend(more[: max(0, ev.limits.items - len(seq.items))])
        return Const(None)
    if name == "insert" and len(args.positional) == 2:
        i = integer(args.positional[0])
        if i is None:
            seq.exact = False
        seq.items.insert(i if i is not None else len(seq.items), args.positional[1])
        return Const(None)
    if name == "pop" and seq.exact and seq.items and not args.positional:
        return seq.items.pop()
    if name == "copy":
        return Seq(list(seq.items), seq.kind, seq.exact)
    return UNKNOWN


def _dict_method(ev: "Core", d: DictV, name: str, args: Args, site: Site) -> Value:
    if name in ("get", "pop", "setdefault") and args.positional:
        key = args.positional[0]
        default = args.positional[1] if len(args.positional) > 1 else Const(None)
        if not isinstance(key, Const):
            return UNKNOWN
        if key.value in d.items:
            return d.items.pop(key.value) if name == "pop" else d.items[key.value]
        if name == "setdefault":
            d.items[key.value] = default
        return default if d.exact else UNKNOWN
    if name in ("items", "keys", "values") and not args.positional:
        pairs = list(d.items.items())
        if name == "items":
            made: List[Value] = [Seq([const(k), v], "tuple") for k, v in pairs]
        else:
            made = [const(k) if name == "keys" else v for k, v in pairs]
        return Seq(made, "list", exact=d.exact)
    if name == "update":
        if args.positional and isinstance(args.positional[0], DictV):
            d.items.update(args.positional[0].items)
        elif args.positional:
            d.exact = False
        d.items.update(args.keywords)
        return Const(None)
    if name == "copy":
        return DictV(dict(d.items), d.exact)
    return UNKNOWN


def call_value_method(ev: "Core", recv: Value, name: str, args: Args, site: Site
                      ) -> Optional[Value]:
    """A method of a constant or container; None when the receiver is none of those."""
    if isinstance(recv, Const) and isinstance(recv.value, str):
        return _str_method(name, recv.value, args)
    if isinstance(recv, Seq):
        return _list_method(ev, recv, name, args, site)
    if isinstance(recv, DictV):
        return _dict_method(ev, recv, name, args, site)
    return None


def is_class_like(v: Value) -> bool:
    return isinstance(v, (ClassV, External))
