"""Task layer_norm: ``LayerNorm`` against the reference.

gamma and beta are written into the student's own arrays (``ln.assign``), so every
comparison is on known parameters. Inputs include rows whose variance is near or below eps
(where eps's place in the formula shows; kept near 0 so float32 work still passes) and
constant rows. The public tests are in ``public/test_layer_norm_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _inputs import LN_AXES, LN_NAMES, examples, ln_weights, seeds, variants
from composition import check_parameters, ref_ln
from proctor.testing import CheckFailure

pytestmark = [pytest.mark.task("layer_norm")]


def run(check: Any, reference: Any, new_ln: Any, x: np.ndarray, weights: dict[str, np.ndarray],
        *, what: str, eps: float | None = None, call: str = "__call__") -> None:
    """Compare the student's LayerNorm with the reference on the same gamma and beta."""
    dim = x.shape[-1]
    ln = new_ln(dim, weights, eps)
    out = ln(x) if call == "__call__" else ln.forward(x)
    expected = ref_ln(reference, dim, weights, eps)(x)
    check(out, expected, what=what, axes=LN_AXES[-x.ndim:] if x.ndim <= 3 else None,
          variants=variants("layer_norm_variants", x, weights["gamma"], weights["beta"],
                            1e-5 if eps is None else eps))


def mixed_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal rows of assorted offsets and spreads; every third row tiny (variance ~1e-6,
    below eps)."""
    x = rng.standard_normal(shape) * rng.choice([0.5, 1.0, 3.0], size=shape[:-1] + (1,))
    x = x + rng.choice([-2.0, 0.0, 4.0], size=shape[:-1] + (1,))
    flat = x.reshape(-1, shape[-1])
    flat[::3] = 1e-3 * rng.standard_normal(flat[::3].shape)
    return flat.reshape(shape)


@pytest.mark.points(3)
def test_matches_reference(check: Any, reference: Any, new_ln: Any, rng: Any) -> None:
    """LayerNorm(10) on a (3, 4, 10) input with given gamma and beta gives the expected output."""
    x = mixed_rows(rng, (3, 4, 10))
    run(check, reference, new_ln, x, ln_weights(rng, 10),
        what="LayerNorm(10)(x) on a (3, 4, 10) input")


@pytest.mark.points(2)
def test_tiny_variance_rows(check: Any, reference: Any, new_ln: Any, rng: Any) -> None:
    """Rows whose variance is below eps: eps goes inside the square root."""
    x = 1e-3 * rng.standard_normal((2, 5, 8))
    run(check, reference, new_ln, x, ln_weights(rng, 8),
        what="LayerNorm(8)(x) on rows whose variance (about 1e-6) is below eps")


@pytest.mark.points(2)
def test_small_dim(check: Any, reference: Any, new_ln: Any, rng: Any) -> None:
    """With dim 3, dividing the variance by dim or by dim - 1 differs by half."""
    x = 2.0 * rng.standard_normal((2, 4, 3))
    run(check, reference, new_ln, x, ln_weights(rng, 3), what="LayerNorm(3)(x)")


def test_custom_eps(check: Any, reference: Any, new_ln: Any, rng: Any) -> None:
    """LayerNorm(6, eps=0.1) uses that eps."""
    x = 0.3 * rng.standard_normal((2, 3, 6))
    run(check, reference, new_ln, x, ln_weights(rng, 6), eps=0.1,
        what="LayerNorm(6, eps=0.1)(x) on rows of variance about 0.1")


@pytest.mark.parametrize("shape", [(7, 5), (2, 2, 3, 6), (6,)])
def test_any_leading_axes(check: Any, reference: Any, new_ln: Any, rng: Any,
                          shape: tuple[int, ...]) -> None:
    """An input of shape {shape} is normalised over its last axis."""
    x = mixed_rows(rng, shape)
    run(check, reference, new_ln, x, ln_weights(rng, shape[-1]),
        what=f"LayerNorm({shape[-1]})(x) on an input of shape {shape}")


@pytest.mark.points(2)
def test_constant_rows_give_beta(check: Any, reference: Any, new_ln: Any, rng: Any) -> None:
    """Constant feature vectors (variance 0) give beta, finite, among ordinary rows."""
    x = rng.standard_normal((2, 4, 6))
    x[0, 1] = 0.0
    x[1, 2] = 7.0
    x[1, 3] = -0.5
    run(check, reference, new_ln, x, ln_weights(rng, 6),
        what="LayerNorm(6)(x) where some feature vectors are constant")


def test_forward_is_call(check: Any, reference: Any, new_ln: Any, rng: Any) -> None:
    """ln.forward(x) gives what ln(x) gives."""
    x = mixed_rows(rng, (2, 3, 5))
    run(check, reference, new_ln, x, ln_weights(rng, 5), call="forward",
        what="LayerNorm(5).forward(x)")


def test_parameters_are_gamma_and_beta(check: Any, new_ln: Any, rng: Any) -> None:
    """``parameters == [gamma, beta]``: the very arrays, so writes show through."""
    weights = ln_weights(rng, 5)
    check_parameters(check, new_ln(5, weights).parameters,
                     [(name, weights[name]) for name in LN_NAMES], owner="LayerNorm",
                     layout="[gamma, beta]",
                     fix="Set self.parameters = [self.gamma, self.beta] in __init__, after "
                         "creating them.")


def test_reads_parameters_on_every_call(check: Any, reference: Any, new_ln: Any,
                                        rng: Any) -> None:
    """gamma and beta written after a first call are used by the next one (no stale copies)."""
    x = mixed_rows(rng, (2, 3, 6))
    ln = new_ln(6, ln_weights(rng, 6))
    ln(x)
    weights = ln_weights(rng, 6)
    for name in LN_NAMES:
        ln.assign(name, weights[name])
    check(ln(x), ref_ln(reference, 6, weights)(x), axes=LN_AXES,
          what="LayerNorm(6)(x) after new values were written into gamma and beta",
          variants=variants("layer_norm_variants", x, weights["gamma"], weights["beta"]))


@pytest.mark.requires("test_matches_reference")
def test_leaves_input_alone(check: Any, new_ln: Any, rng: Any) -> None:
    """LayerNorm leaves its input and its parameters unchanged."""
    x = mixed_rows(rng, (2, 3, 6))
    weights = ln_weights(rng, 6)
    ln = new_ln(6, weights)
    _, modified = ln.call_checking_inputs(None, x)
    if modified:
        raise CheckFailure(f"LayerNorm changed its input x in place ({', '.join(modified)}).",
                           {"checked": "LayerNorm leaves x alone", "modified": modified},
                           "Work on new arrays: x = x - mean makes one, x -= mean writes "
                           "into the caller's data.")
    for name in LN_NAMES:
        check(getattr(ln, name), weights[name],
              what=f"LayerNorm's {name} after a call (normalising must not change it)")


# ----------------------------------------------------------------------------- property


def ln_case(batch: int, seq: int, dim: int, kind: str, seed: int) -> tuple[np.ndarray, Any]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, seq, dim))
    if kind == "tiny":
        x = 1e-3 * x
    elif kind == "spread":
        x = 4.0 * x + 3.0
    elif kind == "constant rows":
        x[:, ::2] = rng.standard_normal((batch, 1, 1))
    return x, ln_weights(rng, dim)


@st.composite
def ln_cases(draw: st.DrawFn) -> tuple[np.ndarray, Any]:
    return ln_case(draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 9)),
                   draw(st.sampled_from(("normal", "tiny", "spread", "constant rows"))),
                   draw(seeds))


@examples(3)
@example(case=ln_case(2, 3, 4, "tiny", 1))
@example(case=ln_case(1, 4, 2, "constant rows", 2))
@given(case=ln_cases())
def test_random_shapes(check: Any, reference: Any, new_ln: Any, case: Any) -> None:
    """Random shapes and values, tiny and constant rows among them, give the expected output."""
    x, weights = case
    run(check, reference, new_ln, x, weights, what="LayerNorm(dim)(x) on random inputs")
