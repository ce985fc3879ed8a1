"""Input builders shared by the attention grader suites (pure NumPy, trusted side only).

Everything takes the test's ``rng`` so inputs are reproducible per test. Hypothesis
strategies for shapes live here too, so every suite draws shapes the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

WEIGHT_NAMES = ("w_q", "w_k", "w_v", "w_o")

Alternative = tuple[Callable[[], Any], str]
"""``(zero-argument callable, note)``: a result acceptable because another task is at fault."""

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
# Added to the hints of public checks that run another task's code (feedback only, 0 points).
USES_YOUR_SDPA = ("This check uses your ScaledDotProductAttention; if its checks fail too, fix "
                  "those first.")
USES_YOUR_MHA_AND_CACHE = ("This check uses your MultiHeadAttention's weights, your KVCache and, "
                           "if your decoding calls it, your ScaledDotProductAttention; if their "
                           "checks fail too, fix those first.")
MASK_AXES = ("query", "key")
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
    return {name: rng.standard_normal((embed_dim, embed_dim)) / embed_dim ** 0.5
            for name in WEIGHT_NAMES}


Op = tuple[str, tuple[Any, ...]]
"""A KV-cache operation: ``("update", (slot, keys, values))`` or ``("reset", (slot,))``."""


def new_entries(rng: np.random.Generator, heads: int, n: int, head_dim: int) -> tuple[
        np.ndarray, np.ndarray]:
    """Keys and values ``(heads, n, head_dim)`` for one ``KVCache.update``."""
    return rng.standard_normal((heads, n, head_dim)), rng.standard_normal((heads, n, head_dim))


def update(b: int, keys: np.ndarray, values: np.ndarray) -> Op:
    return ("update", (b, keys, values))


def to_float(x: Any) -> np.ndarray:
    """A student's value (ndarray or Tensor-like) as float64, for trusted-side arithmetic."""
    if not isinstance(x, np.ndarray):
        x = getattr(x, "data", x)
    return np.asarray(x).astype(np.float64, copy=False)


def variants(builder: str, *args: Any, **kwargs: Any) -> Any:
    """Known-wrong results from the hidden ``reference.attention_variants.<builder>``, for
    hidden tests; None where that module is absent. Public tests take theirs, evaluated,
    from golden cases (``golden_cases.py``), so their hints are the same in students'
    local checks."""
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
