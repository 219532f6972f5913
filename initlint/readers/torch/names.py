"""Which PyTorch (or NumPy, or TensorFlow) object a qualified name denotes, and the methods of
PyTorch's modules and tensors that matter to initialization."""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import FrozenSet, Optional, Tuple

from ...catalog import torch as T

#: Categories of :func:`classify`.
LAYER, SEQUENTIAL, MODULE_LIST, MODULE_DICT, STACK = (
    "layer", "sequential", "module_list", "module_dict", "stack")
ACTIVATION_MODULE, PASS_MODULE, PARAMETER, INIT, DRAW = (
    "activation_module", "pass_module", "parameter", "init", "draw")
MODULE_BASE = "module_base"


@lru_cache(maxsize=4096)
def classify(q: str) -> Optional[Tuple[str, str]]:
    """(category, short name) for a qualified name PyTorch's modules define; None otherwise."""
    short = q.rsplit(".", 1)[-1]
    if q in T.PARAMETER_WRAPPERS:
        return (PARAMETER, short)
    if q in T.DRAWS:
        return (DRAW, q)
    if q.startswith("torch.nn.init."):
        return (INIT, short)
    if not q.startswith("torch.nn.") or q.startswith("torch.nn.functional."):
        return None
    if short in T.LAYERS:
        return (LAYER, short)
    if short in T.ACTIVATION_MODULES:
        return (ACTIVATION_MODULE, short)
    if short in T.PASS_MODULES:
        return (PASS_MODULE, short)
    return _container(short)


def _container(short: str) -> Optional[Tuple[str, str]]:
    if short == "Sequential":
        return (SEQUENTIAL, short)
    if short in ("ModuleList", "ParameterList"):
        return (MODULE_LIST, short)
    if short in ("ModuleDict", "ParameterDict"):
        return (MODULE_DICT, short)
    if short in ("TransformerEncoder", "TransformerDecoder"):
        return (STACK, short)
    if short == "Module":
        return (MODULE_BASE, short)
    return None


def is_module_base(q: str) -> bool:
    """A base class that makes a class a PyTorch module (``nn.Module``, a layer, a container)."""
    return q.startswith("torch.nn.") and not q.startswith(("torch.nn.functional.",
                                                            "torch.nn.init."))


#: Top-level packages whose functions initlint knows cannot set a weight of the file's models:
#: Python's standard library, the array libraries, and PyTorch's own (``torch.nn.init`` is
#: read where it is called).
_KNOWN_ROOTS: FrozenSet[str] = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset({
    "builtins", "torch", "torchvision", "torchaudio", "torchtext", "numpy", "tensorflow", "scipy",
    "math", "functools", "collections", "copy", "typing", "tqdm", "matplotlib", "pandas", "PIL",
})


def known_root(q: str) -> bool:
    """Whether ``q`` belongs to a package that does not touch weights behind initlint's back."""
    return q.split(".", 1)[0] in _KNOWN_ROOTS


#: Methods of ``nn.Module`` that return the module itself.
MODULE_SELF = frozenset({
    "to", "cuda", "cpu", "train", "eval", "float", "double", "half", "bfloat16",
    "requires_grad_", "share_memory", "type", "to_empty", "xpu", "ipu",
})
#: Methods of ``nn.Module`` that iterate over its submodules or parameters.
MODULE_ITERATORS = frozenset({
    "modules", "named_modules", "children", "named_children", "parameters", "named_parameters",
})
#: Methods of ``nn.Module`` that change no weight's initialization.
MODULE_HARMLESS = frozenset({
    "zero_grad", "state_dict", "register_buffer", "register_forward_hook",
    "register_forward_pre_hook", "register_backward_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "extra_repr", "get_submodule", "get_parameter",
    "get_buffer", "buffers", "named_buffers", "reset_parameters", "flatten_parameters",
    "register_load_state_dict_post_hook", "register_state_dict_pre_hook", "compile",
})
#: Every ``nn.Module`` method the reader answers for a module of the file.
MODULE_METHODS = (MODULE_SELF | MODULE_ITERATORS | MODULE_HARMLESS
                  | frozenset({"apply", "register_parameter", "add_module", "register_module"}))

#: Tensor methods that return the tensor itself (a parameter stays the same parameter).
TENSOR_SELF = frozenset({"detach", "contiguous", "to", "float", "cuda", "clone", "cpu",
                         "requires_grad_", "double", "half"})

#: The file's own activation helpers, by name (NumPy networks define ``sigmoid`` themselves).
NAMED_ACTIVATIONS = {"sigmoid": "sigmoid", "relu": "relu", "tanh": "tanh", "softmax": "softmax",
                     "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu", "swish": "silu",
                     "silu": "silu", "selu": "selu"}

NORM_FUNCTIONS = frozenset({"batch_norm", "layer_norm", "group_norm", "instance_norm"})
