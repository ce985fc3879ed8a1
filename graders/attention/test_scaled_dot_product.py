"""Task scaled_dot_product: ``ScaledDotProductAttention`` against the reference.

Every comparison passes the known-wrong variants computed on the same inputs, so a failing
test's hint names the mistake (wrong scale, softmax axis, mask handling, overflow, ...).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from _inputs import (
    SDPA_AXES,
    WEIGHT_AXES,
    allowed_mask,
    as_kind,
    large_score_qkv,
    qkv,
    variants,
)

pytestmark = [pytest.mark.task("scaled_dot_product")]


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
        f"got {type(result).__name__}"
    )
    out, w = result
    ref_out, ref_w = ref.forward(q, k, v, mask=mask, return_attention_weights=True)
    check(out, ref_out, what=f"the output of forward {what}",
          variants=variants("sdpa_variants", q, k, v, mask, temperature), axes=SDPA_AXES, where=where)
    check(w, ref_w, what=f"the attention weights returned by forward {what}",
          variants=variants("sdpa_variants", q, k, v, mask, temperature, part="weights"),
          axes=WEIGHT_AXES, where=where)


# ----------------------------------------------------------------------------- public


# Small fixed inputs with their expected values written out: public tests run in students'
# local checks, where the reference is not available.
Q = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
K = np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]])
V = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
CAUSAL = np.tril(np.ones((3, 3)))


@pytest.mark.visibility("public")
@pytest.mark.points(2)
def test_small_fixed_case(student: Any, check: Any) -> None:
    out, w = student.ScaledDotProductAttention(dropout=0.0).forward(
        Q, K, V, return_attention_weights=True)
    check(out, [[[2.12810780, 3.12810780], [3.19051964, 4.19051964],
                 [2.44270287, 3.44270287]]],
          what="the output of forward on a small (1, 3, 2) example",
          variants=variants("sdpa_variants", Q, K, V), axes=SDPA_AXES)
    check(w, [[[0.57597535, 0.28399541, 0.14002925], [0.22460634, 0.45552749, 0.31986617],
               [0.42621619, 0.42621619, 0.14756762]]],
          what="the weights of forward on a small (1, 3, 2) example",
          variants=variants("sdpa_variants", Q, K, V, part="weights"), axes=WEIGHT_AXES)


@pytest.mark.visibility("public")
def test_small_fixed_case_with_causal_mask(student: Any, check: Any) -> None:
    out, w = student.ScaledDotProductAttention(dropout=0.0).forward(
        Q, K, V, mask=CAUSAL, return_attention_weights=True)
    check(out, [[[1.0, 2.0], [2.33952310, 3.33952310], [2.44270287, 3.44270287]]],
          what="the output of forward on a small example with a causal mask",
          variants=variants("sdpa_variants", Q, K, V, CAUSAL), axes=SDPA_AXES)
    check(w, [[[1.0, 0.0, 0.0], [0.33023845, 0.66976155, 0.0],
               [0.42621619, 0.42621619, 0.14756762]]],
          what="the weights of forward on a small example with a causal mask",
          variants=variants("sdpa_variants", Q, K, V, CAUSAL, part="weights"),
          axes=WEIGHT_AXES)


@pytest.mark.points(2)
def test_self_attention(student: Any, reference: Any, check: Any, rng: Any) -> None:
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
def test_length_one(student: Any, reference: Any, check: Any, rng: Any,
                    seq_q: int, seq_k: int) -> None:
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
    q, k, v = qkv(rng, 2, 4, 6, 4, 3)
    mask = as_kind(allowed_mask(rng, (4, 6)), kind)
    run(student, reference, check, q, k, v, mask,
        what=f"with a (seq_q, seq_k) {kind} mask", weights=True)


@pytest.mark.parametrize("kind", ["bool", "int", "float"])
def test_mask_3d(student: Any, reference: Any, check: Any, rng: Any, kind: str) -> None:
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
    q, k, v = large_score_qkv(rng, 2, 4, 6, 8, 4)
    run(student, reference, check, q, k, v, what="when the scores reach the hundreds",
        weights=True)


def test_large_scores_with_mask(student: Any, reference: Any, check: Any, rng: Any) -> None:
    q, k, v = large_score_qkv(rng, 2, 5, 5, 4, 4)
    run(student, reference, check, q, k, v, np.tril(np.ones((5, 5), dtype=bool)),
        what="with a causal mask when the scores reach the hundreds")


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_temperature(student: Any, reference: Any, check: Any, rng: Any,
                     temperature: float) -> None:
    q, k, v = qkv(rng, 2, 3, 4, 4, 4)
    run(student, reference, check, q, k, v, temperature=temperature,
        what=f"with temperature={temperature}", weights=True)


# ----------------------------------------------------------------------------- weights


@pytest.mark.visibility("public")
def test_weights_rows_sum_to_one(student: Any, rng: Any) -> None:
    """Each query's weights over the keys are a probability distribution."""
    q, k, v = qkv(rng, 2, 3, 6, 4, 4)
    _, w = student.ScaledDotProductAttention(dropout=0.0).forward(
        q, k, v, return_attention_weights=True)
    w = np.asarray(w, dtype=np.float64)
    assert w.shape == (2, 3, 6), f"weights should have shape (2, 3, 6); got {w.shape}"
    sums = w.sum(axis=-1)
    assert np.allclose(sums, 1.0, atol=1e-5) and (w >= -1e-12).all(), (
        f"each query's attention weights should be >= 0 and sum to 1 over the keys; yours "
        f"sum to between {sums.min():.4g} and {sums.max():.4g}"
    )


# ----------------------------------------------------------------------------- property


@st.composite
def sdpa_case(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    b, sq, sk = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    dk, dv = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    values = st.floats(-3, 3, allow_nan=False, width=64)
    q = draw(hnp.arrays(np.float64, (b, sq, dk), elements=values))
    k = draw(hnp.arrays(np.float64, (b, sk, dk), elements=values))
    v = draw(hnp.arrays(np.float64, (b, sk, dv), elements=values))
    mask_shape = draw(st.sampled_from([None, (sq, sk), (b, sq, sk)]))
    mask = None
    if mask_shape is not None:
        mask = draw(hnp.arrays(np.bool_, mask_shape))
        mask[..., 0] = True  # keep every row answerable
    return q, k, v, mask


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture],
          report_multiple_bugs=False)
@given(case=sdpa_case())
def test_random_shapes_and_values(student: Any, reference: Any, check: Any,
                                  case: tuple[np.ndarray, ...]) -> None:
    q, k, v, mask = case
    run(student, reference, check, q, k, v, mask, what="on random shapes and values",
        weights=True)
