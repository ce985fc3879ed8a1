"""Hidden tests of the engine's test course (the public ones are in public/)."""
import numpy as np
import pytest

from proctor.testing import assert_close


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
