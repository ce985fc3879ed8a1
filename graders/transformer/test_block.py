"""Task block: ``TransformerBlock.forward`` and ``forward_cached`` against the reference.

Every weight, attention's four matrices included, is written into the student's own
arrays. No double jeopardy: an output equal to the contract's pre-norm wiring around the
student's *own* LayerNorms and FeedForward (and attention) passes here, with a note (their
faults are counted in layer_norm and feed_forward; an attention fault is the attention
assignment's, and the grader runs a failing test again on a correct attention).
``forward_cached`` is judged the same way, around the student's own
``cached_self_attention`` and a KVCache of the student's attention. The public tests are
in ``public/test_block_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _inputs import (
    BLOCK_AXES,
    STEP_AXES,
    block_parameter_list,
    block_weights,
    write_block,
    examples,
    seeds,
    to_float,
    variants,
)
from composition import block_alternatives, check_parameters, causal, own_block_cached, ref_block
from proctor.testing import CheckFailure

pytestmark = [pytest.mark.task("block")]


def run(check: Any, reference: Any, new_block: Any, x: np.ndarray, weights: dict[str, Any],
        num_heads: int, mask: Any = None, *, what: str, call: str = "__call__",
        pass_hidden: bool = True) -> None:
    """Compare the student's block with the reference on the same weights; the wiring
    around the student's own sublayers is also accepted."""
    block = new_block(num_heads, weights, pass_hidden)
    if call == "__call__":
        out = block(x) if mask is None else block(x, mask=mask)
    else:
        out = block.forward(x) if mask is None else block.forward(x, mask=mask)
    ref = ref_block(reference, num_heads, weights)
    check(out, ref(x, mask=mask), what=what, axes=BLOCK_AXES,
          variants=variants("block_variants", x, ref, mask),
          alternatives=block_alternatives(block, x, mask))


def random_mask(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Bool mask, about 40% blocked, each query keeping at least its own position."""
    m = rng.random(shape) < 0.6
    n = shape[-1]
    m[..., np.arange(n), np.arange(n)] = True
    return m


@pytest.mark.points(3)
def test_forward_without_mask(check: Any, reference: Any, new_block: Any, rng: Any) -> None:
    """TransformerBlock(12, 3, 20) on a (2, 5, 12) input without a mask gives the expected output."""
    x = rng.standard_normal((2, 5, 12))
    run(check, reference, new_block, x, block_weights(rng, 12, 20), 3,
        what="TransformerBlock(12, 3, 20)(x) without a mask")


@pytest.mark.points(3)
def test_forward_with_causal_mask(check: Any, reference: Any, new_block: Any, rng: Any) -> None:
    """With a causal (seq, seq) mask, the block gives the expected output."""
    x = rng.standard_normal((2, 6, 12))
    run(check, reference, new_block, x, block_weights(rng, 12, 20), 3, causal(6),
        what="TransformerBlock(12, 3, 20)(x, mask=causal) on a (2, 6, 12) input")


@pytest.mark.points(2)
def test_forward_with_per_batch_mask(check: Any, reference: Any, new_block: Any,
                                     rng: Any) -> None:
    """A (batch, seq, seq) mask is passed on to the attention."""
    x = rng.standard_normal((3, 4, 8))
    run(check, reference, new_block, x, block_weights(rng, 8, 16), 2,
        random_mask(rng, (3, 4, 4)),
        what="TransformerBlock(8, 2, 16)(x, mask) with a (batch, seq, seq) mask")


def test_forward_with_int_mask(check: Any, reference: Any, new_block: Any, rng: Any) -> None:
    """A (seq, seq) mask of 0/1 integers works like a bool one."""
    x = rng.standard_normal((1, 5, 8))
    run(check, reference, new_block, x, block_weights(rng, 8, 16), 2,
        random_mask(rng, (5, 5)).astype(np.int64),
        what="TransformerBlock(8, 2, 16)(x, mask) with a 0/1 integer mask")


def test_forward_is_call(check: Any, reference: Any, new_block: Any, rng: Any) -> None:
    """block.forward(x, mask=...) gives what block(x, mask=...) gives."""
    x = rng.standard_normal((2, 4, 8))
    run(check, reference, new_block, x, block_weights(rng, 8, 12), 4, causal(4),
        call="forward", what="TransformerBlock(8, 4, 12).forward(x, mask=causal)")


def test_default_hidden_dim(check: Any, reference: Any, new_block: Any, rng: Any) -> None:
    """TransformerBlock(8, 2) builds its feed-forward with hidden_dim = 4 * 8 = 32."""
    x = rng.standard_normal((1, 4, 8))
    run(check, reference, new_block, x, block_weights(rng, 8, 32), 2, causal(4),
        pass_hidden=False, what="TransformerBlock(8, 2)(x, mask=causal) (hidden_dim 32)")


def test_one_position(check: Any, reference: Any, new_block: Any, rng: Any) -> None:
    """A sequence of one position, with a (1, 1) mask, gives the expected output."""
    x = rng.standard_normal((2, 1, 6))
    run(check, reference, new_block, x, block_weights(rng, 6, 10), 2, causal(1),
        what="TransformerBlock(6, 2, 10)(x, mask) on one position")


def test_parameters_in_order(check: Any, new_block: Any, rng: Any) -> None:
    """``parameters == attention.parameters + ln1.parameters + ffn.parameters + ln2.parameters``."""
    weights = block_weights(rng, 6, 10)
    check_parameters(check, new_block(2, weights).parameters, block_parameter_list(weights),
                     owner="TransformerBlock",
                     layout="(attention's 4, ln1's 2, ffn's 4, ln2's 2, in that order)",
                     fix="self.parameters = self.attention.parameters + self.ln1.parameters + "
                         "self.ffn.parameters + self.ln2.parameters")


@pytest.mark.requires("test_forward_with_causal_mask")
def test_reads_weights_on_every_call(check: Any, reference: Any, new_block: Any,
                                     rng: Any) -> None:
    """Weights written after a first call are used by the next one (no stale copies)."""
    x = rng.standard_normal((1, 4, 8))
    block = new_block(2, block_weights(rng, 8, 12))
    block(x, mask=causal(4))
    weights = block_weights(rng, 8, 12)
    write_block(block, weights)
    ref = ref_block(reference, 2, weights)
    check(block(x, mask=causal(4)), ref(x, mask=causal(4)), axes=BLOCK_AXES,
          what="the block's output after new weights were written into every sublayer",
          variants=variants("block_variants", x, ref, causal(4)),
          alternatives=block_alternatives(block, x, causal(4)))


@pytest.mark.requires("test_forward_with_causal_mask")
def test_leaves_inputs_alone(new_block: Any, rng: Any) -> None:
    """forward leaves x and the mask unchanged."""
    x = rng.standard_normal((2, 4, 8))
    block = new_block(2, block_weights(rng, 8, 12))
    _, modified = block.call_checking_inputs(None, x, mask=causal(4))
    if modified:
        raise CheckFailure(f"TransformerBlock changed its inputs in place: {', '.join(modified)}.",
                           {"checked": "TransformerBlock leaves x and mask alone",
                            "modified": modified},
                           "Residuals make new arrays: x = x + sublayer(...), not x += ...")


# ----------------------------------------------------------------------------- forward_cached


def check_cached(student: Any, check: Any, reference: Any, new_block: Any,
                 rng: np.random.Generator, chunks: list[int], *, embed_dim: int = 12,
                 num_heads: int = 3, hidden_dim: int = 20, slots: int = 1,
                 batch_idx: int | None = None, scale: float = 1.0) -> None:
    """Decode a sequence through ``forward_cached`` in ``chunks`` (a fresh KVCache of the
    student's attention, ``slots`` slots, the sequence in slot ``batch_idx``, None: the
    default) and compare the rows with the reference block's forward under a causal mask."""
    total = sum(chunks)
    x = scale * rng.standard_normal((total, embed_dim))
    weights = block_weights(rng, embed_dim, hidden_dim)
    block = new_block(num_heads, weights)
    head_dim = embed_dim // num_heads

    def new_cache() -> Any:
        return student.KVCache(slots, total + 2, num_heads, head_dim)

    cache = new_cache()
    rows, start = [], 0
    for i, n in enumerate(chunks):
        step = x[start:start + n]
        out = block.forward_cached(step, cache) if batch_idx is None else \
            block.forward_cached(step, cache, batch_idx)
        out = to_float(out)
        if out.shape != (n, embed_dim):
            raise CheckFailure(
                f"forward_cached on {n} new token(s) should return shape ({n}, {embed_dim}) "
                f"(new_len, embed_dim); got {out.shape} at step {i + 1}.",
                {"checked": "forward_cached's shape", "expected_shape": [n, embed_dim],
                 "actual_shape": list(out.shape)})
        rows.append(out)
        start += n
    ref = ref_block(reference, num_heads, weights)
    mask = causal(total)
    steps = ", ".join(map(str, chunks))
    where = "" if batch_idx is None else f" in slot {batch_idx} of {slots}"
    check(np.concatenate(rows), ref(x[None], mask=mask)[0], rowwise=True, axes=STEP_AXES,
          what=f"the rows forward_cached returned decoding in steps of {steps} token(s){where}, "
               "against forward over the whole sequence with a causal mask",
          variants={name: ((lambda make=make: make()[0]), hint) for name, (make, hint)
                    in variants("block_variants", x[None], ref, mask).items()},
          alternatives=[(lambda: own_block_cached(student, block, x, chunks, new_cache(),
                                                  batch_idx),
                         "Your forward_cached wiring is right; the difference from the "
                         "reference comes from your LayerNorm or FeedForward (their own "
                         "tests count it).")])


@pytest.mark.points(3)
def test_forward_cached_prompt_then_tokens(student: Any, check: Any, reference: Any,
                                           new_block: Any, rng: Any) -> None:
    """A 4-token prompt, then three single tokens, decode like forward with a causal mask."""
    check_cached(student, check, reference, new_block, rng, [4, 1, 1, 1])


@pytest.mark.points(2)
def test_forward_cached_token_by_token(student: Any, check: Any, reference: Any,
                                       new_block: Any, rng: Any) -> None:
    """Six tokens fed one at a time from an empty cache decode like forward with a causal mask."""
    check_cached(student, check, reference, new_block, rng, [1] * 6, embed_dim=8, num_heads=2,
                 hidden_dim=16)


def test_forward_cached_chunks(student: Any, check: Any, reference: Any, new_block: Any,
                               rng: Any) -> None:
    """Multi-token steps after a prompt (3, then 2, then 3 tokens) decode like forward."""
    check_cached(student, check, reference, new_block, rng, [3, 2, 3])


def test_forward_cached_other_slot(student: Any, check: Any, reference: Any, new_block: Any,
                                   rng: Any) -> None:
    """forward_cached(x_new, cache, 1) decodes into slot 1 of a two-slot cache."""
    check_cached(student, check, reference, new_block, rng, [2, 1, 1], slots=2, batch_idx=1)


def test_forward_cached_whole_sequence(student: Any, check: Any, reference: Any,
                                       new_block: Any, rng: Any) -> None:
    """A whole 5-token sequence in one forward_cached call equals forward with a causal mask."""
    check_cached(student, check, reference, new_block, rng, [5], embed_dim=8, num_heads=4,
                 hidden_dim=8)


# ----------------------------------------------------------------------------- property


def block_case(batch: int, seq: int, heads: int, head_dim: int, hidden: int, masked: bool,
               seed: int) -> tuple[np.ndarray, dict[str, Any], int, Any]:
    rng = np.random.default_rng(seed)
    e = heads * head_dim
    x = rng.standard_normal((batch, seq, e))
    return x, block_weights(rng, e, hidden), heads, causal(seq) if masked else None


@st.composite
def block_cases(draw: st.DrawFn) -> tuple[np.ndarray, dict[str, Any], int, Any]:
    return block_case(draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 3)),
                      draw(st.integers(1, 3)), draw(st.integers(1, 10)), draw(st.booleans()),
                      draw(seeds))


@examples(2)
@example(case=block_case(2, 4, 2, 3, 5, True, 1))
@given(case=block_cases())
def test_random_shapes(check: Any, reference: Any, new_block: Any, case: Any) -> None:
    """Random sizes, head counts and weights, with or without a causal mask, give the expected output."""
    x, weights, heads, mask = case
    run(check, reference, new_block, x, weights, heads, mask,
        what="the block's output on random sizes")
