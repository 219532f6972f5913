"""Benchmark initlint against a floor measured in the same run.

    python benchmarks/bench.py DIR [--repeat N] [--jobs N]

The floor is bare ``libcst.parse_module`` of the same files (read and decoded the same way),
in one process. initlint is timed in one process (``--jobs 1``: prefilter, parse, read, rules)
and with all cores, and libcst's qualified-name metadata is timed for reference: it is what
initlint's own import table avoids. Figures are ratios to the floor, so they compare across
machines; the runs are interleaved and the best of ``--repeat`` runs of each is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable, List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import libcst as cst  # noqa: E402
from libcst.metadata import MetadataWrapper, QualifiedNameProvider  # noqa: E402

from initlint import engine, files  # noqa: E402
from initlint.source import decode  # noqa: E402


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)

    paths = files.discover([args.path])
    sources = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        try:
            sources.append(decode(data).text)
        except Exception:  # noqa: BLE001 - the floor only parses what initlint could
            continue
    lines = sum(s.count("\n") + 1 for s in sources)
    options = engine.Options()

    def parse_all():
        for s in sources:
            try:
                cst.parse_module(s)
            except cst.ParserSyntaxError:
                pass

    def qualified_all():
        for s in sources:
            try:
                MetadataWrapper(cst.parse_module(s), unsafe_skip_copy=True).resolve(QualifiedNameProvider)
            except cst.ParserSyntaxError:
                pass

    def initlint_serial():
        list(files.lint_paths(paths, options, write=False, want_diff=False, jobs=1))

    def initlint_parallel():
        list(files.lint_paths(paths, options, write=False, want_diff=False, jobs=args.jobs))

    # Interleaved, so that a machine that gets busier or quieter during the run moves the
    # floor and initlint alike; the best of each is kept.
    floor = serial = parallel = float("inf")
    for _ in range(args.repeat):
        floor = min(floor, best_of(1, parse_all))
        serial = min(serial, best_of(1, initlint_serial))
        parallel = min(parallel, best_of(1, initlint_parallel))
    qualified = best_of(1, qualified_all)
    wanted = sum(1 for p in paths if engine.wants(open(p, "rb").read()))

    print(f"files: {len(paths)} ({wanted} mention a framework; the rest are skipped unparsed)")
    print(f"lines: {lines}")
    print(f"floor  libcst.parse_module, 1 process       {floor:8.3f} s   1.00x")
    print(f"initlint --jobs 1                           {serial:8.3f} s   {serial / floor:.2f}x")
    print(f"initlint --jobs {args.jobs:<3d}                         {parallel:8.3f} s   "
          f"{parallel / floor:.2f}x")
    print(f"ref    parse + QualifiedNameProvider        {qualified:8.3f} s   {qualified / floor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
