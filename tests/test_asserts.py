"""proctor.asserts.assert_close: what passes, what fails, and what the failure says."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from proctor.asserts import CheckFailure, assert_close


@dataclass
class Tol:
    rtol: float = 1e-4
    atol: float = 1e-5


TOL = Tol()
AXES = ("batch", "seq_q", "d_v")


@pytest.fixture
def e() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, 3, 4))


def fail(actual: object, expected: np.ndarray, **kw: object) -> CheckFailure:
    kw.setdefault("what", "the output")
    with pytest.raises(CheckFailure) as info:
        assert_close(actual, expected, tol=TOL, **kw)
    return info.value


def test_equal_and_within_tolerance_pass(e: np.ndarray) -> None:
    assert_close(e, e, tol=TOL, what="x")
    assert_close(e * (1 + 5e-5), e, tol=TOL, what="x")
    assert_close(e.astype(np.float32), e, tol=TOL, what="float32 work is fine")


def test_tolerance_is_atol_plus_rtol_times_expected() -> None:
    e = np.array([0.0, 1000.0])
    assert_close(np.array([9e-6, 1000.09]), e, tol=TOL, what="x")
    f = fail(np.array([0.0, 1000.2]), e)
    assert f.details["worst_index"] == [1]


def test_check_failure_is_an_assertion_error(e: np.ndarray) -> None:
    assert isinstance(fail(e + 1, e), AssertionError)


def test_tensor_like_actual_is_unwrapped(e: np.ndarray) -> None:
    class Tensor:
        def __init__(self, data: np.ndarray) -> None:
            self.data = data

    assert_close(Tensor(e.copy()), e, tol=TOL, what="x")
    fail(Tensor(e + 1), e)


def test_bool_and_int_results_compare_as_numbers() -> None:
    mask = np.tril(np.ones((3, 3)))
    assert_close(mask.astype(bool), mask, tol=TOL, what="mask")
    assert_close(mask.astype(np.int32), mask, tol=TOL, what="mask")
    assert_close(mask.tolist(), mask, tol=TOL, what="nested lists are numbers too")


def test_details_of_a_value_mismatch(e: np.ndarray) -> None:
    a = e.copy()
    a[1, 2, 3] += 0.5
    a[0, 0, 0] += 0.1
    f = fail(a, e, what="the output of forward", axes=AXES)
    d = f.details
    assert d["checked"] == "the output of forward"
    assert d["shape"] == [2, 3, 4]
    assert d["worst_index"] == [1, 2, 3]
    assert d["worst_actual"] == pytest.approx(a[1, 2, 3])
    assert d["worst_expected"] == pytest.approx(e[1, 2, 3])
    assert d["max_abs_err"] == pytest.approx(0.5)
    assert d["max_rel_err"] == pytest.approx(0.5 / abs(e[1, 2, 3]))
    assert d["mismatch_fraction"] == pytest.approx(2 / 24)
    msg = str(f)
    assert msg.startswith("Checking the output of forward:")
    assert "2 of 24 entries" in msg and "[1, 2, 3]" in msg
    assert "(2, 3, 4) (batch, seq_q, d_v)" in msg


def test_message_has_the_hint_on_its_own_line(e: np.ndarray) -> None:
    f = fail(e * 2, e)
    assert f.hint and "constant factor of about 2" in f.hint
    assert str(f).splitlines()[-1] == "Hint: " + f.hint
    assert f.summary == str(f).rsplit("\nHint: ", 1)[0] and "Hint" not in f.summary


def test_variants_name_the_misconception(e: np.ndarray) -> None:
    f = fail(-e, e, variants={"neg": (-e, "you negated the scores")})
    assert f.hint == "you negated the scores"


def test_suite_hint_comes_first_then_the_localisation(e: np.ndarray) -> None:
    hint = fail(e * 2, e, hint="Check the scale.").hint
    assert hint.startswith("Check the scale. ") and "constant factor" in hint
    assert fail(np.zeros((9,)), e, hint="Check the scale.").hint == "Check the scale."


def test_matching_variant_replaces_the_suite_hint(e: np.ndarray) -> None:
    f = fail(-e, e, hint="generic advice", variants={"neg": (-e, "you negated it")})
    assert f.hint == "you negated it"


def test_shape_mismatch_message(e: np.ndarray) -> None:
    f = fail(np.zeros((2, 4, 3)), e, axes=AXES)
    assert "expected shape (2, 3, 4) (batch, seq_q, d_v) but got (2, 4, 3)" in str(f)
    assert f.details["expected_shape"] == [2, 3, 4]
    assert f.details["actual_shape"] == [2, 4, 3]


def test_nan_is_reported_with_count_and_first_position() -> None:
    e = np.ones((3, 4, 4))
    a = e.copy()
    a[0, 2, 1] = a[1, 0, 0] = a[2, 3, 3] = np.nan
    f = fail(a, e)
    assert "3 of 48 entries are NaN, first at [0, 2, 1]" in str(f)
    assert f.details["nonfinite"] == 3


def test_inf_is_reported() -> None:
    e = np.ones(4)
    f = fail(np.array([1.0, np.inf, 1.0, -np.inf]), e)
    assert "1 of 4 entries is +inf, first at [1]" in str(f)
    assert "-inf, first at [3]" in str(f)


def test_nan_fails_even_with_huge_tolerance() -> None:
    with pytest.raises(CheckFailure):
        assert_close(np.array([np.nan]), np.array([1.0]), tol=Tol(1e9, 1e9), what="x")


@pytest.mark.parametrize(
    "value, words",
    [
        (None, "returned None"),
        (np.array(["a", "b"]), "not numbers"),
        (np.array([object()]), "not numbers"),
        (np.array([1j]), "complex"),
        ("text", "not numbers"),
    ],
)
def test_non_numeric_results_fail_plainly(value: object, words: str) -> None:
    f = fail(value, np.zeros(2))
    assert words in str(f)


def test_tuple_returned_where_array_expected(e: np.ndarray) -> None:
    f = fail((e, e), e)
    assert "tuple of 2 values" in str(f)
    assert "only when the call asks for them" in f.hint  # generic: the engine knows no course
    assert fail((e, e), e, hint="the suite's own words").hint.startswith("the suite's own words")


def test_where_limits_comparison_but_not_finiteness() -> None:
    e = np.array([[1.0, 2.0], [3.0, 4.0]])
    rows = np.array([[True], [False]])
    assert_close(np.array([[1.0, 2.0], [99.0, -5.0]]), e, tol=TOL, what="x", where=rows)
    f = fail(np.array([[1.0, 2.0], [np.nan, 4.0]]), e, where=rows)
    assert "NaN" in str(f)
    f = fail(np.array([[1.0, 2.5], [3.0, 4.0]]), e, where=rows)
    assert "of the 2 entries compared" in str(f)


def test_non_numeric_expected_is_a_suite_bug() -> None:
    with pytest.raises(TypeError):
        assert_close(np.zeros(1), None, tol=TOL, what="x")


def test_variants_match_on_entries_outside_where_too() -> None:
    e = np.array([[1.0, 2.0], [3.0, 4.0]])
    rows = np.array([[True], [False]])
    nan_rows = np.array([[1.0, 2.0], [np.nan, np.nan]])
    f = fail(nan_rows, e, where=rows, variants={"inf fill": (nan_rows.copy(), "used -inf")})
    assert f.hint == "used -inf"


# ----------------------------------------------------------------------------- raises, proxies


def test_wrong_exception_type_names_the_expected_one() -> None:
    """A student's AssertionError where ValueError is required: the hint names ValueError
    (and says an assert statement is what raised AssertionError)."""
    from proctor.asserts import assert_raises
    from proctor.sandbox.proxy import student_error

    def call() -> None:
        raise student_error({"type": "AssertionError", "builtin": "AssertionError",
                             "message": "embed_dim must divide"})

    with pytest.raises(CheckFailure) as info:
        assert_raises(ValueError, call, what="MultiHeadAttention(10, 3)", hint="check it")
    failure = info.value
    assert "should raise ValueError, but it raised AssertionError" in failure.summary
    assert "ValueError" in failure.hint and "assert statement" in failure.hint
    assert failure.hint.endswith("check it")
    assert failure.details["expected_exception"] == "ValueError"


def test_wrong_exception_of_any_type_names_the_expected_one() -> None:
    from proctor.asserts import assert_raises
    from proctor.sandbox.proxy import student_error

    def call() -> None:
        raise student_error({"type": "IndexError", "builtin": "IndexError", "message": ""})

    with pytest.raises(CheckFailure) as info:
        assert_raises(ValueError, call, what="an update past max_seq_length")
    assert "raise ValueError" in info.value.hint and "not IndexError" in info.value.hint


def test_missing_name_is_not_a_wrong_exception() -> None:
    from proctor.asserts import assert_raises
    from proctor.sandbox.proxy import MissingName

    def call() -> None:
        raise MissingName({"type": "NameError", "message": "no KVCache"})

    with pytest.raises(MissingName):
        assert_raises(ValueError, call, what="x")


def test_messages_describe_proxies_not_their_internals() -> None:
    """A student method read as an attribute reaches the suite as a proxy; messages call it
    "a method", never "partial"."""
    from proctor.asserts import describe_value
    from proctor.sandbox.proxy import RemoteMethod

    method = RemoteMethod(lambda *a: None, "parameters")
    assert describe_value(method) == "a method"
    assert describe_value([1]) == "a list"
    failure = fail(method, np.zeros(3))
    assert "a method" in failure.summary and "partial" not in str(failure)
