"""Task cached_attention: ``cached_self_attention`` decoding against full causal attention.

A scenario decodes one or more sequences (one per cache slot) in steps: a prompt, single
tokens, chunks, possibly after positions put into the slot directly with
``kv_cache.update``. Every output row must equal the same row of the reference's
``mha.forward(x, x, x, mask=causal)`` over the whole sequence.

No double jeopardy: the rows are also accepted when they equal (a) the student's own
``MultiHeadAttention`` with a causal mask (its fault is counted in multi_head), or (b) the
contract's decoding step computed here around what the student's own ``KVCache.update``
returns (its fault is counted in kv_cache).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _inputs import (
    CACHE_AXES,
    CACHE_IS_THE_FAULT,
    DECODE_AXES,
    MHA_IS_THE_FAULT,
    SDPA_IS_THE_FAULT_IN_DECODING,
    WEIGHT_NAMES,
    causal,
    chunk_schedule,
    mha_weights,
    split_heads,
    to_float,
    variants,
)

pytestmark = [pytest.mark.task("cached_attention")]


@dataclass
class Scenario:
    """Sequences ``xs[slot] (T, E)``; ``prefix[slot]`` positions go into the cache directly;
    ``events`` are ``(slot, new_len)`` decoding calls in order."""

    weights: dict[str, np.ndarray]
    num_heads: int
    xs: dict[int, np.ndarray]
    events: list[tuple[int, int]]
    prefix: dict[int, int] = field(default_factory=dict)
    max_batch: int = 1
    max_len: int = 16
    pass_slot: bool = True  # False: rely on batch_idx's default of 0

    @property
    def embed_dim(self) -> int:
        return next(iter(self.xs.values())).shape[1]

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    def chunks(self, slot: int) -> list[int]:
        return [n for s, n in self.events if s == slot]

    def steps(self) -> Iterator[tuple[int, int, int]]:
        """``(slot, start, new_len)`` of each decoding call, in order."""
        pos = dict(self.prefix)
        for slot, n in self.events:
            start = pos.get(slot, 0)
            yield slot, start, n
            pos[slot] = start + n

    def describe(self, slot: int) -> str:
        """The schedule in words (no data): "a 2-position direct update, then steps 3, 1, 1"."""
        steps = ", ".join(str(n) for n in self.chunks(slot))
        start = (f"{self.prefix[slot]} positions put in with kv_cache.update, then "
                 if self.prefix.get(slot) else "")
        where = f" in slot {slot}" if self.max_batch > 1 else ""
        return f"decoding{where} {start}in steps of {steps} token(s)"


def trusted_kv(sc: Scenario, slot: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and values ``(heads, T, head_dim)`` of a whole sequence, computed here."""
    x = sc.xs[slot]
    return (split_heads(x @ sc.weights["w_k"], sc.num_heads),
            split_heads(x @ sc.weights["w_v"], sc.num_heads))


def new_cache(student: Any, sc: Scenario) -> Any:
    """A student KVCache whose slots already hold the scenario's direct prefixes."""
    cache = student.KVCache(sc.max_batch, sc.max_len, sc.num_heads, sc.head_dim)
    for slot, p in sc.prefix.items():
        if p:
            k, v = trusted_kv(sc, slot)
            cache.update(slot, k[:, :p], v[:, :p])
    return cache


def run_student(student: Any, new_mha: Any, sc: Scenario) -> tuple[Any, Any,
                                                                  dict[int, list[Any]]]:
    """Decode the scenario with the student's MHA, KVCache and cached_self_attention."""
    mha = new_mha(sc.embed_dim, sc.num_heads, sc.weights)
    cache = new_cache(student, sc)
    outs: dict[int, list[Any]] = {slot: [] for slot in sc.xs}
    for slot, start, n in sc.steps():
        x_new = sc.xs[slot][start:start + n]
        if sc.pass_slot:
            out = student.cached_self_attention(mha, x_new, cache, slot)
        else:
            out = student.cached_self_attention(mha, x_new, cache)
        outs[slot].append(out)
    return mha, cache, outs


def joined(sc: Scenario, outs: list[Any], slot: int) -> np.ndarray:
    """Concatenate one slot's step outputs, checking each step's shape on the way."""
    arrays = []
    for i, out in enumerate(outs):
        a = np.asarray(to_float(out))
        n = sc.chunks(slot)[i]
        assert a.shape == (n, sc.embed_dim), (
            f"cached_self_attention on {n} new token(s) should return shape "
            f"({n}, {sc.embed_dim}) (new_len, embed_dim); got {a.shape} at step {i + 1} of "
            f"{sc.describe(slot)}"
        )
        arrays.append(a)
    return np.concatenate(arrays, axis=0)


def compose_decode(student: Any, sc: Scenario, *, own_cache: bool,
                   attend: Callable[..., Any],
                   past_from_lengths: bool = False) -> dict[int, np.ndarray]:
    """The contract's decoding steps computed here, with one piece taken from the student.

    ``own_cache``: keys and values come back from the student's own ``KVCache.update``; new
    token i then sits at position len(returned) - new_len + i, or, with
    ``past_from_lengths``, at the slot's ``cache_lengths`` before the update + i (both are
    right readings of the contract; they differ only when the cache is wrong). Otherwise
    keys and values come from a trusted concatenation. ``attend(q, keys, values, mask)``
    does each step's attention on ``(heads, n, head_dim)`` arrays with an end-aligned
    ``(n, total)`` mask: the reference's or the student's own ScaledDotProductAttention.
    """
    kv = {slot: trusted_kv(sc, slot) for slot in sc.xs}
    cache = new_cache(student, sc) if own_cache else None
    outs: dict[int, list[np.ndarray]] = {slot: [] for slot in sc.xs}
    for slot, start, n in sc.steps():
        q = split_heads(sc.xs[slot][start:start + n] @ sc.weights["w_q"], sc.num_heads)
        past = None
        if cache is not None and past_from_lengths:
            past = int(to_float(cache.cache_lengths)[slot])
        if cache is not None:
            keys, values = cache.update(slot, kv[slot][0][:, start:start + n],
                                        kv[slot][1][:, start:start + n])
            keys, values = to_float(keys), to_float(values)
        else:
            keys, values = kv[slot][0][:, :start + n], kv[slot][1][:, :start + n]
        total = keys.shape[1]
        past = total - n if past is None else past
        allowed = np.arange(total)[None, :] <= past + np.arange(n)[:, None]
        heads = to_float(attend(q, keys, values, mask=allowed))
        outs[slot].append(np.swapaxes(heads, 0, 1).reshape(n, -1) @ sc.weights["w_o"])
    return {slot: np.concatenate(o, axis=0) for slot, o in outs.items() if o}


def full_causal(mha: Any, sc: Scenario, slot: int) -> np.ndarray:
    """Rows of ``mha.forward(x, x, x, mask=causal)`` that the scenario decodes."""
    x = sc.xs[slot][None]
    out = mha.forward(x, x, x, mask=causal(x.shape[1]))
    return to_float(out)[0][sc.prefix.get(slot, 0):]


def alternatives(student: Any, reference: Any, mha: Any, sc: Scenario,
                 slot: int) -> list[tuple[Callable[[], Any], str]]:
    """Results that are right but for another task's fault (no double jeopardy), lazily:
    the student's own MHA with a causal mask; decoding around the student's own KVCache;
    decoding around the student's own ScaledDotProductAttention."""
    memo: dict[str, dict[int, np.ndarray]] = {}

    def composed(kind: str) -> Callable[[], np.ndarray]:
        def get() -> np.ndarray:
            if kind not in memo:
                if kind.startswith("cache"):
                    # where the reference is absent (public tests), the student's own SDPA
                    sdpa = (reference or student).ScaledDotProductAttention()
                    memo[kind] = compose_decode(student, sc, own_cache=True, attend=sdpa,
                                                past_from_lengths=kind == "cache_lengths")
                else:
                    memo[kind] = compose_decode(student, sc, own_cache=False,
                                                attend=student.ScaledDotProductAttention())
            return memo[kind][slot]
        return get

    return [(lambda: full_causal(mha, sc, slot), MHA_IS_THE_FAULT),
            (composed("sdpa"), SDPA_IS_THE_FAULT_IN_DECODING),
            (composed("cache"), CACHE_IS_THE_FAULT),
            (composed("cache_lengths"), CACHE_IS_THE_FAULT)]


def check_scenario(student: Any, reference: Any, check: Any, new_mha: Any,
                   sc: Scenario) -> tuple[Any, Any]:
    """Decode ``sc`` with the student's code and compare every slot's rows."""
    mha, cache, outs = run_student(student, new_mha, sc)
    ref = reference.MultiHeadAttention(sc.embed_dim, sc.num_heads)
    for name in WEIGHT_NAMES:
        getattr(ref, name)[...] = sc.weights[name]
    for slot in sc.xs:
        if not outs[slot]:
            continue
        check(joined(sc, outs[slot], slot), full_causal(ref, sc, slot),
              what=f"the rows returned by cached_self_attention when {sc.describe(slot)}, "
                   "against full causal multi-head attention over the whole sequence",
              variants=variants("decode_variants", sc.weights, sc.num_heads, sc.xs[slot],
                                sc.chunks(slot), prefix=sc.prefix.get(slot, 0)),
              axes=DECODE_AXES, rowwise=True,
              alternatives=alternatives(student, reference, mha, sc, slot))
    return mha, cache


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


def scenario(rng: np.random.Generator, events: list[tuple[int, int]], *, embed_dim: int = 12,
             num_heads: int = 3, **kw: Any) -> Scenario:
    """Random weights and sequences long enough for ``events`` (plus any prefix)."""
    prefix = kw.get("prefix", {})
    slots = sorted({s for s, _ in events} | set(prefix))
    lengths = {s: prefix.get(s, 0) + sum(n for t, n in events if t == s) for s in slots}
    xs = {s: rng.standard_normal((lengths[s], embed_dim)) for s in slots}
    return Scenario(mha_weights(rng, embed_dim), num_heads, xs, events, **kw)


# ----------------------------------------------------------------------------- public


@pytest.mark.visibility("public")
@pytest.mark.points(2)
def test_decoding_matches_full_causal_attention(student: Any, check: Any, new_mha: Any,
                                                rng: Any) -> None:
    """Prefill 3 tokens, then decode 2 one at a time: the rows equal your own
    ``mha.forward(x, x, x, mask=causal)`` over the 5 tokens (the contract's promise)."""
    sc = scenario(rng, [(0, 3), (0, 1), (0, 1)], embed_dim=8, num_heads=2)
    mha, _, outs = run_student(student, new_mha, sc)
    check(joined(sc, outs[0], 0), full_causal(mha, sc, 0),
          what="the rows of prefill(3) + two single-token steps, against your own "
               "MultiHeadAttention.forward with a causal mask over all 5 tokens",
          variants=variants("decode_variants", sc.weights, 2, sc.xs[0], [3, 1, 1]),
          axes=DECODE_AXES, rowwise=True,
          alternatives=alternatives(student, None, mha, sc, 0)[1:])  # [0] is the expected


@pytest.mark.visibility("public")
def test_output_shape(student: Any, new_mha: Any, rng: Any) -> None:
    sc = scenario(rng, [(0, 4), (0, 1)], embed_dim=8, num_heads=2)
    _, _, outs = run_student(student, new_mha, sc)
    joined(sc, outs[0], 0)


# ----------------------------------------------------------------------------- hidden


@pytest.mark.points(3)
def test_prefill_then_single_tokens(student: Any, reference: Any, check: Any,
                                    new_mha: Any, rng: Any) -> None:
    sc = scenario(rng, [(0, 4), (0, 1), (0, 1), (0, 1)])
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_token_by_token_from_empty(student: Any, reference: Any, check: Any, new_mha: Any,
                                   rng: Any) -> None:
    sc = scenario(rng, [(0, 1)] * 6)
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_prefill_then_chunks(student: Any, reference: Any, check: Any, new_mha: Any,
                             rng: Any) -> None:
    """Multi-token steps after a prompt: the chunk's tokens must not see each other's
    future, and must see all of the past."""
    sc = scenario(rng, [(0, 3), (0, 2), (0, 3)])
    check_scenario(student, reference, check, new_mha, sc)


def test_whole_sequence_in_one_call(student: Any, reference: Any, check: Any, new_mha: Any,
                                    rng: Any) -> None:
    sc = scenario(rng, [(0, 6)])
    check_scenario(student, reference, check, new_mha, sc)


@pytest.mark.points(2)
def test_several_slots(student: Any, reference: Any, check: Any, new_mha: Any,
                       rng: Any) -> None:
    """Two sequences decoded in slots 2 and 0, interleaved; slot 1 stays empty."""
    sc = scenario(rng, [(2, 3), (0, 2), (2, 1), (0, 1), (0, 1), (2, 2)], max_batch=3)
    _, cache = check_scenario(student, reference, check, new_mha, sc)
    check(to_float(cache.cache_lengths), [4, 0, 6],
          what="kv_cache.cache_lengths after decoding 4 tokens in slot 0 and 6 in slot 2",
          alternatives=[(lambda: own_cache_state(student, sc)["cache_lengths"],
                         CACHE_IS_THE_FAULT)])


@pytest.mark.points(2)
def test_continue_after_direct_update(student: Any, reference: Any, check: Any,
                                      new_mha: Any, rng: Any) -> None:
    """The slot already holds 3 positions (put in with kv_cache.update): decoding must
    attend to them and place new tokens after them."""
    sc = scenario(rng, [(1, 1), (1, 2), (1, 1)], prefix={1: 3}, max_batch=2)
    check_scenario(student, reference, check, new_mha, sc)


def test_default_slot_is_zero(student: Any, reference: Any, check: Any, new_mha: Any,
                              rng: Any) -> None:
    sc = scenario(rng, [(0, 2), (0, 1)], pass_slot=False)
    check_scenario(student, reference, check, new_mha, sc)


def test_cache_grows_by_the_new_tokens(student: Any, check: Any, new_mha: Any,
                                       rng: Any) -> None:
    """Decoding appends the new keys and values to the cache through kv_cache.update."""
    sc = scenario(rng, [(0, 3), (0, 1), (0, 2)], max_len=8)
    _, cache, _ = run_student(student, new_mha, sc)
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


def test_weights_unchanged(student: Any, check: Any, new_mha: Any, rng: Any) -> None:
    sc = scenario(rng, [(0, 3), (0, 1)])
    mha, _, _ = run_student(student, new_mha, sc)
    for name in WEIGHT_NAMES:
        check(getattr(mha, name), sc.weights[name],
              what=f"mha.{name} after decoding (decoding must not modify the weights)")


# ----------------------------------------------------------------------------- property


@st.composite
def decode_case(draw: st.DrawFn) -> tuple[int, int, int, list[int], int]:
    heads = draw(st.integers(1, 3))
    head_dim = draw(st.integers(1, 3))
    total = draw(st.integers(1, 8))
    prefix = draw(st.integers(0, total - 1))
    chunks = draw(chunk_schedule(total - prefix))
    return heads * head_dim, heads, prefix, chunks, draw(st.integers(0, 2**16))


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture],
          report_multiple_bugs=False)
@given(case=decode_case())
def test_random_schedules(student: Any, reference: Any, check: Any, new_mha: Any,
                          case: tuple[int, int, int, list[int], int]) -> None:
    embed_dim, heads, prefix, chunks, seed = case
    sc = scenario(np.random.default_rng(seed), [(0, n) for n in chunks],
                  embed_dim=embed_dim, num_heads=heads, prefix={0: prefix}, max_len=10)
    check_scenario(student, reference, check, new_mha, sc)
