"""Splitting identifiers into words, for recognizing idioms by name (``lora_B``, ``adaLN``)."""

from __future__ import annotations

import re
from typing import Set


def name_tokens(name: str) -> Set[str]:
    """Lower-case words of an identifier: ``adaLN_modulation`` -> {"ada", "ln", "modulation"}."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return {t for t in re.split(r"[^a-zA-Z]+", name.lower()) if t}
