import numpy as np


def create_causal_mask(seq_len):
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))


def softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


class ScaledDotProductAttention:
    def __init__(self, dropout=0.0, temperature=1.0):
        self.dropout = dropout
        self.temperature = temperature

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        d_k = query.shape[-1]
        scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(d_k)
        scores = scores / self.temperature
        if mask is not None:
            scores = np.where(np.asarray(mask) != 0, scores, -1e9)
        weights = softmax(scores, axis=-1)
        output = weights @ value
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
        std = 1 / np.sqrt(embed_dim)
        self.w_q = np.random.randn(embed_dim, embed_dim) * std
        self.w_k = np.random.randn(embed_dim, embed_dim) * std
        self.w_v = np.random.randn(embed_dim, embed_dim) * std
        self.w_o = np.random.randn(embed_dim, embed_dim) * std
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]
        self.attention = ScaledDotProductAttention(dropout)

    def split(self, x):
        b, s, _ = x.shape
        return x.reshape(b, s, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def merge(self, x):
        b, h, s, d = x.shape
        return x.transpose(0, 2, 1, 3).reshape(b, s, h * d)

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        q = self.split(query @ self.w_q)
        k = self.split(key @ self.w_k)
        v = self.split(value @ self.w_v)
        if mask is not None and np.ndim(mask) == 3:
            mask = np.asarray(mask)[:, None]
        out, weights = self.attention(q, k, v, mask, return_attention_weights=True)
        out = self.merge(out) @ self.w_o
        if return_attention_weights:
            return out, weights
        return out

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
        start = int(self.cache_lengths[batch_idx])
        end = start + new_keys.shape[1]
        if end > self.max_seq_length:
            raise ValueError("cache is full")
        self.cached_keys[batch_idx, :, start:end] = new_keys
        self.cached_values[batch_idx, :, start:end] = new_values
        self.cache_lengths[batch_idx] = end
        return self.cached_keys[batch_idx, :, :end], self.cached_values[batch_idx, :, :end]

    def reset(self, batch_idx=None):
        if batch_idx is None:
            self.cache_lengths[:] = 0
        else:
            self.cache_lengths[batch_idx] = 0

    def get_memory_usage(self):
        total = self.cached_keys.nbytes + self.cached_values.nbytes
        return {"total_cache_memory_mb": total / (1024 * 1024)}


def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    x = np.asarray(x_new)[None]  # (1, new_len, embed_dim): reuse the batched helpers
    q = mha.split(x @ mha.w_q)[0]
    k = mha.split(x @ mha.w_k)[0]
    v = mha.split(x @ mha.w_v)[0]
    keys, values = kv_cache.update(batch_idx, k, v)
    n, total = q.shape[1], keys.shape[1]
    mask = np.arange(total)[None, :] <= (total - n + np.arange(n))[:, None]
    out = mha.attention(q, keys, values, mask)
    return (mha.merge(out[None]) @ mha.w_o)[0]
