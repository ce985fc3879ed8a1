"""Cached-decoding scenarios shared by the hidden and public cached_attention tests.

A scenario decodes one or more sequences (one per cache slot) in steps; these helpers run
it on the student's code, join the step outputs, and build what is acceptable because
another task is at fault (no double jeopardy). Trusted side; ships with students' local
checks, so nothing here may be secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from _inputs import (
    CACHE_IS_THE_FAULT,
    MHA_IS_THE_FAULT,
    SDPA_IS_THE_FAULT_IN_DECODING,
    causal,
    mha_weights,
    split_heads,
    to_float,
)


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


def scenario(rng: np.random.Generator, events: list[tuple[int, int]], *, embed_dim: int = 12,
             num_heads: int = 3, **kw: Any) -> Scenario:
    """Random weights and sequences long enough for ``events`` (plus any prefix)."""
    prefix = kw.get("prefix", {})
    slots = sorted({s for s, _ in events} | set(prefix))
    lengths = {s: prefix.get(s, 0) + sum(n for t, n in events if t == s) for s in slots}
    xs = {s: rng.standard_normal((lengths[s], embed_dim)) for s in slots}
    return Scenario(mha_weights(rng, embed_dim), num_heads, xs, events, **kw)
