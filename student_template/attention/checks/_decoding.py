"""Cached-decoding scenarios shared by the hidden and public cached_attention tests.

A scenario decodes one or more sequences (one per cache slot) in steps; these helpers build
it, run it on the student's code and join the step outputs: bookkeeping only. This file
ships with students' local checks, so it computes no attention math; the trusted decoding
compositions (projected keys, a decoding step, the alternatives) are hidden, in
``composition.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from _inputs import mha_weights, to_float


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


def empty_cache(student: Any, sc: Scenario) -> Any:
    """A new student KVCache sized for the scenario."""
    return student.KVCache(sc.max_batch, sc.max_len, sc.num_heads, sc.head_dim)


def run_student(student: Any, new_mha: Any, sc: Scenario,
                cache: Any = None) -> tuple[Any, Any, dict[int, list[Any]]]:
    """Decode the scenario with the student's MHA, KVCache and cached_self_attention.

    ``cache``: the student's KVCache to decode into; a scenario with direct prefixes needs
    one that already holds them (``composition.new_cache``, hidden: it projects the keys)."""
    if cache is None:
        if any(sc.prefix.values()):
            raise ValueError("a scenario with direct prefixes needs its prefilled cache")
        cache = empty_cache(student, sc)
    mha = new_mha(sc.embed_dim, sc.num_heads, sc.weights)
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


def scenario(rng: np.random.Generator, events: list[tuple[int, int]], *, embed_dim: int = 12,
             num_heads: int = 3, **kw: Any) -> Scenario:
    """Random weights and sequences long enough for ``events`` (plus any prefix)."""
    prefix = kw.get("prefix", {})
    slots = sorted({s for s, _ in events} | set(prefix))
    lengths = {s: prefix.get(s, 0) + sum(n for t, n in events if t == s) for s in slots}
    xs = {s: rng.standard_normal((lengths[s], embed_dim)) for s in slots}
    return Scenario(mha_weights(rng, embed_dim), num_heads, xs, events, **kw)
