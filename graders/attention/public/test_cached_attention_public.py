"""Public checks of task cached_attention: students run these locally (``proctor check``).

The sequence, the projection weights, the expected rows and the known-wrong decodings (for
the hints) come from the golden case ``decode_small``, made from the reference at release
time. Decoding runs the student's MultiHeadAttention weights, KVCache and perhaps their
ScaledDotProductAttention, and public checks have no alternatives (those are solution
logic, hidden), so the check is feedback only: 0 points, and its hint says so; the hidden
tests, which accept other tasks' faults with a note, carry the points (no double jeopardy).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import pytest

from _decoding import Scenario, joined, run_student, scenario
from _inputs import DECODE_AXES, USES_YOUR_MHA_AND_CACHE

pytestmark = [pytest.mark.task("cached_attention"), pytest.mark.visibility("public")]


@pytest.mark.points(0)
def test_decoding_matches_full_causal_attention(student: Any, check: Any, golden: Any,
                                                new_mha: Any) -> None:
    """Decoding a 3-token prompt and then 2 single tokens gives the rows of full causal attention.

    Prefill 3 tokens, then decode 2 one at a time: the rows equal full causal multi-head
    attention over the 5 tokens (the contract's promise)."""
    case = golden("decode_small")
    inputs = case["inputs"]
    sc = Scenario(inputs["weights"], inputs["num_heads"], {0: inputs["x"]}, inputs["events"])
    _, _, outs = run_student(student, new_mha, sc)
    check(joined(sc, outs[0], 0), case["expected"]["output"],
          what="the rows of prefill(3) + two single-token steps, against full causal "
               "multi-head attention over all 5 tokens",
          variants=case["variants"]["output"], axes=DECODE_AXES, also=USES_YOUR_MHA_AND_CACHE)


@pytest.mark.requires("test_cached_attention.py::test_prefill_then_single_tokens")
def test_output_shape(student: Any, new_mha: Any, rng: Any) -> None:
    """A prompt of 4 tokens and one decoded token come back with the shape of the tokens passed
    in."""
    sc = scenario(rng, [(0, 4), (0, 1)], embed_dim=8, num_heads=2)
    _, _, outs = run_student(student, new_mha, sc)
    joined(sc, outs[0], 0)
