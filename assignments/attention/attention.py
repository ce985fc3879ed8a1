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
# # Attention, from scratch in NumPy
#
# *TinyTorch Module 13.* Attention is the operation that lets every position of a
# sequence look at every other position and decide, from the data, which ones matter.
# Transformers are stacks of it. In this notebook you build it from plain NumPy arrays:
#
# 1. **Causal masks**: who is allowed to look at whom.
# 2. **Scaled dot-product attention**: the core formula, and why it is *scaled*.
# 3. **Multi-head attention**: several attentions side by side, with learned projections.
# 4. **The KV cache**: the memory that makes text generation fast.
# 5. **Cached self-attention**: one decoding step that uses the cache.
#
# **How this notebook works.** Cells that say `# YOUR CODE HERE` are yours: replace the
# `raise NotImplementedError()` line with your code and keep every name and signature
# as given (the grader calls them by name). Each part ends with a locked test cell; run
# it after your solution. Those tests are a sample: the grader runs more of them,
# including checks of how your code's cost grows with sequence length. A few markdown
# cells ask for short written answers (`YOUR ANSWER HERE`); they are graded by hand.
#
# **Conventions.** Arrays are float64 and batch-first: `(batch, seq, features)`. Weight
# matrices multiply from the right (`x @ W`), as in TinyTorch's `Linear`. Your functions
# must never modify the arrays they are given.
#
# Run the cells from top to bottom.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import time

import numpy as np

np.set_printoptions(precision=4, suppress=True)

# What a blocked score becomes before the softmax. In float64, exp(-1e9 - max) is
# exactly 0.0, so a blocked key gets zero weight, and unlike -inf a row whose keys are
# *all* blocked stays finite (every score equal -> uniform weights).
MASK_FILL = -1e9


# %% [markdown]
# ## Part 1: Masks, or who may look at whom
#
# Attention compares a **query** position with every **key** position. Often some of
# those comparisons must not happen, and a *mask* says which. In this notebook a mask
# entry is **True (or 1) where the query may attend** to the key, and False (0) where the
# pair is blocked.
#
# **Causal mask.** A language model predicts token $i+1$ from tokens $0..i$. If position
# $i$ could read position $i+1$ during training, the model would learn to copy the
# answer. So query $i$ may attend to key $j$ only when $j \le i$: the lower triangle,
# diagonal included.
#
# ```
#          key 0  key 1  key 2  key 3
# query 0    1      0      0      0
# query 1    1      1      0      0
# query 2    1      1      1      0
# query 3    1      1      1      1
# ```
#
# **Padding mask.** Sequences in a batch have different lengths, so short ones are padded
# to the longest. Padding tokens carry no information and no query should look at them.
# That mask differs per batch element, so it has shape `(batch, seq_q, seq_k)`, while the
# causal mask is the same for every element, `(seq_q, seq_k)`. NumPy broadcasting lets
# one attention function accept both: a `(seq_q, seq_k)` mask is broadcast over the batch.
# The padding mask is written for you below; it is a good model for the causal one.

# %%
def create_padding_mask(lengths, seq_len: int) -> np.ndarray:
    """(batch, seq_len, seq_len) mask: every query may see only keys < its sequence's length.

    Given as a worked example of building masks by comparing index ranges instead of
    writing loops.
    """
    lengths = np.asarray(lengths)
    key_is_real = np.arange(seq_len)[None, :] < lengths[:, None]  # (batch, seq_k)
    # Same row for every query position: add a query axis and broadcast.
    return np.broadcast_to(key_is_real[:, None, :], (len(lengths), seq_len, seq_len)).copy()


print(create_padding_mask([2, 4], 4).astype(int))


# %% [markdown]
# ### Your turn: `create_causal_mask`
#
# Return a `(seq_len, seq_len)` array whose entry `[i, j]` is True exactly when `j <= i`.
# Bool is preferred; int or float 0/1 are accepted too. Try it without a Python loop:
# compare a column of query positions with a row of key positions and let broadcasting
# build the square (or look up `np.tril`).

# %% nbgrader={"grade": false, "grade_id": "causal_mask", "locked": false, "schema_version": 3, "solution": true, "task": false}
def create_causal_mask(seq_len: int) -> np.ndarray:
    """(seq_len, seq_len) bool mask, True where query i may attend to key j, i.e. j <= i.

    A token sees itself and its past, never its future, so a model trained with this
    mask cannot cheat by reading the token it is asked to predict.
    """
    ### BEGIN SOLUTION
    idx = np.arange(seq_len)
    # Column of query positions vs. row of key positions -> the lower triangle.
    return idx[np.newaxis, :] <= idx[:, np.newaxis]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_causal_mask", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests for create_causal_mask: run this cell after your solution.
m = np.asarray(create_causal_mask(4))
assert m.shape == (4, 4), f"expected shape (4, 4), got {m.shape}"
expected = np.array([[1, 0, 0, 0],
                     [1, 1, 0, 0],
                     [1, 1, 1, 0],
                     [1, 1, 1, 1]], dtype=bool)
assert np.array_equal(m != 0, expected), f"row i must allow keys 0..i only, got\n{m}"
assert np.asarray(create_causal_mask(1)).reshape(-1)[0], "a single token sees itself"
### BEGIN HIDDEN TESTS
for n_hidden in (2, 7, 33):
    m_hidden = np.asarray(create_causal_mask(n_hidden)) != 0
    assert m_hidden.shape == (n_hidden, n_hidden)
    assert np.array_equal(m_hidden, np.tril(np.ones((n_hidden, n_hidden), dtype=bool)))
    assert int(m_hidden.sum()) == n_hidden * (n_hidden + 1) // 2
### END HIDDEN TESTS
print("create_causal_mask: tests passed")

# %% [markdown]
# ## Part 2: Scaled dot-product attention
#
# Given queries $Q$, keys $K$ and values $V$,
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V .$$
#
# Read it in three steps:
#
# 1. **Scores.** Row $i$ of $Q K^\top$ holds the dot product of query $i$ with every key:
#    how well each key matches what query $i$ is looking for. Shape `(seq_q, seq_k)`.
# 2. **Weights.** A softmax over each row turns scores into positive weights that sum to
#    1, so every query spends one unit of attention across the keys.
# 3. **Output.** Each query's output is the weighted average of the value vectors.
#    Shape `(seq_q, d_v)`.
#
# Nothing forces `seq_q == seq_k` (in translation the queries come from the target
# sentence and keys/values from the source), or `d_v == d_k`.
#
# ### Why divide by $\sqrt{d_k}$?
#
# Suppose the components of a query and a key are independent with mean 0 and
# variance 1. Their dot product $q \cdot k = \sum_{m=1}^{d_k} q_m k_m$ is a sum of $d_k$
# terms of variance 1, so it has **variance $d_k$** and standard deviation $\sqrt{d_k}$.
# With $d_k = 64$, typical scores are around $\pm 8$ and some reach $\pm 20$. A softmax
# over numbers that far apart is almost one-hot: nearly all the weight goes to the
# largest score. That is bad twice over. The model can no longer blend information from
# several positions, and the softmax's gradient, $\mathrm{diag}(p) - p p^\top$, is nearly
# zero when $p$ is one-hot, so learning stalls. Dividing by $\sqrt{d_k}$ brings the
# scores back to variance 1 whatever the head size. The next cell measures it.

# %%
# Empirical check: the spread of q . k grows like sqrt(d_k); scaling undoes it.
rng_demo = np.random.default_rng(0)
print(f"{'d_k':>5} {'std(q.k)':>9} {'std scaled':>11} {'max weight':>11} {'max w scaled':>13}")
for d_k in (4, 16, 64, 256):
    q = rng_demo.standard_normal((1024, d_k))
    k = rng_demo.standard_normal((1024, d_k))
    dots = np.sum(q * k, axis=1)
    # The average largest softmax weight over 64 rows of 16 keys, unscaled vs scaled.
    rows = dots.reshape(-1, 16)
    def top_weight(s):
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).max(axis=1).mean()
    print(f"{d_k:>5} {dots.std():>9.2f} {(dots / np.sqrt(d_k)).std():>11.2f} "
          f"{top_weight(rows):>11.2f} {top_weight(rows / np.sqrt(d_k)):>13.2f}")


# %% [markdown]
# ### Temperature, masks, and a softmax that does not overflow
#
# **Temperature.** Our attention takes an extra `temperature` $\tau$ and computes
# $\mathrm{softmax}(QK^\top / \sqrt{d_k} / \tau)$. With $\tau < 1$ the weights get
# sharper, with $\tau > 1$ flatter; $\tau = 1$ is the standard formula.
#
# **Masking.** Blocked pairs must get weight exactly 0 while the other weights in the row
# still sum to 1. Multiplying the weights by the mask *after* the softmax breaks the
# second property. Instead, replace blocked **scores** by a huge negative number
# (`MASK_FILL = -1e9`, defined in the setup cell) *before* the softmax: $e^{-10^9}$ is 0.
# Use `np.where` to do it so you build a new array instead of writing into one you were
# given. A row in which *every* key is blocked then has all scores equal, so it gets
# uniform weights and returns the mean of the values: meaningless but finite, which is
# all we ask of it (PyTorch returns zeros there; there is no agreed answer).
#
# **Stable softmax.** `np.exp(1000.0)` is `inf`, and `inf / inf` is `nan`. But softmax
# does not change if you subtract the same constant from every score in a row (it cancels
# between numerator and denominator). Subtracting the row maximum makes every exponent
# $\le 0$, so nothing overflows, and the largest term is $e^0 = 1$, so the sum is at
# least 1 and never underflows to 0.
#
# **Shapes.** Use `@` and swap only the *last two* axes of the key (`np.swapaxes`, not
# `.T`, which reverses all axes). Then the same code works for `(batch, seq, d)` inputs
# here and for `(batch, heads, seq, d)` inputs in Part 3.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, shifted by the maximum first so np.exp never overflows.

    The shift cancels between numerator and denominator, so the result is unchanged.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests for softmax.
p = softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
assert p.shape == (2, 3)
assert np.allclose(p.sum(axis=-1), 1.0), "each row must sum to 1"
assert np.allclose(p[1], 1 / 3), "equal scores must give equal weights"
big = softmax(np.array([1000.0, 1000.0]))
assert np.all(np.isfinite(big)), "overflow: subtract the maximum before np.exp"
assert np.allclose(big, 0.5)
### BEGIN HIDDEN TESTS
rng_hidden = np.random.default_rng(11)
s_hidden = rng_hidden.standard_normal((3, 4, 5)) * 50
p_hidden = softmax(s_hidden)
assert np.allclose(p_hidden, softmax(s_hidden + 123.0)), "softmax is shift invariant"
assert np.allclose(softmax(s_hidden, axis=0).sum(axis=0), 1.0), "respect the axis argument"
e_hidden = np.exp(s_hidden / 50)
assert np.allclose(softmax(s_hidden / 50), e_hidden / e_hidden.sum(-1, keepdims=True))
### END HIDDEN TESTS
print("softmax: tests passed")


# %% [markdown]
# ### Your turn: `ScaledDotProductAttention`
#
# Implement `forward`. Shapes: `query (batch, seq_q, d_k)`, `key (batch, seq_k, d_k)`,
# `value (batch, seq_k, d_v)`; `mask` is `None` or broadcastable to
# `(batch, seq_q, seq_k)`, so both `(seq_q, seq_k)` and `(batch, seq_q, seq_k)` must work.
# Any nonzero mask entry means "may attend". Return the output `(batch, seq_q, d_v)`, and
# with `return_attention_weights=True` the pair `(output, weights)`, `weights` being
# `(batch, seq_q, seq_k)`. The lines after your code already do that if you name your
# results `output` and `weights`.
#
# `dropout` is kept so the signature matches TinyTorch; this notebook only runs
# attention for inference, so it is never applied.

# %% nbgrader={"grade": false, "grade_id": "scaled_dot_product", "locked": false, "schema_version": 3, "solution": true, "task": false}
class ScaledDotProductAttention:
    """softmax(query @ key^T / sqrt(d_k) / temperature) @ value, with an optional mask.

    Only the last two axes are special, so the same object serves (batch, seq, d) inputs
    and the (batch, heads, seq, head_dim) inputs of multi-head attention.
    """

    def __init__(self, dropout: float = 0.0, temperature: float = 1.0) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.dropout = dropout  # kept for TinyTorch compatibility; not applied
        self.temperature = temperature

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        """Attend from every query to every allowed key; see the markdown above for shapes."""
        ### BEGIN SOLUTION
        query = np.asarray(query, dtype=np.float64)
        key = np.asarray(key, dtype=np.float64)
        value = np.asarray(value, dtype=np.float64)
        d_k = query.shape[-1]

        # (..., seq_q, d_k) @ (..., d_k, seq_k): one score per (query, key) pair.
        keys_t = np.swapaxes(key, -1, -2)
        scores = query @ keys_t / (np.sqrt(d_k) * self.temperature)

        if mask is not None:
            # Broadcasting lines a (seq_q, seq_k) mask up with every batch element.
            scores = np.where(np.asarray(mask) != 0, scores, MASK_FILL)

        weights = softmax(scores, axis=-1)
        output = weights @ value
        ### END SOLUTION
        if return_attention_weights:
            return output, weights
        return output

    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask, return_attention_weights)


# %% nbgrader={"grade": true, "grade_id": "test_scaled_dot_product", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Tests for ScaledDotProductAttention.
rng_t = np.random.default_rng(1)
q = rng_t.standard_normal((2, 3, 4))   # batch 2, seq_q 3, d_k 4
k = rng_t.standard_normal((2, 5, 4))   # seq_k 5 differs from seq_q
v = rng_t.standard_normal((2, 5, 6))   # d_v 6 differs from d_k
attn = ScaledDotProductAttention()
out, w = attn(q, k, v, return_attention_weights=True)
assert out.shape == (2, 3, 6), f"output shape should be (batch, seq_q, d_v), got {out.shape}"
assert w.shape == (2, 3, 5), f"weights shape should be (batch, seq_q, seq_k), got {w.shape}"
assert np.allclose(w.sum(axis=-1), 1.0), "attention weights of each query must sum to 1"
assert np.allclose(out, w @ v), "the output is the weighted average of the values"

# Identical keys -> uniform weights -> every output row is the mean of the values.
same_k = np.ones((2, 5, 4))
assert np.allclose(attn(q, same_k, v), v.mean(axis=1, keepdims=True).repeat(3, axis=1))

# One hand-computed case: scores [0, 2] / sqrt(2) -> softmax.
q1, k1 = np.array([[[1.0, 1.0]]]), np.array([[[1.0, -1.0], [1.0, 1.0]]])
v1 = np.array([[[10.0], [20.0]]])
s = np.array([0.0, 2.0]) / np.sqrt(2)
p = np.exp(s) / np.exp(s).sum()
assert np.allclose(attn(q1, k1, v1), p @ np.array([10.0, 20.0])), "did you scale by sqrt(d_k)?"

# A causal mask: query 0 may only see key 0.
x = rng_t.standard_normal((2, 4, 4))
out_c, w_c = attn(x, x, x, mask=create_causal_mask(4), return_attention_weights=True)
assert np.allclose(np.triu(w_c[0], k=1), 0.0), "blocked (future) keys must get weight 0"
assert np.allclose(out_c[:, 0], x[:, 0]), "the first query sees only the first value"

# Large scores must not overflow.
out_big = attn(q * 100, k * 100, v)
assert np.all(np.isfinite(out_big)), "softmax overflowed: subtract the row maximum"
### BEGIN HIDDEN TESTS
def _naive_sdpa(qh, kh, vh, allowed, tau):
    res = np.zeros((qh.shape[0], qh.shape[1], vh.shape[2]))
    for b_ in range(qh.shape[0]):
        for i_ in range(qh.shape[1]):
            sc = np.array([qh[b_, i_] @ kh[b_, j_] for j_ in range(kh.shape[1])])
            sc = sc / np.sqrt(qh.shape[2]) / tau
            sc = np.where(allowed[b_, i_], sc, -1e9)
            ex = np.exp(sc - sc.max())
            res[b_, i_] = (ex / ex.sum()) @ vh[b_]
    return res

rng_h = np.random.default_rng(7)
qh_, kh_, vh_ = (rng_h.standard_normal((3, 4, 8)), rng_h.standard_normal((3, 6, 8)),
                 rng_h.standard_normal((3, 6, 5)))
copies_h = [a.copy() for a in (qh_, kh_, vh_)]
pad_h = np.arange(6)[None, None, :] < np.array([6, 3, 1])[:, None, None]
pad_h = np.broadcast_to(pad_h, (3, 4, 6)).copy()
for tau_h in (1.0, 0.5, 3.0):
    attn_h = ScaledDotProductAttention(temperature=tau_h)
    assert np.allclose(attn_h(qh_, kh_, vh_), _naive_sdpa(qh_, kh_, vh_, np.ones((3, 4, 6), bool), tau_h))
    assert np.allclose(attn_h(qh_, kh_, vh_, mask=pad_h), _naive_sdpa(qh_, kh_, vh_, pad_h, tau_h))
cross_h = rng_h.random((4, 6)) > 0.3
cross_h[:, 0] = True
want_h = _naive_sdpa(qh_, kh_, vh_, np.broadcast_to(cross_h, (3, 4, 6)), 1.0)
for m_h in (cross_h, cross_h.astype(int), cross_h.astype(float)):
    assert np.allclose(ScaledDotProductAttention()(qh_, kh_, vh_, mask=m_h), want_h)
for a_h, c_h in zip((qh_, kh_, vh_), copies_h):
    assert np.array_equal(a_h, c_h), "inputs must not be modified"
blocked_h = np.zeros((4, 6), dtype=bool)
assert np.all(np.isfinite(ScaledDotProductAttention()(qh_, kh_, vh_, mask=blocked_h)))
o4_h = ScaledDotProductAttention()(qh_[None], kh_[None], vh_[None])
assert o4_h.shape == (1, 3, 4, 5), "extra leading axes should pass through"
### END HIDDEN TESTS
print("ScaledDotProductAttention: tests passed")


# %% [markdown]
# ### Written answer (2 points)
#
# Explain, in your own words and in three to six sentences, why attention divides the
# scores by $\sqrt{d_k}$. What would go wrong for a model with $d_k = 128$ that skipped
# the division, both in the forward pass and during training? Why $\sqrt{d_k}$ and not
# $d_k$?

# %% [markdown] nbgrader={"grade": true, "grade_id": "why_sqrt_dk", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** With zero-mean, unit-variance components, $q\cdot k$ is a sum of
# $d_k$ unit-variance products, so its variance is $d_k$ (std 11.3 for $d_k=128$). The
# softmax of scores spread that widely is almost one-hot: each query copies a single
# value instead of mixing several. In training, the softmax Jacobian
# $\mathrm{diag}(p)-pp^\top$ is close to zero for one-hot $p$, so gradients through the
# scores vanish and $W_Q, W_K$ barely learn. Dividing by $\sqrt{d_k}$ (the standard
# deviation) restores unit variance for any head size; dividing by $d_k$ would shrink the
# variance to $1/d_k$, making every row nearly uniform for large heads (the opposite
# failure). Grading: variance argument (1), saturation/vanishing gradient (0.5), why not
# $d_k$ (0.5).

# %% [markdown]
# ## Part 3: Multi-head attention
#
# One attention computes one weighted average per query, so it can follow one kind of
# relation at a time. **Multi-head attention** runs `num_heads` attentions side by side,
# each on its own slice of a learned projection, so one head can track the previous
# word while another tracks the subject of the sentence.
#
# **Projections.** Four `(embed_dim, embed_dim)` matrices, applied by
# right-multiplication and without bias (the TinyTorch `Linear` convention; PyTorch
# stores the transpose and computes `x @ W.T`, same thing):
#
# $$Q = \text{query}\,W_q,\qquad K = \text{key}\,W_k,\qquad V = \text{value}\,W_v .$$
#
# **Splitting heads.** With `head_dim = embed_dim // num_heads`, head $h$ owns columns
# `h*head_dim : (h+1)*head_dim` of $Q$, $K$ and $V$. Reshaping the last axis of a
# `(batch, seq, embed_dim)` array to `(num_heads, head_dim)` gives
# `(batch, seq, num_heads, head_dim)`, whose `[:, :, h]` is exactly head $h$'s columns.
# Attention needs the sequence axis next to the feature axis, so then **transpose**
# to `(batch, num_heads, seq, head_dim)`. Reshaping straight to
# `(batch, num_heads, seq, head_dim)` is a classic bug: reshape reads numbers in memory
# order, so "head 0" would get the first few *tokens'* full vectors, mixing positions
# and features. It runs, has the right shape, and is wrong.
#
# **Attention per head.** Your `ScaledDotProductAttention` already handles the extra
# heads axis, and since it divides by the square root of the *last* axis, each head is
# scaled by $1/\sqrt{\text{head\_dim}}$, as it should be.
#
# **Merging heads.** Undo the split (transpose back to `(batch, seq, num_heads,
# head_dim)`, reshape to `(batch, seq, embed_dim)`: the heads are now concatenated in
# order), then mix them with $W_o$.
#
# **Masks.** A `(seq_q, seq_k)` mask broadcasts over batch and heads unchanged. A
# `(batch, seq_q, seq_k)` mask needs a heads axis, `mask[:, None]`; otherwise
# broadcasting would line its batch axis up with the heads axis.
#
# **Contract details the grader relies on.** `embed_dim % num_heads != 0` raises
# `ValueError`. Attributes `embed_dim`, `num_heads`, `head_dim`, `w_q`, `w_k`, `w_v`,
# `w_o` (ndarrays), and `parameters`, the list of those same four array objects. The
# grader writes its own numbers *into* your arrays (`mha.w_q[...] = W`), so `forward` must
# read `self.w_q` etc. every time, never copies made in `__init__`. Returned weights are
# per head, `(batch, num_heads, seq_q, seq_k)`.

# %% nbgrader={"grade": false, "grade_id": "multi_head", "locked": false, "schema_version": 3, "solution": true, "task": false}
class MultiHeadAttention:
    """num_heads scaled dot-product attentions over column slices of learned projections."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        ### BEGIN SOLUTION
        if num_heads <= 0 or embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}"
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        # Standard deviation 1/sqrt(embed_dim) keeps projected vectors at unit scale.
        init_std = 1.0 / np.sqrt(embed_dim)
        self.w_q = np.random.normal(0.0, init_std, size=(embed_dim, embed_dim))
        self.w_k = np.random.normal(0.0, init_std, size=(embed_dim, embed_dim))
        self.w_v = np.random.normal(0.0, init_std, size=(embed_dim, embed_dim))
        self.w_o = np.random.normal(0.0, init_std, size=(embed_dim, embed_dim))
        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]
        self.attention = ScaledDotProductAttention(dropout=dropout)
        ### END SOLUTION

    def split_heads(self, x: np.ndarray) -> np.ndarray:
        """(..., seq, embed_dim) -> (..., num_heads, seq, head_dim); head h = its column slice."""
        ### BEGIN SOLUTION
        per_head = x.reshape(x.shape[:-1] + (self.num_heads, self.head_dim))
        return np.swapaxes(per_head, -3, -2)  # put seq next to head_dim
        ### END SOLUTION

    def merge_heads(self, x: np.ndarray) -> np.ndarray:
        """(..., num_heads, seq, head_dim) -> (..., seq, embed_dim), heads side by side in order."""
        ### BEGIN SOLUTION
        seq_major = np.swapaxes(x, -3, -2)  # (..., seq, num_heads, head_dim)
        return seq_major.reshape(seq_major.shape[:-2] + (self.embed_dim,))
        ### END SOLUTION

    def forward(self, query, key, value, mask=None, return_attention_weights=False):
        """query (batch, seq_q, embed_dim), key/value (batch, seq_k, embed_dim) -> (batch, seq_q, embed_dim)."""
        ### BEGIN SOLUTION
        q_heads = self.split_heads(np.asarray(query, dtype=np.float64) @ self.w_q)
        k_heads = self.split_heads(np.asarray(key, dtype=np.float64) @ self.w_k)
        v_heads = self.split_heads(np.asarray(value, dtype=np.float64) @ self.w_v)

        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == 3:  # (batch, seq_q, seq_k): the same mask for every head
                mask = mask[:, np.newaxis, :, :]

        per_head, weights = self.attention(
            q_heads, k_heads, v_heads, mask=mask, return_attention_weights=True
        )
        output = self.merge_heads(per_head) @ self.w_o
        ### END SOLUTION
        if return_attention_weights:
            return output, weights
        return output

    def __call__(self, query, key, value, mask=None, return_attention_weights=False):
        return self.forward(query, key, value, mask, return_attention_weights)


# %% nbgrader={"grade": true, "grade_id": "test_multi_head", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Tests for MultiHeadAttention.
try:
    MultiHeadAttention(10, 3)
    raise AssertionError("embed_dim=10, num_heads=3 should raise ValueError")
except ValueError:
    pass

mha = MultiHeadAttention(embed_dim=8, num_heads=2)
assert (mha.embed_dim, mha.num_heads, mha.head_dim) == (8, 2, 4)
for name in ("w_q", "w_k", "w_v", "w_o"):
    assert np.shape(getattr(mha, name)) == (8, 8), f"{name} should be (embed_dim, embed_dim)"
assert all(p is w for p, w in zip(mha.parameters, (mha.w_q, mha.w_k, mha.w_v, mha.w_o))), \
    "parameters must be [w_q, w_k, w_v, w_o], the same array objects"

rng_m = np.random.default_rng(2)
x = rng_m.standard_normal((2, 5, 8))
out, w = mha(x, x, x, return_attention_weights=True)
assert out.shape == (2, 5, 8), f"output should be (batch, seq, embed_dim), got {out.shape}"
assert w.shape == (2, 2, 5, 5), f"weights should be (batch, heads, seq_q, seq_k), got {w.shape}"

# With identity projections, head h is plain attention on columns h*4:(h+1)*4.
for weight in mha.parameters:
    weight[...] = np.eye(8)          # written in place, as the grader does
out_id, w_id = mha(x, x, x, return_attention_weights=True)
sdpa = ScaledDotProductAttention()
for h in range(2):
    cols = slice(4 * h, 4 * h + 4)
    o_h, w_h = sdpa(x[..., cols], x[..., cols], x[..., cols], return_attention_weights=True)
    assert np.allclose(w_id[:, h], w_h), f"head {h} should attend using columns {cols}"
    assert np.allclose(out_id[..., cols], o_h), f"head {h}'s output belongs in columns {cols}"

# A causal mask blocks the future in every head.
_, w_c = mha(x, x, x, mask=create_causal_mask(5), return_attention_weights=True)
assert np.allclose(np.triu(w_c, k=1), 0.0), "a (seq_q, seq_k) mask must block the future in every head"
### BEGIN HIDDEN TESTS
def _naive_mha(m_, qx, kx, vx, allowed):
    q_all, k_all, v_all = qx @ m_.w_q, kx @ m_.w_k, vx @ m_.w_v
    parts = []
    for h_ in range(m_.num_heads):
        c_ = slice(h_ * m_.head_dim, (h_ + 1) * m_.head_dim)
        sc = q_all[..., c_] @ np.swapaxes(k_all[..., c_], -1, -2) / np.sqrt(m_.head_dim)
        sc = np.where(allowed, sc, -1e9)
        ex = np.exp(sc - sc.max(-1, keepdims=True))
        parts.append((ex / ex.sum(-1, keepdims=True)) @ v_all[..., c_])
    return np.concatenate(parts, axis=-1) @ m_.w_o

rng_h = np.random.default_rng(8)
mha_h = MultiHeadAttention(12, 3)
for w_h_ in mha_h.parameters:
    w_h_[...] = rng_h.standard_normal((12, 12)) / 3
qx_h, kx_h = rng_h.standard_normal((2, 4, 12)), rng_h.standard_normal((2, 7, 12))
vx_h = rng_h.standard_normal((2, 7, 12))
saved_h = [a.copy() for a in (qx_h, kx_h, vx_h)]
all_h = np.ones((2, 4, 7), dtype=bool)
assert np.allclose(mha_h(qx_h, kx_h, vx_h), _naive_mha(mha_h, qx_h, kx_h, vx_h, all_h)), "cross-attention output differs"
m2_h = rng_h.random((4, 7)) > 0.4
m2_h[:, 0] = True
assert np.allclose(mha_h.forward(qx_h, kx_h, vx_h, mask=m2_h), _naive_mha(mha_h, qx_h, kx_h, vx_h, m2_h))
m3_h = rng_h.random((2, 4, 7)) > 0.4
m3_h[..., 0] = True
out3_h, w3_h = mha_h(qx_h, kx_h, vx_h, mask=m3_h.astype(int), return_attention_weights=True)
assert np.allclose(out3_h, _naive_mha(mha_h, qx_h, kx_h, vx_h, m3_h))
assert w3_h.shape == (2, 3, 4, 7) and np.allclose(w3_h[~np.broadcast_to(m3_h[:, None], w3_h.shape)], 0)
for a_h, c_h in zip((qx_h, kx_h, vx_h), saved_h):
    assert np.array_equal(a_h, c_h), "inputs must not be modified"
assert MultiHeadAttention(6, 6).head_dim == 1
### END HIDDEN TESTS
print("MultiHeadAttention: tests passed")

# %% [markdown]
# ## Part 4: The KV cache
#
# A language model generates text one token at a time: run the model on the prompt,
# sample the next token, append it, run the model again, and so on. Done naively, step
# $t$ runs full causal attention over all $t$ tokens so far: it re-projects every earlier
# token (cost $\propto t \cdot d^2$) and builds a $t \times t$ score matrix per head
# (time and memory $\propto t^2$). Generating $T$ tokens then costs about
# $\sum_t t^2 \approx T^3/3$.
#
# But almost all of that work is repeated. With a causal mask, the keys and values of
# tokens $0..t-1$ do not change when token $t$ arrives, and only the newest row of
# attention is new. So at each step:
#
# * project **only the new token** into $q, k, v$ (cost $\propto d^2$, independent of $t$);
# * **append** its $k$ and $v$ to a cache of all earlier keys and values;
# * attend from that single query to the $t$ cached keys: a $1 \times t$ score row,
#   time and memory $\propto t$.
#
# Each step is now **linear** in the sequence length, and generating $T$ tokens is
# quadratic overall instead of cubic. The price is memory: the cache holds, per layer,
# $2 \times$ `num_heads` $\times$ `head_dim` numbers for every token of every sequence
# being generated. The next cell counts multiply-adds for one attention layer.

# %%
# Multiply-adds for one attention layer per generated token, d = 512 features.
d = 512
print(f"{'t':>6} {'recompute (MFLOP)':>18} {'with cache (MFLOP)':>19} {'ratio':>7} "
      f"{'scores recompute':>17} {'scores cached':>14}")
for t in (128, 512, 2048, 8192):
    recompute = 4 * t * d * d + 2 * t * t * d   # 4 projections of t tokens + QK^T and AV
    cached = 4 * d * d + 2 * t * d              # 4 projections of 1 token + one row of each
    print(f"{t:>6} {recompute / 1e6:>18.1f} {cached / 1e6:>19.2f} {recompute / cached:>7.0f} "
          f"{t * t:>17,} {t:>14,}")


# %% [markdown]
# ### Your turn: `KVCache`
#
# `KVCache(max_batch_size, max_seq_length, num_heads, head_dim)` holds one *slot* per
# sequence being generated.
#
# * `__init__` **preallocates** `cached_keys` and `cached_values`, each
#   `(max_batch_size, num_heads, max_seq_length, head_dim)` (zeros), and
#   `cache_lengths`, one integer per slot, all 0. Allocating once is the point: growing an
#   array with `np.concatenate` copies everything it holds on every step, which makes each
#   step cost as much as the whole history again.
# * `update(batch_idx, new_keys, new_values)`: the new arrays are
#   `(num_heads, new_len, head_dim)`. Write them right after what the slot already holds,
#   advance its length, and return `(keys, values)` for that slot, each
#   `(num_heads, total_len, head_dim)`, holding every cached position and no padding.
#   A slice of the preallocated arrays (a view, no copy) is ideal. Other slots must not
#   change. If the update would pass `max_seq_length`, raise `ValueError` **before
#   writing anything**, so the cache is unchanged.
# * `reset(batch_idx=None)`: empty one slot, or all of them when `batch_idx` is `None`.
#   Setting the length to 0 is enough; positions past a slot's length are never read.
# * `get_memory_usage()`: a dict with at least `total_cache_memory_mb`, the size of the
#   two preallocated arrays in MiB (bytes / 2**20).

# %% nbgrader={"grade": false, "grade_id": "kv_cache", "locked": false, "schema_version": 3, "solution": true, "task": false}
class KVCache:
    """Keys and values of the sequences being generated, one slot each, allocated up front."""

    def __init__(self, max_batch_size: int, max_seq_length: int, num_heads: int, head_dim: int) -> None:
        ### BEGIN SOLUTION
        self.max_batch_size = max_batch_size
        self.max_seq_length = max_seq_length
        self.num_heads = num_heads
        self.head_dim = head_dim
        buffer_shape = (max_batch_size, num_heads, max_seq_length, head_dim)
        self.cached_keys = np.zeros(buffer_shape)
        self.cached_values = np.zeros(buffer_shape)
        self.cache_lengths = np.zeros(max_batch_size, dtype=int)
        ### END SOLUTION

    def update(self, batch_idx: int, new_keys: np.ndarray, new_values: np.ndarray):
        """Append (num_heads, new_len, head_dim) keys/values to a slot; return all it holds."""
        ### BEGIN SOLUTION
        if not 0 <= batch_idx < self.max_batch_size:
            raise IndexError(f"no slot {batch_idx}; the cache has {self.max_batch_size}")
        new_keys = np.asarray(new_keys)
        new_values = np.asarray(new_values)
        if (new_keys.ndim != 3 or new_keys.shape != new_values.shape
                or new_keys.shape[0] != self.num_heads or new_keys.shape[2] != self.head_dim):
            raise ValueError(
                "expected keys and values of shape (num_heads, new_len, head_dim) = "
                f"({self.num_heads}, n, {self.head_dim}); got {new_keys.shape}, {new_values.shape}"
            )
        start = int(self.cache_lengths[batch_idx])
        stop = start + new_keys.shape[1]
        if stop > self.max_seq_length:  # check before writing: a failed update changes nothing
            raise ValueError(
                f"slot {batch_idx} would hold {stop} positions, more than "
                f"max_seq_length={self.max_seq_length}"
            )
        self.cached_keys[batch_idx, :, start:stop] = new_keys
        self.cached_values[batch_idx, :, start:stop] = new_values
        self.cache_lengths[batch_idx] = stop
        # Slices are views: returning them costs nothing, whatever the cached length.
        return self.cached_keys[batch_idx, :, :stop], self.cached_values[batch_idx, :, :stop]
        ### END SOLUTION

    def reset(self, batch_idx: int | None = None) -> None:
        """Empty one slot, or all slots when batch_idx is None."""
        ### BEGIN SOLUTION
        if batch_idx is None:
            self.cache_lengths[:] = 0
        else:
            self.cache_lengths[batch_idx] = 0
        ### END SOLUTION

    def get_memory_usage(self) -> dict:
        """Size of the preallocated buffers; the dict has at least 'total_cache_memory_mb'."""
        ### BEGIN SOLUTION
        buffer_bytes = self.cached_keys.nbytes + self.cached_values.nbytes
        used_positions = int(self.cache_lengths.sum())
        return {
            "total_cache_memory_mb": buffer_bytes / 2**20,
            "used_positions": used_positions,
            "utilization": used_positions / max(1, self.max_batch_size * self.max_seq_length),
        }
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kv_cache", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests for KVCache.
cache = KVCache(max_batch_size=2, max_seq_length=6, num_heads=3, head_dim=4)
assert np.shape(cache.cached_keys) == (2, 3, 6, 4), "(max_batch, heads, max_seq, head_dim)"
assert np.shape(cache.cached_values) == (2, 3, 6, 4)
assert list(np.asarray(cache.cache_lengths)) == [0, 0]

rng_k = np.random.default_rng(3)
k1, v1 = rng_k.standard_normal((3, 2, 4)), rng_k.standard_normal((3, 2, 4))
keys, values = cache.update(0, k1, v1)
assert np.shape(keys) == (3, 2, 4) and np.shape(values) == (3, 2, 4)
assert np.allclose(keys, k1) and np.allclose(values, v1)

k2, v2 = rng_k.standard_normal((3, 1, 4)), rng_k.standard_normal((3, 1, 4))
keys, values = cache.update(0, k2, v2)
assert np.shape(keys) == (3, 3, 4), "update must append after what the slot holds"
assert np.allclose(keys, np.concatenate([k1, k2], axis=1))
assert np.allclose(values, np.concatenate([v1, v2], axis=1))
assert list(np.asarray(cache.cache_lengths)) == [3, 0], "only slot 0 should have grown"
assert np.allclose(cache.cached_keys[1], 0), "other slots must be untouched"

try:
    cache.update(0, rng_k.standard_normal((3, 4, 4)), rng_k.standard_normal((3, 4, 4)))
    raise AssertionError("3 + 4 > max_seq_length=6 should raise ValueError")
except ValueError:
    pass
assert int(cache.cache_lengths[0]) == 3, "a failed update must leave the cache unchanged"

cache.reset(0)
assert int(cache.cache_lengths[0]) == 0
keys, _ = cache.update(0, k2, v2)
assert np.allclose(keys, k2), "after reset the slot starts from scratch"
assert "total_cache_memory_mb" in cache.get_memory_usage()
### BEGIN HIDDEN TESTS
cache_h = KVCache(3, 5, 2, 3)
rng_h = np.random.default_rng(9)
chunks_h = [rng_h.standard_normal((2, n_, 3)) for n_ in (2, 2, 1)]
for c_h in chunks_h:
    kh_, vh_ = cache_h.update(1, c_h, -c_h)
assert np.allclose(kh_, np.concatenate(chunks_h, axis=1)) and np.allclose(vh_, -kh_)
before_k, before_v = cache_h.cached_keys.copy(), cache_h.cached_values.copy()
one_h = rng_h.standard_normal((2, 1, 3))
one_copy_h = one_h.copy()
try:
    cache_h.update(1, one_h, one_h)
    raise AssertionError("a full slot must refuse another position")
except ValueError:
    pass
assert np.array_equal(cache_h.cached_keys, before_k) and np.array_equal(cache_h.cached_values, before_v)
assert list(np.asarray(cache_h.cache_lengths)) == [0, 5, 0]
kh2_, _ = cache_h.update(2, one_h, one_h)
assert np.array_equal(one_h, one_copy_h), "inputs must not be modified"
assert np.shape(kh2_) == (2, 1, 3)
cache_h.reset()
assert list(np.asarray(cache_h.cache_lengths)) == [0, 0, 0]
mb_h = cache_h.get_memory_usage()["total_cache_memory_mb"]
nbytes_h = np.asarray(cache_h.cached_keys).nbytes + np.asarray(cache_h.cached_values).nbytes
assert np.isclose(mb_h, nbytes_h / 2**20) or np.isclose(mb_h, nbytes_h / 1e6)
### END HIDDEN TESTS
print("KVCache: tests passed")


# %% [markdown]
# ### Written answer (3 points)
#
# A 7B-parameter model in the style of Llama 2 has 32 layers, 32 attention heads of
# `head_dim = 128` (so `embed_dim = 4096`), and stores its cache in 16-bit floats.
# Compute the KV cache memory (a) per token, (b) for one sequence of 4096 tokens, and
# (c) for a batch of 8 such sequences. Compare (c) with the memory of the weights
# themselves at 16 bits. Show the arithmetic. What does this tell you about what limits
# the batch size of an inference server?

# %% [markdown] nbgrader={"grade": true, "grade_id": "kv_cache_memory_7b", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Per token and layer: keys and values, $2 \times 32 \times 128$
# numbers $\times$ 2 bytes = 16 KiB. Times 32 layers: (a) **512 KiB per token**.
# (b) $4096 \times 512$ KiB = **2 GiB per sequence**. (c) $8 \times 2$ GiB =
# **16 GiB**. The weights take $7\times10^9 \times 2$ B $\approx$ 14 GB (13 GiB), so the
# cache of just 8 full-length sequences is larger than the model. Serving batch size
# (and context length) is limited by cache memory, not by the weights; this is why
# grouped-query attention, cache quantization and paged caches exist. Grading: (a) 1,
# (b)+(c) 1, comparison and conclusion 1.

# %% [markdown]
# ## Part 5: One decoding step with the cache
#
# `cached_self_attention(mha, x_new, kv_cache, batch_idx=0)` runs self-attention for the
# next `new_len` tokens of the sequence in slot `batch_idx`, reusing everything cached:
#
# 1. Project `x_new (new_len, embed_dim)` with `mha.w_q`, `mha.w_k`, `mha.w_v` and split
#    the heads as in Part 3, giving `(num_heads, new_len, head_dim)` each (there is no
#    batch axis here: one slot is one sequence).
# 2. Append the new keys and values with `kv_cache.update(batch_idx, ...)`; it returns
#    all `total_len = past + new_len` cached keys and values.
# 3. Attend from the new queries to the cached keys, **causally and aligned to the end**:
#    new token `i` sits at absolute position `past + i`, so it may see keys
#    `0 .. past + i`. With `new_len == 1` that is every cached key; when prefilling a
#    prompt (`new_len > 1`), the earlier new tokens must not see the later ones.
# 4. Merge the heads and multiply by `mha.w_o`. Return `(new_len, embed_dim)`.
#
# Build the step-3 mask with shape `(new_len, total_len)` only, never
# `(total_len, total_len)`: while decoding that is one row, which keeps each step linear
# in the cached length.
#
# The test: prefilling a prompt and then decoding token by token must reproduce, row for
# row, `mha.forward(x, x, x, mask=create_causal_mask(T))` on the whole sequence.

# %% nbgrader={"grade": false, "grade_id": "cached_attention", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cached_self_attention(mha: MultiHeadAttention, x_new: np.ndarray, kv_cache: KVCache,
                          batch_idx: int = 0) -> np.ndarray:
    """Attention for the next new_len tokens of one sequence, reusing its cached keys/values.

    Only the new tokens are projected and only their rows of attention are computed, so a
    one-token step costs time and memory linear in the cached length.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x_new, dtype=np.float64)
    new_len = x.shape[0]
    n_heads, head_dim = mha.num_heads, mha.head_dim

    def to_heads(projected):
        # (new_len, embed_dim) -> (num_heads, new_len, head_dim), head h = its column slice
        return projected.reshape(new_len, n_heads, head_dim).transpose(1, 0, 2)

    q_new = to_heads(x @ mha.w_q)
    keys, values = kv_cache.update(batch_idx, to_heads(x @ mha.w_k), to_heads(x @ mha.w_v))
    total_len = keys.shape[1]
    past = total_len - new_len

    # Row i is new token i at absolute position past + i: it sees keys 0..past + i.
    visible = np.arange(total_len)[np.newaxis, :] <= past + np.arange(new_len)[:, np.newaxis]

    heads = ScaledDotProductAttention()(q_new, keys, values, mask=visible)
    merged = heads.transpose(1, 0, 2).reshape(new_len, n_heads * head_dim)
    return merged @ mha.w_o
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cached_attention", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Tests for cached_self_attention: prefill + token-by-token decoding == full causal attention.
rng_c = np.random.default_rng(4)
mha = MultiHeadAttention(embed_dim=8, num_heads=2)
x = rng_c.standard_normal((1, 6, 8))
full = mha.forward(x, x, x, mask=create_causal_mask(6))

cache = KVCache(max_batch_size=1, max_seq_length=6, num_heads=2, head_dim=4)
prompt_out = cached_self_attention(mha, x[0, :3], cache)          # prefill 3 tokens
assert np.shape(prompt_out) == (3, 8), f"expected (new_len, embed_dim), got {np.shape(prompt_out)}"
assert np.allclose(prompt_out, full[0, :3]), \
    "prefill differs from full causal attention: check the head split and that prompt token i sees keys 0..i only"
assert int(cache.cache_lengths[0]) == 3, "the prompt's keys and values belong in the cache"
for t in range(3, 6):                                               # then decode 1 at a time
    step = cached_self_attention(mha, x[0, t:t + 1], cache)
    assert np.shape(step) == (1, 8)
    assert np.allclose(step, full[0, t:t + 1]), f"decode step for position {t} differs from full attention"
assert int(cache.cache_lengths[0]) == 6
### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(10)
mha_h = MultiHeadAttention(12, 4)
for w_h_ in mha_h.parameters:
    w_h_[...] = rng_h.standard_normal((12, 12)) / 3
xs_h = rng_h.standard_normal((1, 9, 12))
full_h = mha_h(xs_h, xs_h, xs_h, mask=create_causal_mask(9))[0]
cache_h = KVCache(3, 9, 4, 3)
chunk_h = xs_h[0, :4].copy()
got_h = [cached_self_attention(mha_h, xs_h[0, :4], cache_h, batch_idx=2)]
assert np.array_equal(chunk_h, xs_h[0, :4]), "inputs must not be modified"
got_h.append(cached_self_attention(mha_h, xs_h[0, 4:6], cache_h, batch_idx=2))
for t_h in range(6, 9):
    got_h.append(cached_self_attention(mha_h, xs_h[0, t_h:t_h + 1], cache_h, 2))
assert np.allclose(np.concatenate(got_h, axis=0), full_h)
assert list(np.asarray(cache_h.cache_lengths)) == [0, 0, 9]
assert np.allclose(cache_h.cached_keys[:2], 0), "other slots must be untouched"
cache2_h = KVCache(1, 9, 4, 3)
assert np.allclose(cached_self_attention(mha_h, xs_h[0], cache2_h), full_h)
try:
    cached_self_attention(mha_h, xs_h[0, :1], cache2_h)
    raise AssertionError("decoding past max_seq_length should raise ValueError")
except ValueError:
    pass
### END HIDDEN TESTS
print("cached_self_attention: tests passed")


# %% [markdown]
# ### Seeing the difference
#
# The next cell extends prompts of growing length by a few tokens, two ways: recomputing
# full causal attention over the whole prefix at every step, and decoding with your cache
# after one prefill of the prompt (not timed). (The "tokens" are random vectors; only the
# cost matters here.) Look at how the time per new token changes when the prompt length
# doubles: without the cache it grows with every doubling, since each step redoes the
# projections and attention of every earlier token; with the cache it hardly moves at
# these lengths (a step is linear in the cached length, but that part is still small next
# to the fixed overhead of the step's NumPy calls). Timings on a shared machine are
# noisy, so expect the trend, not exact ratios.

# %%
def time_generation(prompt_len: int, new_tokens: int = 4, embed_dim: int = 64,
                    num_heads: int = 4) -> tuple[float, float]:
    # Seconds per token to generate new_tokens after a prompt: (recompute, cached).
    rng_g = np.random.default_rng(0)
    mha_g = MultiHeadAttention(embed_dim, num_heads)
    total = prompt_len + new_tokens
    xs = rng_g.standard_normal((1, total, embed_dim))

    start = time.perf_counter()
    for t in range(prompt_len + 1, total + 1):  # no cache: attend over the whole prefix again
        mha_g(xs[:, :t], xs[:, :t], xs[:, :t], mask=create_causal_mask(t))
    recompute = time.perf_counter() - start

    cache_g = KVCache(1, total, num_heads, embed_dim // num_heads)
    cached_self_attention(mha_g, xs[0, :prompt_len], cache_g)   # prefill the prompt
    start = time.perf_counter()
    for t in range(prompt_len, total):          # cache: one new token per step
        cached_self_attention(mha_g, xs[0, t:t + 1], cache_g)
    cached = time.perf_counter() - start
    return recompute / new_tokens, cached / new_tokens


print(f"{'prompt':>6} {'recompute ms/token':>19} {'cached ms/token':>16}")
for prompt_len in (32, 64, 128):
    t_full, t_cache = time_generation(prompt_len)
    print(f"{prompt_len:>6} {1e3 * t_full:>19.3f} {1e3 * t_cache:>16.3f}")

# %% [markdown]
# ### Written answer (2 points)
#
# With the cache, one decoding step costs time linear in the number of cached tokens.
# Generating $T$ tokens from scratch is therefore still quadratic in $T$ overall. Explain
# where that quadratic comes from, what exactly the cache saved compared with
# recomputing full attention at each step, and what it costs in exchange.

# %% [markdown] nbgrader={"grade": true, "grade_id": "decode_cost", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Step $t$ must compare the new query with all $t$ earlier keys, so the
# steps cost $1 + 2 + \dots + T \approx T^2/2$: the quadratic is inherent in every token
# attending to every earlier one. Without the cache, step $t$ re-projects all $t$ tokens
# ($t\,d^2$) and recomputes the full $t \times t$ score matrix ($t^2 d$ time, $t^2$
# memory), about $T^3/3$ in total; the cache removes the repeated projections and the
# earlier rows of attention. In exchange it stores $2 \times$ layers $\times$ heads
# $\times$ head_dim numbers per token and sequence, memory that grows linearly with
# context and batch. Grading: source of $T^2$ (1), what is saved and the memory cost (1).

# %% [markdown]
# ## Summary
#
# You built, from NumPy alone:
#
# * masks as boolean arrays built by comparing index ranges, broadcast over batch and heads;
# * scaled dot-product attention, with the $\sqrt{d_k}$ scaling that keeps the softmax out
#   of saturation and a softmax that cannot overflow;
# * multi-head attention: project, split with reshape **and transpose**, attend per head,
#   merge, project again;
# * a preallocated KV cache and a decoding step whose cost is linear per token.
#
# Before submitting, restart the kernel and run every cell top to bottom, then hand in
# this notebook. Names and signatures must stay exactly as given.
