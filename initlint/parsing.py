"""libcst parsing, and Python's cyclic garbage collector around it.

A libcst tree is a million small objects without reference cycles, and a run keeps the trees
it parsed (for the files that import them). Left to itself, the collector scans each tree
while it is built and again each time it promotes it; on a large package that costs more
than a third of the parse. So while a run lasts, a tree is built with the collector paused,
and then frozen (``gc.freeze``): the collector no longer scans it, and it is still freed the
ordinary way, by reference counting, when the run lets go of it. Before each parse, a
collection clears the cyclic garbage of the file before (cheap: everything older is
frozen), so that no garbage is frozen with the tree. The run unfreezes everything when it
ends.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

import libcst as cst

_in_run = False


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module``, with the collector paused, and, during a run, the tree kept
    out of its sight afterwards."""
    if not gc.isenabled():
        return cst.parse_module(text)
    if _in_run:
        gc.collect()
    gc.disable()
    try:
        return cst.parse_module(text)
    finally:
        gc.enable()
        if _in_run:
            gc.freeze()


@contextmanager
def run_collector() -> Iterator[None]:
    """A run in this process: trees are frozen once parsed, and unfrozen at the end."""
    global _in_run
    saved = _in_run
    _in_run = True
    try:
        yield
    finally:
        _in_run = saved
        if not saved:
            gc.unfreeze()


def start_worker_collector() -> None:
    """For a worker process, which lives for one run."""
    global _in_run
    _in_run = True
