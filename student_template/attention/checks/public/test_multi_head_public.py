"""Public checks of task multi_head: students run these locally (``proctor check``).

The small fixed example's inputs, weights, expected values and known-wrong variants (for
the hints) come from the golden case ``mha_small``, made from the reference at release
time. The fixed case runs the student's ScaledDotProductAttention too, and public checks
have no alternatives (those are solution logic, hidden), so it is feedback only: 0 points,
and its hint says so; the hidden tests, which accept an SDPA fault with a note, carry the
points (no double jeopardy).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import MHA_AXES, MHA_WEIGHT_AXES, USES_YOUR_SDPA, WEIGHT_NAMES

pytestmark = [pytest.mark.task("multi_head"), pytest.mark.visibility("public")]


def test_attributes(student: Any) -> None:
    """MultiHeadAttention(8, 2) has the contract's sizes and four (8, 8) weight arrays."""
    mha = student.MultiHeadAttention(8, 2)
    assert (mha.embed_dim, mha.num_heads, mha.head_dim) == (8, 2, 4), (
        "MultiHeadAttention(8, 2) should have embed_dim=8, num_heads=2, head_dim=4; got "
        f"{mha.embed_dim}, {mha.num_heads}, {mha.head_dim}"
    )
    for name in WEIGHT_NAMES:
        w = np.asarray(getattr(mha, name))
        assert w.shape == (8, 8), f"{name} should be an (8, 8) array; got shape {w.shape}"


@pytest.mark.parametrize("embed_dim, num_heads", [(10, 3), (6, 4)])
def test_indivisible_embed_dim_raises(student: Any, check: Any, embed_dim: int,
                                      num_heads: int) -> None:
    """MultiHeadAttention({embed_dim}, {num_heads}) raises ValueError, since {embed_dim} does
    not split into {num_heads} heads."""
    check.raises(ValueError, lambda: student.MultiHeadAttention(embed_dim, num_heads),
                 what=f"MultiHeadAttention({embed_dim}, {num_heads})",
                 hint="embed_dim must split evenly into num_heads heads: raise ValueError "
                      "when embed_dim % num_heads != 0.")


@pytest.mark.points(0)
def test_small_fixed_case(student: Any, check: Any, golden: Any, new_mha: Any) -> None:
    """A small 2-head self-attention with a causal mask gives the expected output."""
    case = golden("mha_small")
    x, weights, heads, mask = (case["inputs"][k] for k in ("x", "weights", "num_heads", "mask"))
    mha = new_mha(x.shape[-1], heads, weights)
    out, w = mha.forward(x, x, x, mask=mask, return_attention_weights=True)
    check(out, case["expected"]["output"],
          what="the output of a small 2-head self-attention with a causal mask",
          variants=case["variants"]["output"], axes=MHA_AXES, also=USES_YOUR_SDPA)
    check(w, case["expected"]["weights"],
          what="the per-head weights of a small 2-head self-attention with a causal mask",
          variants=case["variants"]["weights"], axes=MHA_WEIGHT_AXES, also=USES_YOUR_SDPA)
