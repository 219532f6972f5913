"""Rule registry and selection.

A rule is a small function ``check(layer, ctx) -> iterable of Diagnostic`` over the neutral
model, registered with :func:`rule`. Its docstring, in ruff's style (what it does, why is this
bad, example, fix), is what ``initlint --explain`` prints. Codes are public and stable.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from ..model import Diagnostic, Edit, Fix, InitRequest, Layer, Network, Weight

@dataclass
class Context:
    network: Network
    settings: Dict[str, float] = field(default_factory=dict)
    #: Codes the user selected by name, prefix or ALL (a rule may report more when asked).
    explicit: FrozenSet[str] = frozenset()

    def render(self, layer: Layer, weight: Weight, req: InitRequest) -> Optional[List[Edit]]:
        if self.network.renderer is None:
            return None
        return self.network.renderer(layer, weight, req)

    def name(self, layer: Layer, req: InitRequest) -> str:
        """The recommended initializer as the layer's framework spells it."""
        if self.network.namer is not None:
            return self.network.namer(layer, req)
        from .common import suggestion_name

        return suggestion_name(req)

    def fix(self, layer: Layer, weight: Weight, req: InitRequest, applicability: str,
            message: str) -> Optional[Fix]:
        edits = self.render(layer, weight, req)
        if not edits:
            return None
        return Fix(applicability, message, edits)


Check = Callable[[Layer, Context], Iterable[Diagnostic]]


SEVERITY_ORDER = ("info", "warning", "error")


@dataclass
class Rule:
    code: str
    name: str
    #: The severity the rule reports at most; individual findings may be lower.
    severity: str
    default_enabled: bool
    #: "safe", "unsafe" or None: what applying this rule's fix means.
    fix: Optional[str]
    check: Check
    summary: str
    #: Documentation when it differs from the check's docstring (two codes, one check).
    doc_text: Optional[str] = None
    #: "layer": check(layer, ctx) per layer; "network": check(network, ctx) once per file.
    scope: str = "layer"
    #: Every severity the rule's findings can have, lowest first.
    severities: Tuple[str, ...] = ()
    #: A complete file the rule reports (once), and the same file after the fix (or, for a
    #: rule without a fix, written the way the rule recommends). ``--explain`` shows both and
    #: the tests lint them.
    example: str = ""
    fixed: str = ""
    #: The first line of the message the example gets.
    finding: str = ""

    @property
    def doc(self) -> str:
        """What ``--explain`` prints: the documentation with its example, the finding it gets
        and the fixed code inserted before the ``## Fix`` section."""
        text = inspect.cleandoc(self.doc_text or self.check.__doc__ or "")
        if not self.example:
            return text
        block = (f"## Example\n```python\n{self.example}```\n\n"
                 f"initlint reports:\n```\n{self.code} {self.finding}\n```\n\n"
                 f"Use instead:\n```python\n{self.fixed}```\n")
        head, sep, tail = text.partition("## Fix\n")
        if not sep:
            return f"{text.rstrip()}\n\n{block}"
        return f"{head.rstrip()}\n\n{block}\n{sep}{tail}"

    @property
    def severity_range(self) -> str:
        """``warning``, or ``info-error`` for a rule whose findings vary."""
        levels = self.severities or (self.severity,)
        return levels[0] if len(levels) == 1 else f"{levels[0]}-{levels[-1]}"


REGISTRY: Dict[str, Rule] = {}


def rule(code: str, name: str, severity: str, *, default: bool = True,
         fix: Optional[str] = None, summary: str, doc: Optional[str] = None,
         scope: str = "layer", severities: Sequence[str] = (), example: str = "",
         fixed: str = "", finding: str = "") -> Callable[[Check], Check]:
    """Register ``check`` under ``code``. One check may carry several codes (a finding and its
    quieter variant); it runs once when any of them is enabled."""
    levels = tuple(sorted(set(severities) or {severity}, key=SEVERITY_ORDER.index))
    if levels[-1] != severity:
        raise ValueError(f"{code}: the highest of {levels} must be {severity}")

    def register(fn: Check) -> Check:
        if code in REGISTRY:
            raise ValueError(f"duplicate rule code {code}")
        REGISTRY[code] = Rule(code, name, severity, default, fix, fn, summary, doc, scope,
                              levels, inspect.cleandoc(example) + "\n" if example else "",
                              inspect.cleandoc(fixed) + "\n" if fixed else "", finding)
        return fn

    return register


def all_rules() -> List[Rule]:
    _load()
    return [REGISTRY[c] for c in sorted(REGISTRY)]


def get(code: str) -> Optional[Rule]:
    _load()
    return REGISTRY.get(code.upper())


class SelectionError(ValueError):
    pass


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate_selectors(selectors: Sequence[str]) -> None:
    _load()
    for s in selectors:
        if s != "ALL" and not any(code.startswith(s) for code in REGISTRY):
            raise SelectionError(f"unknown rule selector {s!r}")


def resolve_selection(select: Optional[Sequence[str]] = None,
                      extend_select: Sequence[str] = (),
                      ignore: Sequence[str] = (),
                      base: Optional[Iterable[str]] = None) -> List[str]:
    """Codes enabled by ruff-style selectors. ``select`` replaces the defaults (or ``base``, the
    result of an earlier layer); ``extend_select`` adds; ``ignore`` removes. A more specific
    selector beats a less specific one."""
    _load()
    validate_selectors(list(select or []) + list(extend_select) + list(ignore))
    base_set = set(base) if base is not None else None
    enabled = []
    for code, r in REGISTRY.items():
        if select is None:
            on = r.default_enabled if base_set is None else code in base_set
            best = -1
        else:
            hits = [s for s in select if _matches(s, code)]
            on = bool(hits)
            best = max((0 if s == "ALL" else len(s) for s in hits), default=-1)
        for s in extend_select:
            if _matches(s, code):
                spec = 0 if s == "ALL" else len(s)
                if spec >= best:
                    on, best = True, spec
        for s in ignore:
            if _matches(s, code):
                spec = 0 if s == "ALL" else len(s)
                if spec >= best:
                    on, best = False, spec
        if on:
            enabled.append(code)
    return sorted(enabled)


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from . import (constant_kernel, default_drift, glorot_relu,  # noqa: F401
                       unscaled_random, unused_noqa)


def resolve_layers(layers: Sequence) -> List[str]:
    """Resolve selector layers in order (the config file's, then the command line's). A layer
    with ``select`` starts afresh; one without builds on the layer before."""
    enabled: Optional[List[str]] = None
    for layer in layers:
        enabled = resolve_selection(layer.select, layer.extend_select, layer.ignore, enabled)
    return enabled if enabled is not None else resolve_selection()


def explicit_in_layers(layers: Sequence, enabled: Iterable[str]) -> List[str]:
    """Enabled codes some layer's ``select``/``extend_select`` names (ALL included)."""
    selectors = [s for layer in layers for s in list(layer.select or []) +
                 list(layer.extend_select)]
    return [c for c in enabled if any(_matches(s, c) for s in selectors)]


#: Numeric settings rules expose (config keys), with their defaults.
SETTINGS: Dict[str, float] = {}


def setting(name: str, default: float) -> float:
    """Declare a numeric setting a rule reads from ``Context.settings``."""
    SETTINGS[name] = default
    return default


def all_settings() -> Dict[str, float]:
    _load()
    return dict(SETTINGS)


def explicit_codes(select: Optional[Sequence[str]] = None, extend_select: Sequence[str] = (),
                   ignore: Sequence[str] = ()) -> List[str]:
    """Enabled codes that a ``select``/``extend_select`` selector names (ALL included)."""
    enabled = resolve_selection(select, extend_select, ignore)
    selectors = list(select or []) + list(extend_select)
    return [c for c in enabled if any(_matches(s, c) for s in selectors)]


def run_rules(network: Network, enabled: Iterable[str],
              settings: Optional[Dict[str, float]] = None,
              explicit: Iterable[str] = ()) -> List[Diagnostic]:
    _load()
    ctx = Context(network, dict(settings or {}), frozenset(explicit))
    codes = set(enabled)
    checks: List[Rule] = []
    for code in sorted(codes):
        r = REGISTRY.get(code)
        if r is not None and all(c.check is not r.check for c in checks):
            checks.append(r)
    out: List[Diagnostic] = []
    for r in checks:
        if r.scope == "network":
            out.extend(d for d in r.check(network, ctx) if d.code in codes)  # type: ignore[arg-type]
    for layer in network.layers:
        for r in checks:
            if r.scope != "layer":  # "network" ran above; "source" runs in the engine
                continue
            for d in r.check(layer, ctx):
                if d.code in codes:
                    d.layer = layer
                    out.append(d)
    return _merge_shared(out)


def _merge_shared(diags: List[Diagnostic]) -> List[Diagnostic]:
    """One finding per code and node. A call that initializes several layers (an ``apply``
    function, a loop) is reported once, saying how many more layers it sets."""
    groups: Dict[tuple, List[Diagnostic]] = {}
    out: List[Diagnostic] = []
    for d in diags:
        key = (d.code, id(d.node))
        group = groups.setdefault(key, [])
        if any(g.layer is d.layer for g in group) or not group:
            out.append(d)  # the same layer (e.g. two kernels of one layer) stays separate
        group.append(d)
    for group in groups.values():
        n = len({id(g.layer) for g in group}) - 1
        if n:
            first, sep, details = group[0].message.partition("\n")
            group[0].message = (f"{first} (and {n} more layer{'s' if n > 1 else ''} set by "
                                f"this call){sep}{details}")
    return out
