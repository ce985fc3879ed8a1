"""Trusted compositions of the contract, for the hidden attention tests (never shipped).

These helpers compute parts of the solution (head split and merge, projections, a causal
mask, a KV cache's contents, a decoding step), each around one piece of the student's own
code, to build what is acceptable when another task is at fault (no double jeopardy).
Because they are solution logic they live here, not in ``conftest.py`` or ``_*.py``
(which ship to students with ``public/``): ``proctor release`` copies neither this module
nor the ``test_*.py`` files that import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from proctor.testing import Trusted, SandboxFailure

from _decoding import Scenario, empty_cache, joined, run_student
from _inputs import (
    CACHE_IS_THE_FAULT,
    MHA_IS_THE_FAULT,
    SDPA_IS_THE_FAULT_IN_DECODING,
    Alternative,
    to_float,
)


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(..., seq, E) -> (..., num_heads, seq, head_dim)``: head h = columns h*hd:(h+1)*hd."""
    *lead, seq, e = x.shape
    x = x.reshape(*lead, seq, num_heads, e // num_heads)
    return np.swapaxes(x, -3, -2)


def causal(n: int) -> np.ndarray:
    """The trusted causal mask, so decoding checks never depend on the student's mask."""
    return np.tril(np.ones((n, n), dtype=bool))


def own_sdpa_mha(student: Any, query: np.ndarray, key: np.ndarray, value: np.ndarray,
                 weights: Mapping[str, np.ndarray], num_heads: int, mask: Any = None,
                 part: str = "output") -> np.ndarray:
    """What a correct MHA built on the student's own ``ScaledDotProductAttention`` returns.

    Projects and splits heads here (as the contract says), then calls the student's SDPA
    once per head on ``(batch, seq, head_dim)`` slices, the shapes its own contract
    promises; concatenates and applies ``w_o`` (or, with ``part="weights"``, stacks the
    per-head weights).
    """
    sdpa = student.ScaledDotProductAttention()
    hd = query.shape[-1] // num_heads
    q, k, v = query @ weights["w_q"], key @ weights["w_k"], value @ weights["w_v"]
    outs, attn = [], []
    for h in range(num_heads):
        cols = slice(h * hd, (h + 1) * hd)
        out, w = sdpa.forward(q[..., cols], k[..., cols], v[..., cols], mask=mask,
                              return_attention_weights=True)
        outs.append(to_float(out))
        attn.append(to_float(w))
    if part == "weights":
        return np.stack(attn, axis=1)
    return np.concatenate(outs, axis=-1) @ weights["w_o"]


# ----------------------------------------------------------------------------- decoding


def trusted_kv(sc: Scenario, slot: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and values ``(heads, T, head_dim)`` of a whole sequence, computed here."""
    x = sc.xs[slot]
    return (split_heads(x @ sc.weights["w_k"], sc.num_heads),
            split_heads(x @ sc.weights["w_v"], sc.num_heads))


def new_cache(student: Any, sc: Scenario) -> Any:
    """A student KVCache whose slots already hold the scenario's direct prefixes."""
    cache = empty_cache(student, sc)
    for slot, p in sc.prefix.items():
        if p:
            k, v = trusted_kv(sc, slot)
            cache.update(slot, k[:, :p], v[:, :p])
    return cache


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


def lent_cache(reference: Any, sc: Scenario) -> Trusted:
    """A reference KVCache holding the scenario's direct prefixes, lent to student code
    (``proctor.sandbox.callback``): decoding can be judged without the student's cache."""
    cache = reference.KVCache(sc.max_batch, sc.max_len, sc.num_heads, sc.head_dim)
    for slot, p in sc.prefix.items():
        if p:
            k, v = trusted_kv(sc, slot)
            cache.update(slot, k[:, :p], v[:, :p])
    return Trusted(cache, "KVCache")


def run_with_some_cache(student: Any, reference: Any, new_mha: Any,
                        sc: Scenario) -> tuple[Any, Any, dict[int, list[Any]]]:
    """``run_student`` with the student's own KVCache, or, if that raises (no KVCache, a
    broken one), with a lent cache (returned as the ``Trusted`` it is). A failure with the
    lent cache too is the decoding step's own: the first error is raised."""
    try:
        return run_student(student, new_mha, sc, new_cache(student, sc))
    except SandboxFailure:
        raise
    except Exception as own:
        try:
            cache = lent_cache(reference, sc)
            mha, _, outs = run_student(student, new_mha, sc, cache)
        except Exception:  # noqa: BLE001 - not the cache's fault
            raise own from None
        return mha, cache, outs


def decode_with_lent_cache(student: Any, reference: Any, new_mha: Any,
                           sc: Scenario) -> dict[int, np.ndarray]:
    """Every slot's rows from the student's own decoding step, run with a lent cache."""
    _, _, outs = run_student(student, new_mha, sc, lent_cache(reference, sc))
    return {slot: joined(sc, o, slot) for slot, o in outs.items() if o}


def full_causal(mha: Any, sc: Scenario, slot: int) -> np.ndarray:
    """Rows of ``mha.forward(x, x, x, mask=causal)`` that the scenario decodes."""
    x = sc.xs[slot][None]
    out = mha.forward(x, x, x, mask=causal(x.shape[1]))
    return to_float(out)[0][sc.prefix.get(slot, 0):]


def decoding_alternatives(student: Any, reference: Any, mha: Any, sc: Scenario,
                          slot: int) -> list[Alternative]:
    """Results that are right but for another task's fault (no double jeopardy), lazily:
    the student's own MHA with a causal mask; decoding around the student's own
    ScaledDotProductAttention; decoding around the student's own KVCache (attending with
    the reference's SDPA). (The student's own step with a lent, correct cache is not an
    alternative to the rows: it must give the expected rows itself; see
    ``test_cached_attention.check_scenario``.)"""
    memo: dict[str, dict[int, np.ndarray]] = {}

    def composed(kind: str) -> Callable[[], np.ndarray]:
        def get() -> np.ndarray:
            if kind not in memo:
                if kind.startswith("cache"):
                    memo[kind] = compose_decode(student, sc, own_cache=True,
                                                attend=reference.ScaledDotProductAttention(),
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
