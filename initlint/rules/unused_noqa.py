"""IL900 unused-noqa (in the spirit of ruff's RUF100)."""

from __future__ import annotations

from typing import Iterator, List, Union

from ..model import Diagnostic
from . import Case, Context, rule


# --- cases: tests/test_rule_cases.py lints each with the rule selected ------------------------

_VALID: List[Union[str, Case]] = [
    # The suppression hides a real IL002 finding.
    Case("""
        from keras import layers

        x = layers.Input((64,))
        for _ in range(3):
            x = layers.Dense(64, "relu")(x)
        hidden = layers.Dense(64, "relu", kernel_initializer="glorot_uniform")(x)  # noqa: IL002
        """, also=("IL002",)),
    Case("""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                            nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                            nn.Linear(8, 1))
        for i in (0, 2, 4, 6):
            nn.init.xavier_uniform_(net[i].weight)  # noqa: IL002
        """, also=("IL002",)),
    # Other tools' codes and a bare noqa are left alone.
    """
    from keras import layers

    hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")  # noqa: E501
    other = layers.Dense(64, activation="relu", kernel_initializer="he_normal")  # noqa
    """,
    # A file-level suppression is not judged.
    """
    # initlint: noqa: IL003
    from keras import layers

    hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")
    """,
]

_INVALID = [
    # The finding is gone: the directive goes.
    Case("""
        from keras import layers

        hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")  # noqa: IL002
        """, line=3, also=("IL002",), fixed="""
        from keras import layers

        hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")
        """),
    # Only the unused code goes; another tool's stays.
    Case("""
        from keras import layers

        hidden = layers.Dense(64, "relu", kernel_initializer="he_normal")  # noqa: IL002, E501
        """, line=3, also=("IL002",), fixed="""
        from keras import layers

        hidden = layers.Dense(64, "relu", kernel_initializer="he_normal")  # noqa: E501
        """),
    # The rule it names is not enabled.
    Case("""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.xavier_uniform_(net[0].weight)  # noqa: IL002
        """, line=4, fixed="""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.xavier_uniform_(net[0].weight)
        """),
    # No such code.
    Case("""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")  # noqa: IL999
        """, line=4, fixed="""
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
        """),
]


@rule("IL900", "unused-noqa", "warning", default=False, fix="safe", scope="source",
      summary="A `# noqa` that names an initlint code and suppresses nothing",
      example="""
          from keras import layers

          hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")  # noqa: IL002
      """,
      fixed="""
          from keras import layers

          hidden = layers.Dense(64, activation="relu", kernel_initializer="he_normal")
      """,
      finding="Unused `noqa` directive (unused: IL002)",
      valid=_VALID, invalid=_INVALID)
def check(_: object, ctx: Context) -> Iterator[Diagnostic]:
    """
    ## What it does
    Checks for `# noqa: IL...` directives whose initlint codes suppress nothing on their line:
    the finding is gone, the rule is not enabled, or the code does not exist.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line, and tells readers that
    something is wrong when nothing is.

    Only initlint's own codes (`IL...`) are judged. Other tools' codes (`E501`) and a bare
    `# noqa` are left alone, since another linter may need them. A file-level
    `# initlint: noqa` is not judged either.

    ## Fix
    Deletes the unused codes, or the whole directive when none is left (safe).
    """
    return iter(())  # the engine runs this rule: it needs the comments, not the network
