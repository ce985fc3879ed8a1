"""Golden cases of the public attention tests (hidden; run by ``proctor release``).

Students' local checks have no reference and no ``reference.attention_variants``, yet a
public test must give the same verdict and the same hint there as in the official grade.
So each case here returns what its public test needs, computed once at release time:

* ``inputs``: the inputs the public test feeds the student's code;
* ``expected``: the right answer, from the reference, asserted equal to the values written
  out below (a reference change that moves them fails the release, not a student);
* ``variants``: for each compared value, ``{name: (array, hint)}``: the known-wrong
  variants evaluated on those inputs (a variant that cannot run on them is left out), in
  the builders' order, which breaks ties between variants that agree.

``proctor release`` writes each case to ``checks/golden/<name>.json`` for ``proctor check``;
the official grade computes them from this file. Either way the engine puts this directory
on the import path first, so the suite's helpers import by name, as in its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from _decoding import Scenario, scenario
from _inputs import WEIGHT_NAMES, new_entries, update

from proctor.testing import evaluated


def agree(computed: Any, written: Any, what: str) -> np.ndarray:
    """The reference's value, after checking it against the value written out here."""
    computed = np.asarray(computed, dtype=np.float64)
    np.testing.assert_allclose(computed, written, rtol=0, atol=1e-8, err_msg=what)
    return computed


def reference_mha(reference: Any, weights: Mapping[str, np.ndarray], num_heads: int) -> Any:
    mha = reference.MultiHeadAttention(weights["w_q"].shape[0], num_heads)
    for name in WEIGHT_NAMES:
        getattr(mha, name)[...] = weights[name]
    return mha


# ----------------------------------------------------------------------------- causal_mask


def case_mask_small(reference: Any) -> dict[str, Any]:
    import reference.attention_variants as V

    written = [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    return {"inputs": {"seq_len": 4},
            "expected": {"mask": agree(reference.create_causal_mask(4), written, "mask")},
            "variants": {"mask": evaluated(V.causal_mask_variants(4))}}


# ----------------------------------------------------------------------------- scaled_dot_product

SDPA_Q = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
SDPA_K = np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]])
SDPA_V = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
SDPA_WRITTEN = {
    None: {"output": [[[2.12810780, 3.12810780], [3.19051964, 4.19051964],
                       [2.44270287, 3.44270287]]],
           "weights": [[[0.57597535, 0.28399541, 0.14002925],
                        [0.22460634, 0.45552749, 0.31986617],
                        [0.42621619, 0.42621619, 0.14756762]]]},
    "causal": {"output": [[[1.0, 2.0], [2.33952310, 3.33952310], [2.44270287, 3.44270287]]],
               "weights": [[[1.0, 0.0, 0.0], [0.33023845, 0.66976155, 0.0],
                            [0.42621619, 0.42621619, 0.14756762]]]},
}


def sdpa_case(reference: Any, mask: np.ndarray | None, written: Mapping[str, Any]) -> dict[str, Any]:
    """The small (1, 3, 2) example, with or without ``mask``."""
    import reference.attention_variants as V

    out, w = reference.ScaledDotProductAttention(dropout=0.0).forward(
        SDPA_Q, SDPA_K, SDPA_V, mask=mask, return_attention_weights=True)
    inputs = {"query": SDPA_Q, "key": SDPA_K, "value": SDPA_V}
    if mask is not None:
        inputs["mask"] = mask
    return {"inputs": inputs,
            "expected": {"output": agree(out, written["output"], "output"),
                         "weights": agree(w, written["weights"], "weights")},
            "variants": {part: evaluated(V.sdpa_variants(SDPA_Q, SDPA_K, SDPA_V, mask, part=part))
                         for part in ("output", "weights")}}


def case_sdpa_small(reference: Any) -> dict[str, Any]:
    return sdpa_case(reference, None, SDPA_WRITTEN[None])


def case_sdpa_small_causal(reference: Any) -> dict[str, Any]:
    return sdpa_case(reference, np.tril(np.ones((3, 3))), SDPA_WRITTEN["causal"])


# ----------------------------------------------------------------------------- multi_head

MHA_WRITTEN = {
    "output": [[[-0.07508340, -0.32629828, 0.50164898, -0.32950103, -0.07089649, 0.42218310],
                [-0.11535408, -0.02268462, 0.14500939, -0.16688431, 0.07315634, 0.07124797],
                [-0.29596710, 0.23934189, -0.01692150, -0.21722063, 0.30089126, -0.17613067]]],
    "weights": [[[[1.0, 0.0, 0.0], [0.40878920, 0.59121080, 0.0],
                  [0.29507372, 0.60605609, 0.09887019]],
                 [[1.0, 0.0, 0.0], [0.71921213, 0.28078787, 0.0],
                  [0.27095385, 0.08422261, 0.64482354]]]],
}


def case_mha_small(reference: Any) -> dict[str, Any]:
    """2-head self-attention of a (1, 3, 6) input with a causal mask and fixed weights.

    embed_dim 6 and head_dim 3, so sqrt(embed_dim), head_dim and sqrt(head_dim) all differ:
    dividing by any wrong one of them matches its own variant (with embed_dim 4, head_dim
    2 = sqrt(4) made "divides by d_k" read as "used sqrt(embed_dim)")."""
    import reference.attention_variants as V

    x = np.array([[[1.0, 0.0, -1.0, 0.5, 0.0, 0.25], [0.0, 1.0, 0.5, -0.5, 1.0, 0.0],
                   [1.0, 1.0, 0.0, 0.0, -0.5, 0.5]]])
    weights = {name: np.sin(np.arange(36.0).reshape(6, 6) * (i + 1) + i)
               for i, name in enumerate(WEIGHT_NAMES)}
    mask = np.tril(np.ones((3, 3)))
    out, w = reference_mha(reference, weights, 2).forward(x, x, x, mask=mask,
                                                           return_attention_weights=True)
    return {"inputs": {"x": x, "weights": weights, "num_heads": 2, "mask": mask},
            "expected": {part: agree(value, MHA_WRITTEN[part], part)
                         for part, value in (("output", out), ("weights", w))},
            "variants": {part: evaluated(V.mha_variants(x, x, x, weights, 2, mask, part=part))
                         for part in ("output", "weights")}}


# ----------------------------------------------------------------------------- kv_cache


def case_kv_append(reference: Any) -> dict[str, Any]:
    """Two updates of 3 and 1 positions into slot 0 of a (1, 8, 2, 3) cache."""
    import reference.attention_variants as V

    shape = (1, 8, 2, 3)
    rng = np.random.default_rng(20261122)
    (k1, v1), (k2, v2) = new_entries(rng, 2, 3, 3), new_entries(rng, 2, 1, 3)
    first, both = [update(0, k1, v1)], [update(0, k1, v1), update(0, k2, v2)]
    ref = reference.KVCache(*shape)
    got_first, got_both = ref.update(0, k1, v1), ref.update(0, k2, v2)
    expected = {"first_keys": agree(got_first[0], k1, "first keys"),
                "first_values": agree(got_first[1], v1, "first values"),
                "cache_lengths": agree(ref.cache_lengths, [4], "cache_lengths"),
                "keys": agree(got_both[0], np.concatenate([k1, k2], axis=1), "keys"),
                "values": agree(got_both[1], np.concatenate([v1, v2], axis=1), "values")}

    def last(index: int) -> Callable[[list[Any]], np.ndarray]:
        return lambda results: results[-1][index]

    return {"inputs": {"shape": shape, "k1": k1, "v1": v1, "k2": k2, "v2": v2},
            "expected": expected,
            "variants": {"first_keys": evaluated(V.kv_variants(shape, first, pick=last(0))),
                         "first_values": evaluated(V.kv_variants(shape, first, pick=last(1))),
                         "cache_lengths": evaluated(V.kv_variants(shape, both, lengths=True)),
                         "keys": evaluated(V.kv_variants(shape, both, pick=last(0))),
                         "values": evaluated(V.kv_variants(shape, both, pick=last(1)))}}


# ----------------------------------------------------------------------------- cached_attention


def case_decode_small(reference: Any) -> dict[str, Any]:
    """Prefill 3 tokens, then decode 2 one at a time (embed_dim 8, 2 heads)."""
    import reference.attention_variants as V

    sc: Scenario = scenario(np.random.default_rng(20261123), [(0, 3), (0, 1), (0, 1)],
                            embed_dim=8, num_heads=2)
    x = sc.xs[0]
    full = reference_mha(reference, sc.weights, sc.num_heads).forward(
        x[None], x[None], x[None], mask=reference.create_causal_mask(len(x)))
    rows = np.asarray(full, dtype=np.float64)[0]
    decoded = V.decode(sc.weights, sc.num_heads, x, sc.chunks(0))
    return {"inputs": {"weights": sc.weights, "num_heads": sc.num_heads, "x": x,
                       "events": sc.events},
            "expected": {"output": agree(rows, decoded, "decoded rows")},
            "variants": {"output": evaluated(V.decode_variants(sc.weights, sc.num_heads, x,
                                                               sc.chunks(0)))}}
