"""Task causal_mask: ``create_causal_mask(seq_len)`` against the reference (hidden tests;
the public ones are in ``public/test_causal_mask_public.py``).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _inputs import examples, MASK_AXES, variants

pytestmark = [pytest.mark.task("causal_mask")]

def check_mask(student: Any, reference: Any, check: Any, seq_len: int) -> None:
    """The student's mask equals the reference's as numbers (bool, int, float all fine)."""
    check(
        student.create_causal_mask(seq_len),
        reference.create_causal_mask(seq_len),
        what=f"create_causal_mask({seq_len})",
        variants=variants("causal_mask_variants", seq_len),
        axes=MASK_AXES,
    )


@pytest.mark.parametrize("seq_len", [1, 2, 7, 32])
@pytest.mark.requires("test_causal_mask_public.py::test_small_mask")  # size 1: all ones
def test_sizes(student: Any, reference: Any, check: Any, seq_len: int) -> None:
    """create_causal_mask({seq_len}) is the expected mask."""
    check_mask(student, reference, check, seq_len)


@examples(4)
@given(seq_len=st.integers(min_value=1, max_value=48))
def test_any_length(student: Any, reference: Any, check: Any, seq_len: int) -> None:
    """create_causal_mask is right for any length."""
    check_mask(student, reference, check, seq_len)
