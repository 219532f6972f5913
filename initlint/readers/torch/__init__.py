"""The PyTorch reader: a host of the shared evaluator (see :mod:`.reader`)."""

from .reader import TorchReader

__all__ = ["TorchReader"]
