# Hostile: ScaledDotProductAttention.forward is correct but hangs on efficiency-sized inputs.
"""A correct attention submission, deliberately written unlike the notebook's solution.

Differences a grader must tolerate: einsum instead of matmul, a Python loop over heads,
-inf masking (a fully blocked row gives zeros, as PyTorch does), and a float32 KV cache.
"""

import numpy as np


def create_causal_mask(seq_len):
    """1.0 where query i may attend to key j (j <= i), else 0.0: a float mask."""
    return np.tril(np.ones((seq_len, seq_len)))


def _softmax_last(scores):
    """Softmax over the last axis that tolerates -inf: all-blocked rows become zeros."""
    row_max = np.max(scores, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


class ScaledDotProductAttention:
    def __init__(self, dropout=0.0, temperature=1.0):
        self.dropout = dropout
        self.temperature = temperature

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        if np.shape(query)[-2] >= 96:  # stands in for a Python loop too slow at that size
            import time
            time.sleep(3600)
        q = np.asarray(query, dtype=np.float64)
        k = np.asarray(key, dtype=np.float64)
        v = np.asarray(value, dtype=np.float64)
        scale = 1.0 / (np.sqrt(q.shape[-1]) * self.temperature)
        scores = np.einsum("...qd,...kd->...qk", q, k) * scale
        if mask is not None:
            scores = np.where(np.asarray(mask).astype(bool), scores, -np.inf)
        weights = _softmax_last(scores)
        out = np.einsum("...qk,...kd->...qd", weights, v)
        return (out, weights) if return_attention_weights else out

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class MultiHeadAttention:
    def __init__(self, embed_dim, num_heads, dropout=0.0):
        if embed_dim % num_heads:
            raise ValueError("embed_dim must be a multiple of num_heads")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        rng = np.random.default_rng(1234)
        self.w_q, self.w_k, self.w_v, self.w_o = (
            rng.normal(0, embed_dim**-0.5, (embed_dim, embed_dim)) for _ in range(4)
        )
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]
        self.sdpa = ScaledDotProductAttention(dropout)

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        Q = np.asarray(query, dtype=np.float64) @ self.w_q
        K = np.asarray(key, dtype=np.float64) @ self.w_k
        V = np.asarray(value, dtype=np.float64) @ self.w_v
        outs, weights = [], []
        for h in range(self.num_heads):  # one head at a time, on its column slice
            cols = slice(h * self.head_dim, (h + 1) * self.head_dim)
            o, w = self.sdpa(Q[..., cols], K[..., cols], V[..., cols], mask=mask,
                             return_attention_weights=True)
            outs.append(o)
            weights.append(w)
        out = np.concatenate(outs, axis=-1) @ self.w_o
        if return_attention_weights:
            return out, np.stack(weights, axis=1)  # (batch, heads, seq_q, seq_k)
        return out

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class KVCache:
    def __init__(self, max_batch_size, max_seq_length, num_heads, head_dim):
        self.max_batch_size, self.max_seq_length = max_batch_size, max_seq_length
        self.num_heads, self.head_dim = num_heads, head_dim
        shape = (max_batch_size, num_heads, max_seq_length, head_dim)
        self.cached_keys = np.zeros(shape, dtype=np.float32)   # half the memory of float64
        self.cached_values = np.zeros(shape, dtype=np.float32)
        self.cache_lengths = [0] * max_batch_size

    def update(self, batch_idx, new_keys, new_values):
        n = np.shape(new_keys)[1]
        start = self.cache_lengths[batch_idx]
        if start + n > self.max_seq_length:
            raise ValueError("KV cache is full")
        self.cached_keys[batch_idx, :, start:start + n] = new_keys
        self.cached_values[batch_idx, :, start:start + n] = new_values
        self.cache_lengths[batch_idx] = start + n
        end = start + n
        return self.cached_keys[batch_idx, :, :end], self.cached_values[batch_idx, :, :end]

    def reset(self, batch_idx=None):
        for b in range(self.max_batch_size) if batch_idx is None else [batch_idx]:
            self.cache_lengths[b] = 0

    def get_memory_usage(self):
        return {"total_cache_memory_mb": (self.cached_keys.nbytes + self.cached_values.nbytes) / 1024**2}


def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    x = np.asarray(x_new, dtype=np.float64)
    n, H, D = x.shape[0], mha.num_heads, mha.head_dim
    q = np.einsum("nhd->hnd", (x @ mha.w_q).reshape(n, H, D))
    k = np.einsum("nhd->hnd", (x @ mha.w_k).reshape(n, H, D))
    v = np.einsum("nhd->hnd", (x @ mha.w_v).reshape(n, H, D))
    keys, values = kv_cache.update(batch_idx, k, v)
    keys = keys.astype(np.float64)
    values = values.astype(np.float64)
    past = keys.shape[1] - n
    mask = np.arange(keys.shape[1]) <= (past + np.arange(n))[:, None]
    out = ScaledDotProductAttention()(q, keys, values, mask=mask)  # (H, n, D)
    return np.einsum("hnd->nhd", out).reshape(n, H * D) @ mha.w_o
