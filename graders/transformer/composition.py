"""Trusted compositions of the contract, for the hidden transformer tests (never shipped).

Two kinds of helpers:

* reference objects holding given weights (``ref_ln``, ``ref_ffn``, ``ref_block``,
  ``ref_gpt``), for expected values and for the known-wrong variants' hints;
* the contract's wiring computed here around the student's *own* pieces (a block around
  its own LayerNorms, FeedForward and attention; a model around its own blocks and final
  LayerNorm; greedy decoding around its own ``forward`` or its blocks' ``forward_cached``):
  what is acceptable when another task is at fault (no double jeopardy).

Because they are solution logic they live here, not in ``conftest.py`` or ``_inputs.py``
(which ship to students with ``public/``): ``proctor release`` copies neither this module
nor the ``test_*.py`` files that import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from proctor.testing import CheckFailure, describe_value

from _inputs import (
    ATTENTION_NAMES,
    BLOCK_IS_THE_FAULT,
    CACHED_BLOCK_IS_THE_FAULT,
    FFN_NAMES,
    FORWARD_IS_THE_FAULT,
    LN_NAMES,
    SUBLAYER_IS_THE_FAULT,
    Alternative,
    Config,
    to_float,
)


def causal(n: int) -> np.ndarray:
    """The trusted causal mask, so no check here depends on the student's attention's."""
    return np.tril(np.ones((n, n), dtype=bool))


# ----------------------------------------------------------------------------- reference


def _write(obj: Any, weights: Mapping[str, np.ndarray], names: Sequence[str]) -> None:
    for name in names:
        getattr(obj, name)[...] = weights[name]


def ref_ln(reference: Any, dim: int, weights: Mapping[str, np.ndarray] | None = None,
           eps: float | None = None) -> Any:
    ln = reference.LayerNorm(dim) if eps is None else reference.LayerNorm(dim, eps)
    if weights is not None:
        _write(ln, weights, LN_NAMES)
    return ln


def ref_ffn(reference: Any, weights: Mapping[str, np.ndarray]) -> Any:
    ffn = reference.FeedForward(*weights["w1"].shape)
    _write(ffn, weights, FFN_NAMES)
    return ffn


def _write_block(block: Any, weights: Mapping[str, Any]) -> None:
    _write(block.attention, weights["attention"], ATTENTION_NAMES)
    _write(block.ln1, weights["ln1"], LN_NAMES)
    _write(block.ffn, weights["ffn"], FFN_NAMES)
    _write(block.ln2, weights["ln2"], LN_NAMES)


def ref_block(reference: Any, num_heads: int, weights: Mapping[str, Any]) -> Any:
    embed_dim, hidden_dim = weights["ffn"]["w1"].shape
    block = reference.TransformerBlock(embed_dim, num_heads, hidden_dim)
    _write_block(block, weights)
    return block


def ref_gpt(reference: Any, cfg: Config, weights: Mapping[str, Any]) -> Any:
    model = reference.GPT(*cfg.args)
    _write(model, weights, ("token_embedding", "position_embedding", "w_out"))
    _write(model.ln_f, weights["ln_f"], LN_NAMES)
    for block, w in zip(model.blocks, weights["blocks"]):
        _write_block(block, w)
    return model


def check_parameters(check: Any, params: Any, expected: Sequence[tuple[str, np.ndarray]], *,
                     owner: str, layout: str, fix: str) -> None:
    """``params`` (a student object's ``parameters``) must be the list of the very arrays
    named in ``expected`` (``(name, the values just written into it)``), in that order."""
    if callable(params) or not isinstance(params, (list, tuple)) or len(params) != len(expected):
        raise CheckFailure(
            f"{owner}.parameters should be the list attribute of {len(expected)} arrays "
            f"{layout}; got {describe_value(params)}.", {"checked": "parameters"}, fix)
    for i, ((name, w), p) in enumerate(zip(expected, params)):
        check(p, w, what=f"parameters[{i}] after writing new values into {name} (it should "
                         f"be {name} itself)")


def greedy_margin(logits: np.ndarray) -> float:
    """The smallest gap, over decoding steps, between the best and second-best logit."""
    top = np.sort(np.asarray(logits, dtype=np.float64), axis=-1)
    return float((top[:, -1] - top[:, -2]).min())


# ----------------------------------------------------------------------------- alternatives


class Memo:
    """Evaluates each alternative once per test (several checks share one)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def lazy(self, key: str, make: Callable[[], Any],
             pick: Callable[[Any], Any] = lambda v: v) -> Callable[[], Any]:
        def get() -> Any:
            if key not in self.values:
                self.values[key] = make()
            return pick(self.values[key])
        return get


def own_sublayers(block: Any, x: np.ndarray,
                  attend: Callable[[Any, np.ndarray], Any]) -> np.ndarray:
    """Pre-norm wiring around the block's own LayerNorms, FeedForward and attention:
    ``x + attend(ln1(x))``, then ``+ ffn(ln2(.))``."""
    x = np.asarray(x, dtype=np.float64)
    x = x + to_float(attend(block, to_float(block.ln1(x))))
    return x + to_float(block.ffn(to_float(block.ln2(x))))


def own_block_forward(block: Any, x: np.ndarray, mask: Any = None) -> np.ndarray:
    return own_sublayers(block, x, lambda b, h: b.attention(h, h, h, mask=mask))


def block_alternatives(block: Any, x: np.ndarray, mask: Any = None) -> list[Alternative]:
    return [(lambda: own_block_forward(block, x, mask), SUBLAYER_IS_THE_FAULT)]


def own_block_cached(student: Any, block: Any, x: np.ndarray, chunks: Sequence[int],
                     cache: Any, batch_idx: int | None) -> np.ndarray:
    """Decode ``x (T, E)`` in ``chunks`` with the contract's step around the block's own
    sublayers and the student's ``cached_self_attention`` into ``cache``."""
    outs, start = [], 0
    for n in chunks:
        step = x[start:start + n]

        def attend(b: Any, h: np.ndarray) -> Any:
            if batch_idx is None:
                return student.cached_self_attention(b.attention, h, cache)
            return student.cached_self_attention(b.attention, h, cache, batch_idx)

        outs.append(own_sublayers(block, step, attend))
        start += n
    return np.concatenate(outs, axis=0)


def own_model_forward(model: Any, weights: Mapping[str, Any], ids: np.ndarray) -> np.ndarray:
    """Logits of the contract's model around the student's own blocks and final LayerNorm
    (embeddings, mask and output projection computed here)."""
    seq = ids.shape[-1]
    x = weights["token_embedding"][ids] + weights["position_embedding"][:seq]
    mask = causal(seq)
    for block in model.blocks:
        x = to_float(block(x, mask=mask))
    return to_float(model.ln_f(x)) @ weights["w_out"]


def model_alternatives(model: Any, weights: Mapping[str, Any], ids: np.ndarray
                       ) -> list[Alternative]:
    return [(lambda: own_model_forward(model, weights, ids), BLOCK_IS_THE_FAULT)]


def _greedy(step: Callable[[list[int], int], np.ndarray], prompt: np.ndarray, n: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """``(tokens, logits)``: greedy decoding, ``step(tokens_so_far, s)`` giving step s's logits."""
    out = [int(t) for t in prompt]
    seen = []
    for s in range(n):
        logits = np.asarray(step(out, s), dtype=np.float64).reshape(-1)
        seen.append(logits)
        out.append(int(np.argmax(logits)))
    return np.asarray(out, dtype=np.int64), np.asarray(seen).reshape(n, -1)


def own_forward_generate(model: Any, prompt: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding by the student's own ``forward`` over the whole sequence so far."""
    return _greedy(lambda out, s: to_float(model.forward(np.asarray([out], dtype=np.int64)))[0, -1],
                   prompt, n)


def own_cached_generate(student: Any, model: Any, cfg: Config, weights: Mapping[str, Any],
                        prompt: np.ndarray, n: int, *, last_as_row: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding with the contract's cached loop (one student KVCache per block, the
    prompt prefilled, each new token at its absolute position) around the student's own
    blocks' ``forward_cached`` and final LayerNorm, applied to the last position as a
    ``(1, E)`` row (``last_as_row``) or an ``(E,)`` vector: both are right, and differ only
    when that LayerNorm is wrong."""
    blocks = model.blocks
    caches = [student.KVCache(1, cfg.max_seq_len, cfg.num_heads, cfg.head_dim) for _ in blocks]
    fed = {"count": 0}

    def step(out: list[int], s: int) -> np.ndarray:
        new = np.asarray(out[fed["count"]:], dtype=np.int64)
        start = fed["count"]
        x = weights["token_embedding"][new] + weights["position_embedding"][start:start + len(new)]
        for block, cache in zip(blocks, caches):
            x = to_float(block.forward_cached(x, cache))
        fed["count"] = len(out)
        last = to_float(model.ln_f(x[-1:] if last_as_row else x[-1])).reshape(-1)
        return last @ weights["w_out"]

    return _greedy(step, prompt, n)


def generate_alternatives(student: Any, model: Any, cfg: Config, weights: Mapping[str, Any],
                          prompt: np.ndarray, n: int, *, use_cache: bool
                          ) -> tuple[list[Alternative], list[Alternative]]:
    """``(for the logits, for the tokens)``: decoding around the student's own forward and,
    for cached decoding, around its own blocks' forward_cached, each evaluated once."""
    memo = Memo()
    kinds = [("forward", lambda: own_forward_generate(model, prompt, n), FORWARD_IS_THE_FAULT)]
    if use_cache:
        for row in (False, True):
            kinds.append((f"cached {row}", lambda row=row: own_cached_generate(
                student, model, cfg, weights, prompt, n, last_as_row=row),
                CACHED_BLOCK_IS_THE_FAULT))
    logits = [(memo.lazy(key, make, lambda v: v[1]), note) for key, make, note in kinds]
    ids = [(memo.lazy(key, make, lambda v: v[0]), note) for key, make, note in kinds]
    return logits, ids
