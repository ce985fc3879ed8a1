"""Grader suite of the engine's test course: three tasks, public and hidden tests."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from proctor.asserts import assert_close


@pytest.mark.task("add")
@pytest.mark.visibility("public")
def test_add_matches(student, reference, tol, rng):
    """add matches the reference"""
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert_close(student.add(a, b), reference.add(a, b), tol=tol, what="add(a, b)")


@pytest.mark.task("add")
@pytest.mark.visibility("public")
@given(st.integers(-5, 5), st.integers(-5, 5))
def test_add_commutes(student, a, b):
    """add is commutative and exact on integers"""
    assert student.add(a, b) == a + b, f"add({a}, {b}) should be {a + b}"


@pytest.mark.task("scale")
@pytest.mark.points(3)
def test_scale_matches(student, reference, tol, rng):
    x = rng.normal(size=(5,))
    assert_close(student.scale(x, 2.5), reference.scale(x, 2.5), tol=tol, what="scale(x, 2.5)")


@pytest.mark.task("scale")
def test_scale_zero(student, tol):
    assert_close(student.scale(np.ones(3), 0.0), np.zeros(3), tol=tol, what="scale(x, 0)")


@pytest.mark.task("counter")
def test_counter_steps(student):
    c = student.Counter(2)
    assert c.step(3) == 5
    assert c.count == 5


@pytest.mark.task("counter")
def test_counter_history_in_place(student):
    c = student.Counter()
    c.assign("history", np.arange(4.0))
    assert np.array_equal(c.history, np.arange(4.0))
