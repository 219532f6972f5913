"""IL005 deprecated-initializer-api: initializer APIs the framework deprecated, removed or never had."""

from __future__ import annotations

from typing import Iterator

from ..model import Diagnostic, Fix, Network
from . import Case, Context, rule

_VALID = [
    # The current spellings.
    """
    import torch.nn as nn

    layer = nn.Linear(64, 64)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    """,
    # A function of one's own that happens to share a name.
    """
    import torch.nn as nn


    def xavier_uniform(w):
        return nn.init.xavier_uniform_(w)


    layer = nn.Linear(64, 64)
    xavier_uniform(layer.weight)
    """,
    # ``torch.nn.init`` names that are not initializers.
    """
    import torch.nn as nn

    gain = nn.init.calculate_gain("relu")
    """,
    # Keras 2's arguments; an ``init`` argument of a class that is not a Keras layer.
    """
    from keras import layers


    class Block:
        def __init__(self, units, init="he_normal"):
            self.dense = layers.Dense(units, kernel_initializer=init)


    block = Block(64, init="glorot_uniform")
    """,
]

_INVALID = [
    # Keras 1's module of initializers: an ImportError in Keras 2 and 3, and no fix, since
    # its functions took a shape.
    Case("""
        from keras import initializations
        from keras.models import Sequential
        from keras.layers import Dense

        model = Sequential([Dense(64, input_dim=10)])
        w = initializations.normal((10, 64), scale=0.05)
        """, line=1, severity="error"),
    # Deprecated: it still runs, with a FutureWarning; the rename keeps the meaning.
    Case("""
        import torch.nn as nn

        layer = nn.Linear(64, 64)
        nn.init.xavier_uniform(layer.weight)
        nn.init.constant(layer.bias, 0.0)
        """, fixed="""
        import torch.nn as nn

        layer = nn.Linear(64, 64)
        nn.init.xavier_uniform_(layer.weight)
        nn.init.constant_(layer.bias, 0.0)
        """, severity="warning"),
    # Never existed: AttributeError when the line runs.
    Case("""
        from torch import nn

        layer = nn.Linear(64, 64)
        nn.init.zeros(layer.bias)
        """, line=4, severity="error", fixed="""
        from torch import nn

        layer = nn.Linear(64, 64)
        nn.init.zeros_(layer.bias)
        """),
    # Inside an init function applied to every module, under another alias.
    Case("""
        import torch
        from torch.nn import init


        def weights_init(m):
            if isinstance(m, torch.nn.Conv2d):
                init.kaiming_normal(m.weight)


        net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
        net.apply(weights_init)
        """, line=7, fixed="""
        import torch
        from torch.nn import init


        def weights_init(m):
            if isinstance(m, torch.nn.Conv2d):
                init.kaiming_normal_(m.weight)


        net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
        net.apply(weights_init)
        """),
    # Keras 1's arguments: Keras 2 and 3 reject them; each names one weight's initializer.
    Case("""
        from keras.layers import LSTM, Embedding

        emb = Embedding(1000, 64, init="uniform")
        rnn = LSTM(32, init="glorot_uniform", inner_init="orthogonal")
        """, severity="error", fixed="""
        from keras.layers import LSTM, Embedding

        emb = Embedding(1000, 64, embeddings_initializer="uniform")
        rnn = LSTM(32, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal")
        """),
    # A separable convolution's ``init`` set both kernels: no one keyword replaces it.
    Case("""
        from keras import layers

        conv = layers.SeparableConv2D(32, 3, init="he_normal")
        """, line=3, severity="error"),
    # Imported by name: reported, but the rename would need the import changed too.
    Case("""
        import torch.nn as nn
        from torch.nn.init import normal

        layer = nn.Linear(64, 64)
        normal(layer.weight, std=0.02)
        """, line=5),
]


@rule("IL005", "deprecated-initializer-api", "error", fix="safe", scope="network",
      severities=("warning", "error"),
      summary="Initializer API that the framework deprecated, removed or never had",
      example="""
          import torch.nn as nn

          layer = nn.Linear(256, 256)
          nn.init.kaiming_normal(layer.weight)
      """,
      fixed="""
          import torch.nn as nn

          layer = nn.Linear(256, 256)
          nn.init.kaiming_normal_(layer.weight)
      """,
      finding="`nn.init.kaiming_normal` is deprecated; use `nn.init.kaiming_normal_`",
      valid=_VALID, invalid=_INVALID)
def check(network: Network, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for `torch.nn.init` functions spelled without their trailing underscore
    (`nn.init.normal`, `uniform`, `constant`, `eye`, `dirac`, `xavier_uniform`,
    `xavier_normal`, `kaiming_uniform`, `kaiming_normal`, `orthogonal`, `sparse`), and for
    names `torch.nn.init` never had (`nn.init.zeros`, `ones`, `trunc_normal`); and for
    Keras 1's initializer arguments on Keras layers (`init=`, `inner_init=`).

    ## Why is this bad?
    The spellings without an underscore are deprecated: each still calls the in-place
    function, but warns on every call (`FutureWarning: nn.init.xavier_uniform is now
    deprecated in favor of nn.init.xavier_uniform_`) and may go in a future release. They
    are reported as warnings. `nn.init.zeros(w)` and the like raise `AttributeError` when the
    line runs, often in an init function applied to every module, long after the model was
    written; they are reported as errors. So are Keras 1's `Dense(64, init="he_normal")` and
    `LSTM(32, inner_init="orthogonal")`: Keras 3 raises `ValueError: Unrecognized keyword
    arguments`, tf.keras `TypeError`; only Keras 2.2 still converted them, with a warning.

    ## Fix
    Adds the underscore: `nn.init.kaiming_normal(w)` becomes `nn.init.kaiming_normal_(w)`,
    the function the deprecated one calls, so the result is the same. A name that never
    existed becomes the function it stands for (`nn.init.zeros` → `nn.init.zeros_`). A
    function imported by name (`from torch.nn.init import normal`) is reported without a fix,
    since the import would have to change too. `init=` becomes the keyword of the weight it
    set (`kernel_initializer=`, `embeddings_initializer=` on an `Embedding`), and
    `inner_init=` becomes `recurrent_initializer=`; a separable convolution's `init=` set
    both of its kernels and gets no fix, nor does a call that already has the new keyword.
    """
    for d in network.deprecations:
        msg = f"`{d.old}` {d.status}; use `{d.new}`\n{d.why}"
        fix = Fix("safe", f"Use `{d.new}`", list(d.edits)) if d.edits else None
        yield Diagnostic("IL005", "error" if d.removed else "warning", msg, d.node, fix)
