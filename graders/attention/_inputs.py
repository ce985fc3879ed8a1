"""Input builders shared by the attention grader suites (pure NumPy, trusted side only).

Everything takes the test's ``rng`` so inputs are reproducible per test. Hypothesis
strategies for shapes live here too, so every suite draws shapes the same way.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from hypothesis import strategies as st

WEIGHT_NAMES = ("w_q", "w_k", "w_v", "w_o")

# Notes recorded on a test that passes through an alternative (no double jeopardy).
SDPA_IS_THE_FAULT = (
    "Your multi-head wiring is right; the difference from the reference comes from your "
    "ScaledDotProductAttention (its own tests count it)."
)
MHA_IS_THE_FAULT = (
    "Your cached decoding matches your own MultiHeadAttention with a causal mask; the "
    "difference from the reference comes from your MultiHeadAttention (its own tests count it)."
)
SDPA_IS_THE_FAULT_IN_DECODING = (
    "Your decoding is right given what your ScaledDotProductAttention returns; the difference "
    "from the reference comes from your ScaledDotProductAttention (its own tests count it)."
)
CACHE_IS_THE_FAULT = (
    "Your decoding step is right given what your KVCache.update returns; the difference from "
    "the reference comes from your KVCache (its own tests count it)."
)
SDPA_AXES = ("batch", "seq_q", "d_v")
WEIGHT_AXES = ("batch", "seq_q", "seq_k")
MHA_AXES = ("batch", "seq_q", "embed_dim")
MHA_WEIGHT_AXES = ("batch", "head", "seq_q", "seq_k")
DECODE_AXES = ("position", "embed_dim")
CACHE_AXES = ("head", "position", "head_dim")


def qkv(
    rng: np.random.Generator, batch: int, seq_q: int, seq_k: int, d_k: int, d_v: int,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard-normal ``query (b, seq_q, d_k)``, ``key (b, seq_k, d_k)``, ``value (b, seq_k,
    d_v)``; ``scale`` multiplies query and key, so scores grow like ``scale**2``."""
    q = rng.standard_normal((batch, seq_q, d_k)) * scale
    k = rng.standard_normal((batch, seq_k, d_k)) * scale
    v = rng.standard_normal((batch, seq_k, d_v))
    return q, k, v


def large_score_qkv(
    rng: np.random.Generator, batch: int, seq_q: int, seq_k: int, d_k: int, d_v: int,
    peak: float = 900.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs whose scaled scores reach about ``peak`` (in the hundreds), so a softmax that
    does not subtract the row maximum overflows even in float64 (exp(710) = inf)."""
    q, k, v = qkv(rng, batch, seq_q, seq_k, d_k, d_v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)
    top = scores.max() if scores.max() > 0 else np.abs(scores).max()  # the largest exp
    factor = np.sqrt(peak / top)
    return q * factor, k * factor, v


def allowed_mask(
    rng: np.random.Generator, shape: tuple[int, ...], p: float = 0.6,
    *, blocked_rows: bool = False,
) -> np.ndarray:
    """Random bool mask (True = may attend). Unless ``blocked_rows``, every row keeps at least
    one allowed key, so every query has an agreed answer."""
    m = rng.random(shape) < p
    if not blocked_rows:
        rows = ~m.any(axis=-1)
        first = rng.integers(0, shape[-1], size=shape[:-1])
        idx = np.nonzero(rows)
        m[idx + (first[idx],)] = True
    return m


def as_kind(mask: np.ndarray, kind: str) -> np.ndarray:
    """A bool mask as "bool", "int" (0/1 int64) or "float" (0.0/1.0)."""
    return {"bool": mask.astype(bool), "int": mask.astype(np.int64),
            "float": mask.astype(np.float64)}[kind]


def mha_weights(rng: np.random.Generator, embed_dim: int) -> dict[str, np.ndarray]:
    """Four ``(E, E)`` projections scaled 1/sqrt(E) (unit-variance projections), distinct so
    that swapping any two is visible."""
    return {name: rng.standard_normal((embed_dim, embed_dim)) / np.sqrt(embed_dim)
            for name in WEIGHT_NAMES}


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(..., seq, E) -> (..., num_heads, seq, head_dim)``: head h = columns h*hd:(h+1)*hd."""
    *lead, seq, e = x.shape
    x = x.reshape(*lead, seq, num_heads, e // num_heads)
    return np.swapaxes(x, -3, -2)


def causal(n: int) -> np.ndarray:
    """The trusted causal mask, so decoding checks never depend on the student's mask."""
    return np.tril(np.ones((n, n), dtype=bool))


def to_float(x: Any) -> np.ndarray:
    """A student's value (ndarray or Tensor-like) as float64, for trusted-side arithmetic."""
    if not isinstance(x, np.ndarray):
        x = getattr(x, "data", x)
    return np.asarray(x, dtype=np.float64)


def variants(builder: str, *args: Any, **kwargs: Any) -> Any:
    """Known-wrong results from the hidden ``reference.attention_variants.<builder>``, or None
    where that module is absent (a student's local public checks): hints are a bonus, the
    comparison does not depend on them."""
    try:
        module = importlib.import_module("reference.attention_variants")
    except ImportError:
        return None
    return getattr(module, builder)(*args, **kwargs)


# ----------------------------------------------------------------------------- hypothesis

small_dim = st.integers(min_value=1, max_value=6)
seq_len = st.integers(min_value=1, max_value=7)


@st.composite
def mha_dims(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """``(batch, seq_q, seq_k, embed_dim, num_heads)`` with num_heads dividing embed_dim."""
    heads = draw(st.integers(1, 4))
    head_dim = draw(st.integers(1, 4))
    return (draw(st.integers(1, 3)), draw(seq_len), draw(seq_len), heads * head_dim, heads)


@st.composite
def chunk_schedule(draw: st.DrawFn, total: int) -> list[int]:
    """Positive chunk lengths summing to ``total`` (a prompt, then tokens or chunks)."""
    chunks: list[int] = []
    left = total
    while left:
        n = draw(st.integers(1, left))
        chunks.append(n)
        left -= n
    return chunks
