"""IL004 invalid-initializer-name: a name the framework rejects when the model is built."""

from __future__ import annotations

from typing import Iterator

from ..model import Diagnostic, InitRequest, Layer
from . import Case, Context, rule
from .common import layer_label

_VALID = [
    # Every name Keras 3 accepts, in either spelling.
    """
    from keras import layers

    a = layers.Dense(64, kernel_initializer="he_normal", bias_initializer="zeros")
    b = layers.Dense(64, kernel_initializer="GlorotUniform", bias_initializer="zero")
    c = layers.Conv2D(8, 3, kernel_initializer="normal", bias_initializer="Ones")
    """,
    # Keras 2 (tf.keras) names: a file may be run by either version.
    """
    from tensorflow.keras import layers

    a = layers.Dense(64, kernel_initializer="glorot_uniformV2")
    """,
    # A string given to code that is not a Keras layer is not Keras's to reject.
    """
    import torch.nn as nn

    def make(init="xavier"):
        layer = nn.Linear(64, 64)
        return layer, init

    class Block:
        def __init__(self, kernel_initializer="kaiming"):
            self.kernel_initializer = kernel_initializer
    """,
    # A framework of one's own whose layers take their own names, and another library's.
    """
    import numpy as np
    from pytorch_tcn import TCN


    class Dense:
        def __init__(self, units, kernel_initializer="Xavier"):
            self.units = units
            self.kernel_initializer = kernel_initializer


    hidden = Dense(64, kernel_initializer="he")
    tcn = TCN(8, [32, 32], kernel_initializer="xavier_uniform")
    """,
]

_INVALID = [
    # Another framework's name: one Keras name means the same, so the fix is safe.
    Case("""
        from keras import layers

        hidden = layers.Dense(64, activation="relu", kernel_initializer='kaiming_normal')
        """, line=3, fixed="""
        from keras import layers

        hidden = layers.Dense(64, activation="relu", kernel_initializer='he_normal')
        """),
    # A case slip keeps the spelling's style.
    Case("""
        from keras import layers

        out = layers.Dense(10, kernel_initializer="Glorot_Uniform")
        """, fixed="""
        from keras import layers

        out = layers.Dense(10, kernel_initializer="glorot_uniform")
        """),
    Case("""
        from keras import layers

        out = layers.Dense(10, kernel_initializer="GlorotUnifrom")
        """, fixed="""
        from keras import layers

        out = layers.Dense(10, kernel_initializer="GlorotUniform")
        """),
    # A family without its distribution: two names fit, so there is no fix.
    Case("""
        from keras import layers

        hidden = layers.Conv2D(32, 3, activation="relu", kernel_initializer="he")
        """, line=3),
    # Through a helper's default parameter: reported where the layer uses it, fixed where
    # it is written.
    Case("""
        import keras


        def block(x, units, init="xavier_uniform"):
            return keras.layers.Dense(units, activation="tanh", kernel_initializer=init)(x)


        inputs = keras.Input((16,))
        outputs = block(inputs, 8)
        """, line=5, fixed="""
        import keras


        def block(x, units, init="glorot_uniform"):
            return keras.layers.Dense(units, activation="tanh", kernel_initializer=init)(x)


        inputs = keras.Input((16,))
        outputs = block(inputs, 8)
        """),
    # Through ``initializers.get``, as Keras resolves it.
    Case("""
        from keras import initializers, layers

        init = initializers.get("xavier_normal")
        hidden = layers.Dense(64, activation="tanh", kernel_initializer=init)
        """, line=4, fixed="""
        from keras import initializers, layers

        init = initializers.get("glorot_normal")
        hidden = layers.Dense(64, activation="tanh", kernel_initializer=init)
        """),
    # Any initializer argument, not only the kernel's.
    Case("""
        from keras import layers

        rnn = layers.LSTM(32, recurrent_initializer="orthogonl")
        """, fixed="""
        from keras import layers

        rnn = layers.LSTM(32, recurrent_initializer="orthogonal")
        """),
]


@rule("IL004", "invalid-initializer-name", "error", fix="safe",
      summary="Initializer name that Keras rejects when the layer is built",
      example="""
          from keras import layers

          hidden = layers.Dense(64, activation="relu", kernel_initializer="xavier_uniform")
      """,
      fixed="""
          from keras import layers

          hidden = layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform")
      """,
      finding=("Dense hidden: \"xavier_uniform\" is not a Keras initializer; did you mean "
               "\"glorot_uniform\"?"),
      valid=_VALID, invalid=_INVALID)
def check(layer: Layer, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks the initializer strings given to Keras layers (`kernel_initializer`,
    `bias_initializer`, `recurrent_initializer`, `embeddings_initializer`, ...) against the
    names Keras accepts.

    ## Why is this bad?
    Keras looks a string up exactly, case and underscores included, when the layer is
    created: `"he"`, `"xavier_uniform"`, `"kaiming_normal"`, `"Glorot_Uniform"` or a typo
    such as `"lecun_nrmal"` raise `ValueError: Could not interpret initializer identifier`
    (Keras 2: `Unknown initializer`). The error comes only when that code runs, which may be
    deep into a script or behind a rarely used option. Names Keras 3 or Keras 2 (tf.keras)
    accept are never reported.

    ## Fix
    Writes the Keras name the string stands for, in the same quotes and the same style
    (snake_case stays snake_case, a class name stays a class name), when exactly one name
    fits: PyTorch's `xavier_*` and `kaiming_*` are Keras's `glorot_*` and `he_*`, and a slip
    of case or a typo has one close match. The fix is safe: it names what Keras would have
    built had it understood the string. A bare family (`"he"`, `"xavier"`) names no
    distribution; the message lists both and there is no fix.
    """
    for w in layer.weights:
        spec = w.init
        if not spec.rejected:
            continue
        names = spec.suggestions
        if len(names) == 1:
            hint = f'; did you mean "{names[0]}"?'
        elif names:
            hint = "; did you mean " + " or ".join(f'"{n}"' for n in names) + "?"
        else:
            hint = ""
        msg = f'{layer_label(layer)}: "{spec.display}" is not a Keras initializer{hint}'
        fix = None
        if len(names) == 1:
            req = InitRequest("", "", name=names[0])
            fix = ctx.fix(layer, w, req, "safe", f'Use "{names[0]}"')
        node = spec.node if spec.node is not None else layer.node
        yield Diagnostic("IL004", "error", msg, node, fix)
