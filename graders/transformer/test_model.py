"""Task model: ``GPT.forward`` against the reference.

Every weight (embeddings, every block's sublayers, ``ln_f``, ``w_out``) is written into the
student's own arrays. No double jeopardy: logits equal to the contract's model computed
around the student's *own* blocks and final LayerNorm pass here, with a note (their faults
are counted in block, layer_norm and feed_forward). The public tests are in
``public/test_model_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _inputs import (
    LOGIT_AXES,
    Config,
    examples,
    gpt_parameter_list,
    gpt_weights,
    seeds,
    tokens,
    variants,
)
from composition import check_parameters, model_alternatives, ref_gpt
from proctor.testing import CheckFailure

pytestmark = [pytest.mark.task("model")]

MODEL = Config(vocab_size=17, embed_dim=12, num_layers=2, num_heads=3, max_seq_len=10,
               hidden_dim=20)


def run(check: Any, reference: Any, new_gpt: Any, cfg: Config, weights: dict[str, Any],
        ids: np.ndarray, *, what: str, call: str = "__call__") -> None:
    """Compare the student's logits with the reference's on the same weights; the model
    around the student's own blocks and ln_f is also accepted."""
    model = new_gpt(cfg, weights)
    out = model(ids) if call == "__call__" else model.forward(ids)
    ref = ref_gpt(reference, cfg, weights)
    check(out, ref(ids), what=what, axes=LOGIT_AXES,
          variants=variants("model_variants", ref, ids),
          alternatives=model_alternatives(model, weights, ids))


@pytest.mark.points(3)
def test_forward_matches_reference(check: Any, reference: Any, new_gpt: Any, rng: Any) -> None:
    """A 2-layer model gives the expected logits for a (2, 7) batch of token ids."""
    run(check, reference, new_gpt, MODEL, gpt_weights(rng, MODEL), tokens(rng, 17, 2, 7),
        what=f"{MODEL.describe()}(tokens) for a (2, 7) batch")


@pytest.mark.points(2)
def test_full_length_sequence(check: Any, reference: Any, new_gpt: Any, rng: Any) -> None:
    """A sequence exactly max_seq_len long uses every position embedding."""
    run(check, reference, new_gpt, MODEL, gpt_weights(rng, MODEL), tokens(rng, 17, 1, 10),
        what=f"{MODEL.describe()}(tokens) for 10 tokens (= max_seq_len)")


def test_single_token(check: Any, reference: Any, new_gpt: Any, rng: Any) -> None:
    """A one-token sequence gives the expected logits."""
    run(check, reference, new_gpt, MODEL, gpt_weights(rng, MODEL), tokens(rng, 17, 3, 1),
        what=f"{MODEL.describe()}(tokens) for (3, 1) token ids")


@pytest.mark.parametrize("layers", [1, 3])
def test_number_of_layers(check: Any, reference: Any, new_gpt: Any, rng: Any,
                          layers: int) -> None:
    """A model with {layers} block(s) runs them all, in order."""
    cfg = Config(13, 8, layers, 2, 8, 12)
    run(check, reference, new_gpt, cfg, gpt_weights(rng, cfg), tokens(rng, 13, 2, 6),
        what=f"{cfg.describe()}(tokens)")


def test_forward_is_call(check: Any, reference: Any, new_gpt: Any, rng: Any) -> None:
    """model.forward(tokens) gives what model(tokens) gives."""
    run(check, reference, new_gpt, MODEL, gpt_weights(rng, MODEL), tokens(rng, 17, 2, 5),
        call="forward", what=f"{MODEL.describe()}.forward(tokens)")


@pytest.mark.points(2)
@pytest.mark.parametrize("seq", [11, 15])
def test_too_long_raises(student: Any, check: Any, rng: Any, seq: int) -> None:
    """A sequence of {seq} tokens raises ValueError when max_seq_len is 10."""
    model = student.GPT(*MODEL.args)
    ids = tokens(rng, 17, 1, seq)
    check.raises(ValueError, lambda: model.forward(ids),
                 what=f"{MODEL.describe()}.forward on {seq} tokens",
                 hint="There are only max_seq_len position embeddings: raise ValueError "
                      "for a longer sequence.")


@pytest.mark.points(2)
def test_parameters_in_order(check: Any, new_gpt: Any, rng: Any) -> None:
    """``parameters == [token_embedding, position_embedding] + each block's + ln_f's + [w_out]``."""
    cfg = Config(7, 4, 2, 2, 5, 6)
    weights = gpt_weights(rng, cfg)
    check_parameters(check, new_gpt(cfg, weights).parameters, gpt_parameter_list(weights),
                     owner="GPT", layout="([token_embedding, position_embedding], each block's "
                     "12, ln_f's 2, [w_out])",
                     fix="self.parameters = [token_embedding, position_embedding] + "
                         "blocks[0].parameters + ... + ln_f.parameters + [w_out]")


@pytest.mark.requires("test_forward_matches_reference", "test_forward_is_call")
def test_leaves_tokens_alone(new_gpt: Any, rng: Any) -> None:
    """forward leaves the token ids unchanged."""
    model = new_gpt(MODEL, gpt_weights(rng, MODEL))
    _, modified = model.call_checking_inputs("forward", tokens(rng, 17, 2, 6))
    if modified:
        raise CheckFailure("GPT.forward changed the token ids it was given, in place.",
                           {"checked": "forward leaves tokens alone", "modified": modified})


# ----------------------------------------------------------------------------- property


def model_case(vocab: int, heads: int, head_dim: int, layers: int, batch: int, seq: int,
               seed: int) -> tuple[Config, dict[str, Any], np.ndarray]:
    rng = np.random.default_rng(seed)
    cfg = Config(vocab, heads * head_dim, layers, heads, seq + 2, 2 * heads * head_dim)
    return cfg, gpt_weights(rng, cfg), tokens(rng, vocab, batch, seq)


@st.composite
def model_cases(draw: st.DrawFn) -> tuple[Config, dict[str, Any], np.ndarray]:
    return model_case(draw(st.integers(2, 20)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                      draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 6)),
                      draw(seeds))


@examples(2)
@example(case=model_case(9, 2, 2, 2, 2, 4, 1))
@given(case=model_cases())
def test_random_sizes(check: Any, reference: Any, new_gpt: Any, case: Any) -> None:
    """Random sizes and weights give the expected logits."""
    cfg, weights, ids = case
    run(check, reference, new_gpt, cfg, weights, ids, what="the model's logits on random sizes")
