# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Transformers, from scratch in NumPy, on your own attention
#
# *TinyTorch Module 14.* A transformer is attention plus three small things that make deep
# stacks of it trainable: **layer normalisation**, a **position-wise feed-forward
# network**, and **residual connections**. In this notebook you build, on top of the
# attention you wrote in the previous assignment:
#
# 1. **LayerNorm**: each position's features rescaled to mean 0 and variance 1.
# 2. **GELU and the feed-forward network**: the same small MLP at every position.
# 3. **The transformer block**, pre-norm: `x + MHA(LN(x))`, then `x + FFN(LN(x))`.
# 4. **A decoder-only language model**: embeddings, blocks, a final LayerNorm, logits.
# 5. **Generation** with one KV cache per block.
#
# **Your attention.** The cell below imports `MultiHeadAttention`, `KVCache`,
# `create_causal_mask` and `cached_self_attention` from a module named `attention`: your
# solution to the attention assignment, saved as `attention.py` beside this notebook. The
# grader uses your attention too; a bug there costs points only in the attention
# assignment (here the grader also checks your transformer on a correct attention).
#
# **Conventions** as before: float64, batch-first `(batch, seq, features)`, weights multiply
# from the right (`x @ W`), and no function modifies the arrays it is given. Cells saying
# `# YOUR CODE HERE` are yours; keep every name and signature. Run from top to bottom.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
import time

import numpy as np

from attention import KVCache, MultiHeadAttention, cached_self_attention, create_causal_mask

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1: LayerNorm
#
# For each position (each vector along the **last** axis) separately:
#
# $$\mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,
# \qquad \mu = \tfrac{1}{d}\sum_i x_i,\quad \sigma^2 = \tfrac{1}{d}\sum_i (x_i - \mu)^2$$
#
# * The variance divides by $d$ (the *biased* estimate, `np.var`'s default), as PyTorch's
#   `nn.LayerNorm` does. We are normalising this vector, not estimating a population.
# * $\epsilon = 10^{-5}$ sits **inside** the square root, so a constant vector gives
#   $\beta$ instead of a division by zero.
# * $\gamma$ (ones) and $\beta$ (zeros) are learnable, shape `(dim,)`: the network can undo
#   the normalisation where that helps.
#
# Unlike batch normalisation nothing is shared across positions or batch elements, so a
# sequence's output never depends on what else is in the batch.

# %% nbgrader={"grade": false, "grade_id": "layer_norm_impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
class LayerNorm:
    """Normalise each feature vector (last axis), then scale by gamma and shift by beta."""

    def __init__(self, dim: int, eps: float = 1e-5):
        self.dim = dim
        self.eps = eps
        ### BEGIN SOLUTION
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)
        ### END SOLUTION
        self.parameters = [self.gamma, self.beta]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (..., dim) -> (..., dim)."""
        ### BEGIN SOLUTION
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.gamma + self.beta
        ### END SOLUTION

    def __call__(self, x):
        return self.forward(x)


# %% nbgrader={"grade": true, "grade_id": "test_layer_norm", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
ln = LayerNorm(4)
x = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 10.0, 10.0]])
out = ln(x)
assert out.shape == (2, 4)
assert np.allclose(out[0].mean(), 0.0) and np.allclose(out[0].var(), 1.0, atol=1e-4)
assert np.allclose(out[0], (x[0] - 2.5) / np.sqrt(1.25 + 1e-5)), "biased variance, eps inside"
assert np.all(np.isfinite(out[1])) and np.allclose(out[1], 0.0), "constant vector -> beta"
x3 = np.random.default_rng(0).standard_normal((2, 3, 4)) * 5 + 3
assert np.allclose(ln(x3)[1, 2], ln(x3[1, 2])), "each position is normalised on its own"
### BEGIN HIDDEN TESTS
ln.gamma[...] = [1.0, 2.0, 3.0, 4.0]
ln.beta[...] = [0.5, 0.0, -0.5, 1.0]
z = (x3 - x3.mean(-1, keepdims=True)) / np.sqrt(x3.var(-1, keepdims=True) + 1e-5)
assert np.allclose(ln(x3), z * ln.gamma + ln.beta), "gamma and beta read in place"
before = x3.copy()
ln(x3)
assert np.array_equal(x3, before), "the input must not be modified"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2: GELU and the feed-forward network
#
# Attention mixes information *between* positions; the feed-forward network then
# transforms each position *on its own*, with the same weights everywhere:
#
# $$\mathrm{FFN}(x) = \mathrm{GELU}(x W_1 + b_1)\, W_2 + b_2,\qquad
# W_1: d \times h,\; W_2: h \times d,\; h = 4d \text{ by default.}$$
#
# **GELU** weights its input by the probability that a standard normal is below it:
# $\mathrm{GELU}(x) = x\,\Phi(x) = \tfrac{1}{2}x\,(1 + \mathrm{erf}(x/\sqrt{2}))$. Use this
# **exact** form (PyTorch's default). The tanh formula you may have seen elsewhere is an
# approximation that differs by up to $5\cdot 10^{-4}$, more than the grader allows.
# NumPy has no `erf`; `math.erf` works on one number, so apply it elementwise
# (`np.vectorize(math.erf)`).

# %% nbgrader={"grade": false, "grade_id": "feed_forward_impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2)))."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    ### END SOLUTION


class FeedForward:
    """gelu(x @ w1 + b1) @ w2 + b2, applied at every position."""

    def __init__(self, embed_dim: int, hidden_dim: int):
        self.embed_dim = embed_dim
        self.hidden_dim = hidden_dim
        rng = np.random.default_rng(0)
        self.w1 = rng.standard_normal((embed_dim, hidden_dim)) / np.sqrt(embed_dim)
        self.b1 = np.zeros(hidden_dim)
        self.w2 = rng.standard_normal((hidden_dim, embed_dim)) / np.sqrt(hidden_dim)
        self.b2 = np.zeros(embed_dim)
        self.parameters = [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (..., embed_dim) -> (..., embed_dim)."""
        ### BEGIN SOLUTION
        return gelu(x @ self.w1 + self.b1) @ self.w2 + self.b2
        ### END SOLUTION

    def __call__(self, x):
        return self.forward(x)


# %% nbgrader={"grade": true, "grade_id": "test_feed_forward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(gelu(np.array([0.0, 1.0, -1.0])), [0.0, 0.8413447460685429, -0.15865525393145707])
assert abs(gelu(np.array([1.5]))[0] - 1.3997891981) < 1e-8, "use the exact (erf) GELU"
ffn = FeedForward(4, 8)
x = np.random.default_rng(1).standard_normal((2, 3, 4))
out = ffn(x)
assert out.shape == (2, 3, 4)
assert np.allclose(out[1, 2], ffn(x[1, 2][None])[0]), "positions are transformed independently"
### BEGIN HIDDEN TESTS
ffn.b1[...] = 0.3
ffn.b2[...] = -0.2
h = x @ ffn.w1 + 0.3
expected = 0.5 * h * (1 + np.vectorize(math.erf)(h / np.sqrt(2))) @ ffn.w2 - 0.2
assert np.allclose(ffn(x), expected), "biases are added and weights read in place"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3: The transformer block (pre-norm)
#
# ```
# x ──┬──────────────────────────► + ──┬──────────────────────► + ──► out
#     └─► LN1 ─► MultiHeadAttention ┘   └─► LN2 ─► FeedForward ┘
# ```
#
# $$x \leftarrow x + \mathrm{MHA}(\mathrm{LN}_1(x)),\qquad
# x \leftarrow x + \mathrm{FFN}(\mathrm{LN}_2(x))$$
#
# This is **pre-norm** (GPT-2 and later): the LayerNorm is applied to each sublayer's
# *input*, and the residual adds the block's *un-normalised* input exactly once. The
# original transformer was post-norm, $\mathrm{LN}(x + \mathrm{sublayer}(x))$; pre-norm
# keeps an identity path from the first block to the last, which is why deep stacks of
# it train without warm-up tricks. `mask` is passed to attention unchanged (True/1 = may
# attend).
#
# `forward_cached` is the same block for one decoding step: `x_new (new_len, embed_dim)`
# and this block's `KVCache`, with your `cached_self_attention` in place of masked
# attention.

# %% nbgrader={"grade": false, "grade_id": "block_impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
class TransformerBlock:
    """Pre-norm block: x + MHA(LN1(x)), then x + FFN(LN2(x))."""

    def __init__(self, embed_dim: int, num_heads: int, hidden_dim: int = None):
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

    def forward(self, x: np.ndarray, mask=None) -> np.ndarray:
        """x (batch, seq, embed_dim) -> (batch, seq, embed_dim)."""
        ### BEGIN SOLUTION
        h = self.ln1(x)
        x = x + self.attention(h, h, h, mask=mask)
        return x + self.ffn(self.ln2(x))
        ### END SOLUTION

    def __call__(self, x, mask=None):
        return self.forward(x, mask)

    def forward_cached(self, x_new: np.ndarray, kv_cache, batch_idx: int = 0) -> np.ndarray:
        """One decoding step: x_new (new_len, embed_dim) -> (new_len, embed_dim)."""
        ### BEGIN SOLUTION
        x = x_new + cached_self_attention(self.attention, self.ln1(x_new), kv_cache, batch_idx)
        return x + self.ffn(self.ln2(x))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_block", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
block = TransformerBlock(8, 2, 16)
x = np.random.default_rng(2).standard_normal((2, 5, 8))
out = block(x)
assert out.shape == (2, 5, 8)
h = block.ln1(x)
mid = x + block.attention(h, h, h)
assert np.allclose(out, mid + block.ffn(block.ln2(mid))), "pre-norm, each residual once"
causal = block(x, mask=create_causal_mask(5))
assert np.allclose(causal[:, :3], block(x[:, :3], mask=create_causal_mask(3))), \
    "with a causal mask, the first positions ignore later ones"
### BEGIN HIDDEN TESTS
block.ln2.gamma[...] = 2.0
block.ln2.beta[...] = 0.5
mid = x + block.attention(h, h, h)
assert np.allclose(block(x), mid + block.ffn(2.0 * LayerNorm(8)(mid) + 0.5)),         "the feed-forward reads its own LayerNorm, ln2"
causal = block(x, mask=create_causal_mask(5))
cache = KVCache(1, 5, 2, 4)
steps = [block.forward_cached(x[0, :2], cache)]
steps += [block.forward_cached(x[0, t:t + 1], cache) for t in range(2, 5)]
assert np.allclose(np.concatenate(steps), causal[0]), "cached steps equal the causal forward"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 4: A decoder-only language model
#
# Token ids become vectors by looking up rows of `token_embedding (vocab, d)`; attention
# itself ignores order, so each position $p$ also adds the learned row
# `position_embedding[p]`. Then `num_layers` blocks, each with a causal mask (a language
# model must not read the token it is predicting), a final LayerNorm `ln_f`, and
# `w_out (d, vocab)` turns each position's vector into one score (logit) per token.
#
# $$\mathrm{logits} = \mathrm{LN}_f\big(\mathrm{blocks}(E_{tok}[\mathrm{ids}] +
# E_{pos}[0{:}T])\big)\, W_{out}$$
#
# A sequence longer than `max_seq_len` has no position embedding: raise `ValueError`.

# %% nbgrader={"grade": false, "grade_id": "model_impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
class GPT:
    """Embeddings, num_layers pre-norm blocks, a final LayerNorm, and an output projection."""

    def __init__(self, vocab_size: int, embed_dim: int, num_layers: int, num_heads: int,
                 max_seq_len: int, hidden_dim: int = None):
        rng = np.random.default_rng(0)
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.max_seq_len = max_seq_len
        self.token_embedding = rng.standard_normal((vocab_size, embed_dim))
        self.position_embedding = rng.standard_normal((max_seq_len, embed_dim))
        self.blocks = [TransformerBlock(embed_dim, num_heads, hidden_dim)
                       for _ in range(num_layers)]
        self.ln_f = LayerNorm(embed_dim)
        self.w_out = rng.standard_normal((embed_dim, vocab_size)) / np.sqrt(embed_dim)
        self.parameters = [self.token_embedding, self.position_embedding]
        for block in self.blocks:
            self.parameters += block.parameters
        self.parameters += self.ln_f.parameters + [self.w_out]

    def embed(self, tokens: np.ndarray, start: int) -> np.ndarray:
        """Token plus position embeddings for ids at positions start, start + 1, ..."""
        ### BEGIN SOLUTION
        end = start + tokens.shape[-1]
        if end > self.max_seq_len:
            raise ValueError(f"{end} positions pass max_seq_len={self.max_seq_len}")
        return self.token_embedding[tokens] + self.position_embedding[start:end]
        ### END SOLUTION

    def forward(self, tokens: np.ndarray) -> np.ndarray:
        """tokens (batch, seq) -> logits (batch, seq, vocab_size), causal."""
        ### BEGIN SOLUTION
        tokens = np.asarray(tokens)
        x = self.embed(tokens, 0)
        mask = create_causal_mask(tokens.shape[-1])
        for block in self.blocks:
            x = block(x, mask=mask)
        return self.ln_f(x) @ self.w_out
        ### END SOLUTION

    def __call__(self, tokens):
        return self.forward(tokens)


# %% nbgrader={"grade": true, "grade_id": "test_model", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
model = GPT(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=12)
ids = np.array([[1, 5, 2, 7, 3], [4, 4, 0, 10, 9]])
logits = model(ids)
assert logits.shape == (2, 5, 11)
assert np.allclose(model(ids[:, :3]), logits[:, :3]), "causal: a prefix's logits do not change"
try:
    model(np.zeros((1, 13), dtype=int))
    raise AssertionError("13 tokens with max_seq_len=12 must raise ValueError")
except ValueError:
    pass
### BEGIN HIDDEN TESTS
x = model.token_embedding[ids] + model.position_embedding[:5]
for block in model.blocks:
    x = block(x, mask=create_causal_mask(5))
assert np.allclose(logits, model.ln_f(x) @ model.w_out)
same = model(np.full((1, 4), 2))
assert not np.allclose(same[0, 0], same[0, 3]), "position embeddings must be added"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 5: Generation with one KV cache per block
#
# Greedy decoding appends `np.argmax` of the last position's logits, again and again.
# Recomputing `forward` over the whole sequence at every step repeats all the earlier
# work. With caches:
#
# * each block gets **its own** `KVCache(1, max_seq_len, num_heads, head_dim)`: every
#   block has its own keys and values;
# * the prompt is fed once (one `forward_cached` per block, prefill), then each new token
#   alone;
# * the token at absolute position $p$ gets `position_embedding[p]`: the first generated
#   token fed back sits at `len(prompt)`, not at 0.
#
# Return the prompt followed by the new ids; with `return_logits=True` also the
# `(max_new_tokens, vocab_size)` logits each choice came from. `use_cache=False` must
# choose the same tokens by recomputing `forward`. Complete the method, then run the cell
# after it: it attaches `generate` to `GPT`.

# %% nbgrader={"grade": false, "grade_id": "generate_impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def generate(self, prompt: np.ndarray, max_new_tokens: int, use_cache: bool = True,
             return_logits: bool = False):
    """Greedy decoding: prompt (prompt_len,) -> (prompt_len + max_new_tokens,) ids."""
    tokens = [int(t) for t in np.asarray(prompt)]
    if len(tokens) + max_new_tokens > self.max_seq_len:
        raise ValueError("the prompt and the new tokens pass max_seq_len")
    all_logits = []
    ### BEGIN SOLUTION
    head_dim = self.embed_dim // self.num_heads
    caches = [KVCache(1, self.max_seq_len, self.num_heads, head_dim) for _ in self.blocks]
    new = np.array(tokens)
    for _ in range(max_new_tokens):
        if use_cache:
            x = self.embed(new, len(tokens) - len(new))
            for block, cache in zip(self.blocks, caches):
                x = block.forward_cached(x, cache)
            logits = self.ln_f(x[-1]) @ self.w_out
        else:
            logits = self.forward(np.array([tokens]))[0, -1]
        all_logits.append(logits)
        tokens.append(int(np.argmax(logits)))
        new = np.array(tokens[-1:])
    ### END SOLUTION
    tokens = np.array(tokens)
    if return_logits:
        return tokens, np.array(all_logits).reshape(max_new_tokens, self.vocab_size)
    return tokens


# %% nbgrader={"grade": false, "grade_id": "attach_generate", "locked": true, "schema_version": 3, "solution": false, "task": false}
GPT.generate = generate

# %% nbgrader={"grade": true, "grade_id": "test_generate", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
model = GPT(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=12)
prompt = np.array([3, 1, 4])
tokens, logits = model.generate(prompt, 5, return_logits=True)
assert tokens.shape == (8,) and np.array_equal(tokens[:3], prompt)
assert logits.shape == (5, 11)
assert np.array_equal(tokens[3:], logits.argmax(axis=1)), "greedy: argmax of each step"
assert np.array_equal(model.generate(prompt, 5, use_cache=False), tokens)
### BEGIN HIDDEN TESTS
for step in range(5):
    full = model(tokens[None, :3 + step])[0, -1]
    assert np.allclose(logits[step], full), f"step {step}: cached logits differ from forward"
try:
    model.generate(prompt, 10)
    raise AssertionError("3 + 10 tokens with max_seq_len=12 must raise ValueError")
except ValueError:
    pass
### END HIDDEN TESTS

# %% [markdown]
# ### How the cost grows
#
# The cell below times one generated token at growing context lengths, with and without
# the caches. Per token, the cached step should grow about linearly with the context
# (its attention reads every cached key once) and the recomputing one quadratically.

# %%
def time_per_token(context: int, use_cache: bool, new_tokens: int = 8) -> float:
    model_t = GPT(vocab_size=50, embed_dim=32, num_layers=2, num_heads=4,
                  max_seq_len=context + new_tokens)
    prompt = np.arange(context) % 50
    start = time.perf_counter()
    model_t.generate(prompt, new_tokens, use_cache=use_cache)
    return (time.perf_counter() - start) / new_tokens


print(f"{'context':>7} {'cached ms/token':>16} {'recompute ms/token':>19}")
for context in (16, 32, 64):
    cached = time_per_token(context, True)
    recompute = time_per_token(context, False)
    print(f"{context:>7} {1e3 * cached:>16.3f} {1e3 * recompute:>19.3f}")

# %% [markdown]
# ### Written answer (2 points)
#
# Why does a pre-norm block (`x + sublayer(LN(x))`) train more easily in deep stacks than
# a post-norm one (`LN(x + sublayer(x))`)? And why must each block have its own KV cache?

# %% [markdown] nbgrader={"grade": true, "grade_id": "prenorm_and_caches", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** In a pre-norm stack the residual stream is never normalised on its
# way through: the output is the input plus a sum of sublayer outputs, so the gradient
# reaches early blocks through an identity path whatever the depth. Post-norm puts a
# LayerNorm on that path after every sublayer, rescaling the gradient at each block,
# which makes deep stacks unstable without learning-rate warm-up (1). Each block projects
# its own input with its own `w_k, w_v`, so its keys and values differ from every other
# block's; one shared cache would let block 2 attend to block 1's keys (1).

# %% [markdown]
# ## Summary
#
# You built a complete decoder-only transformer on top of your own attention: LayerNorm,
# an exact-GELU feed-forward network, pre-norm residual blocks, embeddings and logits,
# and greedy generation whose cost per token grows linearly thanks to one KV cache per
# block. Restart the kernel, run every cell top to bottom, and hand in this notebook
# (and your `attention.py` where your course asks for both).
