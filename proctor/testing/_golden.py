"""Helpers for a suite's ``golden_cases.py`` (computed at release time, trusted side)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Evaluated = dict[str, tuple[np.ndarray, str]]


def evaluated(variants: Mapping[str, tuple[Callable[[], Any], str]]) -> Evaluated:
    """Force each lazy variant to an array; drop those that raise on these inputs (a mistake
    that cannot run there is no candidate explanation of a wrong answer)."""
    out: Evaluated = {}
    for name, (make, hint) in variants.items():
        try:
            value = np.asarray(make(), dtype=np.float64)
        except Exception:  # noqa: BLE001 - a mistake that cannot run here is no candidate
            continue
        out[name] = (value, hint)
    return out
