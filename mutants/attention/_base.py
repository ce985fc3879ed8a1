# A correct submission in a plain notebook style (helpers shared between tasks, as students
# write them). Every mutant in this directory is this file with one realistic bug patched in
# by corpus.py. `proctor audit` grades it too: it must get full marks on every suite.
import numpy as np


def create_causal_mask(seq_len):
    """1 where query i may attend to key j (j <= i)."""
    mask = np.tril(np.ones((seq_len, seq_len)))
    return mask


class ScaledDotProductAttention:
    def __init__(self, dropout=0.0, temperature=1.0):
        self.dropout = dropout
        self.temperature = temperature

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        d_k = query.shape[-1]
        scores = np.matmul(query, np.swapaxes(key, -1, -2)) / np.sqrt(d_k)
        scores = scores / self.temperature
        if mask is not None:
            scores = np.where(mask != 0, scores, -1e9)
        scores = scores - np.max(scores, axis=-1, keepdims=True)
        exp_scores = np.exp(scores)
        weights = exp_scores / np.sum(exp_scores, axis=-1, keepdims=True)
        output = np.matmul(weights, value)
        if return_attention_weights:
            return output, weights
        return output

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class MultiHeadAttention:
    def __init__(self, embed_dim, num_heads, dropout=0.0):
        if embed_dim % num_heads != 0:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        scale = 1.0 / np.sqrt(embed_dim)
        self.w_q = np.random.randn(embed_dim, embed_dim) * scale
        self.w_k = np.random.randn(embed_dim, embed_dim) * scale
        self.w_v = np.random.randn(embed_dim, embed_dim) * scale
        self.w_o = np.random.randn(embed_dim, embed_dim) * scale
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]
        self.attention = ScaledDotProductAttention(dropout)

    def _split_heads(self, x):
        batch, seq, _ = x.shape
        x = x.reshape(batch, seq, self.num_heads, self.head_dim)
        return x.transpose(0, 2, 1, 3)

    def _merge_heads(self, x):
        batch, _, seq, _ = x.shape
        x = x.transpose(0, 2, 1, 3)
        return x.reshape(batch, seq, self.embed_dim)

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        Q = self._split_heads(query @ self.w_q)
        K = self._split_heads(key @ self.w_k)
        V = self._split_heads(value @ self.w_v)
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == 3:
                mask = mask[:, None, :, :]
        heads, weights = self.attention.forward(Q, K, V, mask=mask, return_attention_weights=True)
        output = self._merge_heads(heads) @ self.w_o
        if return_attention_weights:
            return output, weights
        return output

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class KVCache:
    def __init__(self, max_batch_size, max_seq_length, num_heads, head_dim):
        self.max_batch_size = max_batch_size
        self.max_seq_length = max_seq_length
        self.num_heads = num_heads
        self.head_dim = head_dim
        shape = (max_batch_size, num_heads, max_seq_length, head_dim)
        self.cached_keys = np.zeros(shape)
        self.cached_values = np.zeros(shape)
        self.cache_lengths = np.zeros(max_batch_size, dtype=int)

    def update(self, batch_idx, new_keys, new_values):
        new_len = new_keys.shape[1]
        start = self.cache_lengths[batch_idx]
        end = start + new_len
        if end > self.max_seq_length:
            raise ValueError("cache is full")
        self.cached_keys[batch_idx, :, start:end, :] = new_keys
        self.cached_values[batch_idx, :, start:end, :] = new_values
        self.cache_lengths[batch_idx] = end
        keys = self.cached_keys[batch_idx, :, :end, :]
        values = self.cached_values[batch_idx, :, :end, :]
        return keys, values

    def reset(self, batch_idx=None):
        if batch_idx is None:
            self.cache_lengths[:] = 0
            self.cached_keys[:] = 0
            self.cached_values[:] = 0
        else:
            self.cache_lengths[batch_idx] = 0
            self.cached_keys[batch_idx] = 0
            self.cached_values[batch_idx] = 0

    def get_memory_usage(self):
        total = self.cached_keys.nbytes + self.cached_values.nbytes
        return {"total_cache_memory_mb": total / (1024 * 1024)}


def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    x = x_new[None]  # (1, new_len, embed_dim): reuse the batched helpers
    q = mha._split_heads(x @ mha.w_q)[0]
    k = mha._split_heads(x @ mha.w_k)[0]
    v = mha._split_heads(x @ mha.w_v)[0]
    past = int(kv_cache.cache_lengths[batch_idx])
    keys, values = kv_cache.update(batch_idx, k, v)
    new_len = x_new.shape[0]
    total = keys.shape[1]
    mask = np.arange(total)[None, :] <= (past + np.arange(new_len))[:, None]
    out = mha.attention.forward(q, keys, values, mask=mask)
    return (mha._merge_heads(out[None]) @ mha.w_o)[0]
