"""The trusted side of a correct `attention` for grading work that builds on it.

A transformer submission imports `attention`. Where the student's own attention makes a
test fail, the grader runs that test again on a correct one, but the reference never
enters the student's process (until course.toml releases it). Instead the sandbox gets
``reference/attention_stand_in.py``, which holds no attention code and forwards every call
here; one :class:`Service` per graded submission computes with the reference. Values cross
the boundary as arrays (see proctor.sandbox.callback): objects stay on their side, a KV
cache's state lives here under a number, a MultiHeadAttention's weights live in the sandbox
(graders write them in place there) and come along with each call.

Every public method is callable by student code, so each checks its sizes first: a
submission cannot make the grader allocate or compute more than ``MAX_ELEMENTS`` numbers
for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import attention as ref

#: The most numbers one call may make the trusted side hold (a cache, or attention scores).
MAX_ELEMENTS = 20_000_000
WEIGHTS = ("w_q", "w_k", "w_v", "w_o")  # a MultiHeadAttention's, in its parameters' order


def _bounded(count: int, what: str) -> None:
    if count > MAX_ELEMENTS:
        raise ValueError(f"{what} would hold {count:,} numbers; the grader's correct attention "
                         f"allows at most {MAX_ELEMENTS:,}")


def _size(*dims: Any) -> int:
    total = 1
    for d in dims:
        if int(d) < 0:
            raise ValueError(f"sizes must be >= 0, got {dims}")
        total *= int(d)
    return total


def _mha(weights: list[Any], num_heads: int) -> ref.MultiHeadAttention:
    """A reference MultiHeadAttention reading the sandbox's current weights."""
    arrays = [np.asarray(w, dtype=np.float64) for w in weights]
    if len(arrays) != 4 or any(a.ndim != 2 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError("expected the four (embed_dim, embed_dim) weights w_q, w_k, w_v, w_o")
    mha = ref.MultiHeadAttention(arrays[0].shape[0], int(num_heads))
    mha.w_q, mha.w_k, mha.w_v, mha.w_o = arrays
    mha.parameters = arrays
    return mha


class Service:
    """A correct attention for one graded submission: what the stand-in's calls reach."""

    def __init__(self) -> None:
        self._caches: dict[int, ref.KVCache] = {}

    def create_causal_mask(self, seq_len: int) -> np.ndarray:
        _bounded(_size(seq_len, seq_len), "the mask")
        return ref.create_causal_mask(int(seq_len))

    def scaled_dot_product(self, query: Any, key: Any, value: Any, mask: Any = None,
                           return_attention_weights: bool = False, temperature: float = 1.0) -> Any:
        q, k = np.asarray(query), np.asarray(key)
        _bounded(_size(*q.shape[:-1], k.shape[-2] if k.ndim >= 2 else 1), "the attention scores")
        attention = ref.ScaledDotProductAttention(temperature=float(temperature))
        return attention(query, key, value, mask=mask, return_attention_weights=bool(return_attention_weights))

    def new_attention(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> dict[str, np.ndarray]:
        """A new MultiHeadAttention's starting weights (the reference's); raises as it does."""
        _bounded(4 * _size(embed_dim, embed_dim), "the attention weights")
        mha = ref.MultiHeadAttention(int(embed_dim), int(num_heads), dropout=float(dropout))
        return {name: getattr(mha, name) for name in WEIGHTS}

    def attend(self, weights: list[Any], num_heads: int, query: Any, key: Any, value: Any,
               mask: Any = None, return_attention_weights: bool = False) -> Any:
        q, k = np.asarray(query), np.asarray(key)
        if q.ndim == 3 and k.ndim == 3:
            _bounded(_size(q.shape[0], num_heads, q.shape[1], k.shape[1]), "the attention scores")
        return _mha(weights, num_heads)(query, key, value, mask=mask,
                                        return_attention_weights=bool(return_attention_weights))

    def new_cache(self, max_batch_size: int, max_seq_length: int, num_heads: int, head_dim: int) -> int:
        _bounded(2 * _size(max_batch_size, max_seq_length, num_heads, head_dim), "the KV cache")
        number = len(self._caches) + 1
        self._caches[number] = ref.KVCache(int(max_batch_size), int(max_seq_length), int(num_heads), int(head_dim))
        return number

    def _cache(self, number: int) -> ref.KVCache:
        try:
            return self._caches[int(number)]
        except (KeyError, TypeError, ValueError):
            raise ValueError("that is not a KVCache made by this attention") from None

    def cache_update(self, cache: int, batch_idx: int, new_keys: Any, new_values: Any) -> tuple[np.ndarray, np.ndarray]:
        keys, values = self._cache(cache).update(int(batch_idx), new_keys, new_values)
        return keys, values

    def cache_reset(self, cache: int, batch_idx: int | None = None) -> None:
        self._cache(cache).reset(None if batch_idx is None else int(batch_idx))

    def cache_memory(self, cache: int) -> dict[str, float | int]:
        return self._cache(cache).get_memory_usage()

    def cache_state(self, cache: int, name: str) -> np.ndarray:
        """``cached_keys``, ``cached_values`` or ``cache_lengths``, as a copy."""
        if name not in ("cached_keys", "cached_values", "cache_lengths"):
            raise AttributeError(f"KVCache has no attribute {name!r}")
        return np.array(getattr(self._cache(cache), name))

    def cached_attention(self, weights: list[Any], num_heads: int, x_new: Any, cache: int,
                         batch_idx: int = 0) -> np.ndarray:
        kv_cache = self._cache(cache)
        return ref.cached_self_attention(_mha(weights, num_heads), x_new, kv_cache, int(batch_idx))
