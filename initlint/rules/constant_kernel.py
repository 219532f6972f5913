"""IL001 constant-kernel and its quiet variant IL101."""

from __future__ import annotations

from typing import Iterator

from .. import symmetry
from ..model import Diagnostic, Layer, Severity
from . import Case, Context, rule
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


# --- cases: tests/test_rule_cases.py lints each with the rule selected ------------------------

_IL001_VALID = [
    # Keras: a zero output layer starts every prediction at the bias (the prior).
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((16,)),
        layers.Dense(32, activation="relu", kernel_initializer="he_uniform"),
        layers.Dense(1, kernel_initializer="zeros"),
    ])
    """,
    # Keras: a layer named as a head is deliberate; the logits layer is the output.
    """
    import keras
    from keras import layers

    inputs = keras.Input((128,))
    features = layers.Dense(64, activation="relu", kernel_initializer="he_uniform")(inputs)
    head = layers.Dense(64, activation="relu", kernel_initializer="zeros")
    logits = layers.Dense(10, kernel_initializer="zeros")(head(features))
    """,
    # Keras: a constant kernel whose next layer is random trains (IL101's, at info).
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((16,)),
        layers.Dense(32, activation="tanh", kernel_initializer="ones"),
        layers.Dense(1),
    ])
    """,
    # Keras: BatchNormalization's gamma at ones and beta at zeros are its defaults.
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((16,)),
        layers.Dense(32, kernel_initializer="he_uniform"),
        layers.BatchNormalization(gamma_initializer="ones", beta_initializer="zeros"),
        layers.Activation("relu"),
        layers.Dense(1),
    ])
    """,
    # PyTorch: zero_module (guided diffusion, ControlNet) starts a new branch as a no-op.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    def zero_module(module):
        for p in module.parameters():
            p.detach().zero_()
        return module


    class ControlBlock(nn.Module):
        def __init__(self, channels=320):
            super().__init__()
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)
            self.zconv = zero_module(nn.Conv2d(channels, channels, 1))
            self.post = nn.Conv2d(channels, channels, 3, padding=1)

        def forward(self, x):
            h = F.silu(self.conv(x))
            h = F.relu(self.zconv(h))
            return self.post(h)
    """,
    # PyTorch: the last layer of a residual branch zeroed (Fixup, zero_init_residual): the
    # block starts as the identity.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Block(nn.Module):
        def __init__(self, dim=256):
            super().__init__()
            self.fc1 = nn.Linear(dim, 4 * dim)
            self.fc2 = nn.Linear(4 * dim, dim)
            nn.init.zeros_(self.fc2.weight)
            nn.init.zeros_(self.fc2.bias)

        def forward(self, x):
            return x + self.fc2(F.relu(self.fc1(x)))
    """,
    # PyTorch: torchvision's zero_init_residual zeroes the last BatchNorm's gamma of a block.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class BasicBlock(nn.Module):
        def __init__(self, planes=64):
            super().__init__()
            self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            nn.init.ones_(self.bn1.weight)
            nn.init.zeros_(self.bn2.weight)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + x)
    """,
    # PyTorch: LoRA's up (B) matrix starts at zero, so the adapted layer starts as the base.
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class LoRAConv(nn.Module):
        def __init__(self, channels=320, rank=4):
            super().__init__()
            self.lora_down = nn.Conv2d(channels, rank, 1, bias=False)
            self.lora_up = nn.Conv2d(rank, channels, 1, bias=False)
            self.post = nn.Conv2d(channels, channels, 1)
            nn.init.normal_(self.lora_down.weight, std=1 / rank)
            nn.init.zeros_(self.lora_up.weight)

        def forward(self, x):
            return self.post(F.relu(self.lora_up(self.lora_down(x))))
    """,
    # PyTorch: adaLN-Zero's modulation layer starts at zero (DiT).
    """
    import torch.nn as nn
    import torch.nn.functional as F


    class Conditioner(nn.Module):
        def __init__(self, cond=128, dim=256):
            super().__init__()
            self.adaLN_modulation = nn.Linear(cond, dim)
            self.post = nn.Linear(dim, dim)
            nn.init.zeros_(self.adaLN_modulation.weight)
            nn.init.zeros_(self.adaLN_modulation.bias)

        def forward(self, c):
            return self.post(F.relu(self.adaLN_modulation(c)))
    """,
    # PyTorch: normalization weights set to 1 and biases to 0.
    """
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3)
            self.bn = nn.BatchNorm2d(16)
            self.ln = nn.LayerNorm(16)
            nn.init.ones_(self.bn.weight)
            nn.init.zeros_(self.bn.bias)
            nn.init.constant_(self.ln.weight, 1.0)

        def forward(self, x):
            return self.ln(self.bn(self.conv(x)).mean((2, 3)))
    """,
]

_IL001_INVALID = [
    Case("""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="relu", kernel_initializer="zeros"),
            layers.Dense(1),
        ])
        """, line=6, fixed="""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="relu", kernel_initializer="he_uniform"),
            layers.Dense(1),
        ])
        """),
    # A constant layer feeding a constant layer: the fix makes the first random, and the
    # second then trains (IL101's).
    Case("""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="tanh", kernel_initializer="ones"),
            layers.Dense(32, activation="tanh", kernel_initializer="ones"),
            layers.Dense(1),
        ])
        """, line=6, fixed="""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="tanh", kernel_initializer="glorot_uniform"),
            layers.Dense(32, activation="tanh", kernel_initializer="ones"),
            layers.Dense(1),
        ])
        """),
    # A nonzero constant whose next layer is out of sight: a warning.
    Case("""
        from keras import layers, initializers

        hidden = layers.Dense(32, activation="tanh",
                              kernel_initializer=initializers.Constant(0.5))
        """, line=4, severity="warning", fixed="""
        from keras import layers, initializers

        hidden = layers.Dense(32, activation="tanh",
                              kernel_initializer=initializers.GlorotUniform())
        """),
    Case("""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.fc2 = nn.Linear(256, 10)
                nn.init.zeros_(self.fc1.weight)
                nn.init.zeros_(self.fc1.bias)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
        """, line=10, fixed="""
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.fc2 = nn.Linear(256, 10)
                nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity="relu")
                nn.init.zeros_(self.fc1.bias)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
        """),
    Case("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self, n_in=784, n_hidden=256):
                super().__init__()
                self.w1 = nn.Parameter(torch.zeros(n_hidden, n_in))
                self.out = nn.Linear(n_hidden, 10)

            def forward(self, x):
                return self.out(F.relu(F.linear(x, self.w1)))
        """, line=9, fixed="""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self, n_in=784, n_hidden=256):
                super().__init__()
                self.w1 = nn.Parameter(torch.randn(n_hidden, n_in) * (2 / n_in) ** 0.5)
                self.out = nn.Linear(n_hidden, 10)

            def forward(self, x):
                return self.out(F.relu(F.linear(x, self.w1)))
        """),
    # One loop sets every layer to ones (biases to zeros): reported once, with no fix, since
    # the output layer it also sets needs no change.
    Case("""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 32), nn.Tanh(),
                            nn.Linear(32, 32), nn.Tanh(),
                            nn.Linear(32, 1))
        for m in net.modules():
            if isinstance(m, nn.Linear):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        """, line=8),
]

_IL101_VALID = [
    # Dead (zero kernel and bias before ReLU): IL001's, at error.
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((16,)),
        layers.Dense(32, activation="relu", kernel_initializer="zeros"),
        layers.Dense(1),
    ])
    """,
    # Keras: a constant output layer.
    """
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((16,)),
        layers.Dense(32, activation="tanh"),
        layers.Dense(1, kernel_initializer="ones"),
    ])
    """,
    # PyTorch: the default bias is random, so the units differ from the start.
    """
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(16, 32)
            self.fc2 = nn.Linear(32, 1)
            nn.init.ones_(self.fc1.weight)

        def forward(self, x):
            return self.fc2(self.fc1(x).tanh())
    """,
    # PyTorch: normalization weights at 1 (DCGAN's weights_init).
    """
    import torch.nn as nn


    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("BatchNorm") != -1:
            m.weight.data.fill_(1)
            m.bias.data.zero_()


    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 1, 3))
    net.apply(weights_init)
    """,
]

_IL101_INVALID = [
    Case("""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="tanh", kernel_initializer="ones"),
            layers.Dense(1),
        ])
        """, line=6, fixed="""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(32, activation="tanh", kernel_initializer="glorot_uniform"),
            layers.Dense(1),
        ])
        """),
    Case("""
        import keras
        from keras import layers, initializers

        inputs = keras.Input((16,))
        init = initializers.Constant(0.5)
        h = layers.Dense(32, activation="sigmoid", kernel_initializer=init)(inputs)
        outputs = layers.Dense(1, activation="sigmoid")(h)
        """, line=6, fixed="""
        import keras
        from keras import layers, initializers

        inputs = keras.Input((16,))
        init = initializers.GlorotUniform()
        h = layers.Dense(32, activation="sigmoid", kernel_initializer=init)(inputs)
        outputs = layers.Dense(1, activation="sigmoid")(h)
        """),
    Case("""
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(16, 32)
                self.fc2 = nn.Linear(32, 1)
                nn.init.ones_(self.fc1.weight)
                nn.init.zeros_(self.fc1.bias)

            def forward(self, x):
                return self.fc2(self.fc1(x).tanh())
        """, line=9, fixed="""
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(16, 32)
                self.fc2 = nn.Linear(32, 1)
                nn.init.xavier_uniform_(self.fc1.weight, gain=nn.init.calculate_gain("tanh"))
                nn.init.zeros_(self.fc1.bias)

            def forward(self, x):
                return self.fc2(self.fc1(x).tanh())
        """),
    Case("""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
        net[0].weight.data.fill_(0.1)
        net[0].bias.data.zero_()
        """, line=4, fixed="""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
        nn.init.kaiming_uniform_(net[0].weight.data, nonlinearity="relu")
        net[0].bias.data.zero_()
        """),
]


@rule("IL001", "constant-kernel", "error", fix="unsafe", severities=("warning", "error"),
      summary="Zero or constant kernel that never breaks symmetry or is dead",
      example=_mlp("relu", "zeros"), fixed=_mlp("relu", "he_uniform"),
      finding=("Dense before relu: zeros kernel and zero bias make it dead (output and "
               "gradient stay 0); use he_uniform"),
      valid=_IL001_VALID, invalid=_IL001_INVALID)
@rule("IL101", "constant-kernel-random-next", "info", default=False, fix="unsafe",
      summary="Constant hidden kernel rescued by a random next layer", doc=_IL101_DOC,
      example=_mlp("tanh", "ones"), fixed=_mlp("tanh", "glorot_uniform"),
      finding=("Dense: constant kernel (1) trains only because the next layer is random; use "
               "glorot_uniform"),
      valid=_IL101_VALID, invalid=_IL101_INVALID)
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
    sev: Severity
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
