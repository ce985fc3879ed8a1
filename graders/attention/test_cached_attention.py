"""Task cached_attention: ``cached_self_attention`` decoding against full causal attention.

A scenario decodes one or more sequences (one per cache slot) in steps: a prompt, single
tokens, chunks, possibly after positions put into the slot directly with
``kv_cache.update``. Every output row must equal the same row of the reference's
``mha.forward(x, x, x, mask=causal)`` over the whole sequence. Scenarios live in
``_decoding.py`` (shared with ``public/``), the trusted decoding compositions in the hidden
``composition.py``; the public tests are in ``public/test_cached_attention_public.py``.

No double jeopardy: the rows are also accepted when they equal (a) the student's own
``MultiHeadAttention`` with a causal mask (its fault is counted in multi_head), or (b) the
contract's decoding step computed here around what the student's own ``KVCache.update``
returns (its fault is counted in kv_cache).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _decoding import Scenario, joined, run_student, scenario
from _inputs import (
    examples,
    CACHE_AXES,
    CACHE_FAILS,
    CACHE_IS_THE_FAULT,
    MHA_IS_THE_FAULT,
    DECODE_AXES,
    WEIGHT_NAMES,
    chunk_schedule,
    seeds,
    to_float,
    variants,
)
from composition import (
    decode_with_lent_cache,
    decoding_alternatives,
    full_causal,
    new_cache,
    run_with_some_cache,
    trusted_kv,
)
from proctor.testing import CheckFailure, Trusted

pytestmark = [pytest.mark.task("cached_attention")]


def check_scenario(student: Any, reference: Any, check: Any, new_mha: Any,
                   sc: Scenario) -> tuple[Any, Any]:
    """Decode ``sc`` with the student's code and compare every slot's rows. If decoding
    with the student's own KVCache raises (or it cannot be built), the step is judged with
    a lent, correct cache instead (no double jeopardy: kv_cache's tests count the cache),
    and a passing test says so."""
    mha, cache, outs = run_with_some_cache(student, reference, new_mha, sc)
    lent = isinstance(cache, Trusted)
    if lent and check.record is not None:
        check.record.hint = CACHE_FAILS
    ref = reference_mha(reference, sc)
    lent_rows: dict[int, np.ndarray] = {}

    def right_with_a_lent_cache(slot: int) -> bool:
        """The student's own step, run with a correct lent cache, gives the expected rows
        (then the student's KVCache is what made them wrong: kv_cache counts it)."""
        try:
            if not lent_rows:
                lent_rows.update(decode_with_lent_cache(student, reference, lambda *a: mha, sc))
            check(lent_rows[slot], full_causal(ref, sc, slot), what="rows with a lent cache",
                  rowwise=True, alternatives=[(lambda: full_causal(mha, sc, slot), MHA_IS_THE_FAULT)])
        except Exception:  # noqa: BLE001 - wrong, or raising, with a correct cache too
            return False
        return True

    for slot in sc.xs:
        if not outs[slot]:
            continue
        try:
            check(joined(sc, outs[slot], slot), full_causal(ref, sc, slot),
                  what=f"the rows returned by cached_self_attention when {sc.describe(slot)}, "
                       "against full causal multi-head attention over the whole sequence",
                  variants=variants("decode_variants", sc.weights, sc.num_heads, sc.xs[slot],
                                    sc.chunks(slot), prefix=sc.prefix.get(slot, 0)),
                  axes=DECODE_AXES, rowwise=True,
                  alternatives=decoding_alternatives(student, reference, mha, sc, slot))
        except CheckFailure:
            if lent or not right_with_a_lent_cache(slot):
                raise
            if check.record is not None:
                check.record.hint = CACHE_FAILS
    return mha, cache


def reference_mha(reference: Any, sc: Scenario) -> Any:
    ref = reference.MultiHeadAttention(sc.embed_dim, sc.num_heads)
    for name in WEIGHT_NAMES:
        getattr(ref, name)[...] = sc.weights[name]
    return ref


def own_cache_state(student: Any, sc: Scenario) -> dict[str, np.ndarray]:
    """The student's own KVCache after the scenario's updates, done here with trusted keys
    and values: what decoding must leave behind if the cache itself is at fault."""
    cache = new_cache(student, sc)
    kv = {slot: trusted_kv(sc, slot) for slot in sc.xs}
    for slot, start, n in sc.steps():
        cache.update(slot, kv[slot][0][:, start:start + n], kv[slot][1][:, start:start + n])
    return {"cache_lengths": to_float(cache.cache_lengths),
            "cached_keys": to_float(cache.cached_keys),
            "cached_values": to_float(cache.cached_values)}


# ----------------------------------------------------------------------------- hidden


@pytest.mark.points(3)
def test_prefill_then_single_tokens(student: Any, reference: Any, check: Any,
                                    new_mha: Any, rng: Any) -> None:
    """A 4-token prompt, then three single tokens, decode like full causal attention."""
    sc = scenario(rng, [(0, 4), (0, 1), (0, 1), (0, 1)])
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_token_by_token_from_empty(student: Any, reference: Any, check: Any, new_mha: Any,
                                   rng: Any) -> None:
    """Six tokens decoded one at a time from an empty cache match full causal attention."""
    sc = scenario(rng, [(0, 1)] * 6)
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_prefill_then_chunks(student: Any, reference: Any, check: Any, new_mha: Any,
                             rng: Any) -> None:
    """Multi-token steps after a prompt see all of the past and none of their own future.

    Multi-token steps after a prompt: the chunk's tokens must not see each other's
    future, and must see all of the past."""
    sc = scenario(rng, [(0, 3), (0, 2), (0, 3)])
    check_scenario(student, reference, check, new_mha, sc)


def test_whole_sequence_in_one_call(student: Any, reference: Any, check: Any, new_mha: Any,
                                    rng: Any) -> None:
    """A whole 6-token sequence in one call matches full causal attention."""
    sc = scenario(rng, [(0, 6)])
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_several_slots(student: Any, reference: Any, check: Any, new_mha: Any,
                       rng: Any) -> None:
    """Two sequences decoded in slots 2 and 0, interleaved; slot 1 stays empty."""
    sc = scenario(rng, [(2, 3), (0, 2), (2, 1), (0, 1), (0, 1), (2, 2)], max_batch=3)
    check_scenario(student, reference, check, new_mha, sc)  # the rows only: the cache's
    # attributes are kv_cache's to judge (a wrong slot shows in the rows anyway)


@pytest.mark.points(2)
def test_continue_after_direct_update(student: Any, reference: Any, check: Any,
                                      new_mha: Any, rng: Any) -> None:
    """Decoding continues a slot that kv_cache.update already filled with 3 positions.

    The slot already holds 3 positions (put in with kv_cache.update): decoding must
    attend to them and place new tokens after them."""
    sc = scenario(rng, [(1, 1), (1, 2), (1, 1)], prefix={1: 3}, max_batch=2)
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_large_scores_do_not_overflow(student: Any, reference: Any, check: Any, new_mha: Any,
                                      rng: Any) -> None:
    """Tokens 20x larger than usual, so the scores reach the hundreds: the softmax of a
    decoding step must not overflow either."""
    sc = scenario(rng, [(0, 3), (0, 1), (0, 2), (0, 1)])
    sc.xs = {slot: 20.0 * x for slot, x in sc.xs.items()}
    check_scenario(student, reference, check, new_mha, sc)


def test_default_slot_is_zero(student: Any, reference: Any, check: Any, new_mha: Any,
                              rng: Any) -> None:
    """Decoding without a slot argument uses slot 0."""
    sc = scenario(rng, [(0, 2), (0, 1)], pass_slot=False)
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.requires("test_prefill_then_single_tokens")
def test_cache_grows_by_the_new_tokens(student: Any, reference: Any, check: Any, new_mha: Any,
                                       rng: Any, record: Any) -> None:
    """Decoding appends the new keys and values to the cache through kv_cache.update."""
    sc = scenario(rng, [(0, 3), (0, 1), (0, 2)], max_len=8)
    _, cache, _ = run_with_some_cache(student, reference, new_mha, sc)
    if isinstance(cache, Trusted):  # the student's own cannot decode: what went into the
        # lent one shows whether decoding appends through update
        record.hint = CACHE_FAILS
        cache = cache.obj
        check(to_float(cache.cache_lengths), [6],
              what="the lent KV cache's cache_lengths after decoding 3 + 1 + 2 tokens")
        for name, expected in zip(("cached_keys", "cached_values"), trusted_kv(sc, 0)):
            check(to_float(getattr(cache, name))[0, :, :6], expected, axes=CACHE_AXES,
                  what=f"the lent KV cache's {name}[0, :, :6] after decoding 6 tokens")
        return
    try:
        own_cache_state(student, sc)
    except Exception:  # noqa: BLE001 - the student's KVCache cannot be updated or read back
        # directly: what decoding left in it cannot be judged here; kv_cache's tests count it
        record.hint = CACHE_IS_THE_FAULT
        return
    own: dict[str, np.ndarray] = {}

    def own_state(name: str) -> Callable[[], np.ndarray]:
        def get() -> np.ndarray:
            if not own:
                own.update(own_cache_state(student, sc))
            return own[name]
        return get

    check(to_float(cache.cache_lengths), [6],
          what="kv_cache.cache_lengths after decoding 3 + 1 + 2 tokens",
          alternatives=[(own_state("cache_lengths"), CACHE_IS_THE_FAULT)])
    k, v = trusted_kv(sc, 0)
    for name, expected in (("cached_keys", k), ("cached_values", v)):
        check(to_float(getattr(cache, name))[0, :, :6], expected,
              what=f"kv_cache.{name}[0, :, :6] after decoding 6 tokens (x @ w_k / x @ w_v, "
                   "split into heads)", axes=CACHE_AXES,
              alternatives=[(lambda name=name: own_state(name)()[0, :, :6],
                             CACHE_IS_THE_FAULT)])


@pytest.mark.requires("test_prefill_then_single_tokens")
def test_weights_unchanged(student: Any, reference: Any, check: Any, new_mha: Any,
                          rng: Any, record: Any) -> None:
    """Decoding leaves the attention weights unchanged."""
    sc = scenario(rng, [(0, 3), (0, 1)])
    mha, cache, _ = run_with_some_cache(student, reference, new_mha, sc)
    if isinstance(cache, Trusted):
        record.hint = CACHE_FAILS
    for name in WEIGHT_NAMES:
        check(getattr(mha, name), sc.weights[name],
              what=f"mha.{name} after decoding (decoding must not modify the weights)")


# ----------------------------------------------------------------------------- property


@st.composite
def decode_case(draw: st.DrawFn) -> tuple[int, int, int, int, list[int], int]:
    """Head count and size, a slot of a two-slot cache, how many positions the slot already
    holds (put in with ``kv_cache.update``), the decoding chunks after them (a prompt, then
    tokens or chunks) and a seed for the chunks, the weights and the tokens."""
    heads = draw(st.integers(1, 3))
    head_dim = draw(st.integers(1, 3))
    slot = draw(st.integers(0, 1))
    total = draw(st.integers(1, 8))
    prefix = draw(st.integers(0, total - 1))
    seed = draw(seeds)
    return heads * head_dim, heads, slot, prefix, chunk_schedule(seed, total - prefix), seed


# In every grading: slot 1 of two, holding 2 positions already, then a 2-token chunk and
# single tokens, with 2 heads of 2 dimensions.
@examples(2)
@example(case=(4, 2, 1, 2, [2, 1, 1], 1))
@given(case=decode_case())
def test_random_schedules(student: Any, reference: Any, check: Any, new_mha: Any,
                          case: tuple[int, int, int, int, list[int], int]) -> None:
    """Random prompts and chunk sizes decode like full causal attention."""
    embed_dim, heads, slot, prefix, chunks, seed = case
    sc = scenario(np.random.default_rng(seed), [(slot, n) for n in chunks],
                  embed_dim=embed_dim, num_heads=heads, prefix={slot: prefix}, max_len=10,
                  max_batch=2)
    check_scenario(student, reference, check, new_mha, sc)
