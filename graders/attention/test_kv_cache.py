"""Task kv_cache: ``KVCache`` against the reference, one sequence of operations at a time.

Each test replays the same operations on the student's cache (in the sandbox) and on the
reference cache, and compares every ``update``'s returned keys and values; the attributes
``cached_keys``, ``cached_values`` and ``cache_lengths`` are read back through the proxy.
Known-wrong caches (never advancing, padding, ignoring the slot, ...) replay the same
operations for the hints. The public tests are in ``public/test_kv_cache_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from proctor.testing import describe_value
from _inputs import examples, CACHE_AXES, Op, new_entries, seeds, to_float, update, variants

pytestmark = [pytest.mark.task("kv_cache")]

OVERFLOW_HINT = ("Compare cache_lengths[batch_idx] + new_len with max_seq_length and raise "
                 "ValueError when it would not fit.")
UNCHANGED_HINT = ("An update that does not fit must raise before changing anything: check "
                  "first, then write the entries and the new length.")


def replay(student: Any, reference: Any, check: Any, shape: tuple[int, int, int, int],
           ops: list[Op]) -> tuple[Any, Any]:
    """Run ``ops`` on a new student cache and a new reference cache; after every update,
    compare the returned keys and values. Returns both caches for further checks."""
    cache = student.KVCache(*shape)
    ref = reference.KVCache(*shape)
    for i, (name, args) in enumerate(ops):
        if name == "reset":
            cache.reset(*args)
            ref.reset(*args)
            continue
        result = cache.update(*args)
        compare_update(check, shape, ops[: i + 1], cache, result, ref, ref.update(*args))
    return cache, ref


def compare_update(check: Any, shape: tuple[int, int, int, int], done: list[Op], cache: Any,
                   result: Any, ref: Any, expected: tuple[np.ndarray, np.ndarray]) -> None:
    """After the last of ``done``: cache_lengths first (it tells apart mistakes that return
    the same keys), then the returned keys and values, each with the cache variants."""
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        f"update must return the tuple (keys, values); got {describe_value(result)}"
    )
    step = _describe(done)
    check(to_float(cache.cache_lengths), ref.cache_lengths,
          what=f"cache_lengths after {step}",
          variants=variants("kv_variants", shape, done, lengths=True))
    for label, got, want, index in (("keys", result[0], expected[0], 0),
                                     ("values", result[1], expected[1], 1)):
        check(got, want, what=f"the {label} returned by update after {step}",
              variants=variants("kv_variants", shape, done,
                                pick=lambda results, index=index: results[-1][index]),
              axes=CACHE_AXES)


def _describe(ops: list[Op]) -> str:
    """"the operations [slot 0 +2, slot 1 +1, reset(0)]": what was done, without the data."""
    parts = []
    for name, args in ops:
        if name == "update":
            parts.append(f"slot {args[0]} +{np.shape(args[1])[1]}")
        else:
            parts.append("reset()" if not args or args[0] is None else f"reset({args[0]})")
    return "the operations [" + ", ".join(parts) + "]"


def state(cache: Any) -> dict[str, np.ndarray]:
    """The student's cache as arrays, read back through the proxy."""
    return {
        "cached_keys": to_float(cache.cached_keys),
        "cached_values": to_float(cache.cached_values),
        "cache_lengths": to_float(cache.cache_lengths),
    }


# ----------------------------------------------------------------------------- hidden


@pytest.mark.points(2)
def test_single_tokens_after_a_prompt(student: Any, reference: Any, check: Any,
                                      rng: Any) -> None:
    """A 4-position update followed by three 1-position updates is stored in order."""
    ops = [update(0, *new_entries(rng, 2, 4, 3))]
    ops += [update(0, *new_entries(rng, 2, 1, 3)) for _ in range(3)]
    cache, ref = replay(student, reference, check, (1, 10, 2, 3), ops)
    check(to_float(cache.cache_lengths), ref.cache_lengths,
          what="cache_lengths after a 4-position update and three 1-position updates")


@pytest.mark.points(2)
def test_slots_are_independent(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """Interleaved updates to slots 0 and 2; slot 1 is never touched and stays empty."""
    ops = [update(2, *new_entries(rng, 2, 2, 3)), update(0, *new_entries(rng, 2, 3, 3)),
           update(2, *new_entries(rng, 2, 1, 3)), update(0, *new_entries(rng, 2, 1, 3)),
           update(2, *new_entries(rng, 2, 2, 3))]
    cache, ref = replay(student, reference, check, (3, 6, 2, 3), ops)
    got = state(cache)
    check(got["cache_lengths"], ref.cache_lengths,
          what="cache_lengths after interleaved updates to slots 0 and 2")
    check(got["cached_keys"][1], np.zeros((2, 6, 3)),
          what="cached_keys of slot 1, which was never updated", axes=CACHE_AXES)
    check(got["cached_values"][1], np.zeros((2, 6, 3)),
          what="cached_values of slot 1, which was never updated", axes=CACHE_AXES)


def test_cached_arrays_hold_the_updates(student: Any, reference: Any, check: Any,
                                        rng: Any) -> None:
    """What update stores is in cached_keys / cached_values at positions [0, length)."""
    ops = [update(1, *new_entries(rng, 2, 3, 2)), update(1, *new_entries(rng, 2, 2, 2))]
    cache, ref = replay(student, reference, check, (2, 6, 2, 2), ops)
    got = state(cache)
    check(got["cached_keys"][1, :, :5], ref.cached_keys[1, :, :5],
          what="cached_keys of the updated slot, positions 0-4", axes=CACHE_AXES)
    check(got["cached_values"][1, :, :5], ref.cached_values[1, :, :5],
          what="cached_values of the updated slot, positions 0-4", axes=CACHE_AXES)


@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
def test_fill_to_exactly_max_length(student: Any, reference: Any, check: Any,
                                    rng: Any) -> None:
    """Updates that fill a slot to exactly max_seq_length are accepted."""
    ops = [update(0, *new_entries(rng, 1, 3, 4)), update(0, *new_entries(rng, 1, 2, 4))]
    replay(student, reference, check, (1, 5, 1, 4), ops)


@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
@pytest.mark.points(2)
def test_overflow_raises_and_changes_nothing(student: Any, check: Any, rng: Any) -> None:
    """An update past max_seq_length raises ValueError and leaves the cache unchanged."""
    cache = student.KVCache(2, 5, 2, 3)
    k, v = new_entries(rng, 2, 4, 3)
    cache.update(1, k, v)
    before = state(cache)
    extra = new_entries(rng, 2, 2, 3)
    check.raises(ValueError, lambda: cache.update(1, *extra),
                 what="an update of 2 positions to a slot holding 4 of max_seq_length=5",
                 hint=OVERFLOW_HINT)
    after = state(cache)
    for name in before:
        check(after[name], before[name],
              what=f"{name} after an update that would pass max_seq_length raised "
              "(a failed update must change nothing)", hint=UNCHANGED_HINT)
    k1, v1 = new_entries(rng, 2, 1, 3)
    keys, _ = cache.update(1, k1, v1)
    check(keys, np.concatenate([k, k1], axis=1),
          what="the keys returned by an update that fits, after a refused one",
          axes=CACHE_AXES)


@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
def test_overflow_from_empty(student: Any, check: Any, rng: Any) -> None:
    """An update longer than max_seq_length raises ValueError even on an empty slot."""
    cache = student.KVCache(1, 3, 1, 2)
    extra = new_entries(rng, 1, 4, 2)
    check.raises(ValueError, lambda: cache.update(0, *extra),
                 what="an update of 4 positions to an empty slot with max_seq_length=3",
                 hint=OVERFLOW_HINT)
    check(to_float(cache.cache_lengths), np.zeros(1),
          what="cache_lengths after a refused update to an empty cache", hint=UNCHANGED_HINT)


@pytest.mark.points(2)
def test_reset_one_slot(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """Resetting one slot empties it and leaves the other slot alone."""
    ops = [update(0, *new_entries(rng, 2, 3, 2)), update(1, *new_entries(rng, 2, 2, 2)),
           ("reset", (0,)),
           update(0, *new_entries(rng, 2, 2, 2)), update(1, *new_entries(rng, 2, 1, 2))]
    cache, ref = replay(student, reference, check, (2, 6, 2, 2), ops)
    check(to_float(cache.cache_lengths), ref.cache_lengths,
          what="cache_lengths after resetting slot 0 and updating both slots again")


@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
def test_reset_all_slots(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """reset() with no slot empties every slot."""
    ops = [update(0, *new_entries(rng, 1, 3, 2)), update(1, *new_entries(rng, 1, 2, 2)),
           ("reset", ()),
           update(1, *new_entries(rng, 1, 1, 2))]
    cache, ref = replay(student, reference, check, (2, 4, 1, 2), ops)
    check(to_float(cache.cache_lengths), ref.cache_lengths,
          what="cache_lengths after reset() and one more update")


@pytest.mark.requires("test_kv_cache_public.py::test_updates_append")
def test_reset_frees_room(student: Any, reference: Any, check: Any, rng: Any) -> None:
    """After a reset a slot holds max_seq_length positions again."""
    ops = [update(0, *new_entries(rng, 1, 4, 2)), ("reset", (0,)),
           update(0, *new_entries(rng, 1, 4, 2))]
    replay(student, reference, check, (1, 4, 1, 2), ops)


def test_memory_usage_reports_total(student: Any) -> None:
    """get_memory_usage() reports the cache's total size in MB, which grows with the cache."""
    usage = student.KVCache(2, 16, 4, 8).get_memory_usage()
    assert isinstance(usage, dict) and "total_cache_memory_mb" in usage, (
        "get_memory_usage() should return a dict with the key 'total_cache_memory_mb'; got "
        f"{describe_value(usage)}" + (f" with keys {sorted(usage)}" if isinstance(usage, dict)
                                     else "")
    )
    total = usage["total_cache_memory_mb"]
    assert isinstance(total, (int, float)) and total > 0, (
        f"total_cache_memory_mb should be a positive number of megabytes; got {total!r}"
    )
    longer = student.KVCache(2, 32, 4, 8).get_memory_usage()["total_cache_memory_mb"]
    assert isinstance(longer, (int, float)) and abs(longer / total - 2) < 0.02, (
        "total_cache_memory_mb should follow the cache's size: a cache twice as long (32 "
        f"positions, not 16) should report twice the megabytes, but reported {longer!r} "
        f"against {total!r}"
    )


# ----------------------------------------------------------------------------- property


@st.composite
def op_sequence(draw: st.DrawFn) -> tuple[tuple[int, int, int, int], list[tuple[Any, ...]], int]:
    """A cache shape with 2 or 3 slots, 2-8 operations and a seed for the entries. The
    operations come from the seed too (Hypothesis draws sizes and seeds, not each
    operation): ``("update", slot, new_len)``, or about one time in four a reset of one
    slot that holds something (the next update goes to that slot), or of all (``None``).
    Few slots, short caches and many operations make each example exercise many
    interactions: updates that overflow, slots of different lengths, updates after a
    reset."""
    shape = (draw(st.integers(2, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 3)),
             draw(st.integers(1, 3)))
    count, seed = draw(st.integers(2, 8)), draw(seeds)
    rng = np.random.default_rng(seed)
    lengths = [0] * shape[0]  # what each slot holds, to aim resets at slots that hold some
    steps: list[tuple[Any, ...]] = []
    reset: int | None = None
    for _ in range(count):
        held = [slot for slot, n in enumerate(lengths) if n]
        if held and rng.random() < 0.25:
            reset = None if rng.random() < 0.4 else int(rng.choice(held))
            steps.append(("reset", reset))
            lengths = [0 if reset in (None, i) else n for i, n in enumerate(lengths)]
        else:  # the first update after a reset of one slot goes to that slot
            slot = int(rng.integers(shape[0])) if reset is None else reset
            n, reset = int(rng.integers(1, 4)), None
            steps.append(("update", slot, n))
            if lengths[slot] + n <= shape[1]:
                lengths[slot] += n
    return shape, steps, seed


# In every grading, whatever Hypothesis draws besides: slots of different lengths, an
# update after a reset of its slot and after a reset of all, an update that exactly fills a
# slot and one that would overflow it, and a slot used for the first time at the end.
@examples(2)
@example(case=((3, 4, 2, 2), [("update", 0, 3), ("update", 2, 1), ("update", 2, 2),
                              ("reset", 0), ("update", 0, 2), ("reset", None),
                              ("update", 2, 4), ("update", 2, 1), ("update", 1, 1)], 1))
@given(case=op_sequence())
def test_random_operation_sequences(student: Any, reference: Any, check: Any,
                                    case: Any) -> None:
    """Random updates and resets behave as the reference's do, overflow included.

    Random updates and resets; an update that would overflow must raise ValueError
    (whenever the reference's does) and leave the cache as it was."""
    shape, steps, seed = case
    rng = np.random.default_rng([seed, 1])  # the entries: not the stream the steps came from
    cache = student.KVCache(*shape)
    ref = reference.KVCache(*shape)
    done: list[Op] = []
    for step in steps:
        if step[0] == "reset":
            cache.reset(step[1])
            ref.reset(step[1])
            done.append(("reset", (step[1],)))
            continue
        _, slot, n = step
        k, v = new_entries(rng, shape[2], n, shape[3])
        if ref.cache_lengths[slot] + n > shape[1]:
            before = to_float(cache.cache_lengths)
            check.raises(ValueError, lambda: cache.update(slot, k, v),
                         what=f"an update that would pass max_seq_length after {_describe(done)}",
                         hint=OVERFLOW_HINT)
            check(to_float(cache.cache_lengths), before,
                  what="cache_lengths after a refused update (it must change nothing)",
                  hint=UNCHANGED_HINT)
            continue
        done.append(update(slot, k, v))
        result = cache.update(slot, k, v)
        compare_update(check, shape, list(done), cache, result, ref, ref.update(slot, k, v))
