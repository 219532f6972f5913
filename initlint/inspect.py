"""``initlint inspect PATH[:LINE]...``: the network model the rules saw, layer by layer.

For every file (directories are searched as the linter searches them) initlint prints what its
readers made of the code: each stack (a Sequential, a functional chain, a module's forward),
then the layers in no stack, and for each layer its name, type, kind, position, activation and
where that came from, and every weight's fans and initializer with how it was written. It is
the answer to "why did (or didn't) initlint report this layer?".

``PATH:LINE`` (``PATH:LINE:COL`` is accepted, so a finding's location can be pasted) shows only
the layers whose constructor spans that line; in a notebook, ``PATH:cell N:line M``.

Every location reads like a finding's: ``model.py:12:5``, or ``nb.ipynb:cell 3:line 2:col 5``
in a notebook (cells counted from 1, markdown cells included; lines within the cell).

``--format json`` prints one JSON list; keys are only ever added. Each element is a *group*:

``path``
    The file, as given or found.
``stack``
    ``"sequential"``, ``"functional"`` or ``"module"``; ``null`` for the layers in no stack.
``at``
    A *location* of the stack (its constructor, else its first layer), or ``null``.
``layers``
    A list of *layers*, in the stack's order.

A *location* is ``{"text", "line", "column", "cell"}``: ``text`` as printed
(``"model.py:12:5"``), ``line`` and ``column`` 1-based, ``cell`` the 1-based notebook cell
(``line`` is then a line of that cell) or ``null`` outside notebooks.

A *layer* has:

``name``
    The name the code gives it (``self.fc1``, ``conv1``) or ``null``.
``type``
    The class as the framework names it (``Dense``, ``Conv2d``).
``kind``
    ``dense``, ``conv``, ``conv_transpose``, ``depthwise_conv``, ``separable_conv``,
    ``embedding``, ``recurrent``, ``attention`` or ``other``.
``framework``
    ``keras``, ``torch``, ``numpy``, ...
``position``
    ``hidden``, ``output`` or ``unknown``.
``at``
    The location of its constructor (or ``null``).
``called_at``
    The locations of the calls in the file through which the layer was built, outermost first
    (a layer made inside a helper function: the helper's call sites); empty otherwise.
``activation``
    ``{"name", "params", "known", "source", "at", "origin"}``: the canonical name
    (``relu``, ``unknown``), its parameters (``{"slope": 0.2}``), whether it is known, where it
    came from (``keyword``, ``positional``, ``next_layer``, ``forward``, ``default`` or
    ``unknown``), the location of the expression it was read from (or ``null``), and ``origin``,
    a sentence on how the value reached the layer when initlint knows it (else ``null``).
``weights``
    A list of ``{"role", "fan_in", "fan_out", "receptive", "init"}``: ``role`` is ``kernel``,
    ``recurrent``, ``depthwise``, ``pointwise``, ``bias`` or ``embeddings``; the fans are ints
    or ``null`` when unknown; ``receptive`` the kernel-size product folded into both fans.
``weights[].init``
    ``{"family", "distribution", "display", "scale", "mode", "std", "mean", "low", "high",
    "gain", "value", "explicit_scale", "written", "at", "origin"}``: the initializer in neutral
    terms (``family`` ``he``, ``glorot``, ``lecun``, ``scaled``, ``fixed``, ``orthogonal``,
    ``identity``, ``constant``, ``framework_default``, ``special`` or ``unknown``), the
    framework's name for it (``display``), how it was written (``string``, ``class_call``,
    ``class_ref``, ``function_call``, ``variable``, ``default``, ...), the location of the
    expression (``null`` for a default), and ``origin`` as for the activation.
``flags``
    ``{"residual_branch", "residual_branch_end", "normalized", "normalized_after",
    "multiplies", "idioms"}``: inside a residual branch; the last layer of one; normalized
    before its activation; normalized before the next weight layer; its output multiplies
    another computed tensor (a gate, attention); the deliberate idioms the reader recognised
    (a list of strings such as ``"zero_module"``).

A layer in more than one stack is listed in each. Exit codes: 0, or 2 when a path is missing
or a file could not be read or parsed (one line on stderr each, as the linter prints them;
every other file is still inspected).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, TextIO, Tuple, TypedDict

import click
import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from . import engine, files, notebook, report
from .analysis.values import Provenance, Site, Step
from .model import Activation, InitSpec, Layer, Network, Weight
from .readers import READERS
from .source import SourceError, decode

EXIT_CLEAN, EXIT_ERROR = 0, 2


# --- the plain data both formats print -----------------------------------------------------


class Location(TypedDict):
    text: str
    line: int
    column: int
    cell: Optional[int]


class ActivationData(TypedDict):
    name: str
    params: Dict[str, float]
    known: bool
    source: str
    at: Optional[Location]
    origin: Optional[str]


class InitData(TypedDict):
    family: str
    distribution: str
    display: str
    scale: Optional[float]
    mode: Optional[str]
    std: Optional[float]
    mean: float
    low: Optional[float]
    high: Optional[float]
    gain: Optional[float]
    value: Optional[float]
    explicit_scale: bool
    written: str
    at: Optional[Location]
    origin: Optional[str]


class WeightData(TypedDict):
    role: str
    fan_in: Optional[int]
    fan_out: Optional[int]
    receptive: int
    init: InitData


class FlagsData(TypedDict):
    residual_branch: bool
    residual_branch_end: bool
    normalized: bool
    normalized_after: bool
    multiplies: bool
    idioms: List[str]


class LayerData(TypedDict):
    name: Optional[str]
    type: str
    kind: str
    framework: str
    position: str
    at: Optional[Location]
    #: The calls in the file through which the layer was built (a helper's call sites).
    called_at: List[Location]
    activation: ActivationData
    weights: List[WeightData]
    flags: FlagsData


class GroupData(TypedDict):
    path: str
    stack: Optional[str]
    at: Optional[Location]
    layers: List[LayerData]


class Locator:
    """Where nodes of one parsed file are, as findings say it (a notebook's by cell)."""

    def __init__(self, path: str, module: Any, nb: Optional[notebook.Notebook] = None) -> None:
        self.path = path
        self.nb = nb
        self.positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def span(self, node: Any) -> Optional[Tuple[int, int]]:
        """First and last line of a node in the parsed text, or None when it has no place."""
        if node is None or node not in self.positions:
            return None
        r = self.positions[node]
        return r.start.line, r.end.line

    def location(self, node: Any) -> Optional[Location]:
        if node is None or node not in self.positions:
            return None
        start = self.positions[node].start
        line, column = start.line, start.column + 1
        if self.nb is None:
            return Location(text=f"{self.path}:{line}:{column}", line=line, column=column,
                            cell=None)
        cell, line = self.nb.locate(line)
        return Location(text=f"{self.path}:{report.cell_location(cell, line, column)}",
                        line=line, column=column, cell=cell)


def _origin(obj: object, where: Locator, calls: Sequence[Site] = ()) -> Optional[str]:
    """How a value reached the layer, as one phrase (``the default of parameter act of
    block(), called at model.py:41:5``); None when it was written at the layer itself. The one
    place that reads a provenance chain."""
    steps: Provenance = getattr(obj, "via", ())
    parts = [_step(step, where, calls) for step in steps]
    shown = [p for p in parts if p]
    return ", ".join(shown) if shown else None


def _step(step: Step, where: Locator, calls: Sequence[Site]) -> str:
    fn = f"{step.function}()" if step.function else "a function"
    if step.kind == "default":
        at = _at(where.location(calls[-1].node)) if calls else ""
        return f"the default of parameter {step.name} of {fn}" + (f", called at {at}" if at else "")
    if step.kind == "argument":
        at = _at(where.location(step.site.node)) if step.site is not None else ""
        return f"argument {step.name} of {fn}" + (f" at {at}" if at else "")
    if step.kind == "return":
        return f"returned by {fn}"
    return ""


def _activation(act: Activation, where: Locator, calls: Sequence[Site] = ()) -> ActivationData:
    return ActivationData(name=act.name, params=dict(act.params), known=act.known,
                          source=act.source, at=where.location(act.node),
                          origin=_origin(act, where, calls))


def _initializer(spec: InitSpec, where: Locator, calls: Sequence[Site] = ()) -> InitData:
    return InitData(family=spec.family, distribution=spec.distribution, display=spec.display,
                    scale=spec.scale, mode=spec.mode, std=spec.std, mean=spec.mean,
                    low=spec.low, high=spec.high, gain=spec.gain, value=spec.value,
                    explicit_scale=spec.explicit_scale, written=spec.written,
                    at=where.location(spec.node), origin=_origin(spec, where, calls))


def _weight(w: Weight, where: Locator, calls: Sequence[Site] = ()) -> WeightData:
    return WeightData(role=w.role, fan_in=w.fan_in, fan_out=w.fan_out, receptive=w.receptive,
                      init=_initializer(w.init, where, calls))


def _flags(layer: Layer) -> FlagsData:
    return FlagsData(residual_branch=layer.residual_branch,
                     residual_branch_end=layer.residual_branch_end,
                     normalized=layer.normalized, normalized_after=layer.normalized_after,
                     multiplies=layer.multiplies, idioms=list(layer.idioms))


def _layer(layer: Layer, where: Locator) -> LayerData:
    return LayerData(name=layer.name, type=layer.type_name, kind=layer.kind,
                     framework=layer.framework, position=layer.position,
                     at=where.location(layer.node),
                     called_at=[loc for loc in (where.location(c.node) for c in layer.calls
                                                if isinstance(c.node, cst.Call))
                                if loc is not None],
                     activation=_activation(layer.activation, where, layer.calls),
                     weights=[_weight(w, where, layer.calls) for w in layer.weights],
                     flags=_flags(layer))


def _spans(layer: Layer, where: Locator, line: Optional[int]) -> bool:
    """Is the layer shown: no line was asked for, or its constructor spans that line?"""
    if line is None:
        return True
    span = where.span(layer.node)
    return span is not None and span[0] <= line <= span[1]


def describe(network: Network, where: Locator, line: Optional[int] = None) -> List[GroupData]:
    """The network as plain data: one group per stack, then one for the layers in no stack.
    With ``line`` (a line of the parsed text), only the layers whose constructor spans it."""
    groups: List[GroupData] = []
    stacked: Set[int] = set()
    for stack in network.stacks:
        stacked.update(id(x) for x in stack.layers)
        shown = [x for x in stack.layers if _spans(x, where, line)]
        if shown:
            node = stack.node if stack.node is not None else stack.layers[0].node
            groups.append(GroupData(path=where.path, stack=stack.kind, at=where.location(node),
                                    layers=[_layer(x, where) for x in shown]))
    free = [x for x in network.layers if id(x) not in stacked and _spans(x, where, line)]
    if free:
        groups.append(GroupData(path=where.path, stack=None, at=None,
                                layers=[_layer(x, where) for x in free]))
    return groups


# --- files ---------------------------------------------------------------------------------


class UsageError(Exception):
    """A ``PATH:LINE`` that cannot be applied (one line for the user)."""


@dataclass
class Target:
    """A path from the command line, with the line to show (``PATH:LINE``, or in a notebook
    ``PATH:cell N:line M``)."""

    path: str
    line: Optional[int] = None
    cell: Optional[int] = None


_AT_LINE = re.compile(r"^(?P<path>.+?):(?:cell (?P<cell>\d+):line (?P<cline>\d+)(?::col \d+)?"
                      r"|(?P<line>\d+)(?::\d+)?)$")


def parse_target(arg: str) -> Target:
    """``PATH``, ``PATH:LINE[:COL]`` or ``PATH:cell N:line M[:col K]``; a path that exists as
    written is always a path."""
    m = _AT_LINE.match(arg)
    if os.path.exists(arg) or m is None:
        return Target(arg)
    if m.group("cell"):
        return Target(m.group("path"), int(m.group("cline")), int(m.group("cell")))
    return Target(m.group("path"), int(m.group("line")))


def _load(path: str) -> Tuple[Optional[str], Optional[notebook.Notebook]]:
    """The text to parse (a notebook's code cells joined), or None for a notebook in another
    language or without code."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not notebook.is_notebook(path):
        return decode(data).text, None
    nb = notebook.load(data)
    lang = notebook.language(nb)
    if not nb.cells or (lang is not None and lang != "python"):
        return None, nb
    return nb.joined, nb


def _raw_line(target: Target, nb: Optional[notebook.Notebook]) -> Optional[int]:
    """The target's line as a line of the parsed text."""
    if target.line is None:
        return None
    if nb is None:
        if target.cell is not None:
            raise UsageError("not a notebook: give the line as PATH:LINE")
        return target.line
    if target.cell is None:
        raise UsageError("a notebook: give the line as PATH:cell N:line M")
    for cell in nb.cells:
        if cell.number == target.cell:
            return cell.first_line + target.line - 1
    raise UsageError(f"cell {target.cell} is not a code cell")


def inspect_file(target: Target) -> List[GroupData]:
    """The groups of one file; raises SourceError, engine.ParseError, OSError, UsageError."""
    text, nb = _load(target.path)
    line = _raw_line(target, nb)
    if text is None:
        return []
    try:
        module = engine.parse(text)
    except engine.ParseError as e:
        raise _LocatedParseError(e, nb) from None
    where = Locator(target.path, module, nb)
    groups: List[GroupData] = []
    for reader in READERS:
        if any(t.decode() in text for t in reader.triggers):
            groups.extend(describe(reader.read(module, text), where, line))
    return groups


class _LocatedParseError(Exception):
    """A syntax error, with the notebook to place it in (None for a Python file)."""

    def __init__(self, error: engine.ParseError, nb: Optional[notebook.Notebook]) -> None:
        super().__init__(str(error))
        self.error = error
        self.nb = nb


def _syntax_result(path: str, e: _LocatedParseError) -> files.FileResult:
    res = files.FileResult(path, error=str(e.error), error_line=e.error.line,
                           error_column=e.error.column)
    if e.nb is not None and e.error.line is not None:
        res.error_cell, res.error_line = e.nb.locate(e.error.line)
    return res


def _internal(path: str, e: BaseException) -> files.FileResult:
    what = (f"{files._too_deep(e)} recursed past Python's limit on this file"
            if isinstance(e, RecursionError) else f"{type(e).__name__}: {e}")
    return files.FileResult(path, error=f"internal error: {what} (please report this with "
                                        f"the file)", internal=True)


def run_target(target: Target) -> Tuple[List[GroupData], Optional[files.FileResult]]:
    """The groups of one file, or the error to report the way the linter reports it."""
    path = target.path
    try:
        return inspect_file(target), None
    except _LocatedParseError as e:
        return [], _syntax_result(path, e)
    except (SourceError, UsageError) as e:
        return [], files.FileResult(path, error=str(e))
    except OSError as e:
        return [], files.FileResult(path, error=f"cannot read: {e.strerror or e}")
    except Exception as e:  # noqa: BLE001 - a bug must name the file, not kill the run
        return [], _internal(path, e)


def _files_of(target: Target) -> List[Target]:
    """The files a target names (a directory is searched as the linter searches it)."""
    if os.path.isdir(target.path):
        if target.line is not None:
            raise UsageError("a directory: a line needs a file")
        return [Target(p) for p in files.discover([target.path])]
    return [target]


# --- output --------------------------------------------------------------------------------


def _num(x: Optional[float]) -> str:
    if x is None:
        return "?"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _at(loc: Optional[Location]) -> str:
    return loc["text"] if loc is not None else ""


def _activation_text(a: ActivationData) -> str:
    params = ", ".join(f"{k}={_num(v)}" for k, v in sorted(a["params"].items()))
    name = f"{a['name']}({params})" if params else a["name"]
    origin = f" from {a['origin']}" if a["origin"] else ""
    at = f" at {_at(a['at'])}" if a["at"] else ""
    return f"activation: {name}{origin} ({a['source']}{at})"


_INIT_FIELDS = ("scale", "mode", "std", "gain", "value", "low", "high")


def _init_text(i: InitData) -> str:
    name = i["display"] or i["family"]
    parts = [f"family {i['family']}", f"distribution {i['distribution']}"]
    parts += [f"{k} {_num(i[k])}" for k in _INIT_FIELDS if i[k] is not None]  # type: ignore[literal-required]
    if i["mean"]:
        parts.append(f"mean {_num(i['mean'])}")
    origin = f" from {i['origin']}" if i["origin"] else ""
    at = f" at {_at(i['at'])}" if i["at"] else ""
    return f"{name}{origin} ({', '.join(parts)}; written {i['written']}{at})"


def _weight_text(w: WeightData) -> str:
    fans = f"fan_in {_num(w['fan_in'])}, fan_out {_num(w['fan_out'])}"
    if w["receptive"] != 1:
        fans += f" (receptive field {w['receptive']})"
    return f"{w['role']}: {fans}; init {_init_text(w['init'])}"


def _flags_text(f: FlagsData) -> str:
    shown = (("residual_branch", f["residual_branch"]),
             ("residual_branch_end", f["residual_branch_end"]),
             ("normalized", f["normalized"]), ("normalized_after", f["normalized_after"]),
             ("multiplies", f["multiplies"]))
    names = [name for name, on in shown if on]
    names += [f"idiom {i}" for i in f["idioms"]]
    return f"flags: {', '.join(names) if names else 'none'}"


def _layer_text(layer: LayerData, path: str) -> List[str]:
    name = f" {layer['name']}" if layer["name"] else ""
    head = (f"  {_at(layer['at']) or path}: {layer['type']}{name} ({layer['kind']}, "
            f"{layer['position']}, {layer['framework']})")
    body = [f"built by the call at {_at(c)}" for c in layer["called_at"]]
    body += [_activation_text(layer["activation"])]
    body += [_weight_text(w) for w in layer["weights"]]
    body.append(_flags_text(layer["flags"]))
    return [head] + [f"    {b}" for b in body]


def _group_text(g: GroupData) -> List[str]:
    n = len(g["layers"])
    count = f"{n} layer{'s' if n != 1 else ''}"
    if g["stack"] is None:
        head = f"{g['path']}: {count} in no stack"
    else:
        head = f"{_at(g['at']) or g['path']}: {g['stack']} stack, {count}"
    lines = [head]
    for layer in g["layers"]:
        lines.extend(_layer_text(layer, g["path"]))
    return lines


def write_text(groups: Iterable[GroupData], out: TextIO) -> None:
    """One line per stack, per layer and per fact, so that grep and diff find them whole."""
    any_group = False
    for g in groups:
        if any_group:
            out.write("\n")
        out.write("\n".join(_group_text(g)) + "\n")
        any_group = True
    if not any_group:
        out.write("No layers found.\n")


def write_json(groups: List[GroupData], out: TextIO) -> None:
    json.dump(groups, out, indent=2)
    out.write("\n")


# --- the command ---------------------------------------------------------------------------


def _shown_as(target: Target) -> str:
    if target.cell is not None:
        return f"{target.path}:cell {target.cell}:line {target.line}"
    return f"{target.path}:{target.line}"


def _error(msg: str) -> None:
    click.echo(f"initlint: error: {msg}", err=True)


def _expand(args: List[str]) -> Tuple[List[Target], bool]:
    """The files to inspect, and whether a path was missing or misused (reported here)."""
    targets: List[Target] = []
    failed = False
    for arg in args:
        target = parse_target(arg)
        if not os.path.exists(target.path):
            _error(f"{target.path}: no such file or directory")
            failed = True
            continue
        try:
            targets.extend(_files_of(target))
        except UsageError as e:
            _error(f"{target.path}: {e}")
            failed = True
        except files.MissingPath as e:  # raced with deletion
            _error(f"{e}: no such file or directory")
            failed = True
    return targets, failed


@click.command(name="inspect", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, metavar="[PATH[:LINE]]...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def inspect_cmd(paths: Tuple[str, ...], fmt: str) -> None:
    """Show the network model initlint's rules see: every stack and layer in each PATH (a
    file, directory or notebook; default: the current directory), with each layer's
    activation, fans and initializers and where each came from.

    PATH:LINE (PATH:cell N:line M in a notebook) shows only the layers whose constructor spans
    that line.

    \b
    Exit codes:
      0  every path was inspected
      2  a path is missing, or a file could not be read or parsed
    """
    from .cli import _report_errors

    targets, failed = _expand(list(paths) or ["."])
    groups: List[GroupData] = []
    for target in targets:
        found, error = run_target(target)
        groups.extend(found)
        if error is not None:
            _report_errors([error])
            failed = True
        elif target.line is not None and not found:
            click.echo(f"initlint: warning: {_shown_as(target)}: no layer's constructor spans "
                       "this line", err=True)
    if fmt == "json":
        write_json(groups, sys.stdout)
    else:
        write_text(groups, sys.stdout)
    sys.exit(EXIT_ERROR if failed else EXIT_CLEAN)
