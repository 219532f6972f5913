"""Rule registry and selection.

A rule is a small function ``check(layer, ctx) -> iterable of Diagnostic`` over the neutral
model, registered with :func:`rule`. Its docstring, in ruff's style (what it does, why is this
bad, example, fix), is what ``initlint --explain`` prints. Its ``valid`` and ``invalid`` cases
are what ``tests/test_rule_cases.py`` runs. Codes are public and stable.

Every module of this package is imported when the rules are first needed, so a rule is one
file: its check, its documentation and its cases.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import (Callable, ClassVar, Dict, FrozenSet, Iterable, List, Literal, Optional,
                    Protocol, Sequence, Set, Tuple, TypedDict, Union, overload)

import libcst as cst

from ..model import Applicability, Diagnostic, Edit, Fix, InitRequest, Layer, Network, Weight

@dataclass
class Context:
    network: Network
    settings: Dict[str, float] = field(default_factory=dict)
    #: Codes the user selected by name, prefix or ALL (a rule may report more when asked).
    explicit: FrozenSet[str] = frozenset()
    #: Layers one constructor made with different kernel initializers (a block used by a
    #: model that re-initializes it and by one that does not): what holds for one copy does
    #: not hold for all, so none is judged.
    mixed: FrozenSet[int] = frozenset()

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

    def fix(self, layer: Layer, weight: Weight, req: InitRequest, applicability: Applicability,
            message: str) -> Optional[Fix]:
        edits = self.render(layer, weight, req)
        if not edits:
            return None
        return Fix(applicability, message, edits)


#: ``check(layer, ctx)``, run on each layer (``scope="layer"``).
LayerCheck = Callable[[Layer, Context], Iterable[Diagnostic]]
#: ``check(network, ctx)``, run once per file (``scope="network"``).
NetworkCheck = Callable[[Network, Context], Iterable[Diagnostic]]
#: A ``scope="source"`` rule's check: never called, since the engine runs the rule itself (it
#: needs the file's comments, not the network); it carries the documentation.
SourceCheck = Callable[[object, Context], Iterable[Diagnostic]]
#: Any rule's check (a :data:`SourceCheck` is both of these).
Check = Union[LayerCheck, NetworkCheck]


SEVERITY_ORDER = ("info", "warning", "error")


def _source(text: str) -> str:
    """A snippet as written in a rule's module (indented, in triple quotes), as a file."""
    return inspect.cleandoc(text) + "\n" if text else ""


@dataclass(frozen=True)
class Case:
    """A source a rule is tested on, linted with the rule selected by name and, for a rule
    enabled by default, unnamed (the two must agree): in ``invalid``, it must get the rule's
    finding (on ``line``, at ``severity``, fixed into ``fixed`` when given); in ``valid``, no
    finding of the rule.

    ``source`` and ``fixed`` are dedented as the rule's example is; lines count from the first
    line of code."""

    source: str
    #: The whole source after the rule's fixes (``--fix --unsafe-fixes``), exactly; None when
    #: the case does not check the fix.
    fixed: Optional[str] = None
    #: When given, the case gets exactly one finding of the rule, on this line.
    line: Optional[int] = None
    #: When given, the severity of every finding of the rule on this case.
    severity: Optional[str] = None
    #: Other codes enabled with the rule (IL900 judges the suppressions of other rules).
    also: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", _source(self.source))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", _source(self.fixed))
        object.__setattr__(self, "also", tuple(self.also))


@dataclass
class Rule:
    """A registered rule. Its class says what its check runs on: :class:`LayerRule`,
    :class:`NetworkRule` or :class:`SourceRule`."""

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
    #: "layer": check(layer, ctx) per layer; "network": check(network, ctx) once per file;
    #: "source": run by the engine. Set by the subclass.
    scope: ClassVar[str]
    #: Every severity the rule's findings can have, lowest first.
    severities: Tuple[str, ...] = ()
    #: A complete file the rule reports (once), and the same file after the fix (or, for a
    #: rule without a fix, written the way the rule recommends). ``--explain`` shows both and
    #: the tests lint them.
    example: str = ""
    fixed: str = ""
    #: The first line of the message the example gets.
    finding: str = ""
    #: VALID cases: sources that must get no finding of this rule with it selected, the
    #: deliberate idioms it must stay silent on among them (plain strings, or a
    #: :class:`Case` to enable other codes or lint it unnamed).
    valid: Tuple[Case, ...] = ()
    #: INVALID cases: sources that must get this rule's finding, and its fix when given.
    invalid: Tuple[Case, ...] = ()

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


@dataclass
class LayerRule(Rule):
    """A rule whose check runs on each layer of a file."""

    check: LayerCheck
    scope: ClassVar[str] = "layer"


@dataclass
class NetworkRule(Rule):
    """A rule whose check runs once per file, on its whole network."""

    check: NetworkCheck
    scope: ClassVar[str] = "network"


@dataclass
class SourceRule(Rule):
    """A rule the engine runs on the file's source (IL900 judges its ``noqa`` comments)."""

    check: SourceCheck
    scope: ClassVar[str] = "source"


REGISTRY: Dict[str, Rule] = {}


Cases = Sequence[Union[str, Case]]


class _RuleText(TypedDict):
    """The keyword fields of a :class:`Rule` that ``rule`` derives from its arguments."""

    doc_text: Optional[str]
    severities: Tuple[str, ...]
    example: str
    fixed: str
    finding: str
    valid: Tuple[Case, ...]
    invalid: Tuple[Case, ...]


@overload
def rule(code: str, name: str, severity: str, *, default: bool = ..., fix: Optional[str] = ...,
         summary: str, doc: Optional[str] = ..., scope: Literal["layer"] = ...,
         severities: Sequence[str] = ..., example: str = ..., fixed: str = ...,
         finding: str = ..., valid: Cases = ..., invalid: Cases = ...
         ) -> Callable[[LayerCheck], LayerCheck]: ...


@overload
def rule(code: str, name: str, severity: str, *, default: bool = ..., fix: Optional[str] = ...,
         summary: str, doc: Optional[str] = ..., scope: Literal["network"],
         severities: Sequence[str] = ..., example: str = ..., fixed: str = ...,
         finding: str = ..., valid: Cases = ..., invalid: Cases = ...
         ) -> Callable[[NetworkCheck], NetworkCheck]: ...


@overload
def rule(code: str, name: str, severity: str, *, default: bool = ..., fix: Optional[str] = ...,
         summary: str, doc: Optional[str] = ..., scope: Literal["source"],
         severities: Sequence[str] = ..., example: str = ..., fixed: str = ...,
         finding: str = ..., valid: Cases = ..., invalid: Cases = ...
         ) -> Callable[[SourceCheck], SourceCheck]: ...


def rule(code: str, name: str, severity: str, *, default: bool = True,
         fix: Optional[str] = None, summary: str, doc: Optional[str] = None,
         scope: str = "layer", severities: Sequence[str] = (), example: str = "",
         fixed: str = "", finding: str = "", valid: Cases = (), invalid: Cases = ()
         ) -> Union[Callable[[LayerCheck], LayerCheck], Callable[[NetworkCheck], NetworkCheck],
                    Callable[[SourceCheck], SourceCheck]]:
    """Register ``check`` under ``code``. One check may carry several codes (a finding and its
    quieter variant); it runs once when any of them is enabled. ``scope`` says what the check
    runs on: each layer (``check(layer, ctx)``), the file's network (``check(network, ctx)``)
    or, for a rule the engine runs itself, nothing.

    ``valid`` lists sources that must get no finding of this rule; ``invalid`` lists
    :class:`Case` objects (or bare sources) that must get one. The sources are dedented, so
    they can be written indented in the rule's module."""
    text = _rule_text(code, severity, doc, severities, example, fixed, finding, valid, invalid)

    def layer_rule(fn: LayerCheck) -> LayerCheck:
        _add(LayerRule(code, name, severity, default, fix, fn, summary, **text))
        return fn

    def network_rule(fn: NetworkCheck) -> NetworkCheck:
        _add(NetworkRule(code, name, severity, default, fix, fn, summary, **text))
        return fn

    def source_rule(fn: SourceCheck) -> SourceCheck:
        _add(SourceRule(code, name, severity, default, fix, fn, summary, **text))
        return fn

    if scope == "layer":
        return layer_rule
    if scope == "network":
        return network_rule
    if scope == "source":
        return source_rule
    raise ValueError(f"{code}: unknown scope {scope!r}")


def _rule_text(code: str, severity: str, doc: Optional[str], severities: Sequence[str],
               example: str, fixed: str, finding: str, valid: Cases, invalid: Cases
               ) -> _RuleText:
    """The checked severities and cases, and the dedented texts, of a rule being declared."""
    levels = tuple(sorted(set(severities) or {severity}, key=SEVERITY_ORDER.index))
    if levels[-1] != severity:
        raise ValueError(f"{code}: the highest of {levels} must be {severity}")
    valid_cases = tuple(c if isinstance(c, Case) else Case(c) for c in valid)
    invalid_cases = tuple(c if isinstance(c, Case) else Case(c) for c in invalid)
    if any(c.fixed is not None or c.line is not None or c.severity is not None
           for c in valid_cases):
        raise ValueError(f"{code}: a valid case has no finding, so no line, severity or fix")
    return _RuleText(doc_text=doc, severities=levels, example=_source(example),
                     fixed=_source(fixed), finding=finding, valid=valid_cases,
                     invalid=invalid_cases)


def _add(r: Rule) -> None:
    if r.code in REGISTRY:
        raise ValueError(f"duplicate rule code {r.code}")
    REGISTRY[r.code] = r


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
    """Import every module of this package once: each rule registers itself on import, so
    adding a rule is adding a module, with no list to update."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")


class SelectorLayer(Protocol):
    """One layer of ruff-style selectors, as :class:`initlint.config.Selection` holds it."""

    @property
    def select(self) -> Optional[Sequence[str]]: ...

    @property
    def extend_select(self) -> Sequence[str]: ...

    @property
    def ignore(self) -> Sequence[str]: ...


def resolve_layers(layers: Sequence[SelectorLayer]) -> List[str]:
    """Resolve selector layers in order (the config file's, then the command line's). A layer
    with ``select`` starts afresh; one without builds on the layer before."""
    enabled: Optional[List[str]] = None
    for layer in layers:
        enabled = resolve_selection(layer.select, layer.extend_select, layer.ignore, enabled)
    return enabled if enabled is not None else resolve_selection()


def explicit_in_layers(layers: Sequence[SelectorLayer], enabled: Iterable[str]) -> List[str]:
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
    ctx = Context(network, dict(settings or {}), frozenset(explicit), _mixed(network))
    codes = set(enabled)
    checks: List[Rule] = []
    for code in sorted(codes):
        r = REGISTRY.get(code)
        if r is not None and all(c.check is not r.check for c in checks):
            checks.append(r)
    out: List[Diagnostic] = []
    for r in checks:
        if isinstance(r, NetworkRule):
            out.extend(d for d in r.check(network, ctx) if d.code in codes)
    for layer in network.layers:
        if _elsewhere(layer) or id(layer) in ctx.mixed:
            continue
        for r in checks:
            if not isinstance(r, LayerRule):
                continue  # network rules ran above; the engine runs source rules
            for d in r.check(layer, ctx):
                if d.code in codes:
                    d.layer = layer
                    out.append(d)
    return _merge_shared(out)


def _mixed(network: Network) -> FrozenSet[int]:
    """The layers whose constructor made copies left at the framework's default and copies
    that something re-initialized (a block inside a model that re-initializes every layer and
    inside one that does not). Copies that differ by what they were given (a helper called
    with ``"he_normal"`` here and ``"glorot_normal"`` there) are each judged: the finding
    names the call. A copy initlint built itself (a base class no one instantiates alone)
    is no model's."""
    kinds: Dict[int, Set[bool]] = {}
    for layer in network.layers:
        w = layer.activated_kernel
        if w is not None and not layer.standalone:
            kinds.setdefault(id(layer.origin or layer.node), set()).add(w.init.is_default)
    return frozenset(id(x) for x in network.layers
                     if len(kinds.get(id(x.origin or x.node), ())) > 1)


def built_elsewhere(run: List[Layer]) -> bool:
    """A run of layers that another module of the run writes and puts together, built here
    by a call that passes nothing (``model = Model()`` in a training script): that module's
    own reading builds the same model from the same defaults and reports the run where it is
    written. A call with arguments may change the run (``dense_block(x, 12)``): it is judged
    here."""
    for layer in run:
        if not _elsewhere(layer):
            return False
        call = layer.node
        if not isinstance(call, cst.Call) or call.args:
            return False
    return True


def _elsewhere(layer: Layer) -> bool:
    """A layer written, and initialized, in another module of the run (``model = GPT(cfg)`` in
    a training script): that module's own reading reports what is wrong with the layer, where
    it is written. An initializer this file gives it is this file's to report, and so is a
    run of layers this file puts together (network rules)."""
    return layer.foreign and all(w.init.foreign or w.init.is_default for w in layer.weights)


def _merge_shared(diags: List[Diagnostic]) -> List[Diagnostic]:
    """One finding per code and node. A call that initializes several layers (an ``apply``
    function, a loop) is reported once, saying how many more layers it sets."""
    groups: Dict[Tuple[str, int], List[Diagnostic]] = {}
    out: List[Diagnostic] = []
    for d in diags:
        key = (d.code, id(d.node))
        group = groups.setdefault(key, [])
        if any(g.layer is d.layer for g in group) or not group:
            out.append(d)  # the same layer (e.g. two kernels of one layer) stays separate
        group.append(d)
    for group in groups.values():
        layers = list({id(g.layer): g.layer for g in group}.values())
        n = len(layers) - 1
        if not n:
            continue
        first, sep, details = group[0].message.partition("\n")
        if len({id(x.node) for x in layers if x is not None}) == 1:
            # One constructor run several times (a helper called, a class instantiated, more
            # than once): the same layer definition, not more layers set by one call.
            group[0].message = f"{first} ({n + 1} layers built here){sep}{details}"
        else:
            group[0].message = (f"{first} (and {n} more layer{'s' if n > 1 else ''} set by "
                                f"this call){sep}{details}")
    return out
