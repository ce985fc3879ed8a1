"""Task multi_head: ``MultiHeadAttention`` against the reference.

Weights are written into the student's own arrays (``mha.assign``), so every comparison is
on known weights. No double jeopardy: an output equal to the contract's wiring around the
student's *own* ScaledDotProductAttention passes here (its fault is counted in
scaled_dot_product), with a note saying so. The public tests are in
``public/test_multi_head_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from proctor.testing import CheckFailure, describe_value
from _inputs import (
    examples,
    MHA_AXES,
    MHA_WEIGHT_AXES,
    SDPA_IS_THE_FAULT,
    WEIGHT_NAMES,
    allowed_mask,
    as_kind,
    attention_inputs,
    attention_mask,
    masks,
    mha_weights,
    seeds,
    value_kinds,
    variants,
)
from composition import own_sdpa_mha as own_sdpa_mha_of

pytestmark = [pytest.mark.task("multi_head")]


@pytest.fixture
def own_sdpa_mha(student: Any) -> Callable[..., np.ndarray]:
    """``composition.own_sdpa_mha`` bound to this student: the alternative when their SDPA is
    at fault (a fixture here, not in the shipped conftest: it is solution logic)."""
    return partial(own_sdpa_mha_of, student)

def run(
    student: Any, reference: Any, check: Any, new_mha: Any, own_sdpa_mha: Any,
    query: np.ndarray, key: np.ndarray, value: np.ndarray, weights: dict[str, np.ndarray],
    num_heads: int, mask: Any = None, *, what: str, attn: bool = True,
) -> None:
    """Compare the student's MHA (output and, if ``attn``, per-head weights) with the
    reference on the same weights; the student's-own-SDPA composition is also accepted."""
    e = query.shape[-1]
    ref = reference.MultiHeadAttention(e, num_heads)
    for name in WEIGHT_NAMES:
        getattr(ref, name)[...] = weights[name]
    ref_out, ref_w = ref.forward(query, key, value, mask=mask, return_attention_weights=True)

    mha = new_mha(e, num_heads, weights)
    if attn:
        result = mha.forward(query, key, value, mask=mask, return_attention_weights=True)
        assert isinstance(result, (tuple, list)) and len(result) == 2, (
            "MultiHeadAttention.forward(..., return_attention_weights=True) must return the "
            f"tuple (output, weights); got {describe_value(result)}"
        )
        out, w = result
    else:
        out = mha.forward(query, key, value, mask=mask)

    def own(part: str) -> Any:
        return lambda: own_sdpa_mha(query, key, value, weights, num_heads, mask, part)

    check(out, ref_out, what=f"the output of MultiHeadAttention.forward {what}",
          variants=variants("mha_variants", query, key, value, weights, num_heads, mask),
          axes=MHA_AXES, alternatives=[(own("output"), SDPA_IS_THE_FAULT)])
    if attn:
        check(w, ref_w, what=f"the per-head attention weights {what}",
              variants=variants("mha_variants", query, key, value, weights, num_heads, mask,
                                part="weights"),
              axes=MHA_WEIGHT_AXES, alternatives=[(own("weights"), SDPA_IS_THE_FAULT)])


@pytest.mark.points(2)
def test_self_attention(student: Any, reference: Any, check: Any, new_mha: Any,
                        own_sdpa_mha: Any, rng: Any) -> None:
    """Self-attention with embed_dim=12 and 3 heads gives the expected output."""
    x = rng.standard_normal((2, 5, 12))
    run(student, reference, check, new_mha, own_sdpa_mha, x, x, x, mha_weights(rng, 12), 3,
        what="for self-attention with embed_dim=12, num_heads=3")


@pytest.mark.points(2)
def test_cross_attention(student: Any, reference: Any, check: Any, new_mha: Any,
                         own_sdpa_mha: Any, rng: Any) -> None:
    """Query, key and value all different, seq_q != seq_k."""
    q = rng.standard_normal((2, 3, 12))
    k = rng.standard_normal((2, 6, 12))
    v = rng.standard_normal((2, 6, 12))
    run(student, reference, check, new_mha, own_sdpa_mha, q, k, v, mha_weights(rng, 12), 3,
        what="for cross-attention (different query, key and value; seq_q=3, seq_k=6)")


@pytest.mark.parametrize("kind", ["bool", "int", "float"])
def test_mask_2d(student: Any, reference: Any, check: Any, new_mha: Any, own_sdpa_mha: Any,
                 rng: Any, kind: str) -> None:
    """A (seq_q, seq_k) mask of {kind} values is applied to every head."""
    q = rng.standard_normal((2, 4, 12))
    kv = rng.standard_normal((2, 5, 12))
    mask = as_kind(allowed_mask(rng, (4, 5)), kind)
    run(student, reference, check, new_mha, own_sdpa_mha, q, kv, kv, mha_weights(rng, 12), 3,
        mask, what=f"with a (seq_q, seq_k) {kind} mask")


@pytest.mark.parametrize("batch, kind", [(3, "bool"), (2, "int"), (2, "float")])
def test_mask_3d(student: Any, reference: Any, check: Any, new_mha: Any, own_sdpa_mha: Any,
                 rng: Any, batch: int, kind: str) -> None:
    """A per-batch mask of {kind} values (batch {batch}) is applied to every head of its batch element.

    A per-batch mask with batch == num_heads (2) is where broadcasting it against the
    heads axis goes silently wrong; batch = 3 makes that mistake raise instead."""
    x = rng.standard_normal((batch, 4, 8))
    mask = as_kind(allowed_mask(rng, (batch, 4, 4)), kind)
    run(student, reference, check, new_mha, own_sdpa_mha, x, x, x, mha_weights(rng, 8), 2,
        mask, what=f"with a (batch, seq_q, seq_k) {kind} mask, batch={batch}, num_heads=2")


@pytest.mark.points(2)
def test_large_scores_do_not_overflow(student: Any, reference: Any, check: Any, new_mha: Any,
                                      own_sdpa_mha: Any, rng: Any) -> None:
    """Inputs 20x larger than usual: each head's scores reach the hundreds (exp overflows
    unless the row maximum is subtracted), with and without a causal mask."""
    x = 20.0 * rng.standard_normal((2, 4, 8))
    weights = mha_weights(rng, 8)
    run(student, reference, check, new_mha, own_sdpa_mha, x, x, x, weights, 2,
        what="when the scores reach the hundreds")
    run(student, reference, check, new_mha, own_sdpa_mha, x, x, x, weights, 2,
        np.tril(np.ones((4, 4), dtype=bool)),
        what="with a causal mask when the scores reach the hundreds")


def test_one_head(student: Any, reference: Any, check: Any, new_mha: Any, own_sdpa_mha: Any,
                  rng: Any) -> None:
    """With a single head, the output is the expected one."""
    x = rng.standard_normal((2, 4, 6))
    run(student, reference, check, new_mha, own_sdpa_mha, x, x, x, mha_weights(rng, 6), 1,
        what="with a single head")


def test_head_dim_one(student: Any, reference: Any, check: Any, new_mha: Any,
                      own_sdpa_mha: Any, rng: Any) -> None:
    """With head_dim=1 (embed_dim=4, num_heads=4), the output is the expected one."""
    x = rng.standard_normal((1, 3, 4))
    run(student, reference, check, new_mha, own_sdpa_mha, x, x, x, mha_weights(rng, 4), 4,
        what="with head_dim=1 (embed_dim=4, num_heads=4)")


def test_call_is_forward(student: Any, reference: Any, check: Any, new_mha: Any,
                         own_sdpa_mha: Any, rng: Any) -> None:
    """Calling the module does what forward does."""
    x = rng.standard_normal((2, 3, 8))
    weights = mha_weights(rng, 8)
    ref = reference.MultiHeadAttention(8, 2)
    for name in WEIGHT_NAMES:
        getattr(ref, name)[...] = weights[name]
    check(new_mha(8, 2, weights)(x, x, x), ref(x, x, x),
          what="the output of calling the module directly, mha(query, key, value)",
          variants=variants("mha_variants", x, x, x, weights, 2), axes=MHA_AXES,
          alternatives=[(lambda: own_sdpa_mha(x, x, x, weights, 2), SDPA_IS_THE_FAULT)])


def test_parameters_are_the_weights(student: Any, check: Any, new_mha: Any, rng: Any) -> None:
    """``parameters == [w_q, w_k, w_v, w_o]``: the very arrays, so writes show through."""
    weights = mha_weights(rng, 8)
    params = new_mha(8, 2, weights).parameters
    if callable(params):
        raise CheckFailure(
            "Checking MultiHeadAttention.parameters: it should be the list attribute "
            f"[w_q, w_k, w_v, w_o]; yours is {describe_value(params)}.",
            {"checked": "parameters", "got": describe_value(params)},
            "The contract asks for an attribute, not a method: set self.parameters = "
            "[self.w_q, self.w_k, self.w_v, self.w_o] in __init__.")
    assert isinstance(params, (list, tuple)) and len(params) == 4, (
        f"parameters should be the list [w_q, w_k, w_v, w_o]; got {describe_value(params)}"
        + (f" of length {len(params)}" if isinstance(params, (list, tuple)) else "")
    )
    for name, p in zip(WEIGHT_NAMES, params):
        check(p, weights[name], what=f"parameters[{WEIGHT_NAMES.index(name)}] after writing "
              f"new values into {name} (it should be {name} itself)")


def test_forward_reads_weights_on_every_call(student: Any, reference: Any, check: Any,
                                             new_mha: Any, own_sdpa_mha: Any,
                                             rng: Any) -> None:
    """Weights written after a first forward are used by the next one (no stale copies)."""
    x = rng.standard_normal((1, 4, 8))
    mha = new_mha(8, 2, mha_weights(rng, 8))
    mha.forward(x, x, x)
    weights = mha_weights(rng, 8)
    for name in WEIGHT_NAMES:
        mha.assign(name, weights[name])
    ref = reference.MultiHeadAttention(8, 2)
    for name in WEIGHT_NAMES:
        getattr(ref, name)[...] = weights[name]
    check(mha.forward(x, x, x), ref.forward(x, x, x),
          what="the output of forward after new weights were written into w_q, w_k, w_v, w_o",
          variants=variants("mha_variants", x, x, x, weights, 2), axes=MHA_AXES,
          alternatives=[(lambda: own_sdpa_mha(x, x, x, weights, 2), SDPA_IS_THE_FAULT)])


@pytest.mark.requires("test_self_attention")
def test_forward_leaves_weights_unchanged(student: Any, check: Any, new_mha: Any,
                                          rng: Any) -> None:
    """forward leaves the weight arrays unchanged."""
    x = rng.standard_normal((2, 4, 8))
    weights = mha_weights(rng, 8)
    mha = new_mha(8, 2, weights)
    mha.forward(x, x, x, mask=np.tril(np.ones((4, 4))))
    for name in WEIGHT_NAMES:
        check(getattr(mha, name), weights[name],
              what=f"{name} after a forward call (forward must not modify the weights)")


# ----------------------------------------------------------------------------- property


def mha_inputs(dims: tuple[int, int, int, int, int], kind: str, mask: tuple[str, int] | None,
               seed: int) -> tuple[Any, ...]:
    """``(query, key_value, weights, num_heads, mask)`` for ``dims = (batch, seq_q, seq_k,
    num_heads, head_dim)``, values of ``kind`` and a mask as in
    ``test_scaled_dot_product.sdpa_inputs`` (key and value are the same input), and
    weights, all made from ``seed``."""
    b, sq, sk, h, head_dim = dims
    e = h * head_dim
    rng = np.random.default_rng(seed)
    q, kv, _ = attention_inputs(rng, kind, (b, sq, e), (b, sk, e), (b, sk, e))
    return q, kv, mha_weights(rng, e), h, attention_mask(rng, mask, b, sq, sk)


@st.composite
def mha_case(draw: st.DrawFn) -> tuple[Any, ...]:
    """Random shapes, head counts, kind of values and mask: Hypothesis draws only those and
    a seed."""
    dims = (draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)),
            draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return mha_inputs(dims, draw(value_kinds), draw(masks), draw(seeds))


# In every grading: scores in the hundreds with all keys but one blocked, per batch element
# (which only the masking and the softmax's stability decide), and plain values with 3
# heads under a shared random mask (which the scale, the head split and the projections
# decide); seq_q != seq_k.
@examples(2)
@example(case=mha_inputs((2, 3, 4, 2, 2), "large", ("one key", 3), 1))
@example(case=mha_inputs((1, 4, 3, 3, 2), "normal", ("random", 2), 2))
@given(case=mha_case())
def test_random_shapes(student: Any, reference: Any, check: Any, new_mha: Any,
                       own_sdpa_mha: Any, case: tuple[Any, ...]) -> None:
    """Random shapes, head counts and values give the expected output."""
    q, kv, weights, heads, mask = case
    run(student, reference, check, new_mha, own_sdpa_mha, q, kv, kv, weights, heads, mask,
        what="on random shapes, head counts and values")
