"""Input builders shared by the transformer grader suites (pure NumPy, trusted side only).

Everything takes the test's ``rng`` (or a seed) so inputs are reproducible per test. Weights
are plain nested dicts of arrays, in the contract's attribute names, so the same weights
can be written into a student's objects (``conftest.py``'s factories) and the reference's
(the hidden ``composition.py``). Nothing here computes any part of the answer: this file
ships with students' local checks.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

# The engine's generic builders, re-exported so the suites import them from one place.
from proctor.testing import (  # noqa: F401
    Alternative, Case, examples, seeds)

ATTENTION_NAMES = ("w_q", "w_k", "w_v", "w_o")
LN_NAMES = ("gamma", "beta")
FFN_NAMES = ("w1", "b1", "w2", "b2")
SUBLAYERS = ("attention", "ln1", "ffn", "ln2")  # a block's parameters, in the contract's order
SUBLAYER_NAMES = {"attention": ATTENTION_NAMES, "ln1": LN_NAMES, "ffn": FFN_NAMES,
                  "ln2": LN_NAMES}

# Axes of the values the suites compare, for messages.
LN_AXES = ("batch", "position", "feature")
FFN_AXES = ("batch", "position", "embed_dim")
BLOCK_AXES = ("batch", "position", "embed_dim")
STEP_AXES = ("position", "embed_dim")
LOGIT_AXES = ("batch", "position", "vocab")
GEN_LOGIT_AXES = ("new token", "vocab")
GEN_TOKEN_AXES = ("position",)

# Notes recorded on a test that passes through an alternative (no double jeopardy).
SUBLAYER_IS_THE_FAULT = (
    "Your block's wiring is right; the difference from the reference comes from your "
    "LayerNorm or FeedForward (their own tests count it)."
)
BLOCK_IS_THE_FAULT = (
    "Your model's wiring (embeddings, blocks, final LayerNorm, output projection) is right; "
    "the difference from the reference comes from your TransformerBlock, LayerNorm or "
    "FeedForward (their own tests count it)."
)
FORWARD_IS_THE_FAULT = (
    "Your generate decodes right given what your own forward returns; the difference from "
    "the reference comes from your model's forward or its parts (their own tests count it)."
)
CACHED_BLOCK_IS_THE_FAULT = (
    "Your generate decodes right given what your blocks' forward_cached return; the "
    "difference from the reference comes from your blocks or their parts (their own tests "
    "count it)."
)
GELU_IS_THE_FAULT = (
    "Your feed-forward wiring is right; the difference from the reference comes from your "
    "gelu (its own tests count it)."
)
# Added to the hints of public checks that run another task's code (feedback only, 0 points).
USES_YOUR_PARTS = ("This check runs your LayerNorm and FeedForward too (and your attention); "
                   "if their checks fail, fix those first.")
USES_YOUR_MODEL = ("This check runs your whole model (blocks, LayerNorm, FeedForward, "
                   "attention); if their checks fail, fix those first.")


@dataclass(frozen=True)
class Config:
    """A GPT's sizes, in the constructor's order."""

    vocab_size: int
    embed_dim: int
    num_layers: int
    num_heads: int
    max_seq_len: int
    hidden_dim: int

    @property
    def args(self) -> tuple[int, ...]:
        return (self.vocab_size, self.embed_dim, self.num_layers, self.num_heads,
                self.max_seq_len, self.hidden_dim)

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    def describe(self) -> str:
        return (f"GPT(vocab_size={self.vocab_size}, embed_dim={self.embed_dim}, "
                f"num_layers={self.num_layers}, num_heads={self.num_heads}, "
                f"max_seq_len={self.max_seq_len}, hidden_dim={self.hidden_dim})")


def to_float(x: Any) -> np.ndarray:
    """A student's value (ndarray or Tensor-like) as float64, for trusted-side arithmetic."""
    if not isinstance(x, np.ndarray):
        x = getattr(x, "data", x)
    return np.asarray(x).astype(np.float64, copy=False)


def ln_weights(rng: np.random.Generator, dim: int) -> dict[str, np.ndarray]:
    """``gamma`` near 1 and ``beta`` near 0, both distinct per feature (so skipping either,
    or normalising over the wrong axis, shows)."""
    return {"gamma": 1.0 + 0.5 * rng.standard_normal(dim), "beta": 0.5 * rng.standard_normal(dim)}


def ffn_weights(rng: np.random.Generator, embed_dim: int, hidden_dim: int) -> dict[str, np.ndarray]:
    """Unit-variance-ish projections and biases large enough to matter."""
    return {"w1": rng.standard_normal((embed_dim, hidden_dim)) / embed_dim ** 0.5,
            "b1": 0.5 * rng.standard_normal(hidden_dim),
            "w2": rng.standard_normal((hidden_dim, embed_dim)) / hidden_dim ** 0.5,
            "b2": 0.5 * rng.standard_normal(embed_dim)}


def attention_weights(rng: np.random.Generator, embed_dim: int) -> dict[str, np.ndarray]:
    return {name: rng.standard_normal((embed_dim, embed_dim)) / embed_dim ** 0.5
            for name in ATTENTION_NAMES}


def block_weights(rng: np.random.Generator, embed_dim: int, hidden_dim: int
                  ) -> dict[str, dict[str, np.ndarray]]:
    """Every parameter of one block, by sublayer: ``{"attention": {"w_q": ...}, "ln1": ...}``."""
    return {"attention": attention_weights(rng, embed_dim), "ln1": ln_weights(rng, embed_dim),
            "ffn": ffn_weights(rng, embed_dim, hidden_dim), "ln2": ln_weights(rng, embed_dim)}


def gpt_weights(rng: np.random.Generator, cfg: Config) -> dict[str, Any]:
    """Every parameter of a GPT: embeddings, one dict per block, ``ln_f`` and ``w_out``."""
    e = cfg.embed_dim
    return {"token_embedding": rng.standard_normal((cfg.vocab_size, e)),
            "position_embedding": rng.standard_normal((cfg.max_seq_len, e)),
            "blocks": [block_weights(rng, e, cfg.hidden_dim) for _ in range(cfg.num_layers)],
            "ln_f": ln_weights(rng, e),
            "w_out": 2.0 * rng.standard_normal((e, cfg.vocab_size)) / e ** 0.5}


def block_parameter_list(weights: dict[str, dict[str, np.ndarray]]) -> list[tuple[str, np.ndarray]]:
    """``(name, array)`` in the contract's ``TransformerBlock.parameters`` order."""
    return [(f"{sub}.{name}", weights[sub][name]) for sub in SUBLAYERS
            for name in SUBLAYER_NAMES[sub]]


def gpt_parameter_list(weights: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """``(name, array)`` in the contract's ``GPT.parameters`` order."""
    out = [("token_embedding", weights["token_embedding"]),
           ("position_embedding", weights["position_embedding"])]
    for i, block in enumerate(weights["blocks"]):
        out += [(f"blocks[{i}].{name}", w) for name, w in block_parameter_list(block)]
    out += [(f"ln_f.{name}", weights["ln_f"][name]) for name in LN_NAMES]
    return out + [("w_out", weights["w_out"])]


def write(obj: Any, weights: dict[str, np.ndarray], names: tuple[str, ...]) -> None:
    """Write each named array into the student's object in place."""
    for name in names:
        obj.assign(name, weights[name])


def write_block(block: Any, weights: dict[str, dict[str, np.ndarray]]) -> None:
    """Write every parameter of one block: its attention's four matrices, both LayerNorms
    and the feed-forward."""
    for sub, names in SUBLAYER_NAMES.items():
        write(getattr(block, sub), weights[sub], names)


def tokens(rng: np.random.Generator, vocab_size: int, *shape: int) -> np.ndarray:
    """Integer token ids (int64)."""
    return rng.integers(0, vocab_size, size=shape).astype(np.int64)


def variants(builder: str, *args: Any, **kwargs: Any) -> Any:
    """Known-wrong results from the hidden ``reference.transformer_variants.<builder>``, for
    hidden tests; None where that module is absent. Public tests take theirs, evaluated,
    from golden cases (``golden_cases.py``), so their hints are the same in students'
    local checks."""
    try:
        module = importlib.import_module("reference.transformer_variants")
    except ImportError:
        return None
    return getattr(module, builder)(*args, **kwargs)
