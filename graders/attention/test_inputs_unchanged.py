"""No function may modify the arrays it was given (contract, "The submission").

The sandbox holds its own copies of every argument, so these tests ask it to compare
each array argument's bytes before and after the call (``call_checking_inputs``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import mha_weights, qkv
from proctor.testing import CheckFailure, Trusted, StudentError

HINT = ("Work on copies or on new arrays: `x = x * scale` makes a new array, while `x *= scale` or "
        "`x[mask] = ...` writes into the caller's data.")


def _unchanged(modified: list[str], what: str) -> None:
    if modified:
        raise CheckFailure(f"Checking that {what} leaves its inputs alone: it changed "
                           f"{', '.join(modified)} in place.", {"checked": what, "modified": modified}, HINT)


@pytest.mark.task("scaled_dot_product")
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")
def test_sdpa_leaves_inputs_alone(student: Any, rng: Any) -> None:
    """ScaledDotProductAttention.forward leaves query, key, value and mask unchanged"""
    q, k, v = qkv(rng, 2, 3, 4, 5, 6)
    mask = np.tril(np.ones((3, 4), dtype=bool), k=1)
    sdpa = student.ScaledDotProductAttention()
    _, modified = sdpa.call_checking_inputs("forward", q, k, v, mask=mask, return_attention_weights=True)
    _unchanged(modified, "ScaledDotProductAttention.forward")


@pytest.mark.task("multi_head")
@pytest.mark.requires("test_multi_head.py::test_self_attention")
def test_mha_leaves_inputs_alone(student: Any, new_mha: Any, rng: Any) -> None:
    """MultiHeadAttention.forward leaves query, key, value and mask unchanged"""
    x = rng.standard_normal((2, 4, 8))
    mha = new_mha(8, 2, mha_weights(rng, 8))
    mask = np.tril(np.ones((4, 4)))
    _, modified = mha.call_checking_inputs("forward", x, x.copy(), x.copy(), mask=mask)
    _unchanged(modified, "MultiHeadAttention.forward")


@pytest.mark.task("kv_cache")
@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
def test_update_leaves_new_keys_and_values_alone(student: Any, rng: Any) -> None:
    """KVCache.update leaves the new keys and values it was given unchanged"""
    cache = student.KVCache(2, 8, 2, 4)
    k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    _, modified = cache.call_checking_inputs("update", 0, k, v)
    _unchanged(modified, "KVCache.update")


@pytest.mark.task("cached_attention")
@pytest.mark.requires("test_cached_attention.py::test_prefill_then_single_tokens")
def test_cached_step_leaves_x_new_alone(student: Any, reference: Any, new_mha: Any,
                                       rng: Any) -> None:
    """cached_self_attention leaves x_new unchanged"""
    mha = new_mha(8, 2, mha_weights(rng, 8))
    x_new = rng.standard_normal((3, 8))

    def step(cache: Any) -> list[str]:
        return student.call_checking_inputs("cached_self_attention", mha, x_new, cache, 0)[1]

    try:
        modified = step(student.KVCache(1, 8, 2, 4))
    except StudentError:  # no working KVCache of the student's own: lend one (kv_cache counts it)
        modified = step(Trusted(reference.KVCache(1, 8, 2, 4), "KVCache"))
    _unchanged(modified, "cached_self_attention")
