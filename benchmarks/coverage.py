"""How much of a code base initlint understands, and what it reports there.

    python benchmarks/coverage.py DIR [--jobs N]

Files are found as the linter finds them (``files.discover``: the default excludes and
``.gitignore``; no config is read, so the figures do not depend on the code base's own
settings), parsed once, and every reader's :class:`~initlint.model.Network` is counted:

- the number of layers, the share whose activation is known (``Activation.known``) and the
  share whose kernel initializer is known (the family of the kernel the activation follows,
  else of the embedding table, is not ``unknown``; a framework's default counts as known),
  over all layers and per framework; a layer with neither kernel nor embedding table counts
  as not known;
- the same over layer *definitions*: a constructor call that builds several layers (a helper
  called, a class instantiated, a loop run, more than once) is one definition, known when
  every layer it built is known (the figure that compares with a reader that saw each
  constructor call once);
- the findings per rule code with the default rules and with ``--select ALL`` (the linter's
  own per-file run, suppressions honoured, nothing written).

Layers are counted with the run's other modules resolved, as the linter reads them (a script
that builds a model imported from another file counts that model's layers too); ``--alone``
counts each file read by itself.

Nothing is imported from Keras or PyTorch and no user code runs. The output is one figure per
line, ``name: value``, in a fixed order, so that two runs can be compared with ``diff``.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, TextIO

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from initlint import engine, files, notebook  # noqa: E402
from initlint.analysis.context import reading  # noqa: E402
from initlint.analysis.modules import ModuleIndex, TreeResolver  # noqa: E402
from initlint.model import Layer, Network, Weight  # noqa: E402
from initlint.readers import READERS  # noqa: E402
from initlint.source import SourceError, decode  # noqa: E402


@dataclass
class Tally:
    layers: int = 0
    activation_known: int = 0
    kernel_known: int = 0

    def add(self, layer: Layer) -> None:
        self.add_all([layer])

    def add_all(self, built: Sequence[Layer]) -> None:
        """One definition (or one layer): known when every layer it built is."""
        self.layers += 1
        self.activation_known += all(x.activation.known for x in built)
        self.kernel_known += all(kernel_known(x) for x in built)


def kernel_known(layer: Layer) -> bool:
    w = main_weight(layer)
    return w is not None and w.init.family != "unknown"


def main_weight(layer: Layer) -> Optional[Weight]:
    """The weight whose initializer the rules judge: the kernel the activation follows, else
    the embedding table."""
    return layer.activated_kernel or layer.weight("embeddings")


def read_text(path: str) -> Optional[str]:
    """The text the linter parses (a notebook's code cells joined); None for a notebook in
    another language."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not notebook.is_notebook(path):
        return decode(data).text
    nb = notebook.load(data)
    lang = notebook.language(nb)
    if not nb.cells or (lang is not None and lang != "python"):
        return None
    return nb.joined


def networks(text: str) -> List[Network]:
    module = engine.parse(text)
    return [r.read(module, text) for r in READERS
            if any(t.decode() in text for t in r.triggers)]


def count_layers(paths: Sequence[str], alone: bool = False) -> Dict[str, object]:
    total = Tally()
    defs = Tally()
    per: Dict[str, Tally] = collections.defaultdict(Tally)
    errors = internal = 0
    with_layers = 0
    resolver = None if alone else TreeResolver(ModuleIndex.build(list(paths)))
    for path in paths:
        try:
            text = read_text(path)
            with reading(path, resolver):
                found = networks(text) if text is not None else []
        except (OSError, SourceError, engine.ParseError):
            errors += 1
            continue
        except Exception:  # noqa: BLE001 - initlint's own bug: count it, keep going
            internal += 1
            continue
        layers = [x for n in found for x in n.layers]
        with_layers += bool(layers)
        by_node: Dict[int, List[Layer]] = {}
        for layer in layers:
            total.add(layer)
            per[layer.framework].add(layer)
            by_node.setdefault(id(layer.node), []).append(layer)
        for built in by_node.values():
            defs.add_all(built)
    return {"total": total, "defs": defs, "per": dict(per), "errors": errors,
            "internal": internal, "with_layers": with_layers}


def share(n: int, d: int) -> str:
    return f"{n}/{d} ({100.0 * n / d:.1f}%)" if d else f"{n}/0 (-)"


def findings(paths: Sequence[str], options: engine.Options, jobs: int
             ) -> "collections.Counter[str]":
    counts: "collections.Counter[str]" = collections.Counter()
    for r in files.lint_paths(list(paths), options, write=False, want_diff=False, jobs=jobs):
        counts.update(f.code for f in r.findings)
    return counts


def report(root: str, jobs: int, out: TextIO = sys.stdout, alone: bool = False) -> None:
    paths = files.discover([root])
    counted = count_layers(paths, alone)
    total: Tally = counted["total"]  # type: ignore[assignment]
    per: Dict[str, Tally] = counted["per"]  # type: ignore[assignment]

    def line(name: str, value: object) -> None:
        out.write(f"{name}: {value}\n")

    line("files", len(paths))
    line("files with layers", counted["with_layers"])
    line("files not parsed", counted["errors"])
    line("files with internal errors", counted["internal"])
    defs: Tally = counted["defs"]  # type: ignore[assignment]
    line("layer definitions", defs.layers)
    line("activation known [definitions]", share(defs.activation_known, defs.layers))
    line("kernel initializer known [definitions]", share(defs.kernel_known, defs.layers))
    for label, t in [("all", total)] + sorted(per.items()):
        line(f"layers [{label}]", t.layers)
        line(f"activation known [{label}]", share(t.activation_known, t.layers))
        line(f"kernel initializer known [{label}]", share(t.kernel_known, t.layers))
    for label, options in (("default", engine.Options()),
                           ("ALL", engine.Options(select=["ALL"]))):
        counts = findings(paths, options, jobs)
        line(f"findings [{label}]", sum(counts.values()))
        for code in sorted(counts):
            line(f"findings [{label}] {code}", counts[code])


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--alone", action="store_true",
                    help="count each file's layers read alone, without the run's other modules "
                         "(a layer another file builds is then counted once, where it is written)")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.path):
        print(f"coverage.py: {args.path}: not a directory", file=sys.stderr)
        return 2
    report(args.path, args.jobs, alone=args.alone)
    return 0


if __name__ == "__main__":
    sys.exit(main())
