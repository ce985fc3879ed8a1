"""Reference solution for the transformer assignment (TinyTorch's module after attention).

Float64 NumPy, following ``assignments/transformer/contract.md`` line by line, built on the
attention reference exactly as a student's transformer is built on their own attention
module: ``MultiHeadAttention``, ``KVCache``, ``create_causal_mask`` and
``cached_self_attention`` come from ``reference.attention``. Proven against PyTorch in
``tests/test_reference_transformer_torch.py``.

Public names (the contract's): ``gelu``, ``LayerNorm``, ``FeedForward``,
``TransformerBlock``, ``GPT``.

Conventions: every input may be an ndarray or a Tensor-like with a ``.data`` ndarray; it is
read as float64 and never written to. Parameters are plain ndarrays that graders overwrite
in place, so every forward reads them afresh.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.attention import (
    KVCache,
    MultiHeadAttention,
    _as_array,
    cached_self_attention,
    create_causal_mask,
)

__all__ = ["gelu", "LayerNorm", "FeedForward", "TransformerBlock", "GPT"]

LAYER_NORM_EPS = 1e-5
"""PyTorch's ``nn.LayerNorm`` default, added to the variance inside the square root."""

_erf = np.vectorize(math.erf, otypes=[np.float64])  # NumPy has no erf; math.erf is exact


def _init(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """Seeded normal weights scaled by 1/sqrt(fan_in), so activations keep unit-ish variance."""
    return rng.standard_normal(shape) / np.sqrt(fan_in)


# ----------------------------------------------------------------------------- 1. LayerNorm


class LayerNorm:
    """Normalise each position's feature vector (the last axis) to mean 0, variance 1,
    then scale by ``gamma`` and shift by ``beta`` (both learnable, shape ``(dim,)``).

    The variance is the biased one (divide by ``dim``, as PyTorch does), and ``eps`` is added
    to it inside the square root, so a constant vector gives ``beta`` rather than NaN.
    """

    def __init__(self, dim: int, eps: float = LAYER_NORM_EPS) -> None:
        self.dim = dim
        self.eps = eps
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)
        self.parameters = [self.gamma, self.beta]

    def forward(self, x: Any) -> np.ndarray:
        """``x (..., dim) -> (..., dim)``."""
        x = _as_array(x)
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.gamma + self.beta

    __call__ = forward


# ----------------------------------------------------------------------------- 2. FFN


def gelu(x: Any) -> np.ndarray:
    """Exact GELU, ``x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))`` (``nn.GELU()``'s default)."""
    x = _as_array(x)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class FeedForward:
    """Position-wise ``gelu(x @ w1 + b1) @ w2 + b2``: the same two-layer MLP at every position.

    ``w1 (embed_dim, hidden_dim)``, ``b1 (hidden_dim,)``, ``w2 (hidden_dim, embed_dim)``,
    ``b2 (embed_dim,)``. Positions never mix here; mixing is attention's job.
    """

    def __init__(self, embed_dim: int, hidden_dim: int, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.embed_dim = embed_dim
        self.hidden_dim = hidden_dim
        self.w1 = _init(rng, (embed_dim, hidden_dim), embed_dim)
        self.b1 = np.zeros(hidden_dim)
        self.w2 = _init(rng, (hidden_dim, embed_dim), hidden_dim)
        self.b2 = np.zeros(embed_dim)
        self.parameters = [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x: Any) -> np.ndarray:
        """``x (..., embed_dim) -> (..., embed_dim)``."""
        x = _as_array(x)
        return gelu(x @ self.w1 + self.b1) @ self.w2 + self.b2

    __call__ = forward


# ----------------------------------------------------------------------------- 3. block


class TransformerBlock:
    """Pre-norm block: ``x = x + MHA(LN1(x))``, then ``x = x + FFN(LN2(x))``.

    Normalising the input of each sublayer (not its output) leaves the residual path an
    identity from the first block to the last, which is what lets deep stacks train.
    """

    def __init__(self, embed_dim: int, num_heads: int, hidden_dim: int | None = None,
                 seed: int = 1) -> None:
        hidden_dim = 4 * embed_dim if hidden_dim is None else hidden_dim
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.attention = MultiHeadAttention(embed_dim, num_heads)
        self.ln1 = LayerNorm(embed_dim)
        self.ffn = FeedForward(embed_dim, hidden_dim, seed=seed)
        self.ln2 = LayerNorm(embed_dim)
        self.parameters = (self.attention.parameters + self.ln1.parameters
                           + self.ffn.parameters + self.ln2.parameters)

    def forward(self, x: Any, mask: Any = None) -> np.ndarray:
        """``x (batch, seq, embed_dim)``; ``mask`` as attention's (True/1 = may attend)."""
        x = _as_array(x)
        h = self.ln1(x)
        x = x + self.attention(h, h, h, mask=mask)
        return x + self.ffn(self.ln2(x))

    __call__ = forward

    def forward_cached(self, x_new: Any, kv_cache: KVCache, batch_idx: int = 0) -> np.ndarray:
        """One decoding step: ``x_new (new_len, embed_dim)``, this block's own cache.

        Equal row for row to ``forward`` with a causal mask over the whole sequence.
        """
        x = _as_array(x_new)
        x = x + cached_self_attention(self.attention, self.ln1(x), kv_cache, batch_idx)
        return x + self.ffn(self.ln2(x))


# ----------------------------------------------------------------------------- 4. model


class GPT:
    """Decoder-only language model: embeddings, ``num_layers`` blocks, final LayerNorm, logits.

    ``token_embedding (vocab_size, embed_dim)``, ``position_embedding (max_seq_len,
    embed_dim)`` (learned, absolute), ``blocks`` (a list of ``TransformerBlock``), ``ln_f``
    and ``w_out (embed_dim, vocab_size)`` (no bias, not tied to the token embedding).
    """

    def __init__(self, vocab_size: int, embed_dim: int, num_layers: int, num_heads: int,
                 max_seq_len: int, hidden_dim: int | None = None, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.max_seq_len = max_seq_len
        self.token_embedding = rng.standard_normal((vocab_size, embed_dim))
        self.position_embedding = rng.standard_normal((max_seq_len, embed_dim))
        self.blocks = [TransformerBlock(embed_dim, num_heads, hidden_dim, seed=seed + 1 + i)
                       for i in range(num_layers)]
        for block in self.blocks:  # distinct attention weights per block (attention's own
            for w in block.attention.parameters:  # constructor is seeded identically)
                w[...] = _init(rng, w.shape, embed_dim)
        self.ln_f = LayerNorm(embed_dim)
        self.w_out = _init(rng, (embed_dim, vocab_size), embed_dim)
        self.parameters = [self.token_embedding, self.position_embedding]
        for block in self.blocks:
            self.parameters += block.parameters
        self.parameters += self.ln_f.parameters + [self.w_out]

    def _tokens(self, tokens: Any) -> np.ndarray:
        ids = np.asarray(getattr(tokens, "data", tokens) if not isinstance(tokens, np.ndarray)
                         else tokens)
        if ids.size and (not np.issubdtype(ids.dtype, np.integer)
                         or ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids must be integers in [0, {self.vocab_size})")
        return ids.astype(np.int64)

    def _embed(self, ids: np.ndarray, start: int) -> np.ndarray:
        """Token plus position embeddings for ids at absolute positions ``start, start+1, ...``."""
        end = start + ids.shape[-1]
        if end > self.max_seq_len:
            raise ValueError(f"sequence of {end} tokens passes max_seq_len={self.max_seq_len}")
        return self.token_embedding[ids] + self.position_embedding[start:end]

    def forward(self, tokens: Any) -> np.ndarray:
        """``tokens (batch, seq)`` integer ids -> logits ``(batch, seq, vocab_size)``, causal."""
        ids = self._tokens(tokens)
        x = self._embed(ids, 0)
        mask = create_causal_mask(ids.shape[-1])
        for block in self.blocks:
            x = block(x, mask=mask)
        return self.ln_f(x) @ self.w_out

    __call__ = forward

    def generate(self, prompt: Any, max_new_tokens: int, use_cache: bool = True,
                 return_logits: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Greedy decoding: ``prompt (prompt_len,)`` -> ``(prompt_len + max_new_tokens,)`` ids.

        With ``use_cache`` each block keeps its own ``KVCache``; the prompt is prefilled in one
        step, then each new token is one step at its absolute position, so a step costs time
        linear in the context. Without it, every step recomputes ``forward`` on the whole
        sequence (quadratic per step). Both choose the same tokens. ``return_logits`` also
        returns the ``(max_new_tokens, vocab_size)`` logits each choice was made from.
        """
        ids = self._tokens(prompt)
        if ids.ndim != 1 or ids.size == 0:
            raise ValueError("prompt must be a non-empty 1-D array of token ids")
        if ids.size + max_new_tokens > self.max_seq_len:
            raise ValueError(f"{ids.size} + {max_new_tokens} tokens pass "
                             f"max_seq_len={self.max_seq_len}")
        out = list(ids)
        logits_seen = []
        head_dim = self.embed_dim // self.num_heads
        caches = [KVCache(1, self.max_seq_len, self.num_heads, head_dim) for _ in self.blocks]
        new = ids
        for _ in range(max_new_tokens):
            if use_cache:
                x = self._embed(new, len(out) - len(new))
                for block, cache in zip(self.blocks, caches):
                    x = block.forward_cached(x, cache)
                logits = self.ln_f(x[-1]) @ self.w_out
            else:
                logits = self.forward(np.asarray(out)[np.newaxis])[0, -1]
            logits_seen.append(logits)
            new = np.array([int(np.argmax(logits))])  # ties: the lowest id, as np.argmax
            out.append(int(new[0]))
        tokens = np.asarray(out, dtype=np.int64)
        if return_logits:
            return tokens, np.asarray(logits_seen).reshape(max_new_tokens, self.vocab_size)
        return tokens
