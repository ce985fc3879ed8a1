"""Known-wrong versions of the transformer reference: the mistakes students really make.

Hidden course content (never released, never mounted in the sandbox), in the style of
``attention_variants.py``: a grader suite computes, on its own inputs, what each mistake
would have produced and passes the results to ``proctor.asserts.assert_close(variants=...)``,
so the feedback names the misconception instead of only saying "wrong numbers".

Each ``*_variants`` function returns ``{name: (zero-argument callable, hint)}``; callables are
lazy and may raise where a mistake cannot run (diagnose then ignores them). Hints describe the
misconception, never the inputs.

The computations are written out here, each bug visible in one place, and read their weights
from reference objects (``reference.transformer``'s ``LayerNorm``, ``FeedForward``,
``TransformerBlock``, ``GPT``) that hold the same weights the suite gave the student. Attention
itself is not under test in this assignment, so blocks call an ``attend(h, mask)`` the suite
chooses: by default the reference ``MultiHeadAttention`` in the block; a suite grading on the
student's own attention passes outputs of that instead. With no bug every function equals the
reference (``tests/test_transformer_variants.py`` checks that, and that each bug shows).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from reference.attention import KVCache, cached_self_attention, create_causal_mask

Variants = dict[str, tuple[Callable[[], np.ndarray], str]]
Attend = Callable[[np.ndarray, Any], np.ndarray]

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _f(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x) if not isinstance(x, np.ndarray) else x,
                      dtype=np.float64)


# ----------------------------------------------------------------------------- 1. LayerNorm


def layer_norm(x: Any, gamma: Any, beta: Any, eps: float = 1e-5, *, bug: str | None = None
               ) -> np.ndarray:
    """LayerNorm with one optional bug: "wrong_axis" (normalise over axis 0), "whole_array"
    (one mean and variance for everything), "unbiased" (ddof=1), "eps_outside"
    (``/ (std + eps)``), "no_affine" (gamma and beta ignored), "no_eps"."""
    x, gamma, beta = _f(x), _f(gamma), _f(beta)
    axis: int | None = {"wrong_axis": 0, "whole_array": None}.get(bug or "", -1)
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=1 if bug == "unbiased" else 0)
    if bug == "eps_outside":
        normed = (x - mean) / (np.sqrt(var) + eps)
    elif bug == "no_eps":
        with np.errstate(divide="ignore", invalid="ignore"):
            normed = (x - mean) / np.sqrt(var)
    else:
        normed = (x - mean) / np.sqrt(var + eps)
    return normed if bug == "no_affine" else normed * gamma + beta


LN_HINTS = {
    "wrong_axis": "Your LayerNorm normalises over the wrong axis: each position's feature "
                  "vector (the last axis, axis=-1) gets its own mean and variance.",
    "whole_array": "Your LayerNorm takes one mean and variance over the whole array; each "
                   "position's feature vector (axis=-1, keepdims=True) gets its own.",
    "unbiased": "Your LayerNorm uses the unbiased variance (divide by dim - 1). LayerNorm "
                "divides by dim: np.var's default ddof=0, as PyTorch does.",
    "eps_outside": "eps goes inside the square root: (x - mean) / sqrt(var + eps), not "
                   "/ (sqrt(var) + eps).",
    "no_affine": "The learnable scale and shift are missing: multiply by gamma and add beta "
                 "after normalising.",
    "no_eps": "eps is missing: (x - mean) / sqrt(var + eps) stays finite when a vector is "
              "constant (variance 0).",
}


def layer_norm_variants(x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> Variants:
    """Wrong ``LayerNorm(dim, eps)`` outputs on ``x`` with the given ``gamma``, ``beta``."""
    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: layer_norm(x, gamma, beta, eps, bug=bug)
    return {bug: (make(bug), hint) for bug, hint in LN_HINTS.items()}


# ----------------------------------------------------------------------------- 2. GELU, FFN


def gelu(x: Any, *, bug: str | None = None) -> np.ndarray:
    """Exact GELU, or a wrong one: "tanh" (the tanh approximation), "sigmoid"
    (``x * sigmoid(1.702 x)``), "relu", "no_half" (the 0.5 forgotten)."""
    x = _f(x)
    if bug == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if bug == "sigmoid":
        return x / (1.0 + np.exp(-1.702 * x))
    if bug == "relu":
        return np.maximum(x, 0.0)
    half = 1.0 if bug == "no_half" else 0.5
    return half * x * (1.0 + _erf(x / math.sqrt(2.0)))


GELU_HINTS = {
    "tanh": "You use the tanh approximation of GELU. This assignment uses the exact GELU, "
            "0.5 * x * (1 + erf(x / sqrt(2))) (PyTorch's default); they differ by up to 5e-4.",
    "sigmoid": "You use the sigmoid approximation x * sigmoid(1.702 x). This assignment uses "
               "the exact GELU, 0.5 * x * (1 + erf(x / sqrt(2))).",
    "relu": "You apply ReLU; the activation is the exact GELU, 0.5 * x * (1 + erf(x / sqrt(2))).",
    "no_half": "Your GELU is missing the factor 0.5: 0.5 * x * (1 + erf(x / sqrt(2))).",
}


def gelu_variants(x: Any) -> Variants:
    """Wrong ``gelu(x)`` results."""
    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: gelu(x, bug=bug)
    return {bug: (make(bug), hint) for bug, hint in GELU_HINTS.items()}


def feed_forward(x: Any, ffn: Any, *, bug: str | None = None) -> np.ndarray:
    """``gelu(x @ w1 + b1) @ w2 + b2`` with one optional bug: a GELU bug name, "no_bias",
    "gelu_twice" (GELU after the second layer too), "transposed" (``x @ w.T``-style use of
    square weights; raises when they are not square)."""
    x = _f(x)
    w1, b1, w2, b2 = (_f(getattr(ffn, n)) for n in ("w1", "b1", "w2", "b2"))
    act = bug if bug in GELU_HINTS else None
    if bug == "no_bias":
        b1, b2 = np.zeros_like(b1), np.zeros_like(b2)
    if bug == "transposed":
        w1, w2 = w2.T, w1.T  # what x @ W.T with PyTorch-shaped weights amounts to
        if w1.shape != (x.shape[-1], b1.shape[0]):
            raise ValueError("transposed weights do not fit")
    out = gelu(x @ w1 + b1, bug=act) @ w2 + b2
    return gelu(out) if bug == "gelu_twice" else out


FFN_HINTS = {**GELU_HINTS,
             "no_bias": "The feed-forward biases are missing: gelu(x @ w1 + b1) @ w2 + b2.",
             "gelu_twice": "GELU is applied after the second layer too; only the hidden layer "
                           "is activated: gelu(x @ w1 + b1) @ w2 + b2."}


def ffn_variants(x: Any, ffn: Any) -> Variants:
    """Wrong ``FeedForward`` outputs; ``ffn`` holds ``w1, b1, w2, b2``."""
    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: feed_forward(x, ffn, bug=bug)
    return {bug: (make(bug), hint) for bug, hint in FFN_HINTS.items()}


# ----------------------------------------------------------------------------- 3. block


def _default_attend(block: Any) -> Attend:
    return lambda h, mask: _f(block.attention(h, h, h, mask=mask))


def block_forward(x: Any, block: Any, mask: Any = None, *, bug: str | None = None,
                  attend: Attend | None = None) -> np.ndarray:
    """One transformer block with one optional bug.

    ``bug``: "post_norm" (``LN(x + sublayer(x))``), "residual_twice" (``x + (x + sublayer)``),
    "no_residual", "residual_from_norm" (``LN(x) + sublayer(LN(x))``), "shared_ln" (ln1 used
    for both sublayers), "no_mask" (the mask is ignored), or a LayerNorm ("ln_" + name) or
    GELU bug name applied inside the block.
    """
    x = _f(x)
    attend = attend or _default_attend(block)
    ln_bug = bug[3:] if bug and bug.startswith("ln_") else None
    ffn_bug = bug if bug in FFN_HINTS else None

    def ln(which: Any, v: np.ndarray) -> np.ndarray:
        which = block.ln1 if bug == "shared_ln" else which
        return layer_norm(v, which.gamma, which.beta, which.eps, bug=ln_bug)

    def sub_attn(v: np.ndarray) -> np.ndarray:
        return attend(v, None if bug == "no_mask" else mask)

    def sub_ffn(v: np.ndarray) -> np.ndarray:
        return feed_forward(v, block.ffn, bug=ffn_bug)

    if bug == "post_norm":
        x = ln(block.ln1, x + sub_attn(x))
        return ln(block.ln2, x + sub_ffn(x))
    for norm, sub in ((block.ln1, sub_attn), (block.ln2, sub_ffn)):
        h = ln(norm, x)
        if bug == "residual_twice":
            x = x + (x + sub(h))
        elif bug == "no_residual":
            x = sub(h)
        elif bug == "residual_from_norm":
            x = h + sub(h)
        else:
            x = x + sub(h)
    return x


BLOCK_HINTS = {
    "post_norm": "Your block is post-norm, LN(x + sublayer(x)). This assignment's block is "
                 "pre-norm: x + sublayer(LN(x)), the LayerNorm on the sublayer's input.",
    "residual_twice": "The residual is added twice (x + (x + sublayer)): add x once, "
                      "x = x + sublayer(LN(x)).",
    "no_residual": "The residual connection is missing: x = x + sublayer(LN(x)), not "
                   "x = sublayer(LN(x)).",
    "residual_from_norm": "The residual adds the normalised input: it must add the block's "
                          "input itself, x + sublayer(LN(x)), not LN(x) + sublayer(LN(x)).",
    "shared_ln": "Both sublayers use the same LayerNorm; the feed-forward has its own (ln2).",
    "no_mask": "The block ignores its mask: pass mask on to the attention.",
    **{"ln_" + name: hint for name, hint in LN_HINTS.items()},
    **FFN_HINTS,
}


def block_variants(x: Any, block: Any, mask: Any = None, *, attend: Attend | None = None
                   ) -> Variants:
    """Wrong ``TransformerBlock.forward(x, mask)`` outputs (``no_mask`` only with a mask)."""
    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: block_forward(x, block, mask, bug=bug, attend=attend)
    names = [b for b in BLOCK_HINTS if mask is not None or b != "no_mask"]
    return {bug: (make(bug), BLOCK_HINTS[bug]) for bug in names}


# ----------------------------------------------------------------------------- 4-5. model


def _blocks_forward(model: Any, x: np.ndarray, bug: str | None) -> np.ndarray:
    mask = create_causal_mask(x.shape[-2])
    block_bug = bug if bug in BLOCK_HINTS else None
    for block in model.blocks:
        x = block_forward(x, block, mask, bug=block_bug)
    return x


def _head(model: Any, x: np.ndarray, bug: str | None) -> np.ndarray:
    if bug != "no_final_ln":
        x = layer_norm(x, model.ln_f.gamma, model.ln_f.beta, model.ln_f.eps)
    return x @ _f(model.w_out)


def model_forward(model: Any, tokens: Any, *, bug: str | None = None) -> np.ndarray:
    """``GPT.forward`` with one optional bug: "no_positions", "no_final_ln", or a block bug."""
    ids = np.asarray(getattr(tokens, "data", tokens)).astype(np.int64)
    x = _f(model.token_embedding)[ids]
    if bug != "no_positions":
        x = x + _f(model.position_embedding)[:ids.shape[-1]]
    return _head(model, _blocks_forward(model, x, bug), bug)


def generate(model: Any, prompt: Any, max_new_tokens: int, *, bug: str | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Cached greedy decoding with one optional bug; returns ``(tokens, logits)``.

    ``bug``: "shared_cache" (one cache for every block), "positions_restart" (each step's
    tokens get positions from 0 again), "no_cache" (each step sees only its own tokens),
    "prefill_last_only" (only the prompt's last token enters the caches), "no_final_ln",
    "no_positions", or a block bug.
    """
    ids = [int(i) for i in np.asarray(getattr(prompt, "data", prompt)).ravel()]
    heads = model.num_heads
    head_dim = model.embed_dim // heads
    n_layers = len(model.blocks)
    size = model.max_seq_len * (n_layers if bug == "shared_cache" else 1)
    shared = KVCache(1, size, heads, head_dim)
    caches = [shared if bug == "shared_cache" else KVCache(1, size, heads, head_dim)
              for _ in model.blocks]
    block_bug = bug if bug in BLOCK_HINTS else None
    new = ids[-1:] if bug == "prefill_last_only" else list(ids)
    logits_seen = []
    for _ in range(max_new_tokens):
        start = len(ids) - len(new)
        if bug == "positions_restart":
            start = 0
        x = _f(model.token_embedding)[np.asarray(new)]
        if bug != "no_positions":
            x = x + _f(model.position_embedding)[start:start + len(new)]
        for block, cache in zip(model.blocks, caches):
            if bug == "no_cache":
                cache.reset()

            def attend(h: np.ndarray, _mask: Any, block: Any = block, cache: KVCache = cache
                       ) -> np.ndarray:
                return cached_self_attention(block.attention, h, cache)

            x = block_forward(x, block, None, bug=block_bug, attend=attend)
        logits = _head(model, x[-1], bug)
        logits_seen.append(logits)
        new = [int(np.argmax(logits))]
        ids.append(new[0])
    return np.asarray(ids, dtype=np.int64), np.asarray(logits_seen).reshape(max_new_tokens, -1)


MODEL_HINTS = {
    "no_positions": "The position embeddings are missing: x = token_embedding[tokens] + "
                    "position_embedding[:seq].",
    "no_final_ln": "The final LayerNorm (ln_f) is missing: logits = ln_f(x) @ w_out.",
    **{name: BLOCK_HINTS[name] for name in ("post_norm", "residual_twice", "no_residual",
                                            "residual_from_norm", "ln_wrong_axis", "ln_unbiased",
                                            "tanh", "sigmoid")},
}

GENERATE_HINTS = {
    "shared_cache": "All blocks share one KV cache, so each block attends to the other "
                    "blocks' keys and values: give every block its own KVCache.",
    "positions_restart": "Each decoding step starts the positions at 0 again: the token at "
                         "absolute position p gets position_embedding[p], so a step after "
                         "the prompt uses position len(tokens_so_far).",
    "no_cache": "Each decoding step sees only its own tokens: keep the caches across steps "
                "(reset them only when a new generation starts).",
    "prefill_last_only": "Only the prompt's last token enters the caches: prefill the whole "
                         "prompt before decoding the first new token.",
    **MODEL_HINTS,
}


def model_variants(model: Any, tokens: Any) -> Variants:
    """Wrong ``GPT.forward(tokens)`` logits."""
    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: model_forward(model, tokens, bug=bug)
    return {bug: (make(bug), hint) for bug, hint in MODEL_HINTS.items()}


def generate_variants(model: Any, prompt: Any, max_new_tokens: int, *, part: str = "logits"
                      ) -> Variants:
    """Wrong ``GPT.generate`` results; ``part`` is "logits" or "tokens"."""
    index = 1 if part == "logits" else 0

    def make(bug: str) -> Callable[[], np.ndarray]:
        return lambda: generate(model, prompt, max_new_tokens, bug=bug)[index].astype(float)
    return {bug: (make(bug), hint) for bug, hint in GENERATE_HINTS.items()}
