"""Golden cases of the public transformer tests (hidden; run by ``proctor release``).

Students' local checks have no reference and no ``reference.transformer_variants``, yet a
public test must give the same verdict and the same hint there as in the official grade.
So each case here returns what its public test needs, computed once at release time:

* ``inputs``: the inputs (and weights) the public test feeds the student's code;
* ``expected``: the right answer, from the reference, part of it checked against values
  written out below (a reference change that moves them fails the release, not a student);
* ``variants``: for each compared value, ``{name: (array, hint)}``: the known-wrong
  variants evaluated on those inputs (a variant that cannot run on them is left out), in
  the builders' order, which breaks ties between variants that agree.

``proctor release`` writes each case to ``checks/golden/<name>.json``; the official grade
and ``proctor check`` both read those files.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _inputs import Config, block_weights, ffn_weights, gpt_weights
from composition import causal, greedy_margin, ref_block, ref_ffn, ref_gpt, ref_ln

from proctor.testing import evaluated


def agree(computed: Any, written: Any, what: str) -> np.ndarray:
    """The reference's value, after checking it against the value written out here."""
    computed = np.asarray(computed, dtype=np.float64)
    np.testing.assert_allclose(computed, written, rtol=0, atol=1e-7, err_msg=what)
    return computed


# ----------------------------------------------------------------------------- layer_norm

LN_X = np.array([[[1.0, 2.0, 4.0, -1.0, 0.5, 3.0],
                  [0.5, -0.5, 0.25, 0.0, 1.0, -1.0],
                  [1e-3, -5e-4, 0.0, 2e-3, -1e-3, 5e-4]],  # variance ~1e-6, below eps
                 [[-2.0, 0.0, 2.0, 4.0, 6.0, 8.0],
                  [0.0, 2e-3, 0.0, -2e-3, 2e-3, 2e-3],  # variance ~2.2e-6
                  [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]]])
LN_WEIGHTS = {"gamma": np.array([1.0, 0.5, 2.0, -1.0, 1.5, 0.75]),
              "beta": np.array([0.0, 0.25, -0.5, 1.0, 0.0, -0.25])}
LN_WRITTEN_ROW0 = [-0.35491343, 0.37675480, 2.44071129, 2.57175948, -0.98868742, 0.39644946]


def case_ln_small(reference: Any) -> dict[str, Any]:
    """LayerNorm(6) with given gamma and beta on a (2, 3, 6) input: spread-out rows and two
    whose variance is near or below eps (where eps's place shows)."""
    import reference.transformer_variants as V

    out = ref_ln(reference, 6, LN_WEIGHTS)(LN_X)
    agree(out[0, 0], LN_WRITTEN_ROW0, "row 0")
    return {"inputs": {"x": LN_X, "weights": LN_WEIGHTS},
            "expected": {"output": out},
            "variants": {"output": evaluated(V.layer_norm_variants(LN_X, LN_WEIGHTS["gamma"],
                                                                   LN_WEIGHTS["beta"]))}}


# ----------------------------------------------------------------------------- feed_forward

GELU_X = np.arange(-3.0, 3.25, 0.25)
GELU_WRITTEN = {-1.0: -0.15865525393145707, 0.0: 0.0, 1.0: 0.8413447460685429,
                2.0: 1.9544997361036416}


def case_gelu_grid(reference: Any) -> dict[str, Any]:
    """gelu on -3, -2.75, ..., 3: where the tanh approximation is off by up to 4.7e-4."""
    import reference.transformer_variants as V

    out = reference.gelu(GELU_X)
    for x, y in GELU_WRITTEN.items():
        agree(out[np.flatnonzero(GELU_X == x)[0]], y, f"gelu({x})")
    return {"inputs": {"x": GELU_X}, "expected": {"output": out},
            "variants": {"output": evaluated(V.gelu_variants(GELU_X))}}


def case_ffn_small(reference: Any) -> dict[str, Any]:
    """FeedForward(4, 6) on a (2, 3, 4) input, fixed weights."""
    import reference.transformer_variants as V

    rng = np.random.default_rng(20261129)
    weights = ffn_weights(rng, 4, 6)
    x = 2.0 * rng.standard_normal((2, 3, 4))
    ffn = ref_ffn(reference, weights)
    return {"inputs": {"x": x, "weights": weights},
            "expected": {"output": ffn(x)},
            "variants": {"output": evaluated(V.ffn_variants(x, ffn))}}


# ----------------------------------------------------------------------------- block


def _block_case(seed: int) -> tuple[dict[str, Any], np.ndarray]:
    rng = np.random.default_rng(seed)
    return block_weights(rng, 8, 16), rng.standard_normal((1, 5, 8))


def case_block_small(reference: Any) -> dict[str, Any]:
    """TransformerBlock(8, 2, 16) on a (1, 5, 8) input with a causal mask, and without one."""
    import reference.transformer_variants as V

    weights, x = _block_case(20261130)
    block = ref_block(reference, 2, weights)
    mask = causal(5)
    return {"inputs": {"x": x, "weights": weights, "num_heads": 2, "mask": mask},
            "expected": {"masked": block(x, mask=mask), "unmasked": block(x)},
            "variants": {"masked": evaluated(V.block_variants(x, block, mask)),
                         "unmasked": evaluated(V.block_variants(x, block))}}


def case_block_cached_small(reference: Any) -> dict[str, Any]:
    """forward_cached: a 3-token prompt, then two single tokens, against forward with a causal mask."""
    weights, x = _block_case(20261201)
    block = ref_block(reference, 2, weights)
    full = block(x, mask=causal(5))[0]
    cache = reference.KVCache(1, 8, 2, 4)
    steps = [block.forward_cached(x[0, a:b], cache) for a, b in ((0, 3), (3, 4), (4, 5))]
    return {"inputs": {"x": x[0], "weights": weights, "num_heads": 2, "chunks": [3, 1, 1],
                       "max_len": 8},
            "expected": {"rows": agree(np.concatenate(steps), full, "cached rows")}}


# ----------------------------------------------------------------------------- model

MODEL = Config(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=12,
               hidden_dim=16)


def case_model_small(reference: Any) -> dict[str, Any]:
    """GPT(11, 8, 2 layers, 2 heads, max_seq_len 12, hidden 16) on a (2, 5) batch of ids."""
    import reference.transformer_variants as V

    rng = np.random.default_rng(20261202)
    weights = gpt_weights(rng, MODEL)
    ids = rng.integers(0, MODEL.vocab_size, size=(2, 5)).astype(np.int64)
    model = ref_gpt(reference, MODEL, weights)
    return {"inputs": {"tokens": ids, "weights": weights, "config": list(MODEL.args)},
            "expected": {"logits": model(ids)},
            "variants": {"logits": evaluated(V.model_variants(model, ids))}}


# ----------------------------------------------------------------------------- generate


def case_generate_small(reference: Any) -> dict[str, Any]:
    """Greedy decoding of 5 tokens after a 3-token prompt, with the same model sizes.

    num_layers x (prompt_len + max_new_tokens - 1) = 14 <= max_seq_len = 16, so one cache
    shared by both blocks still fits, and its wrong values (and hint) show."""
    import reference.transformer_variants as V

    cfg = Config(11, 8, 2, 2, 16, 16)
    rng = np.random.default_rng(20261203)
    weights = gpt_weights(rng, cfg)
    prompt = np.array([3, 1, 4], dtype=np.int64)
    model = ref_gpt(reference, cfg, weights)
    ids, logits = model.generate(prompt, 5, return_logits=True)
    assert greedy_margin(logits) > 1e-3, "pick another seed: a near tie between logits"
    return {"inputs": {"prompt": prompt, "max_new_tokens": 5, "weights": weights,
                       "config": list(cfg.args)},
            "expected": {"tokens": ids, "logits": logits},
            "variants": {part: evaluated(V.generate_variants(model, prompt, 5, part=part))
                         for part in ("tokens", "logits")}}
