"""Prove ``reference.attention`` against PyTorch (CPU, float64).

The graders trust the reference completely, so every behaviour the contract specifies is
checked here against an independent implementation: ``F.scaled_dot_product_attention`` for
scaled dot-product attention and ``nn.MultiheadAttention`` for multi-head attention, with
the reference's weights copied into torch. Cached decoding is checked against torch's full
causal multi-head attention. Skips cleanly when torch is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

COURSE_ROOT = Path(__file__).resolve().parents[1]
if str(COURSE_ROOT) not in sys.path:  # `reference` lives at the course root
    sys.path.insert(0, str(COURSE_ROOT))

from reference.attention import (  # noqa: E402
    KVCache,
    MultiHeadAttention,
    ScaledDotProductAttention,
    cached_self_attention,
    create_causal_mask,
)

# Both sides compute in float64, so agreement is limited only by summation order.
RTOL, ATOL = 1e-10, 1e-12


def assert_matches(actual: np.ndarray, expected: torch.Tensor | np.ndarray) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == np.float64
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def t(x: np.ndarray) -> torch.Tensor:
    """A torch copy, so nothing torch does can touch the reference's inputs."""
    return torch.from_numpy(np.array(x))


def random_mask(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random bool mask (True = attend) in which every query may see at least one key.

    Fully blocked rows have no agreed answer (see test_fully_blocked_rows_stay_finite).
    """
    mask = rng.random(shape) < 0.6
    mask[..., rng.integers(shape[-1])] = True
    return mask


def as_dtype(mask: np.ndarray, dtype: str) -> np.ndarray:
    """The same 0/1 mask as bool, int or float; the reference must accept all three."""
    return mask.astype({"bool": bool, "int": np.int64, "float": np.float64}[dtype])


class TensorLike:
    """Stands in for TinyTorch's Tensor: an object whose ``.data`` is an ndarray."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


# ============================================================================ causal mask


@pytest.mark.parametrize("seq_len", [1, 2, 5, 9])
def test_causal_mask_matches_torch_tril(seq_len):
    mask = create_causal_mask(seq_len)
    expected = torch.ones(seq_len, seq_len, dtype=torch.bool).tril().numpy()
    assert mask.shape == (seq_len, seq_len)
    np.testing.assert_array_equal(mask != 0, expected)


@pytest.mark.parametrize("seq_len", [1, 4, 7])
def test_causal_mask_gives_torch_is_causal_attention(seq_len):
    rng = np.random.default_rng(seq_len)
    q, k, v = (rng.standard_normal((2, seq_len, 4)) for _ in range(3))
    out = ScaledDotProductAttention()(q, k, v, mask=create_causal_mask(seq_len))
    assert_matches(out, F.scaled_dot_product_attention(t(q), t(k), t(v), is_causal=True))


# ============================================================================ scaled dot-product


def torch_sdpa_weights(q, k, allowed, scale):
    """Softmax of the masked, scaled scores, computed independently in torch."""
    scores = t(q) @ t(k).transpose(-1, -2) * scale
    if allowed is not None:
        scores = scores.masked_fill(~torch.from_numpy(np.array(allowed, dtype=bool)), -torch.inf)
    return torch.softmax(scores, dim=-1)


# (batch, seq_q, seq_k, d_k, d_v): self, cross with seq_q != seq_k and d_v != d_k, length 1.
SDPA_SHAPES = [
    (2, 4, 4, 8, 8),
    (3, 5, 7, 4, 6),
    (2, 7, 3, 6, 2),
    (1, 1, 1, 4, 4),
    (2, 1, 6, 3, 5),
    (2, 6, 1, 5, 3),
]


@pytest.mark.parametrize("shape", SDPA_SHAPES, ids=lambda s: "b{}_q{}_k{}_dk{}_dv{}".format(*s))
@pytest.mark.parametrize("mask_kind", ["none", "2d", "3d"])
def test_sdpa_matches_torch(shape, mask_kind):
    batch, seq_q, seq_k, d_k, d_v = shape
    rng = np.random.default_rng(sum(shape))
    q = rng.standard_normal((batch, seq_q, d_k))
    k = rng.standard_normal((batch, seq_k, d_k))
    v = rng.standard_normal((batch, seq_k, d_v))
    mask = {
        "none": None,
        "2d": random_mask(rng, (seq_q, seq_k)),
        "3d": random_mask(rng, (batch, seq_q, seq_k)),
    }[mask_kind]

    out, weights = ScaledDotProductAttention()(q, k, v, mask=mask, return_attention_weights=True)
    torch_mask = None if mask is None else torch.from_numpy(mask)  # torch: True = attend
    assert_matches(out, F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=torch_mask))
    assert_matches(weights, torch_sdpa_weights(q, k, mask, 1 / np.sqrt(d_k)))


@pytest.mark.parametrize("dtype", ["bool", "int", "float"])
@pytest.mark.parametrize("mask_ndim", [2, 3])
def test_sdpa_accepts_bool_int_and_float_masks(dtype, mask_ndim):
    rng = np.random.default_rng(7)
    batch, seq_q, seq_k = 3, 4, 6
    q, k, v = (rng.standard_normal((batch, n, 5)) for n in (seq_q, seq_k, seq_k))
    mask = random_mask(rng, (batch, seq_q, seq_k)[-mask_ndim:])

    out, weights = ScaledDotProductAttention()(
        q, k, v, mask=as_dtype(mask, dtype), return_attention_weights=True
    )
    expected = F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=torch.from_numpy(mask))
    assert_matches(out, expected)
    blocked = ~np.broadcast_to(mask, weights.shape)
    np.testing.assert_array_equal(weights[blocked], 0.0)  # exactly zero, not merely small


def test_sdpa_without_weights_returns_only_the_output():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    out = ScaledDotProductAttention().forward(q, k, v)
    assert isinstance(out, np.ndarray)
    assert_matches(out, F.scaled_dot_product_attention(t(q), t(k), t(v)))


@pytest.mark.parametrize("magnitude", [10.0, 30.0, 100.0])
def test_sdpa_is_stable_when_scores_reach_the_hundreds(magnitude):
    rng = np.random.default_rng(int(magnitude))
    q = rng.standard_normal((2, 5, 8)) * magnitude
    k = rng.standard_normal((2, 6, 8)) * magnitude
    v = rng.standard_normal((2, 6, 3))
    mask = random_mask(rng, (5, 6))
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(8)
    assert np.abs(scores).max() > 100, "the inputs must exercise large scores"

    out, weights = ScaledDotProductAttention()(q, k, v, mask=mask, return_attention_weights=True)
    assert np.isfinite(out).all() and np.isfinite(weights).all()
    assert_matches(out, F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=t(mask)))
    assert_matches(weights, torch_sdpa_weights(q, k, mask, 1 / np.sqrt(8)))


@pytest.mark.parametrize("temperature", [0.25, 0.5, 1.0, 2.0, 7.0])
def test_sdpa_temperature_divides_the_scores(temperature):
    rng = np.random.default_rng(3)
    d_k = 6
    q, k = rng.standard_normal((2, 4, d_k)), rng.standard_normal((2, 5, d_k))
    v = rng.standard_normal((2, 5, 3))
    mask = random_mask(rng, (2, 4, 5))
    scale = 1 / (np.sqrt(d_k) * temperature)

    out, weights = ScaledDotProductAttention(temperature=temperature)(
        q, k, v, mask=mask, return_attention_weights=True
    )
    expected = F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=t(mask), scale=scale)
    assert_matches(out, expected)
    assert_matches(weights, torch_sdpa_weights(q, k, mask, scale))


def test_sdpa_weights_are_distributions():
    rng = np.random.default_rng(11)
    q, k, v = (rng.standard_normal((3, 5, 4)) for _ in range(3))
    _, weights = ScaledDotProductAttention()(
        q, k, v, mask=random_mask(rng, (3, 5, 5)), return_attention_weights=True
    )
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_fully_blocked_rows_stay_finite():
    """No agreed answer for a query that may see nothing: the contract asks only for finite.

    The reference keeps the seed's -1e9 fill, which makes such a row the mean of ``value``;
    every other row must still match torch.
    """
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    mask = random_mask(rng, (2, 4, 4))
    mask[1, 2, :] = False

    out, weights = ScaledDotProductAttention()(q, k, v, mask=mask, return_attention_weights=True)
    assert np.isfinite(out).all() and np.isfinite(weights).all()
    np.testing.assert_allclose(out[1, 2], v[1].mean(axis=0), rtol=RTOL, atol=ATOL)

    expected = F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=t(mask)).numpy()
    fine = mask.any(axis=-1)
    np.testing.assert_allclose(out[fine], expected[fine], rtol=RTOL, atol=ATOL)


# ============================================================================ multi-head


def torch_mha_forward(mha, query, key, value, allowed=None):
    """Run torch's MultiheadAttention with the reference's current weights.

    torch computes ``x @ W.T`` and stacks the q/k/v projections in ``in_proj_weight``, so
    each reference matrix goes in transposed. torch's boolean ``attn_mask`` means the
    opposite of ours (True = NOT allowed), and a 3-D mask must be ``(batch * heads, L, S)``
    with the heads of one batch element adjacent.
    """
    E, H = mha.embed_dim, mha.num_heads
    torch_mha = torch.nn.MultiheadAttention(E, H, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        torch_mha.in_proj_weight.copy_(t(np.concatenate([mha.w_q.T, mha.w_k.T, mha.w_v.T])))
        torch_mha.out_proj.weight.copy_(t(mha.w_o.T))

    attn_mask = None
    if allowed is not None:
        blocked = ~torch.from_numpy(np.array(allowed, dtype=bool))
        if blocked.ndim == 3:
            blocked = blocked.repeat_interleave(H, dim=0)
        attn_mask = blocked
    out, weights = torch_mha(
        t(query), t(key), t(value),
        attn_mask=attn_mask, need_weights=True, average_attn_weights=False,
    )
    return out.detach(), weights.detach()


def random_weights(rng, embed_dim):
    return [rng.standard_normal((embed_dim, embed_dim)) / np.sqrt(embed_dim) for _ in range(4)]


def load_weights(mha, weights):
    """Overwrite the four projections in place, as the graders do."""
    for param, new in zip(mha.parameters, weights):
        param[...] = new


# (embed_dim, num_heads): one head, several, head_dim 1.
MHA_HEADS = [(8, 1), (8, 2), (12, 3), (16, 4), (6, 6)]
# (batch, seq_q, seq_k): self (equal lengths) and cross attention, length 1.
MHA_SEQS = [(2, 5, 5), (2, 3, 6), (1, 6, 2), (3, 1, 1)]


@pytest.mark.parametrize("embed_dim,num_heads", MHA_HEADS)
@pytest.mark.parametrize("seqs", MHA_SEQS, ids=lambda s: "b{}_q{}_k{}".format(*s))
@pytest.mark.parametrize("mask_kind", ["none", "2d", "3d"])
def test_mha_matches_torch(embed_dim, num_heads, seqs, mask_kind):
    batch, seq_q, seq_k = seqs
    rng = np.random.default_rng(embed_dim * 100 + num_heads * 10 + seq_q)
    mha = MultiHeadAttention(embed_dim, num_heads)
    load_weights(mha, random_weights(rng, embed_dim))
    query = rng.standard_normal((batch, seq_q, embed_dim))
    key = rng.standard_normal((batch, seq_k, embed_dim))
    value = rng.standard_normal((batch, seq_k, embed_dim))
    mask = {
        "none": None,
        "2d": random_mask(rng, (seq_q, seq_k)),
        "3d": random_mask(rng, (batch, seq_q, seq_k)),
    }[mask_kind]

    out, weights = mha(query, key, value, mask=mask, return_attention_weights=True)
    expected_out, expected_weights = torch_mha_forward(mha, query, key, value, mask)
    assert_matches(out, expected_out)
    assert_matches(weights, expected_weights)  # (batch, num_heads, seq_q, seq_k), per head


@pytest.mark.parametrize("dtype", ["bool", "int", "float"])
def test_mha_self_attention_with_causal_and_typed_masks(dtype):
    rng = np.random.default_rng(21)
    mha = MultiHeadAttention(12, 4)
    load_weights(mha, random_weights(rng, 12))
    x = rng.standard_normal((2, 6, 12))
    causal = create_causal_mask(6)
    out = mha.forward(x, x, x, mask=as_dtype(causal, dtype))
    assert_matches(out, torch_mha_forward(mha, x, x, x, causal)[0])


def test_mha_default_weights_match_torch():
    """The seeded initial weights are used as they are, without any loading."""
    rng = np.random.default_rng(2)
    mha = MultiHeadAttention(8, 2)
    x = rng.standard_normal((2, 4, 8))
    assert_matches(mha(x, x, x), torch_mha_forward(mha, x, x, x)[0])


def test_mha_forward_reads_weights_overwritten_in_place():
    rng = np.random.default_rng(4)
    mha = MultiHeadAttention(8, 2)
    x = rng.standard_normal((1, 3, 8))
    before = mha(x, x, x)
    load_weights(mha, random_weights(rng, 8))
    after = mha(x, x, x)
    assert not np.allclose(before, after)
    assert_matches(after, torch_mha_forward(mha, x, x, x)[0])


def test_mha_attributes_and_parameters():
    mha = MultiHeadAttention(12, 3)
    assert (mha.embed_dim, mha.num_heads, mha.head_dim) == (12, 3, 4)
    assert len(mha.parameters) == 4
    for param, name in zip(mha.parameters, ["w_q", "w_k", "w_v", "w_o"]):
        assert param is getattr(mha, name)
        assert isinstance(param, np.ndarray) and param.shape == (12, 12)
        assert param.dtype == np.float64 and np.isfinite(param).all()
    assert len({id(p) for p in mha.parameters}) == 4
    assert not np.array_equal(mha.w_q, mha.w_k), "projections should differ"


def test_mha_construction_is_deterministic():
    a, b = MultiHeadAttention(8, 2), MultiHeadAttention(8, 2)
    for pa, pb in zip(a.parameters, b.parameters):
        np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize("embed_dim,num_heads", [(10, 3), (8, 3), (6, 4), (5, 2)])
def test_mha_rejects_indivisible_embed_dim(embed_dim, num_heads):
    with pytest.raises(ValueError):
        MultiHeadAttention(embed_dim, num_heads)
    # torch agrees that these are invalid (it asserts today; accept a ValueError later)
    with pytest.raises((AssertionError, ValueError)):
        torch.nn.MultiheadAttention(embed_dim, num_heads)


# ============================================================================ KV cache + decoding


def full_causal(mha, x):
    """Reference and torch agree on full causal attention over ``x (T, embed_dim)``; return
    torch's rows, so cached decoding is proven against torch directly."""
    T = x.shape[0]
    causal = create_causal_mask(T)
    ours = mha.forward(x[None], x[None], x[None], mask=causal)[0]
    theirs = torch_mha_forward(mha, x[None], x[None], x[None], causal)[0][0].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    return theirs


def decode(mha, x, cache, slot, chunk_sizes):
    """Feed ``x`` to ``cached_self_attention`` in chunks; return the stacked outputs."""
    assert sum(chunk_sizes) == x.shape[0]
    bounds = np.cumsum([0, *chunk_sizes])
    outputs = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        out = cached_self_attention(mha, x[start:stop], cache, batch_idx=slot)
        assert out.shape == (stop - start, mha.embed_dim)
        outputs.append(out)
    return np.concatenate(outputs)


def make_mha(rng, embed_dim, num_heads):
    mha = MultiHeadAttention(embed_dim, num_heads)
    load_weights(mha, random_weights(rng, embed_dim))
    return mha


# chunk sizes: all at once, prefill then token by token, prefill then chunks, token by token
DECODE_SCHEDULES = [[7], [4, 1, 1, 1], [3, 2, 2], [1] * 7, [2, 5]]


@pytest.mark.parametrize("embed_dim,num_heads", [(8, 1), (8, 2), (12, 4)])
@pytest.mark.parametrize("chunks", DECODE_SCHEDULES, ids=lambda c: "-".join(map(str, c)))
def test_cached_decoding_equals_full_causal_attention(embed_dim, num_heads, chunks):
    rng = np.random.default_rng(embed_dim + num_heads)
    mha = make_mha(rng, embed_dim, num_heads)
    x = rng.standard_normal((sum(chunks), embed_dim))
    cache = KVCache(2, 10, num_heads, embed_dim // num_heads)

    np.testing.assert_allclose(
        decode(mha, x, cache, 1, chunks), full_causal(mha, x), rtol=RTOL, atol=ATOL
    )
    assert list(cache.cache_lengths) == [0, len(x)]


def test_cache_holds_the_projected_keys_and_values():
    rng = np.random.default_rng(8)
    mha = make_mha(rng, 8, 2)
    x = rng.standard_normal((5, 8))
    cache = KVCache(3, 6, 2, 4)
    decode(mha, x, cache, 2, [3, 1, 1])
    # (T, embed_dim) -> (num_heads, T, head_dim): head h owns columns h*4:(h+1)*4
    expected_k = (x @ mha.w_k).reshape(5, 2, 4).transpose(1, 0, 2)
    expected_v = (x @ mha.w_v).reshape(5, 2, 4).transpose(1, 0, 2)
    np.testing.assert_allclose(cache.cached_keys[2, :, :5], expected_k, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(cache.cached_values[2, :, :5], expected_v, rtol=RTOL, atol=ATOL)


def test_interleaved_sequences_in_separate_slots():
    """Three sequences decoded round-robin in slots 0, 1, 2 do not disturb each other."""
    rng = np.random.default_rng(9)
    mha = make_mha(rng, 12, 3)
    lengths, prompts = [6, 4, 8], [3, 1, 2]
    xs = [rng.standard_normal((n, 12)) for n in lengths]
    cache = KVCache(3, 8, 3, 4)

    outputs = [[cached_self_attention(mha, x[:p], cache, batch_idx=s)]
               for s, (x, p) in enumerate(zip(xs, prompts))]
    positions = list(prompts)
    while any(pos < n for pos, n in zip(positions, lengths)):
        for slot, x in enumerate(xs):
            if positions[slot] < lengths[slot]:
                token = x[positions[slot]:positions[slot] + 1]
                outputs[slot].append(cached_self_attention(mha, token, cache, batch_idx=slot))
                positions[slot] += 1

    assert list(cache.cache_lengths) == lengths
    for x, out in zip(xs, outputs):
        np.testing.assert_allclose(np.concatenate(out), full_causal(mha, x), rtol=RTOL, atol=ATOL)


def test_update_appends_and_returns_the_filled_part_only():
    rng = np.random.default_rng(10)
    cache = KVCache(max_batch_size=3, max_seq_length=7, num_heads=2, head_dim=3)
    assert cache.cached_keys.shape == cache.cached_values.shape == (3, 2, 7, 3)
    assert np.issubdtype(cache.cache_lengths.dtype, np.integer)
    assert cache.cache_lengths.shape == (3,) and not cache.cache_lengths.any()

    k1, v1 = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3))
    k2, v2 = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 3))
    cache.update(1, k1, v1)
    others = cache.cached_keys[[0, 2]].copy(), cache.cached_values[[0, 2]].copy()
    keys, values = cache.update(1, k2, v2)

    assert keys.shape == values.shape == (2, 5, 3)
    np.testing.assert_array_equal(keys, np.concatenate([k1, k2], axis=1))
    np.testing.assert_array_equal(values, np.concatenate([v1, v2], axis=1))
    assert list(cache.cache_lengths) == [0, 5, 0]
    np.testing.assert_array_equal(cache.cached_keys[[0, 2]], others[0])
    np.testing.assert_array_equal(cache.cached_values[[0, 2]], others[1])


def test_update_to_exactly_max_seq_length_is_allowed():
    cache = KVCache(1, 4, 1, 2)
    keys, _ = cache.update(0, np.ones((1, 4, 2)), np.ones((1, 4, 2)))
    assert keys.shape == (1, 4, 2) and cache.cache_lengths[0] == 4


def cache_state(cache):
    """Copies of everything a KVCache holds, to prove a failed call changed nothing."""
    return [a.copy() for a in (cache.cached_keys, cache.cached_values, cache.cache_lengths)]


def assert_same_state(after, before):
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("held,adding", [(0, 5), (3, 2), (4, 1), (2, 9)])
def test_overflow_raises_and_changes_nothing(held, adding):
    rng = np.random.default_rng(held * 10 + adding)
    cache = KVCache(2, 4, 2, 3)
    cache.update(0, rng.standard_normal((2, held, 3)), rng.standard_normal((2, held, 3)))
    cache.update(1, rng.standard_normal((2, 1, 3)), rng.standard_normal((2, 1, 3)))
    before = cache_state(cache)

    with pytest.raises(ValueError):
        cache.update(0, rng.standard_normal((2, adding, 3)), rng.standard_normal((2, adding, 3)))
    assert_same_state(cache_state(cache), before)


def test_cached_self_attention_overflow_raises_and_changes_nothing():
    rng = np.random.default_rng(12)
    mha = make_mha(rng, 8, 2)
    cache = KVCache(1, 5, 2, 4)
    cached_self_attention(mha, rng.standard_normal((4, 8)), cache)
    before = cache_state(cache)
    with pytest.raises(ValueError):
        cached_self_attention(mha, rng.standard_normal((2, 8)), cache)
    assert_same_state(cache_state(cache), before)


def test_reset_one_slot_then_all():
    rng = np.random.default_rng(13)
    mha = make_mha(rng, 8, 2)
    cache = KVCache(3, 6, 2, 4)
    xs = [rng.standard_normal((n, 8)) for n in (3, 4, 5)]
    for slot, x in enumerate(xs):
        decode(mha, x, cache, slot, [len(x)])

    cache.reset(1)
    assert list(cache.cache_lengths) == [3, 0, 5]
    # slot 1 starts a fresh sequence; slots 0 and 2 carry on where they were
    fresh = rng.standard_normal((6, 8))
    np.testing.assert_allclose(decode(mha, fresh, cache, 1, [2, 1, 1, 1, 1]),
                               full_causal(mha, fresh), rtol=RTOL, atol=ATOL)
    extra = rng.standard_normal((1, 8))
    x0 = np.concatenate([xs[0], extra])
    np.testing.assert_allclose(decode(mha, extra, cache, 0, [1]),
                               full_causal(mha, x0)[-1:], rtol=RTOL, atol=ATOL)

    cache.reset()
    assert not cache.cache_lengths.any()
    for slot in range(3):
        np.testing.assert_allclose(decode(mha, fresh, cache, slot, [6]),
                                   full_causal(mha, fresh), rtol=RTOL, atol=ATOL)


def test_memory_usage_reports_the_preallocated_buffers():
    cache = KVCache(max_batch_size=2, max_seq_length=16, num_heads=4, head_dim=8)
    usage = cache.get_memory_usage()
    assert isinstance(usage, dict)
    held = cache.cached_keys.nbytes + cache.cached_values.nbytes
    assert usage["total_cache_memory_mb"] == pytest.approx(held / 2**20)
    assert held == 2 * (2 * 4 * 16 * 8) * 8  # two float64 buffers, preallocated in full


# ============================================================================ inputs untouched


def frozen(rng, shape):
    """A read-only array: any attempt to write into it raises instead of passing silently."""
    a = rng.standard_normal(shape)
    a.flags.writeable = False
    return a


def test_no_function_modifies_its_inputs():
    rng = np.random.default_rng(14)
    q, k, v = frozen(rng, (2, 3, 4)), frozen(rng, (2, 5, 4)), frozen(rng, (2, 5, 6))
    mask = random_mask(rng, (2, 3, 5)).astype(np.float64)
    mask.flags.writeable = False
    originals = [a.copy() for a in (q, k, v, mask)]
    ScaledDotProductAttention(temperature=0.5)(q, k, v, mask=mask, return_attention_weights=True)
    for before, after in zip(originals, (q, k, v, mask)):
        np.testing.assert_array_equal(after, before)

    mha = make_mha(rng, 8, 2)
    x, y = frozen(rng, (2, 3, 8)), frozen(rng, (2, 5, 8))
    causal = create_causal_mask(3)
    causal.flags.writeable = False
    originals = [a.copy() for a in (x, y, causal)]
    mha(x, y, y, mask=mask[:, :, :5], return_attention_weights=True)
    mha(x, x, x, mask=causal)
    for before, after in zip(originals, (x, y, causal)):
        np.testing.assert_array_equal(after, before)

    cache = KVCache(2, 8, 2, 4)
    new_k, new_v, x_new = frozen(rng, (2, 3, 4)), frozen(rng, (2, 3, 4)), frozen(rng, (2, 8))
    originals = [a.copy() for a in (new_k, new_v, x_new)]
    cache.update(0, new_k, new_v)
    cached_self_attention(mha, x_new, cache, batch_idx=1)
    for before, after in zip(originals, (new_k, new_v, x_new)):
        np.testing.assert_array_equal(after, before)


def test_update_returns_views_that_cannot_corrupt_the_cache():
    cache = KVCache(1, 4, 1, 2)
    keys, values = cache.update(0, np.ones((1, 2, 2)), np.ones((1, 2, 2)))
    with pytest.raises(ValueError):
        keys[...] = 0.0
    with pytest.raises(ValueError):
        values[...] = 0.0
    np.testing.assert_array_equal(cache.cached_keys[0, :, :2], 1.0)


# ============================================================================ Tensor-likes


def test_tensor_like_inputs_give_the_same_results():
    rng = np.random.default_rng(15)
    q, k, v = (rng.standard_normal((2, 4, 8)) for _ in range(3))
    mask = random_mask(rng, (4, 4))
    sdpa = ScaledDotProductAttention()
    np.testing.assert_array_equal(
        sdpa(TensorLike(q), TensorLike(k), TensorLike(v), mask=TensorLike(mask)),
        sdpa(q, k, v, mask=mask),
    )
    mha = make_mha(rng, 8, 2)
    np.testing.assert_array_equal(
        mha(TensorLike(q), TensorLike(k), TensorLike(v), mask=TensorLike(mask)),
        mha(q, k, v, mask=mask),
    )
    a, b = KVCache(1, 4, 2, 4), KVCache(1, 4, 2, 4)
    np.testing.assert_array_equal(
        cached_self_attention(mha, TensorLike(q[0]), a), cached_self_attention(mha, q[0], b)
    )
