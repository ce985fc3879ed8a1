"""Task generate: ``GPT.generate`` against the reference, with and without caches.

Every weight is written into the student's own arrays, and prompts and weights are drawn
until the reference's top two logits differ by more than 1e-3 at every step (contract), so
float32 rounding cannot flip a greedy choice and ids are compared exactly. Tests that
decode with caches in a model of several blocks keep
``num_layers x (prompt_len + max_new_tokens - 1) <= max_seq_len``: one cache shared by
every block then still fits, and its wrong values (and hint) show.

No double jeopardy: ids and logits are also accepted when they equal greedy decoding
computed here around the student's own ``forward`` or, with caches, around the contract's
cached loop over the student's own blocks' ``forward_cached`` and ``ln_f`` (their faults
are counted in model, block, layer_norm and feed_forward). The public tests are in
``public/test_generate_public.py``.

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import GEN_LOGIT_AXES, GEN_TOKEN_AXES, Config, gpt_weights, tokens, variants
from composition import generate_alternatives, greedy_margin, ref_gpt
from proctor.testing import CheckFailure, describe_value

pytestmark = [pytest.mark.task("generate")]

MODEL = Config(vocab_size=23, embed_dim=12, num_layers=2, num_heads=3, max_seq_len=16,
               hidden_dim=24)
MARGIN = 1e-3  # the contract: ids are compared only where the top two logits differ by more


def decodable(reference: Any, rng: np.random.Generator, cfg: Config, prompt_len: int,
              n: int) -> tuple[dict[str, Any], np.ndarray]:
    """Weights and a prompt whose greedy decoding has no near tie (drawn until one has)."""
    for _ in range(50):
        weights = gpt_weights(rng, cfg)
        prompt = tokens(rng, cfg.vocab_size, prompt_len)
        _, logits = ref_gpt(reference, cfg, weights).generate(prompt, n, return_logits=True)
        if greedy_margin(logits) > MARGIN:
            return weights, prompt
    raise RuntimeError("no decodable case found")  # pragma: no cover - course content bug


def pair(result: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(f"{what} with return_logits=True should return (tokens, logits); it "
                           f"returned {describe_value(result)}.",
                           {"checked": what, "returned": describe_value(result)},
                           "Return the tuple (tokens, logits) when return_logits is True, and "
                           "the tokens alone otherwise.")
    return result[0], result[1]


def run(student: Any, check: Any, reference: Any, new_gpt: Any, rng: Any, cfg: Config,
        prompt_len: int, n: int, *, use_cache: bool | None = True) -> None:
    """Decode with the student's generate (``use_cache`` None: the default) and compare ids
    and logits with the reference's."""
    weights, prompt = decodable(reference, rng, cfg, prompt_len, n)
    model = new_gpt(cfg, weights)
    how = ("with caches" if use_cache else "without caches (use_cache=False)") \
        if use_cache is not None else "with the default use_cache"
    what = f"generate(a {prompt_len}-token prompt, {n}, return_logits=True) {how}"
    if use_cache is None:
        result = model.generate(prompt, n, return_logits=True)
    else:
        result = model.generate(prompt, n, use_cache=use_cache, return_logits=True)
    ids, logits = pair(result, what)
    ref = ref_gpt(reference, cfg, weights)
    want_ids, want_logits = ref.generate(prompt, n, return_logits=True)
    alt_logits, alt_ids = generate_alternatives(student, model, cfg, weights, prompt, n,
                                                use_cache=use_cache is not False)
    check(logits, want_logits, what=f"the logits of {what} in {cfg.describe()}",
          variants=variants("generate_variants", ref, prompt, n, part="logits"),
          axes=GEN_LOGIT_AXES, alternatives=alt_logits)
    check(ids, want_ids, what=f"the ids of {what} in {cfg.describe()}",
          variants=variants("generate_variants", ref, prompt, n, part="tokens"),
          axes=GEN_TOKEN_AXES, alternatives=alt_ids)


@pytest.mark.points(4)
def test_with_cache(student: Any, check: Any, reference: Any, new_gpt: Any, rng: Any) -> None:
    """With caches, a 3-token prompt and 5 new tokens give the expected ids and logits."""
    run(student, check, reference, new_gpt, rng, MODEL, 3, 5)


@pytest.mark.points(3)
def test_without_cache(student: Any, check: Any, reference: Any, new_gpt: Any, rng: Any) -> None:
    """Without caches (use_cache=False), the same decoding gives the same ids and logits."""
    run(student, check, reference, new_gpt, rng, MODEL, 3, 5, use_cache=False)


def test_cache_is_the_default(student: Any, check: Any, reference: Any, new_gpt: Any,
                              rng: Any) -> None:
    """generate without use_cache decodes as the contract says (use_cache=True by default)."""
    run(student, check, reference, new_gpt, rng, MODEL, 2, 4, use_cache=None)


@pytest.mark.points(2)
def test_one_token_prompt(student: Any, check: Any, reference: Any, new_gpt: Any,
                          rng: Any) -> None:
    """A one-token prompt, then 6 new tokens, each at its own position."""
    run(student, check, reference, new_gpt, rng, MODEL, 1, 6)


@pytest.mark.points(2)
def test_each_block_has_its_own_cache(student: Any, check: Any, reference: Any, new_gpt: Any,
                                      rng: Any) -> None:
    """Three blocks, each with its own KV cache: 2-token prompt, 4 new tokens."""
    cfg = Config(19, 8, 3, 2, 16, 16)
    run(student, check, reference, new_gpt, rng, cfg, 2, 4)


@pytest.mark.points(2)
def test_positions_keep_counting(student: Any, check: Any, reference: Any, new_gpt: Any,
                                 rng: Any) -> None:
    """Ten new tokens after a 2-token prompt: token p gets position_embedding[p], never back at 0."""
    cfg = Config(19, 8, 1, 2, 16, 16)
    run(student, check, reference, new_gpt, rng, cfg, 2, 10)


def test_fills_max_seq_len(student: Any, check: Any, reference: Any, new_gpt: Any,
                           rng: Any) -> None:
    """prompt_len + max_new_tokens == max_seq_len is allowed (4 + 12 = 16, one block)."""
    cfg = Config(19, 8, 1, 2, 16, 16)
    run(student, check, reference, new_gpt, rng, cfg, 4, 12)


def test_tokens_only_without_return_logits(student: Any, check: Any, reference: Any,
                                           new_gpt: Any, rng: Any) -> None:
    """Without return_logits, generate returns the ids alone: the prompt, then the new ids."""
    weights, prompt = decodable(reference, rng, MODEL, 3, 4)
    model = new_gpt(MODEL, weights)
    out = model.generate(prompt, 4)
    if isinstance(out, (tuple, list)):
        raise CheckFailure("generate(prompt, 4) without return_logits should return the ids "
                           f"alone; it returned {describe_value(out)}.",
                           {"checked": "generate's return value"},
                           "Return the (tokens, logits) tuple only when return_logits is True.")
    want = ref_gpt(reference, MODEL, weights).generate(prompt, 4)
    alt_logits, alt_ids = generate_alternatives(student, model, MODEL, weights, prompt, 4,
                                                use_cache=True)
    check(out, want, what="the ids generate(a 3-token prompt, 4) returns", axes=GEN_TOKEN_AXES,
          alternatives=alt_ids)


@pytest.mark.points(2)
@pytest.mark.parametrize("prompt_len, n", [(5, 12), (16, 1)])
def test_too_long_raises(student: Any, check: Any, rng: Any, prompt_len: int, n: int) -> None:
    """A {prompt_len}-token prompt and {n} new tokens raise ValueError when max_seq_len is 16."""
    model = student.GPT(*MODEL.args)
    prompt = tokens(rng, MODEL.vocab_size, prompt_len)
    check.raises(ValueError, lambda: model.generate(prompt, n),
                 what=f"{MODEL.describe()}.generate(a {prompt_len}-token prompt, {n})",
                 hint="prompt_len + max_new_tokens must fit in max_seq_len: check it before "
                      "decoding anything, and raise ValueError.")


def test_raises_before_any_work(student: Any, check: Any) -> None:
    """The length is checked before any work: even a prompt that could not be embedded raises ValueError.

    The prompt holds an id past the vocabulary, so embedding it first would raise
    IndexError instead."""
    model = student.GPT(*MODEL.args)
    prompt = np.array([1, MODEL.vocab_size + 5, 2], dtype=np.int64)
    check.raises(ValueError, lambda: model.generate(prompt, 14),
                 what=f"{MODEL.describe()}.generate(a 3-token prompt, 14), whose prompt holds "
                      f"the id {MODEL.vocab_size + 5} (past the vocabulary)",
                 hint="Check prompt_len + max_new_tokens <= max_seq_len first, before "
                      "embedding or decoding anything, and raise ValueError.")


@pytest.mark.requires("test_with_cache")
def test_leaves_prompt_alone(new_gpt: Any, reference: Any, rng: Any) -> None:
    """generate leaves its prompt unchanged, with and without caches."""
    weights, prompt = decodable(reference, rng, MODEL, 3, 3)
    model = new_gpt(MODEL, weights)
    for use_cache in (True, False):
        _, modified = model.call_checking_inputs("generate", prompt, 3, use_cache=use_cache)
        if modified:
            raise CheckFailure("generate changed its prompt in place.",
                               {"checked": "generate leaves the prompt alone",
                                "modified": modified})
