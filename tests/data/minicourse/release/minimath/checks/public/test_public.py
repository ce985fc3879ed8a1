"""Public tests of the engine's test course: students run these locally too."""
import pytest
from hypothesis import given, strategies as st

from proctor.testing import assert_close

pytestmark = [pytest.mark.visibility("public")]


@pytest.mark.task("add")
def test_add_matches(student, golden, tol):
    """add matches the golden case"""
    case = golden("add")
    assert_close(student.add(case["a"], case["b"]), case["expected"], tol=tol, what="add(a, b)")


@pytest.mark.task("add")
@given(st.integers(-5, 5), st.integers(-5, 5))
def test_add_commutes(student, a, b):
    """add is commutative and exact on integers"""
    assert student.add(a, b) == a + b, f"add({a}, {b}) should be {a + b}"


@pytest.mark.task("scale")
def test_scale_by_one(student, tol):
    """scale by 1 changes nothing"""
    x = [1.0, -2.0, 3.5]
    assert_close(student.scale(x, 1.0), x, tol=tol, what="scale(x, 1)")
