"""Public checks of task generate: students run these locally (``proctor check``).

The fixed example's prompt, weights, expected ids and logits and the known-wrong variants
(for the hints) come from the golden case ``generate_small``, made from the reference at
release time. Decoding runs the whole model (and the student's attention), and public
checks have no alternatives, so the value checks are feedback only (0 points, and their
hints say so); the hidden tests, which accept a fault of the model's parts with a note,
carry the points (no double jeopardy).

PYTEST_DONT_REWRITE: an assertion's message is the feedback, as written, without pytest's
introspection of this file's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _inputs import GEN_LOGIT_AXES, GEN_TOKEN_AXES, USES_YOUR_MODEL, Config, to_float
from proctor.testing import CheckFailure, describe_value

pytestmark = [pytest.mark.task("generate"), pytest.mark.visibility("public")]


def pair(result: Any, what: str) -> tuple[Any, Any]:
    """``(tokens, logits)`` from a call made with ``return_logits=True``."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(f"{what} with return_logits=True should return (tokens, logits); it "
                           f"returned {describe_value(result)}.", {"checked": what})
    return result[0], result[1]


@pytest.mark.points(2)
def test_too_long_raises(student: Any, check: Any) -> None:
    """generate(prompt of 3, max_new_tokens=10) raises ValueError when max_seq_len is 12."""
    cfg = Config(11, 8, 2, 2, 12, 16)
    model = student.GPT(*cfg.args)
    check.raises(ValueError, lambda: model.generate(np.array([1, 2, 3]), 10),
                 what=f"{cfg.describe()}.generate(a 3-token prompt, max_new_tokens=10)",
                 hint="prompt_len + max_new_tokens must fit in max_seq_len: check it before "
                      "decoding anything, and raise ValueError.")


def test_returns_the_prompt_then_new_ids(student: Any) -> None:
    """generate returns one int array: the prompt, then max_new_tokens ids in range."""
    cfg = Config(11, 8, 2, 2, 12, 16)
    model = student.GPT(*cfg.args)
    prompt = np.array([5, 2, 7])
    out = model.generate(prompt, 4)
    ids = to_float(out)
    assert ids.shape == (7,), (
        f"generate(a 3-token prompt, 4) should return 7 ids (the prompt, then 4 new ones); got "
        f"{describe_value(out)}")
    assert np.array_equal(ids[:3], prompt), (
        f"generate's result should start with the prompt {prompt.tolist()}; got "
        f"{ids[:3].tolist()}")
    new = ids[3:]
    assert np.all((new == np.round(new)) & (new >= 0) & (new < cfg.vocab_size)), (
        f"the new ids should be integers in [0, {cfg.vocab_size}); got {new.tolist()}")


def run_case(check: Any, golden: Any, new_gpt: Any, use_cache: bool) -> None:
    case = golden("generate_small")
    cfg = Config(*case["inputs"]["config"])
    prompt, n = case["inputs"]["prompt"], case["inputs"]["max_new_tokens"]
    model = new_gpt(cfg, case["inputs"]["weights"])
    how = "with caches" if use_cache else "without caches (use_cache=False)"
    what = f"generate(a 3-token prompt, {n}, return_logits=True) {how}"
    ids, logits = pair(model.generate(prompt, n, use_cache=use_cache, return_logits=True), what)
    check(logits, case["expected"]["logits"], what=f"the logits of {what}",
          variants=case["variants"]["logits"], axes=GEN_LOGIT_AXES, also=USES_YOUR_MODEL)
    check(ids, case["expected"]["tokens"], what=f"the ids of {what}",
          variants=case["variants"]["tokens"], axes=GEN_TOKEN_AXES, also=USES_YOUR_MODEL)


@pytest.mark.points(0)
def test_small_fixed_case_with_cache(check: Any, golden: Any, new_gpt: Any) -> None:
    """Greedy decoding with one KV cache per block gives the expected ids and logits."""
    run_case(check, golden, new_gpt, True)


@pytest.mark.points(0)
def test_small_fixed_case_without_cache(check: Any, golden: Any, new_gpt: Any) -> None:
    """Greedy decoding by full recomputation gives the same ids and logits."""
    run_case(check, golden, new_gpt, False)
