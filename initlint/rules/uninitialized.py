"""IL007 uninitialized-parameter: parameter memory that no init ever writes."""

from __future__ import annotations

from typing import Iterator

from ..model import Diagnostic, Layer
from . import Case, Context, rule
from .common import layer_label

_VALID = [
    # Written in __init__, through reset_parameters, or by a helper initlint cannot see.
    """
    import torch
    import torch.nn as nn
    from torch_geometric.nn.inits import glorot


    class Attention(nn.Module):
        def __init__(self, heads, dim):
            super().__init__()
            self.att = nn.Parameter(torch.empty(1, heads, dim))
            self.proj = nn.Parameter(torch.Tensor(dim, dim))
            self.scale = nn.Parameter(torch.empty(heads))
            nn.init.xavier_uniform_(self.proj)
            self.scale.data.fill_(1.0)
            glorot(self.att)
    """,
    # A reset_parameters that only a parent or a training script calls.
    """
    import math
    import torch
    import torch.nn as nn


    class Bilinear(nn.Module):
        def __init__(self, n, m):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(n, m))
            self.bias = nn.Parameter(torch.empty(m))

        def reset_parameters(self):
            bound = 1 / math.sqrt(self.weight.size(1))
            nn.init.uniform_(self.weight, -bound, bound)
            nn.init.zeros_(self.bias)

        def forward(self, x):
            return x @ self.weight + self.bias
    """,
    # A frozen pre-trained matrix (LoRA's W0), loaded from a checkpoint elsewhere.
    """
    import torch
    import torch.nn as nn


    class LoRALinear(nn.Module):
        def __init__(self, n_in, n_out, r=4):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(n_out, n_in))
            self.weight.requires_grad = False
            self.lora_a = nn.Parameter(torch.randn(r, n_in) / r)
            self.lora_b = nn.Parameter(torch.zeros(n_out, r))
    """,
    # Data, not a shape; and memory filled from a checkpoint.
    """
    import torch
    import torch.nn as nn

    table = nn.Parameter(torch.Tensor([1.0, 2.0, 3.0]))
    buf = nn.Parameter(torch.empty(64, 64))
    buf.data.copy_(torch.load("weights.pt"))
    """,
]

_INVALID = [
    # The shape of a bug shipped in a graph library: the attention vectors of a convolution
    # are allocated and never initialized; only the linear layer's weight is.
    Case("""
        import torch
        import torch.nn as nn


        class GATLayer(nn.Module):
            def __init__(self, d_in, d_out, heads=4):
                super().__init__()
                self.lin = nn.Linear(d_in, heads * d_out, bias=False)
                self.att_src = nn.Parameter(torch.empty(1, heads, d_out))
                self.att_dst = nn.Parameter(torch.empty(1, heads, d_out))
                self.reset_parameters()

            def reset_parameters(self):
                nn.init.xavier_uniform_(self.lin.weight)
                nn.init.xavier_uniform_(self.att_src)

            def forward(self, x):
                h = self.lin(x)
                return (h * self.att_src).sum(-1), (h * self.att_dst).sum(-1)
        """, line=10),
    Case("""
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.FloatTensor(784, 10))

            def forward(self, x):
                return x @ self.w
        """, line=8),
    # In a script: an uninitialized tensor made trainable.
    Case("""
        import torch

        W = torch.Tensor(784, 256).requires_grad_()
        b = torch.zeros(256, requires_grad=True)
        """, line=3),
]


@rule("IL007", "uninitialized-parameter", "error", default=False,
      summary="Parameter allocated with torch.empty or torch.Tensor(n, m) that no init writes",
      example="""
          import torch
          import torch.nn as nn


          class Net(nn.Module):
              def __init__(self):
                  super().__init__()
                  self.w = nn.Parameter(torch.empty(784, 10))

              def forward(self, x):
                  return x @ self.w
      """,
      fixed="""
          import torch
          import torch.nn as nn


          class Net(nn.Module):
              def __init__(self):
                  super().__init__()
                  self.w = nn.Parameter(torch.empty(784, 10))
                  nn.init.xavier_uniform_(self.w)

              def forward(self, x):
                  return x @ self.w
      """,
      finding="Parameter w: torch.empty leaves its memory uninitialized, and no init writes it",
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for parameters allocated without values (`nn.Parameter(torch.empty(...))`,
    `torch.Tensor(n, m)`, `torch.FloatTensor(n, m)`) that no initializer writes: not in
    `__init__`, not in the methods that initialize by convention (`reset_parameters`,
    `_init_weights`, `init_weights`, `post_init`...), not through `apply(...)` or a loop over
    `parameters()`/`modules()`, and not by code initlint cannot see (a helper from another
    package, a checkpoint load), which counts as written.

    ## Why is this bad?
    `torch.empty` returns whatever the allocator's memory held: often zeros, sometimes
    leftovers of freed tensors, sometimes huge values or NaN. The model trains differently
    from run to run and machine to machine, or not at all, and nothing raises. The
    attention vectors of a released graph-attention layer were once shipped this way.

    ## Fix
    Initialize the parameter where it is made or in `reset_parameters` (for example
    `nn.init.xavier_uniform_(self.w)`), or allocate it with values (`torch.zeros` for a bias).
    There is no automatic fix: which initializer fits is the author's choice.

    ## Off by default
    Memory allocated empty is often filled where initlint cannot follow: by a training
    script of another module that replaces the parameter, or by a sharding or offloading
    layer that copies values in. Until those are read, the rule is opt-in
    (`--extend-select IL007`).
    """
    for w in layer.weights:
        spec = w.init
        if not spec.uninitialized:
            continue
        what = spec.display or "torch.empty"
        msg = (f"{layer_label(layer)}: {what} leaves its memory uninitialized, and no init "
               "writes it")
        node = spec.node if spec.node is not None else layer.node
        yield Diagnostic("IL007", "error", msg, node)
