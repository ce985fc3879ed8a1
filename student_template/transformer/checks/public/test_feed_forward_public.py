"""Public checks of task feed_forward: students run these locally (``proctor check``).

Expected values and the known-wrong variants behind the hints come from the golden cases
``gelu_grid`` and ``ffn_small`` (made from the reference at release time). The property
check compares the student's FeedForward with itself: positions never mix.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from _inputs import FFN_AXES, FFN_NAMES, Case, ffn_weights, seeds, to_float
from proctor.testing import assert_close, profile

pytestmark = [pytest.mark.task("feed_forward"), pytest.mark.visibility("public")]

EXAMPLES = settings(profile("public"))


@pytest.mark.points(3)
def test_gelu_on_a_grid(student: Any, check: Any, golden: Any) -> None:
    """gelu on -3, -2.75, ..., 3 is the exact GELU, 0.5 x (1 + erf(x / sqrt(2)))."""
    case = golden("gelu_grid")
    check(student.gelu(case["inputs"]["x"]), case["expected"]["output"],
          what="gelu(x) for x = -3, -2.75, ..., 3", variants=case["variants"]["output"],
          axes=("x",))


@pytest.mark.requires("test_small_fixed_case")
def test_attributes(student: Any) -> None:
    """FeedForward(4, 6) has w1 (4, 6), b1 (6,), w2 (6, 4), b2 (4,), parameters in that order, and keeps a (1, 3, 4) input's shape."""
    ffn = student.FeedForward(4, 6)
    out = np.shape(to_float(ffn(np.ones((1, 3, 4)))))
    assert out == (1, 3, 4), f"FeedForward(4, 6) of a (1, 3, 4) input should be (1, 3, 4); got {out}"
    shapes = {"w1": (4, 6), "b1": (6,), "w2": (6, 4), "b2": (4,)}
    for name, shape in shapes.items():
        got = np.shape(to_float(getattr(ffn, name)))
        assert got == shape, f"FeedForward(4, 6).{name} should have shape {shape}; got {got}"
    params = ffn.parameters
    assert isinstance(params, (list, tuple)) and len(params) == 4, (
        "FeedForward.parameters should be the list attribute [w1, b1, w2, b2]")
    for name, p in zip(FFN_NAMES, params):
        assert np.shape(to_float(p)) == shapes[name], (
            f"FeedForward(4, 6).parameters[{FFN_NAMES.index(name)}] should be {name}, shape "
            f"{shapes[name]}; got shape {np.shape(to_float(p))}")


@pytest.mark.points(3)
def test_small_fixed_case(student: Any, check: Any, golden: Any, new_ffn: Any) -> None:
    """FeedForward(4, 6) with given weights gives gelu(x @ w1 + b1) @ w2 + b2."""
    case = golden("ffn_small")
    x, weights = case["inputs"]["x"], case["inputs"]["weights"]
    check(new_ffn(weights)(x), case["expected"]["output"],
          what="FeedForward(4, 6)(x) on a (2, 3, 4) input with given weights",
          variants=case["variants"]["output"], axes=FFN_AXES)


@st.composite
def ffn_inputs(draw: st.DrawFn) -> Case:
    batch, seq = draw(st.integers(1, 2)), draw(st.integers(2, 4))
    embed, hidden = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(seeds))
    return Case(x=rng.standard_normal((batch, seq, embed)),
                weights=ffn_weights(rng, embed, hidden), position=draw(st.integers(0, seq - 1)))


@pytest.mark.requires("test_small_fixed_case")
@EXAMPLES
@example(case=Case(x=np.array([[[1.0, -1.0], [0.5, 2.0]]]),
                   weights={"w1": np.eye(2), "b1": np.ones(2), "w2": np.eye(2), "b2": np.zeros(2)},
                   position=1))
@given(case=ffn_inputs())
def test_positions_never_mix(student: Any, tol: Any, new_ffn: Any, case: Case) -> None:
    """The same MLP at every position: one position alone gives the row it gives in a sequence."""
    x, p = case["x"], case["position"]
    ffn = new_ffn(case["weights"])
    whole = to_float(ffn(x))
    alone = to_float(ffn(x[:, p:p + 1]))
    if whole.shape != x.shape:
        raise AssertionError(f"FeedForward on an input of shape {x.shape} should return that "
                             f"shape; got {whole.shape}")
    assert_close(alone, whole[:, p:p + 1], tol=tol, axes=FFN_AXES,
                 what=f"FeedForward on position {p} alone against its row in the whole sequence",
                 hint="The feed-forward network acts on each position's vector separately: "
                      "x @ w1 works on the last axis only.")
