"""Fixtures of the attention suites beyond the engine's (trusted side).

* ``new_mha``: a student ``MultiHeadAttention`` with the given weights written in place.

The engine gives the rest (``student``, ``golden``, ``tol``, ``rng``, ``record`` and
``check``, the no-double-jeopardy checker; see ``proctor.testing``), and puts this
directory on ``sys.path`` so ``import _inputs`` works in any import mode.

This file ships with students' local checks, so it computes no attention math: the
alternatives ``check`` accepts (compositions around the student's own pieces) are built by
the hidden tests, from the hidden ``composition.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from _inputs import WEIGHT_NAMES


@pytest.fixture
def new_mha(student: Any) -> Callable[[int, int, Mapping[str, np.ndarray]], Any]:
    """Factory: ``new_mha(embed_dim, num_heads, weights)`` -> student MHA with those weights."""

    def make(embed_dim: int, num_heads: int, weights: Mapping[str, np.ndarray]) -> Any:
        mha = student.MultiHeadAttention(embed_dim, num_heads)
        for name in WEIGHT_NAMES:
            mha.assign(name, weights[name])
        return mha

    return make
