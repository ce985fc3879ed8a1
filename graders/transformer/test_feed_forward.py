"""Task feed_forward: ``gelu`` and ``FeedForward`` against the reference.

Weights are written into the student's own arrays (``ffn.assign``). gelu and FeedForward
are one task, so a FeedForward is judged with the student's own gelu inside it (a wrong
gelu costs this task's points once per test that shows it). The public tests are in ``public/test_feed_forward_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _inputs import FFN_AXES, FFN_NAMES, examples, ffn_weights, seeds, variants
from composition import check_parameters, ref_ffn
from proctor.testing import CheckFailure

pytestmark = [pytest.mark.task("feed_forward")]


def run(student: Any, check: Any, reference: Any, new_ffn: Any, x: np.ndarray,
        weights: dict[str, np.ndarray], *, what: str, call: str = "__call__") -> None:
    ffn = new_ffn(weights)
    out = ffn(x) if call == "__call__" else ffn.forward(x)
    ref = ref_ffn(reference, weights)
    check(out, ref(x), what=what, axes=FFN_AXES[-x.ndim:] if x.ndim <= 3 else None,
          variants=variants("ffn_variants", x, ref))


# ----------------------------------------------------------------------------- gelu


@pytest.mark.points(3)
def test_gelu_matches_reference(student: Any, check: Any, reference: Any, rng: Any) -> None:
    """gelu on a (3, 40) array of values in [-5, 5] is the exact GELU."""
    x = rng.uniform(-5.0, 5.0, size=(3, 40))
    check(student.gelu(x), reference.gelu(x), what="gelu(x) on values in [-5, 5]",
          variants=variants("gelu_variants", x), axes=("row", "column"))


def test_gelu_far_from_zero(student: Any, check: Any, reference: Any) -> None:
    """gelu of large values is x itself (positive) or 0 (negative), finite."""
    x = np.array([-40.0, -12.0, -8.0, 8.0, 12.0, 40.0])
    check(student.gelu(x), reference.gelu(x), what="gelu(x) for |x| from 8 to 40",
          variants=variants("gelu_variants", x), axes=("x",))


def test_gelu_keeps_the_shape(student: Any, check: Any, reference: Any, rng: Any) -> None:
    """gelu of a (2, 3, 4) array is elementwise, of the same shape."""
    x = 2.0 * rng.standard_normal((2, 3, 4))
    check(student.gelu(x), reference.gelu(x), what="gelu(x) on a (2, 3, 4) array",
          variants=variants("gelu_variants", x))


# ----------------------------------------------------------------------------- FeedForward


@pytest.mark.points(3)
def test_matches_reference(student: Any, check: Any, reference: Any, new_ffn: Any,
                           rng: Any) -> None:
    """FeedForward(8, 20) on a (2, 5, 8) input with given weights gives the expected output."""
    x = 2.0 * rng.standard_normal((2, 5, 8))
    run(student, check, reference, new_ffn, x, ffn_weights(rng, 8, 20),
        what="FeedForward(8, 20)(x) on a (2, 5, 8) input")


def test_two_dimensional_input(student: Any, check: Any, reference: Any, new_ffn: Any,
                               rng: Any) -> None:
    """A (positions, embed_dim) input works too: the same MLP on every row."""
    x = rng.standard_normal((6, 5))
    run(student, check, reference, new_ffn, x, ffn_weights(rng, 5, 7),
        what="FeedForward(5, 7)(x) on a (6, 5) input")


def test_narrow_hidden_layer(student: Any, check: Any, reference: Any, new_ffn: Any,
                             rng: Any) -> None:
    """hidden_dim smaller than embed_dim (FeedForward(6, 2)) is fine."""
    x = rng.standard_normal((1, 4, 6))
    run(student, check, reference, new_ffn, x, ffn_weights(rng, 6, 2),
        what="FeedForward(6, 2)(x)")


def test_forward_is_call(student: Any, check: Any, reference: Any, new_ffn: Any,
                         rng: Any) -> None:
    """ffn.forward(x) gives what ffn(x) gives."""
    x = rng.standard_normal((2, 3, 4))
    run(student, check, reference, new_ffn, x, ffn_weights(rng, 4, 8), call="forward",
        what="FeedForward(4, 8).forward(x)")


@pytest.mark.requires("test_matches_reference")
def test_parameters_are_the_weights(check: Any, new_ffn: Any, rng: Any) -> None:
    """``parameters == [w1, b1, w2, b2]``: the very arrays, so writes show through, and a call leaves them so."""
    weights = ffn_weights(rng, 4, 6)
    ffn = new_ffn(weights)
    ffn(rng.standard_normal((2, 3, 4)))
    check_parameters(check, ffn.parameters, [(name, weights[name]) for name in FFN_NAMES],
                     owner="FeedForward", layout="[w1, b1, w2, b2]",
                     fix="Set self.parameters = [self.w1, self.b1, self.w2, self.b2] in __init__.")


def test_reads_weights_on_every_call(student: Any, check: Any, reference: Any, new_ffn: Any,
                                     rng: Any) -> None:
    """Weights written after a first call are used by the next one (no stale copies)."""
    x = rng.standard_normal((2, 3, 4))
    ffn = new_ffn(ffn_weights(rng, 4, 6))
    ffn(x)
    weights = ffn_weights(rng, 4, 6)
    for name in FFN_NAMES:
        ffn.assign(name, weights[name])
    ref = ref_ffn(reference, weights)
    check(ffn(x), ref(x), axes=FFN_AXES,
          what="FeedForward(4, 6)(x) after new values were written into w1, b1, w2, b2",
          variants=variants("ffn_variants", x, ref))


@pytest.mark.requires("test_matches_reference", "test_gelu_matches_reference")
def test_leaves_inputs_alone(student: Any, new_ffn: Any, rng: Any) -> None:
    """gelu and FeedForward leave their inputs unchanged."""
    x = rng.standard_normal((2, 3, 4))
    for what, (_, modified) in (
            ("gelu", student.call_checking_inputs("gelu", x)),
            ("FeedForward", new_ffn(ffn_weights(rng, 4, 6)).call_checking_inputs(None, x))):
        if modified:
            raise CheckFailure(f"{what} changed its input x in place.",
                               {"checked": f"{what} leaves x alone", "modified": modified},
                               "Work on new arrays: x = f(x) makes one, x *= ... writes into "
                               "the caller's data.")


# ----------------------------------------------------------------------------- property


def ffn_case(batch: int, seq: int, embed: int, hidden: int, scale: float, seed: int
             ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((batch, seq, embed)), ffn_weights(rng, embed, hidden)


@st.composite
def ffn_cases(draw: st.DrawFn) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return ffn_case(draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 6)),
                    draw(st.integers(1, 12)), draw(st.sampled_from((1.0, 3.0))), draw(seeds))


@examples(2)
@example(case=ffn_case(2, 3, 4, 9, 3.0, 1))
@given(case=ffn_cases())
def test_random_shapes(student: Any, check: Any, reference: Any, new_ffn: Any,
                       case: Any) -> None:
    """Random sizes and weights give the expected output."""
    x, weights = case
    run(student, check, reference, new_ffn, x, weights, what="FeedForward(x) on random sizes")
