# A correct transformer submission in a plain notebook style, built on the student's own
# attention module (imported as `attention`, per the attention contract). Every mutant in
# this directory is this file with one realistic bug patched in by corpus.py; `proctor audit`
# grades this file too: it must get full marks on every suite.
import math

import numpy as np

from attention import KVCache, MultiHeadAttention, cached_self_attention, create_causal_mask


class LayerNorm:
    def __init__(self, dim, eps=1e-5):
        self.dim = dim
        self.eps = eps
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)
        self.parameters = [self.gamma, self.beta]

    def forward(self, x):
        mean = np.mean(x, axis=-1, keepdims=True)
        var = np.var(x, axis=-1, keepdims=True)
        x_hat = (x - mean) / np.sqrt(var + self.eps)
        return x_hat * self.gamma + self.beta

    def __call__(self, x):
        return self.forward(x)


_erf = np.vectorize(math.erf)


def gelu(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


class FeedForward:
    def __init__(self, embed_dim, hidden_dim):
        self.embed_dim = embed_dim
        self.hidden_dim = hidden_dim
        self.w1 = np.random.randn(embed_dim, hidden_dim) / np.sqrt(embed_dim)
        self.b1 = np.zeros(hidden_dim)
        self.w2 = np.random.randn(hidden_dim, embed_dim) / np.sqrt(hidden_dim)
        self.b2 = np.zeros(embed_dim)
        self.parameters = [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x):
        hidden = gelu(x @ self.w1 + self.b1)
        return hidden @ self.w2 + self.b2

    def __call__(self, x):
        return self.forward(x)


class TransformerBlock:
    def __init__(self, embed_dim, num_heads, hidden_dim=None):
        if hidden_dim is None:
            hidden_dim = 4 * embed_dim
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.attention = MultiHeadAttention(embed_dim, num_heads)
        self.ln1 = LayerNorm(embed_dim)
        self.ffn = FeedForward(embed_dim, hidden_dim)
        self.ln2 = LayerNorm(embed_dim)
        self.parameters = (self.attention.parameters + self.ln1.parameters
                           + self.ffn.parameters + self.ln2.parameters)

    def sublayers(self, x, attend):
        # pre-norm: each sublayer reads LN(x), and its output is added to x once
        x = x + attend(self.ln1(x))
        x = x + self.ffn(self.ln2(x))
        return x

    def forward(self, x, mask=None):
        return self.sublayers(x, lambda h: self.attention(h, h, h, mask=mask))

    def __call__(self, x, mask=None):
        return self.forward(x, mask)

    def forward_cached(self, x_new, kv_cache, batch_idx=0):
        return self.sublayers(
            x_new, lambda h: cached_self_attention(self.attention, h, kv_cache, batch_idx))


class GPT:
    def __init__(self, vocab_size, embed_dim, num_layers, num_heads, max_seq_len,
                 hidden_dim=None):
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.max_seq_len = max_seq_len
        self.token_embedding = np.random.randn(vocab_size, embed_dim) * 0.02
        self.position_embedding = np.random.randn(max_seq_len, embed_dim) * 0.02
        self.blocks = [TransformerBlock(embed_dim, num_heads, hidden_dim)
                       for _ in range(num_layers)]
        self.ln_f = LayerNorm(embed_dim)
        self.w_out = np.random.randn(embed_dim, vocab_size) / np.sqrt(embed_dim)
        self.parameters = [self.token_embedding, self.position_embedding]
        for block in self.blocks:
            self.parameters += block.parameters
        self.parameters += self.ln_f.parameters + [self.w_out]

    def embed(self, tokens, start):
        end = start + tokens.shape[-1]
        if end > self.max_seq_len:
            raise ValueError("sequence longer than max_seq_len")
        return self.token_embedding[tokens] + self.position_embedding[start:end]

    def forward(self, tokens):
        tokens = np.asarray(tokens)
        x = self.embed(tokens, 0)
        mask = create_causal_mask(tokens.shape[-1])
        for block in self.blocks:
            x = block(x, mask=mask)
        return self.ln_f(x) @ self.w_out

    def __call__(self, tokens):
        return self.forward(tokens)

    def generate(self, prompt, max_new_tokens, use_cache=True, return_logits=False):
        tokens = [int(t) for t in np.asarray(prompt)]
        if len(tokens) + max_new_tokens > self.max_seq_len:
            raise ValueError("prompt plus new tokens longer than max_seq_len")
        head_dim = self.embed_dim // self.num_heads
        caches = [KVCache(1, self.max_seq_len, self.num_heads, head_dim)
                  for _ in self.blocks]
        all_logits = []
        new = np.array(tokens)
        for step in range(max_new_tokens):
            if use_cache:
                x = self.embed(new, len(tokens) - len(new))
                for block, cache in zip(self.blocks, caches):
                    x = block.forward_cached(x, cache)
                logits = self.ln_f(x[-1]) @ self.w_out
            else:
                logits = self.forward(np.array([tokens]))[0, -1]
            all_logits.append(logits)
            next_token = int(np.argmax(logits))
            tokens.append(next_token)
            new = np.array([next_token])
        tokens = np.array(tokens)
        if return_logits:
            return tokens, np.array(all_logits).reshape(max_new_tokens, self.vocab_size)
        return tokens
