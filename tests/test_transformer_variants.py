"""The transformer's known-wrong variants: without a bug each equals the reference, and every
bug shows on the inputs a suite would use, beyond the grading tolerance, and differently
from every other bug of the same part (so a hint names one misconception, not a guess)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

COURSE_ROOT = Path(__file__).resolve().parents[1]
if str(COURSE_ROOT) not in sys.path:
    sys.path.insert(0, str(COURSE_ROOT))

from reference import transformer as ref  # noqa: E402
from reference import transformer_variants as tv  # noqa: E402
from reference.attention import create_causal_mask  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5  # the contract's grading tolerance


def shows(wrong: np.ndarray, right: np.ndarray) -> bool:
    """True when ``wrong`` would fail the grading tolerance against ``right``."""
    wrong = np.asarray(wrong, dtype=float)
    if wrong.shape != right.shape:
        return True
    with np.errstate(invalid="ignore"):
        return not np.allclose(wrong, right, rtol=RTOL, atol=ATOL)


def randomized(obj, seed):
    rng = np.random.default_rng(seed)
    for p in obj.parameters:
        p[...] = rng.standard_normal(p.shape) * 0.5
    return obj


def check(variants: tv.Variants, right: np.ndarray, skip: frozenset[str] = frozenset()) -> None:
    outputs = {}
    for name, (make, hint) in variants.items():
        assert len(hint) > 20, name
        if name in skip:
            continue
        outputs[name] = np.asarray(make(), dtype=float)
        assert shows(outputs[name], right), f"variant {name} equals the reference here"
    names = list(outputs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert shows(outputs[a], outputs[b]), f"variants {a} and {b} coincide"


def test_layer_norm_variants():
    rng = np.random.default_rng(0)
    ln = randomized(ref.LayerNorm(6), 1)
    x = rng.standard_normal((3, 4, 6)) * 2 + 1
    right = ln(x)
    np.testing.assert_allclose(tv.layer_norm(x, ln.gamma, ln.beta), right, rtol=1e-12)
    # eps shows only where the variance is near eps: a suite needs such an input too
    check(tv.layer_norm_variants(x, ln.gamma, ln.beta), right,
          skip=frozenset({"no_eps", "eps_outside"}))
    tiny = x * 1e-3
    assert shows(tv.layer_norm(tiny, ln.gamma, ln.beta, bug="eps_outside"), ln(tiny))
    assert shows(tv.layer_norm(tiny, ln.gamma, ln.beta, bug="no_eps"), ln(tiny))


def test_gelu_and_ffn_variants():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 6)) * 2
    np.testing.assert_allclose(tv.gelu(x), ref.gelu(x), rtol=1e-12)
    check(tv.gelu_variants(x), ref.gelu(x))
    ffn = randomized(ref.FeedForward(6, 10), 3)
    np.testing.assert_allclose(tv.feed_forward(x, ffn), ffn(x), rtol=1e-12)
    check(tv.ffn_variants(x, ffn), ffn(x))


@pytest.mark.parametrize("causal", [False, True])
def test_block_variants(causal):
    rng = np.random.default_rng(4)
    block = randomized(ref.TransformerBlock(8, 2, 16), 5)
    x = rng.standard_normal((2, 5, 8))
    mask = create_causal_mask(5) if causal else None
    right = block(x, mask=mask)
    np.testing.assert_allclose(tv.block_forward(x, block, mask), right, rtol=1e-12)
    variants = tv.block_variants(x, block, mask)
    assert ("no_mask" in variants) == causal
    check(variants, right, skip=frozenset({"ln_no_eps", "ln_eps_outside"}))


def small_model(seed: int) -> ref.GPT:
    return randomized(ref.GPT(13, 8, 2, 2, 16, hidden_dim=16), seed)


def test_model_variants():
    model = small_model(6)
    ids = np.random.default_rng(6).integers(0, 13, size=(2, 7))
    right = model(ids)
    np.testing.assert_allclose(tv.model_forward(model, ids), right, rtol=1e-12)
    check(tv.model_variants(model, ids), right)


def test_generate_variants():
    model = small_model(7)
    prompt = np.array([3, 1, 4])
    tokens, logits = model.generate(prompt, 6, return_logits=True)
    ours = tv.generate(model, prompt, 6)
    np.testing.assert_array_equal(ours[0], tokens)
    np.testing.assert_allclose(ours[1], logits, rtol=1e-10, atol=1e-12)
    check(tv.generate_variants(model, prompt, 6), logits)
    for name, (make, _hint) in tv.generate_variants(model, prompt, 6, part="tokens").items():
        assert make().shape == tokens.shape, name


def test_cache_bugs_are_invisible_without_the_cache():
    """The generate-only bugs leave ``forward`` alone: a suite must test generate itself."""
    assert set(tv.GENERATE_HINTS) - set(tv.MODEL_HINTS) == {
        "shared_cache", "positions_restart", "no_cache", "prefill_last_only"}
