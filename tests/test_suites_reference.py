"""The attention suites against known answers: the reference gets full marks, the released
stub gets nothing, public tests run without the reference, and the known-wrong variants
are right when no bug is switched on and wrong (distinguishably) when one is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference.attention as R
import reference.attention_variants as V
from proctor.config import load_course
from proctor.diagnose import distance

ROOT = Path(__file__).resolve().parents[1]
IMPLEMENTATION_TASKS = ("causal_mask", "scaled_dot_product", "multi_head", "kv_cache",
                        "cached_attention")


@pytest.fixture(scope="module")
def assignment() -> Any:
    return load_course(ROOT / "course.toml").assignments["attention"]


def grade(assignment: Any, path: Path, **kw: Any) -> dict[str, Any]:
    from proctor.runner import grade_submission

    return grade_submission(assignment, path, **kw).to_dict()


# ----------------------------------------------------------------------------- grading


@pytest.mark.slow
def test_reference_gets_full_marks(assignment: Any) -> None:
    result = grade(assignment, ROOT / "reference" / "attention.py")
    failed = [(t["id"], t["status"], t["message"]) for t in result["tests"]
              if t["status"] != "passed"]
    assert not failed
    assert result["score"] == result["max_score"]


@pytest.mark.slow
def test_public_tests_run_without_the_reference(assignment: Any) -> None:
    """Students' local checks have no reference: every public test must still pass on a
    correct submission (so none of them needs it)."""
    result = grade(assignment, ROOT / "reference" / "attention.py", visibility="public",
                   reference=False)
    ours = [t for t in result["tests"] if t["task"] in IMPLEMENTATION_TASKS]
    assert ours, "no public tests in the attention suites"
    failed = [(t["id"], t["message"]) for t in ours if t["status"] != "passed"]
    assert not failed


@pytest.mark.slow
def test_released_stub_gets_zero_with_not_implemented(assignment: Any) -> None:
    stub = ROOT / "student_template" / "attention" / "attention.ipynb"
    result = grade(assignment, stub)
    for task in IMPLEMENTATION_TASKS:
        assert result["tasks"][task]["score"] == 0, task
        tests = [t for t in result["tests"] if t["task"] == task]
        assert tests
        for t in tests:
            assert t["status"] == "error" and "NotImplementedError" in t["message"], (
                t["id"], t["status"], t["message"])


# ----------------------------------------------------------------------------- variants


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


def weights(rng: np.random.Generator, e: int) -> dict[str, np.ndarray]:
    return {n: rng.standard_normal((e, e)) / np.sqrt(e) for n in ("w_q", "w_k", "w_v", "w_o")}


def reference_mha(w: dict[str, np.ndarray], e: int, h: int) -> R.MultiHeadAttention:
    mha = R.MultiHeadAttention(e, h)
    for name, value in w.items():
        getattr(mha, name)[...] = value
    return mha


def test_attention_without_bugs_is_the_reference(rng: np.random.Generator) -> None:
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))
    mask = rng.random((2, 3, 5)) < 0.6
    mask[..., 0] = True
    out, w = R.ScaledDotProductAttention(temperature=0.7)(q, k, v, mask=mask,
                                                         return_attention_weights=True)
    v_out, v_w = V.attention(q, k, v, mask, temperature=0.7)
    np.testing.assert_allclose(v_out, out, rtol=1e-12)
    np.testing.assert_allclose(v_w, w, rtol=1e-12)


@pytest.mark.parametrize("mask_ndim", [None, 2, 3])
def test_mha_without_bugs_is_the_reference(rng: np.random.Generator,
                                           mask_ndim: int | None) -> None:
    e, h = 12, 3
    w = weights(rng, e)
    xq, xk = rng.standard_normal((2, 3, e)), rng.standard_normal((2, 5, e))
    mask = None if mask_ndim is None else rng.random((2, 3, 5)[-mask_ndim:]) < 0.7
    if mask is not None:
        mask[..., 0] = True
    out, attn = reference_mha(w, e, h)(xq, xk, xk, mask=mask, return_attention_weights=True)
    v_out, v_attn = V.mha(xq, xk, xk, w, h, mask)
    np.testing.assert_allclose(v_out, out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v_attn, attn, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("chunks, prefix", [([4, 1, 1, 1], 0), ([1] * 5, 0), ([2, 3], 2)])
def test_decode_without_bugs_is_full_causal_attention(rng: np.random.Generator,
                                                      chunks: list[int], prefix: int) -> None:
    e, h = 8, 2
    w = weights(rng, e)
    x = rng.standard_normal((prefix + sum(chunks), e))
    full = reference_mha(w, e, h)(x[None], x[None], x[None], mask=R.create_causal_mask(len(x)))
    np.testing.assert_allclose(V.decode(w, h, x, chunks, prefix=prefix), full[0][prefix:],
                               rtol=1e-10, atol=1e-12)


def test_kv_cache_without_bugs_is_the_reference(rng: np.random.Generator) -> None:
    ours, ref = V.BuggyKVCache(2, 6, 2, 3), R.KVCache(2, 6, 2, 3)
    for slot, n in [(0, 2), (1, 3), (0, 1), (1, 3)]:
        k, v = rng.standard_normal((2, n, 3)), rng.standard_normal((2, n, 3))
        for a, b in zip(ours.update(slot, k, v), ref.update(slot, k, v)):
            np.testing.assert_array_equal(a, b)
    ours.reset(0)
    ref.reset(0)
    np.testing.assert_array_equal(ours.lengths, ref.cache_lengths)


def distinct(variants: dict[str, tuple[Any, str]], expected: np.ndarray) -> list[str]:
    """Names of variants that are indistinguishable from the right answer here."""
    same = []
    for name, (make, _) in variants.items():
        try:
            value = np.asarray(make(), dtype=np.float64)
        except Exception:  # noqa: BLE001 - a variant that cannot run here is not "the same"
            continue
        if value.shape == expected.shape and distance(value, expected, 1e-4, 1e-5) <= 1:
            same.append(name)
    return same


def test_every_sdpa_mistake_shows_on_the_suites_kinds_of_input(
        rng: np.random.Generator) -> None:
    """Each SDPA variant differs from the reference on masked cross-attention with a fully
    blocked row and temperature, or on large scores (no mistake is invisible to all the
    suite's kinds of input). Large scores alone would hide a multiplied mask: a blocked
    score of 0 gets no weight next to scores in the hundreds."""
    q, k, v = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 5, 4))
    mask = np.arange(5)[None, :] <= 2 + np.arange(3)[:, None]
    mask = np.vstack([mask[:2], np.zeros((1, 5), dtype=bool)])  # last query fully blocked
    big_q, big_k = q * 12, k * 12  # scores in the hundreds
    for part, index in (("output", 0), ("weights", 1)):
        small = R.ScaledDotProductAttention(temperature=0.5)(
            q, k, v, mask=mask, return_attention_weights=True)[index]
        big = R.ScaledDotProductAttention()(big_q, big_k, v, return_attention_weights=True)[index]
        hidden_small = set(distinct(V.sdpa_variants(q, k, v, mask, 0.5, part=part), small))
        hidden_big = set(distinct(V.sdpa_variants(big_q, big_k, v, part=part), big))
        assert hidden_small & hidden_big == set(), part


def test_every_mha_mistake_shows_on_masked_cross_attention(rng: np.random.Generator) -> None:
    e, h = 12, 3
    w = weights(rng, e)
    xq, xk, xv = (rng.standard_normal((2, n, e)) for n in (3, 4, 4))
    mask = rng.random((2, 3, 4)) < 0.6
    mask[..., 0] = True
    out, attn = reference_mha(w, e, h)(xq, xk, xv, mask=mask, return_attention_weights=True)
    assert distinct(V.mha_variants(xq, xk, xv, w, h, mask), out) == []
    assert distinct(V.mha_variants(xq, xk, xv, w, h, mask, part="weights"), attn) == []


def test_every_decoding_mistake_shows_after_a_direct_prefix(rng: np.random.Generator) -> None:
    e, h = 12, 3
    w = weights(rng, e)
    x = rng.standard_normal((8, e))
    expected = V.decode(w, h, x, [3, 1, 2], prefix=2)
    assert distinct(V.decode_variants(w, h, x, [3, 1, 2], prefix=2), expected) == []


def test_every_cache_mistake_shows_on_two_slots_with_a_reset(rng: np.random.Generator) -> None:
    shape = (2, 8, 2, 3)
    ops = [("update", (0, rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 3)))),
           ("update", (1, rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3)))),
           ("reset", (1,)),
           ("update", (1, rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3)))),
           ("update", (1, rng.standard_normal((2, 1, 3)), rng.standard_normal((2, 1, 3))))]
    ref = R.KVCache(*shape)
    for name, args in ops:
        last = getattr(ref, name)(*args)
    keys = V.kv_variants(shape, ops, pick=lambda r: np.concatenate(
        [r[-1][0].ravel(), r[-1][1].ravel(), r[0][0].ravel()]))
    expected = np.concatenate([last[0].ravel(), last[1].ravel(), ops[0][1][1].ravel()])
    assert distinct(keys, expected) == []


def test_every_mask_mistake_shows(rng: np.random.Generator) -> None:
    assert distinct(V.causal_mask_variants(5), R.create_causal_mask(5).astype(float)) == []


# ----------------------------------------------------------------------------- Checker
# (proctor.testing.Checker, the `check` fixture the attention suites use)


class Record:
    hint: str | None = None


def checker() -> tuple[Any, Record]:
    from dataclasses import dataclass

    @dataclass
    class Tol:
        rtol: float = 1e-4
        atol: float = 1e-5

    record = Record()
    from proctor.testing import Checker

    return Checker(Tol(), record), record


def test_checker_accepts_an_alternative_and_records_its_note() -> None:
    check, record = checker()
    e = np.arange(6.0).reshape(3, 2)
    check(e * 2, e, what="x", alternatives=[(lambda: e * 3, "no"), (lambda: e * 2, "other")])
    assert record.hint == "other"


def test_checker_fails_when_no_alternative_matches_or_one_raises() -> None:
    from proctor.asserts import CheckFailure

    check, record = checker()
    e = np.arange(6.0).reshape(3, 2)

    def broken() -> np.ndarray:
        raise RuntimeError("student code crashed")

    with pytest.raises(CheckFailure):
        check(e * 2, e, what="x", alternatives=[(broken, "never"), (lambda: e * 3, "no")])
    assert record.hint is None


def test_checker_rowwise_takes_each_row_from_expected_or_an_alternative() -> None:
    from proctor.asserts import CheckFailure

    check, record = checker()
    e = np.zeros((3, 2))
    alt_a, alt_b = e.copy(), e.copy()
    alt_a[1] = 1.0
    alt_b[2] = 2.0
    actual = e.copy()
    actual[1], actual[2] = 1.0, 2.0
    with pytest.raises(CheckFailure):  # whole-array: neither alternative matches alone
        check(actual, e, what="x", alternatives=[(lambda: alt_a, "a"), (lambda: alt_b, "b")])
    check(actual, e, what="x", rowwise=True,
          alternatives=[(lambda: alt_a, "a"), (lambda: alt_b, "b")])
    assert record.hint == "a b"


def test_checker_raises_check_gives_a_plain_failure() -> None:
    from proctor.asserts import CheckFailure

    check, _ = checker()
    check.raises(ValueError, lambda: int("x"), what="int('x')")
    with pytest.raises(CheckFailure, match="should raise ValueError, but it returned normally"):
        check.raises(ValueError, lambda: 1, what="a call", hint="raise it")


# ----------------------------------------------------------------------------- degenerates


def _audit_bench() -> Any:
    """bench/suite_audit.py: its degenerates are correct.py with one part overridden (zeros,
    a constant, NaN, an echo, random, uniform weights; side effects kept and dropped)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("suite_audit", ROOT / "bench" / "suite_audit.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


NEVER_CALL_THE_PART = {  # tests of a task that never call its graded method: may pay
    "multi_head": {"test_attributes", "test_indivisible_embed_dim_raises",
                   "test_parameters_are_the_weights"},
    "kv_cache": {"test_preallocated_and_empty", "test_memory_usage_reports_total"},
}
EFFICIENCY_OF = {  # efficiency tests that call the part: a degenerate part earns none
    "scaled_dot_product": {"test_attention_grows_at_most_quadratically",
                           "test_attention_runtime_near_reference"},
    "cached_attention": {"test_decode_step_grows_linearly", "test_decode_step_runtime_near_reference",
                         "test_decode_reads_keys_and_values_from_cache"},
    "kv_cache": {"test_cache_update_does_not_copy"},
}
DEGENERATES = _audit_bench().degenerates()


@pytest.fixture(scope="module")
def box() -> Any:
    from proctor.sandbox.client import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DEGENERATES))
def test_degenerate_code_earns_nothing_in_its_task(assignment: Any, box: Any, tmp_path: Path,
                                                   name: str) -> None:
    """Zeros, a constant, NaN, an echo, random output or uniform weights earn no points in
    their part's task beyond tests that never call the part, and no efficiency points
    for the part (efficiency pays only for code whose output depends on its inputs)."""
    task, source = DEGENERATES[name]
    path = tmp_path / "degenerate.py"
    path.write_text(source)
    result = grade(assignment, path, sandbox=box)
    paying = {t["id"].split("::")[-1].split("[")[0] for t in result["tests"]
              if t["task"] == task and t["status"] == "passed" and t["score"] > 0}
    assert paying <= NEVER_CALL_THE_PART.get(task, set()), paying
    # An update that stores the new entries and returns just them is the kv_only_new
    # mutant: an ordinary bug, which keeps its efficiency points.
    if name != "kv_echo+effect":
        paid = {t["id"].split("::")[-1] for t in result["tests"]
                if t["task"] == "efficiency" and t["status"] == "passed"}
        assert not paid & EFFICIENCY_OF.get(task, set()), paid


# ----------------------------------------------------------------------------- hints


def test_an_ignored_mask_gets_its_own_hint(rng: np.random.Generator) -> None:
    """A mask with no effect used to get the nearest variant's hint, "You add the mask to
    the scores"; it now matches the variant that ignores it."""
    from proctor.diagnose import diagnose

    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    mask = rng.random((3, 5)) < 0.5
    mask[:, 0] = True
    unmasked = R.ScaledDotProductAttention()(q, k, v)
    hint = diagnose(unmasked, R.ScaledDotProductAttention()(q, k, v, mask=mask),
                    V.sdpa_variants(q, k, v, mask))
    assert hint == V.SDPA_HINTS["mask_ignored"] and "no effect" in hint
    w = weights(rng, 6)
    x = rng.standard_normal((2, 3, 6))
    causal = np.tril(np.ones((3, 3)))
    hint = diagnose(reference_mha(w, 6, 2)(x, x, x), reference_mha(w, 6, 2)(x, x, x, mask=causal),
                    V.mha_variants(x, x, x, w, 2, causal))
    assert hint == V.MHA_HINTS["mask_ignored"]


def test_the_fixed_mha_case_tells_dividing_by_d_k_from_sqrt_embed_dim() -> None:
    """Dividing each head's scores by d_k (= head_dim) used to read "you used
    sqrt(embed_dim)" because the fixed case had head_dim == sqrt(embed_dim)."""
    import sys

    from proctor.diagnose import diagnose

    sys.path.insert(0, str(ROOT / "graders" / "attention"))
    try:
        import golden_cases
    finally:
        sys.path.remove(str(ROOT / "graders" / "attention"))
    case = golden_cases.case_mha_small(R)
    x, w, h, mask = (case["inputs"][k] for k in ("x", "weights", "num_heads", "mask"))
    by_d_k = V.mha(x, x, x, w, h, mask, divisor="head_dim")[0]
    by_embed = V.mha(x, x, x, w, h, mask, divisor="sqrt_embed_dim")[0]
    expected = case["expected"]["output"]
    variants = {name: (value, hint) for name, (value, hint) in case["variants"]["output"].items()}
    assert diagnose(by_d_k, expected, variants) == V.MHA_HINTS["scale_head_dim"]
    assert diagnose(by_embed, expected, variants) == V.MHA_HINTS["scale_embed"]


@pytest.mark.slow
def test_hints_on_a_method_for_parameters_and_an_assert_for_value_error(
        assignment: Any, box: Any, tmp_path: Path) -> None:
    """``parameters()`` as a method is called "a method" (not "partial of length ?"), and an
    AssertionError where ValueError is required gets a hint naming ValueError."""
    source = (ROOT / "examples" / "submissions" / "correct.py").read_text()
    source = source.replace(
        "        if embed_dim % num_heads:\n            raise ValueError(\"embed_dim must be a multiple of num_heads\")",
        "        assert embed_dim % num_heads == 0")
    source = source.replace("        self.parameters = [self.w_q, self.w_k, self.w_v, self.w_o]\n", "")
    source += ("\n\ndef _parameters(self):\n    return [self.w_q, self.w_k, self.w_v, self.w_o]\n"
               "MultiHeadAttention.parameters = _parameters\n")
    path = tmp_path / "methods.py"
    path.write_text(source)
    tests = {t["id"].split("::")[-1]: t for t in grade(assignment, path, sandbox=box)["tests"]}
    params = tests["test_parameters_are_the_weights"]
    assert params["status"] == "failed"
    assert "a method" in params["message"] and "partial" not in params["message"] + params["hint"]
    assert "self.parameters = " in params["hint"]
    raises = tests["test_indivisible_embed_dim_raises[10-3]"]
    assert raises["status"] == "failed" and "AssertionError" in raises["message"]
    assert "ValueError" in raises["hint"]


# ----------------------------------------------------------------------------- lent cache


def _without_kv_cache() -> str:
    source = (ROOT / "examples" / "submissions" / "correct.py").read_text()
    return source[:source.index("class KVCache:")] + source[source.index("def cached_self_attention"):]


@pytest.mark.slow
def test_a_missing_kv_cache_costs_only_kv_cache(assignment: Any, box: Any, tmp_path: Path) -> None:
    """A correct cached_self_attention with no KVCache of its own: the decoding tests lend it
    a correct cache (``proctor.sandbox.callback``), so only kv_cache's points are lost, plus
    the public shape check that students run locally, where nothing can be lent; the update's
    own efficiency test has nothing to measure."""
    path = tmp_path / "no_cache.py"
    path.write_text(_without_kv_cache())
    result = grade(assignment, path, sandbox=box)
    lost = {t["id"].split("::")[-1] for t in result["tests"]
            if t["status"] != "passed" and t["max_score"] > 0 and t["task"] != "kv_cache"}
    assert lost == {"test_output_shape", "test_cache_update_does_not_copy"}
    notes = {t["hint"] for t in result["tests"] if t["task"] == "cached_attention"
             and t["status"] == "passed" and t["id"].startswith("test_cached_attention.py")}
    assert notes == {"Your decoding step is right with a working KV cache (the grader lent it "
                     "one); with your own KVCache it fails or gives other rows: your KVCache's "
                     "own tests count that."}


@pytest.mark.slow
def test_a_lent_cache_kept_by_student_code_cannot_pass_kv_cache(assignment: Any, box: Any,
                                                                tmp_path: Path) -> None:
    """Student code that keeps the cache lent to its decoding step and hands it out as its
    own KVCache later gets nothing for it: the stand-in works only during the call it was
    lent for."""
    source = _without_kv_cache() + '''

_kept = []
_decode = cached_self_attention


def cached_self_attention(mha, x_new, kv_cache, batch_idx=0):
    _kept.append(kv_cache)
    globals()["KVCache"] = lambda *args: _kept[0]
    return _decode(mha, x_new, kv_cache, batch_idx)
'''
    path = tmp_path / "keeps_the_cache.py"
    path.write_text(source)
    result = grade(assignment, path, sandbox=box)
    kv = [t for t in result["tests"] if t["task"] == "kv_cache" and t["id"].startswith("test_kv_cache.py")]
    assert kv and all(t["status"] != "passed" for t in kv)
    assert any("lent by the grader for one call only" in t["message"] for t in kv)
