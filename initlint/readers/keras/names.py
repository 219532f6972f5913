"""Which Keras (or ``tf.nn``) object a qualified name denotes."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional, Tuple

from ...catalog import keras as K


@lru_cache(maxsize=4096)
def classify(q: str) -> Optional[Tuple[str, str]]:
    """(category, name) for a qualified name; None when it is not Keras's.

    Categories: layer, weightless, initializer, initializer_get, activation_fn, model,
    sequential, input, layer_base, tf_initializer, functional_merge.
    """
    for root in _ROOTS:
        if q.startswith(root + "."):
            return _keras(q[len(root) + 1:])
    if q.startswith("tensorflow."):
        return _tensorflow(q[len("tensorflow."):])
    return None


_ROOTS = sorted(K.ROOTS, key=len, reverse=True)
_MODEL_LIKE = (("sequential", K.SEQUENTIAL_CLASSES), ("model", K.MODEL_CLASSES),
               ("input", K.INPUT_CLASSES), ("layer_base", frozenset({"Layer"})))


def _tensorflow(tail: str) -> Optional[Tuple[str, str]]:
    """``tf.nn`` activations and TF's own initializer names."""
    if tail.startswith("nn.") and tail[3:] in K.TF_NN_ACTIVATIONS:
        return ("activation_fn", K.TF_NN_ACTIVATIONS[tail[3:]])
    if tail in K.TF_INITIALIZERS:
        return ("tf_initializer", tail)
    for prefix in ("initializers.", "keras.initializers."):
        if tail.startswith(prefix) and tail[len(prefix):] in K.CLASS_NAMES:
            return ("initializer", K.CLASS_NAMES[tail[len(prefix):]])
        if tail == prefix + "get":
            return ("initializer_get", "get")
    return None


def _keras(rest: str) -> Optional[Tuple[str, str]]:
    """A name under one of Keras's roots (``layers.Dense``, ``initializers.HeNormal``)."""
    *mids, last = rest.split(".")
    if "layers" in mids or not mids or mids == ["models"] or mids == ["engine"]:
        got = _layer_or_model(last, "layers" in mids)
        if got is not None or "layers" in mids or last in K.LAYERS:
            return got
    if "initializers" in mids and last in K.CLASS_NAMES:
        return ("initializer", K.CLASS_NAMES[last])
    if "initializers" in mids and last == "get":
        return ("initializer_get", last)
    if "activations" in mids and last in K.ACTIVATION_STRINGS:
        return ("activation_fn", K.ACTIVATION_STRINGS[last])
    return None


def _layer_or_model(last: str, in_layers: bool) -> Optional[Tuple[str, str]]:
    if last in K.LAYERS:
        return ("layer", last) if in_layers else None
    for cat, names in _MODEL_LIKE:
        if last in names:
            return (cat, last)
    if not in_layers:
        return None
    if last == "add" or (last in K.MERGE_LAYERS and last[:1].islower()):
        return ("functional_merge", last)
    return ("weightless", last)
