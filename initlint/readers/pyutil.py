"""Small static helpers shared by readers: dotted names, the import table, constant folding.

The import table replaces libcst's qualified-name metadata, which costs several times the parse:
readers fill it while they walk the module once.
"""

from __future__ import annotations

import operator
from typing import Callable, Dict, Iterable, List, Optional, Set, Type

import libcst as cst

UNKNOWN = Ellipsis  # marks a value that could not be evaluated statically


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


class ImportTable:
    """Maps local names to the dotted names they were imported as."""

    def __init__(self) -> None:
        self.aliases: Dict[str, str] = {}
        self.star_modules: List[str] = []
        #: Local names rebound by a definition in this file (``class Dense: ...``).
        self.shadowed: Set[str] = set()

    def add(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    self.aliases[head] = head
                self.shadowed.discard(full.split(".")[0])
        elif isinstance(node, cst.ImportFrom):
            if node.relative:  # from . import x: the user's own code
                return
            module = (dotted_name(node.module) or "") if node.module is not None else ""
            if isinstance(node.names, cst.ImportStar):
                self.star_modules.append(module)
                return
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                local = name
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                self.aliases[local] = f"{module}.{name}" if module else name
                self.shadowed.discard(local)

    def shadow(self, name: str) -> None:
        self.aliases.pop(name, None)
        self.shadowed.add(name)

    def resolve(self, dotted: Optional[str]) -> Optional[str]:
        """The fully qualified dotted name, or None when the head was not imported."""
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        full = self.aliases.get(head)
        if full is None:
            return None
        return f"{full}.{rest}" if rest else full

    def star_candidates(self, name: str) -> Iterable[str]:
        if name in self.shadowed or name in self.aliases:
            return ()
        return [f"{m}.{name}" for m in self.star_modules]

    def local_for(self, qualified_prefix: str) -> Optional[str]:
        """A local name bound to exactly ``qualified_prefix`` (e.g. the alias of a module)."""
        for local, full in self.aliases.items():
            if full == qualified_prefix:
                return local
        return None


#: Constant folding: operands are constants of any type (an unsupported pair raises TypeError).
BINOPS: Dict[Type[cst.BaseBinaryOp], Callable[[object, object], object]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Power: operator.pow,
    cst.Modulo: operator.mod,
}


def literal_string(node: cst.CSTNode) -> Optional[str]:
    if not isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return None
    try:
        value = node.evaluated_value
    except Exception:  # noqa: BLE001 - malformed escapes: not a string we can use
        return None
    return value if isinstance(value, str) else None  # bytes literals are not names


def is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def call_arguments(call: cst.Call, positional: Iterable[str]) -> Dict[str, cst.Arg]:
    """Bind a call's arguments to parameter names using the given positional order.

    ``*args``/``**kwargs`` stop positional binding; keywords are taken as written.
    """
    names = list(positional)
    bound: Dict[str, cst.Arg] = {}
    pos = 0
    for arg in call.args:
        if arg.star:
            pos = len(names) + 1  # anything after a star is not positional-known
            continue
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg
        else:
            if pos < len(names):
                bound[names[pos]] = arg
            pos += 1
    return bound


def default_quote(source: str) -> str:
    """The quote character the file uses most (double when tied), for strings a fix inserts."""
    singles = source.count("'")
    doubles = source.count('"')
    return "'" if singles > doubles else '"'
