"""My transformer (TinyTorch module after attention), built on my own attention module.

Deliberately unlike the course notebook: float32 activations, einsum for the feed-forward,
LayerNorm through the standard deviation, a GELU via math.erf on a flattened array, and
Tensor-likes (anything with .data) accepted everywhere.
"""

import math

import numpy as np

from attention import KVCache, MultiHeadAttention, cached_self_attention, create_causal_mask


def _arr(x):
    if not isinstance(x, np.ndarray):
        x = getattr(x, "data", x)
    return np.asarray(x)


def gelu(x):
    x = _arr(x).astype(np.float32)
    erf = np.array([math.erf(v / math.sqrt(2.0)) for v in x.ravel()], dtype=np.float32)
    return 0.5 * x * (1.0 + erf.reshape(x.shape))


class LayerNorm:
    def __init__(self, dim, eps=1e-5):
        self.dim, self.eps = dim, eps
        self.gamma = np.ones(dim, dtype=np.float32)
        self.beta = np.zeros(dim, dtype=np.float32)
        self.parameters = [self.gamma, self.beta]

    def __call__(self, x):
        x = _arr(x).astype(np.float32)
        centred = x - x.mean(axis=-1, keepdims=True)
        std = np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        return self.gamma * (centred / std) + self.beta

    forward = __call__


class FeedForward:
    def __init__(self, embed_dim, hidden_dim):
        rng = np.random.default_rng(7)
        self.embed_dim, self.hidden_dim = embed_dim, hidden_dim
        self.w1 = (rng.normal(size=(embed_dim, hidden_dim)) * 0.1).astype(np.float32)
        self.b1 = np.zeros(hidden_dim, dtype=np.float32)
        self.w2 = (rng.normal(size=(hidden_dim, embed_dim)) * 0.1).astype(np.float32)
        self.b2 = np.zeros(embed_dim, dtype=np.float32)
        self.parameters = [self.w1, self.b1, self.w2, self.b2]

    def __call__(self, x):
        x = _arr(x).astype(np.float32)
        hidden = gelu(np.einsum("...e,eh->...h", x, self.w1) + self.b1)
        return np.einsum("...h,he->...e", hidden, self.w2) + self.b2

    forward = __call__


class TransformerBlock:
    def __init__(self, embed_dim, num_heads, hidden_dim=None):
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.hidden_dim = hidden_dim or 4 * embed_dim
        self.attention = MultiHeadAttention(embed_dim, num_heads)
        self.ln1 = LayerNorm(embed_dim)
        self.ffn = FeedForward(embed_dim, self.hidden_dim)
        self.ln2 = LayerNorm(embed_dim)
        self.parameters = [*self.attention.parameters, *self.ln1.parameters,
                           *self.ffn.parameters, *self.ln2.parameters]

    def __call__(self, x, mask=None):
        x = _arr(x).astype(np.float32)
        normed = self.ln1(x)
        x = x + _arr(self.attention(normed, normed, normed, mask=mask))
        return x + self.ffn(self.ln2(x))

    forward = __call__

    def forward_cached(self, x_new, kv_cache, batch_idx=0):
        x = _arr(x_new).astype(np.float32)
        x = x + _arr(cached_self_attention(self.attention, self.ln1(x), kv_cache, batch_idx))
        return x + self.ffn(self.ln2(x))


class GPT:
    def __init__(self, vocab_size, embed_dim, num_layers, num_heads, max_seq_len,
                 hidden_dim=None):
        rng = np.random.default_rng(3)
        self.vocab_size, self.embed_dim = vocab_size, embed_dim
        self.num_layers, self.num_heads, self.max_seq_len = num_layers, num_heads, max_seq_len
        self.token_embedding = rng.normal(size=(vocab_size, embed_dim)).astype(np.float32)
        self.position_embedding = rng.normal(size=(max_seq_len, embed_dim)).astype(np.float32)
        self.blocks = [TransformerBlock(embed_dim, num_heads, hidden_dim)
                       for _ in range(num_layers)]
        self.ln_f = LayerNorm(embed_dim)
        self.w_out = (rng.normal(size=(embed_dim, vocab_size)) * 0.1).astype(np.float32)
        self.parameters = [self.token_embedding, self.position_embedding]
        for block in self.blocks:
            self.parameters.extend(block.parameters)
        self.parameters.extend([*self.ln_f.parameters, self.w_out])

    def _inputs(self, ids, first_position):
        ids = _arr(ids).astype(int)
        positions = np.arange(first_position, first_position + ids.shape[-1])
        if positions[-1] >= self.max_seq_len:
            raise ValueError(f"position {positions[-1]} is past max_seq_len {self.max_seq_len}")
        return self.token_embedding[ids] + self.position_embedding[positions]

    def __call__(self, tokens):
        x = self._inputs(tokens, 0)
        causal = create_causal_mask(x.shape[-2])
        for block in self.blocks:
            x = block(x, mask=causal)
        return self.ln_f(x) @ self.w_out

    forward = __call__

    def generate(self, prompt, max_new_tokens, use_cache=True, return_logits=False):
        seq = list(_arr(prompt).astype(int).ravel())
        if len(seq) + max_new_tokens > self.max_seq_len:
            raise ValueError("the prompt and the new tokens do not fit in max_seq_len")
        caches = [KVCache(1, self.max_seq_len, self.num_heads,
                          self.embed_dim // self.num_heads) for _ in range(self.num_layers)]
        history = []
        pending, position = seq[:], 0
        while len(history) < max_new_tokens:
            if use_cache:
                x = self._inputs(np.array(pending), position)
                for block, cache in zip(self.blocks, caches):
                    x = block.forward_cached(x, cache)
                position += len(pending)
                last = self.ln_f(x[-1:])[0] @ self.w_out
            else:
                last = self(np.array([seq]))[0, -1]
            history.append(last)
            seq.append(int(last.argmax()))
            pending = seq[-1:]
        tokens = np.array(seq, dtype=np.int64)
        if return_logits:
            return tokens, np.array(history, dtype=np.float64).reshape(-1, self.vocab_size)
        return tokens
