"""Input builders shared by the attention grader suites (pure NumPy, trusted side only).

Everything takes the test's ``rng`` (or a seed) so inputs are reproducible per test. The
building blocks of the Hypothesis strategies live here too (seeds, arrays and masks made
from a seed, kinds of values, the ``Case`` a counterexample shows), so every suite draws
its inputs the same way.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from hypothesis import strategies as st

# The engine's generic builders, re-exported so the suites import them from one place.
from proctor.testing import (  # noqa: F401
    BLOCK, Alternative, Case, blocking, chunk_schedule, examples, quarter_steps, seeds)

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
CACHE_FAILS = (
    "Your decoding step is right with a working KV cache (the grader lent it one); with your "
    "own KVCache it fails or gives other rows: your KVCache's own tests count that."
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
#
# Strategies draw a few small integers (sizes, a seed, a kind of values) and NumPy builds
# the arrays from them (``proctor.testing``'s seeds, quarter_steps, blocking, Case).
# Explicit examples (``@example``) built with the same functions make the cases that matter
# run in every grading, whatever Hypothesis draws besides.

VALUE_KINDS = ("normal", "zeros", "quarters", "same keys", "large")
"""How hidden property tests fill query, key and value (see :func:`attention_inputs`)."""
value_kinds = st.sampled_from(VALUE_KINDS)

MASKS = (None, ("random", 2), ("random", 3), ("one key", 2), ("one key", 3))
"""Masks of hidden property tests: none, or a kind (see :func:`attention_mask`) and 2
(``(seq_q, seq_k)``, shared by the batch) or 3 (``(batch, seq_q, seq_k)``) dimensions."""
masks = st.sampled_from(MASKS)


def attention_inputs(
    rng: np.random.Generator, kind: str, q_shape: tuple[int, ...], k_shape: tuple[int, ...],
    v_shape: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(query, key, value)`` of the given shapes, values of one kind (value is always
    standard normal unless said otherwise):

    * "normal": standard normal;
    * "zeros": zero query and key: every score is 0, each query weighs all keys alike;
    * "quarters": multiples of 1/4 in [-2, 2] for all three: exact, with many ties;
    * "same keys": every key the same row: all of a query's scores tie;
    * "large": query and key 20x standard normal, so scores reach the hundreds and exp
      overflows unless each row's maximum is subtracted first.
    """
    if kind == "quarters":
        return tuple(rng.integers(-8, 9, s) / 4 for s in (q_shape, k_shape, v_shape))
    q = rng.standard_normal(q_shape)
    k = rng.standard_normal(k_shape)
    v = rng.standard_normal(v_shape)
    if kind == "zeros":
        q, k = np.zeros(q_shape), np.zeros(k_shape)
    elif kind == "same keys":
        k = np.broadcast_to(k[..., :1, :], k_shape).copy()
    elif kind == "large":
        q, k = 20 * q, 20 * k
    return q, k, v


def attention_mask(rng: np.random.Generator, spec: tuple[str, int] | None, batch: int,
                   seq_q: int, seq_k: int) -> np.ndarray | None:
    """A bool mask for :data:`MASKS` entry ``spec``, every query keeping at least one key:
    "random" blocks about 40% of the keys, "one key" all but one per query."""
    if spec is None:
        return None
    kind, ndim = spec
    shape = (batch, seq_q, seq_k) if ndim == 3 else (seq_q, seq_k)
    if kind == "random":
        return allowed_mask(rng, shape)
    mask = np.zeros(shape, dtype=bool)
    np.put_along_axis(mask, rng.integers(0, seq_k, shape[:-1] + (1,)), True, axis=-1)
    return mask
