"""The Keras reader: a host of the shared evaluator (see :mod:`.reader`)."""

from .reader import KerasReader

__all__ = ["KerasReader"]
