"""Public checks of task layer_norm: students run these locally (``proctor check``).

The fixed example's inputs, expected values and known-wrong variants (for the hints) come
from the golden case ``ln_small``, made from the reference at release time, so the verdict
and the hint are the same locally as in the official grade. The property checks compare
the student's LayerNorm with itself, or with what follows from the contract by arithmetic
(a mean, a variance), on small inputs drawn by Hypothesis.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from _inputs import LN_AXES, Case, seeds, to_float
from proctor.testing import CheckFailure, assert_close, describe_value, profile

pytestmark = [pytest.mark.task("layer_norm"), pytest.mark.visibility("public")]

EXAMPLES = settings(profile("public"))


def test_attributes(student: Any, check: Any) -> None:
    """LayerNorm(6) has dim 6, eps 1e-5, gamma ones and beta zeros, and parameters [gamma, beta]."""
    ln = student.LayerNorm(6)
    assert (ln.dim, ln.eps) == (6, 1e-5), (
        f"LayerNorm(6) should have dim=6 and eps=1e-5 (the default); got dim={ln.dim!r}, "
        f"eps={ln.eps!r}")
    check(ln.gamma, np.ones(6), what="LayerNorm(6).gamma (ones at construction)")
    check(ln.beta, np.zeros(6), what="LayerNorm(6).beta (zeros at construction)")
    params = ln.parameters
    if callable(params) or not isinstance(params, (list, tuple)) or len(params) != 2:
        raise CheckFailure(
            "LayerNorm.parameters should be the list attribute [gamma, beta]; got "
            f"{describe_value(params)}.", {"checked": "parameters"},
            "Set self.parameters = [self.gamma, self.beta] in __init__.")
    check(params[0], np.ones(6), what="LayerNorm(6).parameters[0] (gamma)")
    check(params[1], np.zeros(6), what="LayerNorm(6).parameters[1] (beta)")


@pytest.mark.points(3)
def test_small_fixed_case(student: Any, check: Any, golden: Any, new_ln: Any) -> None:
    """LayerNorm(6) with given gamma and beta gives the expected output, rows of small variance included."""
    case = golden("ln_small")
    x, weights = case["inputs"]["x"], case["inputs"]["weights"]
    check(new_ln(6, weights)(x), case["expected"]["output"],
          what="LayerNorm(6)(x) on a (2, 3, 6) input with given gamma and beta",
          variants=case["variants"]["output"], axes=LN_AXES)


@pytest.mark.points(2)
@pytest.mark.requires("test_small_fixed_case")
def test_constant_vector_gives_beta(student: Any, check: Any, new_ln: Any) -> None:
    """A constant feature vector (variance 0) normalises to beta, finite."""
    beta = np.array([0.5, -1.0, 0.25, 2.0])
    weights = {"gamma": np.array([2.0, 1.0, -1.0, 0.5]), "beta": beta}
    x = np.array([[[3.0, 3.0, 3.0, 3.0], [0.0, 0.0, 0.0, 0.0], [-1.5, -1.5, -1.5, -1.5]]])
    check(new_ln(4, weights)(x), np.broadcast_to(beta, x.shape),
          what="LayerNorm(4) of constant vectors (their variance is 0)", axes=LN_AXES,
          hint="x - mean is 0 there, and eps inside the square root keeps the division "
               "finite: (x - mean) / sqrt(var + eps) * gamma + beta = beta.")


def normal_rows(seed: int, batch: int, seq: int, dim: int, offset: float, scale: float
                ) -> np.ndarray:
    """Rows far from constant (spread ``scale``), shifted by ``offset``."""
    rng = np.random.default_rng(seed)
    return offset + scale * (rng.standard_normal((batch, seq, dim)) + np.arange(dim))


@st.composite
def rows(draw: st.DrawFn) -> Case:
    batch, seq, dim = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(2, 6))
    offset = draw(st.sampled_from((0.0, 5.0, -20.0)))
    scale = draw(st.sampled_from((1.0, 3.0)))
    return Case(x=normal_rows(draw(seeds), batch, seq, dim, offset, scale))


@pytest.mark.requires("test_small_fixed_case")
@EXAMPLES
@example(case=Case(x=np.array([[[1.0, 2.0, 3.0, 4.0]], [[10.0, 0.0, 0.0, 0.0]]])))
@given(case=rows())
def test_each_row_has_mean_0_and_variance_1(student: Any, tol: Any, case: Case) -> None:
    """With gamma ones and beta zeros, every feature vector comes out with mean 0 and (biased) variance 1.

    Each position on its own: not one mean over the batch, nor over the whole array; the
    variance divides by dim (and eps is negligible next to these rows' variance)."""
    x = case["x"]
    dim = x.shape[-1]
    out = to_float(student.LayerNorm(dim)(x))
    if out.shape != x.shape:
        raise CheckFailure(f"LayerNorm({dim}) of an input of shape {x.shape} should keep its "
                           f"shape; got {out.shape}.", {"checked": "shape"})
    expected_var = x.var(axis=-1) / (x.var(axis=-1) + 1e-5)
    assert_close(out.mean(axis=-1), np.zeros(x.shape[:-1]), tol=tol, axes=("batch", "position"),
                 what="the mean of each output feature vector (it should be 0)")
    assert_close(out.var(axis=-1), expected_var, tol=tol, axes=("batch", "position"),
                 what="the variance of each output feature vector, dividing by dim (it "
                      "should be 1, or var / (var + eps) exactly)",
                 hint="Normalise each position's features (axis=-1) by their own mean and "
                      "biased variance (np.var's default, dividing by dim).")


@pytest.mark.requires("test_small_fixed_case")
@EXAMPLES
@example(case=Case(x=np.array([[[1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 0.0, 2.0]]])), shift=5.0)
@given(case=rows(), shift=st.sampled_from((1.0, -3.0, 10.0)))
def test_positions_are_independent(student: Any, tol: Any, case: Case, shift: float) -> None:
    """Each position is normalised on its own: shifting one position's features changes no other position.

    LayerNorm has no statistics shared across positions or batch elements."""
    x = case["x"]
    moved = x.copy()
    moved[0, 0] += shift * np.linspace(1.0, 2.0, x.shape[-1])
    ln = student.LayerNorm(x.shape[-1])
    before, after = to_float(ln(x)), to_float(ln(moved))
    others = np.ones(x.shape[:-1], dtype=bool)
    others[0, 0] = False
    assert_close(after, before, tol=tol, where=others[..., None], axes=LN_AXES,
                 what="the outputs at every other position after one position's features changed",
                 hint="Take the mean and variance over the last axis only (axis=-1, "
                      "keepdims=True), never over the batch or sequence axes.")
