"""proctor.diagnose: variant matching and generic localisation, on plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from proctor.diagnose import (
    as_numeric,
    diagnose,
    distance,
    localise,
    match_variant,
    mismatch_mask,
)


@pytest.fixture
def e() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, 5, 4))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- basics


def test_as_numeric_unwraps_tensor_likes_and_rejects_non_numbers() -> None:
    class T:
        def __init__(self, data: np.ndarray) -> None:
            self.data = data

    np.testing.assert_array_equal(as_numeric(T(np.eye(2))), np.eye(2))
    assert as_numeric(np.array([True, False])).dtype == np.float64
    assert as_numeric(None) is None
    assert as_numeric(np.array(["a"])) is None
    assert as_numeric(np.array([object()])) is None
    assert as_numeric(np.array([1j])) is None
    assert as_numeric([[1, 2], [3]]) is None  # ragged


def test_mismatch_mask_uses_atol_plus_rtol_times_expected() -> None:
    e = np.array([1.0, 100.0, 0.0, np.nan, np.inf])
    a = np.array([1.00015, 100.005, 2e-5, np.nan, np.inf])
    # bounds: 1e-5 + 1e-4*|e| -> 1.1e-4, 1.001e-2, 1e-5
    np.testing.assert_array_equal(
        mismatch_mask(a, e, 1e-4, 1e-5), [True, False, True, False, False]
    )


def test_nan_in_actual_is_always_a_mismatch_where_expected_is_finite() -> None:
    assert mismatch_mask(np.array([np.nan]), np.array([1.0]), 1.0, 1.0).all()
    assert distance(np.array([np.nan]), np.array([1.0]), 1.0, 1.0) == np.inf


def test_right_answer_gives_no_hint(e: np.ndarray) -> None:
    assert diagnose(e, e + 1e-9) is None


# ----------------------------------------------------------------------------- variants


def test_matching_variant_hint_is_returned(e: np.ndarray) -> None:
    variants = {
        "double": (e * 2, "you doubled it"),
        "negated": (-e, "you negated it"),
    }
    assert diagnose(-e, e, variants) == "you negated it"


def test_closest_variant_wins_and_ties_go_to_first_listed(e: np.ndarray) -> None:
    near = e + 0.5
    variants = {
        "far": (near + 5e-4, "far"),  # within MATCH_FACTOR tolerances, but farther
        "near": (near, "near"),
        "same": (near.copy(), "same as near"),
    }
    assert match_variant(near, e, variants) == ("near", "near")


def test_variant_equal_to_expected_on_these_inputs_is_ignored(e: np.ndarray) -> None:
    wrong = e + 1
    variants = {"useless": (e.copy(), "useless"), "plus one": (wrong, "added one")}
    assert diagnose(wrong, e, variants) == "added one"
    # and a wrong answer that happens to equal nothing gets a generic hint, not "useless"
    assert diagnose(e * 3, e, {"useless": (e.copy(), "useless")}) != "useless"


def test_variant_matches_within_a_few_tolerances_like_float32_work(e: np.ndarray) -> None:
    v = np.tanh(e)
    student = v.astype(np.float32).astype(np.float64)
    assert diagnose(student, e, {"tanh": (v, "tanh")}) == "tanh"


def test_unrelated_variant_does_not_match(e: np.ndarray) -> None:
    assert diagnose(e + 1, e, {"tanh": (np.tanh(e), "tanh")}) != "tanh"


def test_lazy_variants_are_evaluated_and_failing_ones_skipped(e: np.ndarray) -> None:
    calls: list[str] = []

    def boom() -> np.ndarray:
        calls.append("boom")
        raise ValueError("cannot handle these shapes")

    def neg() -> np.ndarray:
        calls.append("neg")
        return -e

    variants = {"boom": (boom, "boom"), "neg": (neg, "negated")}
    assert diagnose(-e, e, variants) == "negated"
    assert calls == ["boom", "neg"]


def test_variant_with_other_shape_matches_a_wrongly_shaped_answer() -> None:
    e = np.zeros((2, 3, 4))
    split = np.ones((2, 2, 3, 2))
    assert diagnose(split, e, {"unmerged": (split, "heads not merged")}) == (
        "heads not merged"
    )


def test_nonfinite_variant_matches_nonfinite_answer_by_overlap() -> None:
    e = np.ones((4, 3))
    v = e.copy()
    v[1:3] = np.nan
    student = e.copy()
    student[1] = np.nan  # float32 overflowed in fewer rows... still the same mistake
    student[2, :2] = np.inf
    assert diagnose(student, e, {"overflow": (v, "no max subtraction")}) == (
        "no max subtraction"
    )
    # a finite variant does not match a NaN answer
    assert diagnose(student, e, {"finite": (e * 2, "doubled")}) != "doubled"


# ----------------------------------------------------------------------------- structure


def test_constant_factor(e: np.ndarray) -> None:
    hint = diagnose(e * 2.8, e)
    assert "constant factor of about 2.8" in hint


def test_constant_factor_below_one_also_shows_its_inverse(e: np.ndarray) -> None:
    hint = diagnose(e / 4, e)
    assert "0.25" in hint and "1/4" in hint


def test_constant_offset(e: np.ndarray) -> None:
    assert "constant offset of about 0.5" in diagnose(e + 0.5, e)


def test_transposed() -> None:
    e = np.random.default_rng(1).standard_normal((2, 4, 4))
    assert "transposed" in diagnose(np.swapaxes(e, -1, -2), e)


def test_rows_permuted(e: np.ndarray) -> None:
    a = e[:, [1, 0, 2, 3, 4]]
    assert "permuted" in diagnose(a, e)


# ----------------------------------------------------------------------------- location


def test_only_upper_triangle() -> None:
    e = np.tril(np.ones((5, 5)))
    a = np.ones((5, 5))
    assert "upper triangle" in diagnose(a, e)


def test_only_lower_triangle() -> None:
    e = np.tril(np.ones((5, 5)))
    a = np.eye(5)
    assert diagnose(a, e).startswith("Only entries below the diagonal")


def test_only_diagonal() -> None:
    e = np.tril(np.ones((5, 5)))
    a = np.tril(np.ones((5, 5)), -1)
    assert "Only the diagonal is wrong" in diagnose(a, e)


def test_triangle_needs_most_of_the_region_to_be_wrong() -> None:
    e = np.random.default_rng(2).standard_normal((6, 6))
    a = e.copy()
    a[0, 5] += 1
    a[1, 4] += 1  # two entries above the diagonal: too few to blame the triangle
    assert "triangle" not in (diagnose(a, e) or "")


def test_end_aligned_triangle_for_rectangular_matrices() -> None:
    allowed = np.arange(6)[None, :] <= 3 + np.arange(3)[:, None]  # 3 new of 6 total
    e = allowed.astype(float)
    a = np.ones_like(e)
    assert "bottom-right" in diagnose(a, e)


def test_only_last_row_with_axis_names(e: np.ndarray) -> None:
    a = e.copy()
    a[:, -1] += 1
    hint = diagnose(a, e, axes=("batch", "seq_q", "d_v"))
    assert "Only the last seq_q position (index 4) is wrong" in hint


def test_only_first_query_position(e: np.ndarray) -> None:
    a = e.copy()
    a[:, 0, 1] -= 3
    hint = diagnose(a, e, axes=("batch", "seq_q", "d_v"))
    # confined to one seq_q index and one d_v index: either is true; seq_q is found first
    assert "the first seq_q position" in hint


def test_only_one_batch_element(e: np.ndarray) -> None:
    a = e.copy()
    a[1] = np.random.default_rng(9).standard_normal(a[1].shape)
    assert "Only batch element 1 is wrong" in diagnose(a, e, axes=("batch", "s", "d"))


def test_unnamed_axes_use_row_and_column() -> None:
    e = np.random.default_rng(3).standard_normal((4, 4))
    a = e.copy()
    a[-1] += np.arange(4) + 1.0
    assert "the last row" in diagnose(a, e)


def test_last_few_rows() -> None:
    e = np.random.default_rng(3).standard_normal((6, 3))
    a = e.copy()
    a[3:] = np.random.default_rng(4).standard_normal((3, 3))
    assert "the last 3 rows (indices 3-5)" in diagnose(a, e)


def test_rows_that_still_sum_to_one_are_pointed_out() -> None:
    rng = np.random.default_rng(5)
    e = softmax(rng.standard_normal((3, 4)))
    a = softmax(rng.standard_normal((3, 4)))
    hint = diagnose(a, e)
    assert "wrong everywhere" in hint and "sums to 1" in hint


def test_softmax_over_the_wrong_axis_is_recognised_from_sums() -> None:
    x = np.random.default_rng(6).standard_normal((2, 4, 4))
    hint = diagnose(softmax(x, axis=-2), softmax(x, axis=-1), axes=("batch", "seq_q", "seq_k"))
    assert "sum to 1 along the seq_q axis instead of along the last (seq_k) axis" in hint


def test_rows_not_normalised_are_reported_with_their_sums() -> None:
    x = np.random.default_rng(7).standard_normal((3, 5))
    e = softmax(x)
    a = e * (np.arange(5) < 3)  # zeroed without renormalising
    assert "should sum to 1, but yours sum to between" in diagnose(a, e)


def test_wrong_everywhere(e: np.ndarray) -> None:
    a = np.random.default_rng(8).standard_normal(e.shape)
    assert diagnose(a, e).startswith("The values are wrong everywhere")


def test_scattered_errors_are_reported_as_a_fraction() -> None:
    e = np.random.default_rng(10).standard_normal((8, 8))
    a = e.copy()
    a[0, 0] += 1
    a[3, 5] += 1
    a[6, 2] += 1
    a[7, 7] += 1
    a[5, 1] += 1
    a[2, 4] += 1
    a[1, 3] += 1
    a[4, 6] += 1
    assert "no simple pattern" in diagnose(a, e)


# ----------------------------------------------------------------------------- shapes


def test_shape_permuted_axes_named() -> None:
    e = np.random.default_rng(11).standard_normal((2, 3, 4))
    hint = localise(np.transpose(e, (0, 2, 1)), e, axes=("batch", "seq_q", "d_v"))
    assert "(batch, d_v, seq_q)" in hint


def test_shape_reshaped_instead_of_transposed() -> None:
    e = np.random.default_rng(12).standard_normal((2, 3, 4))
    a = np.transpose(e, (0, 2, 1)).reshape(2, 3, 4)[:, :, :, None]
    assert "different shape" in diagnose(a, e)


def test_shape_extra_unit_axis() -> None:
    e = np.random.default_rng(13).standard_normal((3, 4))
    assert "length 1" in diagnose(e[None], e)


def test_incompatible_shapes_give_no_hint() -> None:
    assert diagnose(np.zeros((2, 2)), np.zeros((3, 3))) is None


def test_diagnose_is_deterministic(e: np.ndarray) -> None:
    a = e.copy()
    a[:, 2] *= 3
    assert diagnose(a, e) == diagnose(a.copy(), e.copy())


def test_no_constant_factor_or_offset_claims_for_one_or_two_numbers() -> None:
    assert "constant" not in (diagnose(np.array([0.0]), np.array([6.0])) or "")
    assert "constant" not in (diagnose(np.array([2.0, 4.0]), np.array([1.0, 2.0])) or "")


def test_one_dimensional_wording() -> None:
    hint = diagnose(np.array([4.0, 0.0, 0.0]), np.array([3.0, 0.0, 6.0]))
    assert "Only entries 0, 2 are wrong" in hint


def test_axis_named_position_is_not_doubled() -> None:
    e = np.random.default_rng(14).standard_normal((5, 3))
    a = e.copy()
    a[3:] += 1
    hint = diagnose(a, e, axes=("position", "embed_dim"))
    assert "the last 2 positions (indices 3-4)" in hint and "position position" not in hint


def test_a_single_number_is_not_localised() -> None:
    assert diagnose(np.array([[np.nan]]), np.array([[1.0]])) is None
    assert diagnose(np.array([2.0]), np.array([1.0])) is None


# ----------------------------------------------------------------------------- small errors


def test_a_small_error_everywhere_is_not_given_a_place(e: np.ndarray) -> None:
    """Off by ~1e-4 in every entry: only the entries near zero exceed the tolerance, and
    listing them ("Only embed_dim positions 0, 1, 3 are wrong") would send the student to
    the wrong place. The hint says it is a small uniform error (precision, an epsilon)."""
    hint = localise(e + 1.5e-4, e, axes=("batch", "seq", "embed_dim"))
    assert hint is not None and "Only" not in hint
    assert "everywhere" in hint and "precision" in hint and "epsilon" in hint


def test_a_small_error_in_one_place_is_still_located(e: np.ndarray) -> None:
    a = e.copy()
    a[1, 2] += 1.5e-3
    hint = localise(a, e, axes=("batch", "seq", "embed_dim"))
    assert hint is not None and "precision" not in hint and "seq position 2" in hint
