"""Public checks of task block: students run these locally (``proctor check``).

The fixed examples' inputs, weights, expected values and known-wrong variants (for the
hints) come from the golden cases ``block_small`` and ``block_cached_small``, made from the
reference at release time. A block runs the student's LayerNorm, FeedForward and attention
too, and public checks have no alternatives (those are solution logic, hidden), so the
value checks are feedback only: 0 points, and their hints say so; the hidden tests, which
accept a LayerNorm or FeedForward fault with a note, carry the points (no double jeopardy).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import BLOCK_AXES, STEP_AXES, USES_YOUR_PARTS, to_float

pytestmark = [pytest.mark.task("block"), pytest.mark.visibility("public")]


def test_attributes(student: Any) -> None:
    """TransformerBlock(8, 2, 16) holds attention, ln1, ffn and ln2, and 12 parameters; hidden_dim defaults to 4 * embed_dim."""
    block = student.TransformerBlock(8, 2, 16)
    for name in ("attention", "ln1", "ffn", "ln2"):
        try:
            getattr(block, name)
        except AttributeError:
            raise AssertionError(f"TransformerBlock(8, 2, 16) has no attribute {name}; the "
                                 "contract names its parts attention, ln1, ffn and ln2") from None
    w1 = np.shape(to_float(block.ffn.w1))
    assert w1 == (8, 16), f"TransformerBlock(8, 2, 16).ffn.w1 should be (8, 16); got {w1}"
    params = block.parameters
    assert isinstance(params, (list, tuple)) and len(params) == 12, (
        "TransformerBlock.parameters should be the list attention.parameters + "
        "ln1.parameters + ffn.parameters + ln2.parameters (4 + 2 + 4 + 2 = 12 arrays); got "
        + (f"{len(params)} items" if isinstance(params, (list, tuple)) else type(params).__name__))
    default = np.shape(to_float(student.TransformerBlock(8, 2).ffn.w1))
    assert default == (8, 32), (
        f"TransformerBlock(8, 2) should build FeedForward(8, 4 * 8): ffn.w1 (8, 32); got {default}")


@pytest.mark.points(0)
def test_small_fixed_case(student: Any, check: Any, golden: Any, new_block: Any) -> None:
    """A small pre-norm block gives the expected output, with a causal mask and without one."""
    case = golden("block_small")
    x, weights, heads, mask = (case["inputs"][k] for k in ("x", "weights", "num_heads", "mask"))
    block = new_block(heads, weights)
    check(block(x, mask=mask), case["expected"]["masked"],
          what="TransformerBlock(8, 2, 16)(x, mask=causal) on a (1, 5, 8) input",
          variants=case["variants"]["masked"], axes=BLOCK_AXES, also=USES_YOUR_PARTS)
    check(block(x), case["expected"]["unmasked"],
          what="TransformerBlock(8, 2, 16)(x) without a mask",
          variants=case["variants"]["unmasked"], axes=BLOCK_AXES, also=USES_YOUR_PARTS)


@pytest.mark.points(0)
def test_forward_cached_prompt_then_tokens(student: Any, check: Any, golden: Any,
                                           new_block: Any) -> None:
    """forward_cached on a 3-token prompt, then two single tokens, gives the rows of forward with a causal mask."""
    case = golden("block_cached_small")
    x, weights, heads = case["inputs"]["x"], case["inputs"]["weights"], case["inputs"]["num_heads"]
    block = new_block(heads, weights)
    embed_dim = x.shape[1]
    cache = student.KVCache(1, case["inputs"]["max_len"], heads, embed_dim // heads)
    rows, start = [], 0
    for n in case["inputs"]["chunks"]:
        out = to_float(block.forward_cached(x[start:start + n], cache))
        assert out.shape == (n, embed_dim), (
            f"forward_cached on {n} new token(s) should return ({n}, {embed_dim}); got {out.shape}")
        rows.append(out)
        start += n
    check(np.concatenate(rows), case["expected"]["rows"],
          what="the rows forward_cached returned for a 3-token prompt then 2 single tokens, "
               "against forward with a causal mask", axes=STEP_AXES, also=USES_YOUR_PARTS)
