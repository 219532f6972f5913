"""IL001 constant-kernel and its quiet variant IL101."""

from __future__ import annotations

from typing import Iterator

from .. import symmetry
from ..model import Diagnostic, Layer
from . import Context, rule
from .common import deliberate_by_name, is_output_like, layer_label, request_for

_IL101_DOC = """
    ## What it does
    Reports a hidden layer whose kernel is constant (ones or `Constant(c)`, or zeros before an
    activation with f'(0) != 0) when the next layer is randomly initialized.

    ## Why is this bad?
    It trains: the next layer's random weights send different gradients to each unit and break
    the tie. In full-batch training of small MLPs this placement reached the same loss as a
    random init. It is still an unusual choice, so the rule exists for audits; it is off by
    default and reports at `info`.

    ## Fix
    The same unsafe fix as IL001: the variance-scaled initializer that fits the activation.
"""


def _mlp(activation: str, init: str) -> str:
    """The rules' example: a hidden Dense layer with this initializer and an output layer."""
    return f"""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="{activation}", kernel_initializer="{init}"),
            layers.Dense(1),
        ])
    """


@rule("IL001", "constant-kernel", "error", fix="unsafe", severities=("warning", "error"),
      summary="Zero or constant kernel that never breaks symmetry or is dead",
      example=_mlp("relu", "zeros"), fixed=_mlp("relu", "he_uniform"),
      finding=("Dense before relu: zeros kernel and zero bias make it dead (output and "
               "gradient stay 0); use he_uniform"))
@rule("IL101", "constant-kernel-random-next", "info", default=False, fix="unsafe",
      summary="Constant hidden kernel rescued by a random next layer", doc=_IL101_DOC,
      example=_mlp("tanh", "ones"), fixed=_mlp("tanh", "glorot_uniform"),
      finding=("Dense: constant kernel (1) trains only because the next layer is random; use "
               "glorot_uniform"))
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for kernels initialized to zeros, ones or a constant in exactly the placements that
    cannot train:

    - a zero kernel with a zero bias before an activation whose derivative at 0 is 0 (ReLU,
      ReLU6): the layer is **dead** (`error`);
    - a constant or zero hidden kernel whose next layer's kernel is constant or zero too: the
      units **never become different** (`error`);
    - a nonzero constant hidden kernel (ones, `Constant(c)`) whose next layer is not visible
      to initlint (`warning`; the message says what would make it fail). A zero kernel whose
      consumer is out of sight is not reported: nothing is proven, and in real code such
      zeros are deliberate (zero-init projections, offsets and gates).

    It never fires on output layers, biases, normalization weights, the last layer of a
    residual branch, or layers whose names mark them as deliberate (heads, gates, LoRA B).

    ## Why is this bad?
    Units j and j' of a layer stay identical forever when their incoming weights and biases are
    equal and rows j and j' of the next weight matrix are equal: every gradient step changes
    them by the same amount. A constant layer feeding a constant layer therefore behaves like a
    single unit, whatever its width. A zero layer with a zero bias outputs 0; through ReLU its
    gradient is relu'(0) = 0, so it never moves, and it blocks every layer below it. In
    full-batch training of an 8-32-32-1 MLP both placements stayed at the constant predictor
    (MSE 1.00) while a random init reached 0.014.

    ## Fix
    Replaces the initializer with the one that fits the activation: He for the ReLU family,
    Glorot for tanh, sigmoid and linear layers, LeCun for SELU. The fix is unsafe: it changes
    what the model computes at step 0.
    """
    w = symmetry.constant_kernel(layer)
    if w is None or is_output_like(layer) or layer.residual_branch_end or layer.idioms:
        return
    if deliberate_by_name(layer):
        return
    v = symmetry.verdict(layer)
    if v is None:
        return
    spec = w.init
    what = "zeros kernel" if spec.is_zero else f"constant kernel ({spec.value:g})"
    label = layer_label(layer)
    req = request_for(layer, spec, distribution="uniform")
    new = ctx.name(layer, req)
    act = layer.activation.name
    if v == symmetry.DEAD:
        msg = (f"{label} before {act}: {what} and zero bias make it dead (output and "
               f"gradient stay 0); use {new}\n"
               f"{act}'(0) = 0, so the kernel never moves, and the layers below it get no "
               f"gradient either.")
        code, sev = "IL001", "error"
    elif v == symmetry.SYMMETRIC:
        msg = (f"{label}: {what} feeds another constant kernel, so its units stay "
               f"identical; use {new}\n"
               f"Units with equal incoming weights and equal rows in the next kernel get equal "
               f"gradients at every step: the layer acts as one unit, whatever its width.")
        code, sev = "IL001", "error"
    elif v == symmetry.UNKNOWN_NEXT:
        if spec.is_zero:
            # Nothing is proven, and explicit zeros whose consumer is out of sight are almost
            # always deliberate: zero-init projections, offsets and gates (all 9 such layers in
            # a survey of real PyTorch repositories were).
            return
        msg = (f"{label}: {what}; its units stay identical if the next kernel is "
               f"constant too; use {new}\n"
               f"initlint cannot see the layer that consumes this one. A random next kernel "
               f"breaks the tie; a constant one never does.")
        code, sev = "IL001", "warning"
    else:
        msg = (f"{label}: {what} trains only because the next layer is random; use "
               f"{new}\n"
               f"The next layer's random weights send different gradients to each unit and "
               f"break the tie.")
        code, sev = "IL101", "info"
    fix = ctx.fix(layer, w, req, "unsafe", f"Use {new}")
    yield Diagnostic(code, sev, msg, spec.node if spec.node is not None else layer.node, fix)
