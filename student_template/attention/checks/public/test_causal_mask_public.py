"""Public checks of task causal_mask: students run these locally (``proctor check``).

Expected values and the known-wrong masks behind the hints come from the golden case
``mask_small`` (made from the reference at release time), so the verdict and the hint are
the same locally as in the official grade.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import MASK_AXES

pytestmark = [pytest.mark.task("causal_mask"), pytest.mark.visibility("public")]


@pytest.mark.points(2)
def test_small_mask(student: Any, check: Any, golden: Any) -> None:
    """create_causal_mask gives the expected small mask."""
    case = golden("mask_small")
    n = case["inputs"]["seq_len"]
    check(student.create_causal_mask(n), case["expected"]["mask"], what=f"create_causal_mask({n})",
          variants=case["variants"]["mask"], axes=MASK_AXES)


@pytest.mark.requires("test_small_mask")
def test_entries_are_zero_or_one(student: Any) -> None:
    """True/1 may attend, False/0 blocked: nothing else (not an additive -1e9/-inf mask)."""
    mask = np.asarray(student.create_causal_mask(5), dtype=np.float64)
    bad = ~np.isin(mask, (0.0, 1.0))
    assert not bad.any(), (
        f"create_causal_mask(5) has {int(bad.sum())} entries that are neither 0 nor 1. "
        "Return 1/True where attention is allowed and 0/False where it is blocked."
    )
