"""Task scaled_dot_product: ``ScaledDotProductAttention`` against the reference.

Every comparison passes the known-wrong variants computed on the same inputs, so a failing
test's hint names the mistake (wrong scale, softmax axis, mask handling, overflow, ...).
The public tests are in ``public/test_scaled_dot_product_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from proctor.testing import describe_value
from _inputs import (
    examples,
    SDPA_AXES,
    WEIGHT_AXES,
    allowed_mask,
    as_kind,
    attention_inputs,
    attention_mask,
    masks,
    qkv,
    seeds,
    value_kinds,
    variants,
)

pytestmark = [pytest.mark.task("scaled_dot_product")]


def large_score_qkv(
    rng: np.random.Generator, batch: int, seq_q: int, seq_k: int, d_k: int, d_v: int,
    peak: float = 900.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs whose scaled scores reach about ``peak`` (in the hundreds), so a softmax that
    does not subtract the row maximum overflows even in float64 (exp(710) = inf). Here, not
    in the shipped ``_inputs.py``: it computes attention scores, part of the exercise."""
    q, k, v = qkv(rng, batch, seq_q, seq_k, d_k, d_v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)
    top = scores.max() if scores.max() > 0 else np.abs(scores).max()  # the largest exp
    factor = np.sqrt(peak / top)
    return q * factor, k * factor, v


def run(
    student: Any, reference: Any, check: Any, q: np.ndarray, k: np.ndarray, v: np.ndarray,
    mask: Any = None, temperature: float = 1.0, *, what: str, weights: bool = False,
    where: Any = None,
) -> None:
    """Call the student's and the reference's SDPA on the same inputs and compare."""
    ref = reference.ScaledDotProductAttention(dropout=0.0, temperature=temperature)
    kwargs = {} if temperature == 1.0 else {"temperature": temperature}
    sdpa = student.ScaledDotProductAttention(dropout=0.0, **kwargs)
    if not weights:
        out = sdpa.forward(q, k, v, mask=mask) if mask is not None else sdpa.forward(q, k, v)
        check(out, ref.forward(q, k, v, mask=mask), what=f"the output of forward {what}",
              variants=variants("sdpa_variants", q, k, v, mask, temperature), axes=SDPA_AXES,
              where=where)
        return
    result = sdpa.forward(q, k, v, mask=mask, return_attention_weights=True)
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        "forward(..., return_attention_weights=True) must return the tuple (output, weights); "
        f"got {describe_value(result)}"
    )
    out, w = result
    ref_out, ref_w = ref.forward(q, k, v, mask=mask, return_attention_weights=True)
    check(out, ref_out, what=f"the output of forward {what}",
          variants=variants("sdpa_variants", q, k, v, mask, temperature), axes=SDPA_AXES, where=where)
    check(w, ref_w, what=f"the attention weights returned by forward {what}",
          variants=variants("sdpa_variants", q, k, v, mask, temperature, part="weights"),
          axes=WEIGHT_AXES, where=where)


@pytest.mark.points(2)
def test_self_attention(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """Self-attention on a (2, 4, 8) query, key and value gives the expected output."""
    q, k, v = qkv(rng, 2, 4, 4, 8, 8)
    run(student, reference, check, q, k, v, what="for a (2, 4, 8) query, key and value")


# ----------------------------------------------------------------------------- shapes


@pytest.mark.points(2)
def test_cross_shapes(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """seq_q != seq_k and d_v != d_k: catches scaling by the wrong dimension, transposes."""
    q, k, v = qkv(rng, 3, 2, 5, 6, 3)
    run(student, reference, check, q, k, v,
        what="with seq_q=2, seq_k=5, d_k=6, d_v=3", weights=True)


@pytest.mark.parametrize("seq_q, seq_k", [(1, 1), (1, 6), (5, 1)])
@pytest.mark.requires("test_scaled_dot_product_public.py::test_small_fixed_case")  # one key: the value is the answer
def test_length_one(student: Any, reference: Any, check: Any, rng: Any,
                    seq_q: int, seq_k: int) -> None:
    """Sequences of length one work (seq_q={seq_q}, seq_k={seq_k})."""
    q, k, v = qkv(rng, 2, seq_q, seq_k, 4, 5)
    run(student, reference, check, q, k, v, what=f"with seq_q={seq_q}, seq_k={seq_k}")


def test_call_is_forward(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """``sdpa(q, k, v, mask)`` does what ``forward`` does."""
    q, k, v = qkv(rng, 2, 3, 4, 4, 2)
    mask = allowed_mask(rng, (3, 4))
    out = student.ScaledDotProductAttention(dropout=0.0)(q, k, v, mask=mask)
    ref = reference.ScaledDotProductAttention()(q, k, v, mask=mask)
    check(out, ref, what="the output of calling the module directly, sdpa(query, key, value, "
          "mask)", variants=variants("sdpa_variants", q, k, v, mask), axes=SDPA_AXES)


# ----------------------------------------------------------------------------- masks


@pytest.mark.parametrize("kind", ["bool", "int", "float"])
def test_mask_2d(student: Any, reference: Any, check: Any, rng: Any, kind: str) -> None:
    """A (seq_q, seq_k) mask of {kind} values blocks the right keys."""
    q, k, v = qkv(rng, 2, 4, 6, 4, 3)
    mask = as_kind(allowed_mask(rng, (4, 6)), kind)
    run(student, reference, check, q, k, v, mask,
        what=f"with a (seq_q, seq_k) {kind} mask", weights=True)


@pytest.mark.parametrize("kind", ["bool", "int", "float"])
def test_mask_3d(student: Any, reference: Any, check: Any, rng: Any, kind: str) -> None:
    """A (batch, seq_q, seq_k) mask of {kind} values blocks the right keys in each batch
    element."""
    q, k, v = qkv(rng, 3, 4, 5, 4, 4)
    mask = as_kind(allowed_mask(rng, (3, 4, 5)), kind)
    run(student, reference, check, q, k, v, mask,
        what=f"with a (batch, seq_q, seq_k) {kind} mask", weights=True)


def test_causal_rectangular_mask(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """A mask that is not symmetric and not square: transposing it cannot go unnoticed."""
    q, k, v = qkv(rng, 2, 3, 5, 4, 4)
    mask = np.arange(5)[None, :] <= 2 + np.arange(3)[:, None]
    run(student, reference, check, q, k, v, mask.astype(np.int64),
        what="with a (3, 5) end-aligned causal int mask", weights=True)


@pytest.mark.points(2)
def test_fully_blocked_rows_are_finite(student: Any, reference: Any, check: Any,
                                       rng: Any) -> None:
    """A query with every key blocked has no agreed answer; it must only be finite. The
    other rows must still be right."""
    q, k, v = qkv(rng, 2, 4, 5, 4, 3)
    mask = allowed_mask(rng, (2, 4, 5))
    mask[0, 1] = False
    mask[1, 3] = False
    rows = mask.any(axis=-1)[..., None]
    run(student, reference, check, q, k, v, mask,
        what="with some queries whose keys are all blocked (those rows need only be finite)",
        where=rows)


# ----------------------------------------------------------------------------- numerics


@pytest.mark.points(2)
def test_large_scores_do_not_overflow(student: Any, reference: Any, check: Any,
                                      rng: Any) -> None:
    """Scores in the hundreds do not overflow the softmax."""
    q, k, v = large_score_qkv(rng, 2, 4, 6, 8, 4)
    run(student, reference, check, q, k, v, what="when the scores reach the hundreds",
        weights=True)


def test_large_scores_with_mask(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """Scores in the hundreds with a causal mask do not overflow the softmax."""
    q, k, v = large_score_qkv(rng, 2, 5, 5, 4, 4)
    run(student, reference, check, q, k, v, np.tril(np.ones((5, 5), dtype=bool)),
        what="with a causal mask when the scores reach the hundreds")


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_temperature(student: Any, reference: Any, check: Any, rng: Any,
                     temperature: float) -> None:
    """A temperature of {temperature} divides the scores before the softmax."""
    q, k, v = qkv(rng, 2, 3, 4, 4, 4)
    run(student, reference, check, q, k, v, temperature=temperature,
        what=f"with temperature={temperature}", weights=True)


# ----------------------------------------------------------------------------- property


def sdpa_inputs(shape: tuple[int, int, int, int, int], kind: str,
                mask: tuple[str, int] | None, seed: int) -> tuple[Any, ...]:
    """``(query, key, value, mask)`` for ``shape = (batch, seq_q, seq_k, d_k, d_v)``, values
    of ``kind`` (``_inputs.VALUE_KINDS``: zeros, ties, scores in the hundreds, ...) and a
    mask (``_inputs.MASKS``: none, random, all keys but one blocked; shared by the batch or
    not), made from ``seed``."""
    b, sq, sk, dk, dv = shape
    rng = np.random.default_rng(seed)
    q, k, v = attention_inputs(rng, kind, (b, sq, dk), (b, sk, dk), (b, sk, dv))
    return q, k, v, attention_mask(rng, mask, b, sq, sk)


@st.composite
def sdpa_case(draw: st.DrawFn) -> tuple[Any, ...]:
    """Random shapes, kind of values and mask: Hypothesis draws only those and a seed."""
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 6)),
             draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    return sdpa_inputs(shape, draw(value_kinds), draw(masks), draw(seeds))


# In every grading, whatever Hypothesis draws besides: scores in the hundreds with all keys
# but one blocked, per batch element (overflow, a fill too small to block), quarter steps
# under a per-batch random mask (the scale, ties), and identical keys under a shared mask
# (uniform weights); seq_q != seq_k and d_k != d_v throughout.
@examples(2)
@example(case=sdpa_inputs((2, 3, 4, 2, 3), "large", ("one key", 3), 1))
@example(case=sdpa_inputs((3, 4, 2, 3, 2), "quarters", ("random", 3), 2))
@example(case=sdpa_inputs((1, 2, 5, 4, 1), "same keys", ("random", 2), 3))
@given(case=sdpa_case())
def test_random_shapes_and_values(student: Any, reference: Any, check: Any,
                                  case: tuple[np.ndarray, ...]) -> None:
    """Random shapes and values give the expected output and weights."""
    q, k, v, mask = case
    run(student, reference, check, q, k, v, mask, what="on random shapes and values",
        weights=True)
