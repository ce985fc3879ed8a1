"""Task causal_mask: ``create_causal_mask(seq_len)`` against the reference.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _inputs import variants

pytestmark = [pytest.mark.task("causal_mask")]

AXES = ("query", "key")


def check_mask(student: Any, reference: Any, check: Any, seq_len: int) -> None:
    """The student's mask equals the reference's as numbers (bool, int, float all fine)."""
    check(
        student.create_causal_mask(seq_len),
        reference.create_causal_mask(seq_len),
        what=f"create_causal_mask({seq_len})",
        variants=variants("causal_mask_variants", seq_len),
        axes=AXES,
    )


@pytest.mark.visibility("public")
@pytest.mark.points(2)
def test_small_mask(student: Any, check: Any) -> None:
    expected = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]])
    check(student.create_causal_mask(4), expected, what="create_causal_mask(4)",
          variants=variants("causal_mask_variants", 4), axes=AXES)


@pytest.mark.parametrize("seq_len", [1, 2, 7, 32])
def test_sizes(student: Any, reference: Any, check: Any, seq_len: int) -> None:
    check_mask(student, reference, check, seq_len)


@pytest.mark.visibility("public")
def test_entries_are_zero_or_one(student: Any) -> None:
    """True/1 may attend, False/0 blocked: nothing else (not an additive -1e9/-inf mask)."""
    mask = np.asarray(student.create_causal_mask(5), dtype=np.float64)
    bad = ~np.isin(mask, (0.0, 1.0))
    assert not bad.any(), (
        f"create_causal_mask(5) has {int(bad.sum())} entries that are neither 0 nor 1. "
        "Return 1/True where attention is allowed and 0/False where it is blocked."
    )


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture],
          report_multiple_bugs=False)
@given(seq_len=st.integers(min_value=1, max_value=48))
def test_any_length(student: Any, reference: Any, check: Any, seq_len: int) -> None:
    check_mask(student, reference, check, seq_len)
