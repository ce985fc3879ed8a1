"""Public checks of task kv_cache: students run these locally (``proctor check``).

The two updates' keys and values, and what each known-wrong cache (never advancing,
padding, ...) returns on them (for the hints), come from the golden case ``kv_append``,
made from the reference at release time.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import pytest

from _inputs import CACHE_AXES, to_float

pytestmark = [pytest.mark.task("kv_cache"), pytest.mark.visibility("public")]


def test_preallocated_and_empty(student: Any) -> None:
    """A new KVCache has its arrays allocated at full size and holds nothing yet."""
    cache = student.KVCache(2, 8, 3, 4)
    for name in ("cached_keys", "cached_values"):
        arr = to_float(getattr(cache, name))
        assert arr.shape == (2, 3, 8, 4), (
            f"KVCache(max_batch_size=2, max_seq_length=8, num_heads=3, head_dim=4).{name} "
            f"should have shape (2, 3, 8, 4) (batch, heads, position, head_dim); got {arr.shape}"
        )
        assert not arr.any(), f"a new cache's {name} should be all zeros"
    lengths = to_float(cache.cache_lengths)
    assert lengths.shape == (2,) and not lengths.any(), (
        f"a new cache's cache_lengths should be one zero per batch slot, [0, 0]; got {lengths}"
    )


@pytest.mark.points(2)
def test_updates_append(student: Any, check: Any, golden: Any) -> None:
    """Two updates: the second returns the first's entries followed by its own."""
    case = golden("kv_append")
    inputs, expected, variants = case["inputs"], case["expected"], case["variants"]
    cache = student.KVCache(*inputs["shape"])
    keys, values = cache.update(0, inputs["k1"], inputs["v1"])
    check(keys, expected["first_keys"], what="the keys returned by the first update",
          axes=CACHE_AXES, variants=variants["first_keys"])
    check(values, expected["first_values"], what="the values returned by the first update",
          axes=CACHE_AXES, variants=variants["first_values"])
    keys, values = cache.update(0, inputs["k2"], inputs["v2"])
    check(to_float(cache.cache_lengths), expected["cache_lengths"],
          what="cache_lengths after updates of 3 and 1 positions",
          variants=variants["cache_lengths"])
    check(keys, expected["keys"],
          what="the keys returned by a second update (all cached positions, no padding)",
          variants=variants["keys"], axes=CACHE_AXES)
    check(values, expected["values"],
          what="the values returned by a second update (all cached positions, no padding)",
          variants=variants["values"], axes=CACHE_AXES)
