"""Framework readers. Each turns a parsed module into a neutral :class:`~initlint.model.Network`.

A reader has ``framework``, ``triggers`` (byte strings at least one of which a file must contain
for the reader to care; used to skip files before parsing) and ``read(module, text)``.
"""

from __future__ import annotations

from .keras import KerasReader
from .torch import TorchReader

READERS = (KerasReader(), TorchReader())

__all__ = ["READERS", "KerasReader", "TorchReader"]
