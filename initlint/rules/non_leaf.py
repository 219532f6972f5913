"""IL008 non-leaf-weight: a hand-made weight that autograd never gives a gradient."""

from __future__ import annotations

from typing import Iterator

from ..model import Diagnostic, Fix, Layer
from . import Case, Context, rule
from .common import layer_label

_VALID = [
    # Scaled first, then made trainable: a leaf.
    """
    import torch

    W = (torch.randn(784, 256) * 0.01).requires_grad_()
    b = torch.zeros(256, requires_grad=True)
    h = torch.relu(x @ W + b)
    """,
    # Scaled inside nn.Parameter, which makes a new leaf of what it gets.
    """
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(784, 10, requires_grad=True) * 0.01)

        def forward(self, x):
            return x @ self.w
    """,
    # Drawn with requires_grad and used unscaled: a leaf.
    """
    import torch

    W = torch.randn(784, 10, requires_grad=True)
    logits = x @ W
    """,
]

_INVALID = [
    Case("""
        import math
        import torch

        W1 = torch.randn(784, 256, requires_grad=True) * math.sqrt(2 / 784)
        W2 = torch.randn(256, 10, requires_grad=True) / 16
        h = torch.relu(x @ W1)
        logits = h @ W2
        """, fixed="""
        import math
        import torch

        W1 = (torch.randn(784, 256) * math.sqrt(2 / 784)).requires_grad_()
        W2 = (torch.randn(256, 10) / 16).requires_grad_()
        h = torch.relu(x @ W1)
        logits = h @ W2
        """),
    # The keyword among others, on a draw of another spelling.
    Case("""
        import torch

        w = torch.rand(100, 10, dtype=torch.float64, requires_grad=True) * 0.02
        y = x @ w
        """, line=3, fixed="""
        import torch

        w = (torch.rand(100, 10, dtype=torch.float64) * 0.02).requires_grad_()
        y = x @ w
        """),
    # Scaled by a method, inside a function that builds the weights.
    Case("""
        import torch


        def init_params(n_in, n_hidden):
            W = torch.randn(n_in, n_hidden, requires_grad=True).mul(0.01)
            b = torch.zeros(n_hidden, requires_grad=True)
            return W, b


        W, b = init_params(784, 256)
        h = torch.tanh(x @ W + b)
        """, line=5),
]


@rule("IL008", "non-leaf-weight", "error", fix="safe",
      summary="Weight scaled after requires_grad=True: not a leaf, so it never gets a gradient",
      example="""
          import torch

          W = torch.randn(784, 10, requires_grad=True) * 0.01
          logits = x @ W
      """,
      fixed="""
          import torch

          W = (torch.randn(784, 10) * 0.01).requires_grad_()
          logits = x @ W
      """,
      finding="weight W: scaled after requires_grad=True, so it is not a leaf tensor and its "
              ".grad stays None",
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for weights made by hand from a draw that already requires a gradient and then
    scaled: `torch.randn(n, m, requires_grad=True) * 0.01`.

    ## Why is this bad?
    The draw is the leaf that autograd tracks; the product is a new tensor computed from
    it, so `W` is not a leaf. After `loss.backward()`, `W.grad` is None (PyTorch warns only
    when `.grad` is read), and an optimizer built on `[W]` never changes it: the layer keeps
    its initial values while the loss still falls through the other layers. The gradient
    goes to the unscaled draw, which nothing holds.

    ## Fix
    Scale first, then enable the gradient:
    `(torch.randn(n, m) * 0.01).requires_grad_()`. The fix is safe: the values are the same
    and the tensor becomes the leaf. `nn.Parameter(...)` around the product also works, since
    a parameter is a new leaf, and is not reported.
    """
    for w in layer.weights:
        if not w.non_leaf:
            continue
        msg = (f"{layer_label(layer)}: scaled after requires_grad=True, so it is not a leaf "
               "tensor and its .grad stays None")
        fix = (Fix("safe", "Scale first, then call .requires_grad_()", [w.leaf_fix])
               if w.leaf_fix is not None else None)
        node = w.leaf_fix.node if w.leaf_fix is not None else (
            w.init.node if w.init.node is not None else layer.node)
        yield Diagnostic("IL008", "error", msg, node, fix)
