"""Efficiency task: how the cost of generating each new token grows with the context.

Contract, "Efficiency": with caches, each new token costs time and memory linear in the
context (only the new token is embedded and pushed through the blocks; its attention reads
the cached keys and values); without caches, every step recomputes the whole prefix,
quadratic per token. Both are measured; only the cached one is graded.

What is measured: one ``generate`` call from a one-token prompt, for a doubling series of
``max_new_tokens`` N, inside the sandbox (``model.measure``). Its peak memory (tracemalloc,
deterministic, the signal that fails submissions) is what the last, largest step holds;
its time divided by N is the mean cost per new token (judged only with the engine's wide
margins against the reference's, see ``proctor.efficiency``). No test here has a
wall-clock limit. Prompts stay one token long: a prefill attends over the whole prompt at
once, which is quadratic in the prompt by nature.

The grader runs a test that fails on the student's own attention again on a correct one
(the engine does; nothing here), so a slow attention costs points in the attention
assignment only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import Config, gpt_weights, to_float
from composition import ref_gpt
from proctor.testing import CheckFailure, assert_growth, measure_call

pytestmark = [pytest.mark.task("efficiency")]

CACHED_SIZES = (32, 64, 128, 256)  # new tokens per generate call, with caches
UNCACHED_SIZES = (16, 32, 64, 128)  # without: each call costs ~N^3/3 attention work
REPEAT = 2  # runs per size: peak memory is deterministic, time is the minimum
UNCACHED_REPEAT = 1  # the uncached series is recorded only
ALLOWED_SLOPE = 1.3  # linear per token, with room (as attention's decode step)
UNGRADED = 10.0  # the uncached series is recorded, never failed


LAYERS = 2


def config(longest: int) -> Config:
    """A small model (embed_dim 8, two blocks, two heads) whose context fits ``longest``
    new tokens after a one-token prompt: per-position costs dominate quickly.

    max_seq_len is ``LAYERS`` times that, so a generate whose blocks share one cache (a
    generate bug, counted there) still fits and is measured like any other."""
    return Config(vocab_size=16, embed_dim=8, num_layers=LAYERS, num_heads=2,
                  max_seq_len=LAYERS * longest + 1, hidden_dim=16)


CACHE_HINT = (
    "With caches, each new token should cost time and memory linear in the context: with "
    "use_cache=True, each step should embed only the new token (at its absolute "
    "position) and push it through every block's forward_cached with that block's own "
    "KVCache, made once per generate call: no forward over the whole sequence, no T x T "
    "mask, nothing rebuilt from the start on every token."
)


def _require_generate_works(model: Any, cfg: Config) -> None:
    """A short cached generate must return the prompt and new ids, with finite logits:
    efficiency is judged only on code that decodes (whether its ids are right is the
    generate task's business)."""
    prompt = np.array([3])
    result = model.generate(prompt, 3, use_cache=True, return_logits=True)
    problem = None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        problem = "did not return (tokens, logits) with return_logits=True"
    else:
        ids, logits = to_float(result[0]), to_float(result[1])
        if ids.shape != (4,) or ids[0] != 3:
            problem = f"returned ids of shape {ids.shape}, not the prompt and 3 new ids"
        elif logits.shape != (3, cfg.vocab_size) or not np.isfinite(logits).all():
            problem = "returned logits that are not (3, vocab_size) finite numbers"
    if problem:
        raise CheckFailure(
            f"Efficiency is measured only on a generate that decodes, and generate {problem}. "
            "Its correctness tests say what is wrong; once it works, its cost is measured here.",
            {"checked": "efficiency precondition: generate decodes", "problem": problem})


def _series(model: Any, ref: Any, use_cache: bool) -> tuple[Any, Any]:
    """``measure(n)`` and ``reference_time(n)`` for generate from a one-token prompt."""
    prompt = np.array([3])
    repeat = REPEAT if use_cache else UNCACHED_REPEAT

    def measure(n: int) -> dict:
        got = model.measure("generate", prompt, n, use_cache=use_cache, repeat=repeat)
        return {"peak_bytes": got["peak_bytes"], "times": [t / n for t in got["times"]]}

    def reference_time(n: int) -> float:
        times = measure_call(ref.generate, prompt, n, use_cache=use_cache, repeat=repeat)["times"]
        return min(times) / n

    return measure, reference_time


@pytest.mark.points(0)
def test_uncached_generate_cost_is_measured(new_gpt: Any, reference: Any, rng: Any,
                                            record: Any) -> None:
    """Without caches, the cost of each new token is measured (not graded): it grows faster than linearly.

    One generate(use_cache=False) call from a one-token prompt for 16..128 new tokens
    (every step re-runs attention over the whole prefix: quadratic per token once the
    context outweighs the fixed per-step work); the fitted slopes are recorded for the
    feedback, whatever they are."""
    cfg = config(UNCACHED_SIZES[-1])
    weights = gpt_weights(rng, cfg)
    model = new_gpt(cfg, weights)
    _require_generate_works(model, cfg)
    measure, reference_time = _series(model, ref_gpt(reference, cfg, weights), False)
    measured = [measure(n) for n in UNCACHED_SIZES]
    result = assert_growth(UNCACHED_SIZES, lambda n: measured[UNCACHED_SIZES.index(n)],
                           allowed_slope=UNGRADED, what="generate without caches, per new token",
                           over="numbers of new tokens", record=record)
    times = [min(m["times"]) for m in measured]
    slope = float(np.polyfit(np.log(UNCACHED_SIZES), np.log(times), 1)[0])
    record.details["time_slope"] = round(slope, 3)
    record.details["memory_slope"] = result["slope"]


@pytest.mark.points(3)
def test_cached_generate_cost_per_token_grows_linearly(new_gpt: Any, reference: Any, rng: Any,
                                                       record: Any) -> None:
    """With caches, the cost of each new token grows no faster than linearly in the context.

    One generate call from a one-token prompt for 32..256 new tokens: its peak memory (what
    the last step holds) grows with slope <= 1.3; its time per token is compared with the
    reference's too."""
    cfg = config(CACHED_SIZES[-1])
    weights = gpt_weights(rng, cfg)
    model = new_gpt(cfg, weights)
    _require_generate_works(model, cfg)
    measure, reference_time = _series(model, ref_gpt(reference, cfg, weights), True)
    assert_growth(CACHED_SIZES, measure, allowed_slope=ALLOWED_SLOPE,
                  what="generate with caches, per new token", over="numbers of new tokens",
                  record=record, hint=CACHE_HINT, reference_time=reference_time)
