"""Public checks of task scaled_dot_product: students run these locally (``proctor check``).

The small fixed examples' inputs, expected values and known-wrong variants (for the hints)
come from the golden cases ``sdpa_small`` and ``sdpa_small_causal``, made from the
reference at release time: the same verdicts and hints locally as in the official grade.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import SDPA_AXES, WEIGHT_AXES, qkv

pytestmark = [pytest.mark.task("scaled_dot_product"), pytest.mark.visibility("public")]


def check_small_case(student: Any, check: Any, case: dict[str, Any], label: str) -> None:
    """Run a golden small example through the student's SDPA; compare output and weights."""
    inputs = case["inputs"]
    mask = {"mask": inputs["mask"]} if "mask" in inputs else {}
    out, w = student.ScaledDotProductAttention(dropout=0.0).forward(
        inputs["query"], inputs["key"], inputs["value"], **mask, return_attention_weights=True)
    check(out, case["expected"]["output"], what=f"the output of forward {label}",
          variants=case["variants"]["output"], axes=SDPA_AXES)
    check(w, case["expected"]["weights"], what=f"the weights of forward {label}",
          variants=case["variants"]["weights"], axes=WEIGHT_AXES)


@pytest.mark.points(2)
def test_small_fixed_case(student: Any, check: Any, golden: Any) -> None:
    """A small (1, 3, 2) example gives the expected output and weights."""
    check_small_case(student, check, golden("sdpa_small"), "on a small (1, 3, 2) example")


def test_small_fixed_case_with_causal_mask(student: Any, check: Any, golden: Any) -> None:
    """A small example with a causal mask gives the expected output and weights."""
    check_small_case(student, check, golden("sdpa_small_causal"),
                     "on a small example with a causal mask")


@pytest.mark.requires("test_small_fixed_case")
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
