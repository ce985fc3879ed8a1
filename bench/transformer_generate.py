"""How the reference transformer's cost per generated token grows with the context.

Times one decoding step of the float64 reference ``GPT`` at growing context lengths, with
the per-block KV caches (after an untimed prefill) and with full recomputation, and prints
ms per new token and the log-log slope between the two largest contexts: about 1 for linear
growth, 2 for quadratic (at small contexts the fixed per-token FFN work hides the growth).
The figures a future ``graders/transformer`` efficiency suite can set its limits from.

    python bench/transformer_generate.py
    python bench/transformer_generate.py --contexts 128 256 512 1024 --new 16
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reference.attention import KVCache  # noqa: E402
from reference.transformer import GPT  # noqa: E402


def _best(run, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def per_token(model: GPT, context: int, new: int, use_cache: bool, repeats: int) -> float:
    """Seconds per decoding step once ``context`` tokens are in: with caches, ``new``
    one-token ``forward_cached`` passes through every block after a prefill (not timed);
    without, one full ``forward`` over the ``context + 1`` tokens (what each step redoes)."""
    rng = np.random.default_rng(context)
    if not use_cache:
        ids = rng.integers(0, model.vocab_size, size=(1, context + 1))
        return _best(lambda: model.forward(ids), repeats)
    head_dim = model.embed_dim // model.num_heads
    times = []
    for _ in range(repeats):
        caches = [KVCache(1, model.max_seq_len, model.num_heads, head_dim) for _ in model.blocks]
        x = rng.standard_normal((context, model.embed_dim))
        for block, cache in zip(model.blocks, caches):  # prefill
            x = block.forward_cached(x, cache)
        steps = rng.standard_normal((new, model.embed_dim))

        def decode() -> None:
            for row in steps:
                h = row[np.newaxis]
                for block, cache in zip(model.blocks, caches):
                    h = block.forward_cached(h, cache)

        times.append(_best(decode, 1) / new)
    return min(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--new", type=int, default=17)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    model = GPT(vocab_size=64, embed_dim=64, num_layers=2, num_heads=4,
                max_seq_len=max(args.contexts) + args.new, hidden_dim=128)
    rows = []
    print(f"{'context':>7} {'cached ms/token':>16} {'recompute ms/token':>19}")
    for context in args.contexts:
        cached = per_token(model, context, args.new, True, args.repeats)
        full = per_token(model, context, args.new, False, args.repeats)
        rows.append((context, cached, full))
        print(f"{context:>7} {1e3 * cached:>16.3f} {1e3 * full:>19.3f}")
    (c1, a1, b1), (c2, a2, b2) = rows[-2], rows[-1]
    ratio = math.log(c2 / c1)
    print(f"slope {c1}->{c2}: cached {math.log(a2 / a1) / ratio:.2f}, "
          f"recompute {math.log(b2 / b1) / ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
