"""libcst parsing, and Python's cyclic garbage collector around it.

A libcst tree is a million small objects that hold no reference cycles. Building one lets
the collector run dozens of times, and each run scans every object that is alive, which
during a lint includes the trees kept for imports: on a large package that scanning costs
more than a third of the parse. Parsing therefore runs with the collector paused (the tree
is freed by reference counting like any acyclic data), and a run raises the collector's
first threshold so that the evaluator's short-lived values are collected in larger,
rarer batches. Cyclic garbage is still collected; it only waits a little longer.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

import libcst as cst

#: The collector's thresholds during a run (Python's default is 700, 10, 10).
RUN_THRESHOLDS = (50_000, 20, 10)


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module`` with the cyclic collector paused while the tree is built."""
    if not gc.isenabled():
        return cst.parse_module(text)
    gc.disable()
    try:
        return cst.parse_module(text)
    finally:
        gc.enable()


@contextmanager
def run_thresholds() -> Iterator[None]:
    """The collector's thresholds for a run, restored afterwards."""
    saved = gc.get_threshold()
    gc.set_threshold(*RUN_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def set_run_thresholds() -> None:
    """For a worker process, which lives for one run."""
    gc.set_threshold(*RUN_THRESHOLDS)
