"""Public checks of task model: students run these locally (``proctor check``).

The fixed example's inputs, weights, expected logits and known-wrong variants (for the
hints) come from the golden case ``model_small``, made from the reference at release time.
A model runs every other part of the assignment too (blocks, LayerNorm, FeedForward,
attention), and public checks have no alternatives, so its value check is feedback only
(0 points, and its hint says so); the hidden tests, which accept a fault of those parts
with a note, carry the points (no double jeopardy).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import LOGIT_AXES, USES_YOUR_MODEL, Config, to_float

pytestmark = [pytest.mark.task("model"), pytest.mark.visibility("public")]

SMALL = Config(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=12,
               hidden_dim=16)


def test_attributes(student: Any) -> None:
    """GPT(11, 8, 2, 2, 12, 16) has the contract's embeddings, 2 blocks, ln_f, w_out and 29 parameters."""
    model = student.GPT(*SMALL.args)
    shapes = {"token_embedding": (11, 8), "position_embedding": (12, 8), "w_out": (8, 11)}
    for name, shape in shapes.items():
        got = np.shape(to_float(getattr(model, name)))
        assert got == shape, f"{SMALL.describe()}.{name} should have shape {shape}; got {got}"
    blocks = model.blocks
    assert isinstance(blocks, (list, tuple)) and len(blocks) == 2, (
        f"{SMALL.describe()}.blocks should be a list of 2 TransformerBlocks")
    gamma = np.shape(to_float(model.ln_f.gamma))
    assert gamma == (8,), f"{SMALL.describe()}.ln_f should be a LayerNorm(8); its gamma is {gamma}"
    params = model.parameters
    assert isinstance(params, (list, tuple)) and len(params) == 29, (
        "GPT.parameters should be [token_embedding, position_embedding] + each block's 12 + "
        "ln_f's 2 + [w_out]: 29 arrays here; got "
        + (f"{len(params)}" if isinstance(params, (list, tuple)) else type(params).__name__))


@pytest.mark.points(2)
def test_longer_than_max_seq_len_raises(student: Any, check: Any) -> None:
    """forward on 13 tokens raises ValueError when max_seq_len is 12."""
    model = student.GPT(*SMALL.args)
    tokens = np.zeros((1, 13), dtype=np.int64)
    check.raises(ValueError, lambda: model.forward(tokens),
                 what=f"{SMALL.describe()}.forward on a (1, 13) array of token ids",
                 hint="There are only max_seq_len position embeddings: raise ValueError "
                      "for a longer sequence.")


@pytest.mark.points(0)
def test_small_fixed_case(student: Any, check: Any, golden: Any, new_gpt: Any) -> None:
    """A small 2-layer model gives the expected logits for a (2, 5) batch of ids."""
    case = golden("model_small")
    cfg = Config(*case["inputs"]["config"])
    model = new_gpt(cfg, case["inputs"]["weights"])
    check(model(case["inputs"]["tokens"]), case["expected"]["logits"],
          what=f"{cfg.describe()}(tokens) for a (2, 5) batch of ids",
          variants=case["variants"]["logits"], axes=LOGIT_AXES, also=USES_YOUR_MODEL)
