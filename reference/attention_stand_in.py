"""A correct `attention`, for grading a transformer whose own attention failed a test.

Loaded into the sandbox under the name `attention` in place of the student's. It holds no
attention code: every call goes to ``service``, a link the grader puts in this module's
namespace to ``reference/attention_service.py`` on the trusted side, with values crossing as
arrays. A MultiHeadAttention's four weights are real arrays here (graders write them in
place, like any student's); a KVCache's contents live on the trusted side under a number.
Public names and signatures are the attention contract's.
"""

import numpy as np

service = globals().get("service")  # set by the grader before this module runs

_WEIGHTS = ("w_q", "w_k", "w_v", "w_o")


def create_causal_mask(seq_len):
    return service.create_causal_mask(seq_len)


class ScaledDotProductAttention:
    def __init__(self, dropout=0.0, temperature=1.0):
        self.dropout = dropout
        self.temperature = temperature

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        result = service.scaled_dot_product(query, key, value, mask, return_attention_weights,
                                            self.temperature)
        return tuple(result) if return_attention_weights else result

    __call__ = forward


class MultiHeadAttention:
    def __init__(self, embed_dim, num_heads, dropout=0.0):
        start = service.new_attention(embed_dim, num_heads, dropout)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.w_q, self.w_k, self.w_v, self.w_o = (np.array(start[name]) for name in _WEIGHTS)
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]

    def weights(self):
        return [getattr(self, name) for name in _WEIGHTS]

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        result = service.attend(self.weights(), self.num_heads, query, key, value, mask,
                                return_attention_weights)
        return tuple(result) if return_attention_weights else result

    __call__ = forward


class KVCache:
    def __init__(self, max_batch_size, max_seq_length, num_heads, head_dim):
        self.max_batch_size = max_batch_size
        self.max_seq_length = max_seq_length
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.number = service.new_cache(max_batch_size, max_seq_length, num_heads, head_dim)

    @property
    def cached_keys(self):
        return service.cache_state(self.number, "cached_keys")

    @property
    def cached_values(self):
        return service.cache_state(self.number, "cached_values")

    @property
    def cache_lengths(self):
        return service.cache_state(self.number, "cache_lengths")

    def update(self, batch_idx, new_keys, new_values):
        return tuple(service.cache_update(self.number, batch_idx, new_keys, new_values))

    def reset(self, batch_idx=None):
        service.cache_reset(self.number, batch_idx)

    def get_memory_usage(self):
        return service.cache_memory(self.number)


def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    if not isinstance(mha, MultiHeadAttention) or not isinstance(kv_cache, KVCache):
        raise TypeError("cached_self_attention needs this module's MultiHeadAttention and KVCache")
    return service.cached_attention(mha.weights(), mha.num_heads, x_new, kv_cache.number, batch_idx)
