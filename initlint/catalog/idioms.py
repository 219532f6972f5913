"""Deliberate idioms: the names and values that say an unusual initialization is intended.

Real code zero-initializes or shrinks some weights on purpose, and a linter that reports them
is wrong. Most such idioms are recognized by structure, in the model the readers build, not by
name, and need no data here:

- output layers and classifier heads (``Layer.position == "output"``, or a softmax-like
  activation): a zero or small head starts every prediction at the prior;
- the last layer of a residual branch (``Layer.residual_branch_end``: ``zero_init_residual``,
  Fixup, ReZero): the block starts as the identity;
- normalization layers (BatchNorm, LayerNorm, GroupNorm, RMSNorm), which the framework
  catalogs list as normalization (kind ``"norm"``), never as weight layers: their gamma
  starts at 1 and their beta at 0 by design;
- biases and embeddings (weight roles ``"bias"`` and ``"embeddings"``, which are not kernels):
  zeros are a bias's standard start, and an embedding table is a lookup, not a product over
  a fan-in.

What cannot be seen in the structure is recognized by the words of a name, and those words
are here, each set with the idiom it stands for. Rules and readers query them through the
functions at the bottom; nothing else spells an idiom's name.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from ..naming import name_tokens

# --- tags a reader puts on Layer.idioms -------------------------------------------------------

#: A module passed to a helper named for zeroing it (``zero_module(conv)`` in guided diffusion,
#: ControlNet's ``zero_conv``): the block's output starts at zero on purpose, so that a new
#: branch starts as a no-op.
ZERO_MODULE = "zero_module"
#: A constant init made inside a function or method named for zeroing
#: (``def _zero_init_last(self)``, ``def zero_init_weights(m)``): the author says it is wanted.
ZERO_INIT_METHOD = "zero_init_method"

#: The word in a function's name that marks it as a zeroing helper (``zero_module``,
#: ``zero_init_last``). Only the exact word: ``zeros_like`` is not a helper.
ZEROING_WORD = "zero"

# --- words of a layer's name that mark a deliberately zero- or small-initialized layer --------
# IL001 (constant kernels) and IL003 (an explicit scale) stay silent on a layer whose name has
# one of these words (its last dotted part, split as :func:`initlint.naming.name_tokens` does).

#: Output heads: a zero or small final projection starts every prediction at the prior (or the
#: mean), which is what detection heads, language-model heads and classifiers want.
OUTPUT_HEAD_WORDS = frozenset({
    "out", "output", "outputs", "head", "heads", "classifier", "cls", "logits", "logit",
    "final", "last", "readout", "pred", "predictor",
})
#: Reinforcement-learning heads: policy and value layers are initialized small (orthogonal
#: with gain 0.01, or zeros) so the first policy is near uniform and the first values near 0.
RL_HEAD_WORDS = frozenset({"policy", "value", "critic", "actor"})
#: Layers named for being zeroed: the author says it.
ZERO_WORDS = frozenset({"zero", "zeros"})
#: Gates (gated residuals, gated attention, LayerScale-like gating): a zero gate starts the
#: gated path closed, so the block starts as the identity.
GATE_WORDS = frozenset({"gate", "gates", "gating"})
#: adaLN-Zero (DiT): the modulation layer that produces shift, scale and gate starts at zero,
#: so every block starts as the identity.
ADALN_WORDS = frozenset({"modulation", "adaln", "ada"})
#: The end of a residual or skip branch named as such (a ``skip`` or ``residual`` projection
#: zeroed so that the branch starts as a no-op).
RESIDUAL_WORDS = frozenset({"skip", "residual"})
#: LoRA's B ("up") matrix starts at zero so that the adapted layer starts as the pretrained
#: one. These words count only when the name also has the word ``lora`` (a bare ``b`` or
#: ``up`` is any layer).
LORA_B_WORDS = frozenset({"b", "up"})
LORA_WORD = "lora"

#: Every word that marks a deliberately zero- or small-initialized layer.
DELIBERATE_LAYER_WORDS = (OUTPUT_HEAD_WORDS | RL_HEAD_WORDS | ZERO_WORDS | GATE_WORDS
                          | ADALN_WORDS | RESIDUAL_WORDS | LORA_B_WORDS)

#: LoRA's B matrix spelled in one word or with an underscore, anywhere in the dotted name:
#: ``lora_B``, ``loraB``, ``lora_up``, ``self.adapter.lora_b``.
LORA_B = re.compile(r"lora_?(b|up)\b|lora_?B", re.IGNORECASE)

# --- the std 0.02 family ----------------------------------------------------------------------

#: An explicit std in this band is a convention, not an oversight: GPT-2, BERT and ViT use
#: 0.02 (with LayerNorm after it), DCGAN 0.02 (with BatchNorm after it), many others 0.01.
#: IL003 does not report an explicit zero-mean draw whose std is in it.
CONVENTION_STD = (0.01, 0.02)

# --- tensors that are not weight matrices ------------------------------------------------------
# A random tensor that a matrix product uses is read as a hand-drawn weight unless its name says
# it is something else.

#: The data a from-scratch script draws at random (``X = np.random.randn(100, 3)``), matched as
#: the whole lower-cased name; so is a name starting with one of ``DATA_PREFIXES``
#: (``X_train``).
DATA_NAMES = frozenset({
    "x", "xs", "y", "ys", "z", "inputs", "input", "data", "batch", "noise", "samples", "images",
    "targets", "labels",
})
DATA_PREFIXES: Tuple[str, ...] = ("x_",)
#: Learned tensors that are not weight matrices, matched as words of the name: class and
#: register tokens, learned queries and latents, embedding and positional tables, prototypes,
#: codebooks, memories, prompts, slots, and RNN initial states (``h``, ``c``). Their scale is
#: a choice (often std 0.02 or 1), not a fan-in's.
NOT_WEIGHT_WORDS = frozenset({
    "query", "queries", "token", "tokens", "latent", "latents", "embed", "embedding",
    "embeddings", "pos", "position", "positional", "cls", "prototype", "prototypes", "codebook",
    "memory", "mem", "prompt", "prompts", "register", "registers", "slot", "slots", "state",
    "states", "hidden", "h", "c",
})


# --- queries ----------------------------------------------------------------------------------


def deliberate_layer_name(name: Optional[str]) -> bool:
    """A layer name that says the layer is an output, a gate, a residual end or a LoRA B
    matrix: ``lm_head``, ``adaLN_modulation``, ``self.blocks.lora_B``, ``fc_out``."""
    if not name:
        return False
    if LORA_B.search(name):
        return True
    tokens = name_tokens(name.split(".")[-1])
    if LORA_WORD not in tokens:
        tokens -= LORA_B_WORDS
    return bool(tokens & DELIBERATE_LAYER_WORDS)


def zeroing_name(name: str) -> bool:
    """A function named for zeroing what it is given or sets (``zero_module``,
    ``_zero_init_last``)."""
    return ZEROING_WORD in name_tokens(name)


def convention_std(std: float) -> bool:
    """An explicit std in the 0.01 to 0.02 convention band (bounds included, up to rounding)."""
    lo, hi = CONVENTION_STD
    return lo * (1 - 1e-9) <= std <= hi * (1 + 1e-9)


def data_name(name: str) -> bool:
    """A lower-cased name that is the data a script draws, not a weight (``x``, ``x_train``)."""
    return name in DATA_NAMES or name.startswith(DATA_PREFIXES)


def not_a_weight_name(name: Optional[str]) -> bool:
    """A name that marks learned tokens, queries, tables or states rather than a weight."""
    return bool(name_tokens(name or "") & NOT_WEIGHT_WORDS)


#: Methods that initialize a module's parameters by convention, called by the module itself,
#: a parent or a training script (PyTorch's own modules call ``reset_parameters`` from
#: ``__init__``; Hugging Face models ``post_init``; others ``apply(self._init_weights)``).
INIT_METHOD_NAMES = ("reset_parameters", "_reset_parameters", "reset_params", "init_weights",
                     "_init_weights", "init_weight", "_init_weight", "initialize",
                     "initialize_weights", "_initialize_weights", "init_parameters",
                     "_init_parameters", "init_params", "_init_params", "reset", "post_init",
                     "weights_init", "weight_init")
