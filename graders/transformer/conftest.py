"""Fixtures of the transformer suites beyond the engine's (trusted side).

Factories that build a student object and write known weights into its own arrays, in
place (``obj.assign(name, array)``, the contract's public surface), attention's four
matrices included:

* ``new_ln(dim, weights, eps=None)``: a student ``LayerNorm``;
* ``new_ffn(weights)``: a student ``FeedForward``;
* ``new_block(num_heads, weights, pass_hidden=True)``: a student ``TransformerBlock``;
* ``new_gpt(config, weights)``: a student ``GPT``.

Objects are built inside each test (a test that fails on the student's own attention is
run again from scratch on a correct one). The engine gives the rest (``student``,
``golden``, ``tol``, ``rng``, ``record`` and ``check``; see ``proctor.testing``) and puts this
directory on ``sys.path`` so ``import _inputs`` works in any import mode.

This file ships with students' local checks, so it computes no transformer math: the
alternatives ``check`` accepts (compositions around the student's own pieces) are built by
the hidden tests, from the hidden ``composition.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from _inputs import FFN_NAMES, LN_NAMES, Config, write, write_block


@pytest.fixture
def new_ln(student: Any) -> Callable[..., Any]:
    """Factory: ``new_ln(dim, weights=None, eps=None)`` -> student LayerNorm (``weights``:
    ``{"gamma", "beta"}``; None keeps the constructor's)."""

    def make(dim: int, weights: Mapping[str, np.ndarray] | None = None,
             eps: float | None = None) -> Any:
        ln = student.LayerNorm(dim) if eps is None else student.LayerNorm(dim, eps)
        if weights is not None:
            write(ln, weights, LN_NAMES)
        return ln

    return make


@pytest.fixture
def new_ffn(student: Any) -> Callable[[Mapping[str, np.ndarray]], Any]:
    """Factory: ``new_ffn(weights)`` -> student FeedForward with ``w1, b1, w2, b2``."""

    def make(weights: Mapping[str, np.ndarray]) -> Any:
        embed_dim, hidden_dim = weights["w1"].shape
        ffn = student.FeedForward(embed_dim, hidden_dim)
        write(ffn, weights, FFN_NAMES)
        return ffn

    return make


@pytest.fixture
def new_block(student: Any) -> Callable[..., Any]:
    """Factory: ``new_block(num_heads, weights, pass_hidden=True)`` -> student
    TransformerBlock with every weight written (``pass_hidden=False``: built without
    ``hidden_dim``, relying on its default)."""

    def make(num_heads: int, weights: Mapping[str, Any], pass_hidden: bool = True) -> Any:
        embed_dim, hidden_dim = weights["ffn"]["w1"].shape
        if pass_hidden:
            block = student.TransformerBlock(embed_dim, num_heads, hidden_dim)
        else:
            block = student.TransformerBlock(embed_dim, num_heads)
        write_block(block, weights)
        return block

    return make


@pytest.fixture
def new_gpt(student: Any) -> Callable[[Config, Mapping[str, Any]], Any]:
    """Factory: ``new_gpt(config, weights)`` -> student GPT with every weight written."""

    def make(cfg: Config, weights: Mapping[str, Any]) -> Any:
        model = student.GPT(*cfg.args)
        write(model, weights, ("token_embedding", "position_embedding", "w_out"))
        write(model.ln_f, weights["ln_f"], LN_NAMES)
        blocks = model.blocks
        if not isinstance(blocks, (list, tuple)) or len(blocks) != cfg.num_layers:
            raise AssertionError(
                f"{cfg.describe()}.blocks should be a list of {cfg.num_layers} "
                f"TransformerBlocks; got {type(blocks).__name__}"
                + (f" of length {len(blocks)}" if isinstance(blocks, (list, tuple)) else ""))
        for block, w in zip(blocks, weights["blocks"]):
            write_block(block, w)
        return model

    return make
