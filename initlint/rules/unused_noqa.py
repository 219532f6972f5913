"""IL900 unused-noqa (in the spirit of ruff's RUF100)."""

from __future__ import annotations

from typing import Iterator

from ..model import Diagnostic
from . import Context, rule


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
      finding="Unused `noqa` directive (unused: IL002)")
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
