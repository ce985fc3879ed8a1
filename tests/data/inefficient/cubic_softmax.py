"""Correct but inefficient submission: ScaledDotProductAttention computes its softmax from
every pair of scores in a row, building a (batch, seq_q, seq_k, seq_k) array, so attention's
memory grows cubically in the sequence length. The decode step does its own ordinary
softmax and is efficient.

Everything else is the course reference's code. Used by tests/test_efficiency_engine.py and
bench/efficiency_stability.py: it must get full marks on every task but `efficiency`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "create_causal_mask",
    "ScaledDotProductAttention",
    "MultiHeadAttention",
    "KVCache",
    "cached_self_attention",
]

MASK_FILL = -1e9
"""Score given to blocked positions (the seed's choice; -inf would make blocked rows NaN)."""


# ----------------------------------------------------------------------------- helpers


def _as_array(x: Any) -> np.ndarray:
    """Read an ndarray or a Tensor-like (anything with an ndarray ``.data``) as float64.

    ``np.asarray`` returns the caller's own array when it is already float64, so callers
    must treat the result as read-only.
    """
    if not isinstance(x, np.ndarray):  # an ndarray's own .data is a raw buffer, not this
        x = getattr(x, "data", x)
    return np.asarray(x, dtype=np.float64)


def _as_allowed(mask: Any) -> np.ndarray:
    """Read a bool/int/float 0-1 mask (or Tensor-like) as a bool array: True = may attend."""
    if not isinstance(mask, np.ndarray):
        mask = getattr(mask, "data", mask)
    return np.asarray(mask) != 0


def _check_dropout(dropout: float) -> None:
    """Refuse dropout rather than silently ignore it: a grader comparing against a reference
    built with dropout > 0 would otherwise be comparing against something it did not ask for."""
    if dropout != 0.0:
        raise NotImplementedError(
            "the reference computes deterministic (eval-mode) attention; use dropout=0.0"
        )


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the row maximum so exp never overflows."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- 1. mask


def create_causal_mask(seq_len: int) -> np.ndarray:
    """Bool ``(seq_len, seq_len)`` mask: ``[i, j]`` is True where query i may see key j (j <= i).

    The lower triangle including the diagonal, so a token sees itself and its past only.
    """
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))


# ----------------------------------------------------------------------------- 2. SDPA


class ScaledDotProductAttention:
    """Correct but INEFFICIENT: the softmax is computed from every pair of scores in a row,
    ``w_ij = 1 / sum_k exp(s_ik - s_ij)``, which never overflows but builds a
    ``(batch, seq_q, seq_k, seq_k)`` array: memory cubic in the sequence length."""

    def __init__(self, dropout: float = 0.0, temperature: float = 1.0) -> None:
        _check_dropout(dropout)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.dropout = dropout
        self.temperature = temperature

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        mask: Any = None,
        return_attention_weights: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        q, k, v = _as_array(query), _as_array(key), _as_array(value)
        if q.shape[-1] != k.shape[-1]:
            raise ValueError(f"query and key feature sizes differ: {q.shape} vs {k.shape}")
        if k.shape[-2] != v.shape[-2]:
            raise ValueError(f"key and value lengths differ: {k.shape} vs {v.shape}")
        d_k = q.shape[-1]
        scores = (q @ np.swapaxes(k, -1, -2)) / np.sqrt(d_k) / self.temperature
        if mask is not None:
            scores = np.where(_as_allowed(mask), scores, MASK_FILL)
        pairwise = scores[..., np.newaxis, :] - scores[..., :, np.newaxis]  # s_ik - s_ij
        weights = 1.0 / np.exp(np.minimum(pairwise, 700.0)).sum(axis=-1)
        output = weights @ v
        if return_attention_weights:
            return output, weights
        return output

    __call__ = forward


# ----------------------------------------------------------------------------- 3. MHA


class MultiHeadAttention:
    """``num_heads`` scaled dot-product attentions side by side, each on its own slice.

    Projections are right-multiplications with no bias (``Q = query @ w_q``). Head ``h`` owns
    columns ``h*head_dim:(h+1)*head_dim`` of Q, K and V, which is exactly what reshaping the
    last axis to ``(num_heads, head_dim)`` produces. The heads' outputs are concatenated back
    in order and mixed by ``w_o``.

    ``w_q, w_k, w_v, w_o`` are plain ``(embed_dim, embed_dim)`` ndarrays, and ``parameters``
    lists those same objects: graders overwrite them in place and ``forward`` reads them
    afresh on every call.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        if num_heads <= 0 or embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        _check_dropout(dropout)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout

        # Seeded so that two constructions are identical (reproducible grading); scaled by
        # 1/sqrt(embed_dim) so projections keep roughly unit variance.
        rng = np.random.default_rng(0)
        scale = 1.0 / np.sqrt(embed_dim)
        shape = (embed_dim, embed_dim)
        self.w_q = rng.standard_normal(shape) * scale
        self.w_k = rng.standard_normal(shape) * scale
        self.w_v = rng.standard_normal(shape) * scale
        self.w_o = rng.standard_normal(shape) * scale
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]

        self.attention = ScaledDotProductAttention(dropout=dropout)

    def split_heads(self, x: np.ndarray) -> np.ndarray:
        """``(..., seq, embed_dim) -> (..., num_heads, seq, head_dim)``."""
        *lead, seq, _ = x.shape
        x = x.reshape(*lead, seq, self.num_heads, self.head_dim)
        return np.swapaxes(x, -3, -2)

    def merge_heads(self, x: np.ndarray) -> np.ndarray:
        """``(..., num_heads, seq, head_dim) -> (..., seq, embed_dim)``, heads in order."""
        x = np.swapaxes(x, -3, -2)
        *lead, seq, _, _ = x.shape
        return x.reshape(*lead, seq, self.embed_dim)

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        mask: Any = None,
        return_attention_weights: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """``query (batch, seq_q, embed_dim)``, ``key``/``value (batch, seq_k, embed_dim)``.

        ``mask`` is ``(seq_q, seq_k)`` (shared by every batch element and head) or
        ``(batch, seq_q, seq_k)`` (shared by every head). Returns ``(batch, seq_q, embed_dim)``
        and, when asked, the per-head weights ``(batch, num_heads, seq_q, seq_k)``.
        """
        q = self.split_heads(_as_array(query) @ self.w_q)
        k = self.split_heads(_as_array(key) @ self.w_k)
        v = self.split_heads(_as_array(value) @ self.w_v)

        if mask is not None:
            mask = _as_allowed(mask)
            if mask.ndim == 3:  # (batch, seq_q, seq_k): add a heads axis so it is not
                mask = mask[:, np.newaxis]  # mistaken for (heads, seq_q, seq_k)

        heads, weights = self.attention(q, k, v, mask=mask, return_attention_weights=True)
        output = self.merge_heads(heads) @ self.w_o
        if return_attention_weights:
            return output, weights
        return output

    __call__ = forward


# ----------------------------------------------------------------------------- 4. KV cache


class KVCache:
    """Preallocated keys and values of every sequence being decoded, one slot per sequence.

    ``cached_keys``/``cached_values`` are ``(max_batch_size, num_heads, max_seq_length,
    head_dim)``, allocated once, so appending a token writes ``num_heads * head_dim`` numbers
    instead of copying the whole history. ``cache_lengths[b]`` is how many positions slot
    ``b`` holds; everything past it is unused.
    """

    def __init__(
        self, max_batch_size: int, max_seq_length: int, num_heads: int, head_dim: int
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_seq_length = max_seq_length
        self.num_heads = num_heads
        self.head_dim = head_dim
        shape = (max_batch_size, num_heads, max_seq_length, head_dim)
        self.cached_keys = np.zeros(shape, dtype=np.float64)
        self.cached_values = np.zeros(shape, dtype=np.float64)
        self.cache_lengths = np.zeros(max_batch_size, dtype=np.int64)

    def _check_slot(self, batch_idx: int) -> int:
        """Reject slots outside ``[0, max_batch_size)``; NumPy would wrap negative ones."""
        if not 0 <= batch_idx < self.max_batch_size:
            raise IndexError(f"batch_idx {batch_idx} outside [0, {self.max_batch_size})")
        return int(batch_idx)

    def update(
        self, batch_idx: int, new_keys: Any, new_values: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Append ``(num_heads, new_len, head_dim)`` keys and values to slot ``batch_idx``.

        Returns that slot's ``(keys, values)``, each ``(num_heads, total_len, head_dim)``:
        read-only views of the filled part (no padding, no copy). Everything is validated
        before anything is written, so a failing update leaves the cache as it was.
        """
        b = self._check_slot(batch_idx)
        k, v = _as_array(new_keys), _as_array(new_values)
        well_formed = k.ndim == 3 and k.shape[0] == self.num_heads and k.shape[2] == self.head_dim
        if not well_formed or v.shape != k.shape:
            raise ValueError(
                f"new keys/values must both be (num_heads={self.num_heads}, new_len, "
                f"head_dim={self.head_dim}); got {k.shape} and {v.shape}"
            )
        start = int(self.cache_lengths[b])
        end = start + k.shape[1]
        if end > self.max_seq_length:
            raise ValueError(
                f"slot {b} holds {start} positions; adding {k.shape[1]} would pass "
                f"max_seq_length={self.max_seq_length}"
            )

        self.cached_keys[b, :, start:end] = k
        self.cached_values[b, :, start:end] = v
        self.cache_lengths[b] = end

        keys = self.cached_keys[b, :, :end]
        values = self.cached_values[b, :, :end]
        keys.flags.writeable = False  # the views are for reading; writes go through update
        values.flags.writeable = False
        return keys, values

    def reset(self, batch_idx: int | None = None) -> None:
        """Empty one slot, or every slot when ``batch_idx`` is None."""
        slots = slice(None) if batch_idx is None else self._check_slot(batch_idx)
        self.cache_lengths[slots] = 0
        self.cached_keys[slots] = 0.0  # not needed for correctness (lengths decide what is
        self.cached_values[slots] = 0.0  # read) but keeps stale data out of debugging views

    def get_memory_usage(self) -> dict[str, float | int]:
        """Memory held by the preallocated buffers, and how much of it is in use."""
        total_bytes = self.cached_keys.nbytes + self.cached_values.nbytes
        capacity = self.max_batch_size * self.max_seq_length
        return {
            "total_cache_memory_mb": total_bytes / 2**20,
            "keys_memory_mb": self.cached_keys.nbytes / 2**20,
            "values_memory_mb": self.cached_values.nbytes / 2**20,
            "cached_positions": int(self.cache_lengths.sum()),
            "utilization": float(self.cache_lengths.sum() / capacity) if capacity else 0.0,
        }


# ----------------------------------------------------------------------------- 5. decoding


def cached_self_attention(
    mha: MultiHeadAttention, x_new: Any, kv_cache: KVCache, batch_idx: int = 0
) -> np.ndarray:
    """One autoregressive step for sequence slot ``batch_idx``: ``x_new (new_len, embed_dim)``.

    Only the new tokens are projected; their keys and values are appended to the cache and
    each new token attends to every cached position up to and including its own. New token
    ``i`` sits at absolute position ``past + i``, so it may see keys ``j <= past + i``. The
    mask is ``(new_len, total_len)``, so a one-token step costs time and memory linear in the
    cached length. Returns ``(new_len, embed_dim)``, equal row for row to full causal
    ``mha.forward`` over the whole sequence.
    """
    x = _as_array(x_new)
    if x.ndim != 2 or x.shape[1] != mha.embed_dim:
        raise ValueError(f"x_new must be (new_len, {mha.embed_dim}); got {x.shape}")
    new_len = x.shape[0]

    q = mha.split_heads(x @ _as_array(mha.w_q))  # (num_heads, new_len, head_dim)
    k = mha.split_heads(x @ _as_array(mha.w_k))
    v = mha.split_heads(x @ _as_array(mha.w_v))

    past = int(kv_cache.cache_lengths[batch_idx])
    keys, values = kv_cache.update(batch_idx, k, v)  # (num_heads, past + new_len, head_dim)

    query_positions = past + np.arange(new_len)
    key_positions = np.arange(keys.shape[1])
    allowed = key_positions[np.newaxis, :] <= query_positions[:, np.newaxis]

    # The decode step does its own (ordinary) softmax: one query row per new token.
    scores = (q @ np.swapaxes(keys, -1, -2)) / np.sqrt(mha.head_dim)
    weights = _softmax(np.where(allowed, scores, MASK_FILL))
    return mha.merge_heads(weights @ values) @ _as_array(mha.w_o)
