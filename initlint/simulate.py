"""``initlint simulate PATH``: the signal of every stack initlint finds, layer by layer.

For each stack (a Keras Sequential, an ``nn.Sequential``, a module's forward) the variance
checker computes the forward (pre-activation) and backward (gradient) std of every layer, with
the file's initializers and with the ones initlint recommends, so the user sees what a fix
changes. ``--mc`` samples real weights instead of the closed form.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, TextIO

import click
from libcst.metadata import MetadataWrapper, PositionProvider

from . import checker, engine, files, notebook, variance
from .model import Layer
from .readers import READERS
from .rules.common import recommended_family, same_distribution
from .source import SourceError, decode

EXIT_CLEAN, EXIT_ERROR = 0, 2


@dataclass
class Simulated:
    path: str
    line: int
    kind: str
    steps: List[checker.Step]
    result: checker.Result
    recommended: checker.Result


def recommended_init(layer: Layer):
    """The initializer initlint recommends for a layer, in the distribution it already uses."""
    w = layer.kernels[-1]
    return variance.family_spec(recommended_family(layer), same_distribution(w.init))


def stacks_in(path: str, text: str) -> List[tuple]:
    """(stack, line) for every stack the readers find in a file."""
    module = engine.parse(text)
    found: List[tuple] = []
    for reader in READERS:
        if not any(t.decode() in text for t in reader.triggers):
            continue
        network = reader.read(module, text)
        found.extend(network.stacks)
    if not found:
        return []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    out = []
    for stack in found:
        node = stack.node if stack.node is not None else stack.layers[0].node
        line = positions[node].start.line if node in positions else 0
        out.append((stack, line))
    return out


def run(steps: List[checker.Step], mc: bool, seed: int) -> checker.Result:
    return checker.monte_carlo(steps, seed=seed) if mc else checker.analytic(steps)


def simulate_file(path: str, mc: bool, seed: int, skipped: List[Dict[str, Any]]
                  ) -> List[Simulated]:
    with open(path, "rb") as fh:
        data = fh.read()
    nb = None
    if notebook.is_notebook(path):
        nb = notebook.load(data)
        text = nb.joined
    else:
        text = decode(data).text
    out: List[Simulated] = []
    for stack, line in stacks_in(path, text):
        where = path
        if nb is not None:  # a notebook stack is named by its cell
            cell, line = nb.locate(line)
            where = f"{path}:cell {cell}"
        try:
            steps = checker.steps_for(stack)
            rec_steps = checker.steps_for(stack, recommended_init)
            result = run(steps, mc, seed)
            rec = run(rec_steps, mc, seed)
        except checker.Unsupported as e:
            skipped.append({"path": where, "line": line, "reason": str(e)})
            continue
        out.append(Simulated(where, line, stack.kind, steps, result, rec))
    return out


def _initializer_name(step: checker.Step) -> str:
    spec = step.init
    if spec.display:
        return spec.display
    if spec.family in ("he", "glorot", "lecun"):
        return f"{spec.family}_{'uniform' if spec.distribution == 'uniform' else 'normal'}"
    return spec.family


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "inf"
    if abs(x) >= 1000 or abs(x) < 0.001:
        return f"{x:.2e}"
    return f"{x:.3g}"


def _flag(s: checker.StepResult, first: float) -> str:
    flags = []
    if s.saturated > 0.10:
        flags.append(f"saturated {s.saturated:.0%}")
    if s.dead is not None and s.dead > 0.10:
        flags.append(f"dead {s.dead:.0%}")
    if first > 0 and s.forward_std / first >= 10:
        flags.append("exploding")
    elif first > 0 and s.forward_std / first <= 0.1:
        flags.append("vanishing")
    return ", ".join(flags)


def to_json(sims: List[Simulated], skipped: List[Dict[str, Any]], mc: bool) -> Dict[str, Any]:
    def layers(steps, result):
        return [{"name": st.name, "kind": st.kind, "fan_in": st.fan_in, "fan_out": st.fan_out,
                 "activation": st.activation, "initializer": _initializer_name(st),
                 "forward_std": r.forward_std, "backward_std": r.backward_std,
                 "saturated": r.saturated, "dead": r.dead}
                for st, r in zip(steps, result.steps)]

    stacks = []
    for s in sims:
        stacks.append({
            "path": s.path, "line": s.line, "kind": s.kind,
            "mode": "monte_carlo" if mc else "analytic",
            "forward_drift": s.result.forward_drift, "backward_drift": s.result.backward_drift,
            "layers": layers(s.steps, s.result),
            "recommended": {
                "forward_drift": s.recommended.forward_drift,
                "backward_drift": s.recommended.backward_drift,
                "forward_std": [r.forward_std for r in s.recommended.steps],
                "backward_std": [r.backward_std for r in s.recommended.steps],
            },
        })
    return {"stacks": stacks, "skipped": skipped}


def write_text(sims: List[Simulated], skipped: List[Dict[str, Any]], out: TextIO,
               color: Optional[bool], mc: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, force_terminal=color is True, no_color=color is False,
                      width=120, highlight=False)
    mode = "Monte Carlo" if mc else "analytic"
    for s in sims:
        console.print(
            f"[bold]{s.path}:{s.line}[/bold]  {s.kind} stack, {len(s.steps)} layers ({mode}): "
            f"forward drift {_fmt(s.result.forward_drift)}x, backward drift "
            f"{_fmt(s.result.backward_drift)}x; with initlint's recommendations "
            f"{_fmt(s.recommended.forward_drift)}x and {_fmt(s.recommended.backward_drift)}x")
        table = Table(show_edge=False, pad_edge=False)
        for col in ("#", "layer", "fan in", "fan out", "activation", "initializer",
                    "fwd std", "bwd std", "fwd std (rec.)", "flag"):
            table.add_column(col, justify="right" if col in (
                "#", "fan in", "fan out", "fwd std", "bwd std", "fwd std (rec.)") else "left")
        first = s.result.steps[0].forward_std
        for i, (st, r, rec) in enumerate(zip(s.steps, s.result.steps, s.recommended.steps), 1):
            table.add_row(str(i), st.name, str(st.fan_in), str(st.fan_out), st.activation,
                          _initializer_name(st), _fmt(r.forward_std), _fmt(r.backward_std),
                          _fmt(rec.forward_std), _flag(r, first))
        console.print(table)
        # Forward std against depth, on a log scale so that decay and growth both show.
        values = [r.forward_std for r in s.result.steps]
        logs = [math.log10(v) if v > 0 else -12.0 for v in values]
        lo, hi = min(logs + [0.0]), max(logs + [0.0])
        span = (hi - lo) or 1.0
        for i, (v, lg) in enumerate(zip(values, logs), 1):
            bar = "█" * max(1, int(round(1 + 39 * (lg - lo) / span)))
            console.print(f"  {i:>3} {bar} {_fmt(v)}")
        console.print()
    for sk in skipped:
        console.print(f"{sk['path']}:{sk['line']}: stack not simulated: {sk['reason']}")
    if not sims and not skipped:
        console.print("No stacks found.")


def write_png(sims: List[Simulated], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        click.echo("initlint: error: --png needs matplotlib: pip install 'initlint[plot]'",
                   err=True)
        sys.exit(EXIT_ERROR)
    fig, ax = plt.subplots(figsize=(7, 4))
    for s in sims:
        depth = list(range(1, len(s.steps) + 1))
        line, = ax.plot(depth, [r.forward_std for r in s.result.steps], marker="o",
                        label=f"{s.path}:{s.line}")
        ax.plot(depth, [r.forward_std for r in s.recommended.steps], linestyle="--",
                color=line.get_color(), label=f"{s.path}:{s.line} (recommended)")
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("pre-activation std")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)


@click.command(name="simulate", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--mc", is_flag=True, help="Sample real weights (Monte Carlo) instead of the "
              "closed form.")
@click.option("--seed", type=int, default=0, show_default=True, help="Monte-Carlo seed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--png", "png", type=click.Path(dir_okay=False), default=None,
              help="Also write a plot of forward std against depth (needs matplotlib).")
def simulate_cmd(paths: Sequence[str], mc: bool, seed: int, fmt: str, png: Optional[str]) -> None:
    """Show the forward and backward signal of every stack in PATHS, layer by layer."""
    try:
        targets = files.discover(list(paths) or ["."])
    except files.MissingPath as e:
        click.echo(f"initlint: error: {e.args[0]}: no such file or directory", err=True)
        sys.exit(EXIT_ERROR)
    sims: List[Simulated] = []
    skipped: List[Dict[str, Any]] = []
    failed = False
    for path in targets:
        try:
            sims.extend(simulate_file(path, mc, seed, skipped))
        except (SourceError, engine.ParseError, OSError) as e:
            click.echo(f"initlint: error: {path}: {e}", err=True)
            failed = True
    if fmt == "json":
        json.dump(to_json(sims, skipped, mc), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from .cli import _color

        write_text(sims, skipped, sys.stdout, _color(), mc)
    if png:
        write_png(sims, png)
    sys.exit(EXIT_ERROR if failed and not sims else EXIT_CLEAN)
