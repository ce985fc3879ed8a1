"""Efficiency task: how the submission's cost grows, not what it computes.

Contract, "Efficiency": one decode step (part 5) and one cache update (part 4) grow linearly
in the cached length, the cache does not copy what it holds on each update, and attention
grows no faster than the quadratic its ``seq_q x seq_k`` weights need. Memory (tracemalloc
peak inside the sandbox) is deterministic and is the signal that fails submissions; time is
only used with wide margins (see ``proctor.efficiency``). No test here has a wall-clock
limit.

Sizes are kept small (embed_dim 16, two heads) and caches are filled with one
``KVCache.update`` of random keys and values rather than by decoding a prompt (see
``_prefill``; the runtime test decodes only the prompt's last few tokens, as a warm-up, see
``_decode_prompt_tail``), so the whole task takes 0.1-0.15 s on an efficient submission on
one core. The cached lengths are large enough (128..2048, 4096 for time) that per-position
costs dominate the few KiB any Python call allocates. Peak memory is deterministic, so
series judged on memory alone run each call once; time is a minimum over several runs, and
only where it is judged. bench/efficiency_stability.py shows how far every verdict sits from
its threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from proctor.testing import CheckFailure, assert_growth, assert_within_factor, measure_call, Trusted

pytestmark = [pytest.mark.task("efficiency")]

EMBED_DIM = 16
NUM_HEADS = 2
HEAD_DIM = EMBED_DIM // NUM_HEADS
CACHED_LENGTHS = (128, 256, 512, 1024, 2048)
SEQ_LENGTHS = (12, 24, 48, 96, 192)  # a cubic intermediate stays < 200 MB at 192
RUNTIME_LENGTH = 4096  # long enough that a T x T step is >100x the reference (bench)
TIME_REPEAT = 5  # runs per timing where time is the verdict (runtime tests): time is the min
GROWTH_REPEAT = 3  # runs per size of the decode series: memory decides, time only backs it up
MEMORY_REPEAT = 1  # runs per size where only peak memory is judged: it is deterministic
CACHE_ROOM = 64  # positions past the longest length: each measured decode run appends a token
PROMPT_TAIL = 32  # last prompt tokens the runtime test decodes (see _decode_prompt_tail)
RUNTIME_FACTOR = 25.0

DECODE_HINT = (
    "A decode step only needs the new tokens' rows of attention: a (new_len, total_len) "
    "mask (or none at all for one token) over the keys and values already in the cache. "
    "Building the whole T x T causal mask (or any T x T array) makes every step cost as "
    "much as attending over the whole sequence."
)
RECOMPUTE_HINT = (
    "Project only x_new with w_k and w_v, append those to the cache with kv_cache.update, "
    "and attend over the keys and values update returns. That is the point of a KV cache."
)
UPDATE_HINT = (
    "KVCache.update should write the new keys and values into the preallocated arrays and "
    "return views (slices) of the filled part; np.concatenate, .copy() or np.array(...) of "
    "everything cached copies the whole history on every token."
)
LOOP_HINT = (
    "A step this much slower than the reference usually loops in Python over positions "
    "(compute all scores with one matrix product, q @ k^T, and the weighted sum with "
    "another, weights @ v) or builds an array as big as the whole sequence squared."
)
SDPA_WORK_HINT = ("Attention weighs the values by softmax(q . k / sqrt(d_k)): its output depends on "
                  "the keys (through the weights) and on the values.")
DECODE_WORK_HINT = ("A decode step attends from the new token to every cached position, so its "
                    "output depends on the keys and values already in the cache.")
SDPA_SLOW_HINT = (
    "Attention this much slower than the reference usually loops in Python over positions "
    "or pairs of positions, or builds an intermediate bigger than the (seq_q, seq_k) "
    "scores; two matrix products and a row-wise softmax are all it needs."
)


# ----------------------------------------------------------------------------- helpers


def _weights(rng: np.random.Generator) -> list[np.ndarray]:
    """Four projection matrices with roughly unit-variance outputs."""
    scale = 1.0 / np.sqrt(EMBED_DIM)
    return [rng.standard_normal((EMBED_DIM, EMBED_DIM)) * scale for _ in range(4)]


def _student_mha(student: Any, weights: list[np.ndarray]) -> Any:
    mha = student.MultiHeadAttention(EMBED_DIM, NUM_HEADS)
    for name, w in zip(("w_q", "w_k", "w_v", "w_o"), weights):
        mha.assign(name, w)
    return mha


def _reference_mha(reference: Any, weights: list[np.ndarray]) -> Any:
    mha = reference.MultiHeadAttention(EMBED_DIM, NUM_HEADS)
    for name, w in zip(("w_q", "w_k", "w_v", "w_o"), weights):
        getattr(mha, name)[...] = w
    return mha


def _as_floats(x: Any) -> np.ndarray:
    """A student's value (ndarray or Tensor-like) as float64."""
    return np.asarray(x if isinstance(x, np.ndarray) else getattr(x, "data", x), dtype=float)


def _cached_length(cache: Any) -> int:
    if isinstance(cache, Trusted):
        cache = cache.obj
    return int(np.asarray(cache.cache_lengths)[0])


def _cache_maker(student: Any, reference: Any, rng: np.random.Generator,
                 tol: Any) -> Callable[[int], Any]:
    """``make(capacity)``: a cache for measuring decode steps. The student's own KVCache if
    its update returns what the slot holds; else (none, or a broken one) a reference cache
    lent to the student's code (``proctor.sandbox.callback``): a missing or broken KVCache
    costs kv_cache's points, not the decode step's efficiency."""
    if _update_returns_history(student, rng, tol):
        return lambda capacity: student.KVCache(1, capacity, NUM_HEADS, HEAD_DIM)
    return lambda capacity: Trusted(reference.KVCache(1, capacity, NUM_HEADS, HEAD_DIM),
                                    "KVCache")


def _write(cache: Any, name: str, value: np.ndarray) -> None:
    """Overwrite a cache's array attribute in place (a lent cache: here, directly)."""
    if isinstance(cache, Trusted):
        getattr(cache.obj, name)[...] = value
    else:
        cache.assign(name, value)


def _unmeasurable(what: str) -> CheckFailure:
    """The cost cannot be measured because the cache does not hold what it should; the
    kv_cache / cached_attention tasks' own tests say what is wrong."""
    return CheckFailure(
        f"Cannot measure efficiency: {what}. Until KVCache and cached_self_attention work "
        "(see their own tests), their cost cannot be measured.",
        {"checked": "efficiency precondition", "problem": what},
    )


def _prefill(cache: Any, keys: np.ndarray, values: np.ndarray, length: int) -> None:
    """Make slot 0 hold ``length`` positions of ``keys``/``values`` ``(NUM_HEADS, >= length,
    HEAD_DIM)``, written straight into the contract's ``cached_keys``, ``cached_values`` and
    ``cache_lengths`` (falling back to one ``KVCache.update`` if those cannot be written).

    The cost of a decode step depends on how many positions the cache holds, not on how
    they got there, so random keys and values written into the cache stand in for a decoded
    prompt (the reference side is prepared the same way). Decoding a 4096-token prompt
    instead would cost O(L^2) before anything is measured. Writing the attributes, not
    calling the student's ``update``, keeps a broken ``update`` from costing efficiency
    points too: kv_cache's own tests count it. A submission that keeps its own record of
    past tokens rather than reading the cache would look cheap here, but
    ``test_decode_reads_keys_and_values_from_cache`` already fails it.
    """
    if isinstance(cache, Trusted):
        cache.obj.reset(0)
        cache.obj.update(0, keys[:, :length], values[:, :length])
        return
    try:
        for name, new in (("cached_keys", keys), ("cached_values", values)):
            full = np.zeros(np.shape(_as_floats(getattr(cache, name))))
            full[0, :, :length] = new[:, :length]
            cache.assign(name, full)
        lengths = np.zeros(len(np.atleast_1d(_as_floats(cache.cache_lengths))), dtype=np.int64)
        lengths[0] = length
        cache.assign("cache_lengths", lengths)
        return
    except Exception:  # noqa: BLE001 - not the contract's attributes: go through update
        pass
    filled = _cached_length(cache)
    if filled < length:
        cache.update(0, keys[:, filled:length], values[:, filled:length])
        now = _cached_length(cache)
        if now != length:
            raise _unmeasurable(
                f"after appending {length - filled} positions to a slot holding {filled}, "
                f"cache_lengths[0] was {now}, not {length}"
            )


def _same(a: np.ndarray, b: np.ndarray, tol: Any) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=tol.rtol, atol=tol.atol)


def _does_no_work(what: str, problem: str, hint: str) -> CheckFailure:
    """Efficiency is judged only on code that does the work (a constant is cheap)."""
    return CheckFailure(
        f"Efficiency is measured only on code that does the work, and {what} {problem}. "
        "Its correctness tests say what is wrong; once it works, its cost is measured here.",
        {"checked": "efficiency precondition: the code does the work", "problem": problem},
        hint,
    )


def _require_attention_works(sdpa: Any, rng: np.random.Generator, tol: Any) -> None:
    """SDPA's output must be finite, the same for the same inputs, and change with its keys
    and with its values: zeros, a constant, NaN, an echo of the query, noise or uniform
    weights are cheap but do no attention."""
    q, k, v = (rng.standard_normal((1, 5, 4)) for _ in range(3))
    base = _as_floats(sdpa.forward(q, k, v))
    again = _as_floats(sdpa.forward(q, k, v))
    new_k = _as_floats(sdpa.forward(q, rng.standard_normal(k.shape), v))
    new_v = _as_floats(sdpa.forward(q, k, rng.standard_normal(v.shape)))
    what = "ScaledDotProductAttention.forward"
    if not all(np.isfinite(a).all() for a in (base, again, new_k, new_v)):
        raise _does_no_work(what, "returned NaN or inf on ordinary inputs", SDPA_WORK_HINT)
    if not _same(base, again, tol):
        raise _does_no_work(what, "returned different outputs for the same inputs", SDPA_WORK_HINT)
    for changed, got in (("keys", new_k), ("values", new_v)):
        if _same(base, got, tol):
            raise _does_no_work(what, f"returned the same output when only the {changed} "
                                "changed", SDPA_WORK_HINT)


def _attention_does_work(student: Any, rng: np.random.Generator, tol: Any) -> bool:
    """Does the student's ScaledDotProductAttention pass :func:`_require_attention_works`?"""
    try:
        _require_attention_works(student.ScaledDotProductAttention(dropout=0.0), rng, tol)
    except Exception:  # noqa: BLE001 - one that raises does no work either
        return False
    return True


def _update_returns_history(student: Any, rng: np.random.Generator, tol: Any) -> bool:
    """Does the student's ``KVCache.update`` return every cached position plus the new ones?
    If not, a decode step built on it cannot see the past, and kv_cache's tests count that."""
    try:
        cache = student.KVCache(1, 6, NUM_HEADS, HEAD_DIM)
        keys, values = _random_kv(rng, 3)
        _prefill(cache, keys, values, 3)
        new_k, new_v = _random_kv(rng, 1)
        got = cache.update(0, new_k, new_v)
        return _same(_as_floats(got[0]), np.concatenate([keys, new_k], axis=1), tol)
    except Exception:  # noqa: BLE001 - a cache that raises does not work either
        return False


def _require_update_stores(student: Any, rng: np.random.Generator, tol: Any) -> None:
    """``KVCache.update`` must write the new keys into ``cached_keys`` and return them with
    keys the slot held before (at any position: where is kv_cache's concern): an update
    that stores nothing, or returns zeros, NaN, noise or an echo of its input, is cheap but
    does no work (returning the history without copying it all is what is measured)."""
    cache = student.KVCache(1, 4, NUM_HEADS, HEAD_DIM)
    earlier_k, earlier_v = _random_kv(rng, 2)
    _prefill(cache, earlier_k, earlier_v, 2)
    new_k, new_v = _random_kv(rng, 1)
    returned = cache.update(0, new_k, new_v)
    stored = _as_floats(cache.cached_keys)[0]  # (heads, positions, head_dim)

    def holds(a: np.ndarray, part: np.ndarray) -> bool:
        width = part.shape[1]
        return a.ndim == 3 and any(_same(a[:, p:p + width], part, tol)
                                   for p in range(a.shape[1] - width + 1))

    returned = [_as_floats(r) for r in returned] if isinstance(returned, (tuple, list)) else []
    problem = None
    if not holds(stored, new_k):
        problem = "did not write the new keys into cached_keys"
    elif not any(holds(r, new_k) for r in returned):
        problem = "did not return the new keys among what it returned"
    elif not any(holds(r, earlier_k[:, p:p + 1]) for r in returned for p in range(2)):
        problem = "returned the new keys without any of the ones the slot already held"
    if problem:
        raise _does_no_work("KVCache.update", problem,
                            "update writes the new keys and values into the preallocated "
                            "cached_keys / cached_values, after what the slot holds, and "
                            "returns the slot's keys and values so far.")


def _attention_is_right(student: Any, reference: Any, rng: np.random.Generator, tol: Any) -> bool:
    """Does the student's ScaledDotProductAttention match the reference on a masked input?"""
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    mask = np.tril(np.ones((3, 3), dtype=bool))
    try:
        got = _as_floats(student.ScaledDotProductAttention(dropout=0.0).forward(q, k, v, mask=mask))
    except Exception:  # noqa: BLE001 - one that raises is not right either
        return False
    return _same(got, reference.ScaledDotProductAttention().forward(q, k, v, mask=mask), tol)


def _require_decoding_works(student: Any, reference: Any, mha: Any, rng: np.random.Generator,
                            tol: Any, make_cache: Callable[[int], Any]) -> None:
    """A decode step's newest outputs must be finite and change when the earlier cached
    keys change, and when the earlier cached values change (caches alike but for those,
    the same new tokens), and be the same for the same cache and tokens: zeros, a constant,
    NaN, an echo, noise or uniform weights do no work.

    The caches come from ``make_cache`` (a lent one if the student's does not work). For
    outputs that follow the values but not the keys, a wrong ScaledDotProductAttention
    (its own tests count it) excuses the step: an inverted mask leaves one key per row."""
    prompt_len = 6
    x_new = rng.standard_normal((2, EMBED_DIM))
    keys, values = _random_kv(rng, prompt_len)
    other_keys, other_values = _random_kv(rng, prompt_len)
    outs = []
    for k, v in ((keys, values), (keys, values), (other_keys, values), (keys, other_values)):
        cache = make_cache(prompt_len + 4)
        _prefill(cache, k, v, prompt_len)
        outs.append(_as_floats(student.cached_self_attention(mha, x_new, cache, 0)))
    base, again, new_keys, new_values = outs
    problem, excused = None, False
    if not all(np.isfinite(o).all() for o in outs):
        problem = "returned NaN or inf on ordinary inputs"
    elif not _same(base, again, tol):
        problem = "returned different outputs for the same cache and the same new tokens"
    elif _same(base, new_values, tol):
        problem = ("gave the same output for the same new tokens whatever earlier values the "
                   "cache held")
    elif _same(base, new_keys, tol):
        problem = ("gave the same output for the same new tokens whatever earlier keys the "
                   "cache held (its weights do not depend on the keys)")
        # an ordinary SDPA bug is charged in its own task; an SDPA that ignores its keys
        # (uniform weights) does no attention, so the step built on it does no work either
        excused = (not _attention_is_right(student, reference, rng, tol)
                   and _attention_does_work(student, rng, tol))
    if problem and not excused:
        raise _does_no_work("cached_self_attention", problem, DECODE_WORK_HINT)


def _decode_prompt_tail(student: Any, mha: Any, cache: Any, tokens: np.ndarray) -> None:
    """Decode ``tokens`` (the end of a prompt) in one ``cached_self_attention`` call onto
    what slot 0 already holds.

    Before a decode step is timed, its process should be in the state a decoding loop
    leaves it in. A prompt chunk allocates a chunk's worth of what one step allocates, and
    freeing it raises the C allocator's thresholds above one step's temporaries; without it
    (a cache filled by ``update`` alone) every step of a submission that allocates large
    temporaries can page-fault fresh memory from the system, several times slower than a
    warm step. The trusted process that times the reference is long past that state.
    """
    student.cached_self_attention(mha, tokens, cache, 0)


def _random_kv(rng: np.random.Generator, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and values ``(NUM_HEADS, length, HEAD_DIM)`` for ``_prefill``."""
    shape = (NUM_HEADS, length, HEAD_DIM)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def _reference_decode_times(
    reference: Any, weights: list[np.ndarray], x_new: np.ndarray, keys: np.ndarray,
    values: np.ndarray, length: int, repeat: int,
) -> list[float]:
    """The reference's decode-step times at cached length ``length`` (its cache filled from
    ``keys``/``values`` as the student's is), measured here the way the sandbox measures
    the student's."""
    mha = _reference_mha(reference, weights)
    cache = reference.KVCache(1, length + CACHE_ROOM, NUM_HEADS, HEAD_DIM)
    cache.update(0, keys[:, :length], values[:, :length])
    return measure_call(reference.cached_self_attention, mha, x_new, cache, 0,
                        repeat=repeat)["times"]


# ----------------------------------------------------------------------------- tests


@pytest.mark.points(2)
def test_decode_step_grows_linearly(student, reference, rng, record, tol):
    """One decode step's memory grows linearly with the cached length.

    Peak memory over cached lengths 128..2048: slope <= 1.3, and at 2048 below even a
    boolean T x T mask."""
    weights = _weights(rng)
    mha = _student_mha(student, weights)
    make_cache = _cache_maker(student, reference, rng, tol)
    _require_decoding_works(student, reference, mha, rng, tol, make_cache)
    longest = CACHED_LENGTHS[-1]
    cache = make_cache(longest + CACHE_ROOM)
    keys, values = _random_kv(rng, longest)
    x_new = rng.standard_normal((1, EMBED_DIM))

    def measure(length: int) -> dict:
        _prefill(cache, keys, values, length)
        return student.measure("cached_self_attention", mha, x_new, cache, 0,
                               repeat=GROWTH_REPEAT)

    def reference_time(length: int) -> float:
        return min(_reference_decode_times(reference, weights, x_new, keys, values, length,
                                           GROWTH_REPEAT))

    assert_growth(
        CACHED_LENGTHS, measure, allowed_slope=1.3, what="one decode step",
        over="cached lengths", record=record, hint=DECODE_HINT,
        max_last=(float(longest) ** 2, "a boolean T x T mask's size; a step needs O(T)"),
        reference_time=reference_time,
    )


def test_cache_update_does_not_copy(student, rng, record, tol):
    """Peak memory of appending one token stays flat however much the slot holds."""
    _require_update_stores(student, rng, tol)
    longest = CACHED_LENGTHS[-1]
    cache = student.KVCache(1, longest + CACHE_ROOM, NUM_HEADS, HEAD_DIM)
    keys, values = _random_kv(rng, longest)
    new_k, new_v = _random_kv(rng, 1)

    def measure(length: int) -> dict:
        _prefill(cache, keys, values, length)
        return cache.measure("update", 0, new_k, new_v, repeat=MEMORY_REPEAT)

    assert_growth(
        CACHED_LENGTHS, measure, allowed_slope=0.5, what="one KVCache.update of one token",
        over="cached lengths", record=record, hint=UPDATE_HINT,
    )


def test_decode_reads_keys_and_values_from_cache(student, reference, rng, tol):
    """A decode step reads earlier keys and values from the cache, not recomputing them.

    Two caches filled with the same prompt, one of them with its stored keys and values
    then replaced in place, must give different outputs for the same next token. (A step
    that ignores earlier positions altogether is left to the cached_attention tests.)

    Compares the submission only with itself, so a decode step that is wrong in some other
    way (its own tests count that) does not lose these points too.
    """
    prompt_len, room = 12, 4
    weights = _weights(rng)
    mha = _student_mha(student, weights)
    make_cache = _cache_maker(student, reference, rng, tol)
    _require_decoding_works(student, reference, mha, rng, tol, make_cache)
    prompt = rng.standard_normal((prompt_len, EMBED_DIM))
    x_new = rng.standard_normal((1, EMBED_DIM))
    kept = make_cache(prompt_len + room)
    replaced = make_cache(prompt_len + room)
    for cache in (kept, replaced):
        try:
            student.cached_self_attention(mha, prompt, cache, 0)
        except Exception:  # noqa: BLE001 - it cannot decode a prompt into an empty cache (its
            # own tests count that): put the prompt's keys and values in directly instead
            heads = [(prompt @ w).reshape(prompt_len, NUM_HEADS, HEAD_DIM).transpose(1, 0, 2)
                     for w in weights[1:3]]
            _prefill(cache, *heads, prompt_len)

    shape = (1, NUM_HEADS, prompt_len + room, HEAD_DIM)
    for name in ("cached_keys", "cached_values"):
        other = 3.0 * rng.standard_normal(shape)
        other[:, :, prompt_len:] = 0.0
        _write(replaced, name, other)
    as_kept = _as_floats(student.cached_self_attention(mha, x_new, kept, 0))
    as_replaced = _as_floats(student.cached_self_attention(mha, x_new, replaced, 0))

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and np.allclose(a, b, rtol=tol.rtol, atol=tol.atol)

    def ignores_the_past() -> bool:
        """The step gives the same output with nothing cached: it does not attend to earlier
        positions at all (a correctness bug the cached_attention tests count, or its
        KVCache's, which kv_cache's count); it says nothing about recomputing."""
        try:
            empty = make_cache(prompt_len + room)
            alone = _as_floats(student.cached_self_attention(mha, x_new, empty, 0))
        except Exception:  # noqa: BLE001 - it cannot even run without a past
            return False
        return same(as_kept, alone)

    if same(as_kept, as_replaced) and not ignores_the_past():
        raise CheckFailure(
            "After the keys and values stored in the KV cache (cached_keys / "
            "cached_values) were replaced in place, the next decode step gave the same "
            "output as with the cache left alone: it does not read earlier keys and values "
            "from the cache, so it must recompute them from earlier tokens (or keep them "
            "somewhere else).",
            {"checked": "decode step reads the cache", "reads_cache": False},
            RECOMPUTE_HINT,
        )


def test_attention_grows_at_most_quadratically(student, rng, record, tol):
    """Attention's memory grows no faster than quadratically in the sequence length.

    Peak memory of ScaledDotProductAttention.forward over seq 12..192: slope <= 2.3, the
    quadratic that the (seq_q, seq_k) weights need plus room."""
    sdpa = student.ScaledDotProductAttention(dropout=0.0)
    _require_attention_works(sdpa, rng, tol)
    d = 8

    def measure(seq: int) -> dict:
        q, k, v = (rng.standard_normal((1, seq, d)) for _ in range(3))
        return sdpa.measure("forward", q, k, v, repeat=MEMORY_REPEAT)

    assert_growth(
        SEQ_LENGTHS, measure, allowed_slope=2.3, what="ScaledDotProductAttention.forward",
        over="sequence lengths", record=record,
        hint="Attention needs one (seq_q, seq_k) score matrix per batch element; "
        "something bigger than that is being built.",
    )


def test_decode_step_runtime_near_reference(student, reference, rng, record, tol):
    """One decode step takes at most 25x the reference's time.

    At cached length 4096; catches Python loops over cached positions, whose memory looks
    linear."""
    weights = _weights(rng)
    mha = _student_mha(student, weights)
    make_cache = _cache_maker(student, reference, rng, tol)
    _require_decoding_works(student, reference, mha, rng, tol, make_cache)
    length = RUNTIME_LENGTH
    cache = make_cache(length + CACHE_ROOM)
    keys, values = _random_kv(rng, length)
    _prefill(cache, keys, values, length - PROMPT_TAIL)
    _decode_prompt_tail(student, mha, cache, rng.standard_normal((PROMPT_TAIL, EMBED_DIM)))
    x_new = rng.standard_normal((1, EMBED_DIM))
    assert_within_factor(
        lambda: student.measure(
            "cached_self_attention", mha, x_new, cache, 0, repeat=TIME_REPEAT
        )["times"],
        lambda: _reference_decode_times(reference, weights, x_new, keys, values, length,
                                        TIME_REPEAT),
        what=f"one decode step at cached length {length}", factor=RUNTIME_FACTOR,
        record=record, hint=LOOP_HINT,
    )


def test_attention_runtime_near_reference(student, reference, rng, record, tol):
    """Attention takes at most 25x the reference's time.

    ScaledDotProductAttention.forward on (1, 128, 16); catches loops over pairs of
    positions. Small enough that BLAS stays on one thread on both sides."""
    sdpa = student.ScaledDotProductAttention(dropout=0.0)
    _require_attention_works(sdpa, rng, tol)
    q, k, v = (rng.standard_normal((1, 128, 16)) for _ in range(3))
    ref = reference.ScaledDotProductAttention(dropout=0.0)
    assert_within_factor(
        lambda: sdpa.measure("forward", q, k, v, repeat=TIME_REPEAT)["times"],
        lambda: measure_call(ref.forward, q, k, v, repeat=TIME_REPEAT)["times"],
        what="ScaledDotProductAttention.forward at seq 128", factor=RUNTIME_FACTOR,
        record=record, hint=SDPA_SLOW_HINT,
    )
